"""TikTok: whose token is it (``GET /v2/user/info/?fields=open_id,display_name``)."""

from __future__ import annotations

import requests

from chorus.platforms.whoami import Owner, get_json, named, obj, text

PLATFORM = "tiktok"
API_URL = "https://open.tiktokapis.com"


def whoami(access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL) -> Owner:
    body = get_json(
        session,
        f"{api_url.rstrip('/')}/v2/user/info/",
        PLATFORM,
        token=access_token,
        params={"fields": "open_id,display_name"},
    )
    user = obj(obj(body.get("data")).get("user"))
    return Owner(named(user.get("open_id"), PLATFORM, "open_id"), display_name=text(user.get("display_name")))
