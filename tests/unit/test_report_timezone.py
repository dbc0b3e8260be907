"""A report's posts are those published in its local days, whatever the zone's offset (issue #20).

The rollups are UTC days: a report of day D in Asia/Shanghai (UTC+8) starts at 16:00 UTC on D-1, one in
America/Los_Angeles (UTC-7 in March) at 07:00 UTC on D. Each scenario puts posts one second before and
at the local midnights that bound D (and one inside), and checks the posts published count (now and in
the previous period), the top/bottom lists, the origin filter and the heatmap take exactly the posts of
D, folded into the rollups or not yet, read per post or as week summaries.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chorus.metrics.store import MetricsStore, PostInfo
from chorus.platforms.base import MetricPoint, MetricScope
from chorus.reports.builder import build_report
from chorus.reports.model import AccountRef, Period, Report
from tests.unit.test_metrics_store import dynamo  # noqa: F401 (the moto fixture)

WS = "ws-tz"
ACCOUNT = AccountRef("acc-x", "x", "Acme X", "@acme")
INFO = {ACCOUNT.account_id: ACCOUNT}
DAY = date(2026, 3, 10)  # a Tuesday
ZONES = ("Asia/Shanghai", "America/Los_Angeles")


def local(tz: str, day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=ZoneInfo(tz))


def edge_posts(tz: str, day: date, prefix: str) -> dict[str, tuple[datetime, bool]]:
    """Posts around local day ``day``: id -> (published, external). Only ``*-in-*`` ones are on it."""
    before = day - timedelta(days=1)
    after = day + timedelta(days=1)
    return {
        f"{prefix}-out-last-second-before": (local(tz, before, 23, 59, 59), False),
        f"{prefix}-in-midnight": (local(tz, day, 0), False),
        f"{prefix}-in-half-past": (local(tz, day, 0, 30), True),
        f"{prefix}-in-last-second": (local(tz, day, 23, 59, 59), False),
        f"{prefix}-out-next-midnight": (local(tz, after, 0), True),
    }


def publish(store: MetricsStore, posts: dict[str, tuple[datetime, bool]], *, fold: bool = True) -> None:
    for n, (pid, (published, external)) in enumerate(sorted(posts.items())):
        info = PostInfo(pid, "x", published, f"text of {pid}", None, None if external else f"chorus-{pid}")
        if not fold:  # published, not collected yet: counted from its unfolded item
            assert store.note_published(WS, ACCOUNT.account_id, info)
            continue
        when = published + timedelta(minutes=5)
        points = [
            MetricPoint(MetricScope.POST, pid, "likes", 10 + n, when),
            MetricPoint(MetricScope.POST, pid, "impressions", 1000, when),
        ]
        store.record_post_points(WS, ACCOUNT.account_id, info, points)


@pytest.fixture
def store(dynamo: Any) -> MetricsStore:  # noqa: F811 (dynamo: the fixture imported above)
    return MetricsStore()


def report(store: MetricsStore, start: date, end: date, tz: str, origin: str | None = None) -> Report:
    return build_report(
        WS,
        Period(start, end, tz),
        [ACCOUNT.account_id],
        tz,
        accounts_info=INFO,
        store=store,
        top_n=5,
        max_workers=1,
        origin=origin,
    )


def listed(found: Report) -> list[str]:
    return sorted(row.post_id for row in found.top_posts + found.bottom_posts)


def on_day(posts: dict[str, tuple[datetime, bool]]) -> list[str]:
    return sorted(f"chorus-{pid}" if not ext else pid for pid, (_, ext) in posts.items() if "-in-" in pid)


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("fold", [True, False], ids=["folded", "unfolded"])
def test_a_day_report_counts_and_lists_exactly_the_posts_of_the_local_day(
    store: MetricsStore, tz: str, fold: bool
) -> None:
    posts = edge_posts(tz, DAY, "p")
    publish(store, posts, fold=fold)

    found = report(store, DAY, DAY, tz)

    assert found.overall.posts_published.current == 3
    assert found.overall.posts_published.previous == 1  # the day before has its last second's post
    if fold:  # unfolded posts have no rate yet: not ranked
        assert listed(found) == on_day(posts)
        assert all(row.published_at.date() == DAY for row in found.top_posts)
        assert sum(cell.posts for cell in found.heatmap) == 3


@pytest.mark.parametrize("tz", ZONES)
def test_the_origin_filter_counts_the_local_day_too(store: MetricsStore, tz: str) -> None:
    publish(store, edge_posts(tz, DAY, "p"))

    external = report(store, DAY, DAY, tz, origin="external")
    chorus = report(store, DAY, DAY, tz, origin="chorus")

    assert external.overall.posts_published.current == 1  # half past midnight, not the next midnight
    assert chorus.overall.posts_published.current == 2
    assert listed(external) == ["p-in-half-past"]


@pytest.mark.parametrize("tz", ZONES)
def test_a_month_read_as_week_summaries_is_exact_at_both_ends(store: MetricsStore, tz: str) -> None:
    start, end = date(2026, 3, 2), date(2026, 3, 29)  # Monday to Sunday: whole weeks inside
    first, last = edge_posts(tz, start, "a"), edge_posts(tz, end, "z")
    # the first day's in-posts and the last day's are in the period, and so is "before" of the last day
    middle = {f"m{i}": (local(tz, start + timedelta(days=7 + i), 12), False) for i in range(10)}
    publish(store, first | last | middle)

    found = report(store, start, end, tz)

    # the first day's 3 and the next midnight's, the last day's 3 and the second before it, the middle
    assert found.overall.posts_published.current == 4 + 4 + 10
    assert found.overall.posts_published.previous == 1  # the second before the first day
    expected = {f"chorus-{p}" for p in middle} | set(on_day(first)) | set(on_day(last))
    expected |= {"a-out-next-midnight", "chorus-z-out-last-second-before"}
    shown = set(listed(found))
    assert len(shown) == 10  # top 5 + bottom 5
    assert shown <= expected  # all of the period
    assert sum(cell.posts for cell in found.heatmap) == 18
