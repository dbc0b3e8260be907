"""The Graph API on a FakePlatform: a Facebook Page (feed, photos, comments) and an Instagram
professional account (containers, media_publish, media, comments), as FacebookPublisher and
InstagramPublisher call them. Shapes follow ``fixtures/platform_api/publishing/timelines`` and
``fixtures/platform_api/replies/{facebook,instagram}`` and the existing contract tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.platforms.facebook import publish as fbpublish
from chorus.platforms.instagram import publish as igpublish
from tests.faults.harness import FakePlatform, Reply, Request

VERSION = "/v21.0"
PAGE = "104000000000001"
IG_USER = "17841400008460056"
FEED = rf"{VERSION}/{PAGE}/feed"
PHOTOS = rf"{VERSION}/{PAGE}/photos"
COMMENTS = rf"{VERSION}/([^/]+)/comments"
CONTAINERS = rf"{VERSION}/{IG_USER}/media"
MEDIA_PUBLISH = rf"{VERSION}/{IG_USER}/media_publish"
OBJECT = rf"{VERSION}/([^/]+)"


def graph_time() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_error(status: int, code: int, message: str) -> Reply:
    return Reply(
        status, {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "F"}}
    )


def message_is(text: str) -> Any:
    """A fault predicate: the write sends ``message`` = ``text``."""
    return lambda req: req.form.get("message") == text


def _point_adapters_at(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fbpublish, "GRAPH_URL", f"{platform.url}{VERSION}")
    monkeypatch.setattr(igpublish, "GRAPH_URL", f"{platform.url}{VERSION}")


def _comment_routes(platform: FakePlatform, author: dict[str, str], text_field: str) -> None:
    """``POST /{object}/comments`` makes a ``comment`` record; ``GET`` lists the object's comments."""

    def create(req: Request, match: re.Match[str]) -> Any:
        parent = match.group(1)
        if not any(r["id"] == parent for kind in ("post", "media") for r in platform.records.get(kind, [])):
            return graph_error(
                400, 100, f"Unsupported post request. Object with ID '{parent}' does not exist"
            )
        made = platform.create("comment", {"parent": parent, text_field: req.form.get("message", ""),
                                           "created": graph_time(), **author})  # fmt: skip
        return {"id": made["id"]}

    def listing(req: Request, match: re.Match[str]) -> Any:
        mine = [c for c in platform.records.get("comment", []) if c["parent"] == match.group(1)]
        shown = []
        for comment in reversed(mine):  # newest first
            entry = {"id": comment["id"], text_field: comment[text_field]}
            entry["timestamp" if text_field == "text" else "created_time"] = comment["created"]
            entry.update({k: comment[k] for k in ("from", "username") if k in comment})
            shown.append(entry)
        return {"data": shown}

    platform.route("POST", COMMENTS, create)
    platform.route("GET", COMMENTS, listing)


