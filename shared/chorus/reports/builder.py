"""Fill a :class:`~chorus.reports.model.Report` from the metrics rollups (and the inbox and goals ports).

What is read
------------
For each account, :meth:`~chorus.metrics.store.MetricsStore.read_account_range` over the period (month
items for whole months, day items for the edges, week items for the scores of posts published in it)
and over the previous period (totals only: no week items), then one BatchGet of the few post items
shown as top and bottom posts. Nothing else: a report over a year of 20 accounts reads a few thousand
items however many points were collected (``store.items_read`` counts them).

Days
----
Rollups are UTC days. The **posts** of a report are exact in its time zone: the posts published count,
the top and bottom lists and the heatmap take the posts published from 00:00 of the first local day to
00:00 after the last one (the store corrects the UTC day counts with the scores of the edge days, which
it reads per post; see ``tz`` of :meth:`~chorus.metrics.store.MetricsStore.read_account_range`). The
sums that come from per-day platform values (impressions, reach, engagements gained, followers) cover
the UTC days with the same dates as the local days (an edge error of at most the zone's offset on the
first and last day): platforms report those per UTC day, and they cannot be split by hour.

What each figure means
----------------------
* **posts published**: posts whose publish instant is in the period's local days (00:00 of the first
  to 00:00 after the last, in the report's zone).
* **impressions, reach, likes, ...**: what the accounts' posts *gained* in the period (sums of the
  daily deltas of their lifetime counters, whenever the posts were published). Reach is summed over
  posts, as platforms' post reach is (unique people per post, not per account). A platform that never
  reported a metric in either period shows it as absent (``None``), not 0.
* **engagements** = likes + comments + shares + quotes + saves + clicks gained in the period.
* **engagement rate** (per platform): engagements / impressions, else reach, else the platform's
  followers at the end of the period (see :func:`chorus.reports.model.engagement_rate`). The previous
  period's rate uses the same denominator, so the change compares like with like. **Overall**, the
  rate is taken over the platforms that have the chosen denominator only: engagements of platforms with
  impressions over their impressions (engagements of a platform without impressions would otherwise
  inflate it).
* **followers**: per account, the daily series of the last reading of each day, carried forward over
  days without one (from the previous period when the period starts without a reading); ``start`` and
  ``end`` are the first and last values of the series. Accounts with no follower reading are left out.
* **top / bottom posts**: posts *published* in the period, ranked by their lifetime engagement rate
  (ties: more engagements first); posts without any rate are not ranked.
* **heatmap**: posts published in the period (see :mod:`.besttimes`); ask a longer period for a
  fuller picture (the previous period is read for its totals only, to keep reads small).

Whole weeks come summarised
---------------------------
The weeks wholly inside the period are read as their summaries (:mod:`.weeksummary`): the candidates
of the top and bottom lists and the heatmap contributions, merged here, instead of every post's score
(a year of 20 accounts posting 20 a day: ~2,000 candidates and ~130,000 quarter-hour sums instead of
146,000 posts to decode and rate). The edge weeks, and weeks written before summaries existed, come
per post. Either way the lists and cells are the same.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Protocol
from zoneinfo import ZoneInfo

from chorus.metrics.store import ENGAGEMENT_METRICS, AccountRange, PostRecord, PostScore
from chorus.reports.besttimes import heatmap as heatmap_cells
from chorus.reports.model import (
    CHORUS,
    EXTERNAL,
    ORIGINS,
    AccountRef,
    DailyValue,
    FollowerGrowth,
    GoalRow,
    InboxSummary,
    KpiValue,
    Period,
    PlatformMetrics,
    PostRow,
    RateBasis,
    Report,
    SentimentShare,
    ShareOfVoiceRow,
    TeamRow,
    share_of_voice,
)

TOP_POSTS = 5
BASES = (RateBasis.IMPRESSIONS, RateBasis.REACH, RateBasis.FOLLOWERS)


# ------------------------------------------------------------------ ports


class MetricsReader(Protocol):
    """What the builder reads (:class:`~chorus.metrics.store.MetricsStore` satisfies it)."""

    items_read: int

    def read_account_range(
        self,
        workspace_id: str,
        account_id: str,
        start: date,
        end: date,
        *,
        with_posts: bool = True,
        summarised: int = 0,
        tz: str = "UTC",
    ) -> AccountRange: ...

    def get_posts(self, workspace_id: str, refs: Sequence[tuple[str, str]]) -> list[PostRecord]: ...


@dataclass(frozen=True)
class InboxStats:
    """The inbox figures of a period and, for comparison, of the previous one."""

    volume: int
    sentiment: SentimentShare
    median_first_response_seconds: float | None
    previous_volume: int | None = None
    previous_median_first_response_seconds: float | None = None
    team: tuple[TeamRow, ...] = ()  # per person, in the period


class InboxStatsSource(Protocol):
    def inbox_stats(
        self, workspace_id: str, period: Period, account_ids: Sequence[str]
    ) -> InboxStats | None: ...


class InMemoryInboxStats:
    """Inbox stats held in memory, by (workspace, period start, period end): the default until the inbox
    has its own query (then it has none, and the report has no inbox section)."""

    def __init__(self, stats: Mapping[tuple[str, date, date], InboxStats] | None = None) -> None:
        self.stats = dict(stats or {})

    def inbox_stats(self, workspace_id: str, period: Period, account_ids: Sequence[str]) -> InboxStats | None:
        return self.stats.get((workspace_id, period.start, period.end))


class VoiceShareLike(Protocol):
    """One monitor's share of voice (:class:`chorus.listening.service.VoiceShare` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def mentions(self) -> int: ...
    @property
    def positive(self) -> int: ...
    @property
    def negative(self) -> int: ...
    @property
    def share(self) -> float: ...


