"""What the inbox learns from the main table's stream (plain dict images, already deserialised): an
account of a polled platform inserted/removed -> tracked/untracked by the poller. (A target that
became ``published`` is linked to its platform post by :mod:`chorus.posts.published`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chorus.inbox.poller import track_account


def on_stream_record(event_name: str, new: Mapping[str, Any], old: Mapping[str, Any]) -> int:
    image = new or old
    kind = image.get("kind")
    if kind == "account" and event_name in ("INSERT", "REMOVE"):
        track_account(
            str(image["workspace_id"]),
            str(image["account_id"]),
            str(image["platform"]),
            event_name == "INSERT",
        )
        return 1
    return 0
