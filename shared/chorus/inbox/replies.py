"""Replies sent from the inbox: one record, one platform call, exactly once.

States: ``queued -> sending -> sent | failed``, with ``verifying`` when the outcome of a call is
unknown (timeout after sending). Every transition is a conditional write on the state and the
message's token (the publisher's pattern, :mod:`chorus.posts.publisher`):

* a redelivered message whose record is no longer ``queued`` with its token does nothing;
* of two workers holding the same message, one wins ``queued -> sending``;
* a worker that died mid-call leaves ``sending``: the redelivery (receive count > 1) looks for the
  reply on the platform (``find_published`` by the reply id, the adapter's idempotency key) before
  sending again; an unknown outcome goes to ``verifying`` and does the same.

A sent reply becomes an outbound message of the thread, with a dedupe marker on its platform id, so
the platform echoing it back (webhook or poll) does not store it twice; the conversation's
first-response time is recorded.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chorus.accounts import service as accounts
from chorus.errors import NotFound, ValidationFailed
from chorus.inbox import keys as ik
from chorus.inbox.live import ConnectionSender, broadcast
from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.inbox.queue import ReplyMessage, ReplyQueue
from chorus.inbox.store import (
    ConversationItem,
    ReplyItem,
    conversation_view,
    jsonable,
    messages_of,
    reply_view,
)
from chorus.platforms import registry
from chorus.platforms.base import (
    AuthError,
    PlatformError,
    PublishRequest,
    PublishResult,
    TransientError,
    UnknownOutcome,
)
from chorus.store import keys
from chorus.store.models import bind

log = logging.getLogger(__name__)

MAX_TEXT = 10_000
VERIFY_DELAY_S = 3


@dataclass
class ReplierDeps:
    queue: ReplyQueue
    sender: ConnectionSender | None = None
    max_attempts: int = 6
    max_receives: int = 5
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class ReplyOutcome:
    reply_id: str
    result: str  # sent | retry | verifying | failed | stale


# ------------------------------------------------------------------------------------ API side
def create_reply(
    workspace_id: str,
    conversation_id: str,
    text: str,
    created_by: str,
    queue: ReplyQueue,
    in_reply_to: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record a reply (``queued``) and hand it to the reply queue."""
    if not text.strip():
        raise ValidationFailed.on("text", "must not be empty", "required")
    if len(text) > MAX_TEXT:
        raise ValidationFailed.on("text", f"at most {MAX_TEXT} characters", "max_length")
    bind()
    try:
        conv = ConversationItem.get(keys.workspace_pk(workspace_id), ik.conversation_sk(conversation_id))
    except DoesNotExist as exc:
        raise NotFound(f"conversation {conversation_id} not found") from exc
    reply_to = in_reply_to or _reply_target(workspace_id, conv)
    now = now or datetime.now(UTC)
    reply_id = "rp_" + uuid.uuid4().hex[:16]
    token = uuid.uuid4().hex
    item = ReplyItem(
        keys.workspace_pk(workspace_id),
        ik.reply_sk(reply_id),
        workspace_id=workspace_id,
        reply_id=reply_id,
        conversation_id=conversation_id,
        account_id=conv.account_id,
        platform=conv.platform,
        text=text,
        reply_to=reply_to,
        state="queued",
        token=token,
        attempts=0,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        gsi2pk=ik.replies_index_pk(workspace_id, conversation_id),
        gsi2sk=f"{keys.iso(now)}#{reply_id}",
    )
    item.save(condition=ReplyItem.pk.does_not_exist())
    queue.send(ReplyMessage(workspace_id, reply_id, token))
    return reply_view(item)


def _reply_target(workspace_id: str, conv: ConversationItem) -> str:
    """What a reply answers: the DM thread, else the newest inbound message (or the post)."""
    if conv.conv_kind == "dm":
        return conv.conversation_ref
    inbound = [
        m for m in messages_of(workspace_id, conv.conversation_id) if m.direction == "in" and not m.deleted
    ]
    if inbound:
        return inbound[-1].platform_message_id
    return conv.post_ref or conv.conversation_ref


