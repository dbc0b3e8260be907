"""Best days and hours to post, from the workspace's own history. Pure: samples in, heatmap out.

Each published post is one sample: its publish time and its engagement rate (as
:func:`chorus.reports.model.engagement_rate` defines it: over impressions, else reach, else the
account's followers). :func:`best_times` puts every sample in the cell of its *local* weekday and hour
in the report's time zone (0 = Monday) and gives the 7 x 24 = 168 cells, each with the average rate
of its posts (their correctly rounded sum, :func:`math.fsum`, over their number) and how many there
were; a cell without a rated post has ``avg_engagement_rate=None``. Posts without a rate (no
denominator at all) are left out, not counted as 0. Whole weeks can come as summaries instead of
posts (:func:`heatmap`, :mod:`.weeksummary`): the cells are the same to the last bit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from chorus.metrics.store import PostScore
from chorus.reports.model import HeatmapCell, engagement_rate
from chorus.reports.weeksummary import QUARTER, WeekSummary, local_cells, week_monday_ts


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
    year of posts (see :func:`heatmap`)."""
    return heatmap(samples, (), tz)


def heatmap(
    samples: Iterable[tuple[int, float | None]],
    summaries: Iterable[tuple[WeekSummary, int | None]],
    tz: str = "UTC",
) -> tuple[HeatmapCell, ...]:
    """The 168 cells from posts one by one (``(publish time in Unix seconds, rate)``) and from week
    summaries (each with its account's followers, the rate of its posts without impressions or reach;
    see :mod:`.weeksummary`). Each post counts in the cell of its UTC quarter hour's local weekday and
    hour (exact over DST and half-hour zones); a cell's average is the correctly rounded sum of its
    posts' rates (:func:`math.fsum`) over their number, whichever way the posts came."""
    ZoneInfo(tz)
    parts: list[list[float]] = [[] for _ in range(168)]
    counts = [0] * 168
    week_ts, cells = -1, local_cells(0, tz)
    for ts, rate in samples:
        if rate is None:
            continue
        monday = week_monday_ts(ts)
        if monday != week_ts:
            week_ts, cells = monday, local_cells(monday, tz)
        slot = cells[(ts - monday) // QUARTER]
        parts[slot].append(rate)
        counts[slot] += 1
    for summary, followers in summaries:
        cells = local_cells(summary.monday_ts, tz)
        sums, at = summary.sums, 0
        for quarter, count, partials in zip(summary.quarters, summary.counts, summary.partials, strict=True):
            slot = cells[quarter]
            parts[slot] += sums[at : at + partials]
            counts[slot] += count
            at += partials
        if followers:
            engagements, at = summary.follower_engagements, 0
            for quarter, count in zip(summary.follower_quarters, summary.follower_counts, strict=True):
                slot = cells[quarter]
                parts[slot] += [e / followers for e in engagements[at : at + count]]
                counts[slot] += count
                at += count
    return tuple(
        HeatmapCell(
            weekday=slot // 24,
            hour=slot % 24,
            avg_engagement_rate=(math.fsum(parts[slot]) / counts[slot]) if counts[slot] else None,
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
