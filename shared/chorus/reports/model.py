"""The analytics report as data: one model that every renderer (JSON, CSV, HTML, PDF) and the API read.

The query that fills a :class:`Report` lives elsewhere (it reads daily rollups, see DESIGN decision 5);
this module only says what a report *is*. Every class is a frozen dataclass; ``to_dict()`` gives the
JSON-ready shape (ISO dates, numbers as numbers, enums as their string values) and
:meth:`Report.from_dict` reads it back, so a report can travel through a queue or S3 and be rendered
later into any format.

Engagement rate
---------------
``engagement rate = engagements / impressions``, where
``engagements = likes + comments + shares + quotes + saves + clicks`` (a metric a platform does not
report counts as 0). When a platform gives no impressions (or 0), the denominator falls back to
**reach**, and when there is no reach either, to the account's **followers**; the denominator used is
recorded beside every rate as its :class:`RateBasis` (``impressions`` | ``reach`` | ``followers``) and
renderers label rates that are not per impression ("of reach", "of followers"). With none of the
three, the rate is ``None`` (shown as "-"), never 0. Rates are stored as ratios (0.0425 = 4.25 %).

Comparison
----------
Each headline figure is a :class:`KpiValue`: the value in the period, the value in the previous period
of the same length (:meth:`Period.previous`), and ``change_pct``, the *relative* change in percent
(``(current - previous) / previous * 100``; for a rate this is the change of the rate, not
percentage points). ``change_pct`` is ``None`` when either value is missing or the previous one is 0.

Optional sections
-----------------
``inbox`` is ``None`` when the report covers no inbox; ``heatmap``, ``share_of_voice`` and ``goals`` are
empty when the workspace has no history, no brand or competitor monitors or no KPI goals;
``sentiment_overrides`` (how many sentiment labels people changed, inbox and listening) is ``None``
when not known. Renderers omit an absent section rather than show an empty one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

Number = int | float

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class RateBasis(StrEnum):
    """The denominator an engagement rate was computed over."""

    IMPRESSIONS = "impressions"
    REACH = "reach"
    FOLLOWERS = "followers"


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    UNKNOWN = "unknown"


def engagements_total(
    *,
    likes: int = 0,
    comments: int = 0,
    shares: int = 0,
    quotes: int = 0,
    saves: int = 0,
    clicks: int = 0,
) -> int:
    """Engagements as Chorus counts them: likes + comments + shares + quotes + saves + clicks."""
    return likes + comments + shares + quotes + saves + clicks


def engagement_rate(
    engagements: int,
    *,
    impressions: int | None = None,
    reach: int | None = None,
    followers: int | None = None,
) -> tuple[float | None, RateBasis | None]:
    """``engagements`` over impressions, else reach, else followers; returns (rate, basis used).

    A denominator that is ``None`` or 0 is skipped; with none usable the answer is ``(None, None)``.
    """
    for basis, denominator in (
        (RateBasis.IMPRESSIONS, impressions),
        (RateBasis.REACH, reach),
        (RateBasis.FOLLOWERS, followers),
    ):
        if denominator:
            return engagements / denominator, basis
    return None, None


def change_pct(current: Number | None, previous: Number | None) -> float | None:
    """Relative change in percent, ``None`` when it is undefined (a value missing, previous 0)."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / previous * 100.0


@dataclass(frozen=True)
class Period:
    """Whole days ``start``..``end`` (both inclusive) in the IANA time zone ``timezone``."""

    start: date
    end: date
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(start=end - timedelta(days=self.days - 1), end=end, timezone=self.timezone)

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "timezone": self.timezone}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Period:
        return cls(
            start=date.fromisoformat(data["from"]),
            end=date.fromisoformat(data["to"]),
            timezone=data.get("timezone", "UTC"),
        )


@dataclass(frozen=True)
class KpiValue:
    """A figure in the period, the same figure in the previous period, and the relative change (%)."""

    current: Number | None
    previous: Number | None = None
    change_pct: float | None = None

    @classmethod
    def of(cls, current: Number | None, previous: Number | None = None) -> KpiValue:
        """A value with its change computed (see :func:`change_pct`)."""
        return cls(current=current, previous=previous, change_pct=change_pct(current, previous))

    def to_dict(self) -> dict[str, Any]:
        return {"current": self.current, "previous": self.previous, "change_pct": self.change_pct}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KpiValue:
        return cls(
            current=data.get("current"), previous=data.get("previous"), change_pct=data.get("change_pct")
        )


@dataclass(frozen=True)
class AccountRef:
    """One connected account the report covers."""

    account_id: str
    platform: str
    name: str
    handle: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "platform": self.platform,
            "name": self.name,
            "handle": self.handle,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccountRef:
        return cls(
            account_id=data["account_id"],
            platform=data["platform"],
            name=data["name"],
            handle=data.get("handle"),
        )


