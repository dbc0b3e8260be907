"""Douyin: connecting an account by OAuth, its tokens, and which account the token is.

- ``authorize_url``: ``https://open.douyin.com/platform/oauth/connect/`` with ``client_key``,
  ``response_type=code``, comma-separated ``scope``, ``redirect_uri`` and ``state``.
- ``exchange_code``: ``POST /oauth/access_token/`` (form: ``client_key``, ``client_secret``, ``code``,
  ``grant_type=authorization_code``; ``oauth_access_token_response_*.json``). The answer names the
  account: its ``open_id`` **is** the account connected (ownership is proven by the platform, never
  typed), and ``scope`` lists what the user granted. The code is single-use.
- ``refresh``: ``POST /oauth/refresh_token/`` (``client_key``, ``grant_type=refresh_token``,
  ``refresh_token``): a new access token (15 days); the refresh token keeps its own expiry (30 days).
- ``renew_refresh_token``: ``POST /oauth/renew_refresh_token/`` (``client_key``, ``refresh_token``): a new
  refresh token with a new expiry. The refresher refreshes the access token, then renews the refresh
  token, so a connected account never reaches the 30-day end (10010: authorise again).

Expiry values come as numbers or strings (``"86400"``): the returned values are used, never assumed.
Scopes Chorus asks for: ``user_info``, ``video.create.bind`` (publish; Douyin grants it per app, so an app
without it connects but cannot publish: :func:`can_publish`), ``video.data.bind`` (item data),
``item.comment`` (comment list and reply, enterprise accounts) and ``renew_refresh_token``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import requests

from chorus.platforms.base import PermanentError, PlatformError
from chorus.platforms.douyin.api import API_URL, request
from chorus.platforms.granted import Grant, grant_of, scopes_of
from chorus.platforms.oauth2 import Consent, TokenSet

logger = logging.getLogger(__name__)

PLATFORM = "douyin"
AUTHORIZE_URL = "https://open.douyin.com/platform/oauth/connect/"
CREATE_SCOPES = frozenset({"video.create.bind", "video.create"})
"""The scope that lets an app create videos (``video.create`` on apps approved before the ``.bind`` names)."""
COMMENT_SCOPE = "item.comment"
DEFAULT_SCOPES = ("user_info", "video.create.bind", "video.data.bind", COMMENT_SCOPE, "renew_refresh_token")
SCOPES = "scopes"
"""The account's ``extra`` key holding the scopes granted at connect (comma-separated)."""
CONSENT = Consent(AUTHORIZE_URL, DEFAULT_SCOPES, client="client_key", separator=",",
                  order=("client_key", "response_type", "scope", "redirect_uri", "state"))  # fmt: skip

LABEL = "Douyin"

__all__ = ["Grant", "authorize_url", "can_publish", "exchange_code", "refresh", "refreshed", "renew_refresh_token",
           "scopes_of"]  # fmt: skip

authorize_url = CONSENT.authorize_url


def can_publish(scopes: Sequence[str]) -> bool:
    return bool(CREATE_SCOPES & set(scopes))


def _token_call(
    session: requests.Session | None, api_url: str, path: str, form: dict[str, str]
) -> dict[str, Any]:
    return request(session or requests.Session(), "POST", f"{api_url.rstrip('/')}/{path}", data=form,
                   idempotent=True)  # fmt: skip


def exchange_code(
    client_key: str,
    client_secret: str,
    code: str,
    *,
    session: requests.Session | None = None,
    api_url: str = API_URL,
    now: datetime | None = None,
) -> Grant:
    """The tokens of an authorization code, the account (``open_id``) they act for and the scopes granted."""
    form = {"client_key": client_key, "client_secret": client_secret, "code": code,
            "grant_type": "authorization_code"}  # fmt: skip
    return grant_of(_token_call(session, api_url, "oauth/access_token/", form), PLATFORM, LABEL, now=now)


def refresh(
    client_key: str,
    refresh_token: str,
    *,
    session: requests.Session | None = None,
    api_url: str = API_URL,
    now: datetime | None = None,
) -> Grant:
    form = {"client_key": client_key, "grant_type": "refresh_token", "refresh_token": refresh_token}
    answer = _token_call(session, api_url, "oauth/refresh_token/", form)
    return grant_of(answer, PLATFORM, LABEL, previous_refresh=refresh_token, now=now)


def renew_refresh_token(
    client_key: str, refresh_token: str, *, session: requests.Session | None = None, api_url: str = API_URL
) -> str:
    """A new refresh token (new expiry) for ``refresh_token``."""
    form = {"client_key": client_key, "refresh_token": refresh_token}
    data = _token_call(session, api_url, "oauth/renew_refresh_token/", form)
    renewed = data.get("refresh_token")
    if not isinstance(renewed, str) or not renewed:
        raise PermanentError("Douyin's renew answer holds no refresh_token", platform=PLATFORM)
    return renewed


def refreshed(
    client_key: str, refresh_token: str, *, session: requests.Session | None = None, api_url: str = API_URL
) -> TokenSet:
    """The refresher's work: a new access token with the stored refresh token, then the refresh token
    renewed (a new 30 days, where the app has ``renew_refresh_token``). A renewal that fails keeps the
    refresh token that just worked: the new access token is never lost for it."""
    tokens = refresh(client_key, refresh_token, session=session, api_url=api_url).tokens
    current = tokens.refresh_token or refresh_token
    try:
        current = renew_refresh_token(client_key, current, session=session, api_url=api_url)
    except PlatformError as exc:
        logger.warning("douyin_refresh_token_not_renewed", extra={"reason": exc.message, "code": exc.code})
    return replace(tokens, refresh_token=current)
