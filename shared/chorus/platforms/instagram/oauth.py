"""Instagram professional accounts through Facebook Login (the same dialog and tokens as Pages).

The user authorises the Instagram scopes; each Page they manage may have a linked Instagram account,
and the Page's token is the one the Instagram Graph API calls use (``instagram_accounts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import requests

from chorus.platforms.facebook import oauth as facebook
from chorus.platforms.x.oauth import TokenSet

__all__ = ["InstagramAccount", "TokenSet", "authorize_url", "exchange_code", "instagram_accounts", "refresh"]

PLATFORM = "instagram"
DEFAULT_SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "pages_show_list",
    "pages_read_engagement",
    "business_management",
)


@dataclass(frozen=True)
class InstagramAccount:
    instagram_account_id: str
    page_id: str
    page_name: str
    access_token: str  # the Page token, used for the Instagram Graph API calls


def authorize_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    *,
    dialog_url: str = facebook.DIALOG_URL,
) -> str:
    return facebook.authorize_url(client_id, redirect_uri, state, scopes, dialog_url=dialog_url)


def exchange_code(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    *,
    session: requests.Session | None = None,
    base_url: str = facebook.GRAPH_URL,
    now: datetime | None = None,
) -> TokenSet:
    return facebook.exchange_code(
        client_id,
        client_secret,
        redirect_uri,
        code,
        session=session,
        base_url=base_url,
        now=now,
        platform=PLATFORM,
    )


def refresh(
    client_id: str,
    client_secret: str,
    access_token: str,
    *,
    refresh_token: str | None = None,
    session: requests.Session | None = None,
    base_url: str = facebook.GRAPH_URL,
    now: datetime | None = None,
) -> TokenSet:
    return facebook.refresh(
        client_id,
        client_secret,
        access_token,
        refresh_token=refresh_token,
        session=session,
        base_url=base_url,
        now=now,
        platform=PLATFORM,
    )


def instagram_accounts(
    user_access_token: str, *, session: requests.Session | None = None, base_url: str = facebook.GRAPH_URL
) -> list[InstagramAccount]:
    return [
        InstagramAccount(page.instagram_account_id, page.page_id, page.name, page.access_token)
        for page in facebook.page_tokens(
            user_access_token, session=session, base_url=base_url, platform=PLATFORM
        )
        if page.instagram_account_id
    ]
