"""BatchGetItem by exact keys: unprocessed keys are asked again (with backoff) until answered or the
attempts run out; the metrics store reads through the same loop and counts what it read."""

from __future__ import annotations

from typing import Any

import pytest

from chorus.metrics.store import MetricsStore, MetricsWriteConflict
from chorus.store.batch import KeysLeftUnprocessed, batch_get


def item(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"N": "1"}}


class Throttled:
    """A DynamoDB that answers the first ``unanswered`` keys of each call unprocessed, ``rounds`` times."""

    def __init__(self, rounds: int, unanswered: int = 1) -> None:
        self.rounds = rounds
        self.unanswered = unanswered
        self.requests: list[dict[str, Any]] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(RequestItems)
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        held, answered = (keys[: self.unanswered], keys[self.unanswered :]) if self.rounds else ([], keys)
        self.rounds = max(0, self.rounds - 1)
        found = [item(k["pk"]["S"], k["sk"]["S"]) for k in answered if k["sk"]["S"] != "missing"]
        unprocessed = {table: {**request, "Keys": held}} if held else {}
        return {"Responses": {table: found}, "UnprocessedKeys": unprocessed}


def test_unprocessed_keys_are_asked_again_until_answered() -> None:
    client, waits = Throttled(rounds=2), []
    wanted = [("a", str(i)) for i in range(150)] + [("a", "missing"), ("a", "0")]  # 151 distinct
    got = list(batch_get(client, "t", wanted, sleep=waits.append, attributes=["v"]))
    assert sorted(g["sk"]["S"] for g in got) == sorted(str(i) for i in range(150))
    assert [len(next(iter(r.values()))["Keys"]) for r in client.requests] == [100, 1, 1, 51]
    assert all(next(iter(r.values()))["ProjectionExpression"] == "#p0" for r in client.requests)
    assert len(waits) == 2
    assert all(0 <= w <= 0.1 for w in waits)


def test_keys_still_unprocessed_after_every_attempt_are_an_error() -> None:
    client = Throttled(rounds=99)
    with pytest.raises(KeysLeftUnprocessed):
        list(batch_get(client, "t", [("a", "1"), ("a", "2")], attempts=3, sleep=lambda _: None))
    assert len(client.requests) == 3


def test_the_metrics_store_reads_and_counts_through_the_same_loop() -> None:
    store = MetricsStore("m", Throttled(rounds=1), max_attempts=2, sleep=lambda _: None)
    assert len(list(store._batch_get([("a", "1"), ("a", "2"), ("a", "missing")]))) == 2
    assert store.items_read == 2
    stuck = MetricsStore("m", Throttled(rounds=99), max_attempts=2, sleep=lambda _: None)
    with pytest.raises(MetricsWriteConflict):
        list(stuck._batch_get([("a", "1")]))
