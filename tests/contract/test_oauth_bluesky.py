"""Bluesky account connection with an app password (createSession / refreshSession)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import responses
from responses import matchers

from chorus.platforms.base import AuthError
from chorus.platforms.bluesky.oauth import login, refresh

PDS = "https://pds.example"
EXP = 1_760_000_000


def jwt(exp: int) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJFUzI1NksifQ.{payload}.c2ln"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def test_login_returns_did_handle_and_tokens_with_expiry(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.createSession",
        json={"did": "did:plc:abc", "handle": "me.example", "accessJwt": jwt(EXP), "refreshJwt": "r1"},
        match=[matchers.json_params_matcher({"identifier": "me.example", "password": "aaaa-bbbb-cccc-dddd"})],
    )
    account = login("me.example", "aaaa-bbbb-cccc-dddd", base_url=PDS)
    assert account.did == "did:plc:abc"
    assert account.tokens.refresh_token == "r1"
    assert account.tokens.expires_at == datetime.fromtimestamp(EXP, UTC)


def test_a_wrong_app_password_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.createSession",
        status=401,
        json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
    )
    with pytest.raises(AuthError, match="Invalid identifier or password"):
        login("me.example", "wrong", base_url=PDS)


def test_refresh_uses_the_refresh_jwt_and_an_expired_one_needs_login(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.refreshSession",
        json={"did": "did:plc:abc", "handle": "me.example", "accessJwt": jwt(EXP), "refreshJwt": "r2"},
        match=[matchers.header_matcher({"Authorization": "Bearer r1"})],
    )
    assert refresh("r1", base_url=PDS).refresh_token == "r2"
    rsps.post(
        f"{PDS}/xrpc/com.atproto.server.refreshSession",
        status=400,
        json={"error": "ExpiredToken", "message": "Token has expired"},
    )
    with pytest.raises(AuthError, match="Token has expired"):
        refresh("r1", base_url=PDS)
