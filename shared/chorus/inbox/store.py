"""Inbox persistence: PynamoDB models of the main table and the small repository the inbox uses.

Keys are built in :mod:`chorus.inbox.keys`. Items are mapped to plain dicts (the API's view) here,
explicitly, so the persistence shape can change without the API noticing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist

from chorus.inbox import channels
from chorus.inbox import keys as ik
from chorus.store import keys
from chorus.store.models import MainItem, bind


class ConversationItem(MainItem, discriminator="inbox_conversation"):
    workspace_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    platform = UnicodeAttribute()
    conv_kind = UnicodeAttribute()  # comment | mention | dm | review
    channel = UnicodeAttribute(null=True)  # chorus.inbox.channels: where replies go (set at ingest)
    conversation_ref = UnicodeAttribute()
    post_ref = UnicodeAttribute(null=True)  # the platform's id of our post
    post_id = UnicodeAttribute(null=True)  # the Chorus post it answers (a published target)
    status = UnicodeAttribute(default="open")  # open | pending | closed
    assignee = UnicodeAttribute(null=True)
    tags = JSONAttribute(default=list)
    priority = NumberAttribute(default=0)
    sentiment = UnicodeAttribute(null=True)  # label of the latest inbound message
    sentiment_score = NumberAttribute(null=True)
    preview = UnicodeAttribute(default="")
    last_author = UnicodeAttribute(null=True)
    message_count = NumberAttribute(default=0)
    last_message_at = UTCDateTimeAttribute()
    first_inbound_at = UTCDateTimeAttribute(null=True)
    last_inbound_at = UTCDateTimeAttribute(null=True)  # the person's last message: opens the reply window
    first_response_at = UTCDateTimeAttribute(null=True)
    first_response_s = NumberAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    resolution_s = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)
    applied = JSONAttribute(default=list)  # ids of the latest messages merged in (idempotent merges)
    sla = JSONAttribute(null=True)  # chorus.inbox.sla: the running clocks' due times and the alerts given


class MessageItem(MainItem, discriminator="inbox_message"):
    workspace_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    message_id = UnicodeAttribute()
    platform = UnicodeAttribute()
    platform_message_id = UnicodeAttribute()
    message_kind = UnicodeAttribute()
    direction = UnicodeAttribute()  # in | out
    text = UnicodeAttribute(default="")
    author_id = UnicodeAttribute()
    author_name = UnicodeAttribute(null=True)
    author_handle = UnicodeAttribute(null=True)
    parent_ref = UnicodeAttribute(null=True)
    media = JSONAttribute(default=list)
    created_at = UTCDateTimeAttribute()
    received_at = UTCDateTimeAttribute(null=True)
    sentiment = UnicodeAttribute(null=True)
    sentiment_score = NumberAttribute(null=True)
    language = UnicodeAttribute(null=True)
    sentiment_source = UnicodeAttribute(null=True)  # the backend that scored it: offline | comprehend
    sentiment_original = UnicodeAttribute(null=True)  # the machine's label, once a person overrode it
    sentiment_override = JSONAttribute(null=True)  # the latest override: by, at, from, to
    deleted = BooleanAttribute(default=False)
    edited = BooleanAttribute(default=False)
    raw_type = UnicodeAttribute(default="")
    reply_id = UnicodeAttribute(null=True)  # set on messages sent from the inbox


class DedupeItem(MainItem, discriminator="inbox_dedupe"):
    """One per (workspace, platform, platform message id): the conditional write that makes a
    redelivered webhook (or an overlapping poll) yield one message."""

    conversation_id = UnicodeAttribute()
    message_sk = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    done = BooleanAttribute(default=False)  # the message and its conversation are written


class NoteItem(MainItem, discriminator="inbox_note"):
    workspace_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    note_id = UnicodeAttribute()
    text = UnicodeAttribute()
    author = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class ReplyItem(MainItem, discriminator="inbox_reply"):
    workspace_id = UnicodeAttribute()
    reply_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    platform = UnicodeAttribute()
    text = UnicodeAttribute()
    reply_to = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)  # the conversation's channel when the reply was made
    recipient = UnicodeAttribute(null=True)  # the other party of a private conversation
    template = JSONAttribute(null=True)  # WhatsApp: the approved template chosen in the reply
    private = BooleanAttribute(null=True)  # a private reply to the author of the comment answered
    # Exactly once (decision 11): persisted before the first platform call, read back on every retry.
    idem_key = UnicodeAttribute(null=True)
    started_at = UTCDateTimeAttribute(null=True)
    sent_parts = UnicodeSetAttribute(null=True)  # sent without a known answer: verified before resending
    verify_looks = NumberAttribute(default=0)
    state = UnicodeAttribute()  # queued | sending | verifying | sent | unconfirmed | failed
    token = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    platform_message_id = UnicodeAttribute(null=True)
    url = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()


class SavedReplyItem(MainItem, discriminator="inbox_saved_reply"):
    workspace_id = UnicodeAttribute()
    saved_id = UnicodeAttribute()
    title = UnicodeAttribute()
    text = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class SlaPolicyItem(MainItem, discriminator="inbox_sla"):
    workspace_id = UnicodeAttribute()
    timezone = UnicodeAttribute()
    policy = JSONAttribute()  # chorus.inbox.sla.SlaPolicy.to_dict()
    updated_at = UTCDateTimeAttribute()


class PresenceItem(MainItem, discriminator="inbox_presence"):
    """Someone has a conversation open (or is typing in it); expires unless renewed."""

    workspace_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    user = UnicodeAttribute()
    state = UnicodeAttribute()  # viewing | typing
    since = UTCDateTimeAttribute()
    seen_at = UTCDateTimeAttribute()


class RulesItem(MainItem, discriminator="inbox_rules"):
    workspace_id = UnicodeAttribute()
    rules = JSONAttribute(default=list)
    updated_at = UTCDateTimeAttribute()


class PostLinkItem(MainItem, discriminator="inbox_post_link"):
    workspace_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    platform_post_id = UnicodeAttribute()
    post_id = UnicodeAttribute()


class PollCursorItem(MainItem, discriminator="inbox_poll_cursor"):
    workspace_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    platform = UnicodeAttribute()
    cursor = UnicodeAttribute(null=True)
    polled_at = UTCDateTimeAttribute(null=True)
    tracked_at = UTCDateTimeAttribute(null=True)  # when the account entered the poll index
    active_at = UTCDateTimeAttribute(null=True)  # the last poll that found something new
    next_poll_at = UTCDateTimeAttribute(null=True)  # its age band's next turn (None: every run)


# ---------------------------------------------------------------------------------------------- views
def jsonable(value: Any) -> Any:
    """A view with its datetimes as the API's ISO strings (for live pushes)."""
    if isinstance(value, datetime):
        return keys.iso(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def conversation_view(item: ConversationItem) -> dict[str, Any]:
    channel = channels.get(channel_of(item))
    return {
        "id": item.conversation_id,
        "account_id": item.account_id,
        "platform": item.platform,
        "kind": item.conv_kind,
        "channel": channel.name,
        "reply_via": channel.reply_via,
        "reply_window_ends_at": channels.window_ends_at(channel, last_inbound(item)),
        "conversation_ref": item.conversation_ref,
        "post_ref": item.post_ref,
        "post_id": item.post_id,
        "status": item.status,
        "assignee": item.assignee,
        "tags": list(item.tags or []),
        "priority": int(item.priority or 0),
        "sentiment": item.sentiment,
        "sentiment_score": item.sentiment_score,
        "preview": item.preview,
        "last_author": item.last_author,
        "message_count": int(item.message_count or 0),
        "last_message_at": item.last_message_at,
        "first_inbound_at": item.first_inbound_at,
        "last_inbound_at": last_inbound(item),
        "first_response_at": item.first_response_at,
        "first_response_s": item.first_response_s,
        "closed_at": item.closed_at,
        "resolution_s": item.resolution_s,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "version": int(item.version or 0),
        "sla": sla_view(item),
    }


def sla_view(item: ConversationItem) -> dict[str, Any] | None:
    from chorus.inbox.sla import view

    return view(item)


def channel_of(item: ConversationItem) -> str:
    """The conversation's channel; conversations stored before channels existed get theirs from the
    platform and kind they were opened with."""
    return item.channel or channels.name_for(item.platform, item.conv_kind)


def last_inbound(item: ConversationItem) -> datetime | None:
    """The person's last message (conversations stored before it was kept: their last activity)."""
    if item.last_inbound_at is not None:
        return item.last_inbound_at
    return item.last_message_at if item.first_inbound_at is not None else None


def message_view(item: MessageItem) -> dict[str, Any]:
    return {
        "id": item.message_id,
        "platform": item.platform,
        "platform_message_id": item.platform_message_id,
        "kind": item.message_kind,
        "direction": item.direction,
        "text": "" if item.deleted else item.text,
        "author": {"id": item.author_id, "name": item.author_name, "handle": item.author_handle},
        "parent_ref": item.parent_ref,
        "media": list(item.media or []),
        "created_at": item.created_at,
        "sentiment": item.sentiment,
        "sentiment_score": item.sentiment_score,
        "language": item.language,
        "sentiment_source": item.sentiment_source,
        "sentiment_original": item.sentiment_original,
        "sentiment_override": item.sentiment_override,
        "deleted": bool(item.deleted),
        "edited": bool(item.edited),
        "reply_id": item.reply_id,
    }


def note_view(item: NoteItem) -> dict[str, Any]:
    return {"id": item.note_id, "text": item.text, "author": item.author, "created_at": item.created_at}


def reply_view(item: ReplyItem) -> dict[str, Any]:
    return {
        "id": item.reply_id,
        "conversation_id": item.conversation_id,
        "account_id": item.account_id,
        "text": item.text,
        "reply_to": item.reply_to,
        "channel": item.channel,
        "template": item.template,
        "private": bool(item.private),
        "state": item.state,
        "attempts": int(item.attempts or 0),
        "platform_message_id": item.platform_message_id,
        "url": item.url,
        "error": item.error,
        "created_by": item.created_by,
        "created_at": item.created_at,
        "sent_at": item.sent_at,
    }


# ---------------------------------------------------------------------------------------------- reads
def get_conversation(
    workspace_id: str, conversation: str, consistent: bool = False
) -> ConversationItem | None:
    bind()
    try:
        return ConversationItem.get(
            keys.workspace_pk(workspace_id), ik.conversation_sk(conversation), consistent_read=consistent
        )
    except DoesNotExist:
        return None


def messages_of(workspace_id: str, conversation: str) -> list[MessageItem]:
    bind()
    return [
        m
        for m in MessageItem.query(
            keys.workspace_pk(workspace_id),
            MessageItem.sk.startswith(ik.message_prefix(conversation)),
            consistent_read=True,
        )
        if isinstance(m, MessageItem)
    ]


def notes_of(workspace_id: str, conversation: str) -> list[NoteItem]:
    bind()
    return [
        n
        for n in NoteItem.query(
            keys.workspace_pk(workspace_id), NoteItem.sk.startswith(ik.note_prefix(conversation))
        )
        if isinstance(n, NoteItem)
    ]


def conversations_by_activity(
    workspace_id: str, before: str | None, page_size: int
) -> Iterator[ConversationItem]:
    """The workspace's conversations, most recent activity first, starting below ``before`` (a gsi2sk)."""
    bind()
    condition = MainItem.gsi2sk < before if before else None
    for item in MainItem.calendar_index.query(
        ik.inbox_index_pk(workspace_id),
        range_key_condition=condition,
        scan_index_forward=False,
        page_size=page_size,
    ):
        if isinstance(item, ConversationItem):
            yield item


def dedupe_marker(workspace_id: str, platform: str, platform_message_id: str) -> DedupeItem | None:
    bind()
    try:
        return DedupeItem.get(
            keys.workspace_pk(workspace_id),
            ik.dedupe_sk(platform, platform_message_id),
            consistent_read=True,
        )
    except DoesNotExist:
        return None


def post_link(workspace_id: str, account_id: str, platform_post_id: str) -> str | None:
    bind()
    try:
        item = PostLinkItem.get(
            keys.workspace_pk(workspace_id), ik.post_link_sk(account_id, platform_post_id)
        )
    except DoesNotExist:
        return None
    return item.post_id


def save_post_link(workspace_id: str, account_id: str, platform_post_id: str, post_id: str) -> None:
    bind()
    PostLinkItem(
        keys.workspace_pk(workspace_id),
        ik.post_link_sk(account_id, platform_post_id),
        workspace_id=workspace_id,
        account_id=account_id,
        platform_post_id=platform_post_id,
        post_id=post_id,
    ).save()


def index_fields(workspace_id: str, conversation: str, last_activity: datetime) -> dict[str, str]:
    return {
        "gsi2pk": ik.inbox_index_pk(workspace_id),
        "gsi2sk": ik.inbox_index_sk(last_activity, conversation),
    }
