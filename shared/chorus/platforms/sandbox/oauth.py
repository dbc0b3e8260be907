"""The sandbox platform (local only): whose token is it (``GET {sandbox}/api/me``)."""

from __future__ import annotations

import requests

from chorus.platforms.whoami import Owner, get_json, named, text

PLATFORM = "sandbox"


def whoami(access_token: str, *, base_url: str, session: requests.Session | None = None) -> Owner:
    me = get_json(session, f"{base_url.rstrip('/')}/api/me", PLATFORM, token=access_token)
    return Owner(named(me.get("id"), PLATFORM), handle=text(me.get("username")))
