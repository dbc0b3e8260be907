"""Landing new messages: the dedupe marker, the message, its conversation and the inbox counters.

Two ways to land, one result (each new message stored, threaded and counted exactly once):

* :func:`land_batch`, a queue batch's new messages at once: ONE BatchGetItem reads their markers,
  conversations and post links, then ONE TransactWriteItems per chunk (a transaction holds at most
  100 items) puts every marker (``attribute_not_exists``, already done), every message, each
  conversation once (all of the chunk's messages for it merged in order, under its ``version``) and
  the counters (summed per item). All of it lands, or none of it. A cancelled transaction (a racing
  delivery wrote a marker, another worker moved a conversation, a concurrent transaction held a
  counter) is read again and retried; redelivered messages are then found done. What keeps failing,
  and a marker an earlier one-at-a-time attempt left half-way, is landed one at a time.
* :func:`land_one`, one message in idempotent steps: the marker (``attribute_not_exists``), the
  message, the conversation (optimistic ``version``, re-merged on a race) and, last, one transaction
  that sets the marker done and counts it (:func:`chorus.inbox.stats.count_stored`). A worker that
  stops half-way is finished by the next delivery.

Why a batch in one transaction: on the embedded runtime (and in DynamoDB's bill) a call costs far more
than an item. One message one at a time is ~6 calls; in a batch of ten it is ~0.2 (see
docs/decision_log.md, "Ingest lands a batch in one transaction").

Only the worker whose transaction set the marker done publishes ``InboxItemReceived`` and pushes the
conversation: a racing redelivery stores, pushes and publishes nothing. Each transaction carries a
ClientRequestToken, so the SDK's own retry of one whose answer was lost (a timeout) is answered as the
first was, not cancelled by the markers it wrote: a landed batch is never mistaken for a duplicate
and left unpushed.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError, UpdateError

from chorus.accounts.service import Account
from chorus.config import get_settings
from chorus.errors import Conflict
from chorus.events.envelope import DomainEvent, EventPublisher
from chorus.inbox import channels, sla
from chorus.inbox import keys as ik
from chorus.inbox import rules as inbox_rules
from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.inbox.stats import Counted, count_stored, counter_writes, pack_after_counting
from chorus.inbox.store import (
    ConversationItem,
    DedupeItem,
    MessageItem,
    dedupe_marker,
    get_conversation,
    index_fields,
    post_link,
)
from chorus.listening.scoring import OFFLINE, Scored, WorkspaceSentiment
from chorus.listening.sentiment import SentimentAnalyzer, SentimentResult
from chorus.store import keys
from chorus.store.models import bind, conditional_failed

log = logging.getLogger(__name__)

MAX_VERSION_RETRIES = 8
MAX_APPLIED = 50
PREVIEW = 140
TRANSACTION_MAX = 100  # items in one TransactWriteItems
BATCH_ATTEMPTS = 4
COUNTER_ITEMS = 6  # per (account, day) at most: day and month of the account and of the workspace, and
# up to two stale packed copies


@dataclass
class LandingDeps:
    """What landing needs; :class:`chorus.inbox.ingest.IngestDeps` adds parsing and pushing."""

    analyzer: SentimentAnalyzer
    events: EventPublisher | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sentiment: WorkspaceSentiment | None = None  # the workspace's backend; None: ``analyzer`` for all
    sla_policy: Callable[[str], sla.SlaPolicy | None] = sla.current_policy

    def score(self, workspace_id: str, text: str) -> Scored:
        if self.sentiment is not None:
            return self.sentiment.score(workspace_id, text)
        return Scored(self.analyzer.analyze(text), OFFLINE)


@dataclass
class Draft:
    """One new message for one workspace's account, judged and ready to land."""

    account: Account
    msg: InboundMessage
    conversation_id: str
    message: MessageItem
    marker: DedupeItem
    inbound: bool
    scored: Scored | None
    rules: inbox_rules.RuleOutcome
    record: int = 0  # the queued message (of a batch) it came from
    policy: sla.SlaPolicy | None = None  # the workspace's service levels (a person's message starts clocks)
    person: str | None = None  # who sent it from Chorus (a reply from the inbox): the team's figures

    @property
    def workspace_id(self) -> str:
        return self.account.workspace_id

    @property
    def sentiment(self) -> SentimentResult | None:
        return self.scored.result if self.scored else None

    @property
    def marker_key(self) -> tuple[str, str]:
        return self.marker.pk, self.marker.sk

    @property
    def conversation_key(self) -> tuple[str, str]:
        return keys.workspace_pk(self.workspace_id), ik.conversation_sk(self.conversation_id)

    @property
    def post_link_key(self) -> tuple[str, str] | None:
        if not self.msg.post_ref:
            return None
        return keys.workspace_pk(self.workspace_id), ik.post_link_sk(self.account.id, self.msg.post_ref)


