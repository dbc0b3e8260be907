"""What to collect: the accounts and the published posts metric collection follows, in the metrics table.

Collection reads only the metrics table (never the main table's posts), and the hourly fan-out finds the
accounts to collect with Queries, never a table scan.

Items (metrics table, ``pk``/``sk``; key builders below)
--------------------------------------------------------
* **account entry** ``COLLECT#<shard>`` / ``<ws>#<acct>``: one per (workspace, account) followed, in one
  of :data:`SHARDS` partitions (hash of the pair) so a large install spreads its fan-out reads.
  ``platform``, ``next_due`` (ISO time the account next has anything due: a post on the ladder or its
  daily account metrics), ``account_last`` (last account-metrics collection), ``parked_until`` (a rate
  limit's ``Retry-After``) and ``posts_version`` (bumped by every registered post).
* **followed post** ``CPOST#<ws>#<acct>`` / ``<platform post id>``: what a report shows about the post
  (:class:`~chorus.metrics.store.PostInfo`) and ``last_collected`` (the ladder's input). Deleted once
  the ladder is finished (90 days), so one Query of the partition gives exactly the posts still
  followed.

The fan-out asks each shard for entries with ``next_due <= now`` (a filter on a Query: it reads the
shard, which is one item per account, and sends only what is due). ``next_due`` is only ever *lowered*
by a registration (conditional write) and set by a collection run only when no post was registered
while it ran (``posts_version`` unchanged); otherwise the earlier due time stays and the next tick
collects, where the ladder decides what is due.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chorus.config import get_settings
from chorus.errors import Conflict
from chorus.metrics.collect import PublishedPost
from chorus.metrics.store import PostInfo
from chorus.store.keys import iso, parse_iso

SHARDS = 16
NEVER = "9999-12-31T23:59:59.999Z"  # next_due of an account with nothing left to collect

AttrValue = dict[str, Any]
Item = dict[str, AttrValue]


def shard_of(workspace_id: str, account_id: str) -> int:
    digest = hashlib.sha256(f"{workspace_id}#{account_id}".encode()).digest()
    return digest[0] % SHARDS


def entry_pk(shard: int) -> str:
    return f"COLLECT#{shard:02d}"


def entry_sk(workspace_id: str, account_id: str) -> str:
    return f"{workspace_id}#{account_id}"


def followed_pk(workspace_id: str, account_id: str) -> str:
    return f"CPOST#{workspace_id}#{account_id}"


def followed_sk(platform_post_id: str) -> str:
    return platform_post_id


@dataclass(frozen=True)
class AccountEntry:
    workspace_id: str
    account_id: str
    platform: str
    next_due: datetime | None = None
    account_last_collected_at: datetime | None = None
    parked_until: datetime | None = None
    posts_version: int = 0


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
    )


def _followed(item: Item) -> PublishedPost:
    info = PostInfo(
        platform_post_id=item["sk"]["S"],
        platform=_text(item, "platform") or "",
        published_at=parse_iso(_text(item, "published_at") or "1970-01-01T00:00:00.000Z"),
        text=_text(item, "text") or "",
        url=_text(item, "url"),
        post_id=_text(item, "post_id"),
    )
    return PublishedPost(info=info, last_collected_at=_time(item, "last_collected"))


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

    def follow_post(self, workspace_id: str, account_id: str, info: PostInfo) -> None:
        """Follow a published post (idempotent: a second registration keeps its collection time)."""
        item: Item = {
            "pk": _s(followed_pk(workspace_id, account_id)),
            "sk": _s(followed_sk(info.platform_post_id)),
            "platform": _s(info.platform),
            "published_at": _s(iso(info.published_at)),
            "text": _s(info.text),
        }
        if info.url:
            item["url"] = _s(info.url)
        if info.post_id:
            item["post_id"] = _s(info.post_id)
        try:
            self._client.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

    def mark_posts_collected(
        self, workspace_id: str, account_id: str, collected: dict[str, datetime | None], at: datetime
    ) -> None:
        """Store ``at`` as the last collection of each post; a post whose next due time is ``None``
        (ladder finished) is unfollowed instead."""
        for platform_post_id, next_due in collected.items():
            key = {
                "pk": _s(followed_pk(workspace_id, account_id)),
                "sk": _s(followed_sk(platform_post_id)),
            }
            if next_due is None:
                self._client.delete_item(TableName=self.table, Key=key)
                continue
            try:
                self._client.update_item(
                    TableName=self.table,
                    Key=key,
                    UpdateExpression="SET last_collected = :at",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":at": _s(iso(at))},
                )
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise

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
        for post in self.followed_posts(workspace_id, account_id):
            self._client.delete_item(
                TableName=self.table,
                Key={
                    "pk": _s(followed_pk(workspace_id, account_id)),
                    "sk": _s(followed_sk(post.info.platform_post_id)),
                },
            )

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
        return [
            _followed(item)
            for item in self._query(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": _s(followed_pk(workspace_id, account_id))},
                ConsistentRead=True,
            )
        ]
