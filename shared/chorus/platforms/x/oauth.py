"""X OAuth 2.0 Authorization Code flow with PKCE, and the ``TokenSet`` every oauth module returns.

- ``authorize_url``: ``https://x.com/i/oauth2/authorize`` with ``code_challenge`` (S256).
- ``exchange_code`` / ``refresh``: ``POST https://api.x.com/2/oauth2/token`` (form). A confidential
  client authenticates with HTTP Basic (client id and secret); a public client sends ``client_id`` only.
- X rotates refresh tokens on refresh; if an answer ever omits it, the stored one is kept.
- ``invalid_grant`` (revoked or used-up refresh token, bad code) raises ``AuthError``.

``TokenSet`` lives here for now and is re-exported by every platform's oauth module; it belongs in
``chorus.platforms.base`` (noted for the lead).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

import requests

from chorus.platforms.base import AuthError, PermanentError
from chorus.platforms.http import call, json_body
from chorus.platforms.whoami import Owner, get_json, named, obj, text

PLATFORM = "x"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TOKEN_URL = "https://api.x.com/2/oauth2/token"  # noqa: S105 (an endpoint, not a secret)
DEFAULT_SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scope: str | None = None


def token_set(
    body: dict[str, Any], previous_refresh: str | None = None, now: datetime | None = None
) -> TokenSet:
    """A ``TokenSet`` from a token answer; an absent or empty refresh token keeps ``previous_refresh``."""
    expires_in = body.get("expires_in")
    expires_at = None
    if expires_in is not None:
        expires_at = (now or datetime.now(UTC)) + timedelta(seconds=int(expires_in))
    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token") or previous_refresh,
        expires_at=expires_at,
        scope=body.get("scope"),
    )


def auth_errors(exc: PermanentError, platform: str) -> PermanentError:
    """``invalid_grant`` means the grant is dead: the account must authorise again."""
    if exc.code == "invalid_grant" and not isinstance(exc, AuthError):
        return AuthError(exc.message, platform=platform, code=exc.code, status=exc.status)
    return exc


def token_answer(
    session: requests.Session | None, url: str, platform: str, data: dict[str, str], **kw: Any
) -> dict[str, Any]:
    """POST a token request (a form) and return the answer, which holds an ``access_token``; an answer
    without one (an OAuth error answered 200: TikTok) is a PermanentError with the platform's
    ``error_description`` and ``error``; ``invalid_grant`` an AuthError."""
    try:
        resp = call(session or requests.Session(), "POST", url, platform, data=data, idempotent=True, **kw)
        body = json_body(resp, platform)
    except PermanentError as exc:
        raise auth_errors(exc, platform) from None
    if not isinstance(body, dict) or not body.get("access_token"):
        error = body.get("error") if isinstance(body, dict) else None
        described = body.get("error_description") if isinstance(body, dict) else None
        raise PermanentError(str(described or error or "the token answer holds no access_token"), platform=platform,
                             code=str(error) if error else None, status=resp.status_code)  # fmt: skip
    return body


def secret_grant(
    url: str,
    platform: str,
    client: tuple[str, str],
    grant: dict[str, str],
    *,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> TokenSet:
    """A grant with the client's id and secret in the form (Google, LinkedIn): ``grant`` is
    ``{"grant_type": "authorization_code", "code", "redirect_uri"}`` or ``{"grant_type": "refresh_token",
    "refresh_token"}``; a refused refresh means the account must authorise again."""
    data = {**grant, "client_id": client[0], "client_secret": client[1]}
    if grant.get("grant_type") != "refresh_token":
        return token_set(token_answer(session, url, platform, data), now=now)
    answer = partial(token_answer, session, url, platform, data)
    return refreshed(answer, grant["refresh_token"], platform, now=now)


def refreshed(
    answer: Callable[[], dict[str, Any]],
    refresh_token: str,
    platform: str,
    *,
    refused: Collection[int] = (400, 401),
    now: datetime | None = None,
) -> TokenSet:
    """The token set of a refresh ``answer`` (the stored refresh token kept when none comes back); a
    refresh the platform refuses (HTTP status in ``refused``) means the account must authorise again."""
    try:
        body = answer()
    except PermanentError as exc:
        if isinstance(exc, AuthError) or exc.status not in refused:
            raise
        raise AuthError(exc.message, platform=platform, code=exc.code, status=exc.status) from None
    return token_set(body, previous_refresh=refresh_token, now=now)


def new_code_verifier() -> str:
    """A PKCE code verifier (43..128 characters of the unreserved set)."""
    return secrets.token_urlsafe(64)[:128]


def code_challenge(verifier: str) -> str:
    """S256 challenge: base64url(sha256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    *,
    code_verifier: str,
) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    return f"{AUTHORIZE_URL}?{urlencode(query)}"


def _token_request(
    data: dict[str, str],
    client_id: str,
    client_secret: str | None,
    session: requests.Session | None,
    token_url: str,
) -> dict[str, Any]:
    auth = (client_id, client_secret) if client_secret else None
    try:
        resp = call(
            session or requests.Session(),
            "POST",
            token_url,
            PLATFORM,
            data={**data, "client_id": client_id},
            auth=auth,
            idempotent=True,
        )
    except PermanentError as exc:
        raise auth_errors(exc, PLATFORM) from exc
    body: dict[str, Any] = json_body(resp, PLATFORM)
    return body


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
