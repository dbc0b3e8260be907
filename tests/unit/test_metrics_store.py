"""Metric storage: idempotent raw points, lifetime counters folded into day/month rollups as deltas."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chorus.config import reset_caches
from chorus.metrics import keys
from chorus.metrics.store import (
    MetricsStore,
    MetricsWriteConflict,
    PostInfo,
    PostScore,
    plan_range,
    week_scores,
)
from chorus.platforms.base import MetricPoint, MetricScope

TABLE = "test-metrics"
WS, ACCT = "ws-1", "acc-1"
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def create_metrics_table(name: str = TABLE) -> Any:
    """The MetricsTable of template.yaml: pk (S, hash), sk (S, range)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    return client


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("CHORUS_METRICS_TABLE", TABLE)
    with mock_aws():
        reset_caches()
        yield create_metrics_table()
    reset_caches()


@pytest.fixture
def store(dynamo: Any) -> MetricsStore:
    return MetricsStore()


def item(dynamo: Any, sk: str, pk: str | None = None) -> dict[str, Any]:
    answer = dynamo.get_item(
        TableName=TABLE, Key={"pk": {"S": pk or keys.rollup_pk(WS, ACCT)}, "sk": {"S": sk}}
    )
    return dict(answer.get("Item", {}))


def num(found: dict[str, Any], name: str) -> int | None:
    return int(found[name]["N"]) if name in found else None


def raw_count(dynamo: Any, scope: str, object_id: str) -> int:
    pk = keys.raw_pk(WS, ACCT, scope, object_id)
    answer = dynamo.query(
        TableName=TABLE, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
    )
    return int(answer["Count"])


POST = PostInfo("tw-1", "x", T0 - timedelta(hours=2), "Hello spring", "https://x.com/a/status/1", "p-1")


def post_point(metric: str, value: int, at: datetime, object_id: str = "tw-1") -> MetricPoint:
    return MetricPoint(MetricScope.POST, object_id, metric, value, at)


def account_point(metric: str, value: int, at: datetime, period: str = "lifetime") -> MetricPoint:
    return MetricPoint(MetricScope.ACCOUNT, "12345", metric, value, at, period)


def test_settings_name_the_table_the_store_writes_to(store: MetricsStore) -> None:
    # Given CHORUS_METRICS_TABLE in the environment, When a store is made with no arguments
    # Then it uses that table
    assert store.table == TABLE


def test_rerun_of_the_same_collection_writes_nothing_new(store: MetricsStore, dynamo: Any) -> None:
    # Given a collection of two metrics already recorded
    points = [post_point("likes", 10, T0), post_point("impressions", 400, T0)]
    first = store.record_post_points(WS, ACCT, POST, points)
    # When the same collection is recorded again (an SQS redelivery)
    second = store.record_post_points(WS, ACCT, POST, points)
    # Then the second run wrote no point and the day's sum did not double
    assert (first.written, second.written, second.duplicates) == (2, 0, 2)
    assert num(item(dynamo, keys.day_sk(T0.date())), "s_likes") == 10
    assert raw_count(dynamo, "post", "tw-1") == 2


def test_lifetime_counter_adds_only_its_delta_to_the_day_it_was_seen(
    store: MetricsStore, dynamo: Any
) -> None:
    # Given likes read as 10 and 15 on March 10 and 22 on March 11
    day1, day2 = T0.date(), T0.date() + timedelta(days=1)
    store.record_post_points(WS, ACCT, POST, [post_point("likes", 10, T0)])
    store.record_post_points(WS, ACCT, POST, [post_point("likes", 15, T0 + timedelta(hours=1))])
    store.record_post_points(WS, ACCT, POST, [post_point("likes", 22, T0 + timedelta(days=1))])
    # Then March 10 gained 15, March 11 gained 7, and together they make the lifetime 22
    assert num(item(dynamo, keys.day_sk(day1)), "s_likes") == 15
    assert num(item(dynamo, keys.day_sk(day2)), "s_likes") == 7
    assert num(item(dynamo, keys.month_sk(day1)), "s_likes") == 22
    assert num(item(dynamo, keys.post_sk("tw-1")), "l_likes") == 22


def test_a_falling_counter_subtracts_from_the_day(store: MetricsStore, dynamo: Any) -> None:
    # Given 10 likes, then 8 (two people unliked) the next day
    store.record_post_points(WS, ACCT, POST, [post_point("likes", 10, T0)])
    store.record_post_points(WS, ACCT, POST, [post_point("likes", 8, T0 + timedelta(days=1))])
    # Then the next day lost 2 and the month holds the latest 8
    assert num(item(dynamo, keys.day_sk(T0.date() + timedelta(days=1))), "s_likes") == -2
    assert num(item(dynamo, keys.month_sk(T0.date())), "s_likes") == 8


