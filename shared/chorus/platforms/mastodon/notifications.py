"""Mastodon mentions for the inbox: poll ``GET /api/v1/notifications`` and normalise what comes back.

Mastodon has no webhooks for ordinary accounts, so the poller calls :func:`fetch_notifications` with
the newest notification id it has stored and feeds the items to :func:`parse_notifications`.

Paging without gaps: with ``min_id=<last seen>`` Mastodon returns the page *immediately* newer than
that id (``since_id`` would return the newest page and could skip whatever lies between). The
``Link`` header's ``rel="prev"`` URL asks for the next newer page; it is followed until a page comes
back empty. Only links on the same instance are followed (the token is never sent elsewhere).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import requests

from chorus.inbox.normalized import InboundMedia, InboundMessage, MessageKind, ParseResult
from chorus.net.fetch import guarded_session
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.webhooks import MalformedWebhook, arr, from_iso, ident, obj, opt_obj, text_of

logger = logging.getLogger(__name__)

PLATFORM = "mastodon"
PAGE_LIMIT = 40  # Mastodon's maximum for notifications
MAX_PAGES = 25
_MEDIA_TYPES = {"image": "image", "gifv": "video", "video": "video", "audio": "audio"}


class _TextExtractor(HTMLParser):
    """Mastodon status HTML -> plain text: paragraphs become blank lines, ``<br>`` a line break, and
    every text node is kept (the "invisible" spans hold the parts of a shortened URL)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = "".join(extractor.parts).split("\n")
    text = "\n".join(line.strip() for line in lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def _id_key(value: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings of growing length: order by length, then lexically."""
    return len(value), value


def parse_notifications(items: Iterable[Any], account_ref: str) -> ParseResult:
    """Mentions -> MENTION (REPLY when ``in_reply_to_id`` is set, DM when the status is ``direct``);
    every other notification type is ignored with its type as the reason."""
    events: list[InboundMessage] = []
    ignored: list[str] = []
    for i, raw in enumerate(items):
        where = f"notifications[{i}]"
        item = obj(raw, where)
        kind = item.get("type")
        if kind != "mention":
            ignored.append(str(kind or "unknown"))
            continue
        if item.get("status") is None:
            ignored.append("status_deleted")
            continue
        events.append(_message(obj(item["status"], f"{where}.status"), item, account_ref, where))
    return ParseResult(events=tuple(events), ignored=tuple(ignored))


def _message(status: dict[str, Any], item: dict[str, Any], account_ref: str, where: str) -> InboundMessage:
    status_id = ident(status.get("id"))
    if status_id is None:
        raise MalformedWebhook(f"{where}.status.id: missing")
    author = opt_obj(status.get("account") or item.get("account"), f"{where}.status.account")
    author_id = ident(author.get("id"))
    if author_id is None:
        raise MalformedWebhook(f"{where}.status.account.id: missing")
    parent = ident(status.get("in_reply_to_id"))
    parent_account = ident(status.get("in_reply_to_account_id"))
    if status.get("visibility") == "direct":
        kind, conversation = MessageKind.DM, author_id
    elif parent:
        kind, conversation = MessageKind.REPLY, parent
    else:
        kind, conversation = MessageKind.MENTION, status_id
    text = html_to_text(text_of(status.get("content")))
    warning = text_of(status.get("spoiler_text"))
    if warning:
        text = f"[CW: {warning}]\n{text}"
    media = tuple(
        InboundMedia(url=str(m.get("url")), type=_MEDIA_TYPES.get(str(m.get("type")), "other"))
        for m in (
            opt_obj(a, f"{where}.status.media_attachments[]")
            for a in arr(status.get("media_attachments"), f"{where}.status.media_attachments")
        )
        if isinstance(m.get("url"), str)
    )
    stamp = status.get("created_at") or item.get("created_at")
    return InboundMessage(
        platform=PLATFORM,
        account_ref=account_ref,
        platform_message_id=status_id,
        kind=kind,
        conversation_ref=conversation,
        text=text,
        created_at=from_iso(stamp, f"{where}.status.created_at"),
        author_id=author_id,
        author_name=text_of(author.get("display_name")) or None,
        author_handle=text_of(author.get("acct")) or text_of(author.get("username")) or None,
        parent_ref=parent,
        post_ref=parent if parent and parent_account == account_ref else None,
        media=media,
        raw_type=f"mastodon.mention.{status.get('visibility') or 'unknown'}",
        authored_by_account=author_id == account_ref,
    )


def _same_instance(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


def fetch_notifications(
    session: requests.Session | None,
    base_url: str,
    token: str,
    since_id: str | None,
    *,
    max_pages: int = MAX_PAGES,
) -> tuple[list[dict[str, Any]], str | None]:
    """Mention notifications newer than ``since_id`` (all of them, oldest first) and the newest id.

    ``since_id=None`` (first poll) fetches only the newest page: history is not back-filled.
    Returns ``(items, newest_id)``; ``newest_id`` is ``since_id`` when nothing new arrived.
    Raises the :mod:`chorus.platforms.base` errors (``AuthError``, ``RateLimited``, ...).
    """
    http = session or guarded_session()
    base = base_url.rstrip("/")
    url: str | None = f"{base}/api/v1/notifications"
    first: dict[str, Any] = {"types[]": "mention", "limit": PAGE_LIMIT}
    if since_id:
        first["min_id"] = since_id
    params: dict[str, Any] | None = first
    found: dict[str, dict[str, Any]] = {}
    pages = 0
    while url and pages < max_pages:
        resp = call(http, "GET", url, PLATFORM, params=params, headers=bearer(token))
        pages += 1
        page = json_body(resp, PLATFORM)
        if not isinstance(page, list):
            raise MalformedWebhook("notifications: expected a JSON array")
        for raw in page:
            item = obj(raw, "notifications[]")
            item_id = ident(item.get("id"))
            if item_id is None:
                raise MalformedWebhook("notifications[].id: missing")
            found[item_id] = item
        if not page or not since_id:
            break
        prev = resp.links.get("prev", {}).get("url")
        if prev and not _same_instance(prev, base):
            logger.warning("mastodon_link_elsewhere", extra={"base_url": base})
            prev = None
        url, params = prev, None  # the link carries min_id and the filters
    if url and pages >= max_pages:
        logger.info("mastodon_poll_truncated", extra={"pages": pages, "base_url": base})
    ordered = sorted(found, key=_id_key)
    newest = ordered[-1] if ordered else since_id
    if since_id and newest and _id_key(newest) < _id_key(since_id):
        newest = since_id
    return [found[i] for i in ordered], newest
