"""X listening: poll recent search, ``GET /2/tweets/search/recent`` (the last 7 days), with a bearer token.

Request: ``query`` (X's search syntax, 512 characters on the basic tiers), ``max_results`` (10-100),
``since_id`` / ``until_id`` (exclusive bounds), ``next_token`` (the next, older page),
``tweet.fields=created_at,lang,author_id,note_tweet``, ``expansions=author_id`` and
``user.fields=username``. Answer: ``{data: Tweet[], includes: {users: User[]}, meta: {newest_id,
oldest_id, result_count, next_token?}}``, newest first; no ``data`` when nothing matched. A 429 raises
:class:`~chorus.platforms.base.RateLimited` with the wait from ``x-rate-limit-reset``.

The cursor Chorus stores (a small JSON string): ``since_id`` — the newest tweet returned so far; the
next poll asks for tweets after it and follows ``next_token`` until the pages run out. When a poll stops
at ``max_pages`` first, the cursor also holds ``until_id`` (the oldest tweet reached) and ``pending``
(the newest of the round): the next poll fetches between ``since_id`` and ``until_id`` first, and only
then moves ``since_id`` to ``pending``. Tweet ids grow with time, so nothing is returned twice and
nothing is skipped.

Limits: recent search only reaches back 7 days; a ``since_id`` older than that is refused (HTTP 400
naming ``since_id``), and the poll then starts again from the newest page (the gap is logged).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from chorus.errors import ValidationFailed
from chorus.listening.monitors import Mention, Monitor, MonitorKind, SearchPage, is_phrase
from chorus.platforms.base import PermanentError
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.webhooks import arr, from_iso, ident, obj, opt_obj, req_ident, text_of

logger = logging.getLogger(__name__)

PLATFORM = "x"
API_URL = "https://api.x.com"
ENDPOINT = "/2/tweets/search/recent"
MAX_RESULTS = 100
MAX_PAGES = 10
MAX_QUERY_LENGTH = 512
TWEET_FIELDS = "created_at,lang,author_id,note_tweet"


def tweet_url(tweet_id: str, username: str | None) -> str:
    return (
        f"https://x.com/{username}/status/{tweet_id}"
        if username
        else f"https://x.com/i/web/status/{tweet_id}"
    )


def parse_tweets(body: Mapping[str, Any]) -> list[Mention]:
    """The tweets of one search answer as mentions (authors' usernames from ``includes.users``)."""
    users = {
        ident(u.get("id")): text_of(u.get("username")) or None
        for u in (
            obj(raw, "includes.users[]")
            for raw in arr(opt_obj(body.get("includes"), "includes").get("users"), "includes.users")
        )
    }
    mentions: list[Mention] = []
    for raw in arr(body.get("data"), "data"):
        tweet = obj(raw, "data[]")
        tweet_id = req_ident(tweet.get("id"), "data[].id")
        author_id = req_ident(tweet.get("author_id"), "data[].author_id")
        username = users.get(author_id)
        note = opt_obj(tweet.get("note_tweet"), "data[].note_tweet")
        mentions.append(
            Mention(
                platform=PLATFORM,
                platform_id=tweet_id,
                url=tweet_url(tweet_id, username),
                author_handle=username,
                author_id=author_id,
                text=text_of(note.get("text")) or text_of(tweet.get("text")),
                created_at=from_iso(tweet.get("created_at"), "data[].created_at"),
                lang=text_of(tweet.get("lang")) or None,
            )
        )
    return mentions


def _newer(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if int(a) > int(b) else b


@dataclass(frozen=True)
class _Cursor:
    since_id: str | None = None
    until_id: str | None = None
    pending: str | None = None

    def dump(self) -> str | None:
        if self.since_id is None and self.pending is None:
            return None
        body = {
            k: v
            for k, v in (("since_id", self.since_id), ("until_id", self.until_id), ("pending", self.pending))
            if v
        }
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def load(cls, text: str | None) -> _Cursor:
        if not text:
            return cls()
        try:
            body = json.loads(text)
            values = {k: body.get(k) for k in ("since_id", "until_id", "pending")}
            for value in values.values():
                if value is not None and not (isinstance(value, str) and value.isdigit()):
                    raise ValueError(f"not a tweet id: {value!r}")
        except (ValueError, AttributeError) as exc:
            raise ValueError(f"not an X search cursor: {exc}") from exc
        return cls(**values)


def _since_id_expired(exc: PermanentError) -> bool:
    return exc.status == 400 and "since_id" in exc.message


def search_recent(
    query: str,
    cursor: str | None = None,
    *,
    token: str,
    session: requests.Session | None = None,
    base_url: str = API_URL,
    max_results: int = MAX_RESULTS,
    max_pages: int = MAX_PAGES,
) -> SearchPage:
    """Tweets matching ``query`` that earlier polls (sharing ``cursor``) have not returned, oldest first.

    First poll (``cursor=None``): only the newest page (no back-fill). Raises the
    :mod:`chorus.platforms.base` errors (``RateLimited`` on 429, ``AuthError`` on 401, ...).
    """
    if not query.strip():
        raise ValueError("query must not be empty")
    state = _Cursor.load(cursor)
    http = session or requests.Session()
    try:
        return _poll(http, base_url, token, query, state, max_results, max_pages)
    except PermanentError as exc:
        if state.since_id is None or not _since_id_expired(exc):
            raise
        logger.warning("x_search_since_id_expired", extra={"since_id": state.since_id})
        return _poll(http, base_url, token, query, _Cursor(), max_results, max_pages)


def _poll(
    http: requests.Session,
    base_url: str,
    token: str,
    query: str,
    state: _Cursor,
    max_results: int,
    max_pages: int,
) -> SearchPage:
    url = base_url.rstrip("/") + ENDPOINT
    first_poll = state.since_id is None
    base: dict[str, Any] = {
        "query": query,
        "max_results": max_results,
        "tweet.fields": TWEET_FIELDS,
        "expansions": "author_id",
        "user.fields": "username",
    }
    if state.since_id:
        base["since_id"] = state.since_id
    if state.until_id:
        base["until_id"] = state.until_id
    found: dict[str, Mention] = {}
    oldest: str | None = None
    next_token: str | None = None
    exhausted = False
    for _ in range(max_pages):
        params = dict(base, next_token=next_token) if next_token else base
        resp = call(http, "GET", url, PLATFORM, params=params, headers=bearer(token))
        body = obj(json_body(resp, PLATFORM), "body")
        for mention in parse_tweets(body):
            found[mention.platform_id] = mention
            oldest = (
                mention.platform_id if oldest is None or int(mention.platform_id) < int(oldest) else oldest
            )
        next_token = ident(opt_obj(body.get("meta"), "meta").get("next_token"))
        if first_poll or not next_token:
            exhausted = True
            break
    newest = None
    for tweet_id in found:
        newest = _newer(newest, tweet_id)
    # A fresh round's newest tweet is where the next round starts; a continuation keeps the stored one.
    pending = _newer(newest, state.since_id) if state.until_id is None else state.pending
    if exhausted:
        nxt = _Cursor(since_id=_newer(pending, state.since_id))
    else:
        logger.info("x_search_truncated", extra={"pages": max_pages, "until_id": oldest})
        nxt = _Cursor(since_id=state.since_id, until_id=oldest or state.until_id, pending=pending)
    mentions = tuple(found[i] for i in sorted(found, key=int))
    return SearchPage(mentions=mentions, cursor=nxt.dump(), complete=exhausted)


def _query_term(term: str, *, hashtag_only: bool) -> str:
    if hashtag_only:
        return f"#{term}"
    if is_phrase(term):
        return '"' + term[1:-1].strip().replace('"', "") + '"'
    if " " in term:
        return f"({term})"
    return term


def monitor_query(monitor: Monitor, *, include_retweets: bool = False) -> str:
    """The recent-search query for a monitor: terms ORed, ``-`` exclusions, ``lang:`` and, unless
    ``include_retweets``, ``-is:retweet`` (a retweet repeats a post; its text adds nothing).

    Raises :class:`~chorus.errors.ValidationFailed` on ``terms`` when the query exceeds 512 characters.
    """
    hashtag_only = monitor.kind is MonitorKind.HASHTAG
    terms = [_query_term(t, hashtag_only=hashtag_only) for t in monitor.terms]
    parts = [terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"]
    for term in monitor.exclude:  # a broader server-side query is safe: matching excludes locally too
        words = term[1:-1].strip() if is_phrase(term) else term
        parts.append(f'-"{words}"' if " " in words else f"-{words}")
    if monitor.languages:
        langs = [f"lang:{code.split('-')[0]}" for code in monitor.languages]
        parts.append(langs[0] if len(langs) == 1 else "(" + " OR ".join(langs) + ")")
    if not include_retweets:
        parts.append("-is:retweet")
    query = " ".join(parts)
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationFailed.on(
            "terms",
            f"the X search query would be {len(query)} characters; X allows {MAX_QUERY_LENGTH}",
            "max_length",
        )
    return query
