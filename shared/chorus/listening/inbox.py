"""Everything the inbox ingests is heard by listening too: an ``InboxItemReceived`` event (a new inbound
message, with the sentiment ingest gave it) is matched against the workspace's monitors and, when one
matches, stored as a mention (once, by platform id) and counted for the crisis detector exactly as a
mention found by search is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chorus.events.envelope import DomainEvent
from chorus.listening.monitors import Mention
from chorus.listening.service import Recorded, current_monitors, record_mention
from chorus.store import keys


def mention_of(data: Mapping[str, Any]) -> Mention:
    """The mention an inbox message is (its language only when one was told)."""
    language = data.get("language")
    return Mention(
        platform=str(data["platform"]),
        platform_id=str(data["platform_message_id"]),
        url=None,
        author_handle=data.get("author_handle"),
        author_id=str(data.get("author_id") or ""),
        text=str(data.get("text") or ""),
        created_at=keys.parse_iso(str(data["created_at"])),
        lang=language if language and language != "und" else None,
    )


def on_inbox_item(event: DomainEvent) -> Recorded:
    """Record the message as a mention of every monitor it matches (nothing when none does or when it
    has no sentiment to count)."""
    data = event.data
    if event.name != "InboxItemReceived" or not data.get("text") or not data.get("sentiment"):
        return Recorded(False, ())
    monitors = current_monitors(event.workspace_id)
    if not monitors:
        return Recorded(False, ())
    return record_mention(
        event.workspace_id,
        mention_of(data),
        str(data["sentiment"]),
        monitors,
        sentiment_source=data.get("sentiment_source"),
        inbox={"conversation_id": str(data["conversation_id"]), "message_id": str(data["message_id"])},
        only_if_matched=True,
    )
