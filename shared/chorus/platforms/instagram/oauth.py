"""Instagram professional accounts through Facebook Login (the same dialog and tokens as Pages).

The user authorises the Instagram scopes; each Page they manage may have a linked Instagram account,
and the Page's token is the one the Instagram Graph API calls use (``instagram_accounts``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import requests

from chorus.platforms.base import PermanentError
from chorus.platforms.facebook import oauth as facebook
from chorus.platforms.oauth2 import TokenSet
from chorus.platforms.whoami import Owner, get_json, named, obj, text

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
CONSENT = replace(facebook.CONSENT, scopes=DEFAULT_SCOPES)


@dataclass(frozen=True)
class InstagramAccount:
    instagram_account_id: str
    page_id: str
    page_name: str
    access_token: str  # the Page token, used for the Instagram Graph API calls


authorize_url = CONSENT.authorize_url
exchange_code = partial(facebook.exchange_code, platform=PLATFORM)
"""Facebook Login's code exchange (a long-lived user token), its errors named Instagram's."""
refresh = partial(facebook.refresh, platform=PLATFORM)
"""Facebook Login's token extension (``fb_exchange_token``), its errors named Instagram's."""


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


def whoami(
    access_token: str,
    *,
    account_id: str | None = None,
    session: requests.Session | None = None,
    base_url: str = facebook.GRAPH_URL,
) -> Owner:
    """The Instagram professional account a token can act for. A Page token: the account linked to the
    Page (``GET /me?fields=instagram_business_account``). A user token: the account ``account_id`` among
    those linked to the Pages it manages, with that Page's token."""
    me = get_json(
        session,
        f"{base_url}/me",
        PLATFORM,
        token=access_token,
        params={"fields": "id,name,instagram_business_account{id,username}"},
    )
    linked = obj(me.get("instagram_business_account"))
    own = (
        Owner(
            named(linked["id"], PLATFORM),
            text(linked.get("username")),
            extra={"page_id": str(me.get("id", ""))},
        )
        if linked.get("id")
        else None
    )
    if own is not None and account_id in (None, own.account_id):
        return own
    try:
        candidates = instagram_accounts(access_token, session=session, base_url=base_url)
    except PermanentError:
        if own is None:
            raise
        candidates = []  # a Page token lists no Pages
    for found in candidates:
        if account_id is None or found.instagram_account_id == account_id:
            return Owner(
                found.instagram_account_id,
                display_name=found.page_name or None,
                access_token=found.access_token,
                extra={"page_id": found.page_id},
            )
    if own is not None:
        return own  # the Page's own account: not the one asserted, which the caller refuses
    raise PermanentError("the token reaches no Instagram professional account", platform=PLATFORM)
