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

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import requests

from chorus.platforms.base import AccountCredentials, AuthError, MetricPoint, MetricScope, PermanentError
from chorus.platforms.facebook.metrics import Ranked, best_points, ranked_insight_points, utc_now
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.threads.oauth import API_URL

logger = logging.getLogger(__name__)

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


class ThreadsMetrics:
    """:class:`~chorus.platforms.base.MetricsCollector` for Threads profiles."""

    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        media_metrics: Iterable[str] = DEFAULT_MEDIA_METRICS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.session = session or requests.Session()
        self.base_url = (base_url or API_URL).rstrip("/")
        self.media_metrics = tuple(media_metrics)
        self._clock = clock

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        return []

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = self._clock()
        ranked: list[Ranked] = []
        for media_id in dict.fromkeys(platform_post_ids):
            try:
                resp = call(
                    self.session,
                    "GET",
                    f"{self.base_url}/{media_id}/insights",
                    PLATFORM,
                    params={"metric": ",".join(self.media_metrics)},
                    headers=bearer(creds.access_token),
                )
                body = json_body(resp, PLATFORM)
            except AuthError:
                raise
            except PermanentError as exc:
                logger.warning(
                    "post_metrics_skipped",
                    extra={
                        "platform": PLATFORM,
                        "post_id": media_id,
                        "reason": exc.message,
                        "code": exc.code,
                    },
                )
                continue
            ranked += ranked_insight_points(
                body, scope=MetricScope.POST, object_id=media_id, names=MEDIA_INSIGHTS, default_at=now
            )
        return best_points(ranked)
