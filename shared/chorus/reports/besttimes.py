"""Best days and hours to post, from the workspace's own history. Pure: samples in, heatmap out.

Each published post is one sample: its publish time and its engagement rate (as
:func:`chorus.reports.model.engagement_rate` defines it: over impressions, else reach, else the
account's followers). :func:`best_times` puts every sample in the cell of its *local* weekday and hour
in the report's time zone (0 = Monday) and gives the 7 x 24 = 168 cells, each with the average rate
of its posts and how many there were; a cell without a rated post has ``avg_engagement_rate=None``.
Posts without a rate (no denominator at all) are left out, not counted as 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from chorus.metrics.store import PostScore
from chorus.reports.model import HeatmapCell, engagement_rate


@dataclass(frozen=True)
class PostSample:
    published_at: datetime  # timezone-aware
    engagement_rate: float | None


def best_times(samples: Iterable[PostSample], tz: str = "UTC") -> tuple[HeatmapCell, ...]:
    """The 168 weekday x hour cells (Monday 00:00 first) of average engagement rate in ``tz``."""
    pairs = []
    for sample in samples:
        if sample.published_at.tzinfo is None:
            raise ValueError("published_at must be timezone-aware")
        pairs.append((int(sample.published_at.timestamp()), sample.engagement_rate))
    return best_times_of_epochs(pairs, tz)


def best_times_of_epochs(
    samples: Iterable[tuple[int, float | None]], tz: str = "UTC"
) -> tuple[HeatmapCell, ...]:
    """:func:`best_times` from ``(publish time in Unix seconds, rate)`` pairs: the fast path for a
    year of posts. Local weekday/hour is computed once per UTC quarter hour (every zone offset is a
    multiple of 15 minutes), so DST and half-hour zones stay exact."""
    zone = ZoneInfo(tz)
    totals = [0.0] * 168
    counts = [0] * 168
    slots: dict[int, int] = {}
    for ts, rate in samples:
        if rate is None:
            continue
        quarter = ts // 900
        slot = slots.get(quarter)
        if slot is None:
            local = datetime.fromtimestamp(quarter * 900, zone)
            slot = slots[quarter] = local.weekday() * 24 + local.hour
        totals[slot] += rate
        counts[slot] += 1
    return tuple(
        HeatmapCell(
            weekday=slot // 24,
            hour=slot % 24,
            avg_engagement_rate=(totals[slot] / counts[slot]) if counts[slot] else None,
            posts=counts[slot],
        )
        for slot in range(168)
    )


def score_rate(score: PostScore, followers: int | None = None) -> float | None:
    """A stored post score's engagement rate (``followers`` of its account for the last fallback)."""
    rate, _ = engagement_rate(
        score.engagements, impressions=score.impressions, reach=score.reach, followers=followers
    )
    return rate


def samples_from_scores(
    scores: Iterable[PostScore], followers: Mapping[str, int | None] | None = None
) -> list[PostSample]:
    """Samples from stored post scores; ``followers`` maps account id -> followers (rate fallback)."""
    followers = followers or {}
    return [PostSample(s.published_at, score_rate(s, followers.get(s.account_id))) for s in scores]
