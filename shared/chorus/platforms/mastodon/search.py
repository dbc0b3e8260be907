"""Mastodon listening: poll a hashtag timeline, ``GET /api/v1/timelines/tag/:hashtag``.

Mastodon's full-text search only covers posts that opted in and the searcher's own interactions, so
listening on Mastodon follows hashtags. The tag timeline returns Status entities newest first (``limit``
up to 40) and takes ``min_id`` / ``since_id`` / ``max_id``, ``any[]`` (more tags) and ``local``/
``remote``. Whether it needs a token depends on the server (``timeline_preview``), so ``token`` is
optional.

Paging without gaps (the same scheme as the inbox poller): with ``min_id=<newest id seen>`` the server
returns the page *immediately* newer than it (``since_id`` would return the newest page and skip what
lies between), and the ``Link`` header's ``rel="prev"`` URL asks for the next newer page; it is
followed until a page comes back empty, then the newest id seen is the cursor. A poll stopped by
``max_pages`` is still gap-free: its cursor is the newest id it reached and the next poll continues
from there. Links to other hosts are not followed (the token is never sent elsewhere).

Limits: ids are per server. Remote posts get an id derived from their ``created_at`` when they
federate, so a post that reaches this server much later than it was written may sort before the
cursor and be missed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from chorus.listening.monitors import Mention, Monitor, MonitorKind, SearchPage
from chorus.net.fetch import guarded_session
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.mastodon.notifications import html_to_text
from chorus.platforms.webhooks import MalformedWebhook, from_iso, ident, obj, req_ident, text_of

logger = logging.getLogger(__name__)

PLATFORM = "mastodon"
PAGE_LIMIT = 40  # Mastodon's maximum for timelines
MAX_PAGES = 10


def _id_key(value: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings of growing length: order by length, then lexically."""
    return len(value), value


def parse_status(status: Mapping[str, Any]) -> Mention:
    """A Status entity as a :class:`Mention` (plain text; a content warning is kept as a prefix)."""
    status_id = req_ident(status.get("id"), "statuses[].id")
    account = obj(status.get("account"), "statuses[].account")
    text = html_to_text(text_of(status.get("content")))
    warning = text_of(status.get("spoiler_text"))
    if warning:
        text = f"[CW: {warning}]\n{text}"
    return Mention(
        platform=PLATFORM,
        platform_id=status_id,
        url=text_of(status.get("url")) or text_of(status.get("uri")) or None,
        author_handle=text_of(account.get("acct")) or text_of(account.get("username")) or None,
        author_id=req_ident(account.get("id"), "statuses[].account.id"),
        text=text,
        created_at=from_iso(status.get("created_at"), "statuses[].created_at"),
        lang=text_of(status.get("language")) or None,
    )


def _same_host(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


def search_hashtag(
    base_url: str,
    hashtag: str,
    cursor: str | None = None,
    *,
    session: requests.Session | None = None,
    token: str | None = None,
    local_only: bool = False,
    max_pages: int = MAX_PAGES,
) -> SearchPage:
    """Public statuses tagged ``hashtag`` (with or without ``#``) newer than ``cursor``, oldest first.

    ``cursor`` is the newest status id a previous poll returned; ``None`` (first poll) fetches only
    the newest page (no back-fill). Reblogs are skipped (they repeat a status, they do not add one).
    Raises the :mod:`chorus.platforms.base` errors (``RateLimited``, ``AuthError`` when the server
    requires a token, ...).
    """
    tag = hashtag.strip().removeprefix("#")
    if not tag:
        raise ValueError("hashtag must not be empty")
    http = session or guarded_session()
    base = base_url.rstrip("/")
    url: str | None = f"{base}/api/v1/timelines/tag/{quote(tag, safe='')}"
    first: dict[str, Any] = {"limit": PAGE_LIMIT}
    if cursor:
        first["min_id"] = cursor
    if local_only:
        first["local"] = "true"
    params: dict[str, Any] | None = first
    headers = bearer(token) if token else {}
    found: dict[str, Mention] = {}
    pages = 0
    complete = True
    while url:
        if pages >= max_pages:
            complete = False
            logger.info("mastodon_tag_poll_truncated", extra={"pages": pages, "base_url": base})
            break
        resp = call(http, "GET", url, PLATFORM, params=params, headers=headers)
        pages += 1
        page = json_body(resp, PLATFORM)
        if not isinstance(page, list):
            raise MalformedWebhook("statuses: expected a JSON array")
        for raw in page:
            status = obj(raw, "statuses[]")
            if status.get("reblog"):
                continue
            mention = parse_status(status)
            if not cursor or _id_key(mention.platform_id) > _id_key(cursor):
                found[mention.platform_id] = mention
        if not page or not cursor:
            break
        prev = resp.links.get("prev", {}).get("url")
        if prev and not _same_host(prev, base):
            logger.warning("mastodon_link_elsewhere", extra={"base_url": base})
            prev = None
        url, params = prev, None  # the link carries min_id and the filters
    ordered = sorted(found, key=_id_key)
    newest = ordered[-1] if ordered else cursor
    if cursor and newest and _id_key(newest) < _id_key(cursor):
        newest = cursor
    return SearchPage(mentions=tuple(found[i] for i in ordered), cursor=newest, complete=complete)


def monitor_hashtags(monitor: Monitor) -> list[str]:
    """The hashtags to follow for a monitor: every term of a hashtag monitor, the ``#tag`` terms and the
    one-word terms of the others (``acme`` -> ``acme``; phrases and handles have no tag timeline)."""
    tags: list[str] = []
    for term in monitor.terms:
        if monitor.kind is MonitorKind.HASHTAG:
            tag: str | None = term
        elif term.startswith("#"):
            tag = term[1:]
        else:
            tag = term if ident(term) and term.replace("_", "").isalnum() else None
        if tag and tag.casefold() not in {t.casefold() for t in tags}:
            tags.append(tag)
    return tags
