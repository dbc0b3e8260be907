"""Pinterest OAuth against the documented requests and answers (fixtures/platform_api/publishing/pinterest):
the authorize URL, the code exchange with HTTP Basic client authentication, the continuous refresh, the
connect flow through ``GET /accounts/connect/pinterest`` and ``/oauth/callback/pinterest`` with ownership
proven by ``/v5/user_account`` and the boards listed (the first chosen), and the errors."""

from __future__ import annotations

import base64
import json
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
from chorus.errors import BadRequest
from chorus.platforms.base import AuthError
from chorus.platforms.pinterest import oauth as pinterest
from tests.support import fixture_json, main_table_in_moto

WS = "ws-pinterest"
ADMIN = Principal(WS, "adminkey1", Role.ADMIN)
REDIRECT = "https://app.example/oauth/callback/pinterest"
API = "https://api.pinterest.com/v5"
APPS = OAuthApps(pinterest_client_id="pin-app", pinterest_client_secret="pin-secret")
BASIC = {"Authorization": "Basic " + base64.b64encode(b"pin-app:pin-secret").decode()}
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ACCESS = "{an access token string prefixed with 'pina'}"
REFRESH = "{a refresh token string prefixed with 'pinr'}"
# GET /v5/user_account (developers.pinterest.com/docs/api/v5/user_account-get: Account)
USER = {"account_type": "BUSINESS", "id": "549755885175", "username": "merleliukun", "business_name": "Merle"}


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/publishing/pinterest/{name}")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHORUS_PINTEREST_CLIENT_ID", "pin-app")
    monkeypatch.setenv("CHORUS_PINTEREST_CLIENT_SECRET", "pin-secret")
    with main_table_in_moto(monkeypatch, "chorus-oauth-pinterest"):
        yield


def token_exchange(rsps: responses.RequestsMock, code: str = "pin-code") -> None:
    rsps.post(
        f"{API}/oauth/token",
        json=doc("oauth_token_response_docs.json"),
        match=[matchers.header_matcher(BASIC), matchers.urlencoded_params_matcher(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
             "continuous_refresh": "true"})],
    )  # fmt: skip


def boards(rsps: responses.RequestsMock) -> None:
    """Two pages: the documented sample, then a second board after its bookmark."""
    bearer = matchers.header_matcher({"Authorization": f"Bearer {ACCESS}"})
    first = doc("boards_list_response_docs_sample.json")
    rsps.get(f"{API}/boards", json={**first, "bookmark": "b2"},
             match=[bearer, matchers.query_param_matcher({"page_size": "250"})])  # fmt: skip
    rsps.get(f"{API}/boards", json={"items": [{"id": "549755885176", "name": "Winter Soups"}], "bookmark": None},
             match=[bearer, matchers.query_param_matcher({"page_size": "250", "bookmark": "b2"})])  # fmt: skip


def test_the_authorize_url_asks_for_boards_and_pins() -> None:
    url = pinterest.authorize_url("pin-app", REDIRECT, "st4te")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.pinterest.com/oauth/"
    assert parse_qs(parts.query) == {
        "client_id": ["pin-app"],
        "redirect_uri": [REDIRECT],
        "response_type": ["code"],
        "scope": ["boards:read,pins:read,pins:write,user_accounts:read"],
        "state": ["st4te"],
    }


def test_the_code_exchange_authenticates_the_client_and_reads_the_documented_answer(
    rsps: responses.RequestsMock,
) -> None:
    token_exchange(rsps)
    granted = pinterest.exchange_code("pin-app", "pin-secret", REDIRECT, "pin-code", now=NOW)
    assert (granted.access_token, granted.refresh_token) == (ACCESS, REFRESH)
    assert granted.expires_at == NOW + timedelta(seconds=2592000)  # 30 days


def test_a_refresh_keeps_the_stored_refresh_token_when_none_comes_back(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{API}/oauth/token",
        json={
            "access_token": "pina-2",
            "token_type": "bearer",
            "expires_in": 2592000,
            "scope": "pins:read",
            "response_type": "refresh_token",
        },
        match=[
            matchers.header_matcher(BASIC),
            matchers.urlencoded_params_matcher({"grant_type": "refresh_token", "refresh_token": "pinr-1"}),
        ],
    )
    fresh = pinterest.refresh("pin-app", "pin-secret", "pinr-1", now=NOW)
    assert (fresh.access_token, fresh.refresh_token) == ("pina-2", "pinr-1")


