"""X OAuth 2.0 Authorization Code flow with PKCE.

- ``authorize_url``: ``https://x.com/i/oauth2/authorize`` with ``code_challenge`` (S256).
- ``exchange_code`` / ``refresh``: ``POST https://api.x.com/2/oauth2/token`` (form). A confidential
  client authenticates with HTTP Basic (client id and secret); a public client sends ``client_id`` only.
- X rotates refresh tokens on refresh; if an answer ever omits it, the stored one is kept.
- ``invalid_grant`` (revoked or used-up refresh token, bad code) raises ``AuthError``.

The token request and answer are ``chorus.platforms.oauth2``'s (``TokenSet`` is re-exported here).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import requests

from chorus.platforms.oauth2 import (
    RFC6749_ORDER,
    Consent,
    TokenSet,
    code_challenge,
    new_code_verifier,
    pkce,
    token_answer,
    token_set,
)
from chorus.platforms.whoami import Owner, get_json, named, obj, text

__all__ = [
    "TokenSet",
    "authorize_url",
    "code_challenge",
    "exchange_code",
    "new_code_verifier",
    "refresh",
    "token_set",
    "whoami",
]

PLATFORM = "x"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TOKEN_URL = "https://api.x.com/2/oauth2/token"  # noqa: S105 (an endpoint, not a secret)
DEFAULT_SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")
CONSENT = Consent(AUTHORIZE_URL, DEFAULT_SCOPES, order=RFC6749_ORDER)


def authorize_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    *,
    code_verifier: str,
) -> str:
    return CONSENT.authorize_url(client_id, redirect_uri, state, scopes, extra=pkce(code_verifier))


def _token_request(
    data: dict[str, str],
    client_id: str,
    client_secret: str | None,
    session: requests.Session | None,
    token_url: str,
) -> dict[str, Any]:
    auth = (client_id, client_secret) if client_secret else None
    return token_answer(session, token_url, PLATFORM, {**data, "client_id": client_id}, auth=auth)


def exchange_code(
    client_id: str,
    redirect_uri: str,
    code: str,
    code_verifier: str,
    *,
    client_secret: str | None = None,
    session: requests.Session | None = None,
    token_url: str = TOKEN_URL,
    now: datetime | None = None,
) -> TokenSet:
    body = _token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        },
        client_id,
        client_secret,
        session,
        token_url,
    )
    return token_set(body, now=now)


def refresh(
    client_id: str,
    refresh_token: str,
    *,
    client_secret: str | None = None,
    session: requests.Session | None = None,
    token_url: str = TOKEN_URL,
    now: datetime | None = None,
) -> TokenSet:
    body = _token_request(
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        client_id,
        client_secret,
        session,
        token_url,
    )
    return token_set(body, previous_refresh=refresh_token, now=now)


API_URL = "https://api.x.com"


def whoami(access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL) -> Owner:
    """``GET /2/users/me``: the user the token acts for."""
    body = get_json(session, f"{api_url.rstrip('/')}/2/users/me", PLATFORM, token=access_token)
    user = obj(body.get("data"))
    return Owner(named(user.get("id"), PLATFORM), text(user.get("username")), text(user.get("name")))