def get_reply(workspace_id: str, reply_id: str) -> ReplyItem | None:
    bind()
    try:
        return ReplyItem.get(keys.workspace_pk(workspace_id), ik.reply_sk(reply_id), consistent_read=True)
    except DoesNotExist:
        return None


def replies_of(workspace_id: str, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's replies, oldest first: one index partition per conversation, so a thread
    never reads the workspace's other replies (issue 14)."""
    bind()
    return [
        reply_view(r)
        for r in ReplyItem.calendar_index.query(ik.replies_index_pk(workspace_id, conversation_id))
        if isinstance(r, ReplyItem) and r.workspace_id == workspace_id
    ]


# ------------------------------------------------------------------------------------ worker side
def _transition(item: ReplyItem, to: str, expect: list[str], expect_token: str | None, **fields: Any) -> bool:
    condition: Condition = ReplyItem.state.is_in(*expect)
    if expect_token is not None:
        condition &= ReplyItem.token == expect_token
    actions: list[Action] = [ReplyItem.state.set(to), ReplyItem.updated_at.set(datetime.now(UTC))]
    for name, value in fields.items():
        attr = getattr(ReplyItem, name)
        actions.append(attr.set(value) if value is not None else attr.remove())
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(getattr(exc, "cause_response_code", "")) or (
            "ConditionalCheckFailed" in str(exc)
        ):
            return False
        raise
    return True


def handle(message: ReplyMessage, receive_count: int, deps: ReplierDeps) -> ReplyOutcome:
    item = get_reply(message.workspace_id, message.reply_id)
    if item is None or item.token != message.token:
        return ReplyOutcome(message.reply_id, "stale")
    try:
        return _handle(message, item, receive_count, deps)
    except Exception as exc:
        if receive_count >= deps.max_receives:
            _fail(
                item,
                f"replier crashed {receive_count} times: {exc!r}"[:500],
                ["queued", "sending", "verifying"],
            )
        raise


def _handle(message: ReplyMessage, item: ReplyItem, receive_count: int, deps: ReplierDeps) -> ReplyOutcome:
    kind = message.kind
    if kind == "send" and item.state == "sending" and receive_count > 1:
        kind = "verify"  # a worker died mid-call: look before sending again
    expected = {"send": ["queued"], "verify": ["verifying", "sending"]}[kind]
    if item.state not in expected:
        return ReplyOutcome(item.reply_id, "stale")
    try:
        account = accounts.get_account(item.workspace_id, item.account_id)
    except NotFound:
        return _fail(item, "the account was removed", [item.state])
    creds = accounts.credentials(account)
    request = PublishRequest(target_id=item.reply_id, text=item.text, reply_to=item.reply_to,
                             not_before=item.created_at)  # fmt: skip
    adapter = registry.publisher(item.platform)
    if kind == "verify":
        try:
            found = adapter.find_published(creds, request)
        except PlatformError as error:
            if (
                isinstance(error, TransientError | UnknownOutcome)
                and int(item.attempts or 0) < deps.max_attempts + 2
            ):
                return _requeue(item, "verifying", [item.state], VERIFY_DELAY_S, deps, kind="verify")
            return _fail(item, f"could not verify the reply: {error.message}", [item.state])
        if found is not None:
            return _sent(item, found, [item.state], deps)
        if int(item.attempts or 0) >= deps.max_attempts:
            return _fail(item, "the reply was not found on the platform after the last attempt", [item.state])
        return _requeue(item, "queued", [item.state], 1, deps)
    if not _transition(item, "sending", ["queued"], message.token, attempts=int(item.attempts or 0) + 1):
        return ReplyOutcome(item.reply_id, "stale")  # another worker won
    item.attempts = int(item.attempts or 0) + 1
    item.state = "sending"
    try:
        result = adapter.publish(creds, request)
    except PlatformError as error:
        return _on_error(item, error, deps)
    if not isinstance(result, PublishResult):
        return _fail(item, "the platform answered with an asynchronous step a reply cannot take", ["sending"])
    return _sent(item, result, ["sending"], deps)


def _on_error(item: ReplyItem, error: PlatformError, deps: ReplierDeps) -> ReplyOutcome:
    if isinstance(error, UnknownOutcome):
        return _requeue(item, "verifying", ["sending"], VERIFY_DELAY_S, deps, kind="verify")
    if isinstance(error, AuthError):
        accounts.mark_needs_reauth(item.workspace_id, item.account_id, error.message)
        return _fail(item, error.message, ["sending"])
    if isinstance(error, TransientError):
        if int(item.attempts or 0) >= deps.max_attempts:
            return _fail(item, f"gave up after {item.attempts} attempts: {error.message}", ["sending"])
        ceiling = min(600.0, 2.0 * (2 ** max(0, int(item.attempts or 1) - 1)))
        delay = max(1, round(max(random.uniform(ceiling / 2, ceiling), error.retry_after or 0)))
        return _requeue(item, "queued", ["sending"], delay, deps)
    return _fail(item, error.message, ["sending"])


def _requeue(
    item: ReplyItem, to: str, expect: list[str], delay: int, deps: ReplierDeps, kind: str = "send"
) -> ReplyOutcome:
    token = uuid.uuid4().hex
    if not _transition(item, to, expect, item.token, token=token):
        return ReplyOutcome(item.reply_id, "stale")
    deps.queue.send(ReplyMessage(item.workspace_id, item.reply_id, token, kind), delay)
    return ReplyOutcome(item.reply_id, "verifying" if to == "verifying" else "retry")


def _fail(item: ReplyItem, reason: str, expect: list[str]) -> ReplyOutcome:
    if not _transition(item, "failed", expect, None, error=reason[:500], token=None):
        return ReplyOutcome(item.reply_id, "stale")
    log.info("reply failed", extra={"reply_id": item.reply_id, "reason": reason})
    return ReplyOutcome(item.reply_id, "failed")


def _sent(item: ReplyItem, result: PublishResult, expect: list[str], deps: ReplierDeps) -> ReplyOutcome:
    now = deps.now()
    if not _transition(item, "sent", expect, item.token, token=None, platform_message_id=result.platform_post_id,
                       url=result.url, sent_at=now, error=None):  # fmt: skip
        return ReplyOutcome(item.reply_id, "stale")
    _record_in_thread(item, result, now, deps)
    return ReplyOutcome(item.reply_id, "sent")


def _record_in_thread(item: ReplyItem, result: PublishResult, now: datetime, deps: ReplierDeps) -> None:
    """The sent reply as an outbound message of its conversation (deduped like any message)."""
    from chorus.inbox.landing import LandingDeps, draft, land_one
    from chorus.inbox.store import MessageItem

    conv = ConversationItem.get(
        keys.workspace_pk(item.workspace_id), ik.conversation_sk(item.conversation_id)
    )
    account = accounts.get_account(item.workspace_id, item.account_id)
    kind = MessageKind.DM if conv.conv_kind == "dm" else MessageKind.REPLY
    message = InboundMessage(
        platform=item.platform,
        account_ref=account.platform_account_id,
        platform_message_id=result.platform_post_id,
        kind=kind,
        conversation_ref=conv.conversation_ref,
        text=item.text,
        created_at=now,
        author_id=account.platform_account_id,
        author_name=account.display_name,
        author_handle=account.handle,
        parent_ref=item.reply_to,
        post_ref=conv.post_ref,
        raw_type="chorus.reply",
        authored_by_account=True,
    )
    landing = LandingDeps(analyzer=_NoSentiment(), now=lambda: now)
    landed = land_one(draft(account, message, now, landing), landing)
    if landed is None:
        return  # the platform's echo was ingested first
    conv_item, msg_item = landed.conversation, landed.draft.message
    try:
        MessageItem(msg_item.pk, msg_item.sk).update(actions=[MessageItem.reply_id.set(item.reply_id)])
    except (UpdateError, PutError):
        log.info("could not tag the reply's message", extra={"reply_id": item.reply_id})
    if deps.sender is not None:
        broadcast(
            item.workspace_id,
            "conversation.updated",
            jsonable({"conversation": conversation_view(conv_item)}),
            deps.sender,
        )


class _NoSentiment:
    """Our own replies are not judged."""

    def analyze(self, text: str) -> Any:
        return None

    def analyze_batch(self, texts: Any) -> list[Any]:
        return []
