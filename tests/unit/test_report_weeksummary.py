"""Week summaries: a report over whole weeks merges their summaries and shows exactly what it shows when
every post is read one by one (top and bottom posts, heatmap cells to the last bit)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from moto import mock_aws

from chorus.config import reset_caches
from chorus.metrics import keys
from chorus.metrics.store import (
    AccountRange,
    MetricsStore,
    PostInfo,
    PostRecord,
    PostScore,
    day_item,
    post_item,
    week_item,
)
from chorus.platforms.base import MetricPoint, MetricScope
from chorus.reports.besttimes import best_times_of_epochs
from chorus.reports.builder import build_report
from chorus.reports.model import AccountRef, Period, Report
from chorus.reports.weeksummary import SUMMARY, decode, msum, summarise
from tests.unit.test_metrics_store import TABLE, create_metrics_table

WS = "ws-1"
ACCOUNTS = {
    "acc-x": AccountRef("acc-x", "x", "X"),  # impressions
    "acc-f": AccountRef("acc-f", "facebook", "Facebook"),  # reach only
    "acc-m": AccountRef("acc-m", "mastodon", "Mastodon"),  # neither: rated over followers
    "acc-n": AccountRef("acc-n", "mastodon", "No followers"),  # neither, no followers: unrated
}
FIRST, LAST = date(2026, 2, 23), date(2026, 4, 12)  # Mondays to Sundays: 7 weeks of posts
# Wed Mar 4 .. Fri Apr 3: whole weeks Mar 9-15, 16-22, 23-29 (Berlin's DST starts Mar 29), edges around
PERIOD = (date(2026, 3, 4), date(2026, 4, 3))
GENERATED = datetime(2026, 4, 20, tzinfo=UTC)


def load(store: MetricsStore, rng: random.Random) -> int:
    """Posts at random minutes with few distinct figures (many rate ties), followers for acc-m only."""
    items: list[dict[str, Any]] = []
    posts = 0
    for account, ref in ACCOUNTS.items():
        day = FIRST
        weeks: dict[date, list[PostScore]] = {}
        while day <= LAST:
            if account == "acc-m":
                items.append(day_item(WS, account, day, latest={"followers": 5 + (day - FIRST).days % 3}))
            for n in range(rng.randint(0, 6)):
                published = datetime(
                    day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=UTC
                )
                engagements = rng.randint(0, 6)
                impressions = rng.choice((100, 200)) if ref.platform == "x" else None
                reach = rng.choice((50, 100)) if ref.platform == "facebook" else None
                pid = f"{account}-{day.isoformat()}-{n}"
                score = PostScore.of(account, pid, published, engagements, impressions, reach)
                weeks.setdefault(keys.week_start(day), []).append(score)
                latest = {"likes": engagements} | ({"impressions": impressions} if impressions else {})
                items.append(
                    post_item(WS, account, PostInfo(pid, ref.platform, published), latest, published)
                )
                posts += 1
            day += timedelta(days=1)
        items += [week_item(WS, account, monday, scores) for monday, scores in weeks.items()]
    store.bulk_put(items)
    return posts


@dataclass
class PerPost:
    """The store, asked never for summaries: every post of the range read one by one."""

    store: MetricsStore
    items_read: int = 0

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
    ) -> AccountRange:
        return self.store.read_account_range(
            workspace_id, account_id, start, end, with_posts=with_posts, tz=tz
        )

    def get_posts(self, workspace_id: str, refs: Any) -> list[PostRecord]:
        return self.store.get_posts(workspace_id, refs)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[MetricsStore]:
    monkeypatch.setenv("CHORUS_METRICS_TABLE", TABLE)
    with mock_aws():
        reset_caches()
        create_metrics_table()
        found = MetricsStore()
        load(found, random.Random(5))
        yield found
    reset_caches()


def report(reader: Any, tz: str, top_n: int = 5) -> Report:
    return build_report(
        WS,
        Period(*PERIOD, tz),
        list(ACCOUNTS),
        tz,
        accounts_info=ACCOUNTS,
        store=reader,
        top_n=top_n,
        max_workers=1,
        clock=lambda: GENERATED,
    )


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns"])
def test_summarised_weeks_give_the_same_lists_and_heatmap_as_every_post(store: MetricsStore, tz: str) -> None:
    # Given whole weeks with summaries inside the period (and edge weeks around them)
    # When the report is built from the summaries, and again reading every post
    summarised = report(store, tz)
    per_post = report(PerPost(store), tz)
    # Then top and bottom posts and every heatmap cell are identical, bit for bit
    assert summarised.top_posts == per_post.top_posts
    assert summarised.bottom_posts == per_post.bottom_posts
    assert summarised.heatmap == per_post.heatmap
    assert sum(c.posts for c in summarised.heatmap) > 100
    assert {p.platform for p in summarised.top_posts + summarised.bottom_posts} >= {"x", "mastodon"}


def test_whole_weeks_come_as_summaries_and_edge_weeks_per_post(store: MetricsStore) -> None:
    # Given the period Wed Mar 4 .. Fri Apr 3
    # When one account's range is read summarised for lists of 5
    found = store.read_account_range(WS, "acc-x", *PERIOD, summarised=5)
    every = store.read_account_range(WS, "acc-x", *PERIOD)
    # Then the three whole weeks are summaries, only edge-week posts come one by one
    assert [s.monday for s in found.summaries] == [date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23)]
    assert {keys.week_start(p.published_at.date()) for p in found.posts} == {
        date(2026, 3, 2),
        date(2026, 3, 30),
    }
    inside = [p for p in every.posts if date(2026, 3, 9) <= p.published_at.date() <= date(2026, 3, 29)]
    assert {c.platform_post_id for c in found.candidates} <= {p.platform_post_id for p in inside}
    assert len(found.candidates) < len(inside)
    assert sum(sum(s.counts) for s in found.summaries) == len(inside)


def test_weeks_written_before_summaries_are_read_per_post(store: MetricsStore) -> None:
    # Given week items without a summary (written before summaries existed)
    client: Any = store._client
    for account in ACCOUNTS:
        monday = FIRST
        while monday <= LAST:
            client.update_item(
                TableName=TABLE,
                Key={"pk": {"S": keys.rollup_pk(WS, account)}, "sk": {"S": keys.week_sk(monday)}},
                UpdateExpression="REMOVE #s",
                ExpressionAttributeNames={"#s": SUMMARY},
            )
            monday += timedelta(days=7)
    # When the report asks for summaries
    found = store.read_account_range(WS, "acc-x", *PERIOD, summarised=5)
    # Then it gets every post instead, and the same report as reading every post
    assert found.summaries == []
    assert found.candidates == []
    assert sorted(found.posts) == sorted(store.read_account_range(WS, "acc-x", *PERIOD).posts)
    assert report(store, "Europe/Berlin") == report(PerPost(store), "Europe/Berlin")


def test_lists_longer_than_the_summaries_hold_are_read_per_post(store: MetricsStore) -> None:
    # Given summaries holding 5 candidates per end
    # When a report wants 6 top and bottom posts
    found = store.read_account_range(WS, "acc-x", *PERIOD, summarised=6)
    # Then no summary is used, and the lists are those of every post
    assert found.summaries == []
    wide = report(store, "UTC", top_n=6)
    assert (wide.top_posts, wide.bottom_posts) == (
        report(PerPost(store), "UTC", top_n=6).top_posts,
        report(PerPost(store), "UTC", top_n=6).bottom_posts,
    )
    assert len(wide.top_posts) == 6


def test_a_recorded_post_lands_in_its_weeks_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_METRICS_TABLE", TABLE)
    with mock_aws():
        reset_caches()
        create_metrics_table()
        store = MetricsStore()
        # Given two posts of one week collected through the writer (Tue and Thu of the week of Mar 9)
        for pid, published, likes, impressions in (
            ("a", datetime(2026, 3, 10, 9, 20, tzinfo=UTC), 10, 1000),
            ("b", datetime(2026, 3, 12, 18, 50, tzinfo=UTC), 3, 300),
        ):
            points = [
                MetricPoint(MetricScope.POST, pid, "likes", likes, published + timedelta(hours=1)),
                MetricPoint(
                    MetricScope.POST, pid, "impressions", impressions, published + timedelta(hours=1)
                ),
            ]
            store.record_post_points(WS, "acc-x", PostInfo(pid, "x", published), points)
        # When the week item is read
        week = store._get(keys.rollup_pk(WS, "acc-x"), keys.week_sk(date(2026, 3, 9)))
        assert week is not None
        summary = decode(date(2026, 3, 9), week[SUMMARY]["S"])
        # Then its summary names both posts and puts each rate in its UTC quarter hour of the week
        assert summary is not None
        assert set(summary.candidates) == {"a", "b"}
        assert summary.quarters == [1 * 96 + 9 * 4 + 1, 3 * 96 + 18 * 4 + 3]
        assert summary.counts == [1, 1]
        assert summary.partials == [1, 1]
        assert summary.sums == [0.01, 0.01]
    reset_caches()


def test_summary_keeps_the_best_and_worst_of_each_group_only() -> None:
    # Given 10 posts over impressions (rates 0.00 .. 0.09) and 10 without impressions or reach
    monday = date(2026, 3, 9)
    ts = int(datetime(2026, 3, 9, tzinfo=UTC).timestamp())
    scores = {f"i{n}": f"{ts + n * 60}|{n}|100|" for n in range(10)}
    scores |= {f"f{n}": f"{ts + n * 60}|{n}||" for n in range(10)}
    # When summarised for lists of 2
    summary = decode(monday, summarise(monday, scores, k=2))
    # Then the candidates are the 2 best and 2 worst of each group
    assert summary is not None
    assert set(summary.candidates) == {"i9", "i8", "i0", "i1", "f9", "f8", "f0", "f1"}
    assert summary.follower_quarters == [0]
    assert summary.follower_counts == [10]
    assert summary.follower_engagements == list(range(10))
    assert summary.counts == [10]


def test_partials_hold_the_exact_sum_whatever_the_grouping() -> None:
    # Given rates that naive summation rounds differently by order
    rng = random.Random(3)
    values = [rng.randint(0, 500) / rng.randint(800, 20_000) for _ in range(2_000)]
    # When summed as partials of chunks, merged
    merged = [p for i in range(0, len(values), 37) for p in msum(values[i : i + 37])]
    # Then the correctly rounded total is that of the values themselves
    assert math.fsum(merged) == math.fsum(values)


@pytest.mark.parametrize("tz", ["Europe/Berlin", "Asia/Kolkata", "America/St_Johns", "Australia/Lord_Howe"])
def test_heatmap_cells_are_the_local_weekday_and_hour_of_each_post(tz: str) -> None:
    # Given posts every 7 minutes over weeks holding DST changes (and 30/45-minute zones)
    start = int(datetime(2026, 3, 20, tzinfo=UTC).timestamp())
    samples = [(start + i * 420, 0.5) for i in range(0, 20_000)]
    # When the heatmap is built
    cells = best_times_of_epochs(samples, tz)
    # Then each cell counts the posts whose local time falls in it
    expected = [0] * 168
    zone = ZoneInfo(tz)
    for ts, _ in samples:
        local = datetime.fromtimestamp(ts, zone)
        expected[local.weekday() * 24 + local.hour] += 1
    assert [c.posts for c in cells] == expected
