"""Repository of the web app's notifications: one list per person and workspace (``WS#<ws>`` /
``NOTE#<recipient>#<id>``). A notification is created once (a conditional put on an id its caller
derives from what it is about), so a redelivered message never lists it twice, and its e-mail is
claimed once (``emailed_at``) before it is sent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chorus.errors import NotFound
from chorus.store import keys
from chorus.store.models import NotificationItem, bind, conditional_failed
from chorus.store.pages import Page, PageRequest, prefix_page


@dataclass(frozen=True)
class Notification:
    id: str
    workspace_id: str
    recipient: str
    topic: str
    subject: str
    text: str
    links: tuple[str, ...]
    created_at: datetime
    post_id: str | None = None
    account_id: str | None = None
    platform: str | None = None
    read_at: datetime | None = None
    emailed_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "subject": self.subject,
            "text": self.text,
            "links": list(self.links),
            "post_id": self.post_id,
            "account_id": self.account_id,
            "platform": self.platform,
            "created_at": self.created_at,
            "read": self.read_at is not None,
            "read_at": self.read_at,
        }


def _sk(recipient: str, notification_id: str) -> str:
    return f"NOTE#{recipient}#{notification_id}"


def _to_notification(item: NotificationItem) -> Notification:
    return Notification(
        id=item.notification_id,
        workspace_id=item.workspace_id,
        recipient=item.recipient,
        topic=item.topic,
        subject=item.subject,
        text=item.text,
        links=tuple(item.links or ()),
        created_at=item.created_at,
        post_id=item.post_id,
        account_id=item.account_id,
        platform=item.platform,
        read_at=item.read_at,
        emailed_at=item.emailed_at,
    )


def add(note: Notification) -> bool:
    """Store ``note`` unless one with its id is there already; True when this call created it."""
    bind()
    item = NotificationItem(
        keys.workspace_pk(note.workspace_id),
        _sk(note.recipient, note.id),
        workspace_id=note.workspace_id,
        notification_id=note.id,
        recipient=note.recipient,
        topic=note.topic,
        subject=note.subject,
        text=note.text,
        links=list(note.links),
        post_id=note.post_id,
        account_id=note.account_id,
        platform=note.platform,
        created_at=note.created_at,
    )
    try:
        item.save(condition=NotificationItem.pk.does_not_exist())
    except PutError as exc:
        if conditional_failed(exc):
            return False
        raise
    return True


def get(workspace_id: str, recipient: str, notification_id: str) -> Notification:
    bind()
    try:
        item = NotificationItem.get(
            keys.workspace_pk(workspace_id), _sk(recipient, notification_id), consistent_read=True
        )
    except DoesNotExist as exc:
        raise NotFound(f"notification {notification_id} not found") from exc
    return _to_notification(item)


def _set_if(
    workspace_id: str, recipient: str, notification_id: str, actions: list[Any], condition: Any
) -> bool:
    bind()
    item = NotificationItem(keys.workspace_pk(workspace_id), _sk(recipient, notification_id))
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if conditional_failed(exc):
            return False
        raise
    return True


def claim_email(note: Notification, at: datetime) -> bool:
    """Mark the notification's e-mail as sent, if no one did: True for the one caller that sends it."""
    return _set_if(
        note.workspace_id, note.recipient, note.id, [NotificationItem.emailed_at.set(at)],
        NotificationItem.pk.exists() & NotificationItem.emailed_at.does_not_exist(),
    )  # fmt: skip


def release_email(note: Notification) -> None:
    """The e-mail claimed could not be sent: the next delivery of the message claims it again."""
    _set_if(note.workspace_id, note.recipient, note.id, [NotificationItem.emailed_at.remove()], None)


def mark_read(workspace_id: str, recipient: str, notification_id: str, at: datetime) -> Notification:
    """Read (once: reading again keeps the first time). NotFound for another person's notification."""
    _read_once(workspace_id, recipient, notification_id, at)
    return get(workspace_id, recipient, notification_id)


def mark_read_each(workspace_id: str, recipient: str, notification_ids: Iterable[str], at: datetime) -> int:
    """Each of ``notification_ids`` of ``recipient`` read (one conditional update each: reading again
    keeps the first time; an id that is not theirs marks nothing); how many this call marked."""
    return sum(_read_once(workspace_id, recipient, i, at) for i in dict.fromkeys(notification_ids))


def mark_all_read(
    workspace_id: str, recipient: str, before: datetime, at: datetime, limit: int
) -> tuple[int, bool]:
    """``recipient``'s unread notifications dated at or before ``before`` read, at most ``limit`` of them
    (one conditional update each, never a rewrite of the list); how many this call marked, and whether
    unread ones of that time are left (the caller asks again)."""
    bind()
    unread = NotificationItem.query(
        keys.workspace_pk(workspace_id),
        NotificationItem.sk.startswith(_sk(recipient, "")),
        filter_condition=NotificationItem.read_at.does_not_exist() & (NotificationItem.created_at <= before),
    )
    marked = 0
    for seen, item in enumerate(unread):
        if seen == limit:
            return marked, True
        marked += _read_once(workspace_id, recipient, item.notification_id, at)
    return marked, False


def _read_once(workspace_id: str, recipient: str, notification_id: str, at: datetime) -> bool:
    return _set_if(
        workspace_id, recipient, notification_id, [NotificationItem.read_at.set(at)],
        NotificationItem.pk.exists() & NotificationItem.read_at.does_not_exist(),
    )  # fmt: skip


def page(
    workspace_id: str, recipient: str, request: PageRequest, unread_only: bool = False
) -> Page[Notification]:
    """One page of ``recipient``'s notifications, newest first (unread ones only, when asked)."""
    bind()
    keep = (lambda i: i.read_at is None) if unread_only else None
    found = prefix_page(
        NotificationItem,
        keys.workspace_pk(workspace_id),
        _sk(recipient, ""),
        request,
        newest_first=True,
        keep=keep,
    )
    return Page([_to_notification(i) for i in found.items], found.next_cursor)
