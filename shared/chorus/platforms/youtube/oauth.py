"""YouTube: whose token is it (``GET /youtube/v3/channels?part=snippet&mine=true``)."""

from __future__ import annotations

import requests

from chorus.platforms.base import PermanentError
from chorus.platforms.whoami import Owner, get_json, listed, named, obj, text

PLATFORM = "youtube"
API_URL = "https://www.googleapis.com/youtube/v3"


def whoami(
    access_token: str,
    *,
    channel_id: str | None = None,
    session: requests.Session | None = None,
    api_url: str = API_URL,
) -> Owner:
    """The channel the token manages (``channel_id`` among them when the user has several)."""
    body = get_json(
        session,
        f"{api_url.rstrip('/')}/channels",
        PLATFORM,
        token=access_token,
        params={"part": "snippet", "mine": "true"},
    )
    items = listed(body.get("items"))
    for item in items:
        if not isinstance(item, dict):
            continue
        own = named(item.get("id"), PLATFORM, "channel id")
        if channel_id is None or own == channel_id:
            snippet = obj(item.get("snippet"))
            return Owner(own, handle=text(snippet.get("customUrl")), display_name=text(snippet.get("title")))
    raise PermanentError("the token manages no such YouTube channel", platform=PLATFORM)
