"""The ingest worker's domain: a batch of queued webhook bodies (or polled pages) -> stored, threaded
messages, pushed live.

For each normalised event (:mod:`chorus.inbox.normalized`) of each queued body:

* an :class:`InboundMessage` is routed to every workspace that connected the account it arrived for
  (and to nobody when none did: it is kept aside for operators, :mod:`chorus.inbox.unrouted`),
  judged (sentiment, the workspace's rules) and landed with the batch's other new messages
  (:mod:`chorus.inbox.landing`: deduped by the platform's id, threaded, linked to the Chorus post
  whose published target it answers, counted for reports, in one transaction); an edit changes the
  stored message;
* a :class:`Deletion` marks the stored message deleted (the record is kept);
* a :class:`Revocation` disables the account and raises ``AccountNeedsReauth``;
* a :class:`DeliveryFailed` (WhatsApp's ``failed`` status of a message we sent) fails the reply it was,
  with the platform's reason (:func:`chorus.inbox.replies.reply_undelivered`); a
  :class:`DeliveryConfirmed` (a status echoing a reply's reference) confirms a reply whose answer was
  lost (:func:`chorus.inbox.replies.reply_confirmed`);
* every conversation that changed is pushed to the workspace's live connections once per batch, with
  every new message of it; ``InboxItemReceived`` is published for the new inbound messages.

A body that does not parse (or whose WeChat ciphertext is not this app's) is dropped with a log line
(it never will parse: retrying would only move it to the DLQ later); nothing of it is stored. A body
whose work failed is reported failed (the queue redelivers it; every step is idempotent) while the
rest of the batch is kept.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError

from chorus.accounts.service import Account, accounts_by_platform_id
from chorus.events.envelope import DomainEvent
from chorus.inbox.landing import (
    Draft,
    Landed,
    LandingDeps,
    draft,
    land_batch,
    land_edit,
    land_one,
    publish_received,
)
from chorus.inbox.live import ConnectionSender, push_updates
from chorus.inbox.normalized import (
    Deletion,
    DeliveryConfirmed,
    DeliveryFailed,
    InboundEvent,
    InboundMessage,
    ParseResult,
    Revocation,
)
from chorus.inbox.queue import IngestMessage
from chorus.inbox.store import (
    ConversationItem,
    MessageItem,
    conversation_view,
    dedupe_marker,
    get_conversation,
    jsonable,
    message_view,
)
from chorus.inbox.unrouted import keep_aside
from chorus.platforms.webhooks import WEBHOOKS, MalformedWebhook, SignatureError, WebhookSecrets
from chorus.store import keys
from chorus.store.models import AccountItem, bind
from chorus.ttl import TtlCache

log = logging.getLogger(__name__)

ROUTING_TTL_S = 30.0


@dataclass(kw_only=True)
class IngestDeps(LandingDeps):
    secrets: WebhookSecrets
    sender: ConnectionSender | None = None  # None: no live push (unit tests)
    accounts_for: Callable[[str, str], list[Account]] = accounts_by_platform_id
    keep_aside: Callable[[InboundEvent, datetime], bool] = keep_aside  # an event for no account


@dataclass
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    edited: int = 0
    deleted: int = 0
    revoked: int = 0
    undelivered: int = 0  # our replies the platform reported not delivered
    confirmed: int = 0  # our replies whose lost answer the platform's status confirmed
    ignored: int = 0
    unrouted: int = 0
    malformed: int = 0
    pushed: int = 0
    transactions: int = 0  # TransactWriteItems that landed the batch's new messages
    failed: list[int] = field(default_factory=list)  # indexes of the queued bodies to retry
    conversations: list[tuple[str, str]] = field(default_factory=list)


# -------------------------------------------------------------------------------------- parsing
def _polled(platform: str) -> Callable[[list[Any], str], ParseResult]:
    if platform == "mastodon":
        from chorus.platforms.mastodon.notifications import parse_notifications as mastodon

        return mastodon
    if platform == "bluesky":
        from chorus.platforms.bluesky.chat import parse_inbox as bluesky

        return bluesky
    if platform == "douyin":
        from chorus.platforms.douyin.comments import parse_comments as douyin

        return douyin
    if platform == "weibo":
        from chorus.platforms.weibo.comments import parse_comments as weibo

        return weibo
    if platform == "youtube":
        from chorus.platforms.youtube.comments import parse_comments as youtube

        return youtube
    if platform == "tiktok":
        from chorus.platforms.tiktok.comments import parse_comments as tiktok

        return tiktok
    if platform == "sandbox":
        from chorus.platforms.sandbox.notifications import parse_notifications as sandbox

        return sandbox
    raise MalformedWebhook(f"platform: {platform!r} is not polled")


def parse(message: IngestMessage, secrets: WebhookSecrets) -> ParseResult:
    """The normalised events of one queued body (raises :class:`MalformedWebhook`)."""
    if message.source == "poll":
        try:
            items = json.loads(message.body)
        except ValueError as exc:
            raise MalformedWebhook(f"body: not valid JSON ({exc})") from exc
        if not isinstance(items, list):
            raise MalformedWebhook("body: expected a JSON array of notifications")
        return _polled(message.platform)(items, message.account_ref or "")
    if message.platform not in WEBHOOKS:
        raise MalformedWebhook(f"platform: no webhook spec for {message.platform!r}")
    return WEBHOOKS[message.platform].parse(message.body, message.headers, secrets)


# -------------------------------------------------------------------------------------- routing
_routing: TtlCache[tuple[str, str], list[Account]] = TtlCache(ROUTING_TTL_S, cache_empty=False)
# (an account connected a moment from now must be found: a miss is never cached)


def routed_accounts(
    platform: str, ref: str, lookup: Callable[[str, str], list[Account]] = accounts_by_platform_id
) -> list[Account]:
    """The connected accounts a platform's account reference names, read at most every
    ``ROUTING_TTL_S`` per process (a burst of messages for one account reads them once)."""
    return _routing.get((platform, ref), lambda key: lookup(*key))


def _route(message: IngestMessage, platform: str, ref: str, deps: IngestDeps) -> list[Account]:
    """The connected accounts an event is for: every workspace that connected (and so proved) the
    account it names; a polled page only to the workspace whose account was polled. Nothing else: an
    event no account matches goes to no workspace (:mod:`chorus.inbox.unrouted`)."""
    accounts = routed_accounts(platform, ref, deps.accounts_for)
    if message.source == "poll" and message.workspace_id:
        accounts = [a for a in accounts if a.workspace_id == message.workspace_id]
    return accounts


# -------------------------------------------------------------------------------------- ingest
class _Changes:
    """The conversations a batch changed, each pushed once with its new messages."""

    def __init__(self) -> None:
        self.by_conversation: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, workspace_id: str, conv: ConversationItem, message: MessageItem | None = None) -> None:
        entry = self.by_conversation.setdefault((workspace_id, conv.conversation_id), {})
        entry["conversation"] = conversation_view(conv)
        if message is not None:
            entry.setdefault("messages", []).append(message_view(message))
            entry["message"] = entry["messages"][-1]


def ingest_batch(messages: Sequence[IngestMessage], deps: IngestDeps) -> IngestReport:
    """Ingest a queue batch; ``report.failed`` names the bodies to redeliver."""
    report = IngestReport()
    failed: set[int] = set()
    drafts: list[Draft] = []
    changes = _Changes()
    for index, message in enumerate(messages):
        try:
            drafts += _events(index, message, deps, report, changes)
        except Exception:
            log.exception("ingest body failed", extra={"platform": message.platform})
            failed.add(index)
    landed: list[Landed] = []
    try:
        landing = land_batch(drafts, deps)
    except Exception:
        log.exception("inbox batch not landed; landing one at a time", extra={"messages": len(drafts)})
        singles: list[Draft] = drafts
    else:
        landed += landing.landed
        report.duplicates += len(landing.duplicates)
        report.transactions = landing.transactions
        singles = landing.one_at_a_time
    for d in singles:
        try:
            one = land_one(d, deps)
        except Exception:
            log.exception("message not landed", extra={"platform": d.msg.platform})
            failed.add(d.record)
            continue
        if one is None:
            report.duplicates += 1
        else:
            landed.append(one)
    for item in landed:
        report.stored += 1
        changes.add(item.draft.workspace_id, item.conversation, item.draft.message)
    updates: dict[str, list[dict[str, Any]]] = {}
    for (workspace_id, conversation_id), payload in changes.by_conversation.items():
        report.conversations.append((workspace_id, conversation_id))
        updates.setdefault(workspace_id, []).append(jsonable(payload))
    if deps.sender is not None:
        for workspace_id, pushed in updates.items():
            report.pushed += push_updates(workspace_id, pushed, deps.sender)
    publish_received(deps.events, landed)
    report.failed = sorted(failed)
    return report


def _events(
    index: int, message: IngestMessage, deps: IngestDeps, report: IngestReport, changes: _Changes
) -> list[Draft]:
    """The drafts of one queued body's new messages; edits, deletions and revocations applied."""
    try:
        parsed = parse(message, deps.secrets)
    except (MalformedWebhook, SignatureError) as error:  # SignatureError: a ciphertext not ours (WeChat)
        log.warning("ingest body malformed", extra={"platform": message.platform, "reason": str(error)})
        report.malformed += 1
        return []
    report.ignored += len(parsed.ignored)
    received = keys.parse_iso(message.received_at)
    drafts: list[Draft] = []
    for event in parsed.events:
        accounts = _route(message, event.platform, event.account_ref, deps)
        if not accounts:
            report.unrouted += 1
            deps.keep_aside(event, received)
            continue
        for account in accounts:
            ws = account.workspace_id
            if isinstance(event, InboundMessage):
                edited = land_edit(ws, event) if event.edited else None
                if edited is not None:
                    report.edited += 1
                    changes.add(ws, edited[0])
                else:
                    drafts.append(draft(account, event, received, deps, record=index))
            elif isinstance(event, Deletion):
                conv_item = mark_deleted(ws, event, deps)
                if conv_item is not None:
                    report.deleted += 1
                    changes.add(ws, conv_item)
            elif isinstance(event, Revocation):
                disable_account(account, event.reason, deps)
                report.revoked += 1
            elif isinstance(event, DeliveryFailed | DeliveryConfirmed):
                from chorus.inbox import replies  # rarely needed: not on the ingest worker's cold path

                if isinstance(event, DeliveryFailed):
                    changed = replies.reply_undelivered(ws, event, deps.now())
                    report.undelivered += changed is not None
                else:
                    changed = replies.reply_confirmed(ws, event, deps.now())
                    report.confirmed += changed is not None
                if changed is not None:
                    changes.add(ws, changed)
    return drafts


