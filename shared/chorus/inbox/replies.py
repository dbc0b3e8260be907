"""Replies sent from the inbox: one record, one platform call, exactly once, on the conversation's
own channel (DESIGN decision 12, :mod:`chorus.inbox.channels`).

States: ``queued -> sending -> sent | failed``, with ``verifying`` when the outcome of a call is
unknown (timeout after sending) and ``unconfirmed`` when it stays unknown on a channel that documents
no way to look a reply up (the messaging APIs). Every transition is a conditional write on the state
and the message's token (the publisher's pattern, :mod:`chorus.posts.publisher`):

* a reply its platform would refuse (outside the window, no way to reply there) is refused when it is
  made, with the reason, and again just before the call (the window may close while it waits): it
  fails with the reason and nothing is sent;
* the reply's idempotency material (``idem_key``, ``started_at``) is stored with it and its progress
  (``sent_parts``, the platform id as soon as it exists) is persisted before and after the call
  (:class:`ReplyProgress`, docs/exactly_once.md), read back on every retry, never recomputed;
* a redelivered message whose record is no longer ``queued`` with its token does nothing;
* of two workers holding the same message, one wins ``queued -> sending``;
* a worker that died mid-call leaves ``sending``: the redelivery (receive count > 1) verifies: a reply
  whose request never went out (not marked sent) is sent; one marked sent is looked for on the
  platform (``find_sent``, ``VERIFY_LOOKS`` times) before it is sent again, or, where the platform has
  no lookup, left ``unconfirmed`` and never sent twice.

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
from chorus.accounts.grants import grant_credentials, on_auth_error
from chorus.errors import Conflict, NotFound, ValidationFailed
from chorus.inbox import channels, saved
from chorus.inbox import keys as ik
from chorus.inbox.live import ConnectionSender, broadcast
from chorus.inbox.normalized import (
    REPLY_REFERENCE,
    DeliveryConfirmed,
    DeliveryFailed,
    InboundMessage,
    MessageKind,
)
from chorus.inbox.presence import check_collision
from chorus.inbox.queue import ReplyMessage, ReplyQueue
from chorus.inbox.store import (
    ConversationItem,
    MessageItem,
    ReplyItem,
    channel_of,
    conversation_view,
    dedupe_marker,
    get_conversation,
    jsonable,
    last_inbound,
    messages_of,
    reply_view,
)
from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    AuthError,
    PlatformError,
    Progress,
    PublishResult,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.replies import ReplyRequest, ReplySender, sender_for
from chorus.store import keys
from chorus.store.models import bind

log = logging.getLogger(__name__)

MAX_TEXT = 10_000
VERIFY_DELAY_S = 3
VERIFY_LOOKS = 3
"""Looks at the platform's listing for a reply whose answer was lost before concluding it is not there."""


@dataclass
class ReplierDeps:
    queue: ReplyQueue
    sender: ConnectionSender | None = None
    max_attempts: int = 6
    max_receives: int = 5
    human_agent: bool = False  # Meta's HUMAN_AGENT tag may be used (chorus.inbox.settings.meta_human_agent)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class ReplyOutcome:
    reply_id: str
    result: str  # sent | retry | verifying | unconfirmed | failed | stale


