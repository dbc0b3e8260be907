"""A published post is followed with one item that both the collector and the reports read (moto).

The followed post ``M#<ws>#<acct>`` / ``P#<published at>#<id>`` (see :mod:`chorus.metrics.store`): one
write a post, counted once before and after its first collection, untouched by a redelivered stream
batch, and the legacy ``CPOST#`` items of before session 9 moved by the account's next collection run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from chorus.metrics import keys
from chorus.metrics.registry import CollectionRegistry, entry_pk, shard_of
from chorus.metrics.service import follow_published_batch
from chorus.metrics.store import FOLLOWED_KEPT, MetricsStore, PostInfo
from chorus.platforms.base import MetricPoint, MetricScope
from tests.unit.test_collection_service import (  # noqa: F401 (dynamo: the moto fixture)
    ACCT,
    PUBLISHED,
    WS,
    FakeCollector,
    dynamo,
    published,
    run,
)
from tests.unit.test_metrics_store import TABLE

WRITES = frozenset({"put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"})


def _keys_written(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    def key(body: dict[str, Any]) -> tuple[str, str]:
        item = body.get("Item") or body["Key"]
        return item["pk"]["S"], item["sk"]["S"]

    if operation == "transact_write_items":
        for entry in params["TransactItems"]:
            for kind in ("Put", "Update", "Delete"):
                if kind in entry:
                    yield key(entry[kind])
    elif operation == "batch_write_item":
        for requests in params["RequestItems"].values():
            for request in requests:
                yield key(request.get("PutRequest") or request["DeleteRequest"])
    else:
        yield key(params)


class Recording:
    """A DynamoDB client that notes each item every write request names, as (operation, pk, sk), and
    the partitions it queries."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.writes: list[tuple[str, str, str]] = []
        self.queried: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name == "query":

            def query(**params: Any) -> Any:
                self.queried.append(params["ExpressionAttributeValues"][":pk"]["S"])
                return method(**params)

            return query
        if name not in WRITES:
            return method

        def write(**params: Any) -> Any:
            self.writes += [(name, pk, sk) for pk, sk in _keys_written(name, params)]
            return method(**params)

        return write

    def on_followed(self) -> list[str]:
        """The writes that named a followed post (or a legacy one)."""
        return [
            op for op, pk, sk in self.writes if sk.startswith(keys.FOLLOWED_PREFIX) or pk.startswith("CPOST#")
        ]


@pytest.fixture
def ddb(request: pytest.FixtureRequest) -> Any:
    """The moto DynamoDB client with the metrics table (``dynamo``, by another name here)."""
    return request.getfixturevalue("dynamo")


@pytest.fixture
def client(ddb: Any) -> Recording:
    return Recording(ddb)


@pytest.fixture
def registry(client: Recording) -> CollectionRegistry:
    return CollectionRegistry(client=client)


@pytest.fixture
def store(client: Recording) -> MetricsStore:
    return MetricsStore(client=client)


def batch(*pids: str) -> list[tuple[str, dict[str, Any], str]]:
    return [
        (WS, published(pid, PUBLISHED + timedelta(minutes=i)), f"text of {pid}") for i, pid in enumerate(pids)
    ]


def posts_counted(store: MetricsStore, **kwargs: Any) -> int:
    day = PUBLISHED.date()
    return store.read_account_range(
        WS, ACCT, day - timedelta(days=3), day + timedelta(days=5), **kwargs
    ).posts_published


def snapshot(ddb: Any, *, without: str = "COLLECT#") -> dict[tuple[str, str], Any]:
    """Every item of the metrics table (but the account entries), by key."""
    items = ddb.scan(TableName=TABLE)["Items"]
    return {(i["pk"]["S"], i["sk"]["S"]): i for i in items if not i["pk"]["S"].startswith(without)}


def test_a_published_post_is_followed_with_one_write_of_one_item(
    client: Recording, registry: CollectionRegistry, store: MetricsStore
) -> None:
    # Given an account followed already (due before the posts' first collection)
    registry.follow_account(WS, ACCT, "x", PUBLISHED)
    client.writes.clear()
    # When a stream batch of three posts of one account is followed
    follow_published_batch(batch("p-0", "p-1", "p-2"), registry=registry, recorder=store)
    # Then each post is one write of one item, and the account's entry one more write
    followed = [
        (keys.rollup_pk(WS, ACCT), keys.followed_sk(PUBLISHED + timedelta(minutes=i), f"p-{i}"))
        for i in range(3)
    ]
    assert client.writes == [
        *(("put_item", pk, sk) for pk, sk in followed),
        ("update_item", entry_pk(shard_of(WS, ACCT)), f"{WS}#{ACCT}"),
    ]
    # And it is what the collector follows and what reports count
    assert sorted(p.info.platform_post_id for p in registry.followed_posts(WS, ACCT)) == ["p-0", "p-1", "p-2"]
    assert posts_counted(store) == 3
    # When their first collection folds them: each is written once more, in the fold's transaction,
    # which stores its collection time too (no second write after it)
    client.writes.clear()
    at = PUBLISHED + timedelta(hours=1, minutes=5)  # the three are due
    collector = FakeCollector()
    run(registry, store, at, collector)
    assert client.on_followed() == ["transact_write_items"] * 3
    assert {p.last_collected_at for p in registry.followed_posts(WS, ACCT)} == {at}
    # And a later collection writes each one's collection time once
    client.writes.clear()
    run(registry, store, at + timedelta(hours=1), collector)
    assert client.on_followed() == ["update_item"] * 3
    assert {p.last_collected_at for p in registry.followed_posts(WS, ACCT)} == {at + timedelta(hours=1)}