def test_a_refused_refresh_token_means_the_account_must_authorise_again(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/oauth/token", json={"code": 1, "message": "Invalid refresh token."}, status=400)
    with pytest.raises(AuthError) as refused:
        pinterest.refresh("pin-app", "pin-secret", "pinr-dead")
    assert refused.value.message == "Invalid refresh token."


def test_connect_proves_the_account_lists_its_boards_and_chooses_the_first(
    aws: None, rsps: responses.RequestsMock
) -> None:
    # Given a connection started for Pinterest
    started = oauth.start_connect(ADMIN, "pinterest", REDIRECT, apps=APPS)
    assert parse_qs(urlsplit(started.authorize_url).query)["client_id"] == ["pin-app"]
    token_exchange(rsps)
    rsps.get(
        f"{API}/user_account",
        json=USER,
        match=[matchers.header_matcher({"Authorization": f"Bearer {ACCESS}"})],
    )
    boards(rsps)
    # When Pinterest sends the user back with a code
    (account,) = oauth.finish_connect("pinterest", "pin-code", started.state, ADMIN, apps=APPS)
    # Then the account is the one /v5/user_account names, with its boards and the first one chosen
    assert (account.platform, account.platform_account_id, account.handle, account.display_name) == (
        "pinterest", "549755885175", "merleliukun", "Merle")  # fmt: skip
    assert account.extra["board_id"] == "549755885175"
    assert json.loads(account.extra["boards"]) == [
        {"id": "549755885175", "name": "Summer Recipes"},
        {"id": "549755885176", "name": "Winter Soups"},
    ]
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    assert (creds.access_token, creds.refresh_token) == (ACCESS, REFRESH)
    assert creds.extra["board_id"] == "549755885175"


def test_a_refused_code_is_a_400_naming_the_code(aws: None, rsps: responses.RequestsMock) -> None:
    started = oauth.start_connect(ADMIN, "pinterest", REDIRECT, apps=APPS)
    rsps.post(f"{API}/oauth/token", json={"code": 1, "message": "Invalid authorization code."}, status=400)
    with pytest.raises(BadRequest) as refused:
        oauth.finish_connect("pinterest", "bad", started.state, ADMIN, apps=APPS)
    assert refused.value.errors[0].field == "code"
    assert "Invalid authorization code." in refused.value.detail


def test_a_token_connected_directly_is_proven_and_may_name_its_board(
    aws: None, rsps: responses.RequestsMock
) -> None:
    rsps.get(f"{API}/user_account", json=USER)
    rsps.get(
        f"{API}/boards",
        json={"items": [{"id": "1", "name": "A"}, {"id": "2", "name": "B"}], "bookmark": None},
    )
    claim = ownership.Claim("pinterest", "pina-x", extra={"board_id": "2"})
    account = ownership.connect_with_token(WS, claim, TokenSet("pina-x"), apps=APPS)
    assert (account.platform_account_id, account.extra["board_id"]) == ("549755885175", "2")


def test_a_token_for_another_account_than_the_one_named_is_refused(
    aws: None, rsps: responses.RequestsMock
) -> None:
    rsps.get(f"{API}/user_account", json=USER)
    rsps.get(f"{API}/boards", json={"items": [], "bookmark": None})
    with pytest.raises(ownership.NotTheOwner):
        ownership.prove(ownership.Claim("pinterest", "pina-x", platform_account_id="1"), apps=APPS)


def test_the_token_is_refreshed_ahead_of_expiry_and_a_new_refresh_token_stored(
    aws: None, rsps: responses.RequestsMock
) -> None:
    account = accounts.connect_or_reconnect(
        WS, "pinterest", "549755885175", TokenSet("pina-1", "pinr-1", datetime.now(UTC) + timedelta(minutes=5)),
        extra={"board_id": "1"},
    )  # fmt: skip
    rsps.post(
        f"{API}/oauth/token",
        json={
            "access_token": "pina-2",
            "refresh_token": "pinr-2",
            "token_type": "bearer",
            "expires_in": 2592000,
            "refresh_token_expires_in": 5184000,
            "scope": "pins:read",
        },
        match=[matchers.header_matcher(BASIC)],
    )
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    assert (creds.access_token, creds.refresh_token) == ("pina-2", "pinr-2")