# ------------------------------------------------------------------------------------ API side
def create_reply(
    workspace_id: str,
    conversation_id: str,
    text: str,
    created_by: str,
    queue: ReplyQueue,
    in_reply_to: str | None = None,
    now: datetime | None = None,
    template: dict[str, Any] | None = None,
    human_agent: bool | None = None,
    private: bool = False,
    drafted_at: datetime | None = None,
    confirm: bool = False,
) -> dict[str, Any]:
    """Record a reply (``queued``) and hand it to the reply queue (``private``: a private message to the
    author of the comment answered, where the channel has them: :func:`chorus.inbox.channels.plan_private`).

    The conversation's channel decides how the reply goes out; a reply its platform would refuse (outside
    the window, too long, no way to reply there) is refused here with the reason, before anything is
    stored or sent (:func:`chorus.inbox.channels.plan_reply`), and so is one that crossed someone else's
    answer since ``drafted_at`` unless ``confirm`` (:mod:`chorus.inbox.presence`). The reply's
    idempotency material (its key and start time) is persisted with it, before any platform call."""
    if template is not None and not text.strip():
        text = f"[template {template.get('name')} ({template.get('language')})]"
    if not text.strip():
        raise ValidationFailed.on("text", "must not be empty", "required")
    if len(text) > MAX_TEXT:
        raise ValidationFailed.on("text", f"at most {MAX_TEXT} characters", "max_length")
    bind()
    try:
        conv = ConversationItem.get(keys.workspace_pk(workspace_id), ik.conversation_sk(conversation_id))
    except DoesNotExist as exc:
        raise NotFound(f"conversation {conversation_id} not found") from exc
    now = now or datetime.now(UTC)
    channel = channels.get(channel_of(conv))
    if human_agent is None:
        from chorus.inbox.settings import inbox_settings

        human_agent = inbox_settings().meta_human_agent
    channels.plan_reply(
        channel, last_inbound(conv), now, text=text, template=template, human_agent=human_agent
    )  # raises the refusal, with its reason, before anything is stored or sent
    if channel.needs_scope is not None:  # the account's grant may not allow replies (TikTok)
        why = channels.account_refusal(channel, accounts.get_account(workspace_id, conv.account_id).extra)
        if why is not None:
            raise ValidationFailed.on("conversation", why, "reply_unsupported")
    if not confirm:  # someone else answered while this one was written: 409, nothing sent (collision)
        check_collision(workspace_id, conversation_id, drafted_at, created_by,
                        replies_of(workspace_id, conversation_id) if drafted_at else [])  # fmt: skip
    if private:
        reply_to = _private_target(workspace_id, conv, channel, in_reply_to, now)
    elif conv.conv_kind == "dm" and channel.visibility is None:
        reply_to = in_reply_to or conv.conversation_ref  # the private thread itself
    else:  # a Mastodon direct mention is answered on the status, mentioning its author (who else sees it)
        newest = _newest_inbound(workspace_id, conv)
        reply_to = in_reply_to or _reply_target(conv, newest)
        if channel.visibility == "direct" and newest is not None and newest.author_handle:
            text = channels.mentioning(text, newest.author_handle)
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
        channel=channel.name,
        recipient=conv.conversation_ref if conv.conv_kind == "dm" else None,
        template=template,
        private=private or None,
        idem_key=uuid.uuid4().hex,
        started_at=now,
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


def filled_saved_reply(workspace_id: str, conversation_id: str, saved_id: str) -> str:
    """The saved reply's text with its variables filled from the conversation (:mod:`chorus.inbox.saved`)."""
    from chorus.inbox.service import saved_reply_text

    text = saved_reply_text(workspace_id, saved_id)
    if not saved.PLACEHOLDER.search(text):
        return text
    conv = get_conversation(workspace_id, conversation_id)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} not found")
    newest = _newest_inbound(workspace_id, conv)
    account = accounts.get_account(workspace_id, conv.account_id)
    values = saved.values_for(
        newest.author_name if newest else None,
        newest.author_handle if newest else None,
        account.display_name or account.handle or conv.platform,
        conv.platform,
    )
    return saved.fill(text, values)


def _newest_inbound(workspace_id: str, conv: ConversationItem) -> MessageItem | None:
    inbound = [
        m for m in messages_of(workspace_id, conv.conversation_id) if m.direction == "in" and not m.deleted
    ]
    return inbound[-1] if inbound else None


def _private_target(
    workspace_id: str,
    conv: ConversationItem,
    channel: channels.Channel,
    in_reply_to: str | None,
    now: datetime,
) -> str:
    """The comment a private reply answers (``in_reply_to``, else the newest inbound one), once Meta's
    rules allow it: within 7 days of the comment, and only one private reply per comment (409)."""
    inbound = [
        m for m in messages_of(workspace_id, conv.conversation_id) if m.direction == "in" and not m.deleted
    ]
    comment = (
        next((m for m in inbound if m.platform_message_id == in_reply_to), None) if in_reply_to else None
    )
    if comment is None and not in_reply_to and inbound:
        comment = inbound[-1]
    channels.plan_private(channel, comment.created_at if comment else None, now)
    assert comment is not None  # plan_private refused a reply without a comment
    for earlier in replies_of(workspace_id, conv.conversation_id):
        if (
            earlier["private"]
            and earlier["reply_to"] == comment.platform_message_id
            and earlier["state"] != "failed"
        ):
            raise Conflict(
                f"{channel.label.split()[0]} allows one private reply per comment: reply {earlier['id']} "
                "already answers this one; the conversation continues in the inbox once the person answers it"
            )
    return comment.platform_message_id


