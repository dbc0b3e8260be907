"""The inbox as the API sees it: list and filter conversations, read a thread, assign, tag, change
status, internal notes and saved replies. Every change is an optimistic (``version``) update of the
conversation and is pushed to the workspace's live connections."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chorus.errors import BadRequest, Conflict, FieldError, NotFound, ValidationFailed
from chorus.inbox import channels, saved, sla
from chorus.inbox import keys as ik
from chorus.inbox.live import ConnectionSender, broadcast
from chorus.inbox.store import (
    ConversationItem,
    NoteItem,
    SavedReplyItem,
    conversation_view,
    conversations_by_activity,
    get_conversation,
    jsonable,
    message_view,
    messages_of,
    note_view,
    notes_of,
)
from chorus.store import keys
from chorus.store.models import bind
from chorus.store.pages import Page, PageRequest, prefix_page

STATUSES = ("open", "pending", "closed")
FILTERS = ("status", "platform", "account", "kind", "sentiment", "assignee", "tag", "text", "sla")
SLA_FILTERS = ("breached", "nearing", "ok")
MAX_LIMIT = 100
MAX_READ_PAGES = 20
MAX_TAGS = 30


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None
    platform: str | None = None
    account: str | None = None
    kind: str | None = None
    sentiment: str | None = None
    assignee: str | None = None
    tag: str | None = None
    text: str | None = None
    sla: str | None = None  # breached | nearing | ok (chorus.inbox.sla.flagged)
    visible: frozenset[str] | None = None  # a member limited to some accounts sees only theirs

    @classmethod
    def from_query(cls, params: dict[str, str]) -> InboxFilter:
        values = {name: (params.get(name) or None) for name in FILTERS}
        if values["status"] and values["status"] not in STATUSES:
            raise ValidationFailed.on("status", f"must be one of {', '.join(STATUSES)}", "enum")
        if values["sla"] and values["sla"] not in SLA_FILTERS:
            raise ValidationFailed.on("sla", f"must be one of {', '.join(SLA_FILTERS)}", "enum")
        return cls(**values)  # type: ignore[arg-type]  # FILTERS names the str fields only

    def accepts(self, conv: ConversationItem) -> bool:
        if self.visible is not None and conv.account_id not in self.visible:
            return False
        if self.status and conv.status != self.status:
            return False
        if self.platform and conv.platform != self.platform:
            return False
        if self.account and conv.account_id != self.account:
            return False
        if self.kind and conv.conv_kind != self.kind:
            return False
        if self.sentiment and conv.sentiment != self.sentiment:
            return False
        if self.assignee and (conv.assignee or "") != ("" if self.assignee == "none" else self.assignee):
            return False
        if self.tag and self.tag not in (conv.tags or []):
            return False
        if self.sla and not sla.flagged(conv, self.sla):
            return False
        if self.text:
            needle = self.text.casefold()
            haystack = f"{conv.preview} {conv.last_author or ''}".casefold()
            if needle not in haystack:
                return False
        return True


def _encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError as exc:  # not base64 (or not ASCII at all), not UTF-8 inside
        raise BadRequest(
            "cursor: not a cursor this API gave out", [FieldError("cursor", "not a cursor", "cursor")]
        ) from exc


def list_conversations(
    workspace_id: str, filters: InboxFilter, limit: int = 25, cursor: str | None = None
) -> dict[str, Any]:
    """Newest activity first; ``next_cursor`` continues after the last conversation returned."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.on("limit", f"must be from 1 to {MAX_LIMIT}", "range")
    before = _decode_cursor(cursor) if cursor else None
    found: list[dict[str, Any]] = []
    last_key: str | None = None
    more = False
    for read, conv in enumerate(conversations_by_activity(workspace_id, before, page_size=max(limit, 50)), 1):
        last_key = conv.gsi2sk
        if filters.accepts(conv):
            found.append(conversation_view(conv))
            if len(found) == limit:
                more = True
                break
        if read >= MAX_READ_PAGES * 100:
            more = True
            break
    return {
        "conversations": found,
        "next_cursor": _encode_cursor(last_key) if more and last_key else None,
    }


