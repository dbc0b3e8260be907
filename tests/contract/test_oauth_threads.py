"""Threads OAuth against Meta's documented requests and answers (fixtures/platform_api/publishing/threads):
the authorize URL, the code exchange (short-lived token, user_id above 2^53), the long-lived exchange,
the refresh, the connect flow through ``GET /accounts/connect/threads`` and ``/oauth/callback/threads``
with ownership proven by ``/me``, and a refused code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from chorus.accounts import oauth, ownership
from chorus.accounts import service as accounts
from chorus.accounts.apps import OAuthApps
from chorus.accounts.tokens import TokenSet
from chorus.auth.keys import Principal
from chorus.auth.roles import Role
from chorus.errors import BadRequest, ValidationFailed
from chorus.platforms.base import AuthError, PermanentError
from chorus.platforms.threads import oauth as threads
from tests.support import fixture_json, main_table_in_moto

WS = "ws-threads"
ADMIN = Principal(WS, "adminkey1", Role.ADMIN)
REDIRECT = "https://app.example/oauth/callback/threads"
HOST = "https://graph.threads.net"
API = f"{HOST}/v1.0"
APPS = OAuthApps(threads_client_id="th-app", threads_client_secret="th-secret")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ME = {"id": "17841405793187218", "username": "chorus_cafe", "name": "Chorus Café"}


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/publishing/threads/{name}")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHORUS_THREADS_CLIENT_ID", "th-app")
    monkeypatch.setenv("CHORUS_THREADS_CLIENT_SECRET", "th-secret")
    with main_table_in_moto(monkeypatch, "chorus-oauth-threads"):
        yield


def tokens(rsps: responses.RequestsMock, code: str = "th-code") -> None:
    """The documented answers: the code's short-lived token, then the long-lived one."""
    rsps.post(
        f"{HOST}/oauth/access_token",
        json=doc("oauth_short_lived_token_response.json"),
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "client_id": "th-app",
                    "client_secret": "th-secret",
                    "grant_type": "authorization_code",
                    "redirect_uri": REDIRECT,
                    "code": code,
                }
            )
        ],
    )
    rsps.get(
        f"{HOST}/access_token",
        json=doc("long_lived_token_response.json"),
        match=[
            matchers.query_param_matcher(
                {"grant_type": "th_exchange_token", "client_secret": "th-secret", "access_token": "THQVJ..."}
            )
        ],
    )


def test_the_authorize_url_asks_for_the_publishing_and_insights_scopes() -> None:
    url = threads.authorize_url("th-app", REDIRECT, "st4te")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://threads.net/oauth/authorize"
    assert parse_qs(parts.query) == {
        "client_id": ["th-app"],
        "redirect_uri": [REDIRECT],
        "scope": [
            "threads_basic,threads_content_publish,threads_manage_replies,threads_read_replies,"
            "threads_manage_insights"
        ],
        "response_type": ["code"],
        "state": ["st4te"],
    }


def test_the_code_is_traded_for_a_long_lived_token_and_the_user_id_is_read_exactly(
    rsps: responses.RequestsMock,
) -> None:
    tokens(rsps)
    user_id, granted = threads.exchange_code("th-app", "th-secret", REDIRECT, "th-code", now=NOW)
    # user_id is a JSON number above 2^53: read as the exact digits, never a float
    assert user_id == "17841405793187218"
    assert granted.access_token == "<LONG_LIVED_USER_ACCESS_TOKEN>"
    assert granted.expires_at == NOW + timedelta(seconds=5183944)
    assert granted.refresh_token is None


def test_a_refused_code_keeps_threads_message(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{HOST}/oauth/access_token", json=doc("oauth_token_error_rejected.json"), status=400)
    with pytest.raises(PermanentError) as refused:
        threads.exchange_code("th-app", "th-secret", REDIRECT, "used-code")
    assert refused.value.message == "Matching code was not found or was already used"
    assert refused.value.code == "400"  # the body's code


def test_refresh_trades_the_long_lived_token_for_a_new_one(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{HOST}/refresh_access_token",
        json=doc("long_lived_token_response.json"),
        match=[matchers.query_param_matcher({"grant_type": "th_refresh_token", "access_token": "old-long"})],
    )
    fresh = threads.refresh("old-long", now=NOW)
    assert (fresh.access_token, fresh.expires_at) == (
        "<LONG_LIVED_USER_ACCESS_TOKEN>",
        NOW + timedelta(seconds=5183944),
    )


def test_an_expired_token_refused_at_refresh_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{HOST}/refresh_access_token",
        json={
            "error": {
                "message": "Error validating access token: Session has expired",
                "type": "OAuthException",
                "code": 190,
            }
        },
        status=400,
    )
    with pytest.raises(AuthError):
        threads.refresh("expired")


