"""Inbound events for no connected account: kept aside for operators, delivered to no workspace.

A webhook (or a polled page) can name an account no workspace connected: a Page still subscribed after
its account was removed, an app shared by two deployments, a forged ``account_ref`` in a body signed
with a leaked secret. Such an event is never delivered to "every workspace" nor to a guess. It is
recorded once (the queue may redeliver it) under the ``UNROUTED`` partition with what an operator needs
to find its source, and nothing of its content: platform, the account it named, the platform's message
id, its kind and when it came. Records expire after :data:`KEEP`; a counter per day and platform
(``COUNT#<day>#<platform>``) stays, and the ingest worker reports the batch's count as a metric.

Operators read them with ``chorus inbox unrouted`` (:func:`unrouted`; an ``aws dynamodb query`` on
``pk = UNROUTED`` shows the same).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from chorus.inbox.normalized import Deletion, InboundEvent, InboundMessage, Revocation
from chorus.store.keys import iso
from chorus.store.models import MainItem, bind

log = logging.getLogger(__name__)

PARTITION = "UNROUTED"
KEEP = timedelta(days=14)


class UnroutedItem(MainItem, discriminator="unrouted"):
    platform = UnicodeAttribute()
    account_ref = UnicodeAttribute()
    platform_message_id = UnicodeAttribute(null=True)
    event = UnicodeAttribute()  # message | deletion | revocation
    received_at = UTCDateTimeAttribute()


class UnroutedCount(MainItem, discriminator="unrouted_count"):
    platform = UnicodeAttribute()
    day = UnicodeAttribute()
    events = NumberAttribute(default=0)


@dataclass(frozen=True)
class Unrouted:
    platform: str
    account_ref: str
    platform_message_id: str | None
    event: str
    received_at: datetime


def _describe(event: InboundEvent) -> tuple[str, str | None]:
    if isinstance(event, InboundMessage):
        return "message", event.platform_message_id
    if isinstance(event, Deletion):
        return "deletion", event.platform_message_id
    if isinstance(event, Revocation):
        return "revocation", None
    return type(event).__name__.lower(), None


def keep_aside(event: InboundEvent, received_at: datetime) -> bool:
    """Record an event no account matched (once per event); True when it was new."""
    kind, message_id = _describe(event)
    bind()
    item = UnroutedItem(
        PARTITION,
        f"AT#{iso(received_at)}#{event.platform}#{event.account_ref}#{message_id or kind}",
        platform=event.platform,
        account_ref=event.account_ref,
        platform_message_id=message_id,
        event=kind,
        received_at=received_at,
        expires_at=received_at + KEEP,
    )
    try:
        item.save(condition=UnroutedItem.pk.does_not_exist())
    except PutError:
        return False  # a redelivery of a body already kept aside
    day = received_at.date().isoformat()
    UnroutedCount(PARTITION, f"COUNT#{day}#{event.platform}", platform=event.platform, day=day).update(
        actions=[
            UnroutedCount.kind.set(UnroutedCount),  # queries of the subclass filter on it
            UnroutedCount.events.add(1),
            UnroutedCount.platform.set(event.platform),
            UnroutedCount.day.set(day),
        ]
    )
    log.warning(
        "inbound event for no connected account kept aside",
        extra={"platform": event.platform, "account_ref": event.account_ref, "event": kind},
    )
    return True


def unrouted(limit: int = 100) -> list[Unrouted]:
    """The most recent events kept aside, newest first."""
    bind()
    return [
        Unrouted(i.platform, i.account_ref, i.platform_message_id, i.event, i.received_at)
        for i in UnroutedItem.query(
            PARTITION, UnroutedItem.sk.startswith("AT#"), scan_index_forward=False, limit=limit
        )
        if isinstance(i, UnroutedItem)
    ]


def unrouted_counts(day: str) -> dict[str, int]:
    """Events kept aside on ``day`` (YYYY-MM-DD), per platform."""
    bind()
    return {
        i.platform: int(i.events)
        for i in UnroutedCount.query(PARTITION, UnroutedCount.sk.startswith(f"COUNT#{day}#"))
        if isinstance(i, UnroutedCount)
    }
