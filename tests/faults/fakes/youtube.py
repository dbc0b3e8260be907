"""YouTube on a FakePlatform, as YouTubePublisher and YouTubeMetrics call it: the resumable upload
protocol (fixtures/platform_api/publishing/youtube/resumable_upload_session.http) — ``POST
/upload/youtube/v3/videos?uploadType=resumable`` answers 200 + ``Location`` (a session), each ``PUT`` of
the session with ``Content-Range: bytes a-b/total`` answers ``308`` + ``Range: bytes=0-N`` until the last
byte, then ``201`` with the video resource; ``bytes */total`` asks where it stands —
``thumbnails/set``, ``videos.list`` statistics, ``channels.list`` (``mine=true``: the channel's uploads
playlist in ``contentDetails.relatedPlaylists``; ``id=``: its statistics), ``playlistItems.list`` of the
uploads playlist (newest first, ``contentDetails.videoPublishedAt``), and the video file itself
(``/files/clip.mp4``, ``Range`` reads answered 206). Google's error shape ``{error: {code, message,
errors: [{reason}]}}``. A video made on YouTube directly is a ``video`` record added by the test."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.platforms.youtube import publish as ytpublish
from tests.faults.harness import FakePlatform, Reply, Request

UPLOAD = "/upload/youtube/v3/videos"
THUMBNAIL = "/upload/youtube/v3/thumbnails/set"
VIDEOS = "/youtube/v3/videos"
CHANNELS = "/youtube/v3/channels"
PLAYLIST_ITEMS = "/youtube/v3/playlistItems"
CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
UPLOADS = "UU_x5XG1OV2P6uZZ5FSM9Ttw"  # the channel's uploads playlist
VIDEO = "/files/clip.mp4"
THUMB = "/files/thumb.jpg"
CHUNK = 256 * 1024
VIDEO_BYTES = bytes(range(256)) * 2400  # 614,400 bytes: chunks of 256 KiB, 256 KiB and 90,112 bytes
THUMB_BYTES = b"\xff\xd8\xff\xe0fake-jpeg"


def google_error(status: int, reason: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": status, "message": message, "errors": [{"reason": reason}]}})


def serve_file(data: bytes, mime: str) -> Any:
    """A media file answering ``Range: bytes=a-b`` with 206 and its total size."""

    def handler(req: Request, match: re.Match[str]) -> Reply:
        found = re.fullmatch(r"bytes=(\d+)-(\d+)", req.headers.get("Range") or "")
        if not found:
            return Reply(200, data, {"Content-Type": mime})
        first, last = int(found.group(1)), min(int(found.group(2)), len(data) - 1)
        return Reply(206, data[first : last + 1], {"Content-Type": mime,
                                                    "Content-Range": f"bytes {first}-{last}/{len(data)}"})  # fmt: skip

    return handler


@dataclass
class YouTube:
    """The fake channel's knobs: the statistics ``videos.list`` shows for each video, and the channel's
    subscribers (``channels.list`` statistics)."""

    views: int = 0
    likes: int = 0
    subscribers: int = 0


def youtube_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> YouTube:
    """Sessions (``session`` records: metadata, bytes held), videos (``video`` records, made when a
    session's last byte arrives, once) and thumbnails (``thumbnail`` records)."""
    monkeypatch.setattr(ytpublish, "API_URL", f"{platform.url}/youtube/v3")
    monkeypatch.setattr(ytpublish, "UPLOAD_URL", f"{platform.url}/upload/youtube/v3")
    monkeypatch.setattr(ytpublish, "CHUNK_SIZE", CHUNK)
    knobs = YouTube()

    def start(req: Request, match: re.Match[str]) -> Reply:
        if req.query.get("uploadType") != "resumable":
            return google_error(400, "badRequest", "only resumable uploads here")
        number = len(platform.records.get("session", [])) + 1
        session = platform.create("session", {
            "id": f"xa298sd_{number}", "metadata": req.json, "held": b"",
            "total": int(req.headers.get("X-Upload-Content-Length") or 0),
            "notify": req.query.get("notifySubscribers"), "video": None,
        })  # fmt: skip
        location = (
            f"{platform.url}{UPLOAD}?uploadType=resumable&upload_id={session['id']}&part=snippet,status"
        )
        return Reply(200, None, {"Location": location})

    def video_resource(session: dict[str, Any]) -> dict[str, Any]:
        if session["video"] is None:
            number = len(platform.records.get("video", [])) + 1
            made = platform.create("video", {"id": f"D-lhorsDl{number:02d}", "snippet": session["metadata"]["snippet"],
                                             "status": session["metadata"]["status"], "bytes": len(session["held"]),
                                             "published_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})  # fmt: skip
            session["video"] = made["id"]
        return {"kind": "youtube#video", "id": session["video"], **session["metadata"]}

    def put(req: Request, match: re.Match[str]) -> Reply:
        session = next(
            (s for s in platform.records.get("session", []) if s["id"] == req.query.get("upload_id")), None
        )
        if session is None:
            return google_error(404, "notFound", "Not Found")
        content_range = req.headers.get("Content-Range") or ""
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if found:
            first, last = int(found.group(1)), int(found.group(2))
            if first != len(session["held"]) or req.body != VIDEO_BYTES[first : last + 1]:
                return google_error(400, "badContent", f"expected bytes from {len(session['held'])}")
            session["held"] += req.body
        if len(session["held"]) >= session["total"]:
            return Reply(201 if found else 200, video_resource(session))
        held = len(session["held"])
        return Reply(308, None, {"Range": f"bytes=0-{held - 1}"} if held else {})

    def thumbnail(req: Request, match: re.Match[str]) -> Any:
        if not any(v["id"] == req.query.get("videoId") for v in platform.records.get("video", [])):
            return google_error(404, "videoNotFound", "The video could not be found.")
        platform.create("thumbnail", {"video": req.query.get("videoId"), "bytes": req.body})
        return {
            "kind": "youtube#thumbnailSetResponse",
            "items": [{"default": {"url": "https://i.ytimg.com/x"}}],
        }

    def statistics(req: Request, match: re.Match[str]) -> Any:
        wanted = (req.query.get("id") or "").split(",")
        return {"kind": "youtube#videoListResponse", "items": [
            {"id": v["id"], "statistics": {"viewCount": str(knobs.views), "likeCount": str(knobs.likes),
                                           "commentCount": "0"}}
            for v in platform.records.get("video", []) if v["id"] in wanted]}  # fmt: skip

    def channels(req: Request, match: re.Match[str]) -> Any:
        if req.query.get("mine") == "true":
            return {"kind": "youtube#channelListResponse", "items": [
                {"id": CHANNEL, "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": UPLOADS}}}]}  # fmt: skip
        stats = {"subscriberCount": str(knobs.subscribers), "hiddenSubscriberCount": False, "viewCount": "0"}
        asked = req.query.get("id") == CHANNEL
        return {
            "kind": "youtube#channelListResponse",
            "items": [{"id": CHANNEL, "statistics": stats}] if asked else [],
        }

    def playlist_items(req: Request, match: re.Match[str]) -> Any:
        if req.query.get("playlistId") != UPLOADS:
            return google_error(
                404,
                "playlistNotFound",
                "The playlist identified with the request's playlistId parameter cannot be found.",
            )
        videos = sorted(
            platform.records.get("video", []), key=lambda v: v.get("published_at", ""), reverse=True
        )
        return {"kind": "youtube#playlistItemListResponse", "pageInfo": {"totalResults": len(videos)}, "items": [
            {"kind": "youtube#playlistItem", "id": f"item-{v['id']}",
             "contentDetails": {"videoId": v["id"], "videoPublishedAt": v.get("published_at")},
             "snippet": {"title": (v.get("snippet") or {}).get("title", ""), "playlistId": UPLOADS,
                         "resourceId": {"kind": "youtube#video", "videoId": v["id"]}}} for v in videos]}  # fmt: skip

    platform.route("POST", UPLOAD, start)
    platform.route("PUT", UPLOAD, put)
    platform.route("POST", THUMBNAIL, thumbnail)
    platform.route("GET", VIDEOS, statistics)
    platform.route("GET", CHANNELS, channels)
    platform.route("GET", PLAYLIST_ITEMS, playlist_items)
    platform.route("GET", VIDEO, serve_file(VIDEO_BYTES, "video/mp4"))
    platform.route("GET", THUMB, serve_file(THUMB_BYTES, "image/jpeg"))
    return knobs


def is_chunk(first: int) -> Any:
    """A predicate for the PUT of the chunk starting at byte ``first``."""
    return lambda req: (req.headers.get("Content-Range") or "").startswith(f"bytes {first}-")
