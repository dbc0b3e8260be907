"""Facebook Login for Pages (and Instagram professional accounts linked to them).

- ``authorize_url``: ``https://www.facebook.com/{version}/dialog/oauth`` (comma-separated ``scope``).
- ``exchange_code``: ``GET /oauth/access_token`` (client id, secret, redirect uri, code) gives a
  short-lived user token; by default it is exchanged at once for a long-lived one (~60 days) with
  ``grant_type=fb_exchange_token``.
- ``refresh``: Meta has no refresh tokens; a still-valid long-lived token is exchanged for a new one.
  The stored ``refresh_token`` (normally None) is carried over, never replaced by an empty one.
- ``page_tokens``: ``GET /me/accounts`` lists the Pages the user manages with their page tokens (which
  do not expire when obtained from a long-lived user token) and linked Instagram accounts. The user
  token goes in the ``Authorization`` header, not the URL.
- ``whoami``: the Page a token can act for (a Page token's ``/me``, or a user token's named Page).
- OAuthException code 190 (expired/revoked token) raises ``AuthError`` (``chorus.platforms.http``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import requests

from chorus.platforms.oauth2 import Consent, TokenSet, token_answer, token_set
from chorus.platforms.whoami import Owner, get_json, named, text

__all__ = ["PageToken", "TokenSet", "authorize_url", "exchange_code", "page_tokens", "refresh"]

PLATFORM = "facebook"
GRAPH_VERSION = "v21.0"
GRAPH_URL = f"https://graph.facebook.com/{GRAPH_VERSION}"
DIALOG_URL = f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth"
DEFAULT_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "pages_manage_engagement",
    "read_insights",
)
CONSENT = Consent(DIALOG_URL, DEFAULT_SCOPES, separator=",")
"""Meta's dialog query (client id, redirect URI, state, comma-separated scopes, ``response_type=code``),
which Instagram, Threads, Pinterest and Weibo write the same way on their own pages."""


@dataclass(frozen=True)
class PageToken:
    page_id: str
    name: str
    access_token: str
    instagram_account_id: str | None = None


authorize_url = CONSENT.authorize_url


def exchange_code(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    *,
    long_lived: bool = True,
    session: requests.Session | None = None,
    base_url: str = GRAPH_URL,
    now: datetime | None = None,
    platform: str = PLATFORM,
) -> TokenSet:
    params = {
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
        "code": code,
    }
    body = token_answer(session, f"{base_url}/oauth/access_token", platform, method="GET", params=params)
    short = token_set(body, now=now)
    if not long_lived:
        return short
    return refresh(
        client_id,
        client_secret,
        short.access_token,
        session=session,
        base_url=base_url,
        now=now,
        platform=platform,
    )


def refresh(
    client_id: str,
    client_secret: str,
    access_token: str,
    *,
    refresh_token: str | None = None,
    session: requests.Session | None = None,
    base_url: str = GRAPH_URL,
    now: datetime | None = None,
    platform: str = PLATFORM,
) -> TokenSet:
    params = {"grant_type": "fb_exchange_token", "client_id": client_id, "client_secret": client_secret,
              "fb_exchange_token": access_token}  # fmt: skip
    body = token_answer(session, f"{base_url}/oauth/access_token", platform, method="GET", params=params)
    return token_set(body, previous_refresh=refresh_token, now=now)


def page_tokens(
    user_access_token: str,
    *,
    session: requests.Session | None = None,
    base_url: str = GRAPH_URL,
    platform: str = PLATFORM,
) -> list[PageToken]:
    pages: list[PageToken] = []
    params = {"fields": "id,name,access_token,instagram_business_account", "limit": "100"}
    url: str | None = f"{base_url}/me/accounts"
    while url:
        body = get_json(session, url, platform, token=user_access_token, params=params)
        for page in body.get("data", []):
            instagram = page.get("instagram_business_account") or {}
            pages.append(
                PageToken(
                    page_id=str(page["id"]),
                    name=str(page.get("name", "")),
                    access_token=str(page["access_token"]),
                    instagram_account_id=str(instagram["id"]) if instagram.get("id") else None,
                )
            )
        url = (body.get("paging") or {}).get("next")
        params = {}  # the next link carries every parameter
    return pages


def whoami(
    access_token: str,
    *,
    page_id: str | None = None,
    session: requests.Session | None = None,
    base_url: str = GRAPH_URL,
) -> Owner:
    """The Page a token can act for. A Page token: ``GET /me`` answers the Page itself. A user token:
    the Page ``page_id`` among those it manages (``/me/accounts``), with that Page's own token."""
    me = get_json(session, f"{base_url}/me", PLATFORM, token=access_token, params={"fields": "id,name"})
    own = named(me.get("id"), PLATFORM)
    if page_id is None or own == page_id:
        return Owner(own, display_name=text(me.get("name")))
    for page in page_tokens(access_token, session=session, base_url=base_url):
        if page.page_id == page_id:
            return Owner(page.page_id, display_name=page.name or None, access_token=page.access_token)
    return Owner(own, display_name=text(me.get("name")))