def _reply_target(conv: ConversationItem, newest: MessageItem | None) -> str:
    """What a reply answers: the newest inbound message (or the post)."""
    if newest is not None:
        return newest.platform_message_id
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


def reply_undelivered(workspace_id: str, event: DeliveryFailed, now: datetime) -> ConversationItem | None:
    """The platform says a message we sent was not delivered after accepting it (WhatsApp's ``failed``
    status): the reply it was fails with the platform's reason. Found through the sent message's dedupe
    marker; None when the message is not a reply of this workspace (or not landed yet)."""
    marker = dedupe_marker(workspace_id, event.platform, event.platform_message_id)
    if marker is None:
        return None
    try:
        message = MessageItem.get(keys.workspace_pk(workspace_id), marker.message_sk, consistent_read=True)
    except DoesNotExist:
        return None
    item = get_reply(workspace_id, message.reply_id) if message.reply_id else None
    if item is None or not _transition(
        item, "failed", ["sent", "unconfirmed"], None, error=event.reason[:500]
    ):
        return None
    conv = get_conversation(workspace_id, marker.conversation_id, consistent=True)
    if conv is not None:
        conv.update(actions=[ConversationItem.updated_at.set(now), ConversationItem.version.add(1)])
    return conv


def reply_confirmed(workspace_id: str, event: DeliveryConfirmed, now: datetime) -> ConversationItem | None:
    """The platform reports a message we sent, echoing a reply's :func:`chorus.inbox.normalized.reply_reference`: a reply
    whose answer was lost (``unconfirmed``, or still ``sending``/``verifying``) is sent, with the
    platform's id, and joins its thread. None when the reference names no such reply of the workspace."""
    if not event.reference.startswith(REPLY_REFERENCE):
        return None
    reply_id, _, key = event.reference.removeprefix(REPLY_REFERENCE).partition(":")
    item = get_reply(workspace_id, reply_id)
    if item is None or (item.idem_key or item.reply_id) != key:
        return None
    if not _transition(item, "sent", ["unconfirmed", "sending", "verifying"], None, token=None,
                       platform_message_id=event.platform_message_id, sent_at=now, error=None,
                       sent_parts=None):  # fmt: skip
        return None  # already sent (or failed) by the replier
    log.info("reply confirmed by the platform", extra={"reply_id": item.reply_id})
    return _record_in_thread(item, PublishResult(platform_post_id=event.platform_message_id), now, None)


# ------------------------------------------------------------------------------------ progress
class ReplyProgress:
    """The store side of :class:`chorus.platforms.base.ProgressStore` for one reply (the publisher's
    ``TargetProgress`` for posts): each mark is one UpdateItem, written before the platform call."""

    def __init__(self, item: ReplyItem) -> None:
        self.item = item

    def _update(self, actions: list[Action]) -> None:
        ReplyItem(self.item.pk, self.item.sk).update(actions=actions, condition=ReplyItem.pk.exists())

    def part_sent(self, part: str) -> None:
        self._update([ReplyItem.sent_parts.add({part})])

    def part_unsent(self, part: str) -> None:
        self._update([ReplyItem.sent_parts.delete({part})])

    def part_landed(self, part: str, platform_id: str, url: str | None) -> None:
        actions: list[Action] = [
            ReplyItem.sent_parts.delete({part}),
            ReplyItem.platform_message_id.set(platform_id),
        ]
        if url:
            actions.append(ReplyItem.url.set(url))
        self._update(actions)


