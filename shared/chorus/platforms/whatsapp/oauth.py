"""WhatsApp Cloud API: the phone number a token can read.

WhatsApp webhooks name the business phone number id; a system-user token proves it can act for that
number when ``GET /{phone-number-id}?fields=id,display_phone_number,verified_name`` answers it.
"""

from __future__ import annotations

import requests

from chorus.platforms.facebook.oauth import GRAPH_URL
from chorus.platforms.whoami import Owner, get_json, named, text

PLATFORM = "whatsapp"


def whoami(
    access_token: str,
    *,
    phone_number_id: str,
    session: requests.Session | None = None,
    base_url: str = GRAPH_URL,
) -> Owner:
    body = get_json(
        session,
        f"{base_url}/{phone_number_id}",
        PLATFORM,
        token=access_token,
        params={"fields": "id,display_phone_number,verified_name"},
    )
    return Owner(
        named(body.get("id"), PLATFORM, "phone number id"),
        handle=text(body.get("display_phone_number")),
        display_name=text(body.get("verified_name")),
    )