@dataclass(frozen=True)
class ListeningStats:
    """What listening adds to a report: share of voice and sentiment overrides by people."""

    shares: Sequence[VoiceShareLike]
    overrides: int


class ListeningSource(Protocol):
    def listening_stats(self, workspace_id: str, period: Period) -> ListeningStats | None: ...


GOAL_METRICS: Mapping[str, str] = {
    "followers_gained": "Followers gained",
    "posts_published": "Posts published",
    "impressions": "Impressions",
    "reach": "Reach",
    "engagements": "Engagements",
    "engagement_rate_pct": "Engagement rate (%)",
    "inbox_volume": "Inbox messages",
}


@dataclass(frozen=True)
class Goal:
    """A KPI target for the period; ``metric`` is one of :data:`GOAL_METRICS`."""

    metric: str
    target: float
    label: str | None = None

    def __post_init__(self) -> None:
        if self.metric not in GOAL_METRICS:
            raise ValueError(f"unknown goal metric {self.metric!r}; use one of {', '.join(GOAL_METRICS)}")


class GoalsSource(Protocol):
    def goals(self, workspace_id: str, period: Period) -> Sequence[Goal]: ...


class InMemoryGoals:
    def __init__(self, goals: Mapping[str, Sequence[Goal]] | None = None) -> None:
        self.by_workspace = dict(goals or {})

    def goals(self, workspace_id: str, period: Period) -> Sequence[Goal]:
        return self.by_workspace.get(workspace_id, ())


def _default_reader() -> MetricsReader:
    from chorus.metrics.store import MetricsStore

    return MetricsStore()


# ------------------------------------------------------------------ the build


@dataclass
class _Totals:
    """One group of accounts (a platform, or all) over one period."""

    posts: int = 0
    sums: dict[str, int] | None = None
    reported: set[str] | None = None  # metrics the group ever reported (either period)
    followers: int | None = None

    def metric(self, name: str) -> int | None:
        if name not in (self.reported or set()):
            return None
        return (self.sums or {}).get(name, 0)

    @property
    def engagements(self) -> int:
        return sum((self.sums or {}).get(m, 0) for m in ENGAGEMENT_METRICS)

    def denominator(self, basis: RateBasis) -> int | None:
        if basis is RateBasis.FOLLOWERS:
            return self.followers
        return self.metric(basis.value)


