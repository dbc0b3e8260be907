"""Inbox counters for reports: per account, per UTC day and per UTC month, kept as messages are stored.

A report over a year must not read a year of messages, so ingest keeps small counters beside them
(main table; keys built here):

  INSTAT#<ws>#<acct> / D#<YYYY-MM-DD>   one UTC day of one account's inbox
  INSTAT#<ws>#<acct> / MO#<YYYY-MM>     the same counters for the UTC month
  INSTAT#<ws>        / D#... and MO#... the same for the whole workspace (a report of every account
                                        reads one partition, not one per account)

  INSTAT#<ws>#@<person> / D#... and MO#...  what one person of the team did (``person``: the actor,
                                        ``user:<id>``): replies sent from Chorus, first responses,
                                        conversations closed, service levels met

Attributes: ``n_in`` (inbound messages), ``n_out`` (messages by the account itself: replies),
``n_positive`` / ``n_negative`` / ``n_neutral`` / ``n_unknown`` (inbound messages by sentiment label;
an inbound message without text or label counts as unknown), ``frt`` (one string: the first-response
times, in seconds, of the conversations whose first response was stored that day or month, comma
separated), ``n_frt`` and ``frt_v`` (the version of ``frt``), ``n_closed`` (conversations closed),
``n_sla`` / ``n_sla_met`` (service-level targets that ended, at the first response or the close, and how
many of them in time: :mod:`chorus.inbox.sla`).

Why ``frt`` is one packed string: a median needs every value, and a year of a busy workspace holds
tens of thousands. As a DynamoDB list (or set) each value is an attribute value of its own, which
costs per value to encode, send and decode (~25 us each on the embedded runtime's moto: a year of
20 accounts took seconds); one string costs about nothing per value. DynamoDB cannot append to a
string in an update, so a first response reads the day and month items and writes them back under a
version check (retried on a race); every other counter is an ``ADD``. A month item holds ~6 bytes per
first response: ~60,000 first responses of one account in one month would near the 400 KB item limit. A message counts on the UTC day it was *written* on the platform (``created_at``); a first
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
:class:`CounterReader` reads packed months (closed months, packed by the writer: see
:mod:`chorus.reports.packed`), else month items for whole months and day items for the rest, all by
their exact keys with BatchGetItem (never a Query or a table scan): a year of one account is at most
13 packed months (or 12 month items and ~60 day items), whatever the volume.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from botocore.exceptions import ClientError

from chorus.config import get_settings

log = logging.getLogger(__name__)

SENTIMENTS = ("positive", "negative", "neutral", "unknown")
INBOUND, OUTBOUND, FRT, FRT_COUNT, FRT_VERSION = "n_in", "n_out", "frt", "n_frt", "frt_v"
CLOSED, SLA_ENDED, SLA_MET = "n_closed", "n_sla", "n_sla_met"
MAX_ATTEMPTS = 8

Item = dict[str, Any]


def stats_pk(workspace_id: str, account_id: str) -> str:
    return f"INSTAT#{workspace_id}#{account_id}"


def workspace_stats_pk(workspace_id: str) -> str:
    """The same counters for the whole workspace (every account it has had)."""
    return f"INSTAT#{workspace_id}"


def person_stats_pk(workspace_id: str, person: str) -> str:
    """The counters of one person of the team (``user:<id>``, or ``key:<id>`` for an API key)."""
    return f"INSTAT#{workspace_id}#@{person}"


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


class InboxCountConflict(RuntimeError):
    """Other writers kept changing the same counters: the message will be retried."""


def _update(
    table: str, key: tuple[str, str], counts: dict[str, int], frt: tuple[str, int] | None
) -> dict[str, Any]:
    """ADD ``counts`` to an item; with ``frt`` (the new packed list, the version it was read at) also
    SET the list and bump its version, conditional on nobody having moved it."""
    names = {f"#c{i}": name for i, name in enumerate(counts)}
    values: dict[str, Any] = {f":c{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
    expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
    update: dict[str, Any] = {
        "TableName": table,
        "Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}},
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    if frt is not None:
        packed, version = frt
        names.update({"#f": FRT, "#v": FRT_VERSION})
        values.update({":f": {"S": packed}, ":v1": {"N": str(version + 1)}})
        expression = "SET #f = :f, #v = :v1 " + expression
        if version:
            values[":v"] = {"N": str(version)}
            update["ConditionExpression"] = "#v = :v"
        else:
            update["ConditionExpression"] = "attribute_not_exists(#v)"
    update["UpdateExpression"] = expression
    return {"Update": update}


def _seconds(value: float) -> str:
    return str(round(value))


@dataclass(frozen=True)
class Counted:
    """One stored message, as the counters see it."""

    account_id: str
    at: datetime  # when it was written on the platform
    inbound: bool
    sentiment: str | None = None
    first_response_s: float | None = None  # given when it is its conversation's first response
    person: str | None = None  # who sent it from Chorus (a reply from the inbox)
    sla_met: bool | None = None  # the first response came within the first-response target (None: none)

    def counts(self) -> dict[str, int]:
        counts = {INBOUND: 1, sentiment_attr(self.sentiment): 1} if self.inbound else {OUTBOUND: 1}
        if self.first_response_s is not None:
            counts[FRT_COUNT] = 1
        if self.sla_met is not None:
            counts[SLA_ENDED] = 1
            counts[SLA_MET] = int(self.sla_met)
        return counts

    def partitions(self, workspace_id: str) -> list[str]:
        pks = [stats_pk(workspace_id, self.account_id), workspace_stats_pk(workspace_id)]
        return pks + ([person_stats_pk(workspace_id, self.person)] if self.person else [])


def counter_writes(
    workspace_id: str, counted: Sequence[Counted], *, client: Any, table: str, today: date
) -> list[dict[str, Any]]:
    """The transaction items that count ``counted``: one ADD per day and month item of each account
    and of the workspace (summed over the messages), the first-response lists read and rewritten under
    their version, and deletes of the packed copies the writes make stale."""
    totals: dict[tuple[str, str], dict[str, int]] = {}
    responses: dict[tuple[str, str], list[str]] = {}
    days: dict[str, set[date]] = {}
    for c in counted:
        counts = c.counts()
        day = c.at.astimezone(UTC).date()
        for pk in c.partitions(workspace_id):
            days.setdefault(pk, set()).add(day)
            for sk in (day_sk(day), month_sk(day)):
                total = totals.setdefault((pk, sk), {})
                for name, n in counts.items():
                    total[name] = total.get(name, 0) + n
                if c.first_response_s is not None:
                    responses.setdefault((pk, sk), []).append(_seconds(c.first_response_s))
    lists: dict[tuple[str, str], tuple[str, int]] = {}
    if responses:
        targets = list(responses)
        for target, item in zip(targets, _current(client, table, targets), strict=True):
            lists[target] = _appended(item, ",".join(responses[target]))
    items = [_update(table, key, counts, lists.get(key)) for key, counts in totals.items()]
    return items + [d for pk, ds in days.items() for d in _stale(table, pk, ds, today)]


def _stale(table: str, pk: str, days: set[date], today: date) -> list[dict[str, Any]]:
    from chorus.reports.packed import stale_packed

    return stale_packed(table, pk, sorted(days), today)


def pack_after_counting(
    client: Any, table: str, workspace_id: str, account_ids: Iterable[str], now: datetime
) -> None:
    """Pack the closed days of the partitions just counted into (each checked once a day per process);
    packing only speeds readers up: a failure is logged, never raised."""
    from chorus.reports.packed import pack_closed

    pks = [stats_pk(workspace_id, a) for a in dict.fromkeys(account_ids)] + [workspace_stats_pk(workspace_id)]
    try:
        for pk in pks:
            pack_closed(client, table, pk, now)
    except ClientError as exc:
        log.warning("inbox_pack_failed", extra={"workspace_id": workspace_id, "error": str(exc)})


def marker_done(table: str, marker_key: tuple[str, str]) -> dict[str, Any]:
    """The transaction item that sets a dedupe marker ``done``, conditional on it not being done yet."""
    return {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": marker_key[0]}, "sk": {"S": marker_key[1]}},
            "UpdateExpression": "SET #d = :t",
            "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(#d) OR #d = :f)",
            "ExpressionAttributeNames": {"#d": "done"},
            "ExpressionAttributeValues": {":t": {"BOOL": True}, ":f": {"BOOL": False}},
        }
    }


def count_stored(
    workspace_id: str,
    account_id: str,
    marker_key: tuple[str, str],
    *,
    at: datetime,
    inbound: bool,
    sentiment: str | None = None,
    first_response_s: float | None = None,
    person: str | None = None,
    sla_met: bool | None = None,
    client: Any = None,
    table: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> bool:
    """Mark the dedupe marker ``marker_key`` (pk, sk) done and count its message, in one transaction.

    ``first_response_s`` is given when this message is its conversation's first response. Returns
    False (and counts nothing) when the marker was already done: the message was counted before."""
    table = table or get_settings().table
    dynamo = client or _client()
    counted = [Counted(account_id, at, inbound, sentiment, first_response_s, person, sla_met)]
    now = clock()
    for attempt in range(MAX_ATTEMPTS):
        writes = counter_writes(
            workspace_id, counted, client=dynamo, table=table, today=now.astimezone(UTC).date()
        )
        try:
            dynamo.transact_write_items(
                TransactItems=[marker_done(table, marker_key), *writes],
                ClientRequestToken=uuid.uuid4().hex,  # the SDK's retry after a lost answer is not a duplicate
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons") or []]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False  # done already: counted by an earlier attempt or another worker
            sleep(min(0.02 * 2**attempt, 0.5) * random.random())
            continue  # a counter moved under us (or a conflicting transaction): read again
        pack_after_counting(dynamo, table, workspace_id, [account_id], now)
        return True
    raise InboxCountConflict(f"inbox counters of {account_id} kept changing")


def count_closed(
    workspace_id: str,
    account_id: str,
    person: str,
    at: datetime,
    sla_met: bool | None,
    *,
    client: Any = None,
    table: str | None = None,
) -> None:
    """Count a conversation ``person`` closed at ``at`` (and whether it met its resolution target) on
    the day and month items of its account, of the workspace and of the person: one ADD each."""
    counts = {CLOSED: 1}
    if sla_met is not None:
        counts.update({SLA_ENDED: 1, SLA_MET: int(sla_met)})
    day = at.astimezone(UTC).date()
    pks = Counted(account_id, at, inbound=False, person=person).partitions(workspace_id)
    table = table or get_settings().table
    dynamo = client or _client()
    dynamo.transact_write_items(
        TransactItems=[
            _update(table, (pk, sk), counts, None) for pk in pks for sk in (day_sk(day), month_sk(day))
        ]
        + [d for pk in pks for d in _stale(table, pk, {day}, datetime.now(UTC).date())]
    )


def _current(client: Any, table: str, targets: Sequence[tuple[str, str]]) -> list[Item | None]:
    answer = client.batch_get_item(
        RequestItems={
            table: {
                "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in targets],
                "ConsistentRead": True,
                "ProjectionExpression": "pk, sk, #f, #v",
                "ExpressionAttributeNames": {"#f": FRT, "#v": FRT_VERSION},
            }
        }
    )
    if answer.get("UnprocessedKeys"):
        raise InboxCountConflict("inbox counters: the read was throttled")
    found = {(i["pk"]["S"], i["sk"]["S"]): i for i in answer.get("Responses", {}).get(table, [])}
    return [found.get(t) for t in targets]


def _appended(item: Item | None, value: str) -> tuple[str, int]:
    """The packed list with ``value`` added, and the version it was read at."""
    if not item:
        return value, 0
    packed = item.get(FRT, {}).get("S", "")
    version = int(item[FRT_VERSION]["N"]) if FRT_VERSION in item else 0
    return (f"{packed},{value}" if packed else value), version


# ------------------------------------------------------------------ reading


@dataclass
class InboxCounters:
    """Counters summed over some accounts and days."""

    inbound: int = 0
    outbound: int = 0
    sentiment: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SENTIMENTS, 0))
    first_response_s: list[float] = field(default_factory=list)
    closed: int = 0
    sla_ended: int = 0
    sla_met: int = 0
    items: int = 0  # items read to build this

    def add(self, item: Item) -> None:
        self.items += 1
        self.inbound += _int(item.get(INBOUND))
        self.outbound += _int(item.get(OUTBOUND))
        self.closed += _int(item.get(CLOSED))
        self.sla_ended += _int(item.get(SLA_ENDED))
        self.sla_met += _int(item.get(SLA_MET))
        for label in SENTIMENTS:
            self.sentiment[label] += _int(item.get(sentiment_attr(label)))
        packed = item.get(FRT, {}).get("S", "")
        if packed:
            self.first_response_s.extend(float(v) for v in packed.split(","))


def _int(value: Any) -> int:
    return int(value["N"]) if value else 0


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

    def read(
        self, workspace_id: str, account_ids: Sequence[str] | None, start: date, end: date
    ) -> InboxCounters:
        """The counters of ``account_ids`` (``None``: of the whole workspace, one partition) over UTC
        days ``start``..``end`` (inclusive)."""
        pks = (
            [workspace_stats_pk(workspace_id)]
            if account_ids is None
            else [stats_pk(workspace_id, account) for account in dict.fromkeys(account_ids)]
        )
        return self._read(pks, start, end)

    def read_person(self, workspace_id: str, person: str, start: date, end: date) -> InboxCounters:
        """One person's counters over UTC days ``start``..``end`` (inclusive)."""
        return self._read([person_stats_pk(workspace_id, person)], start, end)

    def _read(self, pks: Sequence[str], start: date, end: date) -> InboxCounters:
        from chorus.reports.packed import read_range
        from chorus.store.batch import batch_get

        client = self._client or _client()

        def get(wanted: Sequence[tuple[str, str]], attributes: Sequence[str] | None = None) -> Iterable[Item]:
            return batch_get(client, self.table, wanted, attributes=attributes, sleep=self._sleep)

        got = read_range(get, pks, start, end)
        found = InboxCounters()
        for item, _, _ in got.rollups:
            found.add(item)
        found.items = got.items
        with self._lock:
            self.items_read += found.items
        return found


# ------------------------------------------------------------------ whole items, for bulk loads


def counter_item(
    workspace_id: str,
    account_id: str | None,
    sk: str,
    *,
    inbound: int = 0,
    outbound: int = 0,
    sentiment: dict[str, int] | None = None,
    first_response_s: Sequence[float] = (),
) -> Item:
    """A whole day (``day_sk``) or month (``month_sk``) item of an account (``None``: of the
    workspace), for benchmarks and backfills."""
    pk = workspace_stats_pk(workspace_id) if account_id is None else stats_pk(workspace_id, account_id)
    item: Item = {"pk": {"S": pk}, "sk": {"S": sk}}
    if inbound:
        item[INBOUND] = {"N": str(inbound)}
    if outbound:
        item[OUTBOUND] = {"N": str(outbound)}
    for label, n in (sentiment or {}).items():
        if n:
            item[sentiment_attr(label)] = {"N": str(n)}
    if first_response_s:
        item[FRT] = {"S": ",".join(_seconds(v) for v in first_response_s)}
        item[FRT_COUNT] = {"N": str(len(first_response_s))}
    return item
