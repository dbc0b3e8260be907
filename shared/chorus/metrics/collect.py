"""The collection job of one account: ask the platform for what is due, record what it answers.

Given an account's collector and credentials, its published posts (with their publish time and last
collection time) and when the account itself was last collected, :func:`collect_account`:

1. picks the posts the age ladder says are due at ``now`` (:mod:`chorus.metrics.ladder`) and asks the
   collector for all of them in one ``post_metrics`` call (collectors batch ids as their API allows);
2. records each post's points with its metadata (a post the platform no longer returns is recorded
   with no points: it still counts as published, and is reported as missing);
3. collects the account's own metrics when its daily collection is due, and records them.

It knows nothing of AWS: points go through a :class:`PointRecorder` (the metrics store in production,
a fake in tests). Platform errors (rate limits, revoked tokens) propagate to the caller, which parks or
flags the account; whatever was recorded before the error stays, and a re-run does not record it twice
because recording is idempotent. The caller keeps the collection times: the outcome says which posts
were collected at ``now`` (and which of them their recording marked collected already: a post's first
recording folds it and stores the time in the same transaction) and when the account is next due.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from chorus.metrics import ladder
from chorus.metrics.store import PostInfo, RecordResult
from chorus.platforms.base import AccountCredentials, MetricPoint, MetricsCollector, MetricScope

logger = logging.getLogger(__name__)


class PointRecorder(Protocol):
    """Where points go (:class:`~chorus.metrics.store.MetricsStore` satisfies it)."""

    def record_post_points(
        self,
        workspace_id: str,
        account_id: str,
        post: PostInfo,
        points: Iterable[MetricPoint],
        *,
        collected_at: datetime | None = None,
    ) -> RecordResult: ...

    def record_account_points(
        self, workspace_id: str, account_id: str, points: Iterable[MetricPoint]
    ) -> RecordResult: ...


@dataclass(frozen=True)
class PublishedPost:
    info: PostInfo
    last_collected_at: datetime | None = None


@dataclass(frozen=True)
class AccountJob:
    """One account's collection: who it is, how to call its platform, and what it has published."""

    workspace_id: str
    account_id: str  # Chorus's account id (rollups are per Chorus account)
    creds: AccountCredentials
    posts: Sequence[PublishedPost] = ()
    account_last_collected_at: datetime | None = None


@dataclass(frozen=True)
class CollectionOutcome:
    collected_at: datetime
    posts_collected: tuple[str, ...] = ()  # platform post ids asked for (collected at ``collected_at``)
    posts_missing: tuple[str, ...] = ()  # asked for, but the platform returned no point
    posts_marked: tuple[str, ...] = ()  # of those collected, the ones their recording marked collected
    account_collected: bool = False
    recorded: RecordResult = field(default_factory=RecordResult)
    next_due: datetime | None = None  # earliest next collection of any post or the account


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _default_recorder() -> PointRecorder:
    from chorus.metrics.store import MetricsStore

    return MetricsStore()


def due_posts(posts: Iterable[PublishedPost], now: datetime) -> list[PublishedPost]:
    """The posts whose metrics the ladder says are due at ``now``."""
    return [p for p in posts if ladder.post_is_due(p.info.published_at, p.last_collected_at, now)]


def collect_account(
    job: AccountJob,
    collector: MetricsCollector,
    recorder: PointRecorder | None = None,
    *,
    clock: Callable[[], datetime] = _utc_now,
) -> CollectionOutcome:
    """Collect and record what is due for one account at ``clock()`` (see the module docstring)."""
    now = clock()
    recorder = recorder or _default_recorder()
    recorded = RecordResult()
    due = due_posts(job.posts, now)
    missing: list[str] = []
    marked: list[str] = []
    if due:
        asked = [p.info.platform_post_id for p in due]
        by_post: dict[str, list[MetricPoint]] = {pid: [] for pid in asked}
        for point in collector.post_metrics(job.creds, asked):
            if point.scope == MetricScope.POST and point.object_id in by_post:
                by_post[point.object_id].append(point)
            else:
                logger.warning(
                    "unexpected_point",
                    extra={
                        "account_id": job.account_id,
                        "object_id": point.object_id,
                        "metric": point.metric,
                    },
                )
        for post in due:
            points = by_post[post.info.platform_post_id]
            if not points:
                missing.append(post.info.platform_post_id)
            result = recorder.record_post_points(
                job.workspace_id, job.account_id, post.info, points, collected_at=now
            )
            if result.folded:
                marked.append(post.info.platform_post_id)
            recorded += result
    account_due = ladder.account_is_due(job.account_last_collected_at, now)
    if account_due:
        points = [
            p
            for p in collector.account_metrics(job.creds)
            if p.scope == MetricScope.ACCOUNT and p.object_id == job.creds.account_id
        ]
        recorded += recorder.record_account_points(job.workspace_id, job.account_id, points)
    outcome = CollectionOutcome(
        collected_at=now,
        posts_collected=tuple(p.info.platform_post_id for p in due),
        posts_missing=tuple(missing),
        posts_marked=tuple(marked),
        account_collected=account_due,
        recorded=recorded,
        next_due=_next_due(job, {p.info.platform_post_id for p in due}, account_due, now),
    )
    logger.info(
        "metrics_collected",
        extra={
            "account_id": job.account_id,
            "platform": job.creds.platform,
            "posts": len(due),
            "missing": len(missing),
            "account": account_due,
            "written": recorded.written,
            "duplicates": recorded.duplicates,
        },
    )
    return outcome


def _next_due(
    job: AccountJob, collected: set[str], account_collected: bool, now: datetime
) -> datetime | None:
    times = [
        ladder.next_post_collection(
            p.info.published_at,
            now if p.info.platform_post_id in collected else p.last_collected_at,
            now,
        )
        for p in job.posts
    ]
    account_last = now if account_collected else job.account_last_collected_at
    times.append(ladder.next_account_collection(account_last, now))
    found = [t for t in times if t is not None]
    return min(found) if found else None
