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
    """The channel the token manages (``channel_id`` among them when the user has several; else the
    first, which the caller then finds is not the one asserted)."""
    body = get_json(
        session,
        f"{api_url.rstrip('/')}/channels",
        PLATFORM,
        token=access_token,
        params={"part": "snippet", "mine": "true"},
    )
    channels = [item for item in listed(body.get("items")) if isinstance(item, dict)]
    if not channels:
        raise PermanentError("the token manages no YouTube channel", platform=PLATFORM)
    chosen = next((c for c in channels if c.get("id") == channel_id), channels[0])
    snippet = obj(chosen.get("snippet"))
    return Owner(
        named(chosen.get("id"), PLATFORM, "channel id"),
        handle=text(snippet.get("customUrl")),
        display_name=text(snippet.get("title")),
    )