def build_report(
    workspace_id: str,
    period: Period,
    account_ids: Sequence[str],
    tz: str,
    *,
    inbox: InboxStats | None = None,
    goals: Sequence[Goal] | None = None,
    accounts_info: Mapping[str, AccountRef],
    store: MetricsReader | None = None,
    inbox_source: InboxStatsSource | None = None,
    goals_source: GoalsSource | None = None,
    listening_source: ListeningSource | None = None,
    workspace_name: str = "",
    mentions: Mapping[str, int] | None = None,
    own_monitor: str | None = None,
    top_n: int = TOP_POSTS,
    max_workers: int = 8,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    origin: str | None = None,
) -> Report:
    """The report of ``account_ids`` over ``period`` (whole days in ``tz``) against the previous period.

    ``accounts_info`` names each account (platform, display name, handle); ``inbox``/``goals`` are used as
    given, else asked of ``inbox_source``/``goals_source`` (in-memory, empty defaults); ``mentions``
    (monitor name -> mentions) fills share of voice, unless ``listening_source`` gives it (with the
    sentiment overrides). Accounts are read on up to ``max_workers`` threads (the reader must be
    thread-safe; the metrics store is); the inbox and listening sources are read beside them.
    ``origin`` (chorus | external) keeps the posts lists, the heatmap and the post counts to posts of
    that origin; the other figures stay the accounts' own (they are not per post). Week summaries rank
    every post of a week, so a filtered report reads the weeks' scores instead.
    """
    if origin is not None and origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}")
    ZoneInfo(tz)  # an unknown zone fails here, before any read
    current = Period(period.start, period.end, tz)
    previous = current.previous()
    reader = store or _default_reader()
    accounts = tuple(_account_ref(a, accounts_info) for a in dict.fromkeys(account_ids))
    jobs = [(a.account_id, current, True) for a in accounts] + [
        (a.account_id, previous, False) for a in accounts
    ]

    def read(job: tuple[str, Period, bool]) -> AccountRange:
        account_id, span, with_posts = job
        return reader.read_account_range(
            workspace_id,
            account_id,
            span.start,
            span.end,
            with_posts=with_posts,
            summarised=top_n if with_posts and origin is None else 0,
            tz=tz,
        )

    def read_inbox() -> InboxStats | None:
        if inbox is not None:
            return inbox
        return (inbox_source or InMemoryInboxStats()).inbox_stats(workspace_id, current, account_ids)

    def read_listening() -> ListeningStats | None:
        return listening_source.listening_stats(workspace_id, current) if listening_source else None

    if max_workers > 1 and len(jobs) > 1:  # each read is a few round trips: overlap them
        with ThreadPoolExecutor(max_workers=min(max_workers, len(jobs))) as pool:
            inbox_future = pool.submit(read_inbox)
            listening_future = pool.submit(read_listening)
            found = list(pool.map(read, jobs))
            inbox_stats = inbox_future.result()
            listening = listening_future.result()
    else:
        found = [read(job) for job in jobs]
        inbox_stats = read_inbox()
        listening = read_listening()
    now_ranges = {a.account_id: r for a, r in zip(accounts, found[: len(accounts)], strict=True)}
    then_ranges = {a.account_id: r for a, r in zip(accounts, found[len(accounts) :], strict=True)}

    followers = tuple(
        growth
        for a in accounts
        if (growth := _follower_growth(a, now_ranges[a.account_id], then_ranges[a.account_id], current))
    )
    end_followers = {
        a.account_id: _last_reading(now_ranges[a.account_id], then_ranges[a.account_id]) for a in accounts
    }
    prev_end_followers = {a.account_id: _last_reading(then_ranges[a.account_id]) for a in accounts}

    platforms_order = list(dict.fromkeys(a.platform for a in accounts))
    per_platform: list[tuple[PlatformMetrics, _Totals, _Totals]] = []
    for platform in platforms_order:
        members = [a.account_id for a in accounts if a.platform == platform]
        cur = _totals(members, now_ranges, then_ranges, end_followers, origin)
        prev = _totals(members, then_ranges, now_ranges, prev_end_followers, origin)
        per_platform.append((_platform_metrics(platform, cur, prev), cur, prev))
    overall = _overall(per_platform)

    rated = _rated(_of_origin(now_ranges.values(), origin, candidates=False), end_followers)
    candidates = _rated(_of_origin(now_ranges.values(), origin, candidates=True), end_followers)
    unfolded = {(a, pid): rec for a, r in now_ranges.items() for pid, rec in r.unfolded.items()}
    external = {(a, pid) for a, r in now_ranges.items() for pid in r.external}
    top, bottom = _ranked_posts(
        workspace_id, reader, rated + candidates, accounts, top_n, tz, unfolded, external
    )
    heatmap = (
        heatmap_cells(
            ((e[3].published_ts, -e[0]) for e in rated),
            ((w, end_followers[a]) for a, r in now_ranges.items() for w in r.summaries),
            tz,
        )
        if rated or candidates
        else ()
    )

    inbox_summary = _inbox_summary(inbox_stats) if inbox_stats else None
    chosen_goals = (
        goals if goals is not None else (goals_source or InMemoryGoals()).goals(workspace_id, current)
    )

    report = Report(
        workspace_id=workspace_id,
        workspace_name=workspace_name or workspace_id,
        generated_at=clock(),
        period=current,
        previous_period=previous,
        accounts=accounts,
        overall=overall,
        platforms=tuple(p for p, _, _ in per_platform),
        followers=followers,
        top_posts=top,
        bottom_posts=bottom,
        heatmap=heatmap,
        inbox=inbox_summary,
        share_of_voice=(
            _voice_rows(listening.shares)
            if listening is not None
            else (share_of_voice(mentions, own_monitor) if mentions else ())
        ),
        sentiment_overrides=listening.overrides if listening is not None else None,
        origin=origin,
    )
    rows = tuple(_goal_row(g, report) for g in chosen_goals)
    return replace(report, goals=rows) if rows else report


