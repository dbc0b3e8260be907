"""Metric storage: raw points written once, and daily/monthly rollups kept up to date as points land.

Items (keys in :mod:`chorus.metrics.keys`)
------------------------------------------
* **raw point** ``R#<ws>#<acct>#<scope>#<object>`` / ``<metric>#<period>#<at>``: value, TTL'd after
  ``raw_retention`` (400 days by default). The key is the observation itself, and the write is
  conditional on the key being new, so a re-run of the same collection writes nothing.
* **post** ``M#<ws>#<acct>`` / ``POST#<platform post id>``: the metadata a report shows (platform,
  published_at, text excerpt, url, Chorus post id), the latest value and time of each lifetime metric
  (``l_<metric>``, ``t_<metric>``) and a ``version``.
* **account state** ``M#<ws>#<acct>`` / ``STATE#<platform account id>``: the same latest/version pair
  for the account's own lifetime counters (followers, follows, channel views).
* **followed post** ``M#<ws>#<acct>`` / ``P#<published at>#<platform post id>``: the one item a
  published post is followed with (:meth:`MetricsStore.note_published`, from the main table's stream or
  for the external posts a collection run finds: one small conditional put of the post item's metadata
  fields), and two readers share it. The collector follows it
  (:class:`~chorus.metrics.registry.CollectionRegistry`: one Query of the account's ``P#`` keys, the
  ladder's ``last_collected`` on it, deleted when the 90-day ladder ends), and reports count it as
  published while it is *unfolded*: not yet in its week's scores nor in the day/month ``n_posts``. Its
  first recording (the first collection, an hour later) folds it in: the same transaction that creates
  the post item, writes its score to the week and adds ``n_posts`` marks it ``folded``, sets
  ``last_collected`` (the run's time, so the run does not write the item again) and gives it a TTL
  (``expires_at``, :data:`FOLLOWED_KEPT` after publishing: only a backstop for an account no longer
  collected; an unfolded post keeps no TTL, it is a report's only count of the post). A late
  redelivery of the follow finds the item and writes nothing, folded or not. Readers add the unfolded
  posts of a range to what the rollups hold (:meth:`MetricsStore.read_account_range`: one Query of the
  range's ``P#`` keys, folded ones filtered out). Why one item: following by rewriting the week item
  (KBs, in a transaction: billed twice) with every published post was 9 of a post's 15 DynamoDB write
  units, and a small noted item here beside the registry's own followed item was still 2
  (docs/scaling.md). Before session 9 the registry kept ``CPOST#<ws>#<acct>`` items and the fold left
  a tombstone here TTL'd after two days: the registry moves an account's legacy items here on its next
  collection run (:meth:`~chorus.metrics.registry.CollectionRegistry.move_legacy_posts`).
* **day** ``M#<ws>#<acct>`` / ``D#<YYYY-MM-DD>`` (UTC day) and **month** ``.../MO#<YYYY-MM>``:
  ``s_<metric>`` what the account's posts *gained* that day (sum of deltas of lifetime post counters,
  by observation time), ``n_posts`` posts published that day (``n_posts_ext``: of them, the posts made
  outside Chorus, followed from the account's timeline), ``l_<metric>`` the day's latest reading
  of an account lifetime counter (followers), ``g_<metric>`` its change since the previous reading,
  ``a_<metric>`` a platform's own per-day account value (``period="day"`` insights). The month item
  holds the same sums for the month and the per-day values as ``l_<metric>@DD`` / ``a_<metric>@DD``.
* **week** ``M#<ws>#<acct>`` / ``W#<Monday>`` (UTC ISO week): ``scores``, one JSON object holding a
  compact score of each post *published* that week (published time, engagements, impressions, reach:
  enough to rank posts and draw the best-times heatmap without opening post items), and a ``version``.
  Scores live in their own weekly item, not on the month, because every collection of a post rewrites
  its score and DynamoDB bills an update by the size of the whole item: a week of 20 posts a day is
  ~6 KB, a month would be ~30 KB (and would near the 400 KB item limit for very busy accounts). They are
  packed in one attribute because a report reads many of them: 146,000 scores as separate
  attributes cost ~1.5 s of client-side parsing, packed they cost ~0.1 s. The price is a read of the
  week item before each post write, and a second version check in the same transaction. The same
  update rewrites ``summary`` (:mod:`chorus.reports.weeksummary`: the week's top/bottom candidates and
  heatmap sums, ~5 KB for 140 posts), which a report reads instead of ``scores`` for the weeks wholly
  inside its range. ``ext`` (only on weeks that have any) lists the week's external posts (no Chorus
  post id), so a report can tell and filter posts by origin without opening post items; the scores
  themselves keep their format, so reports that do not filter pay nothing for it.

Lifetime counters become deltas
-------------------------------
A post's likes are a lifetime count read many times (hourly, then less often: see the ladder). Each
new reading adds ``value - previous reading`` (the first reading: ``value - 0``, the post started at
zero) to the day and month it was *observed* in, so summing days over any range gives what was gained
in that range, and summing all days gives the latest lifetime value. Deltas can be negative (unlikes,
deleted comments): the sums stay exact. A reading older than the latest one already applied (a late
retry) is kept as a raw point but changes no rollup: attributing it exactly would need its neighbours,
and the totals are right either way; only the day a small part of the gain lands on can differ.

Why a version and ADD, in one transaction
-----------------------------------------
A delta needs the previous reading, so "read, then ADD" alone would double count when two collectors
(an SQS redelivery, an overlapping schedule) handle the same post at once. Each recording is therefore
one ``TransactWriteItems``: the raw puts (each ``attribute_not_exists``), the post (or account state)
item with ``version = :read_version`` (optimistic locking, as PynamoDB's ``VersionAttribute`` does),
the week item of the post's scores under the same kind of version check, and ``ADD``/``SET`` on the
day and month items. If another writer moved the version first the whole
transaction is cancelled and the recording retries from a fresh read; if a raw point already exists
(a re-run) it is dropped from the batch, with its rollup effect, because that effect already landed in
the same atomic transaction that wrote it. ``ADD`` keeps the day/month counters commutative, so posts
of one account landing concurrently never overwrite each other's sums (a rare
``TransactionConflict`` on a shared day item is retried).

Why the low-level client, not PynamoDB models
---------------------------------------------
Metric names are data (``s_likes``, ``l_followers@05``) and DynamoDB's ``ADD`` works
only on top-level attributes, so an item has one top-level attribute per metric: something PynamoDB
models (declared attributes) cannot express. Reports also read thousands of items, and decoding the
wire format directly is several times faster than model instances. This module is the adapter; the
rest of Chorus sees only the dataclasses below.

Reading
-------
:meth:`MetricsStore.read_account_range` reads whole months inside the range from month items, the
remaining edge days from day items and, when asked, the week items of posts published in the range: a
year for one account is 12 month items, at most ~60 day items and 53 week items, whatever the posting
volume. ``items_read`` counts every item the store has read. Every key a report needs is known in
advance, so reads are BatchGetItem of exact keys, not Queries: the same items and fewer round trips
in DynamoDB (100 keys a call), and on any moto they cost what they fetch (stock moto's Query sorts every
item of the table on each call, ``moto/dynamodb/models/table.py``: ``query`` walks ``all_items()`` for
base-table partitions and GSIs alike; the embedded runtime's moto now reads a partition's key range).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError

from chorus.config import get_settings
from chorus.errors import Conflict
from chorus.metrics import keys
from chorus.platforms.base import MetricPoint, MetricScope
from chorus.reports.model import engagements_total
from chorus.reports.weeksummary import SUMMARY, WeekSummary, summarise
from chorus.reports.weeksummary import decode as decode_summary
from chorus.store.keys import iso, parse_iso

logger = logging.getLogger(__name__)

ENGAGEMENT_METRICS = ("likes", "comments", "shares", "quotes", "saves", "clicks")
LIFETIME = "lifetime"
DAY = "day"
TEXT_EXCERPT_CHARS = 280
MAX_ATTEMPTS = 8
BATCH_WRITE_MAX = 25

SUM, GAINED, LATEST, DAILY, TIME = "s_", "g_", "l_", "a_", "t_"
POSTS_PUBLISHED = "n_posts"
POSTS_EXTERNAL = "n_posts_ext"  # of ``n_posts``, the posts made outside Chorus (``external``)
EXTERNAL_IDS = "ext"  # on a week item: the platform post ids of its external posts (JSON list)
SCORES = "scores"
VERSION = "version"
FOLDED = "folded"
LAST_COLLECTED = "last_collected"  # on a followed post: its last collection (the ladder's input)
EXPIRES_AT = "expires_at"  # the table's TTL attribute
# a folded followed post's TTL after its publish time: its ladder ends at 90 days, where the collection
# deletes it; the TTL only bounds what an account that is no longer collected leaves behind
FOLLOWED_KEPT = timedelta(days=120)

# Cancellation reasons a fresh read and another attempt can resolve ("None": this item was fine).
RETRYABLE_CANCELLATIONS = frozenset(
    {
        "None",
        "ConditionalCheckFailed",
        "TransactionConflict",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
    }
)

AttrValue = dict[str, Any]
Item = dict[str, AttrValue]


class MetricsWriteConflict(Conflict):
    """Other writers kept moving the same post or account: the recording gave up (retry the message)."""


@dataclass(frozen=True)
class PostInfo:
    """What a report shows about a post, passed in by the caller when its points are recorded."""

    platform_post_id: str  # the id metric points carry as ``object_id``
    platform: str
    published_at: datetime  # timezone-aware
    text: str = ""
    url: str | None = None
    post_id: str | None = None  # Chorus's post id, when the post was made through Chorus


@dataclass(frozen=True)
class RecordResult:
    written: int = 0  # raw points stored now
    duplicates: int = 0  # already stored by an earlier run: nothing written
    out_of_order: int = 0  # stored raw, older than the latest reading: no rollup change
    folded: int = 0  # posts this recording folded into the rollups (their first recording)

    def __add__(self, other: RecordResult) -> RecordResult:
        return RecordResult(
            self.written + other.written,
            self.duplicates + other.duplicates,
            self.out_of_order + other.out_of_order,
            self.folded + other.folded,
        )


class PostScore(NamedTuple):
    """A post's latest lifetime engagement figures, as kept in the week item of its publish time.

    A named tuple, not a dataclass: a year's report decodes ~150,000 of them."""

    account_id: str
    platform_post_id: str
    published_ts: int  # publish time, Unix seconds
    engagements: int
    impressions: int | None
    reach: int | None

    @classmethod
    def of(
        cls,
        account_id: str,
        platform_post_id: str,
        published_at: datetime,
        engagements: int,
        impressions: int | None,
        reach: int | None,
    ) -> PostScore:
        return cls(
            account_id, platform_post_id, int(published_at.timestamp()), engagements, impressions, reach
        )

    @property
    def published_at(self) -> datetime:
        return datetime.fromtimestamp(self.published_ts, UTC)

    def encode(self) -> str:
        impressions = "" if self.impressions is None else str(self.impressions)
        reach = "" if self.reach is None else str(self.reach)
        return f"{self.published_ts}|{self.engagements}|{impressions}|{reach}"

    @classmethod
    def decode(cls, account_id: str, platform_post_id: str, value: str) -> PostScore:
        published, engagements, impressions, reach = value.split("|")
        return cls(
            account_id,
            platform_post_id,
            int(published),
            int(engagements),
            int(impressions) if impressions else None,
            int(reach) if reach else None,
        )


