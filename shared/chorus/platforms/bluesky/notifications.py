"""Bluesky replies, mentions and quotes for the inbox, polled from listNotifications.

Bluesky has no webhooks. :func:`fetch_notifications` pages backwards (newest first) with the
lexicon's ``cursor`` until it reaches what the last poll saw, and :func:`parse_notifications` turns
the notification views into messages:

* ``reply`` -> REPLY (``parent_ref`` = ``record.reply.parent.uri``, ``post_ref`` and the conversation =
  ``record.reply.root.uri``);
* ``mention`` -> MENTION; ``quote`` -> MENTION whose ``post_ref`` is the quoted post (ours);
* ``like``, ``repost``, ``follow`` and every other reason are ignored with the reason as given.

The message id is the notifying record's AT-URI, which is also what a reply from Chorus points at.
Bluesky notifications have no increasing id, so the poll marker is the ``indexedAt`` of the newest
notification seen (an ISO-8601 string).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import requests

from chorus.inbox.normalized import InboundMessage, MessageKind, ParseResult
from chorus.net.fetch import guarded_session
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.webhooks import MalformedWebhook, from_iso, ident, obj, opt_obj, text_of

logger = logging.getLogger(__name__)

PLATFORM = "bluesky"
ENDPOINT = "/xrpc/app.bsky.notification.listNotifications"
PAGE_LIMIT = 50
MAX_PAGES = 20
INBOX_REASONS = ("reply", "mention", "quote")
_KINDS = {"reply": MessageKind.REPLY, "mention": MessageKind.MENTION, "quote": MessageKind.MENTION}


def _quoted_uri(record: dict[str, Any]) -> str | None:
    """The quoted post of an ``app.bsky.embed.record`` or ``recordWithMedia`` embed."""
    embed = opt_obj(record.get("embed"), "record.embed")
    inner = opt_obj(embed.get("record"), "record.embed.record")
    if "record" in inner:  # recordWithMedia: { record: { record: strongRef }, media }
        inner = opt_obj(inner.get("record"), "record.embed.record.record")
    return ident(inner.get("uri"))


def parse_notifications(items: Iterable[Any], account_ref: str) -> ParseResult:
    events: list[InboundMessage] = []
    ignored: list[str] = []
    for i, raw in enumerate(items):
        where = f"notifications[{i}]"
        item = obj(raw, where)
        reason = item.get("reason")
        if not isinstance(reason, str) or reason not in _KINDS:
            ignored.append(reason if isinstance(reason, str) and reason else "unknown")
            continue
        uri = ident(item.get("uri"))
        if uri is None:
            raise MalformedWebhook(f"{where}.uri: missing")
        author = obj(item.get("author"), f"{where}.author")
        did = ident(author.get("did"))
        if did is None:
            raise MalformedWebhook(f"{where}.author.did: missing")
        record = opt_obj(item.get("record"), f"{where}.record")
        reply = opt_obj(record.get("reply"), f"{where}.record.reply")
        parent = ident(opt_obj(reply.get("parent"), f"{where}.record.reply.parent").get("uri"))
        root = ident(opt_obj(reply.get("root"), f"{where}.record.reply.root").get("uri"))
        quoted = _quoted_uri(record) if reason == "quote" else None
        stamp = record.get("createdAt") or item.get("indexedAt")
        events.append(
            InboundMessage(
                platform=PLATFORM,
                account_ref=account_ref,
                platform_message_id=uri,
                kind=_KINDS[str(reason)],
                conversation_ref=root or uri,
                text=text_of(record.get("text")),
                created_at=from_iso(stamp, f"{where}.record.createdAt"),
                author_id=did,
                author_name=text_of(author.get("displayName")) or None,
                author_handle=text_of(author.get("handle")) or None,
                parent_ref=parent or quoted,
                post_ref=quoted if reason == "quote" else root,
                raw_type=f"bluesky.{reason}",
                authored_by_account=did == account_ref,
            )
        )
    return ParseResult(events=tuple(events), ignored=tuple(ignored))


def _indexed(item: dict[str, Any]) -> datetime:
    return from_iso(item.get("indexedAt"), "notifications[].indexedAt")


def fetch_notifications(
    session: requests.Session | None,
    base_url: str,
    token: str,
    since_id: str | None,
    *,
    max_pages: int = MAX_PAGES,
) -> tuple[list[dict[str, Any]], str | None]:
    """Reply/mention/quote notifications indexed at or after ``since_id`` (an ``indexedAt`` marker).

    ``base_url`` is the account's PDS (it proxies to the AppView) or an AppView. With
    ``since_id=None`` only the newest page is read. Returns ``(items, newest_marker)``, items oldest
    first; notifications equal to the marker may come back again (the ingest dedupes on the URI).
    """
    http = session or guarded_session()
    url = base_url.rstrip("/") + ENDPOINT
    since = from_iso(since_id, "since_id") if since_id else None
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    for page_number in range(max_pages):
        params: list[tuple[str, str]] = [("limit", str(PAGE_LIMIT))]
        params += [("reasons", reason) for reason in INBOX_REASONS]
        if cursor:
            params.append(("cursor", cursor))
        page = obj(
            json_body(call(http, "GET", url, PLATFORM, params=params, headers=bearer(token)), PLATFORM),
            "body",
        )
        notes = page.get("notifications")
        if not isinstance(notes, list):
            raise MalformedWebhook("notifications: missing")
        reached_marker = False
        for raw in notes:
            item = obj(raw, "notifications[]")
            uri = ident(item.get("uri"))
            if uri is None:
                raise MalformedWebhook("notifications[].uri: missing")
            if since is not None and _indexed(item) < since:
                reached_marker = True
                continue
            found[uri] = item
        cursor = ident(page.get("cursor"))
        if since is None or reached_marker or not notes or not cursor:
            break
        if page_number == max_pages - 1:
            logger.info("bluesky_poll_truncated", extra={"pages": max_pages})
    items = sorted(found.values(), key=_indexed)
    newest = str(items[-1].get("indexedAt")) if items else since_id
    return items, newest
