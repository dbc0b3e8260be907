"""The embedded runtime's DynamoDB stream mapping gathers records for ``MaximumBatchingWindowInSeconds``
as Lambda's poller does: until ``BatchSize`` records wait or the first of them has waited the window."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from chorus.local import sources
from chorus.local.sources import Activity, StreamMapping


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


class Consumer:
    logical_id = "Consumer"

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def invoke(self, event: dict[str, Any]) -> None:
        self.batches.append([r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]])


class Stream:
    """One shard whose reads answer the records queued for them (one list a read)."""

    meta = SimpleNamespace(endpoint_url="http://127.0.0.1:1")

    def __init__(self) -> None:
        self.reads: list[list[str]] = []

    def describe_stream(self, **_: Any) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "it"}

    def get_records(self, _endpoint: str, _iterator: str, limit: int) -> dict[str, Any]:
        keys = self.reads.pop(0) if self.reads else []
        assert len(keys) <= limit
        return {
            "NextShardIterator": "it",
            "Records": [{"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": k}}}} for k in keys],
        }


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(sources, "time", SimpleNamespace(monotonic=fake.monotonic))
    return fake


def mapping(
    consumer: Consumer, stream: Stream, monkeypatch: pytest.MonkeyPatch, window_s: float
) -> StreamMapping:
    monkeypatch.setattr(sources, "get_records", stream.get_records)
    return StreamMapping(
        function=consumer,  # type: ignore[arg-type]
        stream_arn="arn:stream",
        batch_size=3,
        starting_position="TRIM_HORIZON",
        max_retries=0,
        window_s=window_s,
    )


def test_records_read_apart_within_the_window_go_over_in_one_batch(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer, stream = Consumer(), Stream()
    m = mapping(consumer, stream, monkeypatch, window_s=2.0)
    stream.reads = [["a"], ["b"], []]
    activity = Activity()
    # When two reads 0.5 s apart each find a record, and a third, 1 s later, finds none
    m.poll_once(stream, "us-east-1", activity)
    clock.now += 0.5
    m.poll_once(stream, "us-east-1", activity)
    clock.now += 1.0
    m.poll_once(stream, "us-east-1", activity)
    # Then nothing was handed over yet, and the mapping does not count itself caught up
    assert consumer.batches == []
    assert m.caught_up_at == float("-inf")
    # When the first record has waited the window
    clock.now += 0.5
    m.poll_once(stream, "us-east-1", activity)
    # Then both go over together, and the mapping is caught up
    assert consumer.batches == [["a", "b"]]
    assert m.caught_up_at == clock.now


def test_a_full_batch_goes_over_at_once_and_the_rest_waits_its_window(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer, stream = Consumer(), Stream()
    m = mapping(consumer, stream, monkeypatch, window_s=2.0)
    stream.reads = [["a", "b"], ["c", "d"]]
    activity = Activity()
    m.poll_once(stream, "us-east-1", activity)
    clock.now += 0.25
    m.poll_once(stream, "us-east-1", activity)
    assert consumer.batches == [["a", "b", "c"]]
    clock.now += 1.75  # "d" waited with "a" since the first read: its window is over
    m.poll_once(stream, "us-east-1", activity)
    assert consumer.batches == [["a", "b", "c"], ["d"]]


def test_without_a_window_each_read_goes_over_as_it_is_found(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer, stream = Consumer(), Stream()
    m = mapping(consumer, stream, monkeypatch, window_s=0.0)
    stream.reads = [["a"], ["b"]]
    activity = Activity()
    m.poll_once(stream, "us-east-1", activity)
    m.poll_once(stream, "us-east-1", activity)
    assert consumer.batches == [["a"], ["b"]]