@dataclass(frozen=True)
class PostRecord:
    """A post item: metadata and latest lifetime values."""

    account_id: str
    info: PostInfo
    latest: Mapping[str, int]


@dataclass
class AccountRange:
    """One account's rollups over whole UTC days ``start``..``end`` (inclusive)."""

    account_id: str
    start: date
    end: date
    sums: dict[str, int] = field(default_factory=dict)  # gained by the account's posts, by metric
    gained: dict[str, int] = field(default_factory=dict)  # change of account lifetime counters
    posts_published: int = 0
    latest: dict[str, dict[date, int]] = field(default_factory=dict)  # metric -> day -> last reading
    daily: dict[str, dict[date, int]] = field(default_factory=dict)  # metric -> day -> platform value
    posts: list[PostScore] = field(default_factory=list)  # published in the range (not summarised)
    items: int = 0  # items read to build this
    # ``summarised`` reads: the weeks wholly in the range, as summaries, and their candidate posts for
    # the top and bottom lists (their other posts are in neither ``posts`` nor ``candidates``)
    summaries: list[WeekSummary] = field(default_factory=list)
    candidates: list[PostScore] = field(default_factory=list)
    # posts published in the range and followed, not folded into the rollups yet (in ``posts`` and
    # ``posts_published`` too): what a report shows about them, by platform post id
    unfolded: dict[str, PostRecord] = field(default_factory=dict)
    # origin: of ``posts_published``, those made outside Chorus; and the platform post ids of the
    # external posts among ``posts``/``candidates`` (every other post was published through Chorus)
    posts_external: int = 0
    external: set[str] = field(default_factory=set)

    def has_sum(self, metric: str) -> bool:
        return metric in self.sums


