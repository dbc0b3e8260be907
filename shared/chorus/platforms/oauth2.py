"""OAuth 2.0 token requests and answers, one place for every platform's oauth module.

- ``TokenSet``: an account's tokens, the one class for both layers: what a platform's token answer gives
  (re-exported by the platforms' oauth modules) and what ``chorus.accounts.tokens`` seals with KMS and
  stores (with the app password / instance app secret some platforms need to open a session again).
- ``token_set``: a ``TokenSet`` from a token answer; an absent refresh token keeps the stored one.
- ``Consent``: a platform's consent page and how its query is written (the name of the app's id, the
  scope separator, the order, fixed parameters): each platform's ``authorize_url`` is its ``Consent``'s.
- ``new_code_verifier``, ``code_challenge``, ``pkce``: PKCE (RFC 7636, S256: X, Mastodon).
- ``expiry``: when a token expires, from an ``expires_in`` printed as a number or a string.
- ``token_answer``: send a token request (a POSTed form by default) and return an answer that holds an ``access_token``;
  ``invalid_grant`` is an ``AuthError`` (``auth_errors``).
- ``secret_grant``: a grant with the client id and secret in the form (Google, LinkedIn).
- ``refreshed``: a refresh answer's tokens; a refused refresh means the account must authorise again
  (``must_authorise``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

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


RFC6749_ORDER = ("response_type", "client_id", "redirect_uri", "scope", "state")
"""The consent query in the order RFC 6749 (4.1.1) lists it (X, Mastodon)."""


@dataclass(frozen=True)
class Consent:
    """Where a platform sends a person to grant the app access (``url``, ``response_type=code``), and how
    the platform writes its query: ``client``, the name of the app's id (``client_id``; ``client_key``
    for TikTok and Douyin, ``app_id`` for Kuaishou); ``separator`` between scopes (a space, as RFC 6749
    says; a comma for Meta, Pinterest, TikTok, Douyin and Kuaishou); ``order``, the query's parameters
    in the order the platform's documentation writes them (the app's id under its ``client`` name); and
    ``fixed`` parameters the platform needs beside them (Google's ``access_type=offline``)."""

    url: str
    scopes: tuple[str, ...] = ()
    client: str = "client_id"
    separator: str = " "
    order: tuple[str, ...] = ("client_id", "redirect_uri", "state", "scope", "response_type")
    fixed: Mapping[str, str] = field(default_factory=dict)

    def authorize_url(
        self,
        client_id: str,
        redirect_uri: str,
        state: str,
        scopes: Sequence[str] | None = None,
        *,
        dialog_url: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> str:
        """The consent URL for the app ``client_id`` (``scopes``: the platform's defaults when None;
        ``dialog_url``: another consent page, a fake platform's in tests; ``extra``: parameters of this
        request after the others, such as PKCE's)."""
        values = {
            self.client: client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": self.separator.join(self.scopes if scopes is None else scopes),
            "response_type": "code",
            **self.fixed,
        }
        query = {**{name: values[name] for name in self.order}, **(extra or {})}
        return f"{dialog_url or self.url}?{urlencode(query)}"


def new_code_verifier() -> str:
    """A PKCE code verifier (43..128 characters of the unreserved set, RFC 7636)."""
    return secrets.token_urlsafe(64)[:128]


def code_challenge(verifier: str) -> str:
    """S256 challenge: base64url(sha256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce(verifier: str) -> dict[str, str]:
    """The consent URL's PKCE parameters for ``verifier`` (S256)."""
    return {"code_challenge": code_challenge(verifier), "code_challenge_method": "S256"}


def token_set(
    body: dict[str, Any], previous_refresh: str | None = None, now: datetime | None = None
) -> TokenSet:
    """A ``TokenSet`` from a token answer (its ``expires_in`` a number or a string of digits); an absent or
    empty refresh token keeps ``previous_refresh``."""
    refresh_token, scope = body.get("refresh_token"), body.get("scope")
    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else previous_refresh,
        expires_at=expiry(body.get("expires_in"), now),
        scope=scope if isinstance(scope, str) and scope else None,
    )


def expiry(expires_in: object, now: datetime | None = None) -> datetime | None:
    """When a token answered with ``expires_in`` (seconds, a number or a string of digits) expires;
    None when the answer gives no such number."""
    seconds = int(expires_in) if isinstance(expires_in, float) else numeric(expires_in)
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
    session: requests.Session | None,
    url: str,
    platform: str,
    data: dict[str, str] | None = None,
    *,
    method: str = "POST",
    **kw: Any,
) -> dict[str, Any]:
    """Send a token request (a POSTed form; Meta's token endpoints take a GET with ``params``) and return
    the answer, which holds an ``access_token``; an answer without one (an OAuth error answered 200:
    TikTok) is a PermanentError with the platform's ``error_description`` and ``error``;
    ``invalid_grant`` an AuthError. A token request is safe to repeat (a code is spent once either way)."""
    try:
        resp = call(session or requests.Session(), method, url, platform, data=data, idempotent=True, **kw)
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
    refused: Collection[int] | None = (400, 401),
    now: datetime | None = None,
) -> TokenSet:
    """The token set of a refresh ``answer`` (the stored refresh token kept when none comes back); a
    refresh the platform refuses (HTTP status in ``refused``; any refusal when None: Pinterest) means
    the account must authorise again."""
    try:
        body = answer()
    except PermanentError as exc:
        if isinstance(exc, AuthError) or (refused is not None and exc.status not in refused):
            raise
        raise must_authorise(exc, platform) from None
    return token_set(body, previous_refresh=refresh_token, now=now)
