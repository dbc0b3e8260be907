"""Pinterest API v5 on a FakePlatform, as PinterestPublisher calls it. Shapes follow
``fixtures/platform_api/publishing/pinterest`` (pin create answer, media register / status answers,
``{code, message}`` errors) and the board pins list Pinterest documents (``{items, bookmark}``), the
user's own pins (``GET /v5/pins``, newest first, the same shape) and pin analytics (``GET
/v5/pins/{id}/analytics``: ``{all: {summary_metrics, lifetime_metrics}}`` from the ``analytics`` knob).
The video upload goes to the fake's own ``/upload`` (the pre-signed S3 form in production), and the
video itself is served by the fake at ``/files/clip.mp4``. A pin made in the Pinterest app directly is a
``pin`` record added by the test."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.platforms.pinterest import publish as pinpublish
from tests.faults.harness import FakePlatform, Reply, Request

VERSION = "/v5"
BOARD = "549755885175"
BOARDS = frozenset({BOARD, "2"})  # the account's boards (the integration lists "2" as "Soups" at connect)
PINS = rf"{VERSION}/pins"
BOARD_PINS = rf"{VERSION}/boards/([^/]+)/pins"
ANALYTICS = rf"{VERSION}/pins/([^/]+)/analytics"
MEDIA = rf"{VERSION}/media"
MEDIA_STATUS = rf"{VERSION}/media/([^/]+)"
UPLOAD = r"/upload"
VIDEO = "/files/clip.mp4"
VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


def pinterest_error(status: int, code: int, message: str) -> Reply:
    return Reply(status, {"code": code, "message": message})


@dataclass
class Pinterest:
    """Knobs of the fake account: how many status reads an uploaded video stays ``processing``."""

    processing_reads: int = 0
    reads: dict[str, int] = field(default_factory=dict)
    analytics: dict[str, dict[str, int]] = field(default_factory=dict)  # pin id -> metric type -> count


def pinterest_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Pinterest:
    """Pins on the account's board (``pin`` records, newest first in the board's list), media uploads
    (``media`` records: registered -> processing once uploaded -> succeeded after ``processing_reads``
    reads) and the upload form; a board not in ``BOARDS`` is ``BoardNotFound`` (code 40, documented)."""
    monkeypatch.setattr(pinpublish, "API_URL", f"{platform.url}{VERSION}")
    knobs = Pinterest()

    def pin(req: Request, match: re.Match[str]) -> Any:
        body = req.json or {}
        if body.get("board_id") not in BOARDS:
            return pinterest_error(404, 40, "Board not found.")
        number = len(platform.records.get("pin", [])) + 1
        made = platform.create("pin", {
            "id": f"8137442264207958{number:02d}", "board_id": body["board_id"], "title": body.get("title"),
            "description": body.get("description"), "link": body.get("link"), "alt_text": body.get("alt_text"),
            "media_source": body.get("media_source"), "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        })  # fmt: skip
        return Reply(201, {**made, "board_owner": {"username": "merle"}, "is_owner": True})

    def board_pins(req: Request, match: re.Match[str]) -> Any:
        shown = [p for p in reversed(platform.records.get("pin", [])) if p["board_id"] == match.group(1)]
        return {
            "items": [{k: v for k, v in p.items() if k != "media_source"} for p in shown],
            "bookmark": None,
        }

    def own_pins(req: Request, match: re.Match[str]) -> Any:
        shown = sorted(platform.records.get("pin", []), key=lambda p: p["created_at"], reverse=True)
        return {
            "items": [{k: v for k, v in p.items() if k != "media_source"} for p in shown],
            "bookmark": None,
        }

    def analytics(req: Request, match: re.Match[str]) -> Any:
        if not any(p["id"] == match.group(1) for p in platform.records.get("pin", [])):
            return pinterest_error(404, 50, "Pin not found.")
        counts = knobs.analytics.get(match.group(1), {})
        return {"all": {"summary_metrics": {k: float(v) for k, v in counts.items() if not k.startswith("TOTAL_")},
                        "lifetime_metrics": {k: v for k, v in counts.items() if k.startswith("TOTAL_")}}}  # fmt: skip

    def register(req: Request, match: re.Match[str]) -> Any:
        number = len(platform.records.get("media", [])) + 1
        made = platform.create("media", {"id": f"1234{number}", "status": "registered"})
        return Reply(201, {"media_id": made["id"], "media_type": "video", "upload_url": f"{platform.url}{UPLOAD}",
                           "upload_parameters": {"key": f"uploads/{made['id']}", "policy": "eyJ..==",
                                                 "x-amz-signature": "fcd6", "Content-Type": "multipart/form-data"}})  # fmt: skip

    def upload(req: Request, match: re.Match[str]) -> Any:
        key = req.form.get("key", "")
        for made in platform.records.get("media", []):
            if f"uploads/{made['id']}" == key and VIDEO_BYTES in req.body:
                made["status"] = "processing"
                platform.create("upload", {"media": made["id"]})
                return Reply(204)
        return Reply(400, b"<Error><Code>InvalidArgument</Code></Error>")

    def status(req: Request, match: re.Match[str]) -> Any:
        for made in platform.records.get("media", []):
            if made["id"] == match.group(1):
                reads = knobs.reads[made["id"]] = knobs.reads.get(made["id"], 0) + 1
                if made["status"] == "processing" and reads > knobs.processing_reads:
                    made["status"] = "succeeded"
                return {"media_id": made["id"], "media_type": "video", "status": made["status"]}
        return pinterest_error(404, 404, "Media upload not found")

    platform.route("POST", PINS, pin)
    platform.route("GET", BOARD_PINS, board_pins)
    platform.route("GET", PINS, own_pins)
    platform.route("GET", ANALYTICS, analytics)
    platform.route("POST", MEDIA, register)
    platform.route("GET", MEDIA_STATUS, status)
    platform.route("POST", UPLOAD, upload)
    platform.route("GET", VIDEO, lambda req, match: Reply(200, VIDEO_BYTES, {"Content-Type": "video/mp4"}))
    return knobs
