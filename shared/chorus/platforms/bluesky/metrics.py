"""Bluesky metrics from the AppView (XRPC queries).

* posts: ``GET /xrpc/app.bsky.feed.getPosts?uris=...&uris=...`` - up to 25 AT-URIs a call (lexicon
  ``maxLength``). likeCount -> likes, repostCount -> shares, replyCount -> comments, quoteCount -> quotes,
  bookmarkCount -> saves. The counts are optional in ``postView``: a missing field stays absent, never 0.
  Posts the AppView cannot return (deleted, taken down) are simply missing from ``posts``.
* account: ``GET /xrpc/app.bsky.actor.getProfile?actor={did}``: followersCount -> followers,
  followsCount -> follows.
* timeline (:class:`~chorus.platforms.base.TimelineReader`): ``GET /xrpc/app.bsky.feed.getAuthorFeed
  ?actor={did}&limit=100&filter=posts_with_replies`` (lexicon: limit 1..100), older pages by ``cursor``
  while they reach ``since``; feed items with a ``reason`` (reposts, pins) or another author are skipped.

Where: when the account has a PDS (``creds.base_url``), the call goes there with the session's access
token and the PDS proxies it to the AppView; otherwise to the public AppView without any token (counts
are public), so a token is never sent to a host that did not issue it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from chorus.net.fetch import guarded_session
from chorus.platforms.base import (
    TIMELINE_MAX_PAGES,
    AccountCredentials,
    MetricPoint,
    MetricScope,
    TimelinePost,
    counted_points,
    newest_first,
    timeline_time,
)
from chorus.platforms.bluesky.search import post_url
from chorus.platforms.http import batched, bearer, call, json_body

PLATFORM = "bluesky"
PUBLIC_APPVIEW_URL = "https://public.api.bsky.app"
MAX_URIS_PER_REQUEST = 25
FEED_PAGE = 100  # getAuthorFeed's maximum ``limit``

POST_METRICS: Mapping[str, str] = {
    "likeCount": "likes",
    "repostCount": "shares",
    "replyCount": "comments",
    "quoteCount": "quotes",
    "bookmarkCount": "saves",
}
PROFILE_METRICS: Mapping[str, str] = {"followersCount": "followers", "followsCount": "follows"}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class BlueskyMetrics:
    """:class:`~chorus.platforms.base.MetricsCollector` for Bluesky (``creds.account_id`` = DID)."""

    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str = PUBLIC_APPVIEW_URL,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._session = session or guarded_session()
        self.base_url = base_url.rstrip("/")
        self._clock = clock

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        now = self._clock()
        body = self._query(creds, "app.bsky.actor.getProfile", {"actor": creds.account_id})
        if not isinstance(body, dict):
            return []
        return counted_points(MetricScope.ACCOUNT, creds.account_id, body, PROFILE_METRICS, now)

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = self._clock()
        points: list[MetricPoint] = []
        for chunk in batched(list(dict.fromkeys(platform_post_ids)), MAX_URIS_PER_REQUEST):
            body = self._query(creds, "app.bsky.feed.getPosts", {"uris": chunk})
            posts = body.get("posts") if isinstance(body, dict) else None
            for view in posts if isinstance(posts, list) else []:
                if isinstance(view, dict) and isinstance(view.get("uri"), str):
                    points += counted_points(MetricScope.POST, view["uri"], view, POST_METRICS, now)
        return points

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        params: dict[str, str | list[str]] = {
            "actor": creds.account_id,
            "limit": str(FEED_PAGE),
            "filter": "posts_with_replies",
        }
        found: list[TimelinePost] = []
        for _ in range(TIMELINE_MAX_PAGES):
            body = self._query(creds, "app.bsky.feed.getAuthorFeed", params)
            feed = body.get("feed") if isinstance(body, dict) else None
            page = [p for p in (_feed_post(item, creds.account_id) for item in feed or []) if p]
            found += page
            cursor = body.get("cursor") if isinstance(body, dict) else None
            if not page or not isinstance(cursor, str) or min(p.published_at for p in page) < since:
                break
            params["cursor"] = cursor
        return newest_first(found, since)

    def _query(self, creds: AccountCredentials, nsid: str, params: Mapping[str, str | list[str]]) -> Any:
        if creds.base_url:
            base = creds.base_url.rstrip("/")
            headers = bearer(creds.access_token) if creds.access_token else {}
        else:
            base, headers = self.base_url, {}
        resp = call(
            self._session, "GET", f"{base}/xrpc/{nsid}", PLATFORM, params=dict(params), headers=headers
        )
        return json_body(resp, PLATFORM)


def _feed_post(item: Any, actor: str) -> TimelinePost | None:
    """The account's own post of a feedViewPost (None for a repost, a pin or another author's post)."""
    if not isinstance(item, dict) or item.get("reason") is not None:
        return None
    view = item.get("post")
    if not isinstance(view, dict) or not isinstance(view.get("uri"), str):
        return None
    author = view.get("author")
    author = author if isinstance(author, dict) else {}
    if author.get("did") != actor:
        return None
    record = view.get("record")
    record = record if isinstance(record, dict) else {}
    published = timeline_time(record.get("createdAt")) or timeline_time(view.get("indexedAt"))
    if published is None:
        return None
    handle = author.get("handle") if isinstance(author.get("handle"), str) else None
    return TimelinePost(
        platform_post_id=view["uri"],
        published_at=published,
        text=str(record.get("text") or ""),
        url=post_url(view["uri"], handle),
    )
