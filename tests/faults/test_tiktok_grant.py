"""A TikTok account's business grant (TikTok API for Business, "Enable comments") over its life, against
the fake TikTok on 127.0.0.1 (tests/faults/fakes/tiktok_business.py, tests/faults/fakes/tiktok.py):
its owner is warned once a week before its refresh token ends (the scheduler's hourly run, the same
AccountTokenExpiring alert as a token that cannot be refreshed), after it ended comments are
``needs_reauth`` and publishing goes on; removing the account deletes it at once, and the table's stream
(the account's REMOVE record, its old image) revokes the grant, then the Login Kit token, at TikTok, once
each with the documented bodies; a revoke that answers 500 or times out is logged and the stream's batch
succeeds; an expired token is refreshed in memory for the revoke, and the account is not written again.
No token is ever logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chorus.accounts import expiry, grants, oauth
from chorus.accounts import service as accounts
from chorus.accounts.tokens import TokenSet
from chorus.auth.keys import Principal
from chorus.auth.roles import Role
from chorus.errors import NotFound
from chorus.events.envelope import InMemoryEventPublisher
from chorus.notifications import render
from chorus.platforms.tiktok.comments import GRANT
from chorus.posts.model import MediaRef, TargetState
from chorus.posts.published import on_table_changes
from chorus.store import keys
from chorus.store.models import AccountItem, GrantWarningItem
from tests.faults.fakes.tiktok import (
    CLIENT_KEY,
    CLIENT_SECRET,
    INIT,
    VIDEO,
    VIDEO_BYTES,
    login_kit_revoke,
    tiktok_platform,
)
from tests.faults.fakes.tiktok import REVOKE as LOGIN_REVOKE
from tests.faults.fakes.tiktok_business import (
    APP_ID,
    APP_SECRET,
    REFRESH,
    REVOKE,
    TikTokBusiness,
    api_url,
    tiktok_business_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed, Reply

BUSINESS_ID = "-000Vd1h0s0Yf6kOwRMy1OLmmpWAXmJ5ND5Q"
TOKEN = "act.business-token"  # what the fake grants the business account
LOGIN_TOKEN = "act.login-kit-token"
REDIRECT = "https://app.example/accounts"
SECRETS = (TOKEN, f"rft.{BUSINESS_ID}", LOGIN_TOKEN, "rft.login-kit", APP_SECRET, CLIENT_SECRET)


@pytest.fixture
def tiktok(
    bed: PublisherBed, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TikTokBusiness]:
    from chorus.accounts.apps import get_apps

    env = {"CHORUS_TIKTOK_BUSINESS_API_URL": api_url(platform), "CHORUS_TIKTOK_BUSINESS_CLIENT_ID": APP_ID,
           "CHORUS_TIKTOK_BUSINESS_CLIENT_SECRET": APP_SECRET, "CHORUS_TIKTOK_API_URL": platform.url,
           "CHORUS_TIKTOK_CLIENT_ID": CLIENT_KEY, "CHORUS_TIKTOK_CLIENT_SECRET": CLIENT_SECRET}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_apps.cache_clear()  # type: ignore[attr-defined]
    knobs = tiktok_business_platform(platform, BUSINESS_ID, TOKEN)
    login_kit_revoke(platform)
    yield knobs
    get_apps.cache_clear()  # type: ignore[attr-defined]


def enabled(bed: PublisherBed) -> accounts.Account:
    """A TikTok account connected through Login Kit (a 24-hour token with its refresh token), then its
    comments enabled through the business app's authorisation (as the OAuth callback does it)."""
    account_id = bed.account("tiktok", BUSINESS_ID, token=LOGIN_TOKEN, refresh_token="rft.login-kit",
                             handle="chorus_cafe", extra={"scopes": "video.publish", "privacy_level": "SELF_ONLY"})  # fmt: skip
    admin = Principal(bed.workspace(), "adminkey1", Role.ADMIN)
    started = oauth.start_connect(admin, "tiktok_business", REDIRECT, account_id=account_id)
    (done,) = oauth.finish_connect("tiktok_business", "biz-code", started.state, admin)
    assert done.public()["comments"]["status"] == "active"
    return done


def ends_of(account: accounts.Account) -> datetime:
    return keys.parse_iso(account.public()["comments"]["expires_at"])


def hourly(at: datetime, events: InMemoryEventPublisher) -> list[str]:
    return list(expiry.on_the_hour(at.replace(minute=0, second=0, microsecond=0), events))


