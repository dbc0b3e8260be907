"""TikTok's Content Posting API on a FakePlatform, as TikTokPublisher and TikTokMetrics call it
(fixtures/platform_api/publishing/tiktok): creator info, Direct Post init (FILE_UPLOAD: an upload URL on
the fake; upload-to-inbox video init; photo content init, DIRECT_POST or MEDIA_UPLOAD, pulled from
their URLs), chunk PUTs checked against the upload's progress (206 each, 201 after the last, 416 out of
order), status fetch answering HTTP 200 with ``error.code: ok`` — also when the post FAILED; a draft
ends SEND_TO_USER_INBOX, no post made — and the
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
INBOX_INIT = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
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
        """Video init (Direct Post), upload-to-inbox video init, or photo content init (``post_mode``)."""
        body = req.json or {}
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        photo = req.path == CONTENT_INIT
        draft = req.path == INBOX_INIT or body.get("post_mode") == "MEDIA_UPLOAD"
        if photo and (
            body.get("media_type") != "PHOTO" or not 1 <= len(source.get("photo_images") or []) <= 35
        ):
            return tiktok_error(400, "invalid_params", "media_type PHOTO with 1 to 35 photo_images")
        if not draft and info.get("privacy_level") not in knobs.privacy_level_options:
            return tiktok_error(
                403, "privacy_level_option_mismatch", "privacy_level is not among the options"
            )
        number = len(platform.records.get("publish", [])) + 1
        kind = ("p" if photo else "v") + ("_inbox" if draft else "_pub") + ("_url" if photo else "_file")
        made = platform.create("publish", {
            "id": f"{kind}~v2-1.{number}", "post_info": info, "source_info": source, "received": b"",
            "reads": 0, "fail_reason": knobs.fail_reason, "video": None, "photo": photo, "draft": draft,
            "post_mode": body.get("post_mode"),
        })  # fmt: skip
        if photo:  # TikTok pulls the photos itself (no upload URL) and posts them, read or not
            if not draft and not made["fail_reason"]:
                made["video"] = made_post(made)
            return {"data": {"publish_id": made["id"]}, "error": OK}
        upload_url = f"{platform.url}{UPLOAD}?upload_id={number}&upload_token=Xza123"
        return {"data": {"publish_id": made["id"], "upload_url": upload_url}, "error": OK}

    def made_post(made: dict[str, Any]) -> str:
        """The post a publish becomes (``video`` records: photo posts too), its id."""
        number = len(platform.records.get("video", [])) + 1
        info = made["post_info"]
        return str(platform.create("video", {"id": f"730123456789012{number:04d}", "title": info.get("title"),
                                             "description": info.get("description") or info.get("title"),
                                             "photo": made["photo"]})["id"])  # fmt: skip

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
        if not made["photo"] and len(made["received"]) < made["source_info"]["video_size"]:
            return {
                "data": {**data, "status": "PROCESSING_UPLOAD", "publicaly_available_post_id": []},
                "error": OK,
            }
        made["reads"] += 1
        if made["fail_reason"]:
            return {"data": {**data, "status": "FAILED", "fail_reason": made["fail_reason"],
                             "publicaly_available_post_id": []}, "error": OK}  # fmt: skip
        if made["reads"] <= knobs.processing_reads:
            processing = "PROCESSING_DOWNLOAD" if made["photo"] else "PROCESSING_UPLOAD"
            return {"data": {**data, "status": processing, "publicaly_available_post_id": []}, "error": OK}
        if made["draft"]:  # in the creator's inbox, to finish in the app: no post
            return {"data": {**data, "status": "SEND_TO_USER_INBOX", "publicaly_available_post_id": []},
                    "error": OK}  # fmt: skip
        if made["video"] is None:
            made["video"] = made_post(made)
        return {"data": {**data, "status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [int(made["video"])]},
                "error": OK}  # fmt: skip

    def query(req: Request, match: re.Match[str]) -> Any:
        wanted = ((req.json or {}).get("filters") or {}).get("video_ids") or []
        return {"data": {"videos": [
            {"id": v["id"], "like_count": knobs.likes, "comment_count": 0, "share_count": 0, "view_count": knobs.views}
            for v in platform.records.get("video", []) if v["id"] in wanted]}, "error": OK}  # fmt: skip

    platform.route("POST", CREATOR, creator)
    platform.route("POST", INIT, init)
    platform.route("POST", INBOX_INIT, init)
    platform.route("POST", CONTENT_INIT, init)
    platform.route("PUT", UPLOAD, put)
    platform.route("POST", STATUS, status)

    def listed(req: Request, match: re.Match[str]) -> Any:
        return {"data": {"videos": [{"id": v["id"], "title": v["title"], "video_description": v["description"]}
                                    for v in reversed(platform.records.get("video", []))],
                         "cursor": 0, "has_more": False}, "error": OK}  # fmt: skip

    platform.route("POST", VIDEO_QUERY, query)
    platform.route("POST", VIDEO_LIST, listed)
    platform.route("GET", VIDEO, serve_file(VIDEO_BYTES, "video/mp4"))
    return knobs


REVOKE = "/v2/oauth/revoke/"
CLIENT_KEY, CLIENT_SECRET = "tt-client-key", "tt-client-secret"


def login_kit_revoke(platform: FakePlatform) -> None:
    """Login Kit's ``POST /v2/oauth/revoke/`` (form: client_key, client_secret, token): an empty answer,
    a ``login_revoke`` record of the token revoked; another app is refused as OAuth errors are
    (``{error, error_description, log_id}``, 401)."""

    def revoke(req: Request, match: re.Match[str]) -> Any:
        if (req.form.get("client_key"), req.form.get("client_secret")) != (CLIENT_KEY, CLIENT_SECRET):
            return Reply(401, {"error": "invalid_client", "error_description": "Client key or secret is wrong.",
                               "log_id": "x"})  # fmt: skip
        if not req.form.get("token"):
            return Reply(
                400, {"error": "invalid_request", "error_description": "token is required", "log_id": "x"}
            )
        platform.create("login_revoke", {"token": req.form["token"]})
        return Reply(200, None)

    platform.route("POST", REVOKE, revoke)


def is_chunk(first: int) -> Any:
    return lambda req: (req.headers.get("Content-Range") or "").startswith(f"bytes {first}-")