@dataclass(frozen=True)
class DailyValue:
    day: date
    value: Number

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "value": self.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DailyValue:
        return cls(day=date.fromisoformat(data["day"]), value=data["value"])


@dataclass(frozen=True)
class FollowerGrowth:
    """Followers of one account at the start and end of the period, and the daily series between."""

    account_id: str
    platform: str
    account_name: str
    start: int
    end: int
    daily: tuple[DailyValue, ...] = ()

    @property
    def change(self) -> int:
        return self.end - self.start

    @property
    def change_pct(self) -> float | None:
        return change_pct(self.end, self.start)

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "platform": self.platform,
            "account_name": self.account_name,
            "start": self.start,
            "end": self.end,
            "change": self.change,
            "change_pct": self.change_pct,
            "daily": [d.to_dict() for d in self.daily],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FollowerGrowth:
        return cls(
            account_id=data["account_id"],
            platform=data["platform"],
            account_name=data["account_name"],
            start=data["start"],
            end=data["end"],
            daily=tuple(DailyValue.from_dict(d) for d in data.get("daily", ())),
        )


@dataclass(frozen=True)
class PlatformMetrics:
    """Publishing and engagement figures of one platform (``platform="all"`` for the overall row)."""

    platform: str
    posts_published: KpiValue
    impressions: KpiValue
    reach: KpiValue
    engagements: KpiValue
    engagement_rate: KpiValue  # ratio, see the module docstring
    rate_basis: RateBasis | None = RateBasis.IMPRESSIONS

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "posts_published": self.posts_published.to_dict(),
            "impressions": self.impressions.to_dict(),
            "reach": self.reach.to_dict(),
            "engagements": self.engagements.to_dict(),
            "engagement_rate": self.engagement_rate.to_dict(),
            "rate_basis": _enum_value(self.rate_basis),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlatformMetrics:
        return cls(
            platform=data["platform"],
            posts_published=KpiValue.from_dict(data["posts_published"]),
            impressions=KpiValue.from_dict(data["impressions"]),
            reach=KpiValue.from_dict(data["reach"]),
            engagements=KpiValue.from_dict(data["engagements"]),
            engagement_rate=KpiValue.from_dict(data["engagement_rate"]),
            rate_basis=_basis(data.get("rate_basis")),
        )


CHORUS, EXTERNAL = "chorus", "external"
ORIGINS = (CHORUS, EXTERNAL)  # a post published through Chorus, or made on the platform directly


