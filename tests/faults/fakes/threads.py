"""The Threads API on a FakePlatform, as ThreadsPublisher calls it. Shapes follow
``fixtures/platform_api/publishing/threads`` (container ids, status answers, publishing limit) and the
retrieval endpoints Meta documents (``GET /{user}/threads``, ``GET /{media}/replies``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.platforms.threads import publish as thpublish
from tests.faults.harness import FakePlatform, Reply, Request

VERSION = "/v1.0"
USER = "17841405793187218"
CONTAINERS = rf"{VERSION}/{USER}/threads"
PUBLISH = rf"{VERSION}/{USER}/threads_publish"
REPLIES = rf"{VERSION}/([^/]+)/replies"
QUOTA = rf"{VERSION}/{USER}/threads_publishing_limit"
OBJECT = rf"{VERSION}/([^/]+)"


def threads_time() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_error(status: int, code: int, message: str) -> Reply:
    return Reply(
        status, {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "F"}}
    )


def text_is(text: str) -> Any:
    """A fault predicate: the container request's ``text`` is ``text``."""
    return lambda req: req.form.get("text") == text


@dataclass
class Threads:
    """Knobs of the fake profile: how many status reads a video container stays IN_PROGRESS."""

    in_progress_reads: int = 0
    reads: dict[str, int] = field(default_factory=dict)


def threads_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Threads:
    """Containers (``container`` records: TEXT/IMAGE FINISHED at once, VIDEO after ``in_progress_reads``
    reads, PUBLISHED once published), ``threads_publish`` (a ``post`` record; a container publishes
    once), the profile's threads and a post's replies (newest first), object reads, the quota."""
    monkeypatch.setattr(thpublish, "API_URL", f"{platform.url}{VERSION}")
    knobs = Threads()

    def container(req: Request, match: re.Match[str]) -> Any:
        fields = {k: v for k, v in req.form.items() if k != "access_token"}
        made = platform.create("container", {**fields, "status": "IN_PROGRESS"})
        made["id"] = f"1789{len(platform.records['container']):011d}"
        return {"id": made["id"]}

    def status(made: dict[str, Any]) -> str:
        ready = made.get("media_type") != "VIDEO" or knobs.reads.get(made["id"], 0) >= knobs.in_progress_reads
        if made["status"] == "IN_PROGRESS" and ready:
            made["status"] = "FINISHED"
        return str(made["status"])

    def publish(req: Request, match: re.Match[str]) -> Any:
        found = [c for c in platform.records.get("container", []) if c["id"] == req.form.get("creation_id")]
        if not found or status(found[0]) != "FINISHED":  # assembled: a container publishes once
            return graph_error(400, 24, "The media container is not ready or was already published")
        found[0]["status"] = "PUBLISHED"
        number = len(platform.records.get("post", [])) + 1
        made = platform.create("post", {"id": f"1800{number:011d}", "text": found[0].get("text", ""),
                                        "reply_to_id": found[0].get("reply_to_id"), "container": found[0]["id"],
                                        "username": "chorus", "timestamp": threads_time(),
                                        "permalink": f"https://www.threads.net/@chorus/post/FAKE{number}"})  # fmt: skip
        return {"id": made["id"]}

    def shown(post: dict[str, Any]) -> dict[str, Any]:
        return {k: post[k] for k in ("id", "text", "username", "timestamp", "permalink")}

    def listing(req: Request, match: re.Match[str]) -> Any:
        since = int(req.query.get("since", "0"))
        posts = [p for p in reversed(platform.records.get("post", [])) if not p["reply_to_id"]
                 and datetime.strptime(p["timestamp"], "%Y-%m-%dT%H:%M:%S%z").timestamp() >= since]  # fmt: skip
        return {"data": [shown(p) for p in posts], "paging": {"cursors": {"before": "B", "after": "A"}}}

    def replies(req: Request, match: re.Match[str]) -> Any:
        posts = [p for p in reversed(platform.records.get("post", [])) if p["reply_to_id"] == match.group(1)]
        return {"data": [shown(p) for p in posts]}

    def read(req: Request, match: re.Match[str]) -> Any:
        object_id = match.group(1)
        for made in platform.records.get("container", []):
            if made["id"] == object_id:
                code = status(made)
                knobs.reads[object_id] = knobs.reads.get(object_id, 0) + 1
                return {"status": code, "id": object_id}
        for made in platform.records.get("post", []):
            if made["id"] == object_id:
                return {"id": object_id, "permalink": made["permalink"]}
        return graph_error(400, 100, f"Object with ID '{object_id}' does not exist")

    def quota(req: Request, match: re.Match[str]) -> Any:
        used = len([p for p in platform.records.get("post", []) if not p["reply_to_id"]])
        return {"data": [{"quota_usage": used, "config": {"quota_total": 250, "quota_duration": 86400}}]}

    platform.route("POST", PUBLISH, publish)
    platform.route("GET", QUOTA, quota)
    platform.route("POST", CONTAINERS, container)
    platform.route("GET", CONTAINERS, listing)
    platform.route("GET", REPLIES, replies)
    platform.route("GET", OBJECT, read)
    return knobs
