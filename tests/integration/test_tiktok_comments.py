"""TikTok business comments in the inbox on the embedded runtime, against a fake TikTok API for Business on
127.0.0.1 (tests/faults/fakes/tiktok_business.py): a TikTok account connected (Login Kit) enables comments
through the business app's authorisation (GET /accounts/connect/tiktok_business, the callback with TikTok's
``auth_code``), then a comment on its video is polled into the inbox once, across polls, with the business
token, and a reply from the inbox lands under it once through comment/reply/create. An account that did not
enable comments is never asked; a business authorisation of another TikTok account is refused. Removing
the account (DELETE /accounts/{id}) revokes the business grant, then the Login Kit token, at TikTok."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chorus.platforms.tiktok.comments import LIST_SCOPE, MANAGE_SCOPE, message_id
from tests.faults.fakes.tiktok import CLIENT_KEY, CLIENT_SECRET, login_kit_revoke
from tests.faults.fakes.tiktok import REVOKE as LOGIN_REVOKE
from tests.faults.fakes.tiktok_business import (
    APP_ID,
    APP_SECRET,
    COMMENT_LIST,
    REPLY_CREATE,
    REVOKE,
    TOKEN_INFO,
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
LOGIN_KIT_TOKEN = "act.login-kit-token"
REDIRECT = "https://app.example/accounts"
VIDEO = "7300000000000000001"


@pytest.fixture(scope="module")
def tiktok() -> Iterator[tuple[FakePlatform, TikTokBusiness]]:
    made = FakePlatform()
    knobs = tiktok_business_platform(made, BUSINESS_ID, TOKEN)
    login_kit_revoke(made)  # Login Kit's /v2/oauth/revoke/ on the same fake
    yield made, knobs
    made.stop()


@pytest.fixture(scope="module")
def chorus(tiktok: tuple[FakePlatform, TikTokBusiness]) -> Iterator[Chorus]:
    c = Chorus(
        parameters={
            "TikTokBusinessAppId": APP_ID,
            "TikTokBusinessAppSecret": APP_SECRET,
            "TikTokClientKey": CLIENT_KEY,
            "TikTokClientSecret": CLIENT_SECRET,
        },
        extra_env={
            "CHORUS_TIKTOK_BUSINESS_API_URL": api_url(tiktok[0]),
            "CHORUS_TIKTOK_API_URL": tiktok[0].url,
        },
    )
    yield c
    c.close()


def connect(chorus: Chorus, key: str, account_ref: str) -> str:
    """A TikTok account of ``key``'s workspace connected through Login Kit (its own token and scopes, for
    publishing: never comment.list), once the poller tracks it."""
    from chorus.accounts.service import connect_or_reconnect
    from chorus.accounts.tokens import TokenSet
    from chorus.auth.keys import parse_key
    from chorus.inbox.poller import tracked

    parsed = parse_key(key)
    assert parsed is not None
    account = connect_or_reconnect(
        parsed.workspace_id, "tiktok", account_ref, TokenSet(LOGIN_KIT_TOKEN), handle="chorus_cafe",
        extra={"scopes": "user.info.basic,video.publish,video.upload"},
    ).id  # fmt: skip
    eventually(lambda: any(t.account_id == account for t in tracked(["tiktok"])), timeout=15)
    return account


def enable_comments(chorus: Chorus, key: str, account_id: str, code: str = "biz-code") -> Any:
    """The account's comments step as the Accounts page runs it: the business app's authorisation page,
    then the callback with the ``auth_code`` TikTok sends back. Answers the callback's response."""
    started = chorus.call("GET", "/accounts/connect/tiktok_business", key,
                          params={"redirect_uri": REDIRECT, "account_id": account_id})  # fmt: skip
    assert started.status_code == 200, started.text
    page = started.json()["authorize_url"]
    assert page.startswith("https://business-api.tiktok.com/portal/auth?")
    assert f"app_id={APP_ID}" in page
    return chorus.call("GET", "/oauth/callback/tiktok_business", key,
                       params={"auth_code": code, "state": started.json()["state"]})  # fmt: skip


def never_asked(chorus: Chorus, platform: FakePlatform, key: str, account_ref: str) -> None:
    """The workspace's one TikTok account is active with comments off, and a poll never asks TikTok."""
    (shown,) = chorus.call("GET", "/accounts", key).json()["accounts"]
    assert (shown["status"], shown["comments"]) == (
        "active",
        {"status": "off", "scopes": [], "reason": None, "expires_at": None},
    )
    poll(chorus)
    assert [r for r in platform.calls("GET", VIDEO_LIST) if r.query.get("business_id") == account_ref] == []


def poll(chorus: Chorus) -> None:
    chorus.rt.tick("PollerFunction")
    chorus.rt.wait_idle()


def test_a_comment_is_polled_once_and_its_reply_lands_once(
    chorus: Chorus, tiktok: tuple[FakePlatform, TikTokBusiness]
) -> None:
    platform, knobs = tiktok
    _, key = chorus.workspace()
    account = connect(chorus, key, BUSINESS_ID)
    # When comments are enabled for it (TikTok API for Business's authorisation)
    done = enable_comments(chorus, key, account)
    assert done.status_code == 200, done.text
    (shown,) = done.json()["accounts"]
    assert shown["id"] == account
    assert shown["comments"]["status"] == "active"
    assert {LIST_SCOPE, MANAGE_SCOPE} <= set(shown["comments"]["scopes"])
    assert TOKEN not in done.text  # the business token never leaves the server
    listed = chorus.call("GET", "/accounts", key).json()["accounts"]
    assert [(a["status"], a["comments"]["status"]) for a in listed] == [("active", "active")]
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
    # each poll asked with the business grant's token in Access-Token (never Login Kit's)
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
    connect(chorus, key, other)  # Login Kit only: comments never enabled
    never_asked(chorus, platform, key, other)
    assert conversations(chorus, key, platform="tiktok") == []