@dataclass(frozen=True)
class PostRow:
    """One post in the top or bottom list. ``text_excerpt`` is user text: renderers escape it."""

    post_id: str
    platform: str
    account_name: str
    text_excerpt: str
    published_at: datetime  # timezone-aware
    url: str | None
    impressions: int | None
    engagements: int
    engagement_rate: float | None  # ratio
    rate_basis: RateBasis | None = RateBasis.IMPRESSIONS
    origin: str = CHORUS  # one of ORIGINS

    def to_dict(self) -> dict[str, Any]:
        return {
            "post_id": self.post_id,
            "origin": self.origin,
            "platform": self.platform,
            "account_name": self.account_name,
            "text_excerpt": self.text_excerpt,
            "published_at": self.published_at.isoformat(),
            "url": self.url,
            "impressions": self.impressions,
            "engagements": self.engagements,
            "engagement_rate": self.engagement_rate,
            "rate_basis": _enum_value(self.rate_basis),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PostRow:
        return cls(
            post_id=data["post_id"],
            platform=data["platform"],
            account_name=data["account_name"],
            text_excerpt=data["text_excerpt"],
            published_at=datetime.fromisoformat(data["published_at"]),
            url=data.get("url"),
            impressions=data.get("impressions"),
            engagements=data["engagements"],
            engagement_rate=data.get("engagement_rate"),
            rate_basis=_basis(data.get("rate_basis")),
            origin=data.get("origin", CHORUS),
        )


@dataclass(frozen=True)
class HeatmapCell:
    """Average engagement rate of posts published on ``weekday`` (0 = Monday) at ``hour`` (0-23),
    in the report's time zone, over the workspace's own history. ``posts`` is the sample size."""

    weekday: int
    hour: int
    avg_engagement_rate: float | None
    posts: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6 or not 0 <= self.hour <= 23:
            raise ValueError(f"heatmap cell out of range: weekday={self.weekday} hour={self.hour}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "weekday": self.weekday,
            "hour": self.hour,
            "avg_engagement_rate": self.avg_engagement_rate,
            "posts": self.posts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HeatmapCell:
        return cls(
            weekday=data["weekday"],
            hour=data["hour"],
            avg_engagement_rate=data.get("avg_engagement_rate"),
            posts=data.get("posts", 0),
        )


def best_slots(cells: Iterable[HeatmapCell], limit: int = 3, min_posts: int = 1) -> list[HeatmapCell]:
    """The ``limit`` cells with the highest average engagement rate (ties: more posts first)."""
    usable = [c for c in cells if c.avg_engagement_rate is not None and c.posts >= min_posts]
    usable.sort(key=lambda c: (-(c.avg_engagement_rate or 0.0), -c.posts, c.weekday, c.hour))
    return usable[:limit]


@dataclass(frozen=True)
class SentimentShare:
    """Inbox items by sentiment; ``overridden`` of them had their label changed by a person."""

    positive: int = 0
    negative: int = 0
    neutral: int = 0
    unknown: int = 0
    overridden: int = 0

    @property
    def total(self) -> int:
        return self.positive + self.negative + self.neutral + self.unknown

    def counts(self) -> dict[Sentiment, int]:
        return {
            Sentiment.POSITIVE: self.positive,
            Sentiment.NEGATIVE: self.negative,
            Sentiment.NEUTRAL: self.neutral,
            Sentiment.UNKNOWN: self.unknown,
        }

    def shares(self) -> dict[Sentiment, float | None]:
        """Each label's share of the total (ratio), ``None`` when there were no items."""
        total = self.total
        return {label: (n / total if total else None) for label, n in self.counts().items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": {label.value: n for label, n in self.counts().items()},
            "shares": {label.value: s for label, s in self.shares().items()},
            "total": self.total,
            "overridden": self.overridden,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SentimentShare:
        counts = data.get("counts", {})
        return cls(
            positive=counts.get("positive", 0),
            negative=counts.get("negative", 0),
            neutral=counts.get("neutral", 0),
            unknown=counts.get("unknown", 0),
            overridden=data.get("overridden", 0),
        )


@dataclass(frozen=True)
class TeamRow:
    """What one person of the team did in the inbox in the period: conversations handled (closed by
    them), replies sent from Chorus, the median of their first responses (seconds) and the share of the
    service-level targets that ended with them (a first response they gave, a conversation they closed)
    met in time (``None``: no target ended, or none set)."""

    person: str  # user:<id> (key:<id> for an API key)
    name: str  # their e-mail where known, else ``person``
    handled: int
    replies: int
    median_first_response_seconds: float | None
    sla_met: float | None  # 0..1

    def to_dict(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "name": self.name,
            "handled": self.handled,
            "replies": self.replies,
            "median_first_response_seconds": self.median_first_response_seconds,
            "sla_met": self.sla_met,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TeamRow:
        return cls(
            person=data["person"],
            name=data["name"],
            handled=data["handled"],
            replies=data["replies"],
            median_first_response_seconds=data.get("median_first_response_seconds"),
            sla_met=data.get("sla_met"),
        )


@dataclass(frozen=True)
class InboxSummary:
    """Inbox volume, sentiment and the median time to the first human reply (seconds), and the team."""

    volume: KpiValue
    sentiment: SentimentShare
    median_first_response_seconds: KpiValue  # lower is better
    team: tuple[TeamRow, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "volume": self.volume.to_dict(),
            "sentiment": self.sentiment.to_dict(),
            "median_first_response_seconds": self.median_first_response_seconds.to_dict(),
            "team": [row.to_dict() for row in self.team],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InboxSummary:
        return cls(
            volume=KpiValue.from_dict(data["volume"]),
            sentiment=SentimentShare.from_dict(data["sentiment"]),
            median_first_response_seconds=KpiValue.from_dict(data["median_first_response_seconds"]),
            team=tuple(TeamRow.from_dict(r) for r in data.get("team") or ()),
        )


@dataclass(frozen=True)
class ShareOfVoiceRow:
    """Mentions a listening monitor (ours or a competitor's) found; ``share`` is a ratio of all rows.

    ``role`` is ``brand`` (ours) or ``competitor``; ``positive``/``negative`` count the mentions with
    that sentiment (``None`` when not known)."""

    monitor: str
    mentions: int
    share: float
    is_own: bool = False
    role: str | None = None
    positive: int | None = None
    negative: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "role": self.role,
            "mentions": self.mentions,
            "positive": self.positive,
            "negative": self.negative,
            "share": self.share,
            "is_own": self.is_own,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShareOfVoiceRow:
        return cls(
            monitor=data["monitor"],
            mentions=data["mentions"],
            share=data["share"],
            is_own=data.get("is_own", False),
            role=data.get("role"),
            positive=data.get("positive"),
            negative=data.get("negative"),
        )


def share_of_voice(mentions: Mapping[str, int], own: str | None = None) -> tuple[ShareOfVoiceRow, ...]:
    """Rows from ``monitor name -> mentions``, largest first, shares summing to 1 (or 0 with no mentions)."""
    total = sum(mentions.values())
    rows = [
        ShareOfVoiceRow(monitor=name, mentions=n, share=(n / total if total else 0.0), is_own=(name == own))
        for name, n in mentions.items()
    ]
    rows.sort(key=lambda r: (-r.mentions, r.monitor))
    return tuple(rows)


@dataclass(frozen=True)
class GoalRow:
    """A KPI goal the workspace set for the period and how far the period got."""

    metric: str
    target: Number
    actual: Number

    @property
    def pct_reached(self) -> float | None:
        return None if not self.target else self.actual / self.target * 100.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "target": self.target,
            "actual": self.actual,
            "pct_reached": self.pct_reached,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GoalRow:
        return cls(metric=data["metric"], target=data["target"], actual=data["actual"])


SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Report:
    """Everything one analytics report shows. Build it with the query; render it with ``render``."""

    workspace_id: str
    workspace_name: str
    generated_at: datetime  # timezone-aware
    period: Period
    previous_period: Period
    accounts: tuple[AccountRef, ...]
    overall: PlatformMetrics
    platforms: tuple[PlatformMetrics, ...] = ()
    followers: tuple[FollowerGrowth, ...] = ()
    top_posts: tuple[PostRow, ...] = ()
    bottom_posts: tuple[PostRow, ...] = ()
    heatmap: tuple[HeatmapCell, ...] = ()
    inbox: InboxSummary | None = None
    share_of_voice: tuple[ShareOfVoiceRow, ...] = ()
    goals: tuple[GoalRow, ...] = ()
    sentiment_overrides: int | None = None  # labels people changed in the period (None: not known)
    origin: str | None = None  # posts lists and counts of this origin only (None: every post)

    @property
    def followers_total(self) -> KpiValue:
        """All covered accounts' followers at the end vs at the start of the period."""
        return KpiValue.of(sum(f.end for f in self.followers), sum(f.start for f in self.followers))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "workspace": {"id": self.workspace_id, "name": self.workspace_name},
            "generated_at": self.generated_at.isoformat(),
            "period": self.period.to_dict(),
            "previous_period": self.previous_period.to_dict(),
            "accounts": [a.to_dict() for a in self.accounts],
            "followers": {
                "total": self.followers_total.to_dict(),
                "accounts": [f.to_dict() for f in self.followers],
            },
            "overall": self.overall.to_dict(),
            "platforms": [p.to_dict() for p in self.platforms],
            "top_posts": [p.to_dict() for p in self.top_posts],
            "bottom_posts": [p.to_dict() for p in self.bottom_posts],
            "heatmap": [c.to_dict() for c in self.heatmap],
            "best_slots": [c.to_dict() for c in best_slots(self.heatmap)],
            "inbox": self.inbox.to_dict() if self.inbox else None,
            "share_of_voice": [r.to_dict() for r in self.share_of_voice],
            "sentiment_overrides": self.sentiment_overrides,
            "goals": [g.to_dict() for g in self.goals],
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """Read back what :meth:`to_dict` wrote (derived keys such as ``change`` are recomputed)."""
        inbox = data.get("inbox")
        return cls(
            workspace_id=data["workspace"]["id"],
            workspace_name=data["workspace"]["name"],
            generated_at=datetime.fromisoformat(data["generated_at"]),
            period=Period.from_dict(data["period"]),
            previous_period=Period.from_dict(data["previous_period"]),
            accounts=tuple(AccountRef.from_dict(a) for a in data.get("accounts", ())),
            overall=PlatformMetrics.from_dict(data["overall"]),
            platforms=tuple(PlatformMetrics.from_dict(p) for p in data.get("platforms", ())),
            followers=tuple(
                FollowerGrowth.from_dict(f) for f in data.get("followers", {}).get("accounts", ())
            ),
            top_posts=tuple(PostRow.from_dict(p) for p in data.get("top_posts", ())),
            bottom_posts=tuple(PostRow.from_dict(p) for p in data.get("bottom_posts", ())),
            heatmap=tuple(HeatmapCell.from_dict(c) for c in data.get("heatmap", ())),
            inbox=InboxSummary.from_dict(inbox) if inbox else None,
            share_of_voice=tuple(ShareOfVoiceRow.from_dict(r) for r in data.get("share_of_voice", ())),
            goals=tuple(GoalRow.from_dict(g) for g in data.get("goals", ())),
            sentiment_overrides=data.get("sentiment_overrides"),
            origin=data.get("origin"),
        )


def _enum_value(value: StrEnum | None) -> str | None:
    return None if value is None else value.value


def _basis(value: str | None) -> RateBasis | None:
    return None if value is None else RateBasis(value)