def progress_of(item: ReplyItem) -> Progress:
    """The reply's persisted progress: its key and start time as created (replies made before they were
    stored: the reply id and its creation), what was sent without an answer, what landed."""
    return Progress(
        key=item.idem_key or item.reply_id,
        started_at=item.started_at or item.created_at,
        landed={ROOT: item.platform_message_id} if item.platform_message_id else {},
        sent=set(item.sent_parts or ()),
        root_url=item.url,
        store=ReplyProgress(item),
    )


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


@dataclass(frozen=True)
class _Job:
    creds: AccountCredentials
    sender: ReplySender
    request: ReplyRequest


def _credentials(account: accounts.Account, channel: channels.Channel) -> AccountCredentials:
    """The account's credentials, or those of the grant the channel replies with (TikTok's business)."""
    return grant_credentials(account) if channel.grant is not None else accounts.credentials(account)


def _job(
    item: ReplyItem, plan: channels.ReplyPlan, channel: channels.Channel, creds: AccountCredentials
) -> _Job:
    assert channel.sender is not None  # plan_reply refused a channel without one
    spec = channel.private_sender if item.private else channel.sender
    assert spec is not None  # create_reply refused a private reply where the channel has none
    sender = sender_for(spec, item.platform, channel.visibility)
    request = ReplyRequest(
        reply_id=item.reply_id,
        text=item.text,
        progress=progress_of(item),
        not_before=item.created_at,
        reply_to=item.reply_to,
        recipient=item.recipient,
        tag=plan.tag,
        template=plan.template,
    )
    return _Job(creds, sender, request)


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
    conv = get_conversation(item.workspace_id, item.conversation_id, consistent=True)
    channel = channels.get(item.channel or (channel_of(conv) if conv else item.platform))
    try:  # the platform's rules again, now: the window may have closed while the reply waited
        plan = channels.plan_reply(
            channel, last_inbound(conv) if conv else None, deps.now(), text=item.text,
            template=item.template, human_agent=deps.human_agent,
        )  # fmt: skip
    except ValidationFailed as refused:
        if kind == "send" and ROOT not in (item.sent_parts or ()):
            return _fail(item, refused.errors[0].message if refused.errors else refused.detail, [item.state])
        plan = channels.ReplyPlan(template=item.template)  # a call already went out: only verify it
    job = _job(item, plan, channel, _credentials(account, channel))
    if kind == "verify":
        return _verify(item, job, deps)
    if not _transition(item, "sending", ["queued"], message.token, attempts=int(item.attempts or 0) + 1):
        return ReplyOutcome(item.reply_id, "stale")  # another worker won
    item.attempts = int(item.attempts or 0) + 1
    item.state = "sending"
    try:
        result = job.sender.send(job.creds, job.request)
    except PlatformError as error:
        return _on_error(item, error, job, deps)
    return _sent(item, result, ["sending"], deps)


def _verify(item: ReplyItem, job: _Job, deps: ReplierDeps) -> ReplyOutcome:
    """After an unknown outcome (or a worker that died mid-call): landed, sent for sure, or resend."""
    progress = job.request.progress
    landed = progress.done(ROOT)
    if landed is not None:
        return _sent(item, PublishResult(platform_post_id=landed, url=progress.root_url), [item.state], deps)
    if ROOT not in progress.sent:  # the worker died before the request could go out: send it
        return _requeue(item, "queued", [item.state], 1, deps, verify_looks=0)
    if not job.sender.verifiable:
        return _unconfirmed(item, [item.state])
    try:
        found = job.sender.find_sent(job.creds, job.request)
    except PlatformError as error:
        if (
            isinstance(error, TransientError | UnknownOutcome)
            and int(item.attempts or 0) < deps.max_attempts + 2
        ):
            return _requeue(item, "verifying", [item.state], VERIFY_DELAY_S, deps, kind="verify")
        return _fail(item, f"could not verify the reply: {error.message}", [item.state])
    if found is not None:
        progress.record(ROOT, found.platform_post_id, found.url)
        return _sent(item, found, [item.state], deps)
    looks = int(item.verify_looks or 0) + 1
    if looks < VERIFY_LOOKS:  # an eventually consistent listing: look again before concluding
        return _requeue(item, "verifying", [item.state], VERIFY_DELAY_S * looks, deps, kind="verify",
                        verify_looks=looks)  # fmt: skip
    if int(item.attempts or 0) >= deps.max_attempts:
        return _fail(item, "the reply was not found on the platform after the last attempt", [item.state])
    assert progress.store is not None
    progress.store.part_unsent(ROOT)  # looked VERIFY_LOOKS times: not there, send it again
    return _requeue(item, "queued", [item.state], 1, deps, verify_looks=0)