@dataclass
class Landed:
    draft: Draft
    conversation: ConversationItem  # as this landing left it


@dataclass
class BatchLanding:
    landed: list[Landed] = field(default_factory=list)
    duplicates: list[Draft] = field(default_factory=list)
    one_at_a_time: list[Draft] = field(default_factory=list)  # for :func:`land_one`
    transactions: int = 0


def draft(
    account: Account,
    msg: InboundMessage,
    received_at: datetime,
    deps: LandingDeps,
    record: int = 0,
    person: str | None = None,
) -> Draft:
    """Judge one new message (sentiment, the workspace's rules) and build its items."""
    ws = account.workspace_id
    conv_id = ik.conversation_id(account.id, msg.conversation_ref)
    inbound = not msg.authored_by_account
    scored = deps.score(ws, msg.text) if inbound and msg.text.strip() else None
    sentiment = scored.result if scored else None
    outcome = (
        inbox_rules.apply(inbox_rules.current_rules(ws), msg.text) if inbound else inbox_rules.RuleOutcome()
    )
    mid = ik.message_id(msg.platform, msg.platform_message_id)
    msk = ik.message_sk(conv_id, msg.created_at, mid)
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
        created_at=deps.now(),
    )
    policy = deps.sla_policy(ws) if inbound else None
    return Draft(account, msg, conv_id, message, marker, inbound, scored, outcome, record, policy, person)


