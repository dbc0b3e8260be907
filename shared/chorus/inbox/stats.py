"""Inbox counters for reports: per account, per UTC day and per UTC month, kept as messages are stored.

A report over a year must not read a year of messages, so ingest keeps small counters beside them
(main table; keys built here):

  INSTAT#<ws>#<acct> / D#<YYYY-MM-DD>   one UTC day of one account's inbox
  INSTAT#<ws>#<acct> / MO#<YYYY-MM>     the same counters for the UTC month

Attributes: ``n_in`` (inbound messages), ``n_out`` (messages by the account itself: replies),
``n_positive`` / ``n_negative`` / ``n_neutral`` / ``n_unknown`` (inbound messages by sentiment label;
an inbound message without text or label counts as unknown), ``frt`` (a list: the first-response
time, in seconds, of each conversation whose first response was stored that day or month) and
``n_frt``. A message counts on the UTC day it was *written* on the platform (``created_at``); a first
response on the day of the response.

Exactly once
------------
:func:`count_stored` is the last step of storing a message: ONE transaction sets the dedupe marker's
``done`` (conditional on it not being done yet) and adds to the day and month items. A redelivery
finds the marker done and counts nothing; a worker that stopped before this step redoes it (every
earlier step is idempotent); two workers finishing the same message race on the marker's condition
and only one transaction lands. Edits and deletions change no counter.

Reading
-------
:func:`read_counters` sums whole months from month items and the edge days from day items, fetched by
their exact keys with BatchGetItem (never a Query or a table scan): a year of one account is at most
12 month items and ~60 day items, whatever the volume.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chorus.config import get_settings

SENTIMENTS = ("positive", "negative", "neutral", "unknown")
INBOUND, OUTBOUND, FRT, FRT_COUNT = "n_in", "n_out", "frt", "n_frt"
BATCH_GET_MAX = 100
MAX_ATTEMPTS = 8

Item = dict[str, Any]


def stats_pk(workspace_id: str, account_id: str) -> str:
    return f"INSTAT#{workspace_id}#{account_id}"


def day_sk(day: date) -> str:
    return f"D#{day.isoformat()}"


def month_sk(day: date) -> str:
    """The month item holding ``day`` (any day of the month names it)."""
    return f"MO#{day.year:04d}-{day.month:02d}"


def sentiment_attr(label: str | None) -> str:
    return "n_" + (label if label in SENTIMENTS else "unknown")


def _client() -> Any:
    from chorus.aws import client

    return client("dynamodb")


def _day_update(table: str, pk: str, sk: str, counts: dict[str, int], frt: float | None) -> dict[str, Any]:
    names = {f"#c{i}": name for i, name in enumerate(counts)}
    values: dict[str, Any] = {f":c{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
    expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
    if frt is not None:
        names["#f"] = FRT
        values[":f"] = {"L": [{"N": _number(frt)}]}
        values[":empty"] = {"L": []}
        expression = "SET #f = list_append(if_not_exists(#f, :empty), :f) " + expression
    return {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


def count_stored(
    workspace_id: str,
    account_id: str,
    marker_key: tuple[str, str],
    *,
    at: datetime,
    inbound: bool,
    sentiment: str | None = None,
    first_response_s: float | None = None,
    client: Any = None,
    table: str | None = None,
) -> bool:
    """Mark the dedupe marker ``marker_key`` (pk, sk) done and count its message, in one transaction.

    ``first_response_s`` is given when this message is its conversation's first response. Returns
    False (and counts nothing) when the marker was already done: the message was counted before."""
    table = table or get_settings().table
    counts = {INBOUND: 1, sentiment_attr(sentiment): 1} if inbound else {OUTBOUND: 1}
    if first_response_s is not None:
        counts[FRT_COUNT] = 1
    pk, day = stats_pk(workspace_id, account_id), at.astimezone(UTC).date()
    items = [
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": marker_key[0]}, "sk": {"S": marker_key[1]}},
                "UpdateExpression": "SET #d = :t",
                "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(#d) OR #d = :f)",
                "ExpressionAttributeNames": {"#d": "done"},
                "ExpressionAttributeValues": {":t": {"BOOL": True}, ":f": {"BOOL": False}},
            }
        },
        _day_update(table, pk, day_sk(day), counts, first_response_s),
        _day_update(table, pk, month_sk(day), counts, first_response_s),
    ]
    try:
        (client or _client()).transact_write_items(TransactItems=items)
    except ClientError as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            return False  # done already: counted by an earlier attempt or another worker
        raise
    return True


# ------------------------------------------------------------------ reading


@dataclass
class InboxCounters:
    """Counters summed over some accounts and days."""

    inbound: int = 0
    outbound: int = 0
    sentiment: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SENTIMENTS, 0))
    first_response_s: list[float] = field(default_factory=list)
    items: int = 0  # items read to build this

    def add(self, item: Item) -> None:
        self.items += 1
        self.inbound += _int(item.get(INBOUND))
        self.outbound += _int(item.get(OUTBOUND))
        for label in SENTIMENTS:
            self.sentiment[label] += _int(item.get(sentiment_attr(label)))
        self.first_response_s.extend(float(v["N"]) for v in item.get(FRT, {}).get("L", ()))


def _int(value: Any) -> int:
    return int(value["N"]) if value else 0


def _plan(start: date, end: date) -> tuple[list[date], list[date]]:
    """Months wholly inside ``start``..``end`` (first days) and the remaining days."""
    months: list[date] = []
    days: list[date] = []
    day = start
    while day <= end:
        first = day.replace(day=1)
        following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        if day == first and following - timedelta(days=1) <= end:
            months.append(first)
            day = following
        else:
            days.append(day)
            day += timedelta(days=1)
    return months, days


class CounterReader:
    """Reads the counters by exact key (BatchGetItem); thread-safe; ``items_read`` counts items read."""

    def __init__(
        self,
        client: Any = None,
        table: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self.table = table or get_settings().table
        self._sleep = sleep
        self._lock = threading.Lock()
        self.items_read = 0

    def read(self, workspace_id: str, account_ids: Sequence[str], start: date, end: date) -> InboxCounters:
        """The counters of ``account_ids`` over UTC days ``start``..``end`` (inclusive)."""
        months, days = _plan(start, end)
        wanted = [
            (stats_pk(workspace_id, account), sk)
            for account in dict.fromkeys(account_ids)
            for sk in [month_sk(m) for m in months] + [day_sk(d) for d in days]
        ]
        found = InboxCounters()
        for item in self._batch_get(wanted):
            found.add(item)
        with self._lock:
            self.items_read += found.items
        return found

    def _batch_get(self, wanted: Iterable[tuple[str, str]]) -> Iterable[Item]:
        client = self._client or _client()
        listed = list(wanted)
        for chunk_start in range(0, len(listed), BATCH_GET_MAX):
            chunk = listed[chunk_start : chunk_start + BATCH_GET_MAX]
            request: dict[str, Any] = {
                self.table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in chunk]}
            }
            for attempt in range(MAX_ATTEMPTS):
                answer = client.batch_get_item(RequestItems=request)
                yield from answer.get("Responses", {}).get(self.table, [])
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._sleep(min(0.05 * 2**attempt, 1.0) * random.random())
            else:
                raise RuntimeError("inbox counters: BatchGetItem left keys unprocessed")


# ------------------------------------------------------------------ whole items, for bulk loads


def counter_item(
    workspace_id: str,
    account_id: str,
    sk: str,
    *,
    inbound: int = 0,
    outbound: int = 0,
    sentiment: dict[str, int] | None = None,
    first_response_s: Sequence[float] = (),
) -> Item:
    """A whole day (``day_sk``) or month (``month_sk``) item, for benchmarks and backfills."""
    item: Item = {"pk": {"S": stats_pk(workspace_id, account_id)}, "sk": {"S": sk}}
    if inbound:
        item[INBOUND] = {"N": str(inbound)}
    if outbound:
        item[OUTBOUND] = {"N": str(outbound)}
    for label, n in (sentiment or {}).items():
        if n:
            item[sentiment_attr(label)] = {"N": str(n)}
    if first_response_s:
        item[FRT] = {"L": [{"N": _number(v)} for v in first_response_s]}
        item[FRT_COUNT] = {"N": str(len(first_response_s))}
    return item
