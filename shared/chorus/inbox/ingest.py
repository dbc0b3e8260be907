"""The ingest worker's domain: one queued webhook body (or polled page) -> stored, threaded messages.

For each normalised event (:mod:`chorus.inbox.normalized`):

* an :class:`InboundMessage` is routed to every workspace that connected the account it arrived for,
  then stored in ONE transaction: the dedupe marker (``attribute_not_exists``), the message and the
  conversation (optimistic ``version`` check). A redelivered webhook fails the marker's condition and
  stores nothing; two workers racing on one conversation retry on the version. Inbound messages get
  a sentiment and the workspace's rules (tags, assignee, priority); the conversation is linked to the
  Chorus post whose published target has the message's ``post_ref``.
* a :class:`Deletion` marks the stored message deleted (the record is kept);
* a :class:`Revocation` disables the account and raises ``AccountNeedsReauth``;
* every conversation that changed is pushed to the workspace's live connections once.

A body that does not parse is dropped with a log line (it never will parse: retrying would only
move it to the DLQ later); nothing of it is stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chorus.accounts.service import Account, accounts_by_platform_id
from chorus.errors import Conflict
from chorus.events.envelope import DomainEvent, EventPublisher
from chorus.inbox import keys as ik
from chorus.inbox import rules as inbox_rules
from chorus.inbox.live import ConnectionSender, broadcast
from chorus.inbox.normalized import Deletion, InboundMessage, MessageKind, ParseResult, Revocation
from chorus.inbox.queue import IngestMessage
from chorus.inbox.stats import count_stored
from chorus.inbox.store import (
    ConversationItem,
    DedupeItem,
    MessageItem,
    conversation_view,
    dedupe_marker,
    get_conversation,
    index_fields,
    jsonable,
    message_view,
    post_link,
)
from chorus.listening.scoring import OFFLINE, Scored, WorkspaceSentiment
from chorus.listening.sentiment import SentimentAnalyzer
from chorus.platforms.webhooks import WEBHOOKS, MalformedWebhook, WebhookSecrets
from chorus.store import keys
from chorus.store.models import AccountItem, bind
from chorus.ttl import TtlCache

log = logging.getLogger(__name__)

MAX_VERSION_RETRIES = 8
MAX_APPLIED = 50
PREVIEW = 140
ROUTING_TTL_S = 30.0


@dataclass
class IngestDeps:
    analyzer: SentimentAnalyzer
    secrets: WebhookSecrets
    sender: ConnectionSender | None = None  # None: no live push (unit tests)
    events: EventPublisher | None = None
    accounts_for: Callable[[str, str], list[Account]] = accounts_by_platform_id
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sentiment: WorkspaceSentiment | None = None  # the workspace's backend; None: ``analyzer`` for all

    def score(self, workspace_id: str, text: str) -> Scored:
        if self.sentiment is not None:
            return self.sentiment.score(workspace_id, text)
        return Scored(self.analyzer.analyze(text), OFFLINE)


@dataclass
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    edited: int = 0
    deleted: int = 0
    revoked: int = 0
    ignored: int = 0
    unrouted: int = 0
    malformed: int = 0
    pushed: int = 0
    conversations: list[tuple[str, str]] = field(default_factory=list)


# -------------------------------------------------------------------------------------- parsing
def _polled(platform: str) -> Callable[[list[Any], str], ParseResult]:
    if platform == "mastodon":
        from chorus.platforms.mastodon.notifications import parse_notifications as mastodon

        return mastodon
    if platform == "bluesky":
        from chorus.platforms.bluesky.notifications import parse_notifications as bluesky

        return bluesky
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


def _route(message: IngestMessage, platform: str, ref: str, deps: IngestDeps) -> list[Account]:
    accounts = _routing.get((platform, ref), lambda key: deps.accounts_for(*key))
    if message.source == "poll" and message.workspace_id:
        accounts = [a for a in accounts if a.workspace_id == message.workspace_id] or accounts
    return accounts


# -------------------------------------------------------------------------------------- ingest
def ingest(message: IngestMessage, deps: IngestDeps) -> IngestReport:
    report = IngestReport()
    try:
        parsed = parse(message, deps.secrets)
    except MalformedWebhook as error:
        log.warning("ingest body malformed", extra={"platform": message.platform, "reason": str(error)})
        report.malformed = 1
        return report
    report.ignored = len(parsed.ignored)
    received = keys.parse_iso(message.received_at)
    changed: dict[tuple[str, str], dict[str, Any]] = {}
    for event in parsed.events:
        accounts = _route(message, event.platform, event.account_ref, deps)
        if not accounts:
            report.unrouted += 1
            log.info("inbound event for no connected account",
                     extra={"platform": event.platform, "account_ref": event.account_ref})  # fmt: skip
            continue
        for account in accounts:
            if isinstance(event, InboundMessage):
                outcome = store_message(account, event, received, deps)
                if outcome is None:
                    report.duplicates += 1
                    continue
                conv, msg, edited = outcome
                if edited:
                    report.edited += 1
                    continue
                report.stored += 1
                changed[(account.workspace_id, conv.conversation_id)] = {
                    "conversation": conversation_view(conv),
                    "message": message_view(msg),
                }
            elif isinstance(event, Deletion):
                conv_item = mark_deleted(account.workspace_id, event, deps)
                if conv_item is not None:
                    report.deleted += 1
                    changed[(account.workspace_id, conv_item.conversation_id)] = {
                        "conversation": conversation_view(conv_item)
                    }
            elif isinstance(event, Revocation):
                disable_account(account, event.reason, deps)
                report.revoked += 1
    for (workspace_id, conversation_id), payload in changed.items():
        report.conversations.append((workspace_id, conversation_id))
        if deps.sender is not None:
            report.pushed += broadcast(workspace_id, "conversation.updated", jsonable(payload), deps.sender)
    return report


def _conv_kind(kind: MessageKind) -> str:
    return "comment" if kind in (MessageKind.COMMENT, MessageKind.REPLY) else kind.value


def _author(msg: InboundMessage) -> str:
    return msg.author_name or msg.author_handle or msg.author_id


def store_message(
    account: Account, msg: InboundMessage, received_at: datetime, deps: IngestDeps
) -> tuple[ConversationItem, MessageItem, bool] | None:
    """Store one message for one workspace account; ``None`` when it was already stored."""
    bind()
    ws = account.workspace_id
    if msg.edited:
        edited = _edit(ws, msg)
        if edited is not None:
            return edited
    conv_id = ik.conversation_id(account.id, msg.conversation_ref)
    inbound = not msg.authored_by_account
    scored = deps.score(ws, msg.text) if inbound and msg.text.strip() else None
    sentiment = scored.result if scored else None
    outcome = (
        inbox_rules.apply(inbox_rules.current_rules(ws), msg.text) if inbound else inbox_rules.RuleOutcome()
    )
    linked = post_link(ws, account.id, msg.post_ref) if msg.post_ref else None
    mid = ik.message_id(msg.platform, msg.platform_message_id)
    msk = ik.message_sk(conv_id, msg.created_at, mid)
    now = deps.now()
    message = MessageItem(
        keys.workspace_pk(ws),
        msk,
        workspace_id=ws,
        conversation_id=conv_id,
        message_id=mid,
        platform=msg.platform,
        platform_message_id=msg.platform_message_id,
        message_kind=msg.kind.value,
        direction="in" if inbound else "out",
        text=msg.text,
        author_id=msg.author_id,
        author_name=msg.author_name,
        author_handle=msg.author_handle,
        parent_ref=msg.parent_ref,
        media=[{"url": m.url, "type": m.type, "platform_media_id": m.platform_media_id} for m in msg.media],
        created_at=msg.created_at,
        received_at=received_at,
        sentiment=sentiment.label.value if sentiment else None,
        sentiment_score=round(sentiment.score, 4) if sentiment else None,
        language=sentiment.language if sentiment else None,
        sentiment_source=scored.source if scored else None,
        raw_type=msg.raw_type,
    )
    marker = DedupeItem(
        keys.workspace_pk(ws),
        ik.dedupe_sk(msg.platform, msg.platform_message_id),
        conversation_id=conv_id,
        message_sk=msk,
        created_at=now,
    )
    try:
        marker.save(condition=DedupeItem.pk.does_not_exist())
    except PutError as exc:
        if not _conditional(exc):
            raise
        existing = dedupe_marker(ws, msg.platform, msg.platform_message_id)
        if existing is None or existing.done:
            return None  # stored before: a redelivery or an overlapping poll
        # else: an earlier attempt stopped half-way; finish it (every step below is idempotent)
    message.save()
    for _ in range(MAX_VERSION_RETRIES):
        current = get_conversation(ws, conv_id, consistent=True)
        if current is not None and mid in (current.applied or []):
            conv = current
            break
        conv = _merged(current, account, msg, conv_id, inbound, sentiment, outcome, linked, now)
        conv.applied = [*(conv.applied or []), mid][-MAX_APPLIED:]
        condition = (
            ConversationItem.version == (int(conv.version) - 1)
            if current is not None
            else ConversationItem.pk.does_not_exist()
        )
        try:
            conv.save(condition=condition)
        except PutError as exc:
            if _conditional(exc):
                continue  # another worker changed the conversation: merge again
            raise
        break
    else:
        raise Conflict(f"conversation {conv_id} kept changing; the message will be retried")
    responded = (
        not inbound and conv.first_response_at is not None and conv.first_response_at == msg.created_at
    )
    counted = count_stored(
        ws,
        account.id,
        (marker.pk, marker.sk),
        at=msg.created_at,
        inbound=inbound,
        sentiment=sentiment.label.value if sentiment else None,
        first_response_s=conv.first_response_s if responded else None,
    )  # marks the marker done and counts the message for reports, once
    if not counted:
        return None  # a delivery racing this one finished first: it pushes and publishes, this one not
    if scored is not None and deps.events is not None:
        # Once per message: only the worker whose marker transaction landed publishes (a redelivery
        # racing this one does not). Published after the message is complete, so the live push is
        # not delayed by a slower PutEvents, and a listener never reads a half-stored message.
        _publish_received(deps.events, account, message)
    return conv, message, False


def _publish_received(events: EventPublisher, account: Account, message: MessageItem) -> None:
    try:
        events.publish([item_received(account, message)])
    except Exception:  # the message is stored and counted: never fail (and redeliver) it for this
        log.exception(
            "InboxItemReceived not published",
            extra={"workspace_id": account.workspace_id, "message_id": message.message_id},
        )


def item_received(account: Account, message: MessageItem) -> DomainEvent:
    """``InboxItemReceived``: a new inbound message with its sentiment (listening matches it against
    the workspace's monitors)."""
    return DomainEvent(
        "InboxItemReceived",
        account.workspace_id,
        {
            "conversation_id": message.conversation_id,
            "message_id": message.message_id,
            "account_id": account.id,
            "platform": message.platform,
            "platform_message_id": message.platform_message_id,
            "kind": message.message_kind,
            "text": message.text[:2000],
            "author_id": message.author_id,
            "author_handle": message.author_handle,
            "created_at": keys.iso(message.created_at),
            "language": message.language,
            "sentiment": message.sentiment,
            "sentiment_source": message.sentiment_source,
        },
        correlation_id=message.message_id,
    )


def _conditional(exc: Exception) -> bool:
    return "ConditionalCheckFailed" in str(getattr(exc, "cause_response_code", "")) or (
        "ConditionalCheckFailed" in str(exc)
    )


def _merged(
    current: ConversationItem | None,
    account: Account,
    msg: InboundMessage,
    conv_id: str,
    inbound: bool,
    sentiment: Any,
    outcome: inbox_rules.RuleOutcome,
    linked: str | None,
    now: datetime,
) -> ConversationItem:
    ws = account.workspace_id
    if current is None:
        conv = ConversationItem(
            keys.workspace_pk(ws),
            ik.conversation_sk(conv_id),
            workspace_id=ws,
            conversation_id=conv_id,
            account_id=account.id,
            platform=msg.platform,
            conv_kind=_conv_kind(msg.kind),
            conversation_ref=msg.conversation_ref,
            status="open",
            tags=[],
            priority=0,
            message_count=0,
            last_message_at=msg.created_at,
            preview="",
            created_at=now,
            updated_at=now,
            version=0,
        )
    else:
        conv = current  # read afresh (consistently) for this attempt
    conv.message_count = int(conv.message_count or 0) + 1
    if conv.message_count == 1 or msg.created_at >= conv.last_message_at:
        conv.last_message_at = msg.created_at
        conv.preview = msg.text[:PREVIEW]
        conv.last_author = _author(msg)
    if msg.post_ref and not conv.post_ref:
        conv.post_ref = msg.post_ref
    if linked and not conv.post_id:
        conv.post_id = linked
    if inbound:
        if conv.first_inbound_at is None or msg.created_at < conv.first_inbound_at:
            conv.first_inbound_at = msg.created_at
        if sentiment is not None:
            conv.sentiment = sentiment.label.value
            conv.sentiment_score = round(sentiment.score, 4)
        if conv.status != "open":
            conv.status = "open"
            conv.closed_at = None
        tags = list(conv.tags or [])
        conv.tags = tags + [t for t in outcome.tags if t not in tags]
        if outcome.assignee and not conv.assignee:
            conv.assignee = outcome.assignee
        conv.priority = max(int(conv.priority or 0), outcome.priority)
    elif (
        conv.first_response_at is None
        and conv.first_inbound_at is not None
        and msg.created_at >= conv.first_inbound_at
    ):
        conv.first_response_at = msg.created_at
        conv.first_response_s = round((msg.created_at - conv.first_inbound_at).total_seconds(), 3)
    conv.updated_at = now
    conv.version = int(conv.version or 0) + 1
    for name, value in index_fields(ws, conv_id, conv.last_message_at).items():
        setattr(conv, name, value)
    return conv


def _edit(ws: str, msg: InboundMessage) -> tuple[ConversationItem, MessageItem, bool] | None:
    marker = dedupe_marker(ws, msg.platform, msg.platform_message_id)
    if marker is None:
        return None  # never saw the original: store the edit as a new message
    item = MessageItem(keys.workspace_pk(ws), marker.message_sk)
    try:
        item.update(
            actions=[MessageItem.text.set(msg.text), MessageItem.edited.set(True)],
            condition=MessageItem.pk.exists(),
        )
    except UpdateError:
        return None
    conv = get_conversation(ws, marker.conversation_id)
    if conv is None:
        return None
    return conv, item, True


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