def test_late_older_reading_is_kept_raw_but_changes_no_rollup(store: MetricsStore, dynamo: Any) -> None:
    # Given a reading of 20 at 10:00 already applied
    store.record_post_points(WS, ACCT, POST, [post_point("likes", 20, T0 + timedelta(hours=1))])
    # When a retried collection from 09:00 (12 likes) lands afterwards
    late = store.record_post_points(WS, ACCT, POST, [post_point("likes", 12, T0)])
    # Then it is stored raw, counted as out of order, and the sums still equal the latest value
    assert (late.written, late.out_of_order) == (1, 1)
    assert raw_count(dynamo, "post", "tw-1") == 2
    assert num(item(dynamo, keys.day_sk(T0.date())), "s_likes") == 20


def test_concurrent_collectors_do_not_double_count(dynamo: Any) -> None:
    # Given two collectors of the same post: B records 30 likes between A's read and A's write
    rival = MetricsStore()

    class RacingClient:
        def __init__(self, real: Any) -> None:
            self.real, self.raced = real, False

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def transact_write_items(self, **kw: Any) -> Any:
            if not self.raced:
                self.raced = True
                rival.record_post_points(WS, ACCT, POST, [post_point("likes", 30, T0 + timedelta(minutes=5))])
            return self.real.transact_write_items(**kw)

    racing = MetricsStore(
        client=RacingClient(boto3.client("dynamodb", region_name="us-east-1")), sleep=lambda s: None
    )
    store_first = MetricsStore()
    store_first.record_post_points(WS, ACCT, POST, [post_point("likes", 10, T0)])
    # When A records 35 likes (read version 1, B moves it to 2 before A writes)
    racing.record_post_points(WS, ACCT, POST, [post_point("likes", 35, T0 + timedelta(minutes=10))])
    # Then the day gained exactly the lifetime 35: 10, +20 from B, +5 from A's retry
    assert num(item(dynamo, keys.day_sk(T0.date())), "s_likes") == 35
    assert num(item(dynamo, keys.post_sk("tw-1")), "version") == 3


def test_concurrent_posts_of_one_week_keep_both_scores(dynamo: Any) -> None:
    # Given post B of the same week recorded between post A's read and A's write
    other = PostInfo("tw-2", "x", POST.published_at, "other")
    rival = MetricsStore()

    class RacingClient:
        def __init__(self, real: Any) -> None:
            self.real, self.raced = real, False

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def transact_write_items(self, **kw: Any) -> Any:
            if not self.raced:
                self.raced = True
                rival.record_post_points(WS, ACCT, other, [post_point("likes", 4, T0, "tw-2")])
            return self.real.transact_write_items(**kw)

    racing = MetricsStore(
        client=RacingClient(boto3.client("dynamodb", region_name="us-east-1")), sleep=lambda s: None
    )
    # When A is recorded
    racing.record_post_points(WS, ACCT, POST, [post_point("likes", 9, T0)])
    # Then the week holds both posts' scores: A's write did not overwrite B's
    scores = week_scores(item(dynamo, keys.week_sk(T0.date())))
    assert sorted(scores) == ["tw-1", "tw-2"]


def test_writer_that_never_wins_gives_up_with_a_conflict(dynamo: Any) -> None:
    # Given a post whose version another writer moves before every attempt
    MetricsStore().record_post_points(WS, ACCT, POST, [post_point("likes", 1, T0)])
    bumps = iter(range(2, 100))

    class AlwaysBeaten:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def transact_write_items(self, **kw: Any) -> Any:
            self.real.update_item(
                TableName=TABLE,
                Key={"pk": {"S": keys.rollup_pk(WS, ACCT)}, "sk": {"S": keys.post_sk("tw-1")}},
                UpdateExpression="SET version = :v",
                ExpressionAttributeValues={":v": {"N": str(next(bumps) * 10)}},
            )
            return self.real.transact_write_items(**kw)

    beaten = MetricsStore(
        client=AlwaysBeaten(boto3.client("dynamodb", region_name="us-east-1")),
        max_attempts=3,
        sleep=lambda s: None,
    )
    # When it records, Then it raises a conflict instead of writing a wrong delta
    with pytest.raises(MetricsWriteConflict):
        beaten.record_post_points(WS, ACCT, POST, [post_point("likes", 5, T0 + timedelta(hours=1))])


