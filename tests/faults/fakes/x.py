"""X API v2 on a FakePlatform: what XPublisher calls to post and to verify (documented shapes:
``fixtures/platform_api/replies/x/tweet_create_response_201_tweepy.json``,
``fixtures/platform_api/publishing/timelines/x_users_id_tweets_public_metrics_docs.json``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.parser import BytesParser
from typing import Any

import pytest

from chorus.platforms.x import publish as xpublish
from tests.faults.harness import FakePlatform, Reply, Request

TWEETS = r"/2/tweets"
TIMELINE = r"/2/users/([^/]+)/tweets"
USER_ID = "2244994945"
CLIP = r"/cdn/clip.mp4"
APPEND = r"/2/media/upload/([^/]+)/append"
STATUS = r"/2/media/upload"


def text_is(text: str) -> Any:
    """A fault predicate: the create request posts ``text``."""
    return lambda req: (req.json or {}).get("text") == text


def x_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve ``POST /2/tweets`` (a ``tweet`` record: text, reply_to, media_ids, created_at) and the
    user timeline, and point the X adapter at the fake."""
    monkeypatch.setattr(xpublish, "API_URL", platform.url)

    def create(req: Request, match: re.Match[str]) -> Any:
        body = req.json or {}
        text = str(body.get("text") or "")
        if not text.strip():
            return Reply(400, {"title": "Invalid Request", "detail": "text is required", "status": 400})
        made = platform.create(
            "tweet",
            {
                "id": str(1_860_000_000_000_000_000 + len(platform.records.get("tweet", [])) + 1),
                "text": text,
                "reply_to": (body.get("reply") or {}).get("in_reply_to_tweet_id"),
                "media_ids": (body.get("media") or {}).get("media_ids") or [],
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            },
        )
        return Reply(201, {"data": {"id": made["id"], "text": text, "edit_history_tweet_ids": [made["id"]]}})

    def timeline(req: Request, match: re.Match[str]) -> Any:
        start = req.query.get("start_time")
        tweets = [t for t in platform.records.get("tweet", []) if not start or t["created_at"] >= start]
        data = []
        for tweet in reversed(tweets[-int(req.query.get("max_results", "10")) :]):  # newest first
            shown: dict[str, Any] = {k: tweet[k] for k in ("id", "text", "created_at")}
            if tweet["media_ids"]:  # X ends a media tweet's text with the media's t.co link
                shown["text"] = f"{tweet['text']} https://t.co/m{tweet['id'][-6:]}".strip()
            if tweet["reply_to"]:
                shown["referenced_tweets"] = [{"type": "replied_to", "id": tweet["reply_to"]}]
            data.append(shown)
        return {"data": data, "meta": {"result_count": len(data)}} if data else {"meta": {"result_count": 0}}

    platform.route("POST", TWEETS, create)
    platform.route("GET", TIMELINE, timeline)


def x_media(platform: FakePlatform, clip: bytes, in_progress_checks: int) -> None:
    """A video at ``/cdn/clip.mp4`` (``Range`` reads answered 206) and the v2 chunked media upload:
    ``initialize`` makes an ``upload`` record, ``append`` keeps each segment, ``finalize`` answers
    ``pending``, STATUS ``in_progress`` ``in_progress_checks`` times, then ``succeeded``."""

    def download(req: Request, match: re.Match[str]) -> Any:
        wanted = re.fullmatch(r"bytes=(\d+)-(\d+)", req.headers.get("Range") or "")
        if not wanted:
            return Reply(200, clip)
        start, end = int(wanted.group(1)), min(int(wanted.group(2)), len(clip) - 1)
        return Reply(206, clip[start : end + 1], {"Content-Range": f"bytes {start}-{end}/{len(clip)}"})

    def initialize(req: Request, match: re.Match[str]) -> Any:
        made = platform.create("upload", {**(req.json or {}), "segments": {}, "checks": 0})
        made["id"] = str(1_880_000_000_000_000_000 + len(platform.records["upload"]))
        return {"data": {"id": made["id"], "media_key": f"7_{made['id']}", "expires_after_secs": 86400}}

    def upload(media_id: str) -> dict[str, Any]:
        return next(u for u in platform.records.get("upload", []) if u["id"] == media_id)

    def append(req: Request, match: re.Match[str]) -> Any:
        upload(match.group(1))["segments"][req.form["segment_index"]] = _file_part(req)
        return Reply(200, {})

    def info(made: dict[str, Any]) -> dict[str, Any]:
        state = "in_progress" if made["checks"] <= in_progress_checks else "succeeded"
        return {"data": {"id": made["id"], "processing_info": {"state": state, "check_after_secs": 1}}}

    def finalize(req: Request, match: re.Match[str]) -> Any:
        made = upload(match.group(1))
        made["finalized"] = True
        return {"data": {"id": made["id"], "processing_info": {"state": "pending", "check_after_secs": 1}}}

    def status(req: Request, match: re.Match[str]) -> Any:
        made = upload(req.query["media_id"])
        made["checks"] += 1
        return info(made)

    platform.route("GET", CLIP, download)
    platform.route("POST", r"/2/media/upload/initialize", initialize)
    platform.route("POST", APPEND, append)
    platform.route("POST", r"/2/media/upload/([^/]+)/finalize", finalize)
    platform.route("GET", STATUS, status)


def _file_part(req: Request) -> bytes:
    """The bytes of a multipart request's file part (the harness decodes only the text fields)."""
    header = f"Content-Type: {req.headers.get('Content-Type')}\r\n\r\n".encode()
    message = BytesParser().parsebytes(header + req.body)
    for part in message.get_payload() if message.is_multipart() else []:
        if part.get_filename() is not None:
            return bytes(part.get_payload(decode=True) or b"")
    return b""


def thread(platform: FakePlatform) -> list[tuple[str, str | None]]:
    """(text, text of the tweet it replies to) of every tweet on the fake, in creation order."""
    made = platform.records.get("tweet", [])
    by_id = {t["id"]: t for t in made}
    return [(t["text"], by_id[t["reply_to"]]["text"] if t["reply_to"] else None) for t in made]


def creates(platform: FakePlatform) -> list[str]:
    """The text of every create request the fake received (also those a fault answered)."""
    return [str((r.json or {}).get("text")) for r in platform.calls("POST", TWEETS)]