def test_connect_proves_the_profile_with_me_and_stores_the_long_lived_token(
    aws: None, rsps: responses.RequestsMock
) -> None:
    # Given a connection started for Threads
    started = oauth.start_connect(ADMIN, "threads", REDIRECT, apps=APPS)
    assert parse_qs(urlsplit(started.authorize_url).query)["state"] == [started.state]
    tokens(rsps)
    rsps.get(f"{API}/me", json=ME, match=[
        matchers.header_matcher({"Authorization": "Bearer <LONG_LIVED_USER_ACCESS_TOKEN>"}),
        matchers.query_param_matcher({"fields": "id,username,name"}),
    ])  # fmt: skip
    # When Threads sends the user back with a code
    (account,) = oauth.finish_connect("threads", "th-code", started.state, ADMIN, apps=APPS)
    # Then the account is the profile /me names, its long-lived token stored encrypted with its expiry
    assert (account.platform, account.platform_account_id, account.handle) == (
        "threads", "17841405793187218", "chorus_cafe")  # fmt: skip
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    assert creds.access_token == "<LONG_LIVED_USER_ACCESS_TOKEN>"
    assert creds.refresh_token == creds.access_token  # refreshed with itself: kept as its own refresh token
    assert creds.expires_at is not None
    assert creds.expires_at > datetime.now(UTC) + timedelta(days=59)
    assert "<LONG_LIVED" not in (account.token_blob or "")


def test_connect_with_a_refused_code_is_a_400_naming_the_code(
    aws: None, rsps: responses.RequestsMock
) -> None:
    started = oauth.start_connect(ADMIN, "threads", REDIRECT, apps=APPS)
    rsps.post(f"{HOST}/oauth/access_token", json=doc("oauth_token_error_rejected.json"), status=400)
    with pytest.raises(BadRequest) as refused:
        oauth.finish_connect("threads", "used", started.state, ADMIN, apps=APPS)
    assert refused.value.errors[0].field == "code"
    assert "Matching code was not found" in refused.value.detail


def test_connect_without_the_threads_app_configured_is_refused(aws: None) -> None:
    with pytest.raises(ValidationFailed) as refused:
        oauth.start_connect(
            ADMIN, "threads", REDIRECT, apps=OAuthApps(threads_client_id="", threads_client_secret="")
        )
    assert "CHORUS_THREADS_CLIENT_ID" in refused.value.detail


def test_a_token_for_another_profile_than_the_one_named_is_refused(
    aws: None, rsps: responses.RequestsMock
) -> None:
    rsps.get(f"{API}/me", json=ME)
    claim = ownership.Claim("threads", "tok", platform_account_id="999")
    with pytest.raises(ownership.NotTheOwner):
        ownership.prove(claim, apps=APPS)


def test_the_token_is_refreshed_ahead_of_expiry_with_th_refresh_token(
    aws: None, rsps: responses.RequestsMock
) -> None:
    # Given a connected profile whose long-lived token expires in five minutes
    account = accounts.connect_or_reconnect(
        WS,
        "threads",
        "17841405793187218",
        TokenSet("old-long", "old-long", datetime.now(UTC) + timedelta(minutes=5)),
    )
    rsps.get(
        f"{HOST}/refresh_access_token",
        json=doc("long_lived_token_response.json"),
        match=[matchers.query_param_matcher({"grant_type": "th_refresh_token", "access_token": "old-long"})],
    )
    # When its credentials are read
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    # Then the refreshed token is used and stored, good for 60 more days
    assert creds.access_token == "<LONG_LIVED_USER_ACCESS_TOKEN>"
    stored = accounts.credentials(accounts.get_account(WS, account.id))
    assert (stored.access_token, stored.refresh_token) == ("<LONG_LIVED_USER_ACCESS_TOKEN>",) * 2
    assert stored.expires_at is not None
    assert stored.expires_at > datetime.now(UTC) + timedelta(days=59)
