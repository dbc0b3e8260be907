"""Packed months: one read-optimised copy of a closed month's day items, for the rollups reports read.

Both the metrics rollups (:mod:`chorus.metrics.store`) and the inbox counters (:mod:`chorus.inbox.stats`)
keep one item per UTC day (``D#<YYYY-MM-DD>``) with one numeric attribute per counter, so that writers
can ``ADD`` to them concurrently. A year's report over 20 accounts reads thousands of such items and
tens of thousands of attribute values, and every attribute value costs to encode and decode (on the
embedded runtime's moto server ~25-100 us each: seconds per report). Once a month is over its day items
stop changing, so a writer packs them into ONE item of the same partition:

  <partition> / PM#<YYYY-MM>   ``days``: a JSON string {"DD": {attribute: {"N": "..."}}} of the month's
                                day items (wire format) up to ``through`` (a date), ``packed_at``

A day is *closed* ``CLOSING_MARGIN`` after it ends: platforms' per-day values for a past day arrive
within a few days, and a lifetime counter's gain lands on the day it is observed (always today), so
nothing writes to a closed day in the normal course. A packed month holds its days closed at packing
time (``through``: the whole month once it is over, else up to a week ago; the writer packs again as
days close). A reader asks for the packed month of every month a range touches; it reads the days
after ``through`` from their day items, and months without a packed copy from the month item (whole
months) or the day items. Should a late write touch a closed day anyway, the writer deletes the packed
copy in the same transaction (:func:`stale_packed`): readers fall back to the live items until it is
packed again. (A late write racing with the packing of its own month could still be missed by the
copy: both are rare, and the month's live items stay right.)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from chorus.store.batch import batch_get

PACKED_PREFIX = "PM#"
THROUGH = "through"
DAY_PREFIX = "D#"
MONTH_PREFIX = "MO#"
CLOSING_MARGIN = timedelta(days=7)
MONTHS_BACK = 13

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


def month_end(day: date) -> date:
    return next_month(day.replace(day=1)) - timedelta(days=1)


def is_day_closed(day: date, today: date) -> bool:
    """True once nothing should write to ``day`` any more."""
    return day + timedelta(days=1) + CLOSING_MARGIN <= today


def closed_through(month: date, today: date) -> date | None:
    """The last closed day of the month of ``month`` (``None``: none is closed yet)."""
    last = min(month_end(month), today - timedelta(days=1) - CLOSING_MARGIN)
    return last if last >= month.replace(day=1) else None


def is_closed(month: date, today: date) -> bool:
    """True once every day of the month of ``month`` is closed."""
    return closed_through(month, today) == month_end(month)


def months_touched(start: date, end: date) -> list[date]:
    months, first = [], start.replace(day=1)
    while first <= end:
        months.append(first)
        first = next_month(first)
    return months


def stale_packed(table: str, pk: str, days: Iterable[date], today: date) -> list[dict[str, Any]]:
    """Delete requests (for a transaction) of the packed copies a write to ``days`` makes stale: those
    of closed months. Forgets them here, so this process packs them again."""
    months = sorted({d.replace(day=1) for d in days if is_day_closed(d, today)})
    for month in months:
        forget(table, pk, month)
    return [
        {"Delete": {"TableName": table, "Key": {"pk": {"S": pk}, "sk": {"S": packed_sk(m)}}}} for m in months
    ]


def packed_item(
    pk: str, month: date, day_items: Iterable[Item], now: datetime, through: date | None = None
) -> Item:
    """The packed copy of ``day_items`` (of one month, up to ``through``: default the month's end)."""
    last = through or month_end(month)
    days: dict[str, Any] = {THROUGH: last.isoformat()}  # also inside: readers fetch ``days`` only
    for item in day_items:
        day = date.fromisoformat(item["sk"]["S"].removeprefix(DAY_PREFIX))
        days[f"{day.day:02d}"] = {k: v for k, v in item.items() if k not in ("pk", "sk")}
    return {
        "pk": {"S": pk},
        "sk": {"S": packed_sk(month)},
        "days": {"S": json.dumps(days, separators=(",", ":"))},
        "through": {"S": last.isoformat()},
        "packed_at": {"S": now.astimezone(UTC).isoformat()},
    }


def packed_through(item: Item) -> date:
    first = date.fromisoformat(item["sk"]["S"].removeprefix(PACKED_PREFIX) + "-01")
    found = item.get("through")
    return date.fromisoformat(found["S"]) if found else month_end(first)


def unpack(item: Item) -> tuple[date, list[tuple[date, Item]]]:
    """The last day a packed month covers, and the day items it holds with their days."""
    first = date.fromisoformat(item["sk"]["S"].removeprefix(PACKED_PREFIX) + "-01")
    days: dict[str, Any] = json.loads(item["days"]["S"])
    through = days.pop(THROUGH, None)
    return (
        date.fromisoformat(through) if through else month_end(first),
        [(first.replace(day=int(dd)), attrs) for dd, attrs in days.items()],
    )


# ------------------------------------------------------------------ reading


@dataclass
class RangeItems:
    """What a range read found: rollup items as ``(item, first day, monthly)`` and the extra items."""

    rollups: list[tuple[Item, date, bool]] = field(default_factory=list)
    extra: list[Item] = field(default_factory=list)
    items: int = 0  # items fetched (a packed month is one)


class BatchGet(Protocol):
    def __call__(self, wanted: Sequence[Key], attributes: Sequence[str] | None = None) -> Iterable[Item]: ...


# What a first round trip needs of packed months and of extra (week) items; the rest stays home
# (``pk`` only when several partitions are read at once).
FIRST_ROUND = ("sk", "days", "scores")


def read_range(
    get: BatchGet,
    pks: Sequence[str],
    start: date,
    end: date,
    extra: Sequence[Key] = (),
    *,
    extra_attributes: Sequence[str] = ("scores",),
    late: Sequence[Key] = (),
) -> RangeItems:
    """Rollups of UTC days ``start``..``end`` of the partitions ``pks``: packed months where there are
    (and the day items of their days after ``through``), else the month item (whole months) or the
    day items (the range's days of a partial month). ``extra`` keys are fetched in the first round trip
    (week items; only ``sk``, ``days`` and ``extra_attributes``), ``late`` keys whole in the second.
    Two round trips at most."""
    found = RangeItems()
    months = months_touched(start, end)
    packed: dict[Key, Item] = {}
    wanted_extra = set(extra)
    single = pks[0] if len(pks) == 1 else None
    first_round = ("sk", "days", *extra_attributes)
    attributes = first_round if single else ("pk", *first_round)
    for item in get([(pk, packed_sk(m)) for pk in pks for m in months] + list(extra), attributes):
        found.items += 1
        key = (single or item["pk"]["S"], item["sk"]["S"])
        if key[1].startswith(PACKED_PREFIX) and key not in wanted_extra:
            packed[key] = item
        else:
            found.extra.append(item)
    live: list[Key] = []
    for pk in pks:
        for month in months:
            packed_month = packed.get((pk, packed_sk(month)))
            if packed_month is not None:
                through, days = unpack(packed_month)
                for day, attrs in days:
                    if start <= day <= end and day <= through:
                        found.rollups.append((attrs, day, False))
                live += [(pk, _day_sk(d)) for d in month_days(month) if start <= d <= end and d > through]
            elif month >= start and month_end(month) <= end:
                live.append((pk, _month_sk(month)))
            else:
                live += [(pk, _day_sk(d)) for d in month_days(month) if start <= d <= end]
    wanted_late = set(late)
    if live or late:
        for item in get(live + list(late)):
            found.items += 1
            sk = item["sk"]["S"]
            if (single or item["pk"]["S"], sk) in wanted_late:
                found.extra.append(item)
            elif sk.startswith(MONTH_PREFIX):
                found.rollups.append((item, date.fromisoformat(sk.removeprefix(MONTH_PREFIX) + "-01"), True))
            else:
                found.rollups.append((item, date.fromisoformat(sk.removeprefix(DAY_PREFIX)), False))
    return found


# ------------------------------------------------------------------ packing


_checked: set[tuple[str, str, date, date]] = set()
_checked_lock = threading.Lock()
_partition_locks: dict[tuple[str, str], threading.Lock] = {}


def pack_closed(client: Any, table: str, pk: str, now: datetime, *, months_back: int = MONTHS_BACK) -> int:
    """Pack the closed days of the current month and of the last ``months_back`` months of partition
    ``pk`` where the packed copy is missing or older (a writer calls this; each month is checked once a
    day per process). Returns the months packed.

    One thread of a process checks a partition at a time; the others wait and then find it checked
    (a burst's first concurrent batches each checked the same 14 months, 14 reads apiece)."""
    today = now.astimezone(UTC).date()
    candidates: list[tuple[date, date]] = []
    month = today.replace(day=1)
    for _ in range(months_back + 1):
        through = closed_through(month, today)
        if through is not None:
            candidates.append((month, through))
        month = (month - timedelta(days=1)).replace(day=1)
    with _checked_lock:
        if all((table, pk, m, t) in _checked for m, t in candidates):
            return 0
        partition = _partition_locks.setdefault((table, pk), threading.Lock())
    with partition:
        with _checked_lock:
            candidates = [(m, t) for m, t in candidates if (table, pk, m, t) not in _checked]
        return _pack_months(client, table, pk, now, candidates) if candidates else 0


def _pack_months(client: Any, table: str, pk: str, now: datetime, candidates: list[tuple[date, date]]) -> int:
    have = {
        item["sk"]["S"]: packed_through(item)
        for item in batch_get(
            client,
            table,
            [(pk, packed_sk(m)) for m, _ in candidates],
            consistent=True,
            attributes=("sk", "through"),
        )
    }
    packed = 0
    for month, through in candidates:
        current = have.get(packed_sk(month))
        if current is None or current < through:
            wanted = [(pk, _day_sk(d)) for d in month_days(month) if d <= through]
            days = list(batch_get(client, table, wanted, consistent=True))
            if days:
                client.put_item(TableName=table, Item=packed_item(pk, month, days, now, through))
                packed += 1
        with _checked_lock:
            _checked.add((table, pk, month, through))
    return packed


def forget(table: str, pk: str, month: date) -> None:
    """A write deleted this month's packed copy: pack it again on the next check."""
    first = month.replace(day=1)
    with _checked_lock:
        for key in [k for k in _checked if k[:3] == (table, pk, first)]:
            _checked.discard(key)


def forget_checks() -> None:
    """Check every month again (tests; a process that deleted packed copies)."""
    with _checked_lock:
        _checked.clear()