def test_an_account_granted_comment_list_only_shows_no_reply_box_and_a_reply_is_refused(
    chorus: Chorus, tiktok: tuple[FakePlatform, TikTokBusiness]
) -> None:
    platform, knobs = tiktok
    _, key = chorus.workspace()
    reader = "reader-business-account"
    knobs.business_id = reader  # the fake answers for this account now
    knobs.scopes = f"user.info.basic,video.list,{LIST_SCOPE}"  # the holder granted reading only
    try:
        enabled = enable_comments(chorus, key, connect(chorus, key, reader))
        assert enabled.status_code == 200, enabled.text
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
        knobs.scopes = f"user.info.basic,video.list,{LIST_SCOPE},{MANAGE_SCOPE}"


def test_a_business_authorisation_of_another_tiktok_account_is_refused(
    chorus: Chorus, tiktok: tuple[FakePlatform, TikTokBusiness]
) -> None:
    platform, knobs = tiktok
    _, key = chorus.workspace()
    mine = "creator-enabling-comments"
    account = connect(chorus, key, mine)
    # Given the person signs in to TikTok as another account on the authorisation page
    knobs.codes["biz-code-other"] = "someone-else"
    asked_before = len(platform.calls("POST", TOKEN_INFO))
    # When the callback comes back, it is refused naming the code, and nothing is stored
    refused = enable_comments(chorus, key, account, code="biz-code-other")
    assert refused.status_code == 403, refused.text
    assert refused.json()["errors"][0]["field"] == "code"
    assert "another account" in refused.text
    assert len(platform.calls("POST", TOKEN_INFO)) == asked_before + 1
    never_asked(chorus, platform, key, mine)


def test_a_revoked_business_grant_stops_comments_not_publishing_until_enabled_again(
    chorus: Chorus, tiktok: tuple[FakePlatform, TikTokBusiness]
) -> None:
    platform, knobs = tiktok
    _, key = chorus.workspace()
    revoked = "creator-who-revokes"
    knobs.business_id = revoked
    try:
        account = connect(chorus, key, revoked)
        assert enable_comments(chorus, key, account).status_code == 200
        # Given the owner removes the business app's access on TikTok (its token now refused: 40105)
        knobs.token = "act.after-revocation"
        poll(chorus)
        # Then only the comments step asks to be enabled again; the account itself stays active
        (shown,) = eventually(
            lambda: [a for a in chorus.call("GET", "/accounts", key).json()["accounts"]
                     if a["comments"]["status"] == "needs_reauth"], timeout=15)  # fmt: skip
        assert shown["status"] == "active"
        assert "40105" in shown["comments"]["reason"]
        asked = len(platform.calls("GET", VIDEO_LIST))
        poll(chorus)
        assert len(platform.calls("GET", VIDEO_LIST)) == asked  # a dead grant is not asked again
        # When comments are enabled again, they are polled again with the new token
        assert enable_comments(chorus, key, account).status_code == 200
        poll(chorus)
        assert platform.calls("GET", VIDEO_LIST)[-1].headers.get("Access-Token") == knobs.token
    finally:
        knobs.business_id, knobs.token = BUSINESS_ID, TOKEN


@pytest.mark.parametrize("refused", [False, True])
def test_removing_the_account_revokes_its_grant_then_its_login_kit_token_from_the_stream(
    chorus: Chorus, tiktok: tuple[FakePlatform, TikTokBusiness], refused: bool
) -> None:
    platform, _ = tiktok
    _, key = chorus.workspace()
    account = connect(chorus, key, BUSINESS_ID)
    assert enable_comments(chorus, key, account).status_code == 200
    revoked, logged_out = len(platform.calls("POST", REVOKE)), len(platform.calls("POST", LOGIN_REVOKE))
    if refused:  # TikTok fails both revokes: logged, the stream's batch succeeds all the same
        platform.fail("POST", REVOKE, 500, {"code": 50000, "message": "System error"})
        platform.fail("POST", LOGIN_REVOKE, 503)
    # When an admin removes the account, it is gone at once (the API decrypts no token: nothing revoked there)
    gone = chorus.call("DELETE", f"/accounts/{account}", key)
    assert gone.status_code == 204, gone.text
    assert TOKEN not in gone.text
    assert chorus.call("GET", "/accounts", key).json()["accounts"] == []
    assert chorus.call("GET", f"/accounts/{account}", key).status_code == 404
    # Then, from the table's stream (the account's REMOVE record), TikTok was asked once to end the
    # business grant, then once the Login Kit token
    eventually(lambda: platform.calls("POST", LOGIN_REVOKE)[logged_out:], timeout=90)
    (business,) = platform.calls("POST", REVOKE)[revoked:]
    assert business.json == {"client_id": APP_ID, "client_secret": APP_SECRET, "access_token": TOKEN}
    (login,) = platform.calls("POST", LOGIN_REVOKE)[logged_out:]
    assert login.form == {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET, "token": LOGIN_KIT_TOKEN}
    assert platform.requests.index(business) < platform.requests.index(login)
    # and the account was not written back
    assert chorus.call("GET", f"/accounts/{account}", key).status_code == 404
