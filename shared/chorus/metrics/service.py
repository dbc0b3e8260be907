"""Metric collection as the running system does it: follow published posts, fan out, collect one account.

Three steps, each a thin handler's one call:

1. :func:`follow_published_batch` (the main table's stream: targets that became ``published``, by
   :mod:`chorus.posts.published`): each post is followed with one small item of the metrics store
   (:meth:`~chorus.metrics.store.MetricsStore.note_published`), which both the collector reads (the
   :class:`~chorus.metrics.registry.CollectionRegistry`'s followed posts) and reports count as published
   at once, before any metric (its first collection folds it into the rollups); its account's next due
   time is lowered to the ladder's first collection (one hour after publishing), once a batch.
   :func:`follow_connected_account` follows an account when it is connected, so its daily account
   metrics (followers) start with no post.
2. :func:`fan_out` (schedule, hourly): one :class:`CollectMessage` per account with something due at
   the schedule's time, to the metrics queue.
3. :func:`collect` (metrics queue consumer): decrypt the account's credentials, run
   :func:`~chorus.metrics.collect.collect_account` "as of" the message's time (the ladder decides which
   posts are due), then store each collected post's collection time (the fold of a first collection
   stored it already; a post whose ladder is finished is unfollowed) and the account's next due time.
   When the account's daily metrics are due (its first run after connect, then once a UTC day) and its
   collector is a :class:`~chorus.platforms.base.TimelineReader`, :func:`follow_external_posts` first
   follows the account's posts made outside Chorus (``external``: ``post_id`` None), collected in the
   same run. An account's followed posts of before session 9 are moved first, once
   (:meth:`~chorus.metrics.registry.CollectionRegistry.move_legacy_posts`).

Errors: a rate limit parks the account until its ``Retry-After`` (the fan-out skips it, nothing fails); a
revoked token marks the account for re-authorisation; any other refusal is logged and retried by the
next tick; transient errors (5xx, timeouts) propagate so the queue retries the message (then its DLQ).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from chorus.errors import NotFound
from chorus.metrics import ladder
from chorus.metrics.collect import AccountJob, PointRecorder, PublishedPost, collect_account
from chorus.metrics.registry import CollectionRegistry
from chorus.metrics.store import PostInfo, RecordResult
from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MetricsCollector,
    PermanentError,
    RateLimited,
    TimelineReader,
)
from chorus.store.keys import iso, parse_iso

if TYPE_CHECKING:
    from chorus.accounts.service import Account
    from chorus.metrics.store import MetricsStore

logger = logging.getLogger(__name__)

DEFAULT_PARK = timedelta(minutes=15)
EXTERNAL_SETTLE = timedelta(hours=1)  # a post made elsewhere is followed once it is this old
SQS_BATCH = 10


# ------------------------------------------------------------------ messages and ports


@dataclass(frozen=True)
class CollectMessage:
    """Collect what is due for one account as of ``at`` (the fan-out's schedule time)."""

    workspace_id: str
    account_id: str
    at: datetime

    def to_json(self) -> str:
        return json.dumps(
            {"workspace_id": self.workspace_id, "account_id": self.account_id, "at": iso(self.at)}
        )

    @classmethod
    def from_json(cls, body: str) -> CollectMessage:
        data = json.loads(body)
        return cls(str(data["workspace_id"]), str(data["account_id"]), parse_iso(str(data["at"])))


class CollectionQueue(Protocol):
    def send(self, messages: Sequence[CollectMessage]) -> None: ...


class InMemoryCollectionQueue:
    def __init__(self) -> None:
        self.sent: list[CollectMessage] = []

    def send(self, messages: Sequence[CollectMessage]) -> None:
        self.sent.extend(messages)


class SqsCollectionQueue:
    """Adapter: SendMessageBatch in chunks of 10; raises when SQS refuses an entry (nothing silent)."""

    def __init__(self, queue_url: str | None = None, client: Any = None) -> None:
        from chorus.config import get_settings

        self.queue_url = queue_url or get_settings().metrics_queue_url
        if client is None:
            from chorus.aws import client as aws_client

            client = aws_client("sqs")
        self._client = client

    def send(self, messages: Sequence[CollectMessage]) -> None:
        for start in range(0, len(messages), SQS_BATCH):
            chunk = messages[start : start + SQS_BATCH]
            answer = self._client.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "MessageBody": m.to_json()} for i, m in enumerate(chunk)],
            )
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused {len(answer['Failed'])} collection message(s)")