def thread(workspace_id: str, conversation_id: str) -> dict[str, Any]:
    conv = get_conversation(workspace_id, conversation_id, consistent=True)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} not found")
    from chorus.inbox.presence import present
    from chorus.inbox.replies import replies_of

    view = conversation_view(conv)
    channel = channels.get(view["channel"])
    if channel.needs_scope is not None and view["reply_via"]:  # the reply box says so before anyone types
        from chorus.accounts.service import get_account

        try:
            extra = get_account(workspace_id, conv.account_id).extra
        except NotFound:
            extra = {}
        if channels.account_refusal(channel, extra) is not None:
            view["reply_via"] = None
    return {
        "conversation": view,
        "messages": [message_view(m) for m in messages_of(workspace_id, conversation_id)],
        "notes": [note_view(n) for n in notes_of(workspace_id, conversation_id)],
        "replies": replies_of(workspace_id, conversation_id),
        "viewers": present(workspace_id, conversation_id),
    }


def change_conversation(
    workspace_id: str,
    conversation_id: str,
    mutate: Callable[[ConversationItem], None],
    sender: ConnectionSender | None,
) -> dict[str, Any]:
    """Apply ``mutate`` with an optimistic version check (re-read and retry on a race), then push."""
    for _ in range(5):
        conv = get_conversation(workspace_id, conversation_id, consistent=True)
        if conv is None:
            raise NotFound(f"conversation {conversation_id} not found")
        seen = int(conv.version or 0)
        mutate(conv)
        sla.place(conv)  # closing stops its clocks: no alert is to come
        conv.version = seen + 1
        conv.updated_at = datetime.now(UTC)
        try:
            conv.save(condition=ConversationItem.version == seen)
        except Exception as exc:  # PutError: the condition failed
            if "ConditionalCheckFailed" in str(exc):
                continue
            raise
        view = conversation_view(conv)
        if sender is not None:
            broadcast(workspace_id, "conversation.updated", jsonable({"conversation": view}), sender)
        return view
    raise Conflict("the conversation kept changing; try again")


def assign(
    workspace_id: str, conversation_id: str, assignee: str | None, sender: ConnectionSender | None
) -> dict[str, Any]:
    def mutate(conv: ConversationItem) -> None:
        conv.assignee = assignee or None

    return change_conversation(workspace_id, conversation_id, mutate, sender)


def set_tags(
    workspace_id: str,
    conversation_id: str,
    add: list[str],
    remove: list[str],
    sender: ConnectionSender | None,
) -> dict[str, Any]:
    cleaned = [t.strip() for t in add if t.strip()]

    def mutate(conv: ConversationItem) -> None:
        tags = [t for t in (conv.tags or []) if t not in remove]
        tags += [t for t in cleaned if t not in tags]
        if len(tags) > MAX_TAGS:
            raise ValidationFailed.on("add", f"a conversation has at most {MAX_TAGS} tags", "max_items")
        conv.tags = tags

    return change_conversation(workspace_id, conversation_id, mutate, sender)


def set_status(
    workspace_id: str,
    conversation_id: str,
    status: str,
    sender: ConnectionSender | None,
    now: datetime | None = None,
    by: str | None = None,
) -> dict[str, Any]:
    """Change the status; closing counts the conversation as handled by ``by`` (the team's figures)."""
    if status not in STATUSES:
        raise ValidationFailed.on("status", f"must be one of {', '.join(STATUSES)}", "enum")
    at = now or datetime.now(UTC)
    closed: list[ConversationItem] = []

    def mutate(conv: ConversationItem) -> None:
        closed.clear()
        if status == "closed" and conv.status != "closed":
            conv.closed_at = at
            opened = conv.first_inbound_at or conv.created_at
            conv.resolution_s = round((at - opened).total_seconds(), 3)
            closed.append(conv)
        elif status != "closed":
            conv.closed_at = None
        conv.status = status

    view = change_conversation(workspace_id, conversation_id, mutate, sender)
    if closed and by:
        from chorus.inbox.stats import count_closed

        conv = closed[0]
        count_closed(workspace_id, conv.account_id, by, at, sla.met(conv, sla.RESOLUTION))
    return view


