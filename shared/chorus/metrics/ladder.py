"""When metrics are next due: the post "age ladder" and the daily account rule. Pure: ``now`` is passed in.

A post is collected often while its numbers move and rarely once they settle:

=============  =====================  ==================
band           age of the post        collected every
=============  =====================  ==================
``hourly``     [0, 1 day)             1 hour
``six_hourly`` [1 day, 7 days)        6 hours
``daily``      [7 days, 30 days)      1 day
``weekly``     [30 days, 90 days)     7 days
``done``       90 days and older      never again
=============  =====================  ==================

The interval is the band of the post's age at its *last* collection; the first collection is due one
hour after publishing. A due time never goes past the 90-day mark, so every post gets a final reading
at exactly 90 days, and once a reading at 90 days or later exists nothing more is due.

Accounts are collected once per UTC calendar day, which lines up with the daily rollups and does not
drift later each day the way "24 hours after the last run" does under a periodic scheduler.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple


class Band(NamedTuple):
    name: str
    until_age: timedelta  # the band holds ages below this
    interval: timedelta


BANDS: tuple[Band, ...] = (
    Band("hourly", timedelta(days=1), timedelta(hours=1)),
    Band("six_hourly", timedelta(days=7), timedelta(hours=6)),
    Band("daily", timedelta(days=30), timedelta(days=1)),
    Band("weekly", timedelta(days=90), timedelta(days=7)),
)
DONE = "done"
NOT_PUBLISHED = "not_published"
LADDER_END = BANDS[-1].until_age  # 90 days


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _band_for_age(age: timedelta) -> Band | None:
    for band in BANDS:
        if age < band.until_age:
            return band
    return None


def post_band(published_at: datetime, now: datetime) -> str:
    """The ladder band a post is in at ``now`` (for logs): hourly, six_hourly, daily, weekly, done,
    or not_published when ``now`` is before ``published_at``."""
    age = _aware("now", now) - _aware("published_at", published_at)
    if age < timedelta(0):
        return NOT_PUBLISHED
    band = _band_for_age(age)
    return band.name if band else DONE


def next_post_collection(
    published_at: datetime, last_collected_at: datetime | None, now: datetime
) -> datetime | None:
    """When the post's metrics are next due (possibly in the past: then they are overdue), or None when
    the ladder is finished. ``now`` is part of the signature for symmetry with :func:`post_is_due`;
    the answer depends only on the publish and last collection times.
    """
    published = _aware("published_at", published_at)
    _aware("now", now)
    end = published + LADDER_END
    if last_collected_at is None:
        return published + BANDS[0].interval
    last = _aware("last_collected_at", last_collected_at)
    if last >= end:
        return None
    band = _band_for_age(max(last - published, timedelta(0)))
    interval = band.interval if band else BANDS[-1].interval
    return min(last + interval, end)


def post_is_due(published_at: datetime, last_collected_at: datetime | None, now: datetime) -> bool:
    """True when the post's metrics should be collected at ``now``."""
    due = next_post_collection(published_at, last_collected_at, now)
    return due is not None and _aware("now", now) >= due


def next_account_collection(last_collected_at: datetime | None, now: datetime) -> datetime:
    """Start of the UTC day after the last collection (``now`` when never collected)."""
    current = _aware("now", now)
    if last_collected_at is None:
        return current
    last_day = _aware("last_collected_at", last_collected_at).date()
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=UTC)


def account_is_due(last_collected_at: datetime | None, now: datetime) -> bool:
    """True when the account has not been collected yet on ``now``'s UTC day."""
    return _aware("now", now) >= next_account_collection(last_collected_at, now)