class PublishedRecorder(Protocol):
    """Where a post is followed (:class:`~chorus.metrics.store.MetricsStore` satisfies it)."""

    def note_published(self, workspace_id: str, account_id: str, post: PostInfo) -> bool: ...


class CollectionStore(PointRecorder, PublishedRecorder, Protocol):
    """Where a collection run records points and notes the external posts it finds."""


class PostLinks(Protocol):
    """The Chorus post a platform post was published for, if any (:func:`chorus.inbox.store.post_link`)."""

    def __call__(self, workspace_id: str, account_id: str, platform_post_id: str) -> str | None: ...


class AccountsPort(Protocol):
    """Connected accounts as collection needs them (the accounts service in production)."""

    def account(self, workspace_id: str, account_id: str) -> Account | None: ...

    def credentials(self, account: Account) -> AccountCredentials: ...

    def needs_reauth(self, workspace_id: str, account_id: str, reason: str) -> None: ...


class ServiceAccounts:
    """Adapter: :mod:`chorus.accounts.service` (tokens decrypted with KMS, refreshed when near expiry)."""

    def account(self, workspace_id: str, account_id: str) -> Account | None:
        from chorus.accounts import service

        try:
            return service.get_account(workspace_id, account_id)
        except NotFound:
            return None

    def credentials(self, account: Account) -> AccountCredentials:
        from chorus.accounts import service

        return service.credentials(account)

    def needs_reauth(self, workspace_id: str, account_id: str, reason: str) -> None:
        from chorus.accounts import service

        service.mark_needs_reauth(workspace_id, account_id, reason)


def _default_collectors(platform: str) -> MetricsCollector | None:
    from chorus.platforms.registry import collector

    return collector(platform)


def _default_post_link(workspace_id: str, account_id: str, platform_post_id: str) -> str | None:
    from chorus.inbox.store import post_link

    return post_link(workspace_id, account_id, platform_post_id)


def _default_recorder() -> MetricsStore:
    from chorus.metrics.store import MetricsStore

    return MetricsStore()


# ------------------------------------------------------------------ 1. follow


def follow_published(
    workspace_id: str,
    data: Mapping[str, Any],
    text: str,
    *,
    registry: CollectionRegistry | None = None,
    recorder: PublishedRecorder | None = None,
) -> PostInfo:
    """Follow a post published through Chorus from its target's data (post_id, account_id, platform,
    platform_post_id, url, published_at); ``text`` is the post's text as published to that account."""
    [info] = follow_published_batch([(workspace_id, data, text)], registry=registry, recorder=recorder)
    return info


def follow_published_batch(
    published: Sequence[tuple[str, Mapping[str, Any], str]],
    *,
    registry: CollectionRegistry | None = None,
    recorder: PublishedRecorder | None = None,
) -> list[PostInfo]:
    """:func:`follow_published` for a batch of (workspace id, data, text): each post followed (one item:
    see the module docstring), and each account's entry written once for the batch, due at its earliest
    post's first collection (one hour after publishing), rather than once a post. A batch delivered
    again writes no followed post (each is a conditional put) and leaves the entries as they were but
    for ``posts_version``."""
    registry = registry or CollectionRegistry()
    recorder = recorder or _default_recorder()
    infos: list[PostInfo] = []
    accounts: dict[tuple[str, str], tuple[str, datetime]] = {}  # (ws, account) -> (platform, first due)
    for workspace_id, data, text in published:
        info = PostInfo(
            platform_post_id=str(data["platform_post_id"]),
            platform=str(data["platform"]),
            published_at=parse_iso(str(data["published_at"])),
            text=text,
            url=data.get("url"),
            post_id=data.get("post_id"),
        )
        account_id = str(data["account_id"])
        recorder.note_published(workspace_id, account_id, info)
        due = ladder.next_post_collection(info.published_at, None, info.published_at) or info.published_at
        earlier = accounts.get((workspace_id, account_id))
        accounts[(workspace_id, account_id)] = (info.platform, min(due, earlier[1]) if earlier else due)
        infos.append(info)
    for (workspace_id, account_id), (platform, due) in accounts.items():
        registry.follow_account(workspace_id, account_id, platform, due, new_post=True)
    if infos:
        logger.info("posts_followed", extra={"posts": len(infos), "accounts": len(accounts)})
    return infos


