"""Following published posts, fanning out per account and collecting one account (moto in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto import mock_aws

from chorus.config import reset_caches
from chorus.metrics import keys
from chorus.metrics.registry import CollectionRegistry
from chorus.metrics.service import (
    CollectMessage,
    InMemoryCollectionQueue,
    collect,
    fan_out,
    follow_published,
    follow_published_batch,
    schedule_time,
)
from chorus.metrics.store import MetricsStore
from chorus.platforms.base import AccountCredentials, AuthError, MetricPoint, MetricScope, RateLimited
from tests.unit.test_metrics_store import TABLE, create_metrics_table

WS, ACCT = "ws-1", "acc-1"
PUBLISHED = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("CHORUS_METRICS_TABLE", TABLE)
    with mock_aws():
        reset_caches()
        yield create_metrics_table()
    reset_caches()


@pytest.fixture
def registry(dynamo: Any) -> CollectionRegistry:
    return CollectionRegistry()


@pytest.fixture
def store(dynamo: Any) -> MetricsStore:
    return MetricsStore()


@dataclass
class FakeAccount:
    id: str = ACCT
    workspace_id: str = WS
    platform: str = "x"
    platform_account_id: str = "u-1"
    status: str = "active"


@dataclass
class FakeAccounts:
    account_of: FakeAccount | None = field(default_factory=FakeAccount)
    reauth: list[str] = field(default_factory=list)

    def account(self, workspace_id: str, account_id: str) -> Any:
        return self.account_of

    def credentials(self, account: Any) -> AccountCredentials:
        return AccountCredentials(platform="x", account_id="u-1", access_token="t")

    def needs_reauth(self, workspace_id: str, account_id: str, reason: str) -> None:
        self.reauth.append(reason)


class FakeCollector:
    """Likes grow by 10 per call; followers 500; can be told to fail."""

    name = "x"

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.post_calls: list[list[str]] = []
        self.account_calls = 0

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        if self.error:
            raise self.error
        self.post_calls.append(list(platform_post_ids))
        at = PUBLISHED + timedelta(minutes=len(self.post_calls))
        likes = 10 * len(self.post_calls)
        return [MetricPoint(MetricScope.POST, pid, "likes", likes, at) for pid in platform_post_ids]

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        self.account_calls += 1
        return [MetricPoint(MetricScope.ACCOUNT, "u-1", "followers", 500, PUBLISHED)]


def published(platform_post_id: str = "p-1", at: datetime = PUBLISHED) -> dict[str, Any]:
    return {
        "post_id": "post-1",
        "account_id": ACCT,
        "platform": "x",
        "platform_post_id": platform_post_id,
        "url": f"https://x.example/{platform_post_id}",
        "published_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


def run(
    registry: CollectionRegistry,
    store: MetricsStore,
    at: datetime,
    collector: FakeCollector,
    accounts: FakeAccounts | None = None,
) -> Any:
    return collect(
        CollectMessage(WS, ACCT, at),
        registry=registry,
        recorder=store,
        accounts=accounts or FakeAccounts(),
        collectors=lambda platform: collector,
    )


def due_accounts(registry: CollectionRegistry, at: datetime) -> list[tuple[str, str]]:
    queue = InMemoryCollectionQueue()
    fan_out(at, registry, queue)
    return [(m.workspace_id, m.account_id) for m in queue.sent]


def test_a_published_post_is_counted_and_followed_with_its_first_collection_an_hour_later(
    registry: CollectionRegistry, store: MetricsStore, dynamo: Any
) -> None:
    # When a published target's data is followed
    info = follow_published(WS, published(), "Launch day", registry=registry, recorder=store)
    # Then the post counts as published (before any metric), and a report can show it ...
    found = store.read_account_range(WS, ACCT, PUBLISHED.date(), PUBLISHED.date())
    assert found.posts_published == 1
    assert [(s.platform_post_id, s.engagements) for s in found.posts] == [("p-1", 0)]
    assert found.unfolded["p-1"].info == info
    # ... it is followed with what reports show about it ...
    [followed] = registry.followed_posts(WS, ACCT)
    assert followed.info == info
    assert followed.info.text == "Launch day"
    assert followed.last_collected_at is None
    # ... and its account is due one hour after publishing, not before
    entry = registry.entry(WS, ACCT)
    assert entry is not None
    assert entry.next_due == PUBLISHED + timedelta(hours=1)
    assert due_accounts(registry, PUBLISHED + timedelta(minutes=59)) == []
    assert due_accounts(registry, PUBLISHED + timedelta(hours=1)) == [(WS, ACCT)]


def test_a_followed_post_is_written_as_one_small_item_and_folded_into_the_rollups_by_its_first_collection(
    registry: CollectionRegistry, store: MetricsStore, dynamo: Any
) -> None:
    day_key = {"pk": {"S": keys.rollup_pk(WS, ACCT)}, "sk": {"S": keys.day_sk(PUBLISHED.date())}}
    week_key = {"pk": {"S": keys.rollup_pk(WS, ACCT)}, "sk": {"S": keys.week_sk(PUBLISHED.date())}}
    # Given a followed post: neither its day nor its week item is written by the follow
    follow_published(WS, published(), "Launch day", registry=registry, recorder=store)
    assert "Item" not in dynamo.get_item(TableName=TABLE, Key=day_key)
    assert "Item" not in dynamo.get_item(TableName=TABLE, Key=week_key)
    # When its first collection records it
    run(registry, store, PUBLISHED + timedelta(hours=1), FakeCollector())
    # Then the rollups count it (once), with its score in its week, and it is no longer unfolded
    assert dynamo.get_item(TableName=TABLE, Key=day_key)["Item"]["n_posts"] == {"N": "1"}
    found = store.read_account_range(WS, ACCT, PUBLISHED.date(), PUBLISHED.date())
    assert found.posts_published == 1
    assert found.unfolded == {}
    assert [(s.platform_post_id, s.engagements) for s in found.posts] == [("p-1", 10)]
    # and a late redelivery of the stream's record does not count it again
    follow_published(WS, published(), "Launch day", registry=registry, recorder=store)
    again = store.read_account_range(WS, ACCT, PUBLISHED.date(), PUBLISHED.date())
    assert again.posts_published == 1
    assert [s.platform_post_id for s in again.posts] == ["p-1"]


def test_unfolded_posts_are_read_for_the_range_they_were_published_in(
    registry: CollectionRegistry, store: MetricsStore
) -> None:
    # Given posts published on the 9th (23:59:59), the 10th (00:00:00) and the 11th (00:00:00)
    for pid, at in (
        ("before", PUBLISHED.replace(day=9, hour=23, minute=59, second=59)),
        ("first", PUBLISHED.replace(hour=0)),
        ("after", PUBLISHED.replace(day=11, hour=0)),
    ):
        follow_published(WS, published(pid, at), pid, registry=registry, recorder=store)
    # When the 10th is read: only the post published on it
    found = store.read_account_range(WS, ACCT, PUBLISHED.date(), PUBLISHED.date(), with_posts=False)
    assert found.posts_published == 1
    assert list(found.unfolded) == ["first"]
    assert found.posts == []  # without posts: counted only


def test_a_batch_of_published_posts_writes_each_account_entry_once_due_at_its_earliest_post(
    registry: CollectionRegistry, store: MetricsStore
) -> None:
    # Given three posts of one account and one of another, published over half an hour
    later = PUBLISHED + timedelta(minutes=30)
    batch = [
        (WS, published("p-1", later), "One"),
        (WS, published("p-2", PUBLISHED), "Two"),
        (WS, published("p-3", later), "Three"),
        (WS, {**published("q-1", later), "account_id": "acct-2"}, "Other"),
    ]
    writes: list[tuple[str, datetime]] = []
    follow_account = registry.follow_account

    def counted(workspace_id: str, account_id: str, platform: str, due: datetime, **kw: Any) -> None:
        writes.append((account_id, due))
        follow_account(workspace_id, account_id, platform, due, **kw)

    registry.follow_account = counted  # type: ignore[method-assign]
    # When they are followed as one batch (the table stream's)
    infos = follow_published_batch(batch, registry=registry, recorder=store)
    # Then every post is noted and followed with its text
    assert [i.text for i in infos] == ["One", "Two", "Three", "Other"]
    assert sorted(p.info.platform_post_id for p in registry.followed_posts(WS, ACCT)) == ["p-1", "p-2", "p-3"]
    found = store.read_account_range(WS, ACCT, PUBLISHED.date(), PUBLISHED.date(), with_posts=False)
    assert found.posts_published == 3
    # and each account's entry is written once, due at its earliest post's first collection
    assert sorted(writes) == [(ACCT, PUBLISHED + timedelta(hours=1)), ("acct-2", later + timedelta(hours=1))]
    entry = registry.entry(WS, ACCT)
    assert entry is not None
    assert (entry.next_due, entry.posts_version) == (PUBLISHED + timedelta(hours=1), 1)


def test_following_the_same_post_twice_counts_it_once(
    registry: CollectionRegistry, store: MetricsStore
) -> None:
    follow_published(WS, published(), "Once", registry=registry, recorder=store)
    follow_published(WS, published(), "Once", registry=registry, recorder=store)
    found = store.read_account_range(WS, ACCT, PUBLISHED.date(), PUBLISHED.date())
    assert found.posts_published == 1
    assert len(registry.followed_posts(WS, ACCT)) == 1


def test_a_collection_records_due_posts_and_sets_the_next_due_time_from_the_ladder(
    registry: CollectionRegistry, store: MetricsStore
) -> None:
    follow_published(WS, published(), "Launch", registry=registry, recorder=store)
    collector = FakeCollector()
    at = PUBLISHED + timedelta(hours=1)
    # When the account is collected at its due time
    result = run(registry, store, at, collector)
    # Then the post and the account were collected and recorded
    assert result.status == "collected"
    assert collector.post_calls == [["p-1"]]
    assert collector.account_calls == 1
    assert result.recorded.written == 2
    assert store.read_account_range(WS, ACCT, PUBLISHED.date(), PUBLISHED.date()).sums == {"likes": 10}
    # And the next due time is the hourly band's, the account's daily run waits for the next UTC day
    entry = registry.entry(WS, ACCT)
    assert entry is not None
    assert entry.next_due == at + timedelta(hours=1)
    assert entry.account_last_collected_at == at
    assert [p.last_collected_at for p in registry.followed_posts(WS, ACCT)] == [at]
    # When the next hour comes, only the post is asked again
    run(registry, store, at + timedelta(hours=1), collector)
    assert collector.post_calls == [["p-1"], ["p-1"]]
    assert collector.account_calls == 1
    assert store.read_account_range(WS, ACCT, PUBLISHED.date(), PUBLISHED.date()).sums == {"likes": 20}


def test_a_post_whose_ladder_is_finished_is_no_longer_followed(
    registry: CollectionRegistry, store: MetricsStore
) -> None:
    follow_published(WS, published(), "Old", registry=registry, recorder=store)
    collector = FakeCollector()
    # When the post is collected at 90 days (its final reading)
    run(registry, store, PUBLISHED + timedelta(days=90), collector)
    # Then it is unfollowed, and only the daily account run remains due
    assert registry.followed_posts(WS, ACCT) == []
    entry = registry.entry(WS, ACCT)
    assert entry is not None
    assert entry.next_due == datetime(2026, 6, 9, tzinfo=UTC)  # the UTC day after 2026-06-08


def test_a_rate_limited_account_is_parked_until_retry_after(
    registry: CollectionRegistry, store: MetricsStore
) -> None:
    follow_published(WS, published(), "Busy", registry=registry, recorder=store)
    at = PUBLISHED + timedelta(hours=1)
    result = run(registry, store, at, FakeCollector(RateLimited("slow down", platform="x", retry_after=1800)))
    assert result.status == "rate_limited"
    assert due_accounts(registry, at + timedelta(minutes=29)) == []
    assert due_accounts(registry, at + timedelta(minutes=30)) == [(WS, ACCT)]


def test_a_revoked_token_marks_the_account_for_reauthorisation(
    registry: CollectionRegistry, store: MetricsStore
) -> None:
    follow_published(WS, published(), "Revoked", registry=registry, recorder=store)
    accounts = FakeAccounts()
    result = run(
        registry,
        store,
        PUBLISHED + timedelta(hours=1),
        FakeCollector(AuthError("revoked", platform="x")),
        accounts,
    )
    assert result.status == "needs_reauth"
    assert accounts.reauth == ["revoked"]


def test_a_removed_account_is_unfollowed(registry: CollectionRegistry, store: MetricsStore) -> None:
    follow_published(WS, published(), "Gone", registry=registry, recorder=store)
    result = run(
        registry, store, PUBLISHED + timedelta(hours=1), FakeCollector(), FakeAccounts(account_of=None)
    )
    assert result.status == "gone"
    assert registry.entry(WS, ACCT) is None
    assert registry.followed_posts(WS, ACCT) == []


def test_a_post_followed_during_a_run_keeps_its_earlier_due_time(
    registry: CollectionRegistry, store: MetricsStore
) -> None:
    # Given a run that read the account before a second post was followed
    follow_published(WS, published("p-1"), "First", registry=registry, recorder=store)
    stale = registry.entry(WS, ACCT)
    assert stale is not None
    later = PUBLISHED + timedelta(hours=3)
    follow_published(WS, published("p-2", later), "Second", registry=registry, recorder=store)
    # When that run finishes with a due time computed without the new post
    written = registry.finish_run(stale, next_due=PUBLISHED + timedelta(days=1), account_collected_at=later)
    # Then the new post's first collection time stays
    assert written is False
    entry = registry.entry(WS, ACCT)
    assert entry is not None
    assert entry.next_due == PUBLISHED + timedelta(hours=1)
    assert entry.account_last_collected_at == later


def test_the_schedule_time_comes_from_the_eventbridge_event() -> None:
    fallback = datetime(2000, 1, 1, tzinfo=UTC)
    assert schedule_time({"time": "2026-03-10T10:00:00Z"}, lambda: fallback) == datetime(
        2026, 3, 10, 10, tzinfo=UTC
    )
    assert schedule_time({}, lambda: fallback) == fallback


def test_a_collect_message_round_trips() -> None:
    message = CollectMessage(WS, ACCT, PUBLISHED)
    assert CollectMessage.from_json(message.to_json()) == message


def test_following_keeps_an_earlier_due_time_lowers_a_later_one_and_counts_every_new_post(
    registry: CollectionRegistry,
) -> None:
    # Given an account due at 10:00
    registry.follow_account(WS, ACCT, "x", PUBLISHED + timedelta(hours=1), new_post=True)
    # When a post due later is followed, then one due earlier
    registry.follow_account(WS, ACCT, "x", PUBLISHED + timedelta(hours=3), new_post=True)
    entry = registry.entry(WS, ACCT)
    assert entry is not None
    assert (entry.next_due, entry.posts_version) == (PUBLISHED + timedelta(hours=1), 2)
    registry.follow_account(WS, ACCT, "x", PUBLISHED + timedelta(minutes=30), new_post=True)
    # Then the earlier due time stays, the earliest wins, and each new post moved the version
    entry = registry.entry(WS, ACCT)
    assert entry is not None
    assert (entry.next_due, entry.posts_version) == (PUBLISHED + timedelta(minutes=30), 3)
    # and a connected account (no post) keeps its version
    registry.follow_account(WS, ACCT, "x", PUBLISHED + timedelta(hours=5))
    entry = registry.entry(WS, ACCT)
    assert entry is not None
    assert (entry.next_due, entry.posts_version) == (PUBLISHED + timedelta(minutes=30), 3)