# ------------------------------------------------------------------------------ a batch at once
def land_batch(
    drafts: Sequence[Draft],
    deps: LandingDeps,
    *,
    client: Any = None,
    table: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchLanding:
    """Land ``drafts`` in as few transactions as fit; see the module's docstring."""
    from chorus.aws import client as aws_client

    table = table or get_settings().table
    dynamo = client or aws_client("dynamodb")
    result = BatchLanding()
    pending: list[Draft] = []
    seen: set[tuple[str, str]] = set()
    for d in drafts:
        if d.marker_key in seen:
            result.duplicates.append(d)  # the same message twice in one batch
        else:
            seen.add(d.marker_key)
            pending.append(d)
    for attempt in range(BATCH_ATTEMPTS):
        if not pending:
            break
        if attempt:
            sleep(min(0.02 * 2**attempt, 0.5) * random.random())
        snapshot = _read(dynamo, table, pending)
        ready: list[Draft] = []
        for d in pending:
            marker = snapshot.get(d.marker_key)
            if marker is None:
                ready.append(d)
            elif marker.get("done", {}).get("BOOL"):
                result.duplicates.append(d)  # stored before: a redelivery or an overlapping poll
            else:
                result.one_at_a_time.append(d)  # an earlier attempt stopped half-way: finish it
        pending = []
        groups = _by_conversation(ready)
        for chunk in _chunks(groups, result):
            writes, landed = _writes(chunk, snapshot, deps, dynamo, table)
            result.transactions += 1
            try:
                dynamo.transact_write_items(TransactItems=writes, ClientRequestToken=uuid.uuid4().hex)
            except ClientError as exc:
                drafts_of_chunk = [d for group in chunk for d in group]
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    log.warning(
                        "inbox batch not landed", extra={"error": str(exc), "messages": len(drafts_of_chunk)}
                    )
                    result.one_at_a_time.extend(drafts_of_chunk)
                else:
                    pending.extend(drafts_of_chunk)  # read again: who won, and the conversations now
                continue
            result.landed.extend(landed)
            for ws, accounts in _accounts_by_workspace(landed).items():
                pack_after_counting(dynamo, table, ws, accounts, deps.now())
    result.one_at_a_time.extend(pending)
    return result


def _read(dynamo: Any, table: str, drafts: Sequence[Draft]) -> dict[tuple[str, str], dict[str, Any]]:
    from chorus.store.batch import batch_get

    wanted: list[tuple[str, str]] = []
    for d in drafts:
        wanted += [d.marker_key, d.conversation_key]
        if d.post_link_key is not None:
            wanted.append(d.post_link_key)
    return {(i["pk"]["S"], i["sk"]["S"]): i for i in batch_get(dynamo, table, wanted, consistent=True)}


def _by_conversation(drafts: Iterable[Draft]) -> list[list[Draft]]:
    groups: dict[tuple[str, str], list[Draft]] = {}
    for d in drafts:
        groups.setdefault(d.conversation_key, []).append(d)
    return [sorted(group, key=lambda d: d.msg.created_at) for group in groups.values()]


def _day(d: Draft) -> tuple[str, date]:
    return d.account.id, d.msg.created_at.astimezone(UTC).date()


def _size(groups: Sequence[list[Draft]]) -> int:
    """An upper bound of a chunk's transaction items."""
    messages = sum(len(g) for g in groups)
    return 2 * messages + len(groups) + COUNTER_ITEMS * len({_day(d) for g in groups for d in g})


def _chunks(groups: list[list[Draft]], result: BatchLanding) -> Iterable[list[list[Draft]]]:
    chunk: list[list[Draft]] = []
    for group in groups:
        if _size([group]) > TRANSACTION_MAX:
            result.one_at_a_time.extend(group)  # one conversation's many messages: one at a time
            continue
        if chunk and _size([*chunk, group]) > TRANSACTION_MAX:
            yield chunk
            chunk = []
        chunk.append(group)
    if chunk:
        yield chunk


def _writes(
    chunk: Sequence[list[Draft]],
    snapshot: dict[tuple[str, str], dict[str, Any]],
    deps: LandingDeps,
    dynamo: Any,
    table: str,
) -> tuple[list[dict[str, Any]], list[Landed]]:
    now = deps.now()
    writes: list[dict[str, Any]] = []
    landed: list[Landed] = []
    counted: dict[str, list[Counted]] = {}
    for group in chunk:
        raw = snapshot.get(group[0].conversation_key)
        current = ConversationItem.from_raw_data(raw) if raw else None
        read_version = int(current.version or 0) if current is not None else None
        conv = current
        for d in group:
            link = snapshot.get(d.post_link_key) if d.post_link_key else None
            linked = link["post_id"]["S"] if link and "post_id" in link else None
            responded_before = conv.first_response_at if conv is not None else None
            if conv is None or d.message.message_id not in (conv.applied or []):
                conv = merged(conv, d, linked, now)
            responded = not d.inbound and responded_before is None and conv.first_response_at is not None
            marker = {**d.marker.serialize(), "done": {"BOOL": True}}  # landed with everything else
            writes.append(_put(table, marker, "attribute_not_exists(pk)"))
            writes.append(_put(table, d.message.serialize()))
            counted.setdefault(d.workspace_id, []).append(
                Counted(
                    d.account.id,
                    d.msg.created_at,
                    d.inbound,
                    d.sentiment.label.value if d.sentiment else None,
                    conv.first_response_s if responded else None,
                    d.person,
                    sla.met(conv, sla.FIRST) if responded else None,
                )
            )
            landed.append(Landed(d, conv))
        assert conv is not None
        if read_version is None:
            writes.append(_put(table, conv.serialize(), "attribute_not_exists(pk)"))
        else:
            writes.append(
                _put(table, conv.serialize(), "#v = :v", {"#v": "version"}, {":v": {"N": str(read_version)}})
            )
    today = now.astimezone(UTC).date()
    for ws, items in counted.items():
        writes += counter_writes(ws, items, client=dynamo, table=table, today=today)
    return writes, landed


def _put(
    table: str,
    item: dict[str, Any],
    condition: str | None = None,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": table, "Item": item}
    if condition:
        put["ConditionExpression"] = condition
    if names:
        put["ExpressionAttributeNames"] = names
    if values:
        put["ExpressionAttributeValues"] = values
    return {"Put": put}


def _accounts_by_workspace(landed: Iterable[Landed]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in landed:
        out.setdefault(item.draft.workspace_id, []).append(item.draft.account.id)
    return out


# ------------------------------------------------------------------------------ one at a time
def land_one(d: Draft, deps: LandingDeps) -> Landed | None:
    """Land one message in idempotent steps; ``None`` when it was already stored (or a racing
    delivery finished it first)."""
    bind()
    ws = d.workspace_id
    mid = d.message.message_id
    try:
        d.marker.save(condition=DedupeItem.pk.does_not_exist())
    except PutError as exc:
        if not conditional_failed(exc):
            raise
        existing = dedupe_marker(ws, d.msg.platform, d.msg.platform_message_id)
        if existing is None or existing.done:
            return None  # stored before: a redelivery or an overlapping poll
        # else: an earlier attempt stopped half-way; finish it (every step below is idempotent)
    d.message.save()
    linked = post_link(ws, d.account.id, d.msg.post_ref) if d.msg.post_ref else None
    now = deps.now()
    for _ in range(MAX_VERSION_RETRIES):
        current = get_conversation(ws, d.conversation_id, consistent=True)
        if current is not None and mid in (current.applied or []):
            conv = current
            break
        conv = merged(current, d, linked, now)
        condition = (
            ConversationItem.version == (int(conv.version) - 1)
            if current is not None
            else ConversationItem.pk.does_not_exist()
        )
        try:
            conv.save(condition=condition)
        except PutError as exc:
            if conditional_failed(exc):
                continue  # another worker changed the conversation: merge again
            raise
        break
    else:
        raise Conflict(f"conversation {d.conversation_id} kept changing; the message will be retried")
    responded = (
        not d.inbound and conv.first_response_at is not None and conv.first_response_at == d.msg.created_at
    )
    counted = count_stored(
        ws,
        d.account.id,
        d.marker_key,
        at=d.msg.created_at,
        inbound=d.inbound,
        sentiment=d.sentiment.label.value if d.sentiment else None,
        first_response_s=conv.first_response_s if responded else None,
        person=d.person,
        sla_met=sla.met(conv, sla.FIRST) if responded else None,
    )  # marks the marker done and counts the message for reports, once
    if not counted:
        return None  # a delivery racing this one finished first: it pushes and publishes, this one not
    return Landed(d, conv)


def land_edit(ws: str, msg: InboundMessage) -> tuple[ConversationItem, MessageItem] | None:
    """Apply an edit to the stored message; ``None`` when the original was never stored."""
    bind()
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
    return conv, item


# ------------------------------------------------------------------------------ after landing
def publish_received(events: EventPublisher | None, landed: Sequence[Landed]) -> None:
    """``InboxItemReceived`` for the landed inbound messages that were scored, in one call per ten.

    Published after the messages are complete, so the live push is not delayed by a slower PutEvents
    and a listener never reads a half-stored message."""
    scored = [item for item in landed if item.draft.scored is not None]
    if events is None or not scored:
        return
    try:
        events.publish([item_received(item.draft.account, item.draft.message) for item in scored])
    except Exception:  # the messages are stored and counted: never fail (and redeliver) them for this
        log.exception(
            "InboxItemReceived not published",
            extra={"message_ids": [item.draft.message.message_id for item in scored]},
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


# ------------------------------------------------------------------------------ merging
def _conv_kind(kind: MessageKind) -> str:
    return "comment" if kind in (MessageKind.COMMENT, MessageKind.REPLY) else kind.value


def _author(msg: InboundMessage) -> str:
    return msg.author_name or msg.author_handle or msg.author_id


def merged(current: ConversationItem | None, d: Draft, linked: str | None, now: datetime) -> ConversationItem:
    """The conversation with ``d`` merged in (``current`` itself, changed, when there is one)."""
    ws, msg, sentiment, outcome = d.workspace_id, d.msg, d.sentiment, d.rules
    if current is None:
        conv = ConversationItem(
            keys.workspace_pk(ws),
            ik.conversation_sk(d.conversation_id),
            workspace_id=ws,
            conversation_id=d.conversation_id,
            account_id=d.account.id,
            platform=msg.platform,
            conv_kind=_conv_kind(msg.kind),
            channel=channels.name_for(msg.platform, msg.kind),
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
        conv = current
    conv.message_count = int(conv.message_count or 0) + 1
    if conv.message_count == 1 or msg.created_at >= conv.last_message_at:
        conv.last_message_at = msg.created_at
        conv.preview = msg.text[:PREVIEW]
        conv.last_author = _author(msg)
    if msg.post_ref and not conv.post_ref:
        conv.post_ref = msg.post_ref
    if linked and not conv.post_id:
        conv.post_id = linked
    if d.inbound:
        if conv.first_inbound_at is None or msg.created_at < conv.first_inbound_at:
            conv.first_inbound_at = msg.created_at
        if conv.last_inbound_at is None or msg.created_at > conv.last_inbound_at:
            conv.last_inbound_at = msg.created_at  # the reply window runs from here
        if sentiment is not None:
            conv.sentiment = sentiment.label.value
            conv.sentiment_score = round(sentiment.score, 4)
        sla.start(conv, d.policy, msg.created_at, reopened=conv.status == "closed")
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
    conv.applied = [*(conv.applied or []), d.message.message_id][-MAX_APPLIED:]
    for name, value in index_fields(ws, d.conversation_id, conv.last_message_at).items():
        setattr(conv, name, value)
    sla.place(conv)
    return conv