def _account_ref(account_id: str, info: Mapping[str, AccountRef]) -> AccountRef:
    found = info.get(account_id)
    return found if found is not None else AccountRef(account_id, "unknown", account_id)


def _days(first: date, last: date) -> Iterable[date]:
    for i in range((last - first).days + 1):
        yield first + timedelta(days=i)


def _last_reading(*ranges: AccountRange, metric: str = "followers") -> int | None:
    """The latest reading of ``metric`` in the first range that has one."""
    for found in ranges:
        readings = found.latest.get(metric)
        if readings:
            return readings[max(readings)]
    return None


def _follower_growth(
    account: AccountRef, now: AccountRange, then: AccountRange, period: Period
) -> FollowerGrowth | None:
    readings = now.latest.get("followers", {})
    carried = _last_reading(then)
    series: list[DailyValue] = []
    for day in _days(period.start, period.end):
        if day in readings:
            carried = readings[day]
        if carried is not None:
            series.append(DailyValue(day, carried))
    if not series:
        return None
    return FollowerGrowth(
        account_id=account.account_id,
        platform=account.platform,
        account_name=account.name,
        start=int(series[0].value),
        end=int(series[-1].value),
        daily=tuple(series),
    )


def _totals(
    members: Sequence[str],
    ranges: Mapping[str, AccountRange],
    other: Mapping[str, AccountRange],
    followers: Mapping[str, int | None],
    origin: str | None = None,
) -> _Totals:
    sums: dict[str, int] = {}
    reported: set[str] = set()
    posts = 0
    for account_id in members:
        found = ranges[account_id]
        if origin is None:
            posts += found.posts_published
        elif origin == EXTERNAL:
            posts += found.posts_external
        else:
            posts += found.posts_published - found.posts_external
        for metric, value in found.sums.items():
            sums[metric] = sums.get(metric, 0) + value
        reported |= found.sums.keys() | other[account_id].sums.keys()
    known = [f for a in members if (f := followers.get(a)) is not None]
    return _Totals(posts=posts, sums=sums, reported=reported, followers=sum(known) if known else None)