def test_a_post_is_counted_once_before_and_after_its_first_collection(
    registry: CollectionRegistry, store: MetricsStore
) -> None:
    # Given a followed post (a Tuesday: its whole week is in the range read below)
    follow_published_batch(batch("p-1"), registry=registry, recorder=store)
    ways = ({}, {"with_posts": False}, {"summarised": 3}, {"tz": "America/Los_Angeles"})
    # Then every way of reading counts it once while it is unfolded
    assert [posts_counted(store, **way) for way in ways] == [1, 1, 1, 1]
    # When its first collection folds it
    at = PUBLISHED + timedelta(hours=1)
    run(registry, store, at, FakeCollector())
    # Then the rollups count it, once, and the followed post is still followed, folded
    assert [posts_counted(store, **way) for way in ways] == [1, 1, 1, 1]
    day = PUBLISHED.date()
    found = store.read_account_range(WS, ACCT, day, day)
    assert found.unfolded == {}
    assert [(s.platform_post_id, s.engagements) for s in found.posts] == [("p-1", 10)]
    [post] = registry.followed_posts(WS, ACCT)
    assert (post.info.platform_post_id, post.last_collected_at) == ("p-1", at)
    # And when its ladder ends it is unfollowed, and still counted once
    run(registry, store, PUBLISHED + timedelta(days=90), FakeCollector())
    assert registry.followed_posts(WS, ACCT) == []
    assert [posts_counted(store, **way) for way in ways] == [1, 1, 1, 1]


def test_a_redelivered_stream_batch_changes_nothing(
    ddb: Any, registry: CollectionRegistry, store: MetricsStore
) -> None:
    delivered = batch("p-1", "p-2")
    follow_published_batch(delivered, registry=registry, recorder=store)
    before = snapshot(ddb)
    # When the batch is delivered again before the first collection
    follow_published_batch(delivered, registry=registry, recorder=store)
    # Then no item but the account entry changed (its posts_version moves with each delivery)
    assert snapshot(ddb) == before
    assert posts_counted(store) == 2
    # When the posts are collected, then the batch is delivered once more
    at = PUBLISHED + timedelta(hours=1, minutes=5)
    run(registry, store, at, FakeCollector())
    collected = snapshot(ddb)
    follow_published_batch(delivered, registry=registry, recorder=store)
    # Then nothing changed either: still folded, counted once, with their collection time
    assert snapshot(ddb) == collected
    assert posts_counted(store) == 2
    assert store.read_account_range(WS, ACCT, PUBLISHED.date(), PUBLISHED.date()).unfolded == {}
    assert {p.last_collected_at for p in registry.followed_posts(WS, ACCT)} == {at}


# ---------------------------------------------------------------------- the upgrade


def legacy_follow(
    ddb: Any, pid: str, at: datetime, *, noted: bool = True, last: datetime | None = None
) -> None:
    """What the code before session 9 wrote to follow a post: the noted item (``P#``, unfolded, no
    TTL; ``noted``) and the registry's own followed post (``CPOST#``, with its last collection)."""
    fields = {
        "platform": {"S": "x"},
        "published_at": {"S": at.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
        "text": {"S": f"text of {pid}"},
        "url": {"S": f"https://x.example/{pid}"},
        "post_id": {"S": "post-1"},
    }
    if noted:
        ddb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": f"M#{WS}#{ACCT}"},
                "sk": {"S": f"P#{fields['published_at']['S']}#{pid}"},
                "kind": {"S": "post"},
                "account_id": {"S": ACCT},
                "platform_post_id": {"S": pid},
                **fields,
            },
        )
    legacy = {"pk": {"S": f"CPOST#{WS}#{ACCT}"}, "sk": {"S": pid}, **fields}
    if last is not None:
        legacy["last_collected"] = {"S": last.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    ddb.put_item(TableName=TABLE, Item=legacy)


def legacy_fold(ddb: Any, store: MetricsStore, pid: str, at: datetime, *, tombstone: bool) -> None:
    """The rollups a first collection wrote before session 9 (the same as now), and its tombstone on
    the noted item: TTL'd two days after the collection (``tombstone``), or gone already."""
    store.record_post_points(
        WS, ACCT, PostInfo(pid, "x", at, f"text of {pid}", f"https://x.example/{pid}", "post-1"),
        [MetricPoint(MetricScope.POST, pid, "likes", 5, at + timedelta(hours=1))],
    )  # fmt: skip
    key = {"pk": {"S": f"M#{WS}#{ACCT}"}, "sk": {"S": f"P#{at.strftime('%Y-%m-%dT%H:%M:%S.000Z')}#{pid}"}}
    if tombstone:
        two_days = int((at + timedelta(hours=1, days=2)).timestamp())
        ddb.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET expires_at = :e",
            ExpressionAttributeValues={":e": {"N": str(two_days)}},
        )
    else:
        ddb.delete_item(TableName=TABLE, Key=key)


