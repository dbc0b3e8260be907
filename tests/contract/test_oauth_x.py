"""X OAuth 2.0 with PKCE: authorize URL, code exchange, refresh (token rotation kept)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from chorus.platforms.base import AuthError, PermanentError
from chorus.platforms.x.oauth import (
    TOKEN_URL,
    TokenSet,
    authorize_url,
    code_challenge,
    exchange_code,
    new_code_verifier,
    refresh,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def test_code_challenge_is_the_rfc7636_s256_of_the_verifier() -> None:
    # RFC 7636 appendix B test vector
    assert (
        code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    verifier = new_code_verifier()
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert code_challenge(verifier) == expected


def test_authorize_url_carries_pkce_scopes_and_state() -> None:
    url = authorize_url(
        "cid", "https://app.example/cb", "st4te", ["tweet.write", "offline.access"], code_verifier="v" * 43
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://x.com/i/oauth2/authorize"
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": ["cid"],
        "redirect_uri": ["https://app.example/cb"],
        "scope": ["tweet.write offline.access"],
        "state": ["st4te"],
        "code_challenge": [code_challenge("v" * 43)],
        "code_challenge_method": ["S256"],
    }


def test_exchange_code_posts_the_verifier_with_basic_auth_for_confidential_clients(
    rsps: responses.RequestsMock,
) -> None:
    basic = base64.b64encode(b"cid:secret").decode()
    rsps.post(
        TOKEN_URL,
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "acc1",
            "scope": "tweet.write offline.access",
            "refresh_token": "ref1",
        },
        match=[
            matchers.header_matcher({"Authorization": f"Basic {basic}"}),
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": "abc",
                    "redirect_uri": "https://app.example/cb",
                    "code_verifier": "ver",
                    "client_id": "cid",
                }
            ),
        ],
    )
    tokens = exchange_code("cid", "https://app.example/cb", "abc", "ver", client_secret="secret", now=NOW)
    assert tokens == TokenSet("acc1", "ref1", NOW + timedelta(hours=2), "tweet.write offline.access")


def test_refresh_returns_the_rotated_refresh_token(rsps: responses.RequestsMock) -> None:
    rsps.post(
        TOKEN_URL,
        json={"token_type": "bearer", "expires_in": 7200, "access_token": "acc2", "refresh_token": "ref2"},
        match=[
            matchers.urlencoded_params_matcher(
                {"grant_type": "refresh_token", "refresh_token": "ref1", "client_id": "cid"}
            )
        ],
    )
    assert refresh("cid", "ref1", now=NOW).refresh_token == "ref2"


def test_refresh_keeps_the_stored_refresh_token_when_the_answer_omits_it(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(
        TOKEN_URL,
        json={"token_type": "bearer", "expires_in": 7200, "access_token": "acc2", "refresh_token": ""},
    )
    tokens = refresh("cid", "ref1", now=NOW)
    assert tokens.access_token == "acc2"
    assert tokens.refresh_token == "ref1"


def test_an_invalid_grant_needs_reauthorisation(rsps: responses.RequestsMock) -> None:
    rsps.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "Value passed for the token was invalid."},
    )
    with pytest.raises(AuthError, match="Value passed for the token was invalid"):
        refresh("cid", "dead")


def test_other_token_errors_are_permanent_with_the_message(rsps: responses.RequestsMock) -> None:
    rsps.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_request", "error_description": "Missing required parameter [code_verifier]."},
    )
    with pytest.raises(PermanentError, match="code_verifier") as caught:
        exchange_code("cid", "https://app.example/cb", "abc", "")
    assert not isinstance(caught.value, AuthError)
