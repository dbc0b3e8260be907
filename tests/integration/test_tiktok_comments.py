"""TikTok business comments in the inbox on the embedded runtime, against a fake TikTok API for Business on
127.0.0.1 (tests/faults/fakes/tiktok_business.py): a comment on the business account's video is polled into
the inbox once, across polls, and a reply from the inbox lands under it once through comment/reply/create.
An account connected without comment.list is never asked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chorus.platforms.tiktok.comments import LIST_SCOPE, MANAGE_SCOPE, message_id
from tests.faults.fakes.tiktok_business import (
    COMMENT_LIST,
    REPLY_CREATE,
    VIDEO_LIST,
    TikTokBusiness,
    api_url,
    tiktok_business_platform,
)
from tests.faults.harness import FakePlatform
from tests.integration.harness import Chorus, eventually
from tests.integration.test_inbox import conversations
from tests.integration.test_threads_replies import answered

BUSINESS_ID = "-000Vd1h0s0Yf6kOwRMy1OLmmpWAXmJ5ND5Q"
TOKEN = "act.business-token"
VIDEO = "7300000000000000001"


@pytest.fixture(scope="module")
def tiktok() -> Iterator[tuple[FakePlatform, TikTokBusiness]]:
    made = FakePlatform()
    knobs = tiktok_business_platform(made, BUSINESS_ID, TOKEN)
    yield made, knobs
    made.stop()


@pytest.fixture(scope="module")
def chorus(tiktok: tuple[FakePlatform, TikTokBusiness]) -> Iterator[Chorus]:
    c = Chorus(extra_env={"CHORUS_TIKTOK_BUSINESS_API_URL": api_url(tiktok[0])})
    yield c
    c.close()


def connect(chorus: Chorus, key: str, account_ref: str, scopes: str) -> str:
    """A TikTok account of ``key``'s workspace connected with ``scopes`` granted (as the OAuth callback
    keeps them), once the poller tracks it."""
    from chorus.accounts.service import connect_or_reconnect
    from chorus.accounts.tokens import TokenSet
    from chorus.auth.keys import parse_key
    from chorus.inbox.poller import tracked

    parsed = parse_key(key)
    assert parsed is not None
    account = connect_or_reconnect(
        parsed.workspace_id, "tiktok", account_ref, TokenSet(TOKEN), handle="chorus_cafe",
        extra={"scopes": scopes},
    ).id  # fmt: skip
    eventually(lambda: any(t.account_id == account for t in tracked(["tiktok"])), timeout=15)
    return account


def poll(chorus: Chorus) -> None:
    chorus.rt.tick("PollerFunction")
    chorus.rt.wait_idle()


def test_a_comment_is_polled_once_and_its_reply_lands_once(
    chorus: Chorus, tiktok: tuple[FakePlatform, TikTokBusiness]
) -> None:
    platform, knobs = tiktok
    _, key = chorus.workspace()
    connect(chorus, key, BUSINESS_ID, f"user.info.basic,{LIST_SCOPE},{MANAGE_SCOPE}")
    # Given a comment on the business account's video
    knobs.comment(
        VIDEO, "7310000000000000042", "Do you ship to Porto?", datetime.now(UTC) - timedelta(minutes=2)
    )
    # When the poller runs twice
    poll(chorus)
    poll(chorus)
    # Then it is in the inbox once, as a TikTok comment that can be answered
    convs = eventually(lambda: conversations(chorus, key, platform="tiktok"), timeout=15)
    assert len(convs) == 1
    conv = convs[0]
    assert (conv["channel"], conv["kind"], conv["preview"]) == ("tiktok", "comment", "Do you ship to Porto?")
    assert conv["reply_via"].startswith("a reply comment: POST /business/comment/reply/create/")
    thread = chorus.call("GET", f"/inbox/{conv['id']}", key).json()
    assert [m["platform_message_id"] for m in thread["messages"]] == [
        message_id(VIDEO, "7310000000000000042")
    ]
    # each poll asked with the account's token in Access-Token
    asked = platform.calls("GET", COMMENT_LIST)
    assert len(asked) >= 2
    assert {r.headers.get("Access-Token") for r in asked} == {TOKEN}
    # When an agent replies from the inbox
    reply = answered(chorus, key, conv["id"], "Yes, in 3 days!")
    # Then TikTok has it once, under the comment
    assert reply["state"] == "sent", reply
    made = platform.records["reply"]
    assert [(r["video_id"], r["parent_comment_id"], r["text"]) for r in made] == [
        (VIDEO, "7310000000000000042", "Yes, in 3 days!")
    ]
    assert reply["platform_message_id"] == message_id(VIDEO, made[0]["id"])
    assert len(platform.calls("POST", REPLY_CREATE)) == 1
    # And a reply longer than TikTok takes is refused before anything is stored or sent
    too_long = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"text": "x" * 151})
    assert too_long.status_code == 422, too_long.text
    assert "150" in too_long.text
    assert len(platform.calls("POST", REPLY_CREATE)) == 1


def test_an_account_without_comment_list_is_never_asked(
    chorus: Chorus, tiktok: tuple[FakePlatform, TikTokBusiness]
) -> None:
    platform, _ = tiktok
    _, key = chorus.workspace()
    other = "creator-without-business-scopes"
    connect(chorus, key, other, "user.info.basic,video.list")
    poll(chorus)
    assert [r for r in platform.calls("GET", VIDEO_LIST) if r.query.get("business_id") == other] == []
    assert conversations(chorus, key, platform="tiktok") == []


def test_an_account_granted_comment_list_only_shows_no_reply_box_and_a_reply_is_refused(
    chorus: Chorus, tiktok: tuple[FakePlatform, TikTokBusiness]
) -> None:
    platform, knobs = tiktok
    _, key = chorus.workspace()
    reader = "reader-business-account"
    knobs.business_id = reader  # the fake answers for this account now
    try:
        connect(chorus, key, reader, f"user.info.basic,{LIST_SCOPE}")
        knobs.comment(VIDEO, "7310000000000000077", "Love it", datetime.now(UTC) - timedelta(minutes=1))
        made_before = len(platform.calls("POST", REPLY_CREATE))

        def polled() -> list[dict[str, Any]]:
            poll(chorus)
            return conversations(chorus, key, platform="tiktok")

        conv = eventually(polled, timeout=30)[0]
        # the reply box says so before anyone types: no way to reply from this account
        thread = chorus.call("GET", f"/inbox/{conv['id']}", key).json()
        assert thread["conversation"]["reply_via"] is None
        refused = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"text": "Thanks!"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "conversation"
        assert "comment.list.manage" in refused.text
        assert len(platform.calls("POST", REPLY_CREATE)) == made_before
    finally:
        knobs.business_id = BUSINESS_ID
