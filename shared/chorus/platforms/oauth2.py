"""OAuth 2.0 token requests and answers, one place for every platform's oauth module.

- ``TokenSet``: an account's tokens, the one class for both layers: what a platform's token answer gives
  (re-exported by the platforms' oauth modules) and what ``chorus.accounts.tokens`` seals with KMS and
  stores (with the app password / instance app secret some platforms need to open a session again).
- ``token_set``: a ``TokenSet`` from a token answer; an absent refresh token keeps the stored one.
- ``expiry``: when a token expires, from an ``expires_in`` printed as a number or a string.
- ``token_answer``: POST a token request (a form) and return an answer that holds an ``access_token``;
  ``invalid_grant`` is an ``AuthError`` (``auth_errors``).
- ``secret_grant``: a grant with the client id and secret in the form (Google, LinkedIn).
- ``refreshed``: a refresh answer's tokens; a refused refresh means the account must authorise again
  (``must_authorise``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import requests

from chorus.platforms.base import AuthError, PermanentError
from chorus.platforms.codes import numeric
from chorus.platforms.http import call, json_body


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scope: str | None = None  # what the platform says was granted (its own separator), when it says
    app_password: str | None = field(default=None, repr=False)  # Bluesky: opens a new session
    client_secret: str | None = field(default=None, repr=False)  # Mastodon: the instance's app secret

    def merged_with(self, newer: TokenSet) -> TokenSet:
        """A refresh answer replaces the access token and its expiry; an empty refresh token, scope, app
        password or app secret never erases the stored one."""
        return TokenSet(
            access_token=newer.access_token or self.access_token,
            refresh_token=newer.refresh_token or self.refresh_token,
            expires_at=newer.expires_at,
            scope=newer.scope or self.scope,
            app_password=newer.app_password or self.app_password,
            client_secret=newer.client_secret or self.client_secret,
        )


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


def expiry(expires_in: object, now: datetime | None = None) -> datetime | None:
    """When a token answered with ``expires_in`` (seconds, a number or a string of digits) expires;
    None when the answer gives no such number."""
    seconds = numeric(expires_in)
    return (now or datetime.now(UTC)) + timedelta(seconds=seconds) if seconds is not None else None


def must_authorise(exc: PermanentError, platform: str) -> AuthError:
    """``exc`` as an ``AuthError``: the grant is refused for good and the account must authorise again."""
    if isinstance(exc, AuthError):
        return exc
    return AuthError(exc.message, platform=platform, code=exc.code, status=exc.status)


def auth_errors(exc: PermanentError, platform: str) -> PermanentError:
    """``invalid_grant`` means the grant is dead: the account must authorise again."""
    return must_authorise(exc, platform) if exc.code == "invalid_grant" else exc


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
        raise must_authorise(exc, platform) from None
    return token_set(body, previous_refresh=refresh_token, now=now)
