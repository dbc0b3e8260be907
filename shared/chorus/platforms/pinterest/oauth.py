"""Pinterest (API v5): connecting an account, its tokens, whose token it is, and its boards.

- ``authorize_url``: ``https://www.pinterest.com/oauth/`` (comma-separated ``scope``, ``state``).
- ``exchange_code``: ``POST /v5/oauth/token`` with HTTP Basic client authentication and
  ``grant_type=authorization_code`` (``fixtures/platform_api/publishing/pinterest/oauth_token_response_docs.json``:
  an access token for 30 days and a refresh token). ``continuous_refresh=true`` asks apps created
  before 2025-09-25 for the continuous refresh token (60 days, refreshable indefinitely); newer apps
  get it anyway and the legacy one is no longer supported (``api_reference.json``, oauth note).
- ``refresh``: the same endpoint with ``grant_type=refresh_token``; a new refresh token replaces the
  stored one, an answer without one keeps it. A refusal of the refresh token is an ``AuthError``: the
  account must authorise again.
- ``whoami``: ``GET /v5/user_account`` (the token's own account: its ``id``, else its ``username``).
- ``boards``: ``GET /v5/boards`` (``page_size`` up to 250, ``bookmark`` for the next page): the boards a
  pin can go to, listed at connect so the account's board is chosen from them.

Errors are ``{code, message}`` (``chorus.platforms.http``); tokens travel in ``Authorization: Bearer``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

import requests

from chorus.platforms.facebook import oauth as facebook
from chorus.platforms.oauth2 import TokenSet, refreshed, token_answer, token_set
from chorus.platforms.whoami import Owner, get_json, listed, named, obj, text

__all__ = ["Board", "TokenSet", "authorize_url", "boards", "exchange_code", "refresh", "whoami"]

PLATFORM = "pinterest"
API_URL = "https://api.pinterest.com/v5"
AUTHORIZE_URL = "https://www.pinterest.com/oauth/"
DEFAULT_SCOPES = ("boards:read", "pins:read", "pins:write", "user_accounts:read")
CONSENT = replace(facebook.CONSENT, url=AUTHORIZE_URL, scopes=DEFAULT_SCOPES)
"""The consent URL (client id, redirect URI, ``response_type=code``, comma-separated scopes, state): the
same query as Meta's dialog."""
BOARDS_PAGE = 250
MAX_BOARD_PAGES = 4
"""Board pages read at connect (1,000 boards): enough to choose from; more are not listed."""


@dataclass(frozen=True)
class Board:
    board_id: str
    name: str
    privacy: str | None = None


authorize_url = CONSENT.authorize_url


def _token_request(
    data: dict[str, str],
    client_id: str,
    client_secret: str,
    session: requests.Session | None,
    api_url: str,
) -> dict[str, Any]:
    """A token request with HTTP Basic client authentication."""
    return token_answer(
        session, f"{api_url.rstrip('/')}/oauth/token", PLATFORM, data, auth=(client_id, client_secret)
    )


def exchange_code(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    *,
    session: requests.Session | None = None,
    api_url: str = API_URL,
    now: datetime | None = None,
) -> TokenSet:
    body = _token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "continuous_refresh": "true",
        },
        client_id,
        client_secret,
        session,
        api_url,
    )
    return token_set(body, now=now)


def refresh(
    client_id: str,
    client_secret: str,
    refresh_token: str,
    *,
    session: requests.Session | None = None,
    api_url: str = API_URL,
    now: datetime | None = None,
) -> TokenSet:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    answer = partial(_token_request, data, client_id, client_secret, session, api_url)
    return refreshed(answer, refresh_token, PLATFORM, refused=None, now=now)


def whoami(access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL) -> Owner:
    """``GET /v5/user_account``: the Pinterest account the token acts for."""
    me = get_json(session, f"{api_url.rstrip('/')}/user_account", PLATFORM, token=access_token)
    username = text(me.get("username"))
    return Owner(
        named(me.get("id") or username, PLATFORM),
        handle=username,
        display_name=text(me.get("business_name")) or username,
    )


def boards(
    access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL
) -> list[Board]:
    """The account's boards, in Pinterest's order, at most ``MAX_BOARD_PAGES`` pages."""
    found: list[Board] = []
    bookmark: str | None = None
    for _page in range(MAX_BOARD_PAGES):
        params = {"page_size": str(BOARDS_PAGE), **({"bookmark": bookmark} if bookmark else {})}
        page = get_json(session, f"{api_url.rstrip('/')}/boards", PLATFORM, token=access_token, params=params)
        for item in listed(page.get("items")):
            board = obj(item)
            if board.get("id"):
                found.append(
                    Board(str(board["id"]), str(board.get("name") or ""), text(board.get("privacy")))
                )
        bookmark = text(page.get("bookmark"))
        if not bookmark:
            break
    return found


def board_extra(found: Sequence[Board], chosen: str | None = None) -> dict[str, str]:
    """What the account keeps of its boards: ``board_id`` (``chosen`` when it is one of them, else the
    first listed) and ``boards`` (JSON ``[{id, name}]``, for a person choosing another one)."""
    ids = [b.board_id for b in found]
    board_id = chosen if chosen in ids else (ids[0] if ids else None)
    extra = {"boards": json.dumps([{"id": b.board_id, "name": b.name} for b in found], ensure_ascii=False)}
    if board_id:
        extra["board_id"] = board_id
    return extra
