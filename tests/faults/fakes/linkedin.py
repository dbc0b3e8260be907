"""LinkedIn's versioned REST API on a FakePlatform, as LinkedInPublisher calls it. Shapes follow
``fixtures/platform_api/publishing/linkedin``: ``POST /rest/posts`` answers 201 with an empty body and
the post URN in ``x-restli-id``; the Images and Videos APIs answer ``initializeUpload`` with
``{value: {uploadUrl | uploadInstructions[], image | video, uploadToken}}``; each uploaded part answers
an ``ETag`` that ``finalizeUpload`` must list in order; errors are ``{message, serviceErrorCode,
status}``. The author's posts are listed newest first (``GET /rest/posts?q=author``, ``count`` a page
from ``start``). Share statistics (``GET /rest/organizationalEntityShareStatistics``, the page's and, with
``shares=List(...)``, each post's, from the ``statistics`` knob) and the page's follower count (``GET
/rest/networkSizes/{org}``). A post made on LinkedIn directly is a ``post`` record added by the test
(``createdAt`` in epoch ms). Every /rest call
must carry the versioned headers, or it is refused as LinkedIn refuses it. Comments (the Comments API:
``POST /rest/socialActions/{target}/comments``, 201 with the comment URN in ``x-restli-id``; ``GET`` lists
a target's comments) are ``comment`` records."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pytest

from chorus.platforms.linkedin import publish as lipublish
from tests.faults.harness import FakePlatform, Reply, Request

ORG = "urn:li:organization:5515715"
POSTS = r"/rest/posts"
IMAGES = r"/rest/images"
VIDEOS = r"/rest/videos"
VIDEO_STATUS = r"/rest/videos/([^/]+)"
UPLOAD = r"/upload/(image|video)/([^/]+)"
COMMENTS = r"/rest/socialActions/([^/]+)/comments"
STATISTICS = r"/rest/organizationalEntityShareStatistics"
NETWORK_SIZES = r"/rest/networkSizes/([^/]+)"
IMAGE = "/files/tart.jpg"
VIDEO = "/files/clip.mp4"
IMAGE_BYTES = b"\xff\xd8\xff\xe0jpeg" + b"\x01" * 40
VIDEO_BYTES = bytes(range(256)) * 2  # 512 bytes
PART_SIZE = 200  # the fake's upload instructions: 200-byte ranges (4 MB in production)


def linkedin_error(status: int, message: str) -> Reply:
    return Reply(status, {"message": message, "serviceErrorCode": status, "status": status})


@dataclass
class LinkedIn:
    """Knobs of the fake: how many status reads a finalized video stays ``PROCESSING``."""

    processing_reads: int = 0
    reads: dict[str, int] = field(default_factory=dict)
    statistics: dict[str, dict[str, int]] = field(default_factory=dict)  # post URN -> totalShareStatistics
    followers: int = 0


def _versioned(req: Request) -> bool:
    return (
        bool(req.headers.get("LinkedIn-Version")) and req.headers.get("X-Restli-Protocol-Version") == "2.0.0"
    )


def linkedin_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> LinkedIn:
    """Posts (``post`` records), images (``image``), videos (``video``, with their uploaded parts) and
    uploads (``upload`` records: one per PUT that stored bytes)."""
    monkeypatch.setattr(lipublish, "API_URL", platform.url)
    knobs = LinkedIn()

    def posts(req: Request, match: re.Match[str]) -> Any:
        if not _versioned(req):
            return linkedin_error(400, "A LinkedIn-Version header is required")
        body = req.json or {}
        media = ((body.get("content") or {}).get("media") or {}).get("id")
        if isinstance(media, str) and media.startswith("urn:li:video:"):
            video = _find(platform, "video", media)
            if video is None or video["status"] != "AVAILABLE":
                return linkedin_error(422, f"The video {media} is not available")
        number = len(platform.records.get("post", [])) + 1
        made = platform.create("post", {
            "id": f"urn:li:share:68447855235931340{number:02d}", "author": body.get("author"),
            "commentary": body.get("commentary"), "content": body.get("content"),
            "createdAt": int(time.time() * 1000), "lifecycleState": body.get("lifecycleState"),
        })  # fmt: skip
        return Reply(201, None, {"x-restli-id": made["id"]})

    def listing(req: Request, match: re.Match[str]) -> Any:
        if req.query.get("q") != "author" or not _versioned(req):
            return linkedin_error(400, "Invalid query parameters passed to request")
        author = req.query.get("author")
        mine = [p for p in platform.records.get("post", []) if p["author"] == author]
        shown = sorted(mine, key=lambda p: p.get("lastModifiedAt", p["createdAt"]), reverse=True)
        count, start = int(req.query.get("count", "10")), int(req.query.get("start", "0"))
        return {"elements": shown[start : start + count],
                "paging": {"start": start, "count": count, "total": len(shown), "links": []}}  # fmt: skip

    def statistics(req: Request, match: re.Match[str]) -> Any:
        if req.query.get("q") != "organizationalEntity" or not _versioned(req):
            return linkedin_error(400, "Invalid query parameters passed to request")
        org = req.query.get("organizationalEntity")
        listed = req.query.get("shares") or req.query.get("ugcPosts")
        if listed is None:  # the page's lifetime totals
            return {
                "elements": [
                    {"organizationalEntity": org, "totalShareStatistics": knobs.statistics.get(org or "", {})}
                ]
            }
        urns = [unquote(u) for u in listed.removeprefix("List(").removesuffix(")").split(",") if u]
        key = "share" if "shares" in req.query else "ugcPost"
        return {"elements": [{"organizationalEntity": org, key: urn, "totalShareStatistics": knobs.statistics[urn]}
                             for urn in urns if urn in knobs.statistics]}  # fmt: skip

    def images(req: Request, match: re.Match[str]) -> Any:
        if req.query.get("action") != "initializeUpload" or not _versioned(req):
            return linkedin_error(400, "Unsupported action")
        number = len(platform.records.get("image", [])) + 1
        urn = f"urn:li:image:C4E10AQFoyyAjHPM{number:03d}"
        platform.create("image", {"id": urn, "owner": (req.json or {})["initializeUploadRequest"]["owner"],
                                  "uploaded": False})  # fmt: skip
        return {"value": {"uploadUrlExpiresAt": 1650567510704, "image": urn,
                          "uploadUrl": f"{platform.url}/upload/image/{number}"}}  # fmt: skip

    def videos(req: Request, match: re.Match[str]) -> Any:
        if not _versioned(req):
            return linkedin_error(400, "A LinkedIn-Version header is required")
        action = req.query.get("action")
        if action == "initializeUpload":
            asked = (req.json or {})["initializeUploadRequest"]
            size = int(asked["fileSizeBytes"])
            number = len(platform.records.get("video", [])) + 1
            urn = f"urn:li:video:C5505AQH-oV1qvn{number:03d}"
            ranges = [(start, min(start + PART_SIZE, size) - 1) for start in range(0, size, PART_SIZE)]
            platform.create("video", {"id": urn, "owner": asked["owner"], "size": size, "status": "WAITING_UPLOAD",
                                      "etags": [f"/ambry-video/signedId/{number}-{i}.bin" for i in range(len(ranges))],
                                      "parts": {}})  # fmt: skip
            return {"value": {"uploadUrlsExpireAt": 1633234498985, "video": urn, "uploadToken": "",
                              "uploadInstructions": [
                                  {"uploadUrl": f"{platform.url}/upload/video/{number}-{i}", "firstByte": first,
                                   "lastByte": last} for i, (first, last) in enumerate(ranges)]}}  # fmt: skip
        if action == "finalizeUpload":
            asked = (req.json or {})["finalizeUploadRequest"]
            video = _find(platform, "video", asked["video"])
            if video is None:
                return linkedin_error(404, "Video not found")
            sent = b"".join(video["parts"].get(i, b"") for i in range(len(video["etags"])))
            if asked["uploadedPartIds"] != video["etags"] or sent != VIDEO_BYTES[: video["size"]]:
                return linkedin_error(400, "uploadedPartIds do not match the uploaded parts")
            if video["status"] == "WAITING_UPLOAD":
                video["status"] = "PROCESSING"
            return Reply(200)
        return linkedin_error(400, "Unsupported action")

    def status(req: Request, match: re.Match[str]) -> Any:
        from urllib.parse import unquote

        video = _find(platform, "video", unquote(match.group(1)))
        if video is None:
            return linkedin_error(404, "Video not found")
        reads = knobs.reads[video["id"]] = knobs.reads.get(video["id"], 0) + 1
        if video["status"] == "PROCESSING" and reads > knobs.processing_reads:
            video["status"] = "AVAILABLE"
        return {"id": video["id"], "status": video["status"]}

    def upload(req: Request, match: re.Match[str]) -> Any:
        if "Authorization" in req.headers and match.group(1) == "video":
            return Reply(400, b"no token expected on a signed upload URL")
        kind, ref = match.group(1), match.group(2)
        if kind == "image":
            image = platform.records["image"][int(ref) - 1]
            image["uploaded"] = True
            platform.create("upload", {"of": image["id"], "bytes": len(req.body)})
            return Reply(201)
        number, index = (int(n) for n in ref.split("-"))
        video = platform.records["video"][number - 1]
        video["parts"][index] = req.body
        platform.create("upload", {"of": video["id"], "part": index, "bytes": len(req.body)})
        return Reply(200, None, {"ETag": video["etags"][index]})

    def comment(req: Request, match: re.Match[str]) -> Any:
        if not _versioned(req):
            return linkedin_error(400, "A LinkedIn-Version header is required")
        body = req.json or {}
        number = len(platform.records.get("comment", [])) + 1
        made = platform.create("comment", {
            "id": f"urn:li:comment:({body.get('object')},71240000000000{number:05d})", "target": unquote(match.group(1)),
            "actor": body.get("actor"), "object": body.get("object"), "parent": body.get("parentComment"),
            "text": (body.get("message") or {}).get("text"), "time": int(time.time() * 1000),
        })  # fmt: skip
        return Reply(201, None, {"x-restli-id": made["id"]})

    def comments(req: Request, match: re.Match[str]) -> Any:
        target = unquote(match.group(1))
        mine = [c for c in platform.records.get("comment", []) if c["target"] == target]
        return {"elements": [{"commentUrn": c["id"], "actor": c["actor"], "message": {"text": c["text"]},
                              "created": {"time": c["time"]}} for c in reversed(mine)]}  # fmt: skip

    platform.route("GET", STATISTICS, statistics)
    platform.route("GET", NETWORK_SIZES, lambda req, match: {"firstDegreeSize": knobs.followers})
    platform.route("POST", COMMENTS, comment)
    platform.route("GET", COMMENTS, comments)
    platform.route("POST", POSTS, posts)
    platform.route("GET", POSTS, listing)
    platform.route("POST", IMAGES, images)
    platform.route("POST", VIDEOS, videos)
    platform.route("GET", VIDEO_STATUS, status)
    platform.route("PUT", UPLOAD, upload)
    platform.route("GET", IMAGE, lambda req, match: Reply(200, IMAGE_BYTES, {"Content-Type": "image/jpeg"}))
    platform.route("GET", VIDEO, lambda req, match: Reply(200, VIDEO_BYTES, {"Content-Type": "video/mp4"}))
    return knobs


def _find(platform: FakePlatform, kind: str, urn: str) -> dict[str, Any] | None:
    return next((r for r in platform.records.get(kind, []) if r["id"] == urn), None)
