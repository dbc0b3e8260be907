"""What the benchmark compares, for one account (the workspace's own or a competitor's) over a period.

* **posts** published in the period, and **posts per week** = posts / (days / 7);
* **posting frequency** by weekday (Monday first) and by hour, in the report's time zone;
* **content mix**: posts per content type (text, image, video, link; "unknown" when not known);
* **median engagement per post** (likes + reposts + replies + quotes; the median of the period's posts);
* **engagement rate** = mean engagements per post / followers at the end of the period (the rate
  public data allows: competitors' impressions are not public);
* **follower growth**: first and last daily reading in the period, their difference and its percentage;
* **top posts**: the period's posts with the most engagements (ties: the newer first).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chorus.competitors.model import ContentType, FollowerPoint

TOP_POSTS = 3
MIX_KEYS = (*(t.value for t in ContentType), "unknown")


@dataclass(frozen=True)
class PostFact:
    created_at: datetime
    engagements: int
    content_type: ContentType | None = None
    url: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Measures:
    name: str
    role: str  # "own" | "competitor"
    platform: str
    posts: int
    posts_per_week: float
    by_weekday: tuple[int, ...]
    by_hour: tuple[int, ...]
    content_mix: dict[str, int]
    median_engagement: float | None
    engagement_rate: float | None
    followers_start: int | None
    followers_end: int | None
    top_posts: tuple[PostFact, ...]

    @property
    def follower_growth(self) -> int | None:
        if self.followers_start is None or self.followers_end is None:
            return None
        return self.followers_end - self.followers_start

    @property
    def follower_growth_pct(self) -> float | None:
        growth = self.follower_growth
        if growth is None or not self.followers_start:
            return None
        return growth / self.followers_start * 100

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "platform": self.platform,
            "posts": self.posts,
            "posts_per_week": self.posts_per_week,
            "by_weekday": list(self.by_weekday),
            "by_hour": list(self.by_hour),
            "content_mix": dict(self.content_mix),
            "median_engagement": self.median_engagement,
            "engagement_rate": self.engagement_rate,
            "followers_start": self.followers_start,
            "followers_end": self.followers_end,
            "follower_growth": self.follower_growth,
            "follower_growth_pct": self.follower_growth_pct,
            "top_posts": [
                {
                    "created_at": p.created_at.isoformat(),
                    "engagements": p.engagements,
                    "content_type": p.content_type.value if p.content_type else None,
                    "url": p.url,
                    "text": p.text,
                }
                for p in self.top_posts
            ],
        }


def measure(
    name: str,
    role: str,
    platform: str,
    posts: Sequence[PostFact],
    followers: Sequence[FollowerPoint],
    start: date,
    end: date,
    timezone: str,
) -> Measures:
    """The measures of ``posts`` (already limited to the period) and the period's follower readings."""
    tz = ZoneInfo(timezone)
    days = (end - start).days + 1
    weekday, hour = [0] * 7, [0] * 24
    mix = dict.fromkeys(MIX_KEYS, 0)
    for post in posts:
        local = post.created_at.astimezone(tz)
        weekday[local.weekday()] += 1
        hour[local.hour] += 1
        mix[post.content_type.value if post.content_type else "unknown"] += 1
    readings = sorted(followers, key=lambda p: p.day)
    followers_end = readings[-1].followers if readings else None
    engagements = [p.engagements for p in posts]
    mean = sum(engagements) / len(engagements) if engagements else None
    return Measures(
        name=name,
        role=role,
        platform=platform,
        posts=len(posts),
        posts_per_week=len(posts) * 7 / days,
        by_weekday=tuple(weekday),
        by_hour=tuple(hour),
        content_mix=mix,
        median_engagement=float(statistics.median(engagements)) if engagements else None,
        engagement_rate=mean / followers_end if mean is not None and followers_end else None,
        followers_start=readings[0].followers if readings else None,
        followers_end=followers_end,
        top_posts=tuple(sorted(posts, key=lambda p: (p.engagements, p.created_at), reverse=True)[:TOP_POSTS]),
    )