def plan_range(start: date, end: date) -> tuple[list[date], list[tuple[date, date]]]:
    """Which rollups cover ``start``..``end``: the months wholly inside (first days), and the edge
    day ranges outside them (at most two)."""
    if end < start:
        return [], []
    months: list[date] = []
    first = start if start.day == 1 else _next_month(start)
    while _month_end(first) <= end:
        months.append(first)
        first = _next_month(first)
    if not months:
        return [], [(start, end)]
    edges = []
    if start < months[0]:
        edges.append((start, months[0] - timedelta(days=1)))
    last_covered = _month_end(months[-1])
    if last_covered < end:
        edges.append((last_covered + timedelta(days=1), end))
    return months, edges


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _month_end(first: date) -> date:
    return _next_month(first) - timedelta(days=1)


def post_engagements(latest: Mapping[str, int]) -> int:
    """Engagements of a post from its latest lifetime values (see :mod:`chorus.reports.model`)."""
    return engagements_total(**{m: latest[m] for m in ENGAGEMENT_METRICS if m in latest})


# ------------------------------------------------------------------ attribute values


def _n(value: int) -> AttrValue:
    return {"N": str(value)}


def _s(value: str) -> AttrValue:
    return {"S": value}


def _int(value: AttrValue) -> int:
    return int(value["N"])


class _Update:
    """SET and ADD actions on one item, merged so a transaction touches each item once."""

    def __init__(self, key: Item) -> None:
        self.key = key
        self.sets: dict[str, AttrValue] = {}
        self.adds: dict[str, int] = {}
        self.condition: str | None = None
        self.condition_names: dict[str, str] = {}
        self.condition_values: dict[str, AttrValue] = {}

    def set(self, name: str, value: AttrValue) -> None:
        self.sets[name] = value

    def add(self, name: str, amount: int) -> None:
        self.adds[name] = self.adds.get(name, 0) + amount

    def empty(self) -> bool:
        return not self.sets and not any(self.adds.values())

    def request(self, table: str) -> dict[str, Any]:
        names: dict[str, str] = dict(self.condition_names)
        values: dict[str, AttrValue] = dict(self.condition_values)
        set_parts, add_parts = [], []
        for i, (name, value) in enumerate(self.sets.items()):
            names[f"#s{i}"] = name
            values[f":s{i}"] = value
            set_parts.append(f"#s{i} = :s{i}")
        for i, (name, amount) in enumerate(a for a in self.adds.items() if a[1]):
            names[f"#a{i}"] = name
            values[f":a{i}"] = _n(amount)
            add_parts.append(f"#a{i} :a{i}")
        expression = " ".join(
            part
            for part in (
                "SET " + ", ".join(set_parts) if set_parts else "",
                "ADD " + ", ".join(add_parts) if add_parts else "",
            )
            if part
        )
        update: dict[str, Any] = {
            "TableName": table,
            "Key": self.key,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
        }
        if values:
            update["ExpressionAttributeValues"] = values
        if self.condition:
            update["ConditionExpression"] = self.condition
        return {"Update": update}


class _Updates:
    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], _Update] = {}

    def on(self, pk: str, sk: str) -> _Update:
        found = self._by_key.get((pk, sk))
        if found is None:
            found = self._by_key[(pk, sk)] = _Update({"pk": _s(pk), "sk": _s(sk)})
        return found

    def __iter__(self) -> Iterator[_Update]:
        return iter(u for u in self._by_key.values() if not u.empty() or u.condition)


@dataclass
class _Plan:
    updates: list[_Update]
    out_of_order: int
    folded: bool = False  # the post's first recording: it folds the followed post into the rollups


@dataclass
class _Latest:
    value: int
    at: datetime


def _latest_of(item: Item | None) -> dict[str, _Latest]:
    found: dict[str, _Latest] = {}
    if not item:
        return found
    for name, value in item.items():
        if name.startswith(LATEST) and "@" not in name:
            metric = name[len(LATEST) :]
            at = item.get(TIME + metric)
            if at is not None:
                found[metric] = _Latest(_int(value), parse_iso(at["S"]))
    return found


def _version(item: Item | None) -> int:
    return _int(item[VERSION]) if item and VERSION in item else 0


def _versioned(update: _Update, version: int) -> None:
    """Optimistic lock: the write bumps ``version`` and holds only if nobody moved it since the read."""
    update.set(VERSION, _n(version + 1))
    if version:
        update.condition = "#cv = :cv"
        update.condition_names = {"#cv": VERSION}
        update.condition_values = {":cv": _n(version)}
    else:
        update.condition = "attribute_not_exists(pk)"


def week_scores(item: Item | None) -> dict[str, str]:
    """The encoded scores a week item holds, by platform post id (see :class:`PostScore`)."""
    if not item or SCORES not in item:
        return {}
    found: dict[str, str] = json.loads(item[SCORES]["S"])
    return found


