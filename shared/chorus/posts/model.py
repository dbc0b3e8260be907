"""Posts and their publish targets (one per account), and the target lifecycle.

    draft ──► pending_approval ──► scheduled ──► queued ──► publishing ──► published
                    │                  ▲  │         │  ▲         │   │
                    ▼                  │  ▼         ▼  │         │   └─► processing (async step) ─┐
                 rejected           paused      (retry/park)     └─► verifying ──► published       │
                                                                              └──► queued (retry)  │
    any editable state ──► cancelled            publishing/verifying/processing ──► failed ◄───────┘

    Reminder publishing (a platform or content kind apps cannot publish: chorus.posts.reminders):

    queued ──► awaiting_manual ──(marked posted with its URL)──► published
                    │                                              ▲
                    └──(nobody marked it in time)──► overdue ──────┘

    An inbox draft (TikTok's "upload to inbox": the platform holds it for a person to finish in its app):

    publishing/processing ──► sent_to_inbox ──(marked posted with its URL)──► published

Every move is a conditional write on the current state (and the queue token of the message that asks
for it), so of two workers only one wins, and a message for an edited or cancelled target is ignored.

Since session 9 the scheduler hands a target out without writing it: the claim moves it
``scheduled -> publishing`` (conditional on the message's token and due time, so a rescheduled
target's old message is ignored too), and reminder publishing ``scheduled -> awaiting_manual``.
``queued`` is a target the publisher (or a person's retry) sent a message for: a retry, a parked
target, a target handed out before session 9; its claim is ``queued -> publishing`` as drawn above.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from chorus.platforms.base import part_names


class TargetState(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    PAUSED = "paused"
    QUEUED = "queued"
    PUBLISHING = "publishing"
    VERIFYING = "verifying"
    PROCESSING = "processing"
    PUBLISHED = "published"
    PARTIALLY_PUBLISHED = "partially_published"  # the root is out, a later part failed: retry completes it
    FAILED = "failed"
    CANCELLED = "cancelled"
    AWAITING_MANUAL = "awaiting_manual"  # reminder publishing: a person posts it by hand, then marks it
    OVERDUE = "overdue"  # awaiting_manual past the workspace's window (an alert went out); still markable
    SENT_TO_INBOX = "sent_to_inbox"  # a draft in the account's inbox on the platform, finished in its app


#: States from which a post may still be edited, rescheduled or cancelled.
EDITABLE = frozenset(
    {
        TargetState.DRAFT,
        TargetState.PENDING_APPROVAL,
        TargetState.REJECTED,
        TargetState.SCHEDULED,
        TargetState.PAUSED,
        TargetState.QUEUED,
        TargetState.FAILED,
    }
)
IN_FLIGHT = frozenset({TargetState.PUBLISHING, TargetState.VERIFYING, TargetState.PROCESSING})
#: States a person may mark "posted" from (reminder publishing, a draft finished in the platform's app).
MARKABLE = frozenset({TargetState.AWAITING_MANUAL, TargetState.OVERDUE, TargetState.SENT_TO_INBOX})


class Mode(StrEnum):
    DRAFT = "draft"
    SCHEDULE = "schedule"
    NOW = "now"
    QUEUE = "queue"


@dataclass(frozen=True)
class MediaRef:
    mime_type: str
    key: str | None = None  # an upload in the media bucket
    url: str | None = None  # or an external URL (CSV import)
    size: int | None = None
    alt_text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaRef:
        return cls(
            mime_type=data["mime_type"],
            key=data.get("key"),
            url=data.get("url"),
            size=data.get("size"),
            alt_text=data.get("alt_text", ""),
        )


@dataclass(frozen=True)
class Content:
    """What is published; a per-account variant overrides any field for that account."""

    text: str = ""
    media: tuple[MediaRef, ...] = ()
    link: str | None = None
    thread: tuple[str, ...] = ()
    first_comment: str | None = None
    title: str | None = None  # a note's or article's title where the platform has one (Xiaohongshu, Zhihu)
    # each platform's own settings, by platform: {"youtube": {"privacy": "unlisted"}, "tiktok": {...}}
    # (chorus.posts.validation.PLATFORM_OPTIONS)
    options: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "text": self.text,
            "media": [m.to_dict() for m in self.media],
            "link": self.link,
            "thread": list(self.thread),
            "first_comment": self.first_comment,
            "options": {platform: dict(values) for platform, values in self.options.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Content:
        return cls(
            text=data.get("text") or "",
            media=tuple(MediaRef.from_dict(m) for m in data.get("media") or []),
            link=data.get("link"),
            thread=tuple(data.get("thread") or []),
            first_comment=data.get("first_comment"),
            title=data.get("title"),
            options={
                str(p): {str(k): str(v) for k, v in (o or {}).items()}
                for p, o in (data.get("options") or {}).items()
            },
        )


@dataclass(frozen=True)
class Attempt:
    at: datetime
    outcome: str  # published | retry | rate_limited | unknown | failed | verified | not_found | crashed
    detail: str = ""
    status: int | None = None


@dataclass(frozen=True)
class Target:
    workspace_id: str
    post_id: str
    account_id: str
    platform: str
    state: TargetState
    due_at: datetime | None
    queue_token: str | None = None
    attempts: int = 0
    attempt_log: tuple[Attempt, ...] = ()
    platform_post_id: str | None = None
    url: str | None = None
    error: str | None = None
    error_code: str | None = None
    step: str | None = None
    step_state: dict[str, str] = field(default_factory=dict)
    published_at: datetime | None = None
    # Persisted idempotency material and per-part progress (see chorus.platforms.base.Progress).
    idem_key: str | None = None
    started_at: datetime | None = None
    parts: dict[str, str] = field(default_factory=dict)  # part name ("0" root, "1".., "comment") -> id
    sent_parts: frozenset[str] = frozenset()  # sent with no known answer: verified before a resend
    verify_looks: int = 0
    # Reminder publishing: when the reminder went out, and when an unmarked target becomes overdue.
    reminded_at: datetime | None = None
    overdue_at: datetime | None = None

    @property
    def id(self) -> str:
        return f"{self.post_id}.{self.account_id}"

    def missing_parts(self, planned: Sequence[str]) -> list[str]:
        """The parts of ``planned`` that a partially published or failed target still lacks."""
        if self.state not in {TargetState.PARTIALLY_PUBLISHED, TargetState.FAILED}:
            return []
        return [p for p in planned if p not in self.parts]

    def public(self, planned: Sequence[str] = ()) -> dict[str, Any]:
        """The target as the API shows it; ``planned`` (the parts of its content) lists what is missing."""
        return {
            "account_id": self.account_id,
            "platform": self.platform,
            "state": self.state.value,
            "due_at": self.due_at,
            "attempts": self.attempts,
            "platform_post_id": self.platform_post_id,
            "url": self.url,
            "error": self.error,
            "error_code": self.error_code,
            "published_at": self.published_at,
            "reminded_at": self.reminded_at,
            "overdue_at": self.overdue_at,
            "parts": dict(self.parts),
            "missing_parts": self.missing_parts(planned),
            "attempt_log": [
                {"at": a.at, "outcome": a.outcome, "detail": a.detail, "status": a.status}
                for a in self.attempt_log
            ],
        }


@dataclass(frozen=True)
class Post:
    workspace_id: str
    id: str
    content: Content
    variants: dict[str, Content]
    account_ids: tuple[str, ...]
    mode: Mode
    scheduled_at: datetime | None
    timezone: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    approval: dict[str, Any] | None = None
    series_id: str | None = None
    targets: tuple[Target, ...] = ()
    campaign_id: str | None = None
    utm: dict[str, str] = field(default_factory=dict)  # the post's own UTM values (chorus.links.utm)
    assignee: str | None = None  # who posts it by hand where Chorus cannot ("user:<id>"; None: the author)
    tags: tuple[str, ...] = ()  # the team's own labels (chorus.tags), for filtering the calendar

    @property
    def responsible(self) -> str:
        """Who gets a reminder to post it by hand: the assignee, else the author."""
        return self.assignee or self.created_by

    def content_for(self, account_id: str) -> Content:
        return self.variants.get(account_id, self.content)

    def planned_parts(self, account_id: str) -> list[str]:
        """Every part published to ``account_id`` in order: root, thread parts, first comment."""
        content = self.content_for(account_id)
        return part_names(len(content.thread), bool(content.first_comment))

    def only(self, account_ids: Iterable[str]) -> Post:
        """The post as someone who may see only ``account_ids`` sees it: their targets and variants."""
        keep = set(account_ids)
        return replace(
            self,
            account_ids=tuple(a for a in self.account_ids if a in keep),
            variants={a: c for a, c in self.variants.items() if a in keep},
            targets=tuple(t for t in self.targets if t.account_id in keep),
        )

    @property
    def status(self) -> str:
        """The post's state, derived from its targets (:func:`status_of`)."""
        return status_of({t.state for t in self.targets})

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "mode": self.mode.value,
            "scheduled_at": self.scheduled_at,
            "timezone": self.timezone,
            "content": self.content.to_dict(),
            "variants": {k: v.to_dict() for k, v in self.variants.items()},
            "accounts": list(self.account_ids),
            "approval": self.approval,
            "series_id": self.series_id,
            "campaign_id": self.campaign_id,
            "utm": dict(self.utm),
            "tags": list(self.tags),
            "version": self.version,
            "created_by": self.created_by,
            "assignee": self.responsible,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "targets": [t.public(self.planned_parts(t.account_id)) for t in self.targets],
        }


def status_of(states: set[TargetState]) -> str:
    """A post's state, derived from the states of its targets."""
    if not states:
        return "draft"
    if len(states) == 1:
        return next(iter(states)).value
    if states & IN_FLIGHT or TargetState.QUEUED in states:
        return "publishing"
    if TargetState.OVERDUE in states:
        return "overdue"
    if TargetState.AWAITING_MANUAL in states:
        return "awaiting_manual"
    if TargetState.SENT_TO_INBOX in states:
        return "sent_to_inbox"
    if states <= {TargetState.PUBLISHED, TargetState.FAILED, TargetState.PARTIALLY_PUBLISHED}:
        return "partially_published"
    if TargetState.PUBLISHED in states:
        return "partially_published"
    return "scheduled"
