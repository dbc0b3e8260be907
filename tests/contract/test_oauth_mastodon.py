"""Mastodon OAuth per instance: app registration, authorize URL, token exchange and refresh."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from chorus.platforms.base import AuthError
from chorus.platforms.mastodon.oauth import (
    AppRegistration,
    TokenSet,
    authorize_url,
    exchange_code,
    refresh,
    register_app,
)

BASE = "https://mastodon.example"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def test_register_app_posts_the_documented_form(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{BASE}/api/v1/apps",
        json={
            "id": "563419",
            "name": "Chorus",
            "client_id": "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM",
            "client_secret": "ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw",
        },
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "client_name": "Chorus",
                    "redirect_uris": "https://app.example/cb",
                    "scopes": "read write",
                    "website": "https://chorus.example",
                }
            )
        ],
    )
    app = register_app(BASE, "Chorus", ["https://app.example/cb"], website="https://chorus.example")
    assert app == AppRegistration(
        client_id="TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM",
        client_secret="ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw",
    )


def test_authorize_url_points_at_the_instance() -> None:
    url = authorize_url("cid", "https://app.example/cb", "s1", ["read", "write"], base_url=BASE + "/")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/oauth/authorize"
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": ["cid"],
        "redirect_uri": ["https://app.example/cb"],
        "scope": ["read write"],
        "state": ["s1"],
    }


def test_exchange_code_returns_a_token_without_refresh_or_expiry(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{BASE}/oauth/token",
        json={
            "access_token": "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0",
            "token_type": "Bearer",
            "scope": "read write",
            "created_at": 1573979017,
        },
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": "the-code",
                    "client_id": "cid",
                    "client_secret": "sec",
                    "redirect_uri": "https://app.example/cb",
                    "scope": "read write",
                }
            )
        ],
    )
    tokens = exchange_code("cid", "sec", "https://app.example/cb", "the-code", base_url=BASE)
    assert tokens == TokenSet("ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0", None, None, "read write")


def test_refresh_keeps_the_refresh_token_when_the_instance_omits_it(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{BASE}/oauth/token",
        json={"access_token": "new", "token_type": "Bearer", "scope": "read"},
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": "r1",
                    "client_id": "cid",
                    "client_secret": "sec",
                }
            )
        ],
    )
    assert refresh("cid", "sec", "r1", base_url=BASE).refresh_token == "r1"


def test_a_revoked_grant_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{BASE}/oauth/token",
        status=400,
        json={
            "error": "invalid_grant",
            "error_description": "The provided authorization grant is invalid, expired, revoked",
        },
    )
    with pytest.raises(AuthError, match="authorization grant is invalid"):
        exchange_code("cid", "sec", "https://app.example/cb", "used", base_url=BASE)
