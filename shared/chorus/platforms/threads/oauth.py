"""Threads (Meta's Threads API): connecting an account, its tokens, and whose token it is.

- ``authorize_url``: ``https://threads.net/oauth/authorize`` (comma-separated ``scope``, ``state``).
- ``exchange_code``: ``POST https://graph.threads.net/oauth/access_token`` (client id and secret, the
  redirect URI, the code) answers a *short-lived* token (one hour) and ``user_id``, a JSON number above
  2^53 (read exactly, kept as text). It is traded at once for a long-lived one (60 days):
  ``GET https://graph.threads.net/access_token?grant_type=th_exchange_token``.
- ``refresh``: ``GET https://graph.threads.net/refresh_access_token?grant_type=th_refresh_token`` with
  the long-lived token itself (Threads has no refresh tokens; a token at least 24 hours old and not yet
  expired can be refreshed, for another 60 days).
- ``whoami``: ``GET /me?fields=id,username,name``.

The token endpoint refuses a bad code with ``{error_type: OAuthException, code, error_message}``
(``fixtures/platform_api/publishing/threads/oauth_token_error_rejected.json``): a PermanentError with
its message; an expired or revoked token on the Graph endpoints (code 190) is an ``AuthError``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import requests

from chorus.platforms.facebook import oauth as facebook
from chorus.platforms.oauth2 import TokenSet, token_answer, token_set
from chorus.platforms.whoami import Owner, get_json, named, text

__all__ = ["TokenSet", "authorize_url", "exchange_code", "long_lived", "refresh", "whoami"]

PLATFORM = "threads"
API_URL = "https://graph.threads.net/v1.0"
TOKEN_HOST = "https://graph.threads.net"  # noqa: S105 (an endpoint, not a secret)
AUTHORIZE_URL = "https://threads.net/oauth/authorize"
DEFAULT_SCOPES = (
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_read_replies",
    "threads_manage_insights",
)
CONSENT = replace(facebook.CONSENT, url=AUTHORIZE_URL, scopes=DEFAULT_SCOPES)
"""The consent URL: Meta's dialog query (client id, redirect URI, state, comma-separated scopes)."""


authorize_url = CONSENT.authorize_url


def exchange_code(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    *,
    session: requests.Session | None = None,
    token_host: str = TOKEN_HOST,
    now: datetime | None = None,
) -> tuple[str, TokenSet]:
    """The Threads user id the code was granted by, and its long-lived token."""
    body = token_answer(
        session,
        f"{token_host.rstrip('/')}/oauth/access_token",
        PLATFORM,
        {
            "client_id": client_id,
            "client_secret": client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": code,
        },
    )
    user_id = named(body.get("user_id"), PLATFORM, "user_id")
    short = token_set(body, now=now)
    return user_id, long_lived(
        client_secret, short.access_token, session=session, token_host=token_host, now=now
    )


def long_lived(
    client_secret: str,
    short_lived_token: str,
    *,
    session: requests.Session | None = None,
    token_host: str = TOKEN_HOST,
    now: datetime | None = None,
) -> TokenSet:
    """``th_exchange_token``: a short-lived token (one hour) for a long-lived one (60 days)."""
    params = {
        "grant_type": "th_exchange_token",
        "client_secret": client_secret,
        "access_token": short_lived_token,
    }
    url = f"{token_host.rstrip('/')}/access_token"
    return token_set(token_answer(session, url, PLATFORM, method="GET", params=params), now=now)


def refresh(
    long_lived_token: str,
    *,
    session: requests.Session | None = None,
    token_host: str = TOKEN_HOST,
    now: datetime | None = None,
) -> TokenSet:
    """``th_refresh_token``: the long-lived token for a new one, valid 60 days from now."""
    params = {"grant_type": "th_refresh_token", "access_token": long_lived_token}
    url = f"{token_host.rstrip('/')}/refresh_access_token"
    return token_set(token_answer(session, url, PLATFORM, method="GET", params=params), now=now)


def whoami(access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL) -> Owner:
    """``GET /me?fields=id,username,name``: the Threads user the token acts for."""
    me = get_json(
        session,
        f"{api_url.rstrip('/')}/me",
        PLATFORM,
        token=access_token,
        params={"fields": "id,username,name"},
    )
    return Owner(
        named(me.get("id"), PLATFORM), handle=text(me.get("username")), display_name=text(me.get("name"))
    )
