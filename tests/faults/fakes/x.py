"""X API v2 on a FakePlatform: what XPublisher calls to post and to verify (documented shapes:
``fixtures/platform_api/replies/x/tweet_create_response_201_tweepy.json``,
``fixtures/platform_api/publishing/timelines/x_users_id_tweets_public_metrics_docs.json``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.platforms.x import publish as xpublish
from tests.faults.harness import FakePlatform, Reply, Request

TWEETS = r"/2/tweets"
TIMELINE = r"/2/users/([^/]+)/tweets"
USER_ID = "2244994945"


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
            if tweet["reply_to"]:
                shown["referenced_tweets"] = [{"type": "replied_to", "id": tweet["reply_to"]}]
            data.append(shown)
        return {"data": data, "meta": {"result_count": len(data)}} if data else {"meta": {"result_count": 0}}

    platform.route("POST", TWEETS, create)
    platform.route("GET", TIMELINE, timeline)


def thread(platform: FakePlatform) -> list[tuple[str, str | None]]:
    """(text, text of the tweet it replies to) of every tweet on the fake, in creation order."""
    made = platform.records.get("tweet", [])
    by_id = {t["id"]: t for t in made}
    return [(t["text"], by_id[t["reply_to"]]["text"] if t["reply_to"] else None) for t in made]


def creates(platform: FakePlatform) -> list[str]:
    """The text of every create request the fake received (also those a fault answered)."""
    return [str((r.json or {}).get("text")) for r in platform.calls("POST", TWEETS)]
