"""Kuaishou: connecting an account by OAuth, its tokens, and which account the token is.

- ``authorize_url``: ``https://open.kuaishou.com/oauth2/authorize`` with ``app_id``, comma-separated
  ``scope``, ``response_type=code``, ``redirect_uri`` and ``state``.
- ``exchange_code``: ``GET /oauth2/access_token?app_id=&app_secret=&code=&grant_type=authorization_code``
  (``oauth2_access_token_response_docs.json``): the ``open_id`` in the answer **is** the account connected
  (ownership proven by the platform), ``scopes`` what the user granted. The code lives 2 minutes and is
  single-use, so it is traded at once.
- ``refresh``: ``GET /oauth2/refresh_token?app_id=&app_secret=&refresh_token=&grant_type=refresh_token``:
  a new access token and a new refresh token (the old one is withdrawn; the new one inherits its expiry).
- ``whoami``: ``GET /openapi/user_info?app_id=&access_token=``: the account's name for display.

Token lifetimes differ between Kuaishou's sources, so the returned ``expires_in`` is always used.
Scopes Chorus asks for: ``user_info``, ``user_video_publish`` (publish), ``user_video_info`` (counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from chorus.platforms.base import PermanentError
from chorus.platforms.kuaishou.api import API_URL, PLATFORM, request
from chorus.platforms.oauth2 import Consent, TokenSet, expiry, must_authorise
from chorus.platforms.whoami import named, obj, text

AUTHORIZE_URL = "https://open.kuaishou.com/oauth2/authorize"
DEFAULT_SCOPES = ("user_info", "user_video_publish", "user_video_info")
CONSENT = Consent(AUTHORIZE_URL, DEFAULT_SCOPES, client="app_id", separator=",",
                  order=("app_id", "scope", "response_type", "redirect_uri", "state"))  # fmt: skip


@dataclass(frozen=True)
class Grant:
    open_id: str | None
    tokens: TokenSet
    scopes: tuple[str, ...]


authorize_url = CONSENT.authorize_url


def _grant(body: dict[str, Any], now: datetime | None) -> Grant:
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise PermanentError("Kuaishou's token answer holds no access_token", platform=PLATFORM)
    expires_at = expiry(body.get("expires_in"), now)
    refresh_token = text(body.get("refresh_token"))
    scopes = body.get("scopes")
    return Grant(
        text(body.get("open_id")),
        TokenSet(token, refresh_token, expires_at),
        tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else (),
    )


def exchange_code(
    app_id: str,
    app_secret: str,
    code: str,
    *,
    session: requests.Session | None = None,
    api_url: str = API_URL,
    now: datetime | None = None,
) -> Grant:
    params = {"app_id": app_id, "app_secret": app_secret, "code": code, "grant_type": "authorization_code"}
    body = request(session or requests.Session(), "GET", f"{api_url.rstrip('/')}/oauth2/access_token",
                   params=params)  # fmt: skip
    grant = _grant(body, now)
    named(grant.open_id, PLATFORM, "open_id")
    return grant


def refresh(
    app_id: str,
    app_secret: str,
    refresh_token: str,
    *,
    session: requests.Session | None = None,
    api_url: str = API_URL,
    now: datetime | None = None,
) -> TokenSet:
    params = {"app_id": app_id, "app_secret": app_secret, "refresh_token": refresh_token,
              "grant_type": "refresh_token"}  # fmt: skip
    try:
        body = request(session or requests.Session(), "GET", f"{api_url.rstrip('/')}/oauth2/refresh_token",
                       params=params)  # fmt: skip
    except PermanentError as exc:  # a refused refresh token: the owner must authorise again
        raise must_authorise(exc, PLATFORM) from exc
    fresh = _grant(body, now).tokens
    return TokenSet(fresh.access_token, fresh.refresh_token or refresh_token, fresh.expires_at)


def whoami(
    app_id: str, access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL
) -> str | None:
    """The account's display name (``user_info.name``), None when Kuaishou gives none."""
    body = request(session or requests.Session(), "GET", f"{api_url.rstrip('/')}/openapi/user_info",
                   params={"app_id": app_id, "access_token": access_token})  # fmt: skip
    return text(obj(body.get("user_info")).get("name"))