def mark_deleted(ws: str, event: Deletion, deps: IngestDeps) -> ConversationItem | None:
    marker = dedupe_marker(ws, event.platform, event.platform_message_id)
    if marker is None:
        return None
    try:
        MessageItem(keys.workspace_pk(ws), marker.message_sk).update(
            actions=[MessageItem.deleted.set(True)], condition=MessageItem.pk.exists()
        )
    except UpdateError:
        return None
    conv = get_conversation(ws, marker.conversation_id, consistent=True)
    if conv is not None:
        conv.update(actions=[ConversationItem.updated_at.set(deps.now()), ConversationItem.version.add(1)])
    return conv


def disable_account(account: Account, reason: str, deps: IngestDeps) -> None:
    bind()
    AccountItem(keys.workspace_pk(account.workspace_id), keys.account_sk(account.id)).update(
        actions=[
            AccountItem.status.set("disabled"),
            AccountItem.status_reason.set(f"the platform revoked Chorus's access: {reason}"[:500]),
        ]
    )
    _routing.forget()
    if deps.events is not None:
        deps.events.publish(
            [
                DomainEvent(
                    "AccountNeedsReauth",
                    account.workspace_id,
                    {"account_id": account.id, "platform": account.platform, "reason": reason},
                )
            ]
        )