def test_cancellation_that_retrying_cannot_fix_is_raised_at_once(dynamo: Any) -> None:
    # Given DynamoDB refusing the transaction as invalid (e.g. an item over the size limit)
    class Invalid:
        calls = 0

        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def transact_write_items(self, **kw: Any) -> Any:
            Invalid.calls += 1
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                    "CancellationReasons": [{"Code": "None"}, {"Code": "ValidationError"}],
                },
                "TransactWriteItems",
            )

    invalid = MetricsStore(
        client=Invalid(boto3.client("dynamodb", region_name="us-east-1")), sleep=lambda s: None
    )
    # When a point is recorded, Then the error surfaces after one attempt, not as a conflict
    with pytest.raises(ClientError):
        invalid.record_post_points(WS, ACCT, POST, [post_point("likes", 1, T0)])
    assert Invalid.calls == 1


def test_post_counts_as_published_once_on_its_publish_day(store: MetricsStore, dynamo: Any) -> None:
    # Given a post published March 9 at 23:00 UTC and read twice on March 10
    post = PostInfo("tw-9", "x", datetime(2026, 3, 9, 23, 0, tzinfo=UTC), "late night")
    store.record_post_points(WS, ACCT, post, [post_point("likes", 3, T0, "tw-9")])
    store.record_post_points(WS, ACCT, post, [post_point("likes", 4, T0 + timedelta(hours=1), "tw-9")])
    # Then March 9 counts one post published, March 10 none, and its week keeps the latest score
    assert num(item(dynamo, keys.day_sk(date(2026, 3, 9))), "n_posts") == 1
    assert num(item(dynamo, keys.day_sk(date(2026, 3, 10))), "n_posts") is None
    week = item(dynamo, keys.week_sk(date(2026, 3, 9)))
    score = PostScore.decode(ACCT, "tw-9", week_scores(week)["tw-9"])
    assert (score.engagements, score.published_at) == (4, post.published_at)


def test_post_item_keeps_what_reports_show(store: MetricsStore) -> None:
    # Given a post recorded with its metadata and two metrics
    store.record_post_points(WS, ACCT, POST, [post_point("likes", 7, T0), post_point("impressions", 90, T0)])
    # When reports look it up
    (found,) = store.get_posts(WS, [(ACCT, "tw-1")])
    # Then it carries platform, text, url, Chorus id and the latest values
    assert found.info == POST
    assert dict(found.latest) == {"likes": 7, "impressions": 90}


def test_post_without_points_still_counts_as_published(store: MetricsStore, dynamo: Any) -> None:
    # Given a post whose collector returned nothing yet (no points)
    store.record_post_points(WS, ACCT, POST, [])
    store.record_post_points(WS, ACCT, POST, [])
    # Then its publish day counts it once
    assert num(item(dynamo, keys.day_sk(POST.published_at.date())), "n_posts") == 1


def test_account_followers_keep_the_days_latest_reading_and_change(store: MetricsStore, dynamo: Any) -> None:
    # Given followers read as 100 on March 10, then 104 and 103 on March 11
    store.record_account_points(WS, ACCT, [account_point("followers", 100, T0)])
    store.record_account_points(WS, ACCT, [account_point("followers", 104, T0 + timedelta(days=1))])
    store.record_account_points(WS, ACCT, [account_point("followers", 103, T0 + timedelta(days=1, hours=2))])
    # Then March 11 holds 103 and a gain of 3; the month keeps each day's reading
    day2 = item(dynamo, keys.day_sk(date(2026, 3, 11)))
    assert (num(day2, "l_followers"), num(day2, "g_followers")) == (103, 3)
    month = item(dynamo, keys.month_sk(T0.date()))
    assert (num(month, "l_followers@10"), num(month, "l_followers@11")) == (100, 103)


def test_account_day_value_lands_on_the_day_it_describes(store: MetricsStore, dynamo: Any) -> None:
    # Given Instagram's day insight stamped at the end of March 9 (00:00 March 10)
    midnight = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
    store.record_account_points(WS, ACCT, [account_point("reach", 640, midnight, "day")])
    # Then March 9 holds it, March 10 does not
    assert num(item(dynamo, keys.day_sk(date(2026, 3, 9))), "a_reach") == 640
    assert num(item(dynamo, keys.day_sk(date(2026, 3, 10))), "a_reach") is None


def test_points_of_another_object_are_refused(store: MetricsStore) -> None:
    # Given a point of post tw-2, When it is recorded as post tw-1, Then it is refused
    with pytest.raises(ValueError, match="tw-2"):
        store.record_post_points(WS, ACCT, POST, [post_point("likes", 1, T0, "tw-2")])


