"""YouTube Data API quota: units counted per call, and the daily budget never exceeded.

A Google Cloud project has two daily buckets (``fixtures/platform_api/publishing/youtube/
api_reference.json``, ``determine_quota_cost``): **uploads** (``videos.insert``: 1 unit a call, 100 a
day) and **units** (10,000 a day for every other method: ``videos.list`` / ``channels.list`` /
``playlistItems.list`` 1, ``thumbnails.set`` 50). Both reset at **midnight Pacific Time**. The budget is
the deployment's (one project, every workspace), so it lives in a shared ledger (``chorus.store.quotas``).

Every call is charged *before* it is sent. A charge that does not fit raises :class:`RateLimited` with
the wait until the next quota day and the reason ("YouTube's daily upload quota ... is used up"): the
publisher parks the target (never fails it) and shows that reason in its attempts. A ``403
quotaExceeded`` from Google (another client of the same project spent it) marks the bucket full for the
day and waits the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from chorus.platforms.base import RateLimited

PLATFORM = "youtube"
PACIFIC = ZoneInfo("America/Los_Angeles")
UPLOADS = "uploads"
UNITS = "units"
LIMITS = {UPLOADS: 100, UNITS: 10_000}
"""The default daily allocation of each bucket."""
COST = {"videos.insert": (UPLOADS, 1), "thumbnails.set": (UNITS, 50), "videos.list": (UNITS, 1),
        "channels.list": (UNITS, 1), "playlistItems.list": (UNITS, 1), "commentThreads.list": (UNITS, 1),
        "comments.list": (UNITS, 1), "comments.insert": (UNITS, 50), "videos.delete": (UNITS, 50)}  # fmt: skip
"""Each method Chorus calls: (bucket, units a call)."""
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})


class QuotaLedger(Protocol):
    """Where units spent are counted (``chorus.store.quotas.DynamoQuotaLedger``)."""

    def charge(self, bucket: str, day: str, units: int, limit: int) -> bool: ...

    def exhaust(self, bucket: str, day: str, limit: int) -> None: ...

    def used(self, bucket: str, day: str) -> int: ...


@dataclass
class MemoryLedger:
    """A ledger in memory (tests, one process)."""

    spent: dict[tuple[str, str], int]

    def __init__(self) -> None:
        self.spent = {}

    def charge(self, bucket: str, day: str, units: int, limit: int) -> bool:
        if self.spent.get((bucket, day), 0) + units > limit:
            return False
        self.spent[(bucket, day)] = self.spent.get((bucket, day), 0) + units
        return True

    def exhaust(self, bucket: str, day: str, limit: int) -> None:
        self.spent[(bucket, day)] = limit

    def used(self, bucket: str, day: str) -> int:
        return self.spent.get((bucket, day), 0)


def quota_day(now: datetime) -> str:
    """The quota day ``now`` falls in (its date in Pacific Time)."""
    return now.astimezone(PACIFIC).date().isoformat()


def until_next_quota_day(now: datetime) -> float:
    """Seconds from ``now`` until the next midnight Pacific Time (daylight saving included)."""
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=PACIFIC)
    return max(1.0, (midnight.astimezone(UTC) - now.astimezone(UTC)).total_seconds())


def default_ledger() -> QuotaLedger:
    from chorus.store.quotas import DynamoQuotaLedger

    return DynamoQuotaLedger(PLATFORM)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Quota:
    """The project's daily budget: ``charge(method)`` before each call, ``watch()`` around it."""

    def __init__(
        self,
        ledger: QuotaLedger | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        limits: dict[str, int] | None = None,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self.limits = {**LIMITS, **(limits or {})}

    @property
    def ledger(self) -> QuotaLedger:
        if self._ledger is None:
            self._ledger = default_ledger()
        return self._ledger

    def now(self) -> datetime:
        return (self._clock or _utc_now)()

    def charge(self, method: str) -> None:
        """Spend ``method``'s units, or raise :class:`RateLimited` until the next quota day."""
        bucket, units = COST[method]
        now = self.now()
        limit = self.limits[bucket]
        if not self.ledger.charge(bucket, quota_day(now), units, limit):
            raise self._spent(bucket, now)

    def _spent(self, bucket: str, now: datetime) -> RateLimited:
        what = (f"daily upload quota ({self.limits[UPLOADS]} videos a day)" if bucket == UPLOADS
                else f"daily API quota ({self.limits[UNITS]:,} units)")  # fmt: skip
        return RateLimited(
            f"YouTube's {what} is used up for {quota_day(now)}: waiting for the next quota day "
            "(midnight Pacific Time)",
            retry_after=until_next_quota_day(now),
            platform=PLATFORM,
            code="quotaExceeded",
        )

    @contextmanager
    def watch(self, method: str) -> Iterator[None]:
        """Google's own ``quotaExceeded`` (the project's budget spent elsewhere): the bucket is full
        until the next quota day, and the call waits for it."""
        try:
            yield
        except RateLimited as exc:
            if exc.code not in QUOTA_REASONS:
                raise
            bucket = COST[method][0]
            now = self.now()
            self.ledger.exhaust(bucket, quota_day(now), self.limits[bucket])
            raise self._spent(bucket, now) from None