def _unconfirmed(item: ReplyItem, expect: list[str]) -> ReplyOutcome:
    reason = (
        "the platform may have delivered this reply (its answer was lost) and documents no way to look it "
        "up: it is not sent again; check the conversation on the platform"
    )
    if not _transition(item, "unconfirmed", expect, None, error=reason, token=None):
        return ReplyOutcome(item.reply_id, "stale")
    log.info("reply unconfirmed", extra={"reply_id": item.reply_id})
    return ReplyOutcome(item.reply_id, "unconfirmed")


def _on_error(item: ReplyItem, error: PlatformError, job: _Job, deps: ReplierDeps) -> ReplyOutcome:
    if isinstance(error, UnknownOutcome):
        if not job.sender.verifiable:
            return _unconfirmed(item, ["sending"])
        return _requeue(item, "verifying", ["sending"], VERIFY_DELAY_S, deps, kind="verify")
    if isinstance(error, AuthError):  # the account's token, or only the grant replies use (TikTok)
        on_auth_error(item.workspace_id, item.account_id, error)
        return _fail(item, error.message, ["sending"])
    if isinstance(error, TransientError):
        if int(item.attempts or 0) >= deps.max_attempts:
            return _fail(item, f"gave up after {item.attempts} attempts: {error.message}", ["sending"])
        ceiling = min(600.0, 2.0 * (2 ** max(0, int(item.attempts or 1) - 1)))
        delay = max(1, round(max(random.uniform(ceiling / 2, ceiling), error.retry_after or 0)))
        return _requeue(item, "queued", ["sending"], delay, deps)
    return _fail(item, error.message, ["sending"])


def _requeue(
    item: ReplyItem,
    to: str,
    expect: list[str],
    delay: int,
    deps: ReplierDeps,
    kind: str = "send",
    **fields: Any,
) -> ReplyOutcome:
    token = uuid.uuid4().hex
    if not _transition(item, to, expect, item.token, token=token, **fields):
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
    _record_in_thread(item, result, now, deps.sender)
    return ReplyOutcome(item.reply_id, "sent")


def _tag(item: ReplyItem, message: MessageItem) -> None:
    """Mark ``message`` as the reply's own (an answer from Chorus, never "the platform answered")."""
    try:
        MessageItem(message.pk, message.sk).update(actions=[MessageItem.reply_id.set(item.reply_id)])
    except (UpdateError, PutError):
        log.info("could not tag the reply's message", extra={"reply_id": item.reply_id})


def _record_in_thread(
    item: ReplyItem, result: PublishResult, now: datetime, sender: ConnectionSender | None
) -> ConversationItem | None:
    """The sent reply as an outbound message of its conversation (deduped like any message)."""
    from chorus.inbox.landing import LandingDeps, draft, land_one

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
        raw_type="chorus.private_reply" if item.private else "chorus.reply",
        authored_by_account=True,
    )
    landing = LandingDeps(analyzer=_NoSentiment(), now=lambda: now)
    landed = land_one(draft(account, message, now, landing, person=item.created_by), landing)
    if landed is None:  # the platform's echo was ingested first: it is this reply's message all the same
        marker = dedupe_marker(item.workspace_id, item.platform, result.platform_post_id)
        if marker is not None:
            _tag(item, MessageItem(keys.workspace_pk(item.workspace_id), marker.message_sk))
        return None
    conv_item, msg_item = landed.conversation, landed.draft.message
    _tag(item, msg_item)
    if sender is not None:
        broadcast(
            item.workspace_id,
            "conversation.updated",
            jsonable({"conversation": conversation_view(conv_item)}),
            sender,
        )
    return conv_item


class _NoSentiment:
    """Our own replies are not judged."""

    def analyze(self, text: str) -> Any:
        return None

    def analyze_batch(self, texts: Any) -> list[Any]:
        return []
