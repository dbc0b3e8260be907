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

from datetime import datetime
from typing import Any

import requests

from chorus.platforms.base import PermanentError
from chorus.platforms.granted import Grant, grant_of, granted_tokens
from chorus.platforms.kuaishou.api import API_URL, PLATFORM, request
from chorus.platforms.oauth2 import Consent, TokenSet, must_authorise
from chorus.platforms.whoami import obj, text

__all__ = ["Grant", "authorize_url", "exchange_code", "refresh", "whoami"]

AUTHORIZE_URL = "https://open.kuaishou.com/oauth2/authorize"
DEFAULT_SCOPES = ("user_info", "user_video_publish", "user_video_info")
CONSENT = Consent(AUTHORIZE_URL, DEFAULT_SCOPES, client="app_id", separator=",",
                  order=("app_id", "scope", "response_type", "redirect_uri", "state"))  # fmt: skip
LABEL = "Kuaishou"

authorize_url = CONSENT.authorize_url


def _get(session: requests.Session | None, api_url: str, path: str, params: dict[str, str]) -> dict[str, Any]:
    return request(session or requests.Session(), "GET", f"{api_url.rstrip('/')}/{path}", params=params)


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
    return grant_of(_get(session, api_url, "oauth2/access_token", params), PLATFORM, LABEL, scopes_key="scopes",
                    now=now)  # fmt: skip


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
        body = _get(session, api_url, "oauth2/refresh_token", params)
    except PermanentError as exc:  # a refused refresh token: the owner must authorise again
        raise must_authorise(exc, PLATFORM) from exc
    return granted_tokens(body, PLATFORM, LABEL, previous_refresh=refresh_token, now=now)


def whoami(
    app_id: str, access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL
) -> str | None:
    """The account's display name (``user_info.name``), None when Kuaishou gives none."""
    body = _get(session, api_url, "openapi/user_info", {"app_id": app_id, "access_token": access_token})
    return text(obj(body.get("user_info")).get("name"))