def test_raw_points_expire_after_the_retention(store: MetricsStore, dynamo: Any) -> None:
    # Given a recorded point, Then its raw item carries a TTL 400 days after the point
    store.record_post_points(WS, ACCT, POST, [post_point("likes", 1, T0)])
    raw = item(dynamo, keys.raw_sk("likes", "lifetime", T0), pk=keys.raw_pk(WS, ACCT, "post", "tw-1"))
    assert num(raw, "expires_at") == int((T0 + timedelta(days=400)).timestamp())


def test_plan_reads_whole_months_and_edge_days() -> None:
    # Given Jan 20 .. Apr 5, Then Feb and Mar come from month items, the edges from days
    months, edges = plan_range(date(2026, 1, 20), date(2026, 4, 5))
    assert months == [date(2026, 2, 1), date(2026, 3, 1)]
    assert edges == [(date(2026, 1, 20), date(2026, 1, 31)), (date(2026, 4, 1), date(2026, 4, 5))]


def test_plan_inside_one_month_reads_days_only() -> None:
    assert plan_range(date(2026, 3, 2), date(2026, 3, 30)) == ([], [(date(2026, 3, 2), date(2026, 3, 30))])


def test_plan_of_a_whole_year_reads_twelve_months() -> None:
    months, edges = plan_range(date(2025, 1, 1), date(2025, 12, 31))
    assert (len(months), edges) == (12, [])


def test_range_read_from_months_equals_range_read_from_days(store: MetricsStore) -> None:
    # Given likes and followers over Feb 27 .. Apr 2 (one each day, lifetime counters rising)
    start = datetime(2026, 2, 27, 12, tzinfo=UTC)
    for i in range(35):
        at = start + timedelta(days=i)
        store.record_post_points(WS, ACCT, POST, [post_point("likes", 3 * (i + 1), at)])
        store.record_account_points(WS, ACCT, [account_point("followers", 500 + i, at)])
    # When March is read whole (one month item) and day by day (31 day items)
    store.reset_items_read()
    whole = store.read_account_range(WS, ACCT, date(2026, 3, 1), date(2026, 3, 31), with_posts=False)
    by_days = [store.read_account_range(WS, ACCT, d, d) for d in _days(date(2026, 3, 1), date(2026, 3, 31))]
    # Then both give the same gain (31 days x 3 likes) and the same follower readings
    assert whole.items == 1
    assert whole.sums["likes"] == sum(r.sums["likes"] for r in by_days) == 93
    assert whole.latest["followers"] == {d: v for r in by_days for d, v in r.latest["followers"].items()}
    assert whole.latest["followers"][date(2026, 3, 31)] == 532


def test_range_read_finds_posts_published_in_it(store: MetricsStore) -> None:
    # Given posts published Feb 28, Mar 15 and Apr 1
    for pid, published in (("a", date(2026, 2, 28)), ("b", date(2026, 3, 15)), ("c", date(2026, 4, 1))):
        at = datetime.combine(published, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
        info = PostInfo(pid, "x", at)
        store.record_post_points(WS, ACCT, info, [post_point("likes", 1, at + timedelta(hours=1), pid)])
    # When Mar 1 .. Apr 1 is read
    found = store.read_account_range(WS, ACCT, date(2026, 3, 1), date(2026, 4, 1))
    # Then b and c are in it, a (same week as Mar 1, published before it) is not
    assert sorted(s.platform_post_id for s in found.posts) == ["b", "c"]
    assert found.posts_published == 2


def test_week_items_hold_the_scores_of_posts_published_that_week(store: MetricsStore) -> None:
    # Given posts published on Sunday Mar 8 and Monday Mar 9 (a new ISO week)
    for pid, day in (("sun", 8), ("mon", 9)):
        published = datetime(2026, 3, day, 12, tzinfo=UTC)
        store.record_post_points(
            WS, ACCT, PostInfo(pid, "x", published), [post_point("likes", 1, published, pid)]
        )
    # Then the read of Mar 9 .. Mar 15 finds only the Monday post, from one week item
    store.reset_items_read()
    found = store.read_account_range(WS, ACCT, date(2026, 3, 9), date(2026, 3, 15))
    assert [s.platform_post_id for s in found.posts] == ["mon"]
    assert found.items == 2  # the day item of Mar 9 and the week item


def test_items_read_counts_every_item_returned(dynamo: Any) -> None:
    # Given three days with data, in a month still open (so not packed: see chorus.reports.packed)
    store = MetricsStore(clock=lambda: T0 + timedelta(days=3))
    for i in range(3):
        store.record_account_points(WS, ACCT, [account_point("followers", i, T0 + timedelta(days=i))])
    store.reset_items_read()
    # When the three days are read (no posts: no week item exists)
    store.read_account_range(WS, ACCT, T0.date(), T0.date() + timedelta(days=2))
    # Then three items were counted
    assert store.items_read == 3


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
