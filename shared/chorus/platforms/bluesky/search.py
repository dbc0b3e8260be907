"""Bluesky listening: poll ``app.bsky.feed.searchPosts`` for a monitor's terms, gap-free and duplicate-free.

Endpoint (lexicon ``app.bsky.feed.searchPosts``): ``GET {base}/xrpc/app.bsky.feed.searchPosts`` with
``q`` (required), ``sort`` (``latest``), ``since`` (inclusive) / ``until`` (exclusive) — both compared
with the post's ``sortAt``, the earlier of ``record.createdAt`` and ``indexedAt`` —, ``lang``, ``limit``
(1-100) and ``cursor``; the answer is ``{posts: postView[], cursor?, hitsTotal?}``, newest first.

Paging: the lexicon warns that ``cursor`` "may not necessarily allow scrolling through entire result
set", and Bluesky's public AppView rejects unauthenticated searches that carry a cursor (HTTP 403,
bluesky-social/atproto#2838). So this client pages by time instead: the next page asks for ``until`` =
the oldest ``sortAt`` of the previous page plus one millisecond (ties are fetched again and dropped as
already seen). The cursor Chorus stores (a small JSON string) holds:

* ``lower`` — the ``since`` of the next search: the newest ``sortAt`` seen minus an overlap (2 min),
  because a post indexed a little late keeps its earlier ``createdAt`` as ``sortAt`` and would
  otherwise fall behind the marker;
* ``seen`` — URI -> ``sortAt`` of the posts already returned that a later search can return again
  (the overlap, the tie at a page boundary), so nothing is returned twice;
* ``upper`` / ``pending`` — when a poll stops at ``max_pages`` before reaching ``lower``, where the
  next poll continues (``until``) and the ``lower`` to adopt once that older part is done. Nothing
  is skipped.

Limits: posts whose ``createdAt`` is backdated by more than the overlap when they are indexed are
missed (their ``sortAt`` lands before ``lower``). ``public.api.bsky.app`` is the default AppView, but
Bluesky often disables unauthenticated search there (HTTP 403): in production pass the account's
PDS (or ``https://api.bsky.app``) as ``base_url`` with its session ``token``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from chorus.listening.monitors import Mention, Monitor, MonitorKind, SearchPage, is_phrase
from chorus.net.fetch import guarded_session
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.webhooks import MalformedWebhook, arr, from_iso, obj, opt_obj, req_ident, text_of

logger = logging.getLogger(__name__)

PLATFORM = "bluesky"
PUBLIC_APPVIEW_URL = "https://public.api.bsky.app"
ENDPOINT = "/xrpc/app.bsky.feed.searchPosts"
PAGE_LIMIT = 100  # the lexicon's maximum
MAX_PAGES = 10
OVERLAP = timedelta(minutes=2)
MAX_SEEN = 2000  # keeps the stored cursor well under DynamoDB's 400 KB item limit
_MS = timedelta(milliseconds=1)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sort_at(view: Mapping[str, Any]) -> datetime:
    """A postView's ``sortAt``: the earlier of ``record.createdAt`` and ``indexedAt``."""
    indexed = from_iso(view.get("indexedAt"), "posts[].indexedAt")
    record = opt_obj(view.get("record"), "posts[].record")
    try:
        created = from_iso(record.get("createdAt"), "posts[].record.createdAt")
    except MalformedWebhook:
        return indexed
    return min(created, indexed)


def post_url(uri: str, handle: str | None) -> str | None:
    """``https://bsky.app/profile/{handle}/post/{rkey}`` for ``at://{did}/app.bsky.feed.post/{rkey}``."""
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or parts[1] != "app.bsky.feed.post" or not parts[2]:
        return None
    return f"https://bsky.app/profile/{handle or parts[0]}/post/{parts[2]}"


def parse_post(view: Mapping[str, Any]) -> Mention:
    """One ``app.bsky.feed.defs#postView`` as a :class:`Mention`."""
    uri = req_ident(view.get("uri"), "posts[].uri")
    author = obj(view.get("author"), "posts[].author")
    did = req_ident(author.get("did"), "posts[].author.did")
    handle = text_of(author.get("handle")) or None
    record = opt_obj(view.get("record"), "posts[].record")
    langs = arr(record.get("langs"), "posts[].record.langs")
    stamp = record.get("createdAt") or view.get("indexedAt")
    try:
        created = from_iso(stamp, "posts[].record.createdAt")
    except MalformedWebhook:
        created = from_iso(view.get("indexedAt"), "posts[].indexedAt")
    return Mention(
        platform=PLATFORM,
        platform_id=uri,
        url=post_url(uri, handle),
        author_handle=handle,
        author_id=did,
        text=text_of(record.get("text")),
        created_at=created,
        lang=langs[0] if langs and isinstance(langs[0], str) else None,
    )


