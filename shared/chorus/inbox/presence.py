"""Collision: who else has a conversation open, and replies that crossed while one was being written.

The web app announces, while a conversation is open, that its person is viewing it or typing a reply
(``POST /inbox/{id}/presence``, renewed every ~20 seconds, ``left`` when they leave). Each announcement
is one small item that expires ``PRESENCE_TTL`` after its last renewal (a closed tab simply stops
renewing) and is pushed to the workspace's live connections as ``conversation.presence`` with everyone
present, so each person sees the others at once. A thread's answer lists them too.

A reply carries ``drafted_at``, when its author began writing it. If someone else's reply to the
conversation was made after that (from Chorus, or on the platform itself, which lands as an outbound
message), the reply is refused with 409 and the replies that crossed it; sending it anyway takes
``confirm: true``. Nothing is stored or sent before that check.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chorus.errors import Conflict, ValidationFailed
from chorus.inbox import keys as ik
from chorus.inbox.live import ConnectionSender, broadcast
from chorus.inbox.store import MessageItem, PresenceItem, jsonable
from chorus.store import keys
from chorus.store.models import bind

PRESENCE_TTL = timedelta(seconds=45)
STATES = ("viewing", "typing", "left")


def present(workspace_id: str, conversation_id: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """Everyone who has the conversation open now, earliest first."""
    bind()
    now = now or datetime.now(UTC)
    found = [
        {"user": p.user, "state": p.state, "since": p.since, "seen_at": p.seen_at}
        for p in PresenceItem.query(
            keys.workspace_pk(workspace_id),
            PresenceItem.sk.startswith(ik.presence_prefix(conversation_id)),
            consistent_read=True,
        )
        if isinstance(p, PresenceItem) and p.seen_at > now - PRESENCE_TTL
    ]
    return sorted(found, key=lambda p: p["since"])


def announce(
    workspace_id: str,
    conversation_id: str,
    user: str,
    state: str,
    sender: ConnectionSender | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``user`` is viewing, typing in, or has left the conversation; everyone present is pushed."""
    if state not in STATES:
        raise ValidationFailed.on("state", f"must be one of {', '.join(STATES)}", "enum")
    bind()
    now = now or datetime.now(UTC)
    pk, sk = keys.workspace_pk(workspace_id), ik.presence_sk(conversation_id, user)
    if state == "left":
        PresenceItem(pk, sk).delete()
    else:  # one write: ``since`` kept from the first announcement, the rest renewed
        PresenceItem(pk, sk).update(
            actions=[
                PresenceItem.kind.set(PresenceItem),  # queries of the subclass filter on it
                PresenceItem.workspace_id.set(workspace_id),
                PresenceItem.conversation_id.set(conversation_id),
                PresenceItem.user.set(user),
                PresenceItem.state.set(state),
                PresenceItem.since.set(PresenceItem.since | now),
                PresenceItem.seen_at.set(now),
                # DynamoDB's TTL deletes it later
                PresenceItem.expires_at.set(now + PRESENCE_TTL + timedelta(minutes=5)),
            ]
        )
    viewers = present(workspace_id, conversation_id, now)
    answer = {"conversation_id": conversation_id, "viewers": viewers}
    if sender is not None:
        broadcast(workspace_id, "conversation.presence", jsonable(answer), sender)
    return answer


class ReplyCollision(Conflict):
    """Someone else answered the conversation while this reply was being written."""

    def __init__(self, crossed: list[dict[str, Any]]) -> None:
        who = ", ".join(sorted({str(c["by"]) for c in crossed}))
        super().__init__(
            f"drafted_at: {who} answered this conversation while your reply was being written; "
            "read their answer, then send again with confirm: true to send yours as well"
        )
        self.crossed = crossed

    def problem(self) -> dict[str, Any]:
        return {**super().problem(), "crossed": jsonable(self.crossed)}


def crossed(
    workspace_id: str,
    conversation_id: str,
    drafted_at: datetime,
    author: str,
    replies: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The answers made since ``drafted_at`` by anyone but ``author``: replies from Chorus (``replies``,
    the conversation's, failed ones left out) and outbound messages written on the platform itself (a
    reply's own message carries its ``reply_id``, also when a poll read it back before the reply
    recorded it: the replier tags it when it records the sent reply)."""
    found = [
        {"by": r["created_by"], "at": r["created_at"], "text": r["text"], "reply_id": r["id"]}
        for r in replies
        if r["created_at"] > drafted_at and r["created_by"] != author and r["state"] != "failed"
    ]
    prefix = ik.message_prefix(conversation_id)
    bind()
    for m in MessageItem.query(
        keys.workspace_pk(workspace_id),
        MessageItem.sk.between(prefix + keys.iso(drafted_at), prefix + "~"),
        consistent_read=True,
    ):
        if (
            isinstance(m, MessageItem)
            and m.direction == "out"
            and m.reply_id is None
            and m.created_at > drafted_at
        ):
            found.append({"by": "platform", "at": m.created_at, "text": m.text, "reply_id": None})
    return found


def check_collision(
    workspace_id: str,
    conversation_id: str,
    drafted_at: datetime | None,
    author: str,
    replies: list[dict[str, Any]],
) -> None:
    """Refuse (409, :class:`ReplyCollision`) a reply that crossed someone else's answer."""
    if drafted_at is None:
        return
    found = crossed(workspace_id, conversation_id, drafted_at, author, replies)
    if found:
        raise ReplyCollision(found)