def follow_external_posts(
    workspace_id: str,
    account_id: str,
    platform: str,
    reader: TimelineReader,
    creds: AccountCredentials,
    followed: Sequence[PublishedPost],
    at: datetime,
    *,
    recorder: PublishedRecorder,
    linked: PostLinks,
) -> list[PublishedPost]:
    """Follow the account's own posts that Chorus did not publish (``external``: no Chorus post id).

    Reads the account's timeline back to the ladder's end (90 days) and follows each post that is not
    followed already, not linked to a Chorus post (``linked``: a published target's platform post id),
    and at least :data:`EXTERNAL_SETTLE` old: a post Chorus published a moment ago may not be linked
    yet (the link is written from the table stream), and the next daily read sees it settled. Returns
    the posts it followed (on the same ladder as Chorus's posts: their first collection is due at once
    when they are older than an hour). A revoked token or a rate limit propagates as from
    ``post_metrics``; any other refusal of the timeline is logged and nothing is followed."""
    known = {p.info.platform_post_id for p in followed}
    settled = at - EXTERNAL_SETTLE
    found: list[PublishedPost] = []
    try:
        timeline = reader.recent_posts(creds, at - ladder.LADDER_END)
    except (AuthError, RateLimited):
        raise
    except PermanentError as error:  # e.g. a permission the token lacks: the metrics still count
        logger.warning("timeline_refused", extra={"account_id": account_id, "reason": error.message})
        return []
    for post in timeline:
        if post.platform_post_id in known or post.published_at > settled:
            continue
        known.add(post.platform_post_id)
        if linked(workspace_id, account_id, post.platform_post_id) is not None:
            continue  # published through Chorus: followed from the table's stream
        info = PostInfo(
            platform_post_id=post.platform_post_id,
            platform=platform,
            published_at=post.published_at,
            text=post.text,
            url=post.url,
            post_id=None,
        )
        recorder.note_published(workspace_id, account_id, info)
        found.append(PublishedPost(info=info))
    if found:
        logger.info(
            "external_posts_followed",
            extra={"workspace_id": workspace_id, "account_id": account_id, "posts": len(found)},
        )
    return found


def stored_post_text(workspace_id: str, post_id: str | None, account_id: str) -> str:
    """The text a Chorus post was published with to ``account_id`` ("" for a post made elsewhere)."""
    if not post_id:
        return ""
    from chorus.store import posts

    try:
        return posts.get_post(workspace_id, post_id, with_targets=False).content_for(account_id).text
    except NotFound:
        return ""


def follow_connected_account(
    workspace_id: str,
    account_id: str,
    platform: str,
    at: datetime,
    registry: CollectionRegistry | None = None,
) -> None:
    """Follow a newly connected account: its account metrics are due at once. A failure is logged, not
    raised: connecting must not fail for it, and the account's first published post follows it anyway."""
    try:
        (registry or CollectionRegistry()).follow_account(workspace_id, account_id, platform, at)
    except ClientError as error:
        logger.warning("account_follow_failed", extra={"account_id": account_id, "error": str(error)})


# ------------------------------------------------------------------ 2. fan out


def fan_out(
    now: datetime, registry: CollectionRegistry | None = None, queue: CollectionQueue | None = None
) -> int:
    """One message per followed account with something due at ``now``; returns how many were sent."""
    registry = registry or CollectionRegistry()
    queue = queue or SqsCollectionQueue()
    sent = 0
    batch: list[CollectMessage] = []
    for entry in registry.due_accounts(now):
        batch.append(CollectMessage(entry.workspace_id, entry.account_id, now))
        if len(batch) == SQS_BATCH:
            queue.send(batch)
            sent, batch = sent + len(batch), []
    if batch:
        queue.send(batch)
        sent += len(batch)
    logger.info("collection_fanned_out", extra={"accounts": sent, "at": iso(now)})
    return sent


# ------------------------------------------------------------------ 3. collect one account


