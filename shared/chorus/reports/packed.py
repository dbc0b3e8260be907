"""Packed months: one read-optimised copy of a closed month's day items, for the rollups reports read.

Both the metrics rollups (:mod:`chorus.metrics.store`) and the inbox counters (:mod:`chorus.inbox.stats`)
keep one item per UTC day (``D#<YYYY-MM-DD>``) with one numeric attribute per counter, so that writers
can ``ADD`` to them concurrently. A year's report over 20 accounts reads thousands of such items and
tens of thousands of attribute values, and every attribute value costs to encode and decode (on the
embedded runtime's moto server ~25-100 us each: seconds per report). Once a month is over its day items
stop changing, so a writer packs them into ONE item of the same partition:

  <partition> / PM#<YYYY-MM>   ``days``: a JSON string {"DD": {attribute: {"N": "..."}}} of the month's
                                day items (wire format), ``packed_at``

A reader asks for the packed month of every month a range touches and falls back to the month item
(whole months) or the day items (partial months) for months that have none. A month is *closed*
``CLOSING_MARGIN`` after its last day: platforms' per-day values for a past day arrive within a few days,
and a lifetime counter's gain lands on the day it is observed (always today), so nothing writes to a
closed month in the normal course. Should a late write touch one anyway, the writer deletes its packed
copy in the same transaction (:func:`packed_key_if_closed`): readers fall back to the live items until
it is packed again.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

PACKED_PREFIX = "PM#"
DAY_PREFIX = "D#"
MONTH_PREFIX = "MO#"
CLOSING_MARGIN = timedelta(days=7)
MONTHS_BACK = 13
BATCH_GET_MAX = 100
MAX_ATTEMPTS = 8

Item = dict[str, Any]
Key = tuple[str, str]


def packed_sk(day: date) -> str:
    """The packed copy of the month holding ``day``."""
    return f"{PACKED_PREFIX}{day.year:04d}-{day.month:02d}"


def _day_sk(day: date) -> str:
    return f"{DAY_PREFIX}{day.isoformat()}"


def _month_sk(day: date) -> str:
    return f"{MONTH_PREFIX}{day.year:04d}-{day.month:02d}"


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_days(first: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((next_month(first) - first).days)]


def is_closed(month: date, today: date) -> bool:
    """True once nothing should write to the month of ``month`` any more."""
    return next_month(month.replace(day=1)) + CLOSING_MARGIN <= today


def months_touched(start: date, end: date) -> list[date]:
    months, first = [], start.replace(day=1)
    while first <= end:
        months.append(first)
        first = next_month(first)
    return months


def stale_packed(table: str, pk: str, days: Iterable[date], today: date) -> list[dict[str, Any]]:
    """Delete requests (for a transaction) of the packed copies a write to ``days`` makes stale: those
    of closed months. Forgets them here, so this process packs them again."""
    months = sorted({d.replace(day=1) for d in days if is_closed(d, today)})
    for month in months:
        forget(table, pk, month)
    return [
        {"Delete": {"TableName": table, "Key": {"pk": {"S": pk}, "sk": {"S": packed_sk(m)}}}} for m in months
    ]


def packed_item(pk: str, month: date, day_items: Iterable[Item], now: datetime) -> Item:
    days: dict[str, dict[str, Any]] = {}
    for item in day_items:
        day = date.fromisoformat(item["sk"]["S"].removeprefix(DAY_PREFIX))
        days[f"{day.day:02d}"] = {k: v for k, v in item.items() if k not in ("pk", "sk")}
    return {
        "pk": {"S": pk},
        "sk": {"S": packed_sk(month)},
        "days": {"S": json.dumps(days, separators=(",", ":"))},
        "packed_at": {"S": now.astimezone(UTC).isoformat()},
    }


def unpack(item: Item) -> list[tuple[date, Item]]:
    """The day items a packed month holds, with their days."""
    first = date.fromisoformat(item["sk"]["S"].removeprefix(PACKED_PREFIX) + "-01")
    days: dict[str, Item] = json.loads(item["days"]["S"])
    return [(first.replace(day=int(dd)), attrs) for dd, attrs in days.items()]


# ------------------------------------------------------------------ reading


@dataclass
class RangeItems:
    """What a range read found: rollup items as ``(item, first day, monthly)`` and the extra items."""

    rollups: list[tuple[Item, date, bool]] = field(default_factory=list)
    extra: list[Item] = field(default_factory=list)
    items: int = 0  # items fetched (a packed month is one)


BatchGet = Callable[[Sequence[Key]], Iterable[Item]]


def read_range(
    get: BatchGet, pks: Sequence[str], start: date, end: date, extra: Sequence[Key] = ()
) -> RangeItems:
    """Rollups of UTC days ``start``..``end`` of the partitions ``pks``: packed months where there are,
    else the month item (whole months) or day items (the range's days of a partial month). ``extra``
    keys are fetched in the first round trip (week items). Two round trips at most; one when every
    month touched is packed."""
    found = RangeItems()
    months = months_touched(start, end)
    packed: dict[Key, Item] = {}
    wanted_extra = set(extra)
    for item in get([(pk, packed_sk(m)) for pk in pks for m in months] + list(extra)):
        found.items += 1
        key = (item["pk"]["S"], item["sk"]["S"])
        if key[1].startswith(PACKED_PREFIX) and key not in wanted_extra:
            packed[key] = item
        else:
            found.extra.append(item)
    live: list[Key] = []
    for pk in pks:
        for month in months:
            packed_month = packed.get((pk, packed_sk(month)))
            if packed_month is not None:
                for day, attrs in unpack(packed_month):
                    if start <= day <= end:
                        found.rollups.append((attrs, day, False))
            elif month >= start and next_month(month) - timedelta(days=1) <= end:
                live.append((pk, _month_sk(month)))
            else:
                live += [(pk, _day_sk(d)) for d in month_days(month) if start <= d <= end]
    if live:
        for item in get(live):
            found.items += 1
            sk = item["sk"]["S"]
            if sk.startswith(MONTH_PREFIX):
                found.rollups.append((item, date.fromisoformat(sk.removeprefix(MONTH_PREFIX) + "-01"), True))
            else:
                found.rollups.append((item, date.fromisoformat(sk.removeprefix(DAY_PREFIX)), False))
    return found


def batch_get(
    client: Any,
    table: str,
    wanted: Sequence[Key],
    *,
    consistent: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Item]:
    """Items by exact key, 100 a call, retrying unprocessed keys; missing items are skipped."""
    listed = list(dict.fromkeys(wanted))
    for chunk_start in range(0, len(listed), BATCH_GET_MAX):
        chunk = listed[chunk_start : chunk_start + BATCH_GET_MAX]
        request: dict[str, Any] = {
            table: {
                "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in chunk],
                "ConsistentRead": consistent,
            }
        }
        for attempt in range(MAX_ATTEMPTS):
            answer = client.batch_get_item(RequestItems=request)
            yield from answer.get("Responses", {}).get(table, [])
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            sleep(min(0.05 * 2**attempt, 1.0) * random.random())
        else:
            raise RuntimeError(f"BatchGetItem on {table} left keys unprocessed")


# ------------------------------------------------------------------ packing


_checked: set[tuple[str, str, date]] = set()
_checked_lock = threading.Lock()


def pack_closed(client: Any, table: str, pk: str, now: datetime, *, months_back: int = MONTHS_BACK) -> int:
    """Pack the closed months among the last ``months_back`` of partition ``pk`` that are not packed
    yet (a writer calls this; each month is checked once per process). Returns the months packed."""
    today = now.astimezone(UTC).date()
    candidates, month = [], today.replace(day=1)
    for _ in range(months_back + 1):
        if is_closed(month, today):
            candidates.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    with _checked_lock:
        candidates = [m for m in candidates if (table, pk, m) not in _checked]
    if not candidates:
        return 0
    have = {
        item["sk"]["S"]
        for item in batch_get(client, table, [(pk, packed_sk(m)) for m in candidates], consistent=True)
    }
    packed = 0
    for month in candidates:
        if packed_sk(month) not in have:
            days = list(
                batch_get(client, table, [(pk, _day_sk(d)) for d in month_days(month)], consistent=True)
            )
            if days:
                client.put_item(TableName=table, Item=packed_item(pk, month, days, now))
                packed += 1
        with _checked_lock:
            _checked.add((table, pk, month))
    return packed


def forget(table: str, pk: str, month: date) -> None:
    """A write deleted this month's packed copy: pack it again on the next check."""
    with _checked_lock:
        _checked.discard((table, pk, month.replace(day=1)))


def forget_checks() -> None:
    """Check every month again (tests; a process that deleted packed copies)."""
    with _checked_lock:
        _checked.clear()