def facebook_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Page: ``POST /{page}/feed`` and ``/photos`` make ``post`` (and unpublished ``photo``) records;
    ``GET /{page}/feed`` lists posts newest first; comments as in :func:`_comment_routes`."""
    _point_adapters_at(platform, monkeypatch)

    def post(req: Request, message: str, **extra: Any) -> dict[str, Any]:
        number = len(platform.records.get("post", [])) + 1
        return platform.create("post", {"id": f"{PAGE}_{900 + number}", "message": message,
                                        "created_time": graph_time(), **extra})  # fmt: skip

    def feed(req: Request, match: re.Match[str]) -> Any:
        attached = [v for k, v in sorted(req.form.items()) if k.startswith("attached_media")]
        made = post(req, req.form.get("message", ""), link=req.form.get("link"), attached=attached)
        return {"id": made["id"]}

    def photos(req: Request, match: re.Match[str]) -> Any:
        photo = platform.create("photo", {"url": req.form.get("url"), "published": req.form.get("published")})
        if req.form.get("published") == "false":
            return {"id": photo["id"]}
        made = post(req, req.form.get("message", ""), photo=photo["id"])
        return {"id": photo["id"], "post_id": made["id"]}

    def listing(req: Request, match: re.Match[str]) -> Any:
        since = int(req.query.get("since", "0"))
        shown = []
        for made in reversed(platform.records.get("post", [])):
            created = datetime.strptime(made["created_time"], "%Y-%m-%dT%H:%M:%S%z")
            if created.timestamp() >= since:
                shown.append({k: made[k] for k in ("id", "message", "created_time")}
                             | {"permalink_url": f"https://www.facebook.com/{made['id']}"})  # fmt: skip
        return {"data": shown}

    platform.route("POST", FEED, feed)
    platform.route("GET", FEED, listing)
    platform.route("POST", PHOTOS, photos)
    _comment_routes(platform, {"from": {"id": PAGE, "name": "Chorus Page"}}, "message")  # type: ignore[dict-item]


@dataclass
class Instagram:
    """Knobs of the fake Instagram account: how many status reads a container stays IN_PROGRESS."""

    in_progress_reads: int = 0
    reads: dict[str, int] = field(default_factory=dict)


def instagram_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Instagram:
    """Containers (``container`` records: IN_PROGRESS for ``in_progress_reads`` status reads, then
    FINISHED, PUBLISHED once published), ``media_publish`` (a ``media`` record; a container publishes
    once), the account's media listing, object reads (status, permalink), comments, the quota."""
    _point_adapters_at(platform, monkeypatch)
    knobs = Instagram()

    def container(req: Request, match: re.Match[str]) -> Any:
        made = platform.create("container", {**req.form, "status_code": "IN_PROGRESS"})
        made.pop("access_token", None)
        made["id"] = f"1790{len(platform.records['container']):011d}"
        return {"id": made["id"]}

    def publish(req: Request, match: re.Match[str]) -> Any:
        found = [c for c in platform.records.get("container", []) if c["id"] == req.form.get("creation_id")]
        if not found or _status(found[0]) != "FINISHED":
            return graph_error(
                400, 9007, "Media ID is not available"
            )  # assembled: the container cannot publish
        found[0]["status_code"] = "PUBLISHED"
        number = len(platform.records.get("media", [])) + 1
        made = platform.create("media", {"id": f"1792{number:011d}", "caption": found[0].get("caption", ""),
                                         "container": found[0]["id"], "timestamp": graph_time(),
                                         "permalink": f"https://www.instagram.com/p/FAKE{number}/"})  # fmt: skip
        return {"id": made["id"]}

    def _status(made: dict[str, Any]) -> str:
        if made["status_code"] == "IN_PROGRESS" and knobs.reads.get(made["id"], 0) >= knobs.in_progress_reads:
            made["status_code"] = "FINISHED"
        return str(made["status_code"])

    def read(req: Request, match: re.Match[str]) -> Any:
        object_id = match.group(1)
        for made in platform.records.get("container", []):
            if made["id"] == object_id:
                code = _status(made)
                knobs.reads[object_id] = knobs.reads.get(object_id, 0) + 1
                return {"id": object_id, "status_code": code, "status": f"{code.title()}: fake"}
        for made in platform.records.get("media", []):
            if made["id"] == object_id:
                return {"id": object_id, "permalink": made["permalink"]}
        return graph_error(400, 100, f"Object with ID '{object_id}' does not exist")

    def listing(req: Request, match: re.Match[str]) -> Any:
        shown = [{k: m[k] for k in ("id", "caption", "permalink", "timestamp")}
                 for m in reversed(platform.records.get("media", []))]  # fmt: skip
        return {"data": shown}

    def quota(req: Request, match: re.Match[str]) -> Any:
        return {"data": [{"quota_usage": 0, "config": {"quota_total": 50, "quota_duration": 86400}}]}

    platform.route("POST", MEDIA_PUBLISH, publish)
    platform.route("GET", rf"{VERSION}/{IG_USER}/content_publishing_limit", quota)
    platform.route("POST", CONTAINERS, container)
    platform.route("GET", CONTAINERS, listing)
    _comment_routes(platform, {"username": "chorus"}, "text")
    platform.route("GET", OBJECT, read)
    return knobs
