"""The Bluesky token refresher: refreshSession first, a new session with the stored app password when
the refresh JWT is refused. Found by the end-to-end suite: without it the inbox poller and the metrics
collector met an expired access token and marked the account for re-authorisation."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from chorus.accounts.refreshers import refresher_for
from chorus.accounts.tokens import TokenSet
from chorus.platforms.base import AccountCredentials, AuthError

PDS = "http://127.0.0.1:2583"
EXP = 1_760_000_000


def jwt(exp: int) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJFUzI1NksifQ.{payload}.c2ln"


def creds(
    refresh_token: str | None = "r1", app_password: str | None = "abcd-efgh-ijkl-mnop"
) -> AccountCredentials:
    return AccountCredentials(
        platform="bluesky",
        account_id="did:plc:brand",
        access_token="expired",
        refresh_token=refresh_token,
        handle="brand.test",
        base_url=PDS,
        extra={"app_password": app_password} if app_password else {},
    )


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def refresh(c: AccountCredentials) -> TokenSet | None:
    fn = refresher_for("bluesky", session=requests.Session())
    assert fn is not None
    return fn(c)


def test_an_expired_session_is_refreshed_on_the_accounts_pds(rsps: responses.RequestsMock) -> None:
    # Given a PDS that accepts the refresh JWT
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.refreshSession",
        json={"did": "did:plc:brand", "handle": "brand.test", "accessJwt": jwt(EXP), "refreshJwt": "r2"},
        match=[matchers.header_matcher({"Authorization": "Bearer r1"})],
    )
    # When the account's tokens are refreshed
    fresh = refresh(creds())
    # Then the new session's tokens and expiry come back
    assert fresh == TokenSet(jwt(EXP), "r2", datetime.fromtimestamp(EXP, UTC))


def test_a_refused_refresh_jwt_opens_a_new_session_with_the_app_password(
    rsps: responses.RequestsMock,
) -> None:
    # Given the PDS refuses the refresh JWT but accepts the app password
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.refreshSession",
        status=400,
        json={"error": "ExpiredToken", "message": "Token has expired"},
    )
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.createSession",
        json={"did": "did:plc:brand", "handle": "brand.test", "accessJwt": jwt(EXP), "refreshJwt": "r3"},
        match=[matchers.json_params_matcher({"identifier": "brand.test", "password": "abcd-efgh-ijkl-mnop"})],
    )
    # When refreshed, then a new session is opened
    fresh = refresh(creds())
    assert fresh is not None
    assert fresh.refresh_token == "r3"


def test_a_revoked_app_password_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    # Given both the refresh JWT and the app password are refused (the app password was revoked)
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.refreshSession",
        status=400,
        json={"error": "ExpiredToken", "message": "Token has been revoked"},
    )
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.createSession",
        status=401,
        json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
    )
    # Then the refresher says the grant is dead
    with pytest.raises(AuthError, match="Invalid identifier or password"):
        refresh(creds())


def test_without_refresh_token_or_app_password_there_is_nothing_to_refresh_with() -> None:
    assert refresh(creds(refresh_token=None, app_password=None)) is None
