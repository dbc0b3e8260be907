"""Threads: whose token is it (``GET graph.threads.net/v1.0/me``)."""

from __future__ import annotations

import requests

from chorus.platforms.whoami import Owner, get_json, named, text

PLATFORM = "threads"
API_URL = "https://graph.threads.net/v1.0"


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
