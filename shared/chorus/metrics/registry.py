"""What to collect: the accounts and the published posts metric collection follows, in the metrics table.

Collection reads only the metrics table (never the main table's posts), and the hourly fan-out finds the
accounts to collect with Queries, never a table scan.

Items (metrics table, ``pk``/``sk``; key builders below)
--------------------------------------------------------
* **account entry** ``COLLECT#<shard>`` / ``<ws>#<acct>``: one per (workspace, account) followed, in one
  of :data:`SHARDS` partitions (hash of the pair) so a large install spreads its fan-out reads.
  ``platform``, ``next_due`` (ISO time the account next has anything due: a post on the ladder or its
  daily account metrics), ``account_last`` (last account-metrics collection), ``parked_until`` (a rate
  limit's ``Retry-After``), ``posts_version`` (bumped by every registered post) and ``legacy_moved``
  (its legacy followed posts, below, were moved).
* **followed post** ``M#<ws>#<acct>`` / ``P#<published at>#<platform post id>``: an item of the metrics
  store (written once a post by :meth:`~chorus.metrics.store.MetricsStore.note_published`; see
  :mod:`chorus.metrics.store`), which reports also count as published until the post's first
  collection folds it into the rollups: what a report shows about the post
  (:class:`~chorus.metrics.store.PostInfo`) and ``last_collected`` (the ladder's input, written by the
  fold for the first collection and by :meth:`CollectionRegistry.mark_posts_collected` for the later
  ones). Deleted once the ladder is finished (90 days), so one Query of the account's ``P#`` keys gives
  exactly the posts still followed.
* **legacy followed post** ``CPOST#<ws>#<acct>`` / ``<platform post id>``: the registry's own copy of a
  followed post before session 9. An account's next collection run moves them
  (:meth:`CollectionRegistry.move_legacy_posts`, once an account: ``legacy_moved`` on its entry).

The fan-out asks each shard for entries with ``next_due <= now`` (a filter on a Query: it reads the
shard, which is one item per account, and sends only what is due). ``next_due`` is only ever *lowered*
by a registration (conditional write) and set by a collection run only when no post was registered
while it ran (``posts_version`` unchanged); otherwise the earlier due time stays and the next tick
collects, where the ladder decides what is due.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chorus.config import get_settings
from chorus.errors import Conflict
from chorus.metrics import keys
from chorus.metrics.collect import PublishedPost
from chorus.metrics.store import (
    EXPIRES_AT,
    FOLDED,
    LAST_COLLECTED,
    PostInfo,
    followed_attributes,
    followed_expiry,
    post_record,
)
from chorus.store.keys import iso, parse_iso

SHARDS = 16
NEVER = "9999-12-31T23:59:59.999Z"  # next_due of an account with nothing left to collect
LEGACY_MOVED = "legacy_moved"  # on an account entry: its legacy followed posts were moved

AttrValue = dict[str, Any]
Item = dict[str, AttrValue]


def shard_of(workspace_id: str, account_id: str) -> int:
    digest = hashlib.sha256(f"{workspace_id}#{account_id}".encode()).digest()
    return digest[0] % SHARDS


def entry_pk(shard: int) -> str:
    return f"COLLECT#{shard:02d}"


def entry_sk(workspace_id: str, account_id: str) -> str:
    return f"{workspace_id}#{account_id}"


@dataclass(frozen=True)
class AccountEntry:
    workspace_id: str
    account_id: str
    platform: str
    next_due: datetime | None = None
    account_last_collected_at: datetime | None = None
    parked_until: datetime | None = None
    posts_version: int = 0
    legacy_moved: bool = False


def _s(value: str) -> AttrValue:
    return {"S": value}


def _text(item: Item, name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value["S"])


def _time(item: Item, name: str) -> datetime | None:
    value = _text(item, name)
    return None if value is None or value == NEVER else parse_iso(value)


def _entry(item: Item) -> AccountEntry:
    return AccountEntry(
        workspace_id=_text(item, "workspace_id") or "",
        account_id=_text(item, "account_id") or "",
        platform=_text(item, "platform") or "",
        next_due=_time(item, "next_due"),
        account_last_collected_at=_time(item, "account_last"),
        parked_until=_time(item, "parked_until"),
        posts_version=int(item["posts_version"]["N"]) if "posts_version" in item else 0,
        legacy_moved=LEGACY_MOVED in item,
    )


def _followed(item: Item) -> PublishedPost:
    """A followed post (``P#``), or a legacy one (``CPOST#``: its sort key is the platform post id)."""
    info = post_record(item).info
    if not info.platform_post_id:
        info = replace(info, platform_post_id=item["sk"]["S"])
    return PublishedPost(info=info, last_collected_at=_time(item, LAST_COLLECTED))


def _followed_key(workspace_id: str, account_id: str, info: PostInfo) -> Item:
    return {
        "pk": _s(keys.rollup_pk(workspace_id, account_id)),
        "sk": _s(keys.followed_sk(info.published_at, info.platform_post_id)),
    }


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class CollectionRegistry:
    """The followed accounts and posts (see the module docstring). Thread-safe as its client is."""

    def __init__(self, table_name: str | None = None, client: Any = None) -> None:
        self.table = table_name or get_settings().metrics_table
        if client is None:
            from chorus.aws import client as aws_client

            client = aws_client("dynamodb")
        self._client = client

    # ------------------------------------------------------------------ writing

    def follow_account(
        self, workspace_id: str, account_id: str, platform: str, due: datetime, *, new_post: bool = False
    ) -> None:
        """Create or keep the account's entry, its ``next_due`` lowered to ``due`` if later.

        One conditional write in the usual case (the account is due as early already; a new post bumps
        ``posts_version`` all the same); else the write that also lowers ``next_due``. The two
        conditions are complementary: one of them holds unless another writer moved ``next_due``
        in between, and then the other is tried again."""
        key = {
            "pk": _s(entry_pk(shard_of(workspace_id, account_id))),
            "sk": _s(entry_sk(workspace_id, account_id)),
        }
        names = {"#ws": "workspace_id", "#acct": "account_id", "#p": "platform", "#nd": "next_due"}
        values: dict[str, AttrValue] = {
            ":ws": _s(workspace_id),
            ":acct": _s(account_id),
            ":p": _s(platform),
            ":due": _s(iso(due)),
        }
        bump = ""
        if new_post:
            bump = " ADD posts_version :one"
            values[":one"] = {"N": "1"}
        attempts = (
            ("#nd <= :due", "SET #ws = :ws, #acct = :acct, #p = :p" + bump),  # due as early already
            (
                "attribute_not_exists(#nd) OR #nd > :due",
                "SET #ws = :ws, #acct = :acct, #p = :p, #nd = :due" + bump,
            ),
        )
        for condition, expression in attempts * 3:
            try:
                self._client.update_item(
                    TableName=self.table,
                    Key=key,
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
                return
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise
        raise Conflict(f"next_due of {workspace_id}#{account_id} kept moving")

    def mark_posts_collected(
        self,
        workspace_id: str,
        account_id: str,
        collected: Sequence[tuple[PostInfo, datetime | None]],
        at: datetime,
    ) -> None:
        """Store ``at`` as the last collection of each ``(post, next due time)``; a post whose next due
        time is ``None`` (ladder finished) is unfollowed instead: its followed post goes."""
        for info, next_due in collected:
            key = _followed_key(workspace_id, account_id, info)
            if next_due is None:
                self._client.delete_item(TableName=self.table, Key=key)
                continue
            try:
                self._client.update_item(
                    TableName=self.table,
                    Key=key,
                    UpdateExpression="SET #last = :at",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames={"#last": LAST_COLLECTED},
                    ExpressionAttributeValues={":at": _s(iso(at))},
                )
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise

    def move_legacy_posts(self, workspace_id: str, account_id: str) -> int:
        """Move the account's legacy followed posts (``CPOST#``, before session 9) onto the metrics
        store's followed posts, then mark its entry ``legacy_moved``; returns how many were moved.

        Each becomes (or completes) the store's followed post: its metadata, and when it was collected
        (the first collection folded it, and the fold's tombstone may be gone after its two days) its
        ``last_collected``, ``folded`` and the folded post's TTL; the legacy item is deleted after.
        A crash in between leaves the legacy item, and the next run moves it again (the same writes).
        One Query of an empty partition once an account after that: the flag spares the rest."""
        moved = 0
        for item in list(self._legacy_items(workspace_id, account_id)):
            self._adopt(workspace_id, account_id, _followed(item))
            self._client.delete_item(TableName=self.table, Key={"pk": item["pk"], "sk": item["sk"]})
            moved += 1
        try:
            self._client.update_item(
                TableName=self.table,
                Key={
                    "pk": _s(entry_pk(shard_of(workspace_id, account_id))),
                    "sk": _s(entry_sk(workspace_id, account_id)),
                },
                UpdateExpression="SET #moved = :one",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#moved": LEGACY_MOVED},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        return moved

    def _adopt(self, workspace_id: str, account_id: str, post: PublishedPost) -> None:
        """One legacy followed post written onto the store's followed post (see move_legacy_posts)."""
        info = post.info
        values: Item = dict(followed_attributes(account_id, info))
        expires: AttrValue = {"N": str(followed_expiry(info.published_at))}
        if post.last_collected_at is not None:
            values[LAST_COLLECTED] = _s(iso(post.last_collected_at))
            values[FOLDED] = {"N": "1"}
            values[EXPIRES_AT] = expires
        names = {f"#a{i}": name for i, name in enumerate(values)}
        answer = self._client.update_item(
            TableName=self.table,
            Key=_followed_key(workspace_id, account_id, info),
            UpdateExpression="SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(values))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":a{i}": value for i, value in enumerate(values.values())},
            ReturnValues="ALL_NEW",
        )
        now = answer.get("Attributes", {})
        if FOLDED in now and now.get(EXPIRES_AT) != expires:
            # folded (the old fold's tombstone) but never marked collected: keep it past its two days
            self._client.update_item(
                TableName=self.table,
                Key=_followed_key(workspace_id, account_id, info),
                UpdateExpression="SET #e = :e",
                ExpressionAttributeNames={"#e": EXPIRES_AT},
                ExpressionAttributeValues={":e": expires},
            )

    def finish_run(
        self,
        entry: AccountEntry,
        *,
        next_due: datetime | None,
        account_collected_at: datetime | None,
        parked_until: datetime | None = None,
    ) -> bool:
        """Record a collection run on the account's entry. ``next_due`` is written only when no post was
        registered since ``entry`` was read; returns whether it was."""
        key = {
            "pk": _s(entry_pk(shard_of(entry.workspace_id, entry.account_id))),
            "sk": _s(entry_sk(entry.workspace_id, entry.account_id)),
        }
        sets: list[str] = []
        removes: list[str] = []
        values: dict[str, AttrValue] = {}
        if account_collected_at is not None:
            sets.append("account_last = :last")
            values[":last"] = _s(iso(account_collected_at))
        if parked_until is not None:
            sets.append("parked_until = :parked")
            values[":parked"] = _s(iso(parked_until))
        else:
            removes.append("parked_until")

        def expression(with_due: bool) -> str:
            parts = [*sets, "next_due = :due"] if with_due else list(sets)
            text = ("SET " + ", ".join(parts)) if parts else ""
            return (text + (" REMOVE " + ", ".join(removes) if removes else "")).strip()

        due_values = {**values, ":due": _s(iso(next_due) if next_due else NEVER), ":v": {"N": "0"}}
        if entry.posts_version:
            due_values[":v"] = {"N": str(entry.posts_version)}
            condition = "posts_version = :v"
        else:
            condition = "attribute_not_exists(posts_version) OR posts_version = :v"
        try:
            self._client.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression=expression(True),
                ConditionExpression=f"attribute_exists(pk) AND ({condition})",
                ExpressionAttributeValues=due_values,
            )
            return True
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        if sets or removes:  # a post arrived meanwhile: keep its (earlier) due time
            update: dict[str, Any] = {
                "TableName": self.table,
                "Key": key,
                "UpdateExpression": expression(False),
                "ConditionExpression": "attribute_exists(pk)",
            }
            if values:
                update["ExpressionAttributeValues"] = values
            try:
                self._client.update_item(**update)
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise
        return False

    def unfollow_account(self, workspace_id: str, account_id: str) -> None:
        """Stop collecting an account (removed from its workspace): its entry and followed posts go."""
        self._client.delete_item(
            TableName=self.table,
            Key={
                "pk": _s(entry_pk(shard_of(workspace_id, account_id))),
                "sk": _s(entry_sk(workspace_id, account_id)),
            },
        )
        for item in [
            *self._followed_items(workspace_id, account_id),
            *self._legacy_items(workspace_id, account_id),
        ]:
            self._client.delete_item(TableName=self.table, Key={"pk": item["pk"], "sk": item["sk"]})

    # ------------------------------------------------------------------ reading

    def _query(self, **kwargs: Any) -> Iterator[Item]:
        while True:
            answer = self._client.query(TableName=self.table, **kwargs)
            yield from answer.get("Items", [])
            last = answer.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def due_accounts(self, now: datetime) -> Iterator[AccountEntry]:
        """Followed accounts with something due at ``now`` and not parked by a rate limit."""
        at = _s(iso(now))
        for shard in range(SHARDS):
            yield from (
                _entry(item)
                for item in self._query(
                    KeyConditionExpression="pk = :pk",
                    FilterExpression=(
                        "(attribute_not_exists(next_due) OR next_due <= :now) "
                        "AND (attribute_not_exists(parked_until) OR parked_until <= :now)"
                    ),
                    ExpressionAttributeValues={":pk": _s(entry_pk(shard)), ":now": at},
                    ConsistentRead=True,
                )
            )

    def entry(self, workspace_id: str, account_id: str) -> AccountEntry | None:
        answer = self._client.get_item(
            TableName=self.table,
            Key={
                "pk": _s(entry_pk(shard_of(workspace_id, account_id))),
                "sk": _s(entry_sk(workspace_id, account_id)),
            },
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return None if item is None else _entry(item)

    def followed_posts(self, workspace_id: str, account_id: str) -> list[PublishedPost]:
        """The account's followed posts: one Query of its ``P#`` keys (a folded post recorded without
        having been followed, as tests and backfills do, left only its fold's marks: skipped)."""
        return [
            _followed(item)
            for item in self._followed_items(workspace_id, account_id)
            if "published_at" in item
        ]

    def _followed_items(self, workspace_id: str, account_id: str) -> Iterator[Item]:
        return self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :followed)",
            ExpressionAttributeValues={
                ":pk": _s(keys.rollup_pk(workspace_id, account_id)),
                ":followed": _s(keys.FOLLOWED_PREFIX),
            },
            ConsistentRead=True,
        )

    def _legacy_items(self, workspace_id: str, account_id: str) -> Iterator[Item]:
        return self._query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": _s(keys.legacy_followed_pk(workspace_id, account_id))},
            ConsistentRead=True,
        )
