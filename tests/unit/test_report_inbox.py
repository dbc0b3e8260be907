"""The inbox counters reports read: counted once per stored message, summed from month and day items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from moto import mock_aws

from chorus.inbox.stats import CounterReader, count_stored, counter_item, day_sk, month_sk
from chorus.reports.inbox import StoredInboxStats
from chorus.reports.model import Period
from chorus.reports.packed import forget_checks, pack_closed
from tests.unit.test_metrics_store import create_metrics_table

TABLE = "test-main"
WS = "ws-1"


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        dynamo = create_metrics_table(TABLE)  # pk/sk strings, as the main and metrics tables
        forget_checks()
        yield dynamo
        forget_checks()


def stored(
    client: Any,
    marker: str,
    at: datetime,
    *,
    account: str = "acc-1",
    inbound: bool = True,
    sentiment: str | None = None,
    first_response_s: float | None = None,
) -> bool:
    """A message stored by ingest: its dedupe marker (not done yet), then the counting step."""
    key = (f"WS#{WS}", f"INMSG#sandbox#{marker}")
    client.put_item(
        TableName=TABLE,
        Item={"pk": {"S": key[0]}, "sk": {"S": key[1]}, "done": {"BOOL": False}},
        ConditionExpression="attribute_not_exists(pk)",
    )
    return count(client, key, at, account, inbound, sentiment, first_response_s)


def count(
    client: Any,
    key: tuple[str, str],
    at: datetime,
    account: str = "acc-1",
    inbound: bool = True,
    sentiment: str | None = None,
    first_response_s: float | None = None,
) -> bool:
    return count_stored(
        WS,
        account,
        key,
        at=at,
        inbound=inbound,
        sentiment=sentiment,
        first_response_s=first_response_s,
        client=client,
        table=TABLE,
        clock=lambda: at,  # stored as it happens: its month is open, nothing is packed
    )


def test_a_message_is_counted_once_however_often_its_last_step_runs(client: Any) -> None:
    at = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
    # Given an inbound positive message whose counting step ran
    assert stored(client, "m1", at, sentiment="positive") is True
    # When the step runs again (a redelivery that found the marker half done, or a racing worker)
    again = count(client, (f"WS#{WS}", "INMSG#sandbox#m1"), at, sentiment="positive")
    # Then nothing more is counted, and the marker is done
    assert again is False
    counters = CounterReader(client, TABLE).read(WS, ["acc-1"], date(2026, 2, 10), date(2026, 2, 10))
    assert (counters.inbound, counters.sentiment["positive"]) == (1, 1)
    marker = client.get_item(TableName=TABLE, Key={"pk": {"S": f"WS#{WS}"}, "sk": {"S": "INMSG#sandbox#m1"}})
    assert marker["Item"]["done"] == {"BOOL": True}


def test_a_range_sums_whole_months_from_month_items_and_edges_from_day_items(client: Any) -> None:
    # Given messages on an edge day before February, in February, and on an edge day after it
    stored(client, "a", datetime(2026, 1, 31, 23, 0, tzinfo=UTC), sentiment="negative")
    stored(client, "b", datetime(2026, 2, 1, 0, 30, tzinfo=UTC), inbound=False, first_response_s=5400)
    stored(client, "c", datetime(2026, 2, 14, 12, 0, tzinfo=UTC), sentiment="positive")
    stored(client, "d", datetime(2026, 2, 14, 12, 10, tzinfo=UTC), inbound=False, first_response_s=600)
    stored(client, "e", datetime(2026, 3, 1, 8, 0, tzinfo=UTC))  # no text: unknown sentiment
    stored(client, "f", datetime(2026, 3, 2, 8, 0, tzinfo=UTC), sentiment="positive")  # outside
    stored(client, "g", datetime(2026, 2, 3, 8, 0, tzinfo=UTC), account="acc-2", sentiment="neutral")
    reader = CounterReader(client, TABLE)
    # When 31 January to 1 March of acc-1 is read
    counters = reader.read(WS, ["acc-1"], date(2026, 1, 31), date(2026, 3, 1))
    # Then February comes from its month item and the two edge days from day items: 3 items
    assert counters.items == reader.items_read == 3
    assert (counters.inbound, counters.outbound) == (3, 2)
    assert counters.sentiment == {"positive": 1, "negative": 1, "neutral": 0, "unknown": 1}
    assert sorted(counters.first_response_s) == [600.0, 5400.0]


def test_the_report_section_has_volume_sentiment_and_median_first_response_against_the_previous_period(
    client: Any,
) -> None:
    # Given two whole months of hand-made counters (March the period, February the one before)
    client.batch_write_item(
        RequestItems={
            TABLE: [
                {"PutRequest": {"Item": item}}
                for item in (
                    counter_item(
                        WS,
                        "acc-1",
                        month_sk(date(2026, 3, 1)),
                        inbound=8,
                        outbound=3,
                        sentiment={"positive": 5, "negative": 2, "unknown": 1},
                        first_response_s=[60, 1200, 300],
                    ),
                    counter_item(
                        WS, "acc-2", month_sk(date(2026, 3, 1)), inbound=2, sentiment={"neutral": 2}
                    ),
                    counter_item(
                        WS,
                        "acc-1",
                        month_sk(date(2026, 2, 1)),
                        inbound=4,
                        sentiment={"positive": 4},
                        first_response_s=[100, 200, 400, 800],
                    ),
                    counter_item(WS, "acc-1", day_sk(date(2026, 1, 30)), inbound=4, first_response_s=[1]),
                )
            ]
        }
    )
    source = StoredInboxStats(CounterReader(client, TABLE))
    # When the report of March asks for its inbox figures (the previous 31 days: 29 January to 28 February)
    stats = source.inbox_stats(WS, Period(date(2026, 3, 1), date(2026, 3, 31), "UTC"), ["acc-1", "acc-2"])
    # Then volume 10 (8 + 2) against 4 + 4, the sentiment counts add up, and medians are of the lists
    assert stats is not None
    assert (stats.volume, stats.previous_volume) == (10, 8)
    shares = stats.sentiment
    assert (shares.positive, shares.negative, shares.neutral, shares.unknown) == (5, 2, 2, 1)
    assert stats.median_first_response_seconds == 300.0
    assert stats.previous_median_first_response_seconds == 200.0  # of 1, 100, 200, 400, 800


def test_accounts_without_inbox_activity_give_no_inbox_section(client: Any) -> None:
    source = StoredInboxStats(CounterReader(client, TABLE))
    assert source.inbox_stats(WS, Period(date(2026, 3, 1), date(2026, 3, 31), "UTC"), ["acc-1"]) is None


class RacingClient:
    """Lets another writer store a first response between this writer's read and its write, once."""

    def __init__(self, client: Any, race: Any) -> None:
        self._client, self._race = client, race

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kw: Any) -> Any:
        if self._race is not None:
            race, self._race = self._race, None
            race()
        return self._client.transact_write_items(**kw)


