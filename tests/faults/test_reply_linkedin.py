"""LinkedIn comment replies under faults: the real replier (chorus.inbox.replies.handle) on moto against the
fake LinkedIn REST API on 127.0.0.1 (tests/faults/fakes/linkedin.py). The Comments API takes no idempotency
key and names the new comment only in a header, so a reply whose answer was lost is looked for among the
comment's replies (actor, text, time) and never posted again blindly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from chorus.inbox.normalized import InboundMessage, MessageKind
from tests.faults.fakes.linkedin import COMMENTS, ORG, LinkedIn, linkedin_error, linkedin_platform
from tests.faults.harness import FakePlatform, PublisherBed
from tests.faults.test_replies import Replier, kill_once, reply_in, stored

POST = "urn:li:activity:7200000000000000001"
COMMENT = f"urn:li:comment:({POST},7200000000000000099)"


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[LinkedIn]:
    from chorus.platforms import replies

    replies.reset()  # the sender reads the fake's URL when it is built
    yield linkedin_platform(platform, monkeypatch)
    replies.reset()


def replying(bed: PublisherBed, text: str) -> tuple[Replier, str, str]:
    """A comment on the organisation's post in the inbox, and a reply to it: (replier, workspace, reply id)."""
    inbound = InboundMessage(
        platform="linkedin", account_ref=ORG, platform_message_id=COMMENT, kind=MessageKind.COMMENT,
        conversation_ref=POST, text="Love this launch!", created_at=bed.now() - timedelta(minutes=1),
        author_id="urn:li:person:fan", parent_ref=POST, post_ref=POST,
    )  # fmt: skip
    return reply_in(bed, bed.account("linkedin", ORG, token="li-token"), inbound, text)


def comments(platform: FakePlatform) -> list[tuple[str, str, str | None, str]]:
    """(target, object, parentComment, text) of every comment made on the fake."""
    return [(c["target"], c["object"], c["parent"], c["text"]) for c in platform.records.get("comment", [])]


def test_a_reply_is_nested_under_the_comment_it_answers(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    replier, ws, reply_id = replying(bed, "Thank you!")
    assert [o.result for o in replier.run()] == ["sent"]
    assert comments(platform) == [(COMMENT, POST, COMMENT, "Thank you!")]
    reply = stored(ws, reply_id)
    assert (reply.state, reply.platform_message_id) == ("sent", platform.records["comment"][0]["id"])


def test_a_reply_made_then_timed_out_is_found_and_never_posted_again(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    # Given LinkedIn makes the comment but its answer never arrives
    platform.create_then_timeout("POST", COMMENTS)
    replier, ws, reply_id = replying(bed, "We are on it.")
    # When the replier runs until settled
    outcomes = replier.run()
    # Then the reply was looked for, found, and LinkedIn has it once
    assert outcomes[-1].result == "sent"
    assert len(platform.calls("POST", COMMENTS)) == 1
    assert comments(platform) == [(COMMENT, POST, COMMENT, "We are on it.")]
    assert stored(ws, reply_id).platform_message_id == platform.records["comment"][0]["id"]


def test_killed_mid_call_before_the_request_left_it_is_looked_for_then_sent_once(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    replier, ws, reply_id = replying(bed, "Glad you like it")
    kill_once(monkeypatch, "part_sent", after=True)
    outcomes = replier.run()
    assert len(platform.calls("GET", COMMENTS)) == 3
    assert [o.result for o in outcomes] == ["verifying", "verifying", "retry", "sent"]
    assert comments(platform) == [(COMMENT, POST, COMMENT, "Glad you like it")]
    assert stored(ws, reply_id).state == "sent"


def test_a_permission_refusal_fails_the_reply_with_linkedins_reason(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    refusal = linkedin_error(403, "Not enough permissions to access: partnerApiSocialActions.CREATE")
    platform.fail("POST", COMMENTS, refusal.status, refusal.body, times=None)
    replier, ws, reply_id = replying(bed, "Hello")
    assert [o.result for o in replier.run()] == ["failed"]
    reply = stored(ws, reply_id)
    assert reply.state == "failed"
    assert "Not enough permissions" in (reply.error or "")
    assert comments(platform) == []