def test_posts_followed_before_the_upgrade_are_collected_and_counted_once_after_it(
    ddb: Any, client: Recording, registry: CollectionRegistry, store: MetricsStore
) -> None:
    at = PUBLISHED + timedelta(hours=1)
    earlier = PUBLISHED - timedelta(days=2)  # six-hourly, last collected 2 days ago: due
    collected = earlier + timedelta(hours=1)
    # Given what the old code left: "new" noted and followed, not collected yet; "old" collected, its
    # tombstone expired; "recent" collected, its tombstone still there with its two-day TTL; "crashed"
    # folded, its run stopped before it stored the collection time (the message was retried later)
    legacy_follow(ddb, "new", PUBLISHED)
    legacy_follow(ddb, "old", earlier, noted=False, last=collected)
    legacy_fold(ddb, store, "old", earlier, tombstone=False)
    legacy_follow(ddb, "recent", earlier + timedelta(minutes=5), last=collected)
    legacy_fold(ddb, store, "recent", earlier + timedelta(minutes=5), tombstone=True)
    legacy_follow(ddb, "crashed", earlier + timedelta(minutes=10))
    legacy_fold(ddb, store, "crashed", earlier + timedelta(minutes=10), tombstone=True)
    registry.follow_account(WS, ACCT, "x", at, new_post=True)
    # Then the new code's reports count each once already
    assert posts_counted(store, summarised=3) == 4
    assert posts_counted(store, with_posts=False) == 4
    # When the account's first collection run with the new code comes
    client.writes.clear()
    result = run(registry, store, at, FakeCollector())
    # Then the legacy items were moved (each one update and one delete), and all three collected
    assert result.posts == 4
    assert [op for op, pk, _ in client.writes if pk.startswith("CPOST#")] == ["delete_item"] * 4
    assert [key for key in snapshot(ddb) if key[0].startswith("CPOST#")] == []
    followed = {p.info.platform_post_id: p for p in registry.followed_posts(WS, ACCT)}
    assert sorted(followed) == ["crashed", "new", "old", "recent"]
    assert {p.last_collected_at for p in followed.values()} == {at}
    assert followed["old"].info == PostInfo(
        "old", "x", earlier, "text of old", "https://x.example/old", "post-1"
    )
    entry = registry.entry(WS, ACCT)
    assert entry is not None
    assert entry.legacy_moved
    # And each is counted once, folded, kept past the old tombstone's two days
    assert posts_counted(store, summarised=3) == 4
    assert posts_counted(store, with_posts=False) == 4
    assert posts_counted(store, tz="Asia/Shanghai") == 4
    assert store.read_account_range(WS, ACCT, earlier.date(), PUBLISHED.date()).unfolded == {}
    items = snapshot(ddb)
    for pid, published_at in (
        ("new", PUBLISHED),
        ("old", earlier),
        ("recent", earlier + timedelta(minutes=5)),
        ("crashed", earlier + timedelta(minutes=10)),
    ):
        item = items[(keys.rollup_pk(WS, ACCT), keys.followed_sk(published_at, pid))]
        assert item["folded"] == {"N": "1"}
        assert item["expires_at"] == {"N": str(int((published_at + FOLLOWED_KEPT).timestamp()))}
    # And the next run does not look for legacy items again
    client.queried.clear()
    run(registry, store, at + timedelta(hours=1), FakeCollector())
    assert keys.legacy_followed_pk(WS, ACCT) not in client.queried
    assert posts_counted(store) == 4


def test_a_removed_account_leaves_no_followed_post_behind(
    ddb: Any, registry: CollectionRegistry, store: MetricsStore
) -> None:
    # Given a followed post collected once, one not collected yet, and a legacy one
    follow_published_batch(batch("p-1"), registry=registry, recorder=store)
    run(registry, store, PUBLISHED + timedelta(hours=1), FakeCollector())
    follow_published_batch(batch("p-2"), registry=registry, recorder=store)
    legacy_follow(ddb, "old", PUBLISHED - timedelta(days=1), noted=False, last=PUBLISHED)
    # When the account is unfollowed
    registry.unfollow_account(WS, ACCT)
    # Then neither the followed posts nor the legacy one are left
    left = snapshot(ddb)
    assert [k for k in left if k[1].startswith(keys.FOLLOWED_PREFIX) or k[0].startswith("CPOST#")] == []
    assert registry.followed_posts(WS, ACCT) == []