@dataclass
class _Cursor:
    lower: datetime
    upper: datetime | None = None
    pending: datetime | None = None
    seen: dict[str, datetime] = field(default_factory=dict)

    def dump(self) -> str:
        body: dict[str, Any] = {"v": 1, "lower": _iso(self.lower)}
        if self.upper is not None and self.pending is not None:
            body["upper"], body["pending"] = _iso(self.upper), _iso(self.pending)
        body["seen"] = {uri: _iso(at) for uri, at in sorted(self.seen.items(), key=lambda kv: kv[1])}
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def load(cls, text: str) -> _Cursor:
        try:
            body = json.loads(text)
            upper, pending = body.get("upper"), body.get("pending")
            return cls(
                lower=from_iso(body["lower"], "cursor.lower"),
                upper=from_iso(upper, "cursor.upper") if upper else None,
                pending=from_iso(pending, "cursor.pending") if pending else None,
                seen={str(k): from_iso(v, "cursor.seen") for k, v in dict(body.get("seen") or {}).items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError, MalformedWebhook) as exc:
            raise ValueError(f"not a Bluesky search cursor: {exc}") from exc


@dataclass
class _Round:
    """What one poll fetched: new posts, the newest ``sortAt`` seen, where paging stopped."""

    found: dict[str, tuple[datetime, Mention]] = field(default_factory=dict)
    newest: datetime | None = None
    upper: datetime | None = None
    exhausted: bool = False


def _fetch(
    http: requests.Session,
    url: str,
    headers: dict[str, str],
    base_params: list[tuple[str, str]],
    state: _Cursor,
    *,
    use_since: bool,
    max_pages: int,
) -> _Round:
    got = _Round(upper=state.upper)
    for page in range(max_pages):
        params = list(base_params)
        if use_since:
            params.append(("since", _iso(state.lower)))
        if got.upper is not None:
            params.append(("until", _iso(got.upper)))
        body = obj(
            json_body(call(http, "GET", url, PLATFORM, params=params, headers=headers), PLATFORM), "body"
        )
        oldest: datetime | None = None
        for raw in arr(body.get("posts"), "posts"):
            view = obj(raw, "posts[]")
            uri = req_ident(view.get("uri"), "posts[].uri")
            at = sort_at(view)
            got.newest = at if got.newest is None else max(got.newest, at)
            oldest = at if oldest is None else min(oldest, at)
            if uri not in state.seen and uri not in got.found:
                got.found[uri] = (at, parse_post(view))
        if not use_since or oldest is None or not body.get("cursor"):
            got.exhausted = True
            return got
        next_upper = oldest + _MS
        if got.upper is not None and next_upper >= got.upper:  # a full page within one millisecond
            logger.warning("bluesky_search_page_stuck", extra={"at": _iso(oldest), "page": page})
            got.exhausted = True
            return got
        got.upper = next_upper
    logger.info("bluesky_search_truncated", extra={"pages": max_pages})
    return got


def _next_cursor(state: _Cursor, got: _Round, start: datetime) -> _Cursor:
    """The cursor after this poll; ``start`` is the ``lower`` a finished fresh round moves to."""
    pending = max(state.lower, start) if state.upper is None else (state.pending or state.lower)
    seen = dict(state.seen)
    seen.update({uri: at for uri, (at, _) in got.found.items()})
    if got.exhausted:
        nxt = _Cursor(lower=max(state.lower, pending))
        nxt.seen = {u: at for u, at in seen.items() if at >= nxt.lower}
    else:  # later searches cover [lower, upper) and [pending, ...): keep what they can return again
        nxt = _Cursor(lower=state.lower, upper=got.upper, pending=pending)
        upper = got.upper or pending
        nxt.seen = {u: at for u, at in seen.items() if at >= pending or at <= upper}
    if len(nxt.seen) > MAX_SEEN:
        logger.warning("bluesky_search_seen_trimmed", extra={"seen": len(nxt.seen)})
        nxt.seen = dict(sorted(nxt.seen.items(), key=lambda kv: kv[1])[-MAX_SEEN:])
    return nxt


def search_posts(
    query: str,
    cursor: str | None = None,
    *,
    session: requests.Session | None = None,
    base_url: str = PUBLIC_APPVIEW_URL,
    token: str | None = None,
    lang: str | None = None,
    since: datetime | None = None,
    limit: int = PAGE_LIMIT,
    max_pages: int = MAX_PAGES,
    overlap: timedelta = OVERLAP,
    now: datetime | None = None,
) -> SearchPage:
    """Posts matching ``query`` that earlier polls (sharing ``cursor``) have not returned, oldest first.

    First poll (``cursor=None``): posts since ``since``, or only the newest page when ``since`` is
    None (no back-fill). Raises the :mod:`chorus.platforms.base` errors (``RateLimited`` on 429,
    ``PermanentError`` when the AppView refuses, ...); a cursor that is not ours is ``ValueError``.
    """
    if not query.strip():
        raise ValueError("query must not be empty")
    listen_from_now = cursor is None and since is None
    state = _Cursor.load(cursor) if cursor else _Cursor(lower=since or datetime.min.replace(tzinfo=UTC))
    base_params = [("q", query), ("sort", "latest"), ("limit", str(limit))]
    if lang:
        base_params.append(("lang", lang))
    got = _fetch(
        session or guarded_session(),
        base_url.rstrip("/") + ENDPOINT,
        bearer(token) if token else {},
        base_params,
        state,
        use_since=not listen_from_now,
        max_pages=max_pages,
    )
    if got.newest is not None:
        start = got.newest - overlap
    elif listen_from_now:  # nothing yet: listen from (about) now on
        start = (now or datetime.now(UTC)) - overlap
    else:
        start = state.lower
    mentions = tuple(
        m for _, m in sorted(got.found.values(), key=lambda pair: (pair[0], pair[1].platform_id))
    )
    return SearchPage(
        mentions=mentions, cursor=_next_cursor(state, got, start).dump(), complete=got.exhausted
    )


def monitor_queries(monitor: Monitor) -> list[str]:
    """One ``q`` per term (the search ANDs the words of a query; Chorus matches locally anyway):
    hashtags as ``#tag``, phrases in straight double quotes, handles without ``@``."""
    queries: list[str] = []
    for term in monitor.terms:
        if monitor.kind is MonitorKind.HASHTAG:
            q = f"#{term}"
        elif is_phrase(term):
            q = '"' + term[1:-1].strip().replace('"', "") + '"'
        else:
            q = term.removeprefix("@")
        if q not in queries:
            queries.append(q)
    return queries
