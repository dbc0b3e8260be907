"""Packed months of the metrics rollups: a closed month read from one item gives what its live items
give, and a late write into a packed month is not lost."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from moto import mock_aws

from chorus.metrics.store import AccountRange, MetricsStore, PostInfo
from chorus.platforms.base import MetricPoint, MetricScope
from chorus.reports.packed import closed_through, forget_checks, is_closed, months_touched, pack_closed
from tests.unit.test_metrics_store import create_metrics_table

TABLE = "test-metrics"
WS, ACCT = "ws-1", "acc-1"
PK = f"M#{WS}#{ACCT}"


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        dynamo = create_metrics_table(TABLE)  # pk/sk strings, as the main and metrics tables
        forget_checks()
        yield dynamo
        forget_checks()


def store_at(client: Any, now: datetime) -> MetricsStore:
    return MetricsStore(TABLE, client=client, clock=lambda: now)


def followers(value: int, at: datetime) -> MetricPoint:
    return MetricPoint(MetricScope.ACCOUNT, "12345", "followers", value, at)


def likes(post: str, value: int, at: datetime) -> MetricPoint:
    return MetricPoint(MetricScope.POST, post, "likes", value, at)


def figures(found: AccountRange) -> dict[str, Any]:
    """The figures of a range read, without the item count and in a fixed order."""
    out = asdict(found)
    out.pop("items")
    out["posts"] = sorted(out["posts"])
    return out


def record_february(client: Any) -> None:
    """Followers on three days and two posts gaining likes, recorded as it happened, in time order."""
    events: list[tuple[datetime, Any]] = []
    for day, value in ((2, 100), (14, 120), (27, 90)):
        at = datetime(2026, 2, day, 6, tzinfo=UTC)
        events.append((at, lambda s, at=at, v=value: s.record_account_points(WS, ACCT, [followers(v, at)])))
    for post, day in (("p1", 3), ("p2", 20)):
        info = PostInfo(post, "x", datetime(2026, 2, day, 12, tzinfo=UTC))
        for hours, value in ((1, 5), (30, 9)):
            at = info.published_at + timedelta(hours=hours)
            events.append(
                (
                    at,
                    lambda s, at=at, v=value, i=info: s.record_post_points(
                        WS, ACCT, i, [likes(i.platform_post_id, v, at)]
                    ),
                )
            )
    for at, record in sorted(events, key=lambda e: e[0]):
        record(store_at(client, at))


def test_a_month_is_closed_a_week_after_its_last_day_and_its_days_a_week_after_each() -> None:
    assert not is_closed(date(2026, 2, 1), date(2026, 3, 7))
    assert is_closed(date(2026, 2, 14), date(2026, 3, 8))
    assert closed_through(date(2026, 3, 1), date(2026, 3, 20)) == date(2026, 3, 12)
    assert closed_through(date(2026, 3, 1), date(2026, 3, 8)) is None
    assert months_touched(date(2025, 12, 30), date(2026, 2, 1)) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 2, 3), date(2026, 2, 21)),
        (date(2026, 1, 20), date(2026, 3, 5)),
    ],
)
def test_a_packed_month_reads_the_same_figures_from_one_item(client: Any, start: date, end: date) -> None:
    # Given February recorded while it was open, and read live
    record_february(client)
    reader = store_at(client, datetime(2026, 3, 1, tzinfo=UTC))
    live = reader.read_account_range(WS, ACCT, start, end)
    # When a writer packs the closed months a week after February ended
    assert pack_closed(client, TABLE, PK, datetime(2026, 3, 8, tzinfo=UTC)) == 1
    packed = reader.read_account_range(WS, ACCT, start, end)
    # Then every figure is the same, and February is one item
    assert figures(packed) == figures(live)
    assert live.posts_published == (2 if start <= date(2026, 2, 3) else 1)
    assert live.sums["likes"] > 0
    assert packed.items == 3  # packed February and the two week items of the posts' scores
    assert packed.items <= live.items


def test_a_late_write_into_a_packed_month_drops_its_copy_and_is_read(client: Any) -> None:
    # Given February recorded and packed
    record_february(client)
    pack_closed(client, TABLE, PK, datetime(2026, 3, 8, tzinfo=UTC))
    # When the platform's own value for 25 February ("period=day", stamped at the day's end) is only
    # collected on 20 March
    late = MetricPoint(
        MetricScope.ACCOUNT, "12345", "impressions", 950, datetime(2026, 2, 26, tzinfo=UTC), "day"
    )
    store_at(client, datetime(2026, 3, 20, tzinfo=UTC)).record_account_points(WS, ACCT, [late])
    # Then the reading is in February's figures (read from a fresh packed copy)
    found = store_at(client, datetime(2026, 3, 20, tzinfo=UTC)).read_account_range(
        WS, ACCT, date(2026, 2, 1), date(2026, 2, 28), with_posts=False
    )
    assert found.daily["impressions"] == {date(2026, 2, 25): 950}
    assert found.latest["followers"][date(2026, 2, 27)] == 90
    assert found.items == 1


def test_the_closed_days_of_the_current_month_are_packed_and_the_rest_read_live(client: Any) -> None:
    # Given February recorded as it happened: the last write (27 Feb) packed the days closed by then
    record_february(client)
    copy = client.get_item(TableName=TABLE, Key={"pk": {"S": PK}, "sk": {"S": "PM#2026-02"}})["Item"]
    assert copy["through"] == {"S": "2026-02-19"}
    # When the month is read before it is packed whole
    found = store_at(client, datetime(2026, 3, 1, tzinfo=UTC)).read_account_range(
        WS, ACCT, date(2026, 2, 1), date(2026, 2, 28)
    )
    # Then it reads what its live items hold: packed days to the 19th, day items after it
    client.delete_item(TableName=TABLE, Key={"pk": {"S": PK}, "sk": {"S": "PM#2026-02"}})
    live = store_at(client, datetime(2026, 3, 1, tzinfo=UTC)).read_account_range(
        WS, ACCT, date(2026, 2, 1), date(2026, 2, 28)
    )
    assert figures(found) == figures(live)
    assert found.latest["followers"] == {date(2026, 2, 2): 100, date(2026, 2, 14): 120, date(2026, 2, 27): 90}


def test_concurrent_writers_of_one_partition_check_its_months_once(client: Any) -> None:
    import threading

    record_february(client)
    forget_checks()  # a new process: nothing checked yet
    reads: list[int] = []
    read = client.batch_get_item

    class Counting:
        def batch_get_item(self, **kw: Any) -> Any:
            reads.append(1)
            return read(**kw)

        def put_item(self, **kw: Any) -> Any:
            return client.put_item(**kw)

    start = threading.Barrier(6)
    now = datetime(2026, 3, 20, tzinfo=UTC)

    def writer() -> None:
        start.wait()
        pack_closed(Counting(), TABLE, PK, now)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    alone = len(reads)
    assert 0 < alone <= 15  # one check: the packed copies, then the days of each month needing one
    pack_closed(Counting(), TABLE, PK, now)
    assert len(reads) == alone  # and checked for the day