def no_secret_in(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# ------------------------------------------------------------------------------- the grant's end


def test_the_owner_is_warned_once_a_week_before_the_grant_ends(
    bed: PublisherBed, platform: FakePlatform, tiktok: TikTokBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    account = enabled(bed)
    ends = ends_of(account)  # refresh_token_expires_in: a year from the token answer
    assert timedelta(days=364) < ends - datetime.now(UTC) < timedelta(days=366)
    events = InMemoryEventPublisher()
    warn = ends - expiry.WARN_AHEAD
    # Before its day, nothing (and off the hour nothing is even read)
    assert hourly(warn - timedelta(hours=1), events) == []
    assert list(expiry.on_the_hour(warn + timedelta(hours=1, minutes=5), events)) == []
    # On its day the same alert as a token that cannot be refreshed, naming the grant
    assert hourly(warn + timedelta(hours=1), events) == [account.id]
    (event,) = events.events
    assert (event.name, event.workspace_id) == ("AccountTokenExpiring", bed.workspace())
    assert (event.data["account_id"], event.data["platform"], event.data["grant"]) == (
        account.id,
        "tiktok",
        GRANT,
    )
    assert (event.data["expires_at"], event.data["days_left"]) == (keys.iso(ends), 6)
    subject, text = render(event)
    assert subject == "Chorus: enable comments again for your tiktok account within 6 days"
    assert "Enable comments" in text
    assert keys.iso(ends) in text
    assert "Publishing is not affected" in text
    # The access token refreshed meanwhile (the same refresh token's end, a second apart): no new warning
    refreshes = len(platform.calls("POST", REFRESH))
    creds = grants.grant_credentials(
        accounts.get_account(bed.workspace(), account.id), now=warn + timedelta(hours=2)
    )
    assert creds.access_token == TOKEN
    assert len(platform.calls("POST", REFRESH)) == refreshes + 1
    assert abs(ends_of(accounts.get_account(bed.workspace(), account.id)) - ends) < timedelta(seconds=5)
    # Later runs up to the end never warn again
    for later in (warn + timedelta(hours=2), warn + timedelta(days=1), ends - timedelta(hours=1)):
        assert hourly(later, events) == []
    assert len(events.events) == 1
    no_secret_in(caplog.text + str(event.data) + text)


def test_a_new_end_gets_its_own_warning_and_a_dead_or_removed_grant_none(
    bed: PublisherBed, platform: FakePlatform, tiktok: TikTokBusiness
) -> None:
    account = enabled(bed)
    ends = ends_of(account)
    # Comments enabled again 30 days later: a new refresh token, a new end, its own warning day
    renewed = ends + timedelta(days=30)
    grants.store_grant(bed.workspace(), account.id, TokenSet(TOKEN, "rft.again"), "comment.list",
                       extra=accounts.get_account(bed.workspace(), account.id).extra, ends=renewed)  # fmt: skip
    events = InMemoryEventPublisher()
    assert hourly(ends - timedelta(days=6), events) == []  # the first end was replaced
    assert hourly(renewed - timedelta(days=6), events) == [account.id]
    assert events.events[0].data["expires_at"] == keys.iso(renewed)
    # A grant TikTok refused meanwhile is not warned (it already asks to enable comments again)
    grants.store_grant(bed.workspace(), account.id, TokenSet(TOKEN, "rft.third"), "comment.list",
                       extra=accounts.get_account(bed.workspace(), account.id).extra, ends=renewed + timedelta(days=30))  # fmt: skip
    grants.mark_needs_reauth(bed.workspace(), account.id, "revoked (error_code 40105)")
    assert hourly(renewed + timedelta(days=24), events) == []
    assert expiry.due((renewed + timedelta(days=24)).replace(minute=0)) == []  # and it left the index
    assert len(events.events) == 1


def test_after_the_grant_ended_comments_need_reauth_and_publishing_goes_on(
    bed: PublisherBed, platform: FakePlatform, tiktok: TikTokBusiness, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiktok_platform(platform, monkeypatch)  # the Content Posting API on the same fake
    account = enabled(bed)
    ends = ends_of(account)
    refreshes = len(platform.calls("POST", REFRESH))
    # Once the refresh token has expired, the account's comments show as needing a new authorisation
    shown = accounts.get_account(bed.workspace(), account.id)
    comments = grants.view("tiktok", shown.extra, now=ends + timedelta(minutes=1))
    assert comments is not None
    assert (comments["status"], comments["expires_at"]) == ("needs_reauth", keys.iso(ends))
    assert "ended" in comments["reason"]
    assert shown.public()["comments"]["status"] == "active"  # the day before, it was active
    # And the next use marks it so, without asking TikTok for anything
    creds = grants.grant_credentials(shown, now=ends + timedelta(minutes=1))
    assert creds.access_token == ""
    assert len(platform.calls("POST", REFRESH)) == refreshes
    after = accounts.get_account(bed.workspace(), account.id)
    assert after.status == "active"
    assert after.extra[grants.STATUS_KEY] == grants.NEEDS_REAUTH
    assert "ended" in after.extra[grants.REASON_KEY]
    # Publishing goes on with the Login Kit token
    post = bed.post(account.id, "Still posting", media=(MediaRef(mime_type="video/mp4", url=f"{platform.url}{VIDEO}",
                                                                 size=len(VIDEO_BYTES)),))  # fmt: skip
    bed.run_until_settled()
    assert bed.target(post, account.id).state is TargetState.PUBLISHED
    (init,) = platform.calls("POST", INIT)
    assert init.headers.get("Authorization") == f"Bearer {LOGIN_TOKEN}"


# ------------------------------------------------------------------------------------- removal


def remove(bed: PublisherBed, account_id: str) -> None:
    """``DELETE /accounts/{id}``'s domain call (nothing is revoked there: the API never decrypts), then
    the table's stream delivering the account's REMOVE record with its old image to its consumer."""
    image = AccountItem.get(keys.workspace_pk(bed.workspace()), keys.account_sk(account_id)).to_simple_dict()
    accounts.remove_account(bed.workspace(), account_id)
    with pytest.raises(NotFound):
        accounts.get_account(bed.workspace(), account_id)
    on_table_changes([("REMOVE", {}, image)], tell_live=lambda _: None)  # raises nothing: the batch succeeds
    with pytest.raises(NotFound):  # never written back
        accounts.get_account(bed.workspace(), account_id)


def test_removing_the_account_revokes_nothing_in_the_api(
    bed: PublisherBed, platform: FakePlatform, tiktok: TikTokBusiness
) -> None:
    account = enabled(bed)
    accounts.remove_account(bed.workspace(), account.id)
    assert [r.path for r in platform.requests if "revoke" in r.path] == []
    with pytest.raises(NotFound):
        accounts.get_account(bed.workspace(), account.id)


def test_removing_the_account_revokes_the_grant_then_the_login_kit_token_once_each(
    bed: PublisherBed, platform: FakePlatform, tiktok: TikTokBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    account = enabled(bed)
    remove(bed, account.id)
    (business,) = platform.calls("POST", REVOKE)
    assert business.json == {"client_id": APP_ID, "client_secret": APP_SECRET, "access_token": TOKEN}
    assert "Access-Token" not in business.headers
    (login,) = platform.calls("POST", LOGIN_REVOKE)
    assert login.form == {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET, "token": LOGIN_TOKEN}
    assert login.headers.get("Content-Type") == "application/x-www-form-urlencoded"
    assert [r.path for r in platform.requests if "revoke" in r.path] == [REVOKE, LOGIN_REVOKE]  # grant first
    assert [r["access_token"] for r in platform.records["revoke"]] == [TOKEN]
    with pytest.raises(NotFound):
        accounts.get_account(bed.workspace(), account.id)
    left = GrantWarningItem.count(
        keys.workspace_pk(bed.workspace()), range_key_condition=GrantWarningItem.sk.startswith("GRANTWARN#")
    )
    assert left == 0
    no_secret_in(caplog.text)


@pytest.mark.parametrize("fault", ["500", "timeout"])
def test_a_revoke_that_fails_is_logged_and_the_stream_batch_succeeds(
    bed: PublisherBed,
    platform: FakePlatform,
    tiktok: TikTokBusiness,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    caplog.set_level(logging.INFO)
    account = enabled(bed)
    for route in ("POST", REVOKE), ("POST", LOGIN_REVOKE):
        if fault == "500":
            platform.fail(*route, 500, {"code": 50000, "message": "System error"})
        else:
            platform.create_then_timeout(*route)
    remove(bed, account.id)
    # Each revoke was tried once (a failed revoke is not retried: the batch goes on)
    assert len(platform.calls("POST", REVOKE)) == 1
    assert len(platform.calls("POST", LOGIN_REVOKE)) == 1
    with pytest.raises(NotFound):
        accounts.get_account(bed.workspace(), account.id)
    failed = [r for r in caplog.records if r.getMessage() == "authorisation not revoked"]
    assert [r.__dict__["authorisation"] for r in failed] == [GRANT, "login"]
    assert all(r.__dict__["account_id"] == account.id for r in failed)
    no_secret_in(caplog.text + " ".join(str(r.__dict__) for r in caplog.records))


def test_an_account_without_a_grant_revokes_only_its_login_kit_token(
    bed: PublisherBed, platform: FakePlatform, tiktok: TikTokBusiness
) -> None:
    account_id = bed.account("tiktok", BUSINESS_ID, token=LOGIN_TOKEN, refresh_token="rft.login-kit")
    remove(bed, account_id)
    assert platform.calls("POST", REVOKE) == []
    assert [r.form["token"] for r in platform.calls("POST", LOGIN_REVOKE)] == [LOGIN_TOKEN]
    with pytest.raises(NotFound):
        accounts.get_account(bed.workspace(), account_id)


def test_an_expired_business_token_is_refreshed_before_it_is_revoked(
    bed: PublisherBed, platform: FakePlatform, tiktok: TikTokBusiness
) -> None:
    account = enabled(bed)
    # The poller stopped a day ago: the grant's 24-hour access token has expired since
    stale = TokenSet("act.stale", f"rft.{BUSINESS_ID}", datetime.now(UTC) - timedelta(hours=1))
    grants.store_grant(bed.workspace(), account.id, stale, "comment.list",
                       extra=accounts.get_account(bed.workspace(), account.id).extra)  # fmt: skip
    remove(bed, account.id)
    (refresh,) = platform.calls("POST", REFRESH)
    assert refresh.json["refresh_token"] == f"rft.{BUSINESS_ID}"
    assert [r.json["access_token"] for r in platform.calls("POST", REVOKE)] == [TOKEN]  # the fresh one
    with pytest.raises(NotFound):
        accounts.get_account(bed.workspace(), account.id)


def test_an_expired_login_kit_token_is_refreshed_in_memory_for_its_revoke_and_nothing_is_stored(
    bed: PublisherBed, platform: FakePlatform, tiktok: TikTokBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    platform.route("POST", "/v2/oauth/token/", lambda req, match: Reply(200, {
        "access_token": "act.fresh-login", "expires_in": 86400, "open_id": BUSINESS_ID, "refresh_expires_in": 31536000,
        "refresh_token": "rft.login-kit-2", "scope": "video.publish", "token_type": "Bearer"}))  # fmt: skip
    expired = TokenSet(LOGIN_TOKEN, "rft.login-kit", datetime.now(UTC) - timedelta(hours=1))
    account = accounts.connect_account(bed.workspace(), "tiktok", BUSINESS_ID, expired, handle="chorus_cafe",
                                       base_url=platform.url)  # fmt: skip
    remove(bed, account.id)  # asserts the account is not written back
    (refresh,) = platform.calls("POST", "/v2/oauth/token/")
    assert refresh.form["refresh_token"] == "rft.login-kit"
    assert [r.form["token"] for r in platform.calls("POST", LOGIN_REVOKE)] == ["act.fresh-login"]
    assert "token refreshed" not in caplog.text  # the refresh was not stored
    no_secret_in(caplog.text + " ".join(str(r.__dict__) for r in caplog.records))


def test_tokens_that_cannot_be_unsealed_are_logged_and_the_stream_batch_succeeds(
    bed: PublisherBed, platform: FakePlatform, tiktok: TikTokBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    account = enabled(bed)
    image = AccountItem.get(keys.workspace_pk(bed.workspace()), keys.account_sk(account.id)).to_simple_dict()
    accounts.remove_account(bed.workspace(), account.id)
    # KMS refuses (or the blob is damaged): neither authorisation can be unsealed
    damaged = {**image, "token_blob": "not-a-sealed-token-set", "grant_blob": "not-a-sealed-grant"}
    on_table_changes([("REMOVE", {}, damaged)], tell_live=lambda _: None)
    assert [r.path for r in platform.requests if "revoke" in r.path] == []
    failed = [r for r in caplog.records if r.getMessage() == "authorisation not revoked"]
    assert [r.__dict__["authorisation"] for r in failed] == [GRANT, "login"]
    with pytest.raises(NotFound):
        accounts.get_account(bed.workspace(), account.id)
    no_secret_in(caplog.text + " ".join(str(r.__dict__) for r in caplog.records))