@dataclass(frozen=True)
class RunResult:
    status: str  # collected | not_followed | gone | inactive | no_collector | rate_limited | needs_reauth | refused
    posts: int = 0
    missing: int = 0
    account_collected: bool = False
    recorded: RecordResult = field(default_factory=RecordResult)
    next_due: datetime | None = None


def collect(
    message: CollectMessage,
    *,
    registry: CollectionRegistry | None = None,
    recorder: CollectionStore | None = None,
    accounts: AccountsPort | None = None,
    collectors: Callable[[str], MetricsCollector | None] = _default_collectors,
    linked: PostLinks = _default_post_link,
) -> RunResult:
    """Collect and record what is due for the message's account as of ``message.at``."""
    registry = registry or CollectionRegistry()
    accounts = accounts or ServiceAccounts()
    ws, account_id, at = message.workspace_id, message.account_id, message.at
    entry = registry.entry(ws, account_id)  # read before the posts: see CollectionRegistry.finish_run
    if entry is None:
        return RunResult("not_followed")
    account = accounts.account(ws, account_id)
    if account is None:
        registry.unfollow_account(ws, account_id)
        return RunResult("gone")
    if account.status != "active":
        return RunResult("inactive")
    collector = collectors(account.platform)
    if collector is None:
        registry.finish_run(entry, next_due=None, account_collected_at=None)
        return RunResult("no_collector")
    if not entry.legacy_moved:
        registry.move_legacy_posts(ws, account_id)
    job = AccountJob(
        workspace_id=ws,
        account_id=account_id,
        creds=accounts.credentials(account),
        posts=registry.followed_posts(ws, account_id),
        account_last_collected_at=entry.account_last_collected_at,
    )
    store = recorder or _default_recorder()
    try:
        # with the account's daily metrics (first after connect, then daily): its posts made elsewhere
        if isinstance(collector, TimelineReader) and ladder.account_is_due(
            entry.account_last_collected_at, at
        ):
            external = follow_external_posts(
                ws,
                account_id,
                account.platform,
                collector,
                job.creds,
                job.posts,
                at,
                recorder=store,
                linked=linked,
            )
            job = replace(job, posts=[*job.posts, *external])
        outcome = collect_account(job, collector, store, clock=lambda: at)
    except RateLimited as error:
        wait = timedelta(seconds=error.retry_after) if error.retry_after else DEFAULT_PARK
        registry.finish_run(
            entry, next_due=entry.next_due or at, account_collected_at=None, parked_until=at + wait
        )
        logger.warning(
            "collection_rate_limited",
            extra={
                "account_id": account_id,
                "retry_after_s": int(wait.total_seconds()),
                "reason": error.message,
            },
        )
        return RunResult("rate_limited")
    except AuthError as error:
        accounts.needs_reauth(ws, account_id, error.message)
        logger.warning("collection_needs_reauth", extra={"account_id": account_id, "reason": error.message})
        return RunResult("needs_reauth")
    except PermanentError as error:
        logger.warning("collection_refused", extra={"account_id": account_id, "reason": error.message})
        return RunResult("refused")
    collected = set(outcome.posts_collected)
    marked = set(outcome.posts_marked)  # their first collection's fold stored the time already
    following: list[tuple[PostInfo, datetime | None]] = []
    for post in job.posts:
        if post.info.platform_post_id in collected:
            next_due = ladder.next_post_collection(post.info.published_at, at, at)
            if next_due is None or post.info.platform_post_id not in marked:
                following.append((post.info, next_due))
    registry.mark_posts_collected(ws, account_id, following, at)
    registry.finish_run(
        entry,
        next_due=outcome.next_due,
        account_collected_at=at if outcome.account_collected else None,
    )
    return RunResult(
        "collected",
        posts=len(outcome.posts_collected),
        missing=len(outcome.posts_missing),
        account_collected=outcome.account_collected,
        recorded=outcome.recorded,
        next_due=outcome.next_due,
    )


def schedule_time(event: Mapping[str, Any], fallback: Callable[[], datetime]) -> datetime:
    """The ``time`` of an EventBridge scheduled event (``fallback()`` when it has none)."""
    value = event.get("time")
    return parse_iso(str(value)) if value else fallback()
