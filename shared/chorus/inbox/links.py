"""What the inbox learns from the main table's stream (plain dict images, already deserialised):

* a publish target that became ``published`` -> a link from its platform post id to the Chorus post,
  so an inbound comment whose ``post_ref`` is that id is linked to the post;
* an account of a polled platform inserted/removed -> tracked/untracked by the poller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chorus.inbox.poller import track_account
from chorus.inbox.store import save_post_link


def on_stream_record(event_name: str, new: Mapping[str, Any], old: Mapping[str, Any]) -> int:
    image = new or old
    kind = image.get("kind")
    if kind == "target":
        if (
            new.get("state") == "published"
            and new.get("platform_post_id")
            and old.get("platform_post_id") != new.get("platform_post_id")
        ):
            save_post_link(
                str(new["workspace_id"]),
                str(new["account_id"]),
                str(new["platform_post_id"]),
                str(new["post_id"]),
            )
            return 1
        return 0
    if kind == "account" and event_name in ("INSERT", "REMOVE"):
        track_account(
            str(image["workspace_id"]),
            str(image["account_id"]),
            str(image["platform"]),
            event_name == "INSERT",
        )
        return 1
    return 0