def test_two_first_responses_racing_on_one_day_both_land_in_its_list(client: Any) -> None:
    at = datetime(2026, 2, 14, 12, 0, tzinfo=UTC)
    key = (f"WS#{WS}", "INMSG#sandbox#r1")
    client.put_item(TableName=TABLE, Item={"pk": {"S": key[0]}, "sk": {"S": key[1]}, "done": {"BOOL": False}})
    # Given another worker stores a first response of 90 s after this one read the day's list
    racing = RacingClient(client, lambda: stored(client, "r2", at, inbound=False, first_response_s=90))
    # When this worker stores its first response of 30 s
    assert count_stored(
        WS, "acc-1", key, at=at, inbound=False, first_response_s=30, client=racing, table=TABLE,
        sleep=lambda s: None, clock=lambda: at,
    )  # fmt: skip
    # Then its version check failed once, it read again, and both values are kept
    counters = CounterReader(client, TABLE).read(WS, ["acc-1"], date(2026, 2, 14), date(2026, 2, 14))
    assert sorted(counters.first_response_s) == [30.0, 90.0]
    assert counters.outbound == 2
    month = CounterReader(client, TABLE).read(WS, ["acc-1"], date(2026, 2, 1), date(2026, 2, 28))
    assert sorted(month.first_response_s) == [30.0, 90.0]