def set_priority(
    workspace_id: str, conversation_id: str, priority: int, sender: ConnectionSender | None
) -> dict[str, Any]:
    if not 0 <= priority <= 3:
        raise ValidationFailed.on("priority", "must be from 0 to 3", "range")

    def mutate(conv: ConversationItem) -> None:
        conv.priority = priority

    return change_conversation(workspace_id, conversation_id, mutate, sender)


def add_note(workspace_id: str, conversation_id: str, text: str, author: str) -> dict[str, Any]:
    if not text.strip():
        raise ValidationFailed.on("text", "must not be empty", "required")
    if get_conversation(workspace_id, conversation_id) is None:
        raise NotFound(f"conversation {conversation_id} not found")
    now = datetime.now(UTC)
    note_id = "nt_" + uuid.uuid4().hex[:12]
    item = NoteItem(
        keys.workspace_pk(workspace_id),
        ik.note_sk(conversation_id, now, note_id),
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        note_id=note_id,
        text=text,
        author=author,
        created_at=now,
    )
    item.save()
    return note_view(item)


# ------------------------------------------------------------------------------------ saved replies
def _saved_view(item: SavedReplyItem) -> dict[str, Any]:
    return {"id": item.saved_id, "title": item.title, "text": item.text, "created_at": item.created_at}


def create_saved_reply(workspace_id: str, title: str, text: str) -> dict[str, Any]:
    if not title.strip():
        raise ValidationFailed.on("title", "must not be empty", "required")
    if not text.strip():
        raise ValidationFailed.on("text", "must not be empty", "required")
    saved.check(text)
    bind()
    saved_id = "sr_" + uuid.uuid4().hex[:12]
    item = SavedReplyItem(
        keys.workspace_pk(workspace_id),
        ik.saved_reply_sk(saved_id),
        workspace_id=workspace_id,
        saved_id=saved_id,
        title=title.strip(),
        text=text,
        created_at=datetime.now(UTC),
    )
    item.save()
    return _saved_view(item)


def list_saved_replies(workspace_id: str) -> list[dict[str, Any]]:
    bind()
    return [
        _saved_view(i)
        for i in SavedReplyItem.query(
            keys.workspace_pk(workspace_id), SavedReplyItem.sk.startswith(ik.saved_reply_sk(""))
        )
        if isinstance(i, SavedReplyItem)
    ]


def saved_replies_page(workspace_id: str, page: PageRequest) -> Page[dict[str, Any]]:
    """One page of the workspace's saved replies (GET /saved_replies)."""
    bind()
    found = prefix_page(
        SavedReplyItem,
        keys.workspace_pk(workspace_id),
        ik.saved_reply_sk(""),
        page,
        keep=lambda i: isinstance(i, SavedReplyItem),
    )
    return Page([_saved_view(i) for i in found.items], found.next_cursor)


def saved_reply_text(workspace_id: str, saved_id: str) -> str:
    bind()
    try:
        return SavedReplyItem.get(keys.workspace_pk(workspace_id), ik.saved_reply_sk(saved_id)).text
    except DoesNotExist as exc:
        raise NotFound(f"saved reply {saved_id} not found") from exc


def delete_saved_reply(workspace_id: str, saved_id: str) -> None:
    bind()
    try:
        SavedReplyItem(keys.workspace_pk(workspace_id), ik.saved_reply_sk(saved_id)).delete(
            condition=SavedReplyItem.pk.exists()
        )
    except Exception as exc:
        if "ConditionalCheckFailed" in str(exc):
            raise NotFound(f"saved reply {saved_id} not found") from exc
        raise


__all__ = [
    "InboxFilter",
    "add_note",
    "assign",
    "create_saved_reply",
    "delete_saved_reply",
    "list_conversations",
    "list_saved_replies",
    "saved_reply_text",
    "set_priority",
    "set_status",
    "set_tags",
    "thread",
]
