"""TikTok's Content Posting API on a FakePlatform, as TikTokPublisher and TikTokMetrics call it
(fixtures/platform_api/publishing/tiktok): creator info, Direct Post init (FILE_UPLOAD: an upload URL on
the fake), chunk PUTs checked against the upload's progress (206 each, 201 after the last, 416 out of
order), status fetch answering HTTP 200 with ``error.code: ok`` — also when the post FAILED — and the
``{data, error}`` envelope for errors. The video file is served with ``Range`` reads at ``/files/clip.mp4``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from chorus.platforms.tiktok import publish as ttpublish
from tests.faults.fakes.youtube import serve_file
from tests.faults.harness import FakePlatform, Reply, Request

CREATOR = "/v2/post/publish/creator_info/query/"
INIT = "/v2/post/publish/video/init/"
STATUS = "/v2/post/publish/status/fetch/"
UPLOAD = "/upload/video/"
VIDEO_QUERY = "/v2/video/query/"
VIDEO_LIST = "/v2/video/list/"
USER_INFO = "/v2/user/info/"
VIDEO = "/files/clip.mp4"
CHUNK = 1000
VIDEO_BYTES = bytes(range(256)) * 10  # 2,560 bytes: chunks of 1,000 and 1,560
OK = {"code": "ok", "message": "", "log_id": "202210112248442CB9319E1FB30C1073F3"}


def tiktok_error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"data": {}, "error": {"code": code, "message": message, "log_id": "x"}})


@dataclass
class TikTok:
    """The fake creator's knobs: what creator info says, how many status reads a complete upload stays
    PROCESSING_UPLOAD, a fail reason for the next upload, and each video's counts."""

    privacy_level_options: list[str] = field(default_factory=lambda: ["SELF_ONLY", "MUTUAL_FOLLOW_FRIENDS"])
    processing_reads: int = 1
    fail_reason: str | None = None
    likes: int = 0
    views: int = 0


def tiktok_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> TikTok:
    """Publishes (``publish`` records: init body, bytes received, status) and posts (``video`` records,
    made once when a complete upload is first read PUBLISH_COMPLETE)."""
    monkeypatch.setattr(ttpublish, "API_URL", platform.url)
    monkeypatch.setattr(ttpublish, "CHUNK_SIZE", CHUNK)
    knobs = TikTok()

    def creator(req: Request, match: re.Match[str]) -> Any:
        return {"data": {"creator_username": "merle", "creator_nickname": "Merle",
                         "privacy_level_options": knobs.privacy_level_options, "comment_disabled": False,
                         "duet_disabled": False, "stitch_disabled": True, "max_video_post_duration_sec": 300},
                "error": OK}  # fmt: skip

    def init(req: Request, match: re.Match[str]) -> Any:
        body = req.json or {}
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        if info.get("privacy_level") not in knobs.privacy_level_options:
            return tiktok_error(
                403, "privacy_level_option_mismatch", "privacy_level is not among the options"
            )
        number = len(platform.records.get("publish", [])) + 1
        made = platform.create("publish", {
            "id": f"v_pub_file~v2-1.{number}", "post_info": info, "source_info": source, "received": b"",
            "reads": 0, "fail_reason": knobs.fail_reason, "video": None,
        })  # fmt: skip
        upload_url = f"{platform.url}{UPLOAD}?upload_id={number}&upload_token=Xza123"
        return {"data": {"publish_id": made["id"], "upload_url": upload_url}, "error": OK}

    def publish_of(number: str | None) -> dict[str, Any] | None:
        return next((p for p in platform.records.get("publish", []) if p["id"].endswith(f".{number}")), None)

    def put(req: Request, match: re.Match[str]) -> Reply:
        made = publish_of(req.query.get("upload_id"))
        if made is None:
            return Reply(404)
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", req.headers.get("Content-Range") or "")
        if not found or int(found.group(1)) != len(made["received"]):
            return Reply(416)
        made["received"] += req.body
        return Reply(201 if len(made["received"]) >= made["source_info"]["video_size"] else 206)

    def status(req: Request, match: re.Match[str]) -> Any:
        made = next((p for p in platform.records.get("publish", []) if p["id"] == (req.json or {}).get("publish_id")),
                    None)  # fmt: skip
        if made is None:
            return tiktok_error(400, "invalid_publish_id", "The publish_id does not exist")
        data: dict[str, Any] = {"uploaded_bytes": len(made["received"])}
        if len(made["received"]) < made["source_info"]["video_size"]:
            return {
                "data": {**data, "status": "PROCESSING_UPLOAD", "publicaly_available_post_id": []},
                "error": OK,
            }
        made["reads"] += 1
        if made["fail_reason"]:
            return {"data": {**data, "status": "FAILED", "fail_reason": made["fail_reason"],
                             "publicaly_available_post_id": []}, "error": OK}  # fmt: skip
        if made["reads"] <= knobs.processing_reads:
            return {
                "data": {**data, "status": "PROCESSING_UPLOAD", "publicaly_available_post_id": []},
                "error": OK,
            }
        if made["video"] is None:
            number = len(platform.records.get("video", [])) + 1
            made["video"] = platform.create("video", {"id": f"730123456789012{number:04d}",
                                                      "title": made["post_info"].get("title")})["id"]  # fmt: skip
        return {"data": {**data, "status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [int(made["video"])]},
                "error": OK}  # fmt: skip

    def query(req: Request, match: re.Match[str]) -> Any:
        wanted = ((req.json or {}).get("filters") or {}).get("video_ids") or []
        return {"data": {"videos": [
            {"id": v["id"], "like_count": knobs.likes, "comment_count": 0, "share_count": 0, "view_count": knobs.views}
            for v in platform.records.get("video", []) if v["id"] in wanted]}, "error": OK}  # fmt: skip

    platform.route("POST", CREATOR, creator)
    platform.route("POST", INIT, init)
    platform.route("PUT", UPLOAD, put)
    platform.route("POST", STATUS, status)

    def listed(req: Request, match: re.Match[str]) -> Any:
        return {"data": {"videos": [{"id": v["id"], "title": v["title"], "video_description": v["title"]}
                                    for v in reversed(platform.records.get("video", []))],
                         "cursor": 0, "has_more": False}, "error": OK}  # fmt: skip

    platform.route("POST", VIDEO_QUERY, query)
    platform.route("POST", VIDEO_LIST, listed)
    platform.route("GET", VIDEO, serve_file(VIDEO_BYTES, "video/mp4"))
    return knobs


def is_chunk(first: int) -> Any:
    return lambda req: (req.headers.get("Content-Range") or "").startswith(f"bytes {first}-")
