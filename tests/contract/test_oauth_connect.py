"""Connecting accounts by OAuth and refreshing their tokens, against the platforms' documented
requests and answers (``responses``; DynamoDB and KMS in moto)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from chorus.accounts import oauth
from chorus.accounts import service as accounts
from chorus.accounts.apps import OAuthApps
from chorus.accounts.tokens import TokenSet
from chorus.auth.keys import Principal
from chorus.auth.roles import Role
from chorus.errors import BadRequest, ChorusError, Forbidden, ValidationFailed
from chorus.platforms.base import AuthError
from tests.support import main_table_in_moto

WS = "ws-oauth"
ADMIN = Principal(WS, "adminkey1", Role.ADMIN)  # the API key that starts (and so finishes) flows
REDIRECT = "https://app.example/oauth/callback/x"
X_TOKEN = "https://api.x.com/2/oauth2/token"
X_ME = "https://api.x.com/2/users/me"
GRAPH = "https://graph.facebook.com/v21.0"
INSTANCE = "https://mastodon.example"
APPS = OAuthApps(
    x_client_id="x-cid",
    x_client_secret="x-secret",
    facebook_client_id="meta-app",
    facebook_client_secret="meta-secret",
)
# X API v2 GET /2/users/me (docs.x.com "Get my User" example answer)
X_USER = {"data": {"id": "2244994945", "name": "X Dev", "username": "TwitterDev"}}
X_TOKENS = {
    "token_type": "bearer",
    "expires_in": 7200,
    "access_token": "x-access-1",
    "scope": "tweet.write users.read offline.access",
    "refresh_token": "x-refresh-1",
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("X_CLIENT_ID", "X_CLIENT_SECRET", "FACEBOOK_CLIENT_ID", "FACEBOOK_CLIENT_SECRET"):
        monkeypatch.setenv(f"CHORUS_{name}", getattr(APPS, name.lower()))
    with main_table_in_moto(monkeypatch, "chorus-oauth-test"):
        yield


@pytest.fixture
def rsps(aws: None) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def form_of(rsps: responses.RequestsMock, index: int) -> dict[str, list[str]]:
    """The urlencoded form body of the ``index``-th request."""
    raw = rsps.calls[index].request.body
    return parse_qs(raw.decode() if isinstance(raw, bytes) else str(raw))


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def stored_tokens(account: accounts.Account) -> tuple[str, str | None, datetime | None]:
    """(access, refresh, expires_at) as stored, decrypted."""
    creds = accounts.credentials(accounts.get_account(account.workspace_id, account.id))
    return (creds.access_token, creds.refresh_token, creds.expires_at)


def connect_x(rsps: responses.RequestsMock, code: str = "code-1") -> accounts.Account:
    started = oauth.start_connect(ADMIN, "x", REDIRECT, apps=APPS)
    rsps.post(X_TOKEN, json=X_TOKENS)
    rsps.get(X_ME, json=X_USER, match=[matchers.header_matcher({"Authorization": "Bearer x-access-1"})])
    return oauth.finish_connect("x", code, started.state, ADMIN, apps=APPS)[0]


# ---------------------------------------------------------------------------------------------- X


def test_x_connect_sends_the_pkce_verifier_of_the_challenge_and_stores_the_user_encrypted(
    rsps: responses.RequestsMock,
) -> None:
    # Given a connection started for X
    started = oauth.start_connect(ADMIN, "x", REDIRECT, apps=APPS)
    challenge = query_of(started.authorize_url)["code_challenge"][0]
    assert query_of(started.authorize_url)["state"] == [started.state]
    rsps.post(X_TOKEN, json=X_TOKENS)
    rsps.get(X_ME, json=X_USER, match=[matchers.header_matcher({"Authorization": "Bearer x-access-1"})])
    # When X sends the user back with a code
    connected = oauth.finish_connect("x", "code-1", started.state, ADMIN, apps=APPS)
    # Then the token request proved the PKCE verifier behind the challenge, as a confidential client
    form = form_of(rsps, 0)
    verifier = form["code_verifier"][0]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert digest == challenge
    assert form["grant_type"] == ["authorization_code"]
    assert form["redirect_uri"] == [REDIRECT]
    assert rsps.calls[0].request.headers["Authorization"].startswith("Basic ")
    # And the account is the user /2/users/me named, its tokens stored encrypted
    assert [(a.platform, a.platform_account_id, a.handle) for a in connected] == [
        ("x", "2244994945", "TwitterDev")
    ]
    assert "x-access-1" not in (connected[0].token_blob or "")
    assert stored_tokens(connected[0])[:2] == ("x-access-1", "x-refresh-1")


def test_a_state_is_bound_to_the_api_key_that_started_the_flow(rsps: responses.RequestsMock) -> None:
    # Given a flow started by one admin key (its authorize URL handed to someone else's browser)
    started = oauth.start_connect(ADMIN, "x", REDIRECT, apps=APPS)
    rsps.post(X_TOKEN, json=X_TOKENS)
    rsps.get(X_ME, json=X_USER)
    # When another key, even of the same workspace and role, brings the code and state back
    with pytest.raises(Forbidden) as refused:
        oauth.finish_connect("x", "code-1", started.state, Principal(WS, "otherkey1", Role.OWNER), apps=APPS)
    # Then it is refused naming the state, nothing went to X, and the state is left for its owner
    assert refused.value.errors[0].field == "state"
    assert not rsps.calls
    assert oauth.finish_connect("x", "code-1", started.state, ADMIN, apps=APPS)[0].platform_account_id == (
        "2244994945"
    )


def test_a_state_is_spent_once(rsps: responses.RequestsMock) -> None:
    started = oauth.start_connect(ADMIN, "x", REDIRECT, apps=APPS)
    rsps.post(X_TOKEN, json=X_TOKENS)
    rsps.get(X_ME, json=X_USER)
    oauth.finish_connect("x", "code-1", started.state, ADMIN, apps=APPS)
    # When the same state comes back a second time
    with pytest.raises(BadRequest) as refused:
        oauth.finish_connect("x", "code-1", started.state, ADMIN, apps=APPS)
    # Then it is refused naming the state, and no second token request went out
    assert refused.value.errors[0].field == "state"
    assert len([c for c in rsps.calls if c.request.url == X_TOKEN]) == 1


def test_an_expired_or_unknown_or_foreign_state_is_refused(aws: None) -> None:
    now = datetime.now(UTC)
    late = oauth.start_connect(ADMIN, "x", REDIRECT, apps=APPS, now=now - timedelta(minutes=11))
    other = oauth.start_connect(ADMIN, "facebook", REDIRECT, apps=APPS)
    for state, platform, words in (
        (late.state, "x", "expired"),
        ("never-issued", "x", "unknown"),
        (other.state, "x", "facebook"),
    ):
        with pytest.raises(BadRequest) as refused:
            oauth.finish_connect(platform, "code", state, ADMIN, apps=APPS)
        assert refused.value.errors[0].field == "state"
        assert words in refused.value.detail


def test_the_state_carries_a_ten_minute_ttl(aws: None) -> None:
    from chorus.store import keys

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    started = oauth.start_connect(ADMIN, "x", REDIRECT, apps=APPS, now=now)
    item = oauth.OAuthStateItem.get(keys.oauth_state_pk(started.state), oauth.oauth_state_sk())
    assert item.expires_at == now + timedelta(minutes=10)
    assert item.workspace_id == WS
    assert item.code_verifier


def test_connecting_the_same_x_user_again_reauthorises_the_account(rsps: responses.RequestsMock) -> None:
    first = connect_x(rsps)
    accounts.mark_needs_reauth(WS, first.id, "revoked")
    rsps.reset()
    started = oauth.start_connect(ADMIN, "x", REDIRECT, apps=APPS)
    rsps.post(X_TOKEN, json={**X_TOKENS, "access_token": "x-access-2", "refresh_token": "x-refresh-2"})
    rsps.get(X_ME, json=X_USER)
    again = oauth.finish_connect("x", "code-2", started.state, ADMIN, apps=APPS)[0]
    assert again.id == first.id
    assert again.status == "active"
    assert [a.id for a in accounts.list_accounts(WS)] == [first.id]
    assert stored_tokens(again)[:2] == ("x-access-2", "x-refresh-2")


def test_a_refused_code_is_a_400_naming_the_code(rsps: responses.RequestsMock) -> None:
    started = oauth.start_connect(ADMIN, "x", REDIRECT, apps=APPS)
    rsps.post(
        X_TOKEN,
        status=400,
        json={
            "error": "invalid_request",
            "error_description": "Value passed for the authorization code was invalid.",
        },
    )
    with pytest.raises(BadRequest) as refused:
        oauth.finish_connect("x", "bad", started.state, ADMIN, apps=APPS)
    assert refused.value.errors[0].field == "code"
    assert "authorization code was invalid" in refused.value.detail


def test_platforms_without_oauth_or_without_app_credentials_are_refused(aws: None) -> None:
    with pytest.raises(ValidationFailed) as bluesky:
        oauth.start_connect(ADMIN, "bluesky", REDIRECT, apps=APPS)
    assert bluesky.value.errors[0].field == "platform"
    assert "app password" in bluesky.value.detail
    with pytest.raises(ValidationFailed) as unconfigured:
        oauth.start_connect(ADMIN, "x", REDIRECT, apps=OAuthApps(x_client_id=""))
    assert "CHORUS_X_CLIENT_ID" in unconfigured.value.detail
    with pytest.raises(ValidationFailed) as insecure:
        oauth.start_connect(ADMIN, "x", "http://app.example/cb", apps=APPS)
    assert insecure.value.errors[0].field == "redirect_uri"


# ---------------------------------------------------------------------------------------- Mastodon


def test_mastodon_registers_an_app_on_the_instance_and_keeps_it_on_the_account(
    rsps: responses.RequestsMock,
) -> None:
    # Given an instance that registers apps (POST /api/v1/apps, docs.joinmastodon.org/methods/apps)
    rsps.post(
        f"{INSTANCE}/api/v1/apps",
        json={
            "id": "563419",
            "name": "Chorus",
            "website": None,
            "redirect_uri": REDIRECT,
            "client_id": "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM",
            "client_secret": "ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw",
            "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=",
        },
    )
    started = oauth.start_connect(ADMIN, "mastodon", REDIRECT, base_url=INSTANCE + "/", apps=APPS)
    registered = form_of(rsps, 0)
    assert registered["redirect_uris"] == [REDIRECT]
    assert started.authorize_url.startswith(f"{INSTANCE}/oauth/authorize?")
    assert query_of(started.authorize_url)["client_id"] == ["TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM"]
    rsps.post(
        f"{INSTANCE}/oauth/token",
        json={
            "access_token": "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0",
            "token_type": "Bearer",
            "scope": "read write",
            "created_at": 1573979017,
        },
    )
    # verify_credentials (docs.joinmastodon.org/methods/accounts/#verify_credentials), trimmed
    rsps.get(
        f"{INSTANCE}/api/v1/accounts/verify_credentials",
        json={"id": "14715", "username": "trwnh", "acct": "trwnh", "display_name": "infinite love ⴳ"},
        match=[
            matchers.header_matcher({"Authorization": "Bearer ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"})
        ],
    )
    # When the user comes back with a code
    account = oauth.finish_connect("mastodon", "mcode", started.state, ADMIN, apps=APPS)[0]
    # Then the token request used the instance's app, and the account keeps it for refreshes
    token_form = form_of(rsps, 1)
    assert token_form["client_secret"] == ["ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw"]
    assert (account.platform_account_id, account.handle, account.base_url) == (
        "14715",
        "trwnh@mastodon.example",
        INSTANCE,
    )
    assert account.extra["client_id"] == "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM"


def test_mastodon_needs_the_instance_url(aws: None) -> None:
    with pytest.raises(ValidationFailed) as refused:
        oauth.start_connect(ADMIN, "mastodon", REDIRECT, apps=APPS)
    assert refused.value.errors[0].field == "base_url"


# ------------------------------------------------------------------------------ Facebook, Instagram

PAGES: dict[str, Any] = {
    "data": [
        {
            "id": "1111",
            "name": "Brand Page",
            "access_token": "page-token-1",
            "instagram_business_account": {"id": "17841400000000001"},
        },
        {"id": "2222", "name": "Side Page", "access_token": "page-token-2"},
    ],
    "paging": {"cursors": {"before": "MTExMQ", "after": "MjIyMg"}},
}


def meta_tokens(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{GRAPH}/oauth/access_token",
        json={"access_token": "user-short", "token_type": "bearer", "expires_in": 5183944},
        match=[matchers.query_param_matcher({"code": "fcode"}, strict_match=False)],
    )
    rsps.get(
        f"{GRAPH}/oauth/access_token",
        json={"access_token": "user-long", "token_type": "bearer", "expires_in": 5183944},
        match=[matchers.query_param_matcher({"fb_exchange_token": "user-short"}, strict_match=False)],
    )


def test_facebook_connects_every_granted_page_with_its_page_token(rsps: responses.RequestsMock) -> None:
    started = oauth.start_connect(ADMIN, "facebook", REDIRECT, apps=APPS)
    assert query_of(started.authorize_url)["client_id"] == ["meta-app"]
    meta_tokens(rsps)
    rsps.get(f"{GRAPH}/me/accounts", json=PAGES)
    connected = oauth.finish_connect("facebook", "fcode", started.state, ADMIN, apps=APPS)
    assert [(a.platform_account_id, a.display_name) for a in connected] == [
        ("1111", "Brand Page"),
        ("2222", "Side Page"),
    ]
    # The page token is what publishes; the long-lived user token stays as the refresh token
    assert stored_tokens(connected[1])[:2] == ("page-token-2", "user-long")


def test_instagram_connects_only_pages_with_a_linked_professional_account(
    rsps: responses.RequestsMock,
) -> None:
    started = oauth.start_connect(ADMIN, "instagram", REDIRECT, apps=APPS)
    meta_tokens(rsps)
    rsps.get(f"{GRAPH}/me/accounts", json=PAGES)
    connected = oauth.finish_connect("instagram", "fcode", started.state, ADMIN, apps=APPS)
    assert [(a.platform, a.platform_account_id, a.extra["page_id"]) for a in connected] == [
        ("instagram", "17841400000000001", "1111")
    ]
    assert stored_tokens(connected[0])[0] == "page-token-1"


# ---------------------------------------------------------------------------------------- refresh


def test_an_x_refresh_without_a_refresh_token_keeps_the_stored_one(rsps: responses.RequestsMock) -> None:
    account = connect_x(rsps)
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    # Given X answers a refresh with a new access token but no refresh token
    rsps.post(
        X_TOKEN,
        json={"token_type": "bearer", "expires_in": 7200, "access_token": "x-access-2", "refresh_token": ""},
        match=[
            matchers.urlencoded_params_matcher(
                {"grant_type": "refresh_token", "refresh_token": "x-refresh-1", "client_id": "x-cid"}
            )
        ],
    )
    # When the publisher asks for credentials newer than the refused ones
    fresh = accounts.refreshed_credentials(accounts.get_account(WS, account.id), creds)
    # Then the new access token is used and stored, and the stored refresh token survives
    assert fresh is not None
    assert fresh.access_token == "x-access-2"
    assert stored_tokens(account)[:2] == ("x-access-2", "x-refresh-1")


def test_credentials_refresh_ahead_of_expiry_and_store_the_new_token(rsps: responses.RequestsMock) -> None:
    account = connect_x(rsps)
    soon = datetime.now(UTC) + timedelta(hours=2) - timedelta(minutes=5)
    rsps.post(X_TOKEN, json={**X_TOKENS, "access_token": "x-access-3", "refresh_token": "x-refresh-3"})
    creds = accounts.credentials(accounts.get_account(WS, account.id), now=soon)
    assert (creds.access_token, creds.refresh_token) == ("x-access-3", "x-refresh-3")
    assert stored_tokens(account)[:2] == ("x-access-3", "x-refresh-3")


def test_a_failed_refresh_ahead_of_expiry_keeps_the_current_token(rsps: responses.RequestsMock) -> None:
    account = connect_x(rsps)
    soon = datetime.now(UTC) + timedelta(hours=2) - timedelta(minutes=5)
    rsps.post(X_TOKEN, status=503, json={"title": "Service Unavailable"})
    creds = accounts.credentials(accounts.get_account(WS, account.id), now=soon)
    assert creds.access_token == "x-access-1"


def test_a_refused_refresh_raises_auth_error_unless_another_worker_refreshed_first(
    rsps: responses.RequestsMock,
) -> None:
    account = connect_x(rsps)
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    rsps.post(
        X_TOKEN,
        status=400,
        json={"error": "invalid_grant", "error_description": "Value passed for the token was invalid."},
    )
    with pytest.raises(AuthError):
        accounts.refreshed_credentials(accounts.get_account(WS, account.id), creds)
    # Another worker stored a new token meanwhile: that one is used, without asking X again
    accounts.store_tokens(accounts.get_account(WS, account.id), TokenSet("x-access-9", "x-refresh-9"))
    calls = len(rsps.calls)
    fresh = accounts.refreshed_credentials(accounts.get_account(WS, account.id), creds)
    assert fresh is not None
    assert fresh.access_token == "x-access-9"
    assert len(rsps.calls) == calls


def test_a_facebook_refresh_extends_the_user_token_and_reads_the_page_token_again(
    rsps: responses.RequestsMock,
) -> None:
    started = oauth.start_connect(ADMIN, "facebook", REDIRECT, apps=APPS)
    meta_tokens(rsps)
    rsps.get(f"{GRAPH}/me/accounts", json=PAGES)
    page = oauth.finish_connect("facebook", "fcode", started.state, ADMIN, apps=APPS)[0]
    creds = accounts.credentials(accounts.get_account(WS, page.id))
    rsps.reset()
    rsps.get(
        f"{GRAPH}/oauth/access_token",
        json={"access_token": "user-longer", "token_type": "bearer", "expires_in": 5183944},
        match=[matchers.query_param_matcher({"fb_exchange_token": "user-long"}, strict_match=False)],
    )
    renewed: dict[str, Any] = {**PAGES, "data": [{**PAGES["data"][0], "access_token": "page-token-new"}]}
    rsps.get(f"{GRAPH}/me/accounts", json=renewed)
    fresh = accounts.refreshed_credentials(accounts.get_account(WS, page.id), creds)
    assert fresh is not None
    assert (fresh.access_token, fresh.refresh_token) == (
        "page-token-new",
        "user-longer",
    )


def test_a_mastodon_account_without_a_refresh_token_has_nothing_to_refresh(aws: None) -> None:
    account = accounts.connect_account(
        WS,
        "mastodon",
        "14715",
        TokenSet("m-access"),
        base_url=INSTANCE,
        extra={"client_id": "c", "client_secret": "s"},
    )
    creds = accounts.credentials(account)
    assert accounts.refreshed_credentials(account, creds) is None


def test_a_mastodon_refresh_uses_the_app_registered_on_the_instance(rsps: responses.RequestsMock) -> None:
    account = accounts.connect_account(
        WS,
        "mastodon",
        "14715",
        TokenSet("m-access", "m-refresh"),
        base_url=INSTANCE,
        extra={"client_id": "inst-cid", "client_secret": "inst-secret"},
    )
    rsps.post(
        f"{INSTANCE}/oauth/token",
        json={"access_token": "m-access-2", "token_type": "Bearer", "scope": "read write", "created_at": 1},
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": "m-refresh",
                    "client_id": "inst-cid",
                    "client_secret": "inst-secret",
                }
            )
        ],
    )
    fresh = accounts.refreshed_credentials(account, accounts.credentials(account))
    assert fresh is not None
    assert (fresh.access_token, fresh.refresh_token) == ("m-access-2", "m-refresh")


def test_bluesky_session_tokens_are_stored_when_the_adapter_refreshed_them(aws: None) -> None:
    from chorus.accounts.refreshers import session_tokens

    account = accounts.connect_account(WS, "bluesky", "did:plc:abc", TokenSet("old-jwt", "old-refresh"))
    creds = accounts.credentials(account)

    class Session:
        access_jwt = "new.eyJleHAiOjQxMDI0NDQ4MDB9.sig"  # exp 2100-01-01
        refresh_jwt = None

    class Adapter:
        def session_for(self, _: object) -> Session:
            return Session()

    assert accounts.remember_tokens(account, creds, session_tokens(Adapter(), creds))
    access, refresh, expires_at = stored_tokens(account)
    assert access == Session.access_jwt
    assert refresh == "old-refresh"  # an absent refresh JWT never erases the stored one
    assert expires_at == datetime(2100, 1, 1, tzinfo=UTC)
    # The same tokens again: nothing to store
    now_held = accounts.credentials(accounts.get_account(WS, account.id))
    assert not accounts.remember_tokens(account, now_held, session_tokens(Adapter(), now_held))


def test_a_token_endpoint_outage_is_a_502_not_a_crash(rsps: responses.RequestsMock) -> None:
    started = oauth.start_connect(ADMIN, "x", REDIRECT, apps=APPS)
    rsps.post(X_TOKEN, status=503, json={"title": "Service Unavailable", "detail": "try later"})
    with pytest.raises(ChorusError) as outage:
        oauth.finish_connect("x", "code-1", started.state, ADMIN, apps=APPS)
    assert outage.value.status == 502
