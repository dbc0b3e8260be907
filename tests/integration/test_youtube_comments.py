"""YouTube comments in the inbox on the embedded runtime, against a fake Data API on 127.0.0.1: a comment
on the channel's video is polled (within the day's quota, each call's units counted) into the inbox once,
across polls, and a reply from the inbox lands under it through comments.insert."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.faults.harness import FakePlatform, Request
from tests.integration.harness import Chorus, eventually
from tests.integration.test_inbox import conversations

CHANNEL = "UCchorusCafe000000000001"


def comment(
    cid: str, text: str, at: datetime, author: str = "UCfan", parent: str | None = None
) -> dict[str, Any]:
    snippet: dict[str, Any] = {
        "authorDisplayName": "A fan" if author != CHANNEL else "Chorus Café",
        "authorChannelId": {"value": author},
        "videoId": "vid-1",
        "textOriginal": text,
        "textDisplay": text,
        "publishedAt": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updatedAt": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if parent:
        snippet["parentId"] = parent
    return {"kind": "youtube#comment", "id": cid, "snippet": snippet}


@pytest.fixture(scope="module")
def youtube() -> Iterator[FakePlatform]:
    made = FakePlatform()
    threads: list[dict[str, Any]] = []

    def list_threads(req: Request, match: re.Match[str]) -> Any:
        assert req.query["allThreadsRelatedToChannelId"] == CHANNEL
        return {"kind": "youtube#commentThreadListResponse", "items": list(reversed(threads))}

    def insert(req: Request, match: re.Match[str]) -> Any:
        parent = req.json["snippet"]["parentId"]
        made_reply = made.create("reply", {"parent": parent, "text": req.json["snippet"]["textOriginal"]})
        return comment(f"{parent}.{made_reply['id']}", made_reply["text"], datetime.now(UTC), CHANNEL, parent)

    made.route("GET", "/youtube/v3/commentThreads", list_threads)
    made.route("POST", "/youtube/v3/comments", insert)
    made.threads = threads  # type: ignore[attr-defined]
    yield made
    made.stop()


@pytest.fixture(scope="module")
def chorus(youtube: FakePlatform) -> Iterator[Chorus]:
    c = Chorus(extra_env={"CHORUS_YOUTUBE_API_URL": f"{youtube.url}/youtube/v3"})
    yield c
    c.close()


def thread(cid: str, text: str, at: datetime) -> dict[str, Any]:
    return {"kind": "youtube#commentThread", "id": cid,
            "snippet": {"channelId": CHANNEL, "videoId": "vid-1", "topLevelComment": comment(cid, text, at),
                        "canReply": True, "totalReplyCount": 0, "isPublic": True}}  # fmt: skip


def test_a_comment_is_polled_once_within_quota_and_its_reply_lands(
    chorus: Chorus, youtube: FakePlatform
) -> None:
    from chorus.inbox.poller import tracked
    from chorus.platforms.youtube.quota import UNITS, default_ledger, quota_day

    ws, key = chorus.workspace()
    account = chorus.proven_account(key, "youtube", CHANNEL, handle="chorus_cafe")
    eventually(lambda: any(t.account_id == account for t in tracked(["youtube"])), timeout=15)
    ledger = default_ledger()
    day = quota_day(datetime.now(UTC))
    before = ledger.used(UNITS, day)
    # Given a comment on the channel's video
    youtube.threads.append(
        thread("Ugfirst", "Where was this filmed?", datetime.now(UTC) - timedelta(minutes=2))
    )  # type: ignore[attr-defined]
    # When the poller runs twice
    for _ in range(2):
        chorus.rt.tick("PollerFunction")
        chorus.rt.wait_idle()
    # Then it is in the inbox once, as a YouTube comment that can be answered
    convs = eventually(lambda: conversations(chorus, key, platform="youtube"), timeout=15)
    assert len(convs) == 1
    conv = convs[0]
    assert (conv["channel"], conv["kind"], conv["preview"]) == (
        "youtube",
        "comment",
        "Where was this filmed?",
    )
    assert conv["reply_via"].startswith("a reply: POST /youtube/v3/comments")
    thread_view = chorus.call("GET", f"/inbox/{conv['id']}", key).json()
    assert [m["platform_message_id"] for m in thread_view["messages"]] == ["Ugfirst"]
    # And each poll spent one unit of the day's quota
    assert ledger.used(UNITS, day) - before == 2
    # When an agent replies from the inbox
    sent = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"text": "In Lisbon!"})
    assert sent.status_code == 202, sent.text

    def landed() -> dict[str, Any] | None:
        replies = chorus.call("GET", f"/inbox/{conv['id']}", key).json()["replies"]
        return replies[0] if replies and replies[0]["state"] in ("sent", "failed") else None

    reply = eventually(landed, timeout=30)
    # Then YouTube has it once, under the comment, and the insert cost 50 units
    assert reply["state"] == "sent", reply
    assert [(r["parent"], r["text"]) for r in youtube.records["reply"]] == [("Ugfirst", "In Lisbon!")]
    assert reply["platform_message_id"] == "Ugfirst.reply-1"
    assert ledger.used(UNITS, day) - before == 52
    # And the next poll sees the channel's own reply as the reply it is, not as a new comment
    youtube.threads[0]["replies"] = {
        "comments": [comment("Ugfirst.reply-1", "In Lisbon!", datetime.now(UTC), CHANNEL, "Ugfirst")]
    }  # type: ignore[attr-defined]
    youtube.threads[0]["snippet"]["totalReplyCount"] = 1  # type: ignore[attr-defined]
    chorus.rt.tick("PollerFunction")
    chorus.rt.wait_idle()
    messages = chorus.call("GET", f"/inbox/{conv['id']}", key).json()["messages"]
    assert [(m["direction"], m["text"]) for m in messages] == [
        ("in", "Where was this filmed?"),
        ("out", "In Lisbon!"),
    ]
