"""Threads replies under faults: the real replier (chorus.inbox.replies.handle) on moto against the fake
Threads API on 127.0.0.1 (tests/faults/fakes/threads.py). A reply is a container answering the message,
published once: a publish whose answer was lost is looked for among the answered post's replies and never
published again blindly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from chorus.inbox.normalized import InboundMessage, MessageKind
from tests.faults.fakes.threads import PUBLISH, REPLIES, USER, Threads, threads_platform
from tests.faults.harness import FakePlatform, PublisherBed
from tests.faults.test_replies import Replier, kill_once, reply_in, stored

ROOT_POST = "18050200000000001"
ANSWERED = "18050200000000042"  # someone's reply to the account's post


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[Threads]:
    from chorus.platforms import registry, replies

    made = threads_platform(platform, monkeypatch)
    registry.reset()  # the publisher reads the fake's URL when it is built
    replies.reset()
    yield made
    registry.reset()
    replies.reset()


def replying(bed: PublisherBed, text: str) -> tuple[Replier, str, str]:
    """A reply to the account's post in the inbox, and an answer to it: (replier, workspace, reply id)."""
    account_id = bed.account("threads", USER, token="th-token", handle="chorus")
    inbound = InboundMessage(
        platform="threads", account_ref=USER, platform_message_id=ANSWERED, kind=MessageKind.REPLY,
        conversation_ref=ROOT_POST, text="When is the next drop?", created_at=bed.now() - timedelta(minutes=1),
        author_id="fan", author_handle="fan", parent_ref=ROOT_POST, post_ref=ROOT_POST,
    )  # fmt: skip
    return reply_in(bed, account_id, inbound, text)


def posts(platform: FakePlatform) -> list[tuple[str, str | None]]:
    """(text, the post it answers) of every post published on the fake."""
    return [(p["text"], p["reply_to_id"]) for p in platform.records.get("post", [])]


def test_a_reply_is_published_answering_the_message(
    bed: PublisherBed, platform: FakePlatform, knobs: Threads
) -> None:
    replier, ws, reply_id = replying(bed, "Friday at noon!")
    assert [o.result for o in replier.run()] == ["sent"]
    assert posts(platform) == [("Friday at noon!", ANSWERED)]
    reply = stored(ws, reply_id)
    assert (reply.state, reply.platform_message_id) == ("sent", platform.records["post"][0]["id"])


def test_a_publish_made_then_timed_out_is_found_and_never_published_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Threads
) -> None:
    # Given Threads publishes the reply but its answer never arrives
    platform.create_then_timeout("POST", PUBLISH)
    replier, ws, reply_id = replying(bed, "Friday at noon!")
    # When the replier runs until settled
    outcomes = replier.run()
    # Then it was looked for among the answered post's replies, found, and Threads has it once
    assert outcomes[-1].result == "sent"
    assert len(platform.calls("POST", PUBLISH)) == 1
    assert len(platform.calls("GET", REPLIES)) >= 1
    assert posts(platform) == [("Friday at noon!", ANSWERED)]
    assert stored(ws, reply_id).platform_message_id == platform.records["post"][0]["id"]


def test_killed_mid_call_before_the_publish_left_it_is_looked_for_then_published_once(
    bed: PublisherBed, platform: FakePlatform, knobs: Threads, monkeypatch: pytest.MonkeyPatch
) -> None:
    replier, ws, reply_id = replying(bed, "Thanks!")
    kill_once(monkeypatch, "part_sent", after=True)
    outcomes = replier.run()
    assert outcomes[-1].result == "sent"
    assert len(platform.calls("GET", REPLIES)) >= 1
    assert posts(platform) == [("Thanks!", ANSWERED)]
    assert stored(ws, reply_id).state == "sent"
