"""Typed domain events: one envelope, one naming rule (PastTense nouns: PublishFailed, InboxItemReceived,
CrisisRaised), published to the workspace's EventBridge bus through a small port. (A published post is no
event: what follows it reads the main table's stream, chorus.posts.published.)"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from chorus.store.keys import iso

# name -> source: the source is the concept that owns the event; IAM limits PutEvents by source.
EVENT_SOURCES: Mapping[str, str] = {
    "WorkspaceCreated": "chorus.workspaces",
    "PublishFailed": "chorus.posts",
    "PublishPartiallyFailed": "chorus.posts",  # the root is out, a later part failed: parts listed
    "ManualPublishOverdue": "chorus.posts",  # reminder publishing: nobody marked a post posted in time
    "AccountNeedsReauth": "chorus.accounts",
    "AccountTokenExpiring": "chorus.accounts",  # a token that cannot be refreshed ends within 7 days
    "InboxItemReceived": "chorus.inbox",
    "InboxSlaBreached": "chorus.inbox",  # a conversation passed a service-level target (chorus.inbox.sla)
    "CrisisRaised": "chorus.listening",
    "CrisisEscalated": "chorus.listening",
    "Heartbeat": "chorus.system",
}


def _new_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DomainEvent:
    name: str
    workspace_id: str
    data: Mapping[str, Any]
    correlation_id: str = field(default_factory=_new_id)
    version: str = "1"
    id: str = field(default_factory=_new_id)
    time: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.name not in EVENT_SOURCES:
            raise ValueError(f"unknown domain event {self.name!r}: declare it in EVENT_SOURCES")

    @property
    def source(self) -> str:
        return EVENT_SOURCES[self.name]

    def detail(self) -> dict[str, Any]:
        return {
            "metadata": {
                "id": self.id,
                "version": self.version,
                "correlation_id": self.correlation_id,
                "workspace_id": self.workspace_id,
                "time": iso(self.time),
            },
            "data": dict(self.data),
        }

    @classmethod
    def from_eventbridge(cls, event: Mapping[str, Any]) -> DomainEvent:
        detail = event["detail"]
        meta = detail["metadata"]
        return cls(
            name=event["detail-type"],
            workspace_id=meta["workspace_id"],
            data=detail["data"],
            correlation_id=meta["correlation_id"],
            version=meta["version"],
            id=meta["id"],
            time=datetime.fromisoformat(meta["time"].replace("Z", "+00:00")),
        )


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> None: ...


class InMemoryEventPublisher:
    """A fake for domain tests."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def publish(self, events: Sequence[DomainEvent]) -> None:
        self.events.extend(events)

    def names(self) -> list[str]:
        return [e.name for e in self.events]


class EventBridgePublisher:
    """Adapter: PutEvents in chunks of 10; raises when EventBridge rejects an entry (nothing silent)."""

    def __init__(self, bus_name: str, client: Any) -> None:
        self._bus = bus_name
        self._client = client

    def publish(self, events: Sequence[DomainEvent]) -> None:
        for start in range(0, len(events), 10):
            chunk = events[start : start + 10]
            entries = [
                {
                    "EventBusName": self._bus,
                    "Source": e.source,
                    "DetailType": e.name,
                    "Detail": json.dumps(e.detail(), default=str),
                    "Time": e.time,
                }
                for e in chunk
            ]
            answer = self._client.put_events(Entries=entries)
            if answer.get("FailedEntryCount"):
                failed = [x for x in answer["Entries"] if x.get("ErrorCode")]
                raise RuntimeError(f"EventBridge rejected {len(failed)} event(s): {failed}")
