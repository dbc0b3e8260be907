"""Threads media insights (Threads API, ``threads_manage_insights``).

* posts (token in ``Authorization: Bearer``): ``GET /{threads-media-id}/insights?metric=views,likes,replies,reposts,quotes,shares`` per
  media (``fixtures/platform_api/publishing/threads/media_insights_response.json``: ``data[]`` of
  ``{name, period: lifetime, values: [{value}]}``). Canonical names: views -> views, likes -> likes,
  replies -> comments, reposts -> shares (as X's retweets), quotes -> quotes; Threads' own ``shares``
  (sends, "in development" per the docs) count as shares only when no repost count came. Nested
  replies' metrics are not included (the docs); a repost facade answers an empty ``data``.
  Per media: a refused or deleted media is skipped (logged) and the others still count; a dead token
  (``AuthError``) stops the collection so the account is marked for re-authorisation.
* account: none. The publishing fixtures document no account-level Threads insight, so none is read
  (a metric a platform does not offer is absent, never zero).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import requests

from chorus.platforms.base import AccountCredentials, MetricPoint
from chorus.platforms.facebook.metrics import GraphTimeline, utc_now
from chorus.platforms.instagram.metrics import InstagramMetrics
from chorus.platforms.threads.oauth import API_URL

PLATFORM = "threads"
MEDIA_INSIGHTS: Mapping[str, tuple[str, int]] = {
    "views": ("views", 0),
    "likes": ("likes", 0),
    "replies": ("comments", 0),
    "reposts": ("shares", 0),
    "shares": ("shares", 1),
    "quotes": ("quotes", 0),
}
DEFAULT_MEDIA_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")


class ThreadsMetrics(InstagramMetrics):
    """:class:`~chorus.platforms.base.MetricsCollector` for Threads profiles: the media insights calls
    of the Instagram collector (``GET /{media-id}/insights``, one media at a time, refused ones skipped)
    against graph.threads.net with Threads' metric names; no account metrics."""

    name = PLATFORM
    media_names = MEDIA_INSIGHTS
    timeline = GraphTimeline("threads", "timestamp", "text", "permalink")  # the listing publish reads

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        media_metrics: Iterable[str] = DEFAULT_MEDIA_METRICS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(
            session, base_url or API_URL, media_metrics=media_metrics, account_insights=(), clock=clock
        )

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        return []