def test_a_closed_month_is_read_from_its_packed_copy_with_the_same_counters(client: Any) -> None:
    # Given a month of messages, read live
    stored(client, "p1", datetime(2026, 2, 3, 8, 0, tzinfo=UTC), sentiment="positive")
    stored(client, "p2", datetime(2026, 2, 3, 9, 0, tzinfo=UTC), inbound=False, first_response_s=3600)
    stored(client, "p3", datetime(2026, 2, 20, 9, 0, tzinfo=UTC), sentiment="negative")
    reader = CounterReader(client, TABLE)
    live = reader.read(WS, ["acc-1"], date(2026, 2, 2), date(2026, 2, 28))
    # When a writer packs it, a week after it closed
    packed = pack_closed(client, TABLE, "INSTAT#ws-1#acc-1", datetime(2026, 3, 8, tzinfo=UTC))
    # Then the same read finds the same counters in one item instead of one per day
    again = reader.read(WS, ["acc-1"], date(2026, 2, 2), date(2026, 2, 28))
    assert packed == 1
    assert (live.items, again.items) == (2, 1)
    assert (again.inbound, again.outbound, again.sentiment) == (live.inbound, live.outbound, live.sentiment)
    assert again.first_response_s == live.first_response_s == [3600.0]


def test_a_late_message_in_a_packed_month_is_counted(client: Any) -> None:
    # Given February packed
    stored(client, "q1", datetime(2026, 2, 3, 8, 0, tzinfo=UTC), sentiment="positive")
    pack_closed(client, TABLE, "INSTAT#ws-1#acc-1", datetime(2026, 3, 8, tzinfo=UTC))
    # When a message written on 10 February is only stored in March (a late poll)
    key = (f"WS#{WS}", "INMSG#sandbox#q2")
    client.put_item(TableName=TABLE, Item={"pk": {"S": key[0]}, "sk": {"S": key[1]}})
    count_stored(
        WS, "acc-1", key, at=datetime(2026, 2, 10, tzinfo=UTC), inbound=True, sentiment="negative",
        client=client, table=TABLE, clock=lambda: datetime(2026, 3, 20, tzinfo=UTC),
    )  # fmt: skip
    # Then February's counters include it (its packed copy was dropped, then packed again)
    counters = CounterReader(client, TABLE).read(WS, ["acc-1"], date(2026, 2, 1), date(2026, 2, 28))
    assert (counters.inbound, counters.sentiment["negative"]) == (2, 1)
    assert counters.items == 1


def test_the_workspace_counters_hold_every_accounts_messages_in_one_partition(client: Any) -> None:
    # Given messages of two accounts
    stored(client, "w1", datetime(2026, 2, 3, 8, 0, tzinfo=UTC), sentiment="positive")
    stored(client, "w2", datetime(2026, 2, 3, 9, 0, tzinfo=UTC), account="acc-2", sentiment="negative")
    stored(
        client,
        "w3",
        datetime(2026, 2, 4, 9, 0, tzinfo=UTC),
        account="acc-2",
        inbound=False,
        first_response_s=70,
    )
    reader = CounterReader(client, TABLE)
    # When the whole workspace is read
    whole = reader.read(WS, None, date(2026, 2, 1), date(2026, 2, 10))
    each = reader.read(WS, ["acc-1", "acc-2"], date(2026, 2, 1), date(2026, 2, 10))
    # Then it has what the accounts have together, from one partition's items
    assert (whole.inbound, whole.outbound, whole.sentiment) == (each.inbound, each.outbound, each.sentiment)
    assert whole.first_response_s == each.first_response_s == [70.0]
    assert (whole.items, each.items) == (2, 3)