def _rate(engagements: int, denominator: int | None) -> float | None:
    return engagements / denominator if denominator else None


def _platform_metrics(platform: str, cur: _Totals, prev: _Totals) -> PlatformMetrics:
    basis = next((b for b in BASES if cur.denominator(b)), None)
    if basis is None:  # nothing to divide by now: take the previous period's denominator for its rate
        basis_prev = next((b for b in BASES if prev.denominator(b)), None)
        rate = KpiValue.of(
            None, _rate(prev.engagements, prev.denominator(basis_prev)) if basis_prev else None
        )
    else:
        rate = KpiValue.of(
            _rate(cur.engagements, cur.denominator(basis)), _rate(prev.engagements, prev.denominator(basis))
        )
    return PlatformMetrics(
        platform=platform,
        posts_published=KpiValue.of(cur.posts, prev.posts),
        impressions=KpiValue.of(cur.metric("impressions"), prev.metric("impressions")),
        reach=KpiValue.of(cur.metric("reach"), prev.metric("reach")),
        engagements=KpiValue.of(cur.engagements, prev.engagements),
        engagement_rate=rate,
        rate_basis=basis,
    )


def _sum_or_none(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _overall(per_platform: Sequence[tuple[PlatformMetrics, _Totals, _Totals]]) -> PlatformMetrics:
    curs = [c for _, c, _ in per_platform]
    prevs = [p for _, _, p in per_platform]
    basis = next((b for b in BASES if any(c.denominator(b) for c in curs)), None)
    rate = KpiValue.of(None, None)
    if basis is not None:
        group = [i for i, c in enumerate(curs) if c.denominator(basis)]
        rate = KpiValue.of(
            _rate(
                sum(curs[i].engagements for i in group),
                _sum_or_none(curs[i].denominator(basis) for i in group),
            ),
            _rate(
                sum(prevs[i].engagements for i in group),
                _sum_or_none(prevs[i].denominator(basis) for i in group),
            ),
        )
    return PlatformMetrics(
        platform="all",
        posts_published=KpiValue.of(sum(c.posts for c in curs), sum(p.posts for p in prevs)),
        impressions=KpiValue.of(
            _sum_or_none(c.metric("impressions") for c in curs),
            _sum_or_none(p.metric("impressions") for p in prevs),
        ),
        reach=KpiValue.of(
            _sum_or_none(c.metric("reach") for c in curs), _sum_or_none(p.metric("reach") for p in prevs)
        ),
        engagements=KpiValue.of(sum(c.engagements for c in curs), sum(p.engagements for p in prevs)),
        engagement_rate=rate,
        rate_basis=basis,
    )


Rated = tuple[float, int, str, PostScore, RateBasis]


def _rated(scores: Iterable[PostScore], followers: Mapping[str, int | None]) -> list[Rated]:
    """Posts with a rate, as sortable tuples: (-rate, -engagements, id, score, basis). The rate is the
    one :func:`chorus.reports.model.engagement_rate` defines (impressions, else reach, else followers),
    inlined: it runs once per post of the period."""
    rated: list[Rated] = []
    append = rated.append
    impressions_basis, reach_basis, followers_basis = BASES
    for score in scores:  # ~150,000 posts in a year of 20 busy accounts: kept to plain tuple work
        account_id, post_id, _, engagements, impressions, reach = score
        if impressions:
            append((-engagements / impressions, -engagements, post_id, score, impressions_basis))
        elif reach:
            append((-engagements / reach, -engagements, post_id, score, reach_basis))
        elif count := followers.get(account_id):
            append((-engagements / count, -engagements, post_id, score, followers_basis))
    return rated


def _of_origin(
    ranges: Iterable[AccountRange], origin: str | None, *, candidates: bool
) -> Iterator[PostScore]:
    """The ranges' scores (or summary candidates) of posts of ``origin`` (None: all of them)."""
    for found in ranges:
        scores = found.candidates if candidates else found.posts
        if origin is None:
            yield from scores
        else:
            external = origin == EXTERNAL
            yield from (s for s in scores if (s.platform_post_id in found.external) is external)


def _ranked_posts(
    workspace_id: str,
    reader: MetricsReader,
    rated: list[Rated],
    accounts: Sequence[AccountRef],
    top_n: int,
    tz: str,
    unfolded: Mapping[tuple[str, str], PostRecord] | None = None,
    external: AbstractSet[tuple[str, str]] = frozenset(),
) -> tuple[tuple[PostRow, ...], tuple[PostRow, ...]]:
    """The top and bottom posts as rows; what is shown about each is read from its post item, or comes
    with the range (``unfolded``: a post followed and not collected yet has no post item)."""
    order = itemgetter(0, 1, 2)
    top = heapq.nsmallest(top_n, rated, key=order)
    shown = {id(entry) for entry in top}
    bottom = heapq.nlargest(top_n, (e for e in rated if id(e) not in shown), key=order)
    if not top:
        return (), ()
    known = unfolded or {}
    wanted = [(e[3].account_id, e[3].platform_post_id) for e in top + bottom]
    records = dict(known)
    records.update(
        {
            (r.account_id, r.info.platform_post_id): r
            for r in reader.get_posts(workspace_id, [ref for ref in wanted if ref not in known])
        }
    )
    names = {a.account_id: a for a in accounts}
    zone = ZoneInfo(tz)

    def row(entry: Rated) -> PostRow:
        negative_rate, _, _, score, basis = entry
        record = records.get((score.account_id, score.platform_post_id))
        account = names.get(score.account_id)
        info = record.info if record else None
        return PostRow(
            post_id=(info.post_id if info and info.post_id else score.platform_post_id),
            platform=info.platform if info else (account.platform if account else "unknown"),
            account_name=account.name if account else score.account_id,
            text_excerpt=info.text if info else "",
            published_at=score.published_at.astimezone(zone),
            url=info.url if info else None,
            impressions=score.impressions,
            engagements=score.engagements,
            engagement_rate=-negative_rate,
            rate_basis=basis,
            origin=EXTERNAL if (score.account_id, score.platform_post_id) in external else CHORUS,
        )

    return tuple(row(e) for e in top), tuple(row(e) for e in bottom)


def _voice_rows(shares: Sequence[VoiceShareLike]) -> tuple[ShareOfVoiceRow, ...]:
    """Listening's shares as report rows, in listening's order (most mentioned first)."""
    return tuple(
        ShareOfVoiceRow(
            monitor=s.name,
            mentions=s.mentions,
            share=s.share,
            is_own=s.role == "brand",
            role=s.role,
            positive=s.positive,
            negative=s.negative,
        )
        for s in shares
    )


def _inbox_summary(stats: InboxStats) -> InboxSummary:
    return InboxSummary(
        volume=KpiValue.of(stats.volume, stats.previous_volume),
        sentiment=stats.sentiment,
        median_first_response_seconds=KpiValue.of(
            stats.median_first_response_seconds, stats.previous_median_first_response_seconds
        ),
        team=stats.team,
    )


def _goal_row(goal: Goal, report: Report) -> GoalRow:
    overall = report.overall
    actuals: dict[str, float | int | None] = {
        "followers_gained": sum(f.change for f in report.followers),
        "posts_published": overall.posts_published.current,
        "impressions": overall.impressions.current,
        "reach": overall.reach.current,
        "engagements": overall.engagements.current,
        "engagement_rate_pct": (
            None if overall.engagement_rate.current is None else overall.engagement_rate.current * 100.0
        ),
        "inbox_volume": report.inbox.volume.current if report.inbox else None,
    }
    actual = actuals[goal.metric]
    return GoalRow(metric=goal.label or GOAL_METRICS[goal.metric], target=goal.target, actual=actual or 0)
