"""Sandbox notifications for the inbox (local only): ``GET /api/accounts/{account}/notifications``.

A notification is whatever ``POST /_control/notify`` was given, plus the server's ``id`` (``n1``,
``n2``, ... increasing) and ``created_at``. The fields read here: ``account`` (our account's handle),
``type`` (comment | reply | mention | dm; anything else is ignored), ``text``, ``author``
(``{"id", "name"}`` or a plain id), ``post_id`` (our sandbox post it answers), ``parent_id`` and
``message_id`` (defaults to the notification id).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests

from chorus.inbox.normalized import InboundMessage, MessageKind, ParseResult
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.webhooks import MalformedWebhook, from_iso, ident, obj, text_of

PLATFORM = "sandbox"
_KINDS = {
    "comment": MessageKind.COMMENT,
    "reply": MessageKind.REPLY,
    "mention": MessageKind.MENTION,
    "dm": MessageKind.DM,
}


def _number(note_id: str) -> int:
    digits = note_id.lstrip("n")
    return int(digits) if digits.isdigit() else 0


def fetch_notifications(
    session: requests.Session | None, base_url: str, token: str, account: str, since_id: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Notifications newer than ``since_id``, oldest first, and the newest id (``since_id`` if none)."""
    http = session or requests.Session()
    url = f"{base_url.rstrip('/')}/api/accounts/{account}/notifications"
    params = {"since_id": since_id} if since_id else {}
    page = obj(
        json_body(call(http, "GET", url, PLATFORM, params=params, headers=bearer(token)), PLATFORM), "body"
    )
    notes = page.get("notifications")
    if not isinstance(notes, list):
        raise MalformedWebhook("notifications: missing")
    items = sorted((obj(n, "notifications[]") for n in notes), key=lambda n: _number(str(n.get("id", ""))))
    newest = str(items[-1]["id"]) if items else since_id
    return items, newest


def parse_notifications(items: Iterable[Any], account_ref: str) -> ParseResult:
    events: list[InboundMessage] = []
    ignored: list[str] = []
    for i, raw in enumerate(items):
        where = f"notifications[{i}]"
        note = obj(raw, where)
        kind = _KINDS.get(str(note.get("type") or ""))
        if kind is None:
            ignored.append(str(note.get("type") or "unknown"))
            continue
        note_id = ident(note.get("message_id")) or ident(note.get("id"))
        if note_id is None:
            raise MalformedWebhook(f"{where}.id: missing")
        author = note.get("author")
        author_id = ident(author.get("id")) if isinstance(author, dict) else ident(author)
        if author_id is None:
            raise MalformedWebhook(f"{where}.author: missing")
        author_name = text_of(author.get("name")) or None if isinstance(author, dict) else None
        post = ident(note.get("post_id"))
        parent = ident(note.get("parent_id")) or post
        conversation = author_id if kind is MessageKind.DM else (post or note_id)
        events.append(
            InboundMessage(
                platform=PLATFORM,
                account_ref=ident(note.get("account")) or account_ref,
                platform_message_id=note_id,
                kind=kind,
                conversation_ref=conversation,
                text=text_of(note.get("text")),
                created_at=from_iso(note.get("created_at"), f"{where}.created_at"),
                author_id=author_id,
                author_name=author_name,
                author_handle=author_id,
                parent_ref=parent if kind is not MessageKind.DM else None,
                post_ref=post,
                raw_type=f"sandbox.{kind.value}",
                authored_by_account=author_id == account_ref,
            )
        )
    return ParseResult(events=tuple(events), ignored=tuple(ignored))
