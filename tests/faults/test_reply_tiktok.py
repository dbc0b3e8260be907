"""TikTok business comment replies under faults: the real replier (chorus.inbox.replies.handle) on moto
against the fake TikTok API for Business on 127.0.0.1 (tests/faults/fakes/tiktok_business.py). The reply
endpoint takes no idempotency key, so a reply whose answer was lost is looked for among the comment's
replies (the account's own, same text, made since the reply was queued) and never posted again blindly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.platforms.tiktok.comments import LIST_SCOPE, MANAGE_SCOPE, message_id
from tests.faults.fakes.tiktok_business import (
    REPLY_CREATE,
    REPLY_LIST,
    TikTokBusiness,
    api_url,
    enable_comments,
    envelope,
    tiktok_business_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed
from tests.faults.test_replies import Replier, kill_once, reply_in, stored

BUSINESS_ID = "-000Vd1h0s0Yf6kOwRMy1OLmmpWAXmJ5ND5Q"
TOKEN = "act.business-token"
VIDEO = "7300000000000000001"
COMMENT = "7310000000000000042"


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[TikTokBusiness]:
    from chorus.accounts.apps import get_apps
    from chorus.platforms import replies

    monkeypatch.setenv("CHORUS_TIKTOK_BUSINESS_API_URL", api_url(platform))
    get_apps.cache_clear()  # type: ignore[attr-defined]
    replies.reset()
    yield tiktok_business_platform(platform, BUSINESS_ID, TOKEN)
    replies.reset()


def replying(bed: PublisherBed, knobs: TikTokBusiness, text: str) -> tuple[Replier, str, str]:
    """A comment on the account's video in the inbox, and a reply to it: (replier, workspace, reply id)."""
    at = bed.now() - timedelta(minutes=1)
    knobs.comment(VIDEO, COMMENT, "Is this in stock?", at)
    account_id = bed.account("tiktok", BUSINESS_ID, token="act.login-kit", extra={"scopes": "video.publish"})
    enable_comments(bed.workspace(), account_id, TOKEN, f"{LIST_SCOPE},{MANAGE_SCOPE}")
    inbound = InboundMessage(
        platform="tiktok", account_ref=BUSINESS_ID, platform_message_id=message_id(VIDEO, COMMENT),
        kind=MessageKind.COMMENT, conversation_ref=VIDEO, text="Is this in stock?", created_at=at,
        author_id="fan-1", parent_ref=VIDEO, post_ref=VIDEO,
    )  # fmt: skip
    return reply_in(bed, account_id, inbound, text)


def replies_made(platform: FakePlatform) -> list[tuple[str, str, str]]:
    """(video, comment answered, text) of every reply made on the fake."""
    return [(r["video_id"], r["parent_comment_id"], r["text"]) for r in platform.records.get("reply", [])]


def test_a_reply_lands_under_the_comment_it_answers(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTokBusiness
) -> None:
    replier, ws, reply_id = replying(bed, knobs, "Yes, all sizes!")
    assert [o.result for o in replier.run()] == ["sent"]
    assert replies_made(platform) == [(VIDEO, COMMENT, "Yes, all sizes!")]
    sent = platform.calls("POST", REPLY_CREATE)[0]
    assert sent.headers.get("Access-Token") == TOKEN
    assert sent.json == {"business_id": BUSINESS_ID, "video_id": VIDEO, "comment_id": COMMENT,
                         "text": "Yes, all sizes!"}  # fmt: skip
    reply = stored(ws, reply_id)
    assert (reply.state, reply.platform_message_id) == (
        "sent",
        message_id(VIDEO, platform.records["reply"][0]["id"]),
    )


def test_a_reply_made_then_timed_out_is_found_and_never_posted_again(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTokBusiness
) -> None:
    # Given TikTok makes the reply but its answer never arrives
    platform.create_then_timeout("POST", REPLY_CREATE)
    replier, ws, reply_id = replying(bed, knobs, "We restock on Friday.")
    # When the replier runs until settled
    outcomes = replier.run()
    # Then the reply was looked for among the comment's replies, found, and TikTok has it once
    assert outcomes[-1].result == "sent"
    assert len(platform.calls("POST", REPLY_CREATE)) == 1
    assert len(platform.calls("GET", REPLY_LIST)) >= 1
    assert replies_made(platform) == [(VIDEO, COMMENT, "We restock on Friday.")]
    assert stored(ws, reply_id).platform_message_id == message_id(VIDEO, platform.records["reply"][0]["id"])


def test_killed_mid_call_before_the_request_left_it_is_looked_for_then_sent_once(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTokBusiness, monkeypatch: pytest.MonkeyPatch
) -> None:
    replier, ws, reply_id = replying(bed, knobs, "Thanks for asking")
    kill_once(monkeypatch, "part_sent", after=True)
    outcomes = replier.run()
    assert outcomes[-1].result == "sent"
    assert len(platform.calls("GET", REPLY_LIST)) >= 1
    assert replies_made(platform) == [(VIDEO, COMMENT, "Thanks for asking")]
    assert stored(ws, reply_id).state == "sent"


def test_a_revoked_token_fails_the_reply_and_asks_for_reauthorisation(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTokBusiness
) -> None:
    from chorus.accounts import service as accounts

    platform.fail("POST", REPLY_CREATE, 200, envelope({}, 40105, "The access token is incorrect or has been revoked."),
                  times=None)  # fmt: skip
    replier, ws, reply_id = replying(bed, knobs, "Hello")
    assert [o.result for o in replier.run()] == ["failed"]
    reply = stored(ws, reply_id)
    assert "revoked" in (reply.error or "")
    assert replies_made(platform) == []
    # only the comments step (the business grant) asks for it: the account keeps publishing
    account = accounts.get_account(ws, reply.account_id)
    assert account.status == "active"
    assert account.public()["comments"]["status"] == "needs_reauth"


def test_an_account_without_the_manage_scope_is_refused_with_the_reason_and_nothing_is_sent(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTokBusiness
) -> None:
    # Given a reply queued while the account could reply, and comments then enabled again without
    # comment.list.manage (the inbox refuses such a reply before it is stored: see
    # tests/integration/test_tiktok_comments.py)
    from chorus.accounts import service as accounts

    replier, ws, reply_id = replying(bed, knobs, "Hello")
    account_id = stored(ws, reply_id).account_id
    enable_comments(ws, account_id, TOKEN, LIST_SCOPE)
    assert accounts.get_account(ws, account_id).public()["comments"]["scopes"] == [LIST_SCOPE]
    # When the replier runs, the sender refuses it with the reason and TikTok is never called
    assert [o.result for o in replier.run()] == ["failed"]
    assert "comment.list.manage" in (stored(ws, reply_id).error or "")
    assert platform.calls("POST", REPLY_CREATE) == []
