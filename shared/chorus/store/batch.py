"""Reading raw items of a pk/sk table by their exact keys (BatchGetItem), shared by the readers and
writers that work with the low-level client: reports, inbox counters and landing, metrics."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

BATCH_GET_MAX = 100  # keys in one BatchGetItem
MAX_ATTEMPTS = 8

Item = dict[str, Any]
Key = tuple[str, str]


class KeysLeftUnprocessed(RuntimeError):
    """DynamoDB kept answering some keys unprocessed (throttled) through every retry."""


def batch_get(
    client: Any,
    table: str,
    wanted: Sequence[Key],
    *,
    consistent: bool = False,
    attributes: Sequence[str] | None = None,
    attempts: int = MAX_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Item]:
    """Items by exact key, 100 a call, retrying unprocessed keys (``attempts`` calls at most, jittered
    backoff between them); missing items are skipped. ``attributes``: only these (a projection: fewer
    attribute values to encode and decode)."""
    listed = list(dict.fromkeys(wanted))
    for chunk_start in range(0, len(listed), BATCH_GET_MAX):
        chunk = listed[chunk_start : chunk_start + BATCH_GET_MAX]
        request: dict[str, Any] = {
            table: {
                "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in chunk],
                "ConsistentRead": consistent,
                **projection(attributes),
            }
        }
        for attempt in range(attempts):
            answer = client.batch_get_item(RequestItems=request)
            yield from answer.get("Responses", {}).get(table, [])
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            sleep(min(0.05 * 2**attempt, 1.0) * random.random())
        else:
            raise KeysLeftUnprocessed(f"BatchGetItem on {table} left keys unprocessed")


def projection(attributes: Sequence[str] | None) -> dict[str, Any]:
    """The ProjectionExpression parameters of a read of ``attributes`` (none: every attribute)."""
    if not attributes:
        return {}
    names = {f"#p{i}": name for i, name in enumerate(attributes)}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