def week_external(item: Item | None) -> set[str]:
    """The platform post ids of a week item's external posts."""
    value = (item or {}).get(EXTERNAL_IDS)
    return set(json.loads(value["S"])) if value else set()


def _utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def _day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _utc_ts_day(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def local_day_bounds(start: date, end: date, tz: str) -> tuple[int, int]:
    """Unix seconds of 00:00 of ``start`` and of 00:00 after ``end`` in zone ``tz``."""
    zone = ZoneInfo(tz)
    after = end + timedelta(days=1)
    return (
        int(datetime(start.year, start.month, start.day, tzinfo=zone).timestamp()),
        int(datetime(after.year, after.month, after.day, tzinfo=zone).timestamp()),
    )


def _moved(
    scores: Mapping[str, str], window: tuple[int, int], utc_days: tuple[int, int]
) -> tuple[set[str], set[str]]:
    """The posts of ``scores`` published in ``window`` but not in ``utc_days`` (added), and the other
    way round (removed): what turns a UTC day count into the window's."""
    added: set[str] = set()
    removed: set[str] = set()
    for platform_post_id, encoded in scores.items():
        at = int(encoded.split("|", 1)[0])
        in_window = window[0] <= at < window[1]
        if in_window != (utc_days[0] <= at < utc_days[1]):
            (added if in_window else removed).add(platform_post_id)
    return added, removed


def _day_of_period_end(at: datetime) -> date:
    """A ``period="day"`` value is stamped at the *end* of its day (Meta ``end_time``): 00:00 of the next
    day belongs to the day before."""
    return (at.astimezone(UTC) - timedelta(microseconds=1)).date()


class MetricsStore:
    """Records points and reads rollups of the metrics table (``get_settings().metrics_table``).

    Thread-safe as its boto3 client is: reports read accounts concurrently."""

    def __init__(
        self,
        table_name: str | None = None,
        client: Any = None,
        *,
        raw_retention: timedelta | None = timedelta(days=400),
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.table = table_name or get_settings().metrics_table
        if client is None:
            from chorus.aws import client as aws_client

            client = aws_client("dynamodb")
        self._client = client
        self.raw_retention = raw_retention
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self.items_read = 0

    def reset_items_read(self) -> int:
        """Zero the read counter; returns what it held."""
        with self._lock:
            held, self.items_read = self.items_read, 0
        return held

    def _count(self, items: int) -> None:
        with self._lock:
            self.items_read += items

    # -------------------------------------------------------------- writing

    def record_post_points(
        self,
        workspace_id: str,
        account_id: str,
        post: PostInfo,
        points: Iterable[MetricPoint],
        *,
        collected_at: datetime | None = None,
    ) -> RecordResult:
        """Store a post's points and fold its lifetime counters into the rollups (idempotent).

        ``collected_at``: the collection run's time; the recording that folds the post stores it as
        the followed post's ``last_collected`` (``folded`` in the result says it did)."""
        mine = self._own_points(points, MetricScope.POST, post.platform_post_id)
        result = RecordResult()
        for batch in _by_time(mine):
            result += self._record(workspace_id, account_id, batch, post=post, collected_at=collected_at)
        if not mine and self._ensure_post(workspace_id, account_id, post, collected_at):
            result += RecordResult(folded=1)
        self._pack(workspace_id, account_id)
        return result

    def note_published(self, workspace_id: str, account_id: str, post: PostInfo) -> bool:
        """Follow a post just published: counted and shown by reports from now on, collected on the
        ladder, folded into the rollups by its first recording. One conditional put of one small item
        (the followed post: see the module docstring); False when it was followed already (a
        redelivered stream record: nothing written)."""
        item: Item = {
            "pk": _s(keys.rollup_pk(workspace_id, account_id)),
            "sk": _s(keys.followed_sk(post.published_at, post.platform_post_id)),
            **followed_attributes(account_id, post),
        }
        try:
            self._client.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def record_account_points(
        self, workspace_id: str, account_id: str, points: Iterable[MetricPoint]
    ) -> RecordResult:
        """Store an account's points: lifetime counters as the day's latest reading, ``period="day"``
        values on the day they describe; other periods are kept raw only."""
        listed = list(points)
        if not listed:
            return RecordResult()
        object_id = listed[0].object_id
        mine = self._own_points(listed, MetricScope.ACCOUNT, object_id)
        result = RecordResult()
        for batch in _by_time(mine):
            result += self._record(workspace_id, account_id, batch, post=None)
        self._pack(workspace_id, account_id)
        return result

    def _pack(self, workspace_id: str, account_id: str) -> None:
        """Pack the account's closed months not packed yet (see :mod:`chorus.reports.packed`): an
        optimisation for readers, so a failure is logged, never raised."""
        from chorus.reports.packed import pack_closed

        try:
            pack_closed(self._client, self.table, keys.rollup_pk(workspace_id, account_id), self._clock())
        except ClientError as exc:
            logger.warning("metrics_pack_failed", extra={"account_id": account_id, "error": str(exc)})

    def _stale_packed(self, rollup_pk: str, updates: Iterable[_Update]) -> list[dict[str, Any]]:
        """Deletes of the packed months the updates' day/month items belong to, if closed."""
        from chorus.reports.packed import stale_packed

        days = []
        for update in updates:
            sk = update.key["sk"]["S"]
            if sk.startswith(keys.DAY_PREFIX):
                days.append(keys.parse_day_sk(sk))
            elif sk.startswith(keys.MONTH_PREFIX):
                days.append(keys.parse_month_sk(sk))
        return stale_packed(self.table, rollup_pk, days, self._clock().astimezone(UTC).date())

    @staticmethod
    def _own_points(points: Iterable[MetricPoint], scope: MetricScope, object_id: str) -> list[MetricPoint]:
        mine: dict[tuple[str, str, datetime], MetricPoint] = {}
        for point in points:
            if point.scope != scope or point.object_id != object_id:
                raise ValueError(
                    f"point of {point.scope.value} {point.object_id!r} given for {scope.value} {object_id!r}"
                )
            if point.at.tzinfo is None:
                raise ValueError("MetricPoint.at must be timezone-aware")
            mine.setdefault((point.metric, point.period, point.at), point)
        return list(mine.values())

    def _record(
        self,
        workspace_id: str,
        account_id: str,
        batch: list[MetricPoint],
        *,
        post: PostInfo | None,
        collected_at: datetime | None = None,
    ) -> RecordResult:
        pending = list(batch)
        duplicates = 0
        object_id = batch[0].object_id
        rollup_pk = keys.rollup_pk(workspace_id, account_id)
        state_sk = keys.post_sk(object_id) if post else keys.account_state_sk(object_id)
        for attempt in range(self.max_attempts):
            if not pending:
                return RecordResult(duplicates=duplicates)
            state = self._get(rollup_pk, state_sk)
            week = self._get(rollup_pk, keys.week_sk(_utc_day(post.published_at))) if post else None
            plan = self._plan(
                workspace_id, account_id, pending, state, post, rollup_pk, state_sk, week, collected_at
            )
            raw = [self._raw_put(workspace_id, account_id, p) for p in pending]
            updates = [u.request(self.table) for u in plan.updates]
            stale = self._stale_packed(rollup_pk, plan.updates)
            try:
                self._client.transact_write_items(TransactItems=raw + updates + stale)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []
                if any(r.get("Code") not in RETRYABLE_CANCELLATIONS for r in reasons):
                    raise  # e.g. ValidationError, item too large: retrying cannot help
                seen = {
                    i for i, r in enumerate(reasons[: len(raw)]) if r.get("Code") == "ConditionalCheckFailed"
                }
                if seen:
                    duplicates += len(seen)
                    pending = [p for i, p in enumerate(pending) if i not in seen]
                    continue  # already recorded by an earlier run: drop them, retry the rest now
                logger.info(
                    "metrics_write_retry",
                    extra={
                        "object_id": object_id,
                        "attempt": attempt,
                        "reasons": [r.get("Code") for r in reasons],
                    },
                )
                self._sleep(min(0.05 * 2**attempt, 1.0) * random.random())
                continue
            return RecordResult(
                written=len(pending),
                duplicates=duplicates,
                out_of_order=plan.out_of_order,
                folded=int(plan.folded),
            )
        raise MetricsWriteConflict(
            f"could not record metrics of {object_id} after {self.max_attempts} attempts"
        )

    def _plan(
        self,
        workspace_id: str,
        account_id: str,
        points: list[MetricPoint],
        state: Item | None,
        post: PostInfo | None,
        rollup_pk: str,
        state_sk: str,
        week: Item | None = None,
        collected_at: datetime | None = None,
    ) -> _Plan:
        version = _version(state)
        latest = _latest_of(state)
        updates = _Updates()
        own = updates.on(rollup_pk, state_sk)
        _versioned(own, version)
        out_of_order = 0
        for point in points:
            if point.period == DAY and post is None:
                day = _day_of_period_end(point.at)
                updates.on(rollup_pk, keys.day_sk(day)).set(DAILY + point.metric, _n(point.value))
                updates.on(rollup_pk, keys.month_sk(day)).set(
                    f"{DAILY}{point.metric}@{day.day:02d}", _n(point.value)
                )
                continue
            if point.period != LIFETIME:
                continue
            previous = latest.get(point.metric)
            if previous is not None and previous.at >= point.at:
                out_of_order += 1
                continue
            latest[point.metric] = _Latest(point.value, point.at)
            own.set(LATEST + point.metric, _n(point.value))
            own.set(TIME + point.metric, _s(iso(point.at)))
            day = point.at.astimezone(UTC).date()
            day_item, month_item = (
                updates.on(rollup_pk, keys.day_sk(day)),
                updates.on(rollup_pk, keys.month_sk(day)),
            )
            if post is not None:  # a post's counter: what it gained goes to the day it was seen
                delta = point.value - (previous.value if previous else 0)
                day_item.add(SUM + point.metric, delta)
                month_item.add(SUM + point.metric, delta)
            else:  # the account's counter: the day's latest reading, and its change
                day_item.set(LATEST + point.metric, _n(point.value))
                month_item.set(f"{LATEST}{point.metric}@{day.day:02d}", _n(point.value))
                if previous is not None:
                    day_item.add(GAINED + point.metric, point.value - previous.value)
                    month_item.add(GAINED + point.metric, point.value - previous.value)
        if post is not None:
            self._post_fields(own, account_id, post)
            self._score(updates, rollup_pk, account_id, post, {m: v.value for m, v in latest.items()}, week)
            if version == 0:
                self._fold(updates, rollup_pk, post, collected_at)
        return _Plan(list(updates), out_of_order, folded=post is not None and version == 0)

    @staticmethod
    def _post_fields(own: _Update, account_id: str, post: PostInfo) -> None:
        for name, value in followed_attributes(account_id, post).items():
            own.set(name, value)

    @staticmethod
    def _score(
        updates: _Updates,
        rollup_pk: str,
        account_id: str,
        post: PostInfo,
        latest: Mapping[str, int],
        week: Item | None,
    ) -> None:
        score = PostScore.of(
            account_id,
            post.platform_post_id,
            post.published_at,
            post_engagements(latest),
            latest.get("impressions"),
            latest.get("reach"),
        ).encode()
        published = _utc_day(post.published_at)
        scores = week_scores(week)
        scores[post.platform_post_id] = score
        week_update = updates.on(rollup_pk, keys.week_sk(published))
        week_update.set(SCORES, _s(json.dumps(scores, separators=(",", ":"))))
        week_update.set(SUMMARY, _s(summarise(keys.week_start(published), scores)))
        _versioned(week_update, _version(week))
        external = post.post_id is None
        if external:
            ids = week_external(week)
            if post.platform_post_id not in ids:
                ids.add(post.platform_post_id)
                week_update.set(EXTERNAL_IDS, _s(json.dumps(sorted(ids), separators=(",", ":"))))

    @staticmethod
    def _fold(updates: _Updates, rollup_pk: str, post: PostInfo, collected_at: datetime | None) -> None:
        """The post's first recording: counted in the day/month rollups from now on, and its followed
        post marked ``folded`` (no longer counted as unfolded), in the same transaction."""
        published = _utc_day(post.published_at)
        external = post.post_id is None
        for counter in (POSTS_PUBLISHED, POSTS_EXTERNAL) if external else (POSTS_PUBLISHED,):
            updates.on(rollup_pk, keys.day_sk(published)).add(counter, 1)
            updates.on(rollup_pk, keys.month_sk(published)).add(counter, 1)
        followed = updates.on(rollup_pk, keys.followed_sk(post.published_at, post.platform_post_id))
        followed.set(FOLDED, _n(1))
        followed.set(EXPIRES_AT, _n(followed_expiry(post.published_at)))
        if collected_at is not None:
            followed.set(LAST_COLLECTED, _s(iso(collected_at)))

    def _ensure_post(
        self, workspace_id: str, account_id: str, post: PostInfo, collected_at: datetime | None = None
    ) -> bool:
        """A post that returned no points yet still counts as published and shows in reports. Returns
        whether this call folded it (created its post item)."""
        rollup_pk = keys.rollup_pk(workspace_id, account_id)
        if self._get(rollup_pk, keys.post_sk(post.platform_post_id)) is not None:
            return False
        week = self._get(rollup_pk, keys.week_sk(_utc_day(post.published_at)))
        plan = self._plan(
            workspace_id,
            account_id,
            [],
            None,
            post,
            rollup_pk,
            keys.post_sk(post.platform_post_id),
            week,
            collected_at,
        )
        stale = self._stale_packed(rollup_pk, plan.updates)
        try:
            self._client.transact_write_items(
                TransactItems=[u.request(self.table) for u in plan.updates] + stale
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            return False  # cancelled: another writer created it first, which is all this wanted
        return True

    def _raw_put(self, workspace_id: str, account_id: str, point: MetricPoint) -> dict[str, Any]:
        item: Item = {
            "pk": _s(keys.raw_pk(workspace_id, account_id, point.scope.value, point.object_id)),
            "sk": _s(keys.raw_sk(point.metric, point.period, point.at)),
            "value": _n(point.value),
        }
        if self.raw_retention is not None:
            item["expires_at"] = _n(int((point.at + self.raw_retention).timestamp()))
        return {
            "Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
        }

    def bulk_put(self, items: Iterable[Item]) -> int:
        """BatchWrite whole items (benchmarks and backfills of rollups built with :func:`day_item` & co);
        bypasses the delta bookkeeping, so never use it for live data. Returns the number written."""
        written = 0
        batch: list[Item] = []
        for item in items:
            batch.append(item)
            if len(batch) == BATCH_WRITE_MAX:
                written += self._batch_write(batch)
                batch = []
        if batch:
            written += self._batch_write(batch)
        return written

    def _batch_write(self, batch: list[Item]) -> int:
        request: dict[str, Any] = {self.table: [{"PutRequest": {"Item": item}} for item in batch]}
        for attempt in range(self.max_attempts):
            answer = self._client.batch_write_item(RequestItems=request)
            request = answer.get("UnprocessedItems") or {}
            if not request:
                return len(batch)
            self._sleep(min(0.05 * 2**attempt, 1.0) * random.random())
        raise MetricsWriteConflict("batch write left unprocessed items")

    # -------------------------------------------------------------- reading

    def _get(self, pk: str, sk: str) -> Item | None:
        answer = self._client.get_item(
            TableName=self.table, Key={"pk": _s(pk), "sk": _s(sk)}, ConsistentRead=True
        )
        item: Item | None = answer.get("Item")
        if item is not None:
            self._count(1)
        return item

    def _query(
        self, pk: str, low: str | None = None, high: str | None = None, *, without: str | None = None
    ) -> Iterator[Item]:
        """Items of ``pk`` (with ``sk`` between ``low`` and ``high``; ``without``: only those that lack
        that attribute), each counted as read."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _s(pk)},
        }
        if without is not None:
            kwargs["FilterExpression"] = "attribute_not_exists(#without)"
            kwargs["ExpressionAttributeNames"] = {"#without": without}
        if low is not None and high is not None:
            kwargs["KeyConditionExpression"] = "pk = :pk AND sk BETWEEN :low AND :high"
            kwargs["ExpressionAttributeValues"].update({":low": _s(low), ":high": _s(high)})
        while True:
            answer = self._client.query(**kwargs)
            items: list[Item] = answer.get("Items", [])
            self._count(len(items))
            yield from items
            last = answer.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _batch_get(
        self, wanted: Sequence[tuple[str, str]], attributes: Sequence[str] | None = None
    ) -> Iterator[Item]:
        """Items by exact ``(pk, sk)`` (:func:`chorus.store.batch.batch_get`), with only ``attributes``
        when given, each counted as read."""
        from chorus.store.batch import KeysLeftUnprocessed, batch_get

        try:
            for item in batch_get(
                self._client, self.table, wanted, attributes=attributes, attempts=self.max_attempts,
                sleep=self._sleep,
            ):  # fmt: skip
                self._count(1)
                yield item
        except KeysLeftUnprocessed as error:
            raise MetricsWriteConflict("batch get left unprocessed keys") from error

    def read_account_range(
        self,
        workspace_id: str,
        account_id: str,
        start: date,
        end: date,
        *,
        with_posts: bool = True,
        summarised: int = 0,
        tz: str = "UTC",
    ) -> AccountRange:
        """One account's rollups over UTC days ``start``..``end``: packed months where there are (see
        :mod:`chorus.reports.packed`), else month items for whole months and day items for the rest,
        and (``with_posts``) the week items holding scores of posts published in the range, all
        fetched by their exact keys (BatchGetItem): no Query, so the cost is the keys asked for, never
        the size of the partition or the table.

        ``summarised`` (a top/bottom list length, > 0): the weeks wholly inside the range come as their
        summaries (:mod:`chorus.reports.weeksummary`) with the candidates of lists up to that length,
        instead of every post; the edge weeks, and weeks without a summary good for that length
        (written before summaries existed), come per post as without it.

        ``tz``: the *posts* (``posts``, ``posts_published``, ``posts_external``, ``unfolded``) are those
        published from 00:00 of ``start`` to 00:00 after ``end`` in that zone, exactly: the count of the
        UTC day rollups is corrected by the scores of the edge weeks (the UTC days the zone's offset
        moves in or out, read per post, never as summaries). The sums, gains and readings stay per UTC
        day (platforms give them per day)."""
        from chorus.reports.packed import read_range

        found = AccountRange(account_id=account_id, start=start, end=end)
        pk = keys.rollup_pk(workspace_id, account_id)
        window = local_day_bounds(start, end, tz)
        utc_days = _day_start(start), _day_start(end + timedelta(days=1))
        shifted = window != utc_days
        # first: a post folded while this reads is then seen twice (and dropped below), never missed
        unfolded = self._unfolded(pk, *window)
        whole: list[tuple[str, str]] = []
        edges: list[tuple[str, str]] = []
        # the UTC days holding posts in the window but not in start..end, or the other way round
        moved = {_utc_ts_day(window[0]), start, end, _utc_ts_day(window[1] - 1)} if shifted else set()
        moved_weeks = {keys.week_sk(keys.week_start(day)) for day in moved}
        if with_posts:
            margin = timedelta(days=1 if shifted else 0)
            monday = keys.week_start(min(moved | {start}))
            while monday <= max(moved | {end}):
                inside = (
                    summarised > 0 and start + margin <= monday and monday + timedelta(days=6) + margin <= end
                )
                (whole if inside else edges).append((pk, keys.week_sk(monday)))
                monday += timedelta(days=7)
        else:
            edges = [(pk, sk) for sk in sorted(moved_weeks)]
        if whole:
            got = read_range(
                self._batch_get,
                [pk],
                start,
                end,
                whole,
                extra_attributes=(SUMMARY, EXTERNAL_IDS),
                late=edges,
            )
        else:
            got = read_range(
                self._batch_get, [pk], start, end, edges, extra_attributes=(SCORES, EXTERNAL_IDS)
            )
        found.items = got.items
        for item, first, monthly in got.rollups:
            _fold(found, item, first, monthly=monthly)
        week_items: list[Item] = []
        unsummarised: list[tuple[str, str]] = []
        summarised_weeks = {sk for _, sk in whole}
        for item in got.extra:
            if EXTERNAL_IDS in item:
                found.external |= week_external(item)
            sk = item["sk"]["S"]
            if sk not in summarised_weeks:
                week_items.append(item)
                continue
            summary = decode_summary(
                date.fromisoformat(sk.removeprefix(keys.WEEK_PREFIX)), item.get(SUMMARY, {}).get("S")
            )
            if summary is None or summary.k < summarised:
                unsummarised.append((pk, sk))
                continue
            found.summaries.append(summary)
            found.candidates += _decoded(account_id, summary.candidates, 0, 2**63)
        if unsummarised:  # old week items: their scores, one more round trip
            fetched = list(self._batch_get(unsummarised, ("sk", SCORES, EXTERNAL_IDS)))
            week_items += fetched
            found.items += len(fetched)
        for item in week_items:
            scores = week_scores(item)
            if with_posts:
                found.posts += _decoded(account_id, scores, *window)
            if item["sk"]["S"] in moved_weeks:
                added, removed = _moved(scores, window, utc_days)
                found.posts_published += len(added) - len(removed)
                found.posts_external += len(found.external & added) - len(found.external & removed)
        if unfolded:
            seen = {s.platform_post_id for s in found.posts} | {s.platform_post_id for s in found.candidates}
            for record in unfolded:
                info = record.info
                if info.platform_post_id in seen:
                    continue  # folded between the two reads: the rollups hold it
                found.unfolded[info.platform_post_id] = record
                found.posts_published += 1
                if info.post_id is None:
                    found.posts_external += 1
                    found.external.add(info.platform_post_id)
                if with_posts:
                    found.posts.append(
                        PostScore.of(account_id, info.platform_post_id, info.published_at, 0, None, None)
                    )
        return found

    def _unfolded(self, pk: str, first_ts: int, last_ts: int) -> list[PostRecord]:
        """The unfolded posts of partition ``pk`` published in ``first_ts`` <= t < ``last_ts``: one
        Query of the followed posts' key range, the folded ones filtered out (DynamoDB bills the Query
        by what it reads: the range's followed posts of the last 90 days, folded or not)."""
        low = keys.followed_bound(datetime.fromtimestamp(first_ts, UTC))
        high = keys.followed_bound(datetime.fromtimestamp(last_ts, UTC))
        return [post_record(item) for item in self._query(pk, low, high, without=FOLDED)]

    def get_posts(self, workspace_id: str, refs: Sequence[tuple[str, str]]) -> list[PostRecord]:
        """Post items for ``(account_id, platform_post_id)`` pairs (BatchGet), in no particular order."""
        wanted = [(keys.rollup_pk(workspace_id, acct), keys.post_sk(pid)) for acct, pid in refs]
        return [post_record(item) for item in self._batch_get(wanted)]

    def post_history(
        self, workspace_id: str, account_id: str, platform_post_id: str
    ) -> list[tuple[str, str, datetime, int]]:
        """Raw points of one post as ``(metric, period, at, value)``, oldest first per metric."""
        pk = keys.raw_pk(workspace_id, account_id, MetricScope.POST.value, platform_post_id)
        rows = []
        for item in self._query(pk):
            metric, period, at = item["sk"]["S"].split("#", 2)
            rows.append((metric, period, parse_iso(at), _int(item["value"])))
        return rows


def _decoded(account_id: str, scores: Mapping[str, str], first_ts: int, last_ts: int) -> list[PostScore]:
    """The scores published in ``first_ts`` <= t < ``last_ts``, decoded in one tight loop (a year of a
    busy account: ~7,000 scores)."""
    found: list[PostScore] = []
    append, new = found.append, tuple.__new__
    for platform_post_id, encoded in scores.items():
        published, engagements, impressions, reach = encoded.split("|")
        at = int(published)
        if first_ts <= at < last_ts:
            append(
                new(
                    PostScore,
                    (
                        account_id,
                        platform_post_id,
                        at,
                        int(engagements),
                        int(impressions) if impressions else None,
                        int(reach) if reach else None,
                    ),
                )
            )
    return found


def _by_time(points: list[MetricPoint]) -> list[list[MetricPoint]]:
    """One transaction per observation time, oldest first (a collection stamps its points alike)."""
    groups: dict[datetime, list[MetricPoint]] = {}
    for point in points:
        groups.setdefault(point.at, []).append(point)
    return [groups[at] for at in sorted(groups)]


def _fold(found: AccountRange, item: Item, first: date, *, monthly: bool) -> None:
    """Add one day or month item's figures to ``found`` (a year of 20 accounts folds ~15,000 items:
    the prefixes, all two characters long, are told apart by one slice)."""
    sums, gained = found.sums, found.gained
    for name, value in item.items():
        kind = name[:2]
        if kind == SUM:
            metric = name[2:]
            sums[metric] = sums.get(metric, 0) + int(value["N"])
        elif kind == GAINED:
            metric = name[2:]
            gained[metric] = gained.get(metric, 0) + int(value["N"])
        elif name == POSTS_PUBLISHED:
            found.posts_published += int(value["N"])
        elif name == POSTS_EXTERNAL:
            found.posts_external += int(value["N"])
        elif kind in (LATEST, DAILY):
            target = found.latest if kind == LATEST else found.daily
            metric, day = name[2:], first
            if monthly:
                if "@" not in name:
                    continue
                metric, dd = metric.rsplit("@", 1)
                day = first.replace(day=int(dd))
            target.setdefault(metric, {})[day] = int(value["N"])


def post_record(item: Item) -> PostRecord:
    """A post item (or a followed post) as a :class:`PostRecord`."""

    def text(name: str) -> str | None:
        value = item.get(name)
        return None if value is None else str(value["S"])

    latest = {name[len(LATEST) :]: _int(v) for name, v in item.items() if name.startswith(LATEST)}
    info = PostInfo(
        platform_post_id=text("platform_post_id") or "",
        platform=text("platform") or "",
        published_at=parse_iso(text("published_at") or "1970-01-01T00:00:00.000Z"),
        text=text("text") or "",
        url=text("url"),
        post_id=text("post_id"),
    )
    return PostRecord(account_id=text("account_id") or "", info=info, latest=latest)


def followed_attributes(account_id: str, post: PostInfo) -> Item:
    """What a report shows about a post, as the attributes of its post item and its followed post."""
    item: Item = {
        "kind": _s("post"),
        "account_id": _s(account_id),
        "platform": _s(post.platform),
        "platform_post_id": _s(post.platform_post_id),
        "published_at": _s(iso(post.published_at)),
        "text": _s(post.text[:TEXT_EXCERPT_CHARS]),
    }
    if post.url:
        item["url"] = _s(post.url)
    if post.post_id:
        item["post_id"] = _s(post.post_id)
    return item


def followed_expiry(published_at: datetime) -> int:
    """The TTL (Unix seconds) of a folded followed post published at ``published_at``."""
    return int((published_at + FOLLOWED_KEPT).timestamp())


# ------------------------------------------------------------------ whole items, for bulk loads


def day_item(
    workspace_id: str,
    account_id: str,
    day: date,
    *,
    sums: Mapping[str, int] | None = None,
    latest: Mapping[str, int] | None = None,
    posts_published: int = 0,
) -> Item:
    """A whole day rollup in the shape the store maintains (for :meth:`MetricsStore.bulk_put`)."""
    item: Item = {"pk": _s(keys.rollup_pk(workspace_id, account_id)), "sk": _s(keys.day_sk(day))}
    item.update({SUM + m: _n(v) for m, v in (sums or {}).items()})
    item.update({LATEST + m: _n(v) for m, v in (latest or {}).items()})
    if posts_published:
        item[POSTS_PUBLISHED] = _n(posts_published)
    return item


def month_item(
    workspace_id: str,
    account_id: str,
    first: date,
    *,
    sums: Mapping[str, int] | None = None,
    latest_by_day: Mapping[str, Mapping[date, int]] | None = None,
    posts_published: int = 0,
) -> Item:
    """A whole month rollup in the shape the store maintains (for :meth:`MetricsStore.bulk_put`)."""
    item: Item = {"pk": _s(keys.rollup_pk(workspace_id, account_id)), "sk": _s(keys.month_sk(first))}
    item.update({SUM + m: _n(v) for m, v in (sums or {}).items()})
    for metric, by_day in (latest_by_day or {}).items():
        item.update({f"{LATEST}{metric}@{d.day:02d}": _n(v) for d, v in by_day.items()})
    if posts_published:
        item[POSTS_PUBLISHED] = _n(posts_published)
    return item


def week_item(workspace_id: str, account_id: str, day: date, scores: Iterable[PostScore]) -> Item:
    """The post-score item of the ISO week holding ``day`` (for :meth:`MetricsStore.bulk_put`)."""
    packed = {s.platform_post_id: s.encode() for s in scores}
    return {
        "pk": _s(keys.rollup_pk(workspace_id, account_id)),
        "sk": _s(keys.week_sk(day)),
        SCORES: _s(json.dumps(packed, separators=(",", ":"))),
        SUMMARY: _s(summarise(keys.week_start(day), packed)),
        VERSION: _n(1),
    }


def post_item(
    workspace_id: str, account_id: str, post: PostInfo, latest: Mapping[str, int], at: datetime
) -> Item:
    """A whole post item in the shape the store maintains (for :meth:`MetricsStore.bulk_put`)."""
    own = _Update({})
    MetricsStore._post_fields(own, account_id, post)
    item: Item = {
        "pk": _s(keys.rollup_pk(workspace_id, account_id)),
        "sk": _s(keys.post_sk(post.platform_post_id)),
        VERSION: _n(1),
        **own.sets,
    }
    for metric, value in latest.items():
        item[LATEST + metric] = _n(value)
        item[TIME + metric] = _s(iso(at))
    return item
