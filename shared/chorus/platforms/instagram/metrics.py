"""Instagram professional-account metrics (Instagram Graph API via graph.facebook.com).

Requests (``creds.account_id`` = IG user id, token in ``Authorization: Bearer``):

* account: ``GET /{ig-user-id}?fields=followers_count,follows_count`` (lifetime counters) and
  ``GET /{ig-user-id}/insights?metric=...&period=day&metric_type=total_value&since=&until=`` for the last
  complete UTC day (``total_value`` answers, stamped at the end of that day, period ``day``);
* posts: ``GET /{media-id}/insights?metric=...`` per media. Not batched on purpose: which metrics a media
  accepts depends on its type and age, and Graph fails a whole multi-id call if one id or metric is
  refused; per media, a refused or deleted media is skipped (logged) and the others still count.

Both insights shapes are read: ``values[].value`` (classic) and ``total_value.value`` (newer; breakdowns
ignored). The parser is the Meta one in :mod:`chorus.platforms.facebook.metrics`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, time, timedelta

import requests

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MetricPoint,
    MetricScope,
    PermanentError,
    TimelinePost,
)
from chorus.platforms.facebook.metrics import (
    GRAPH_URL,
    GraphTimeline,
    Ranked,
    as_count,
    best_points,
    graph_timeline,
    ranked_insight_points,
    utc_now,
)
from chorus.platforms.http import bearer, call, json_body

logger = logging.getLogger(__name__)

PLATFORM = "instagram"

MEDIA_INSIGHTS: Mapping[str, tuple[str, int]] = {
    "impressions": ("impressions", 0),  # deprecated for media from July 2024 on; read when offered
    "reach": ("reach", 0),
    "views": ("views", 0),
    "saved": ("saves", 0),
    "likes": ("likes", 0),
    "comments": ("comments", 0),
    "shares": ("shares", 0),
    "video_views": ("video_views", 0),
    "plays": ("video_views", 1),  # reels plays, deprecated predecessor of views
    "total_interactions": ("engagements", 0),
    "profile_visits": ("profile_visits", 0),
    # Profile actions (bio link, call, e-mail, directions taps) people took from this media: clicks.
    "profile_activity": ("clicks", 0),
}
ACCOUNT_INSIGHTS: Mapping[str, tuple[str, int]] = {
    "reach": ("reach", 0),
    "views": ("views", 0),
    "impressions": ("impressions", 0),
    "profile_views": ("profile_visits", 0),
    "website_clicks": ("clicks", 0),
    "total_interactions": ("engagements", 0),
}
DEFAULT_MEDIA_METRICS = ("reach", "saved", "likes", "comments", "shares", "views", "total_interactions")
DEFAULT_ACCOUNT_METRICS = ("reach", "views", "profile_views", "website_clicks", "total_interactions")


class InstagramMetrics:
    """:class:`~chorus.platforms.base.MetricsCollector` for Instagram professional accounts."""

    name = PLATFORM
    media_names: Mapping[str, tuple[str, int]] = MEDIA_INSIGHTS
    """Media insight name -> (canonical metric, rank); a collector of another Meta surface (Threads)
    reads its own media insights through the same calls with its own names."""
    timeline = GraphTimeline("media", "timestamp", "caption", "permalink")
    """Where the account's own posts are listed (:class:`~chorus.platforms.base.TimelineReader`)."""

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str = GRAPH_URL,
        *,
        media_metrics: Iterable[str] = DEFAULT_MEDIA_METRICS,
        account_insights: Iterable[str] = DEFAULT_ACCOUNT_METRICS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._session = session or requests.Session()
        self.base_url = base_url.rstrip("/")
        self.media_metrics = tuple(media_metrics)
        self.account_insights = tuple(account_insights)
        self._clock = clock

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        now = self._clock()
        ranked: list[Ranked] = []
        profile = self._get(creds, creds.account_id, {"fields": "followers_count,follows_count"})
        if isinstance(profile, dict):
            for field_name, metric in (("followers_count", "followers"), ("follows_count", "follows")):
                value = as_count(profile.get(field_name))
                if value is not None:
                    ranked.append((0, MetricPoint(MetricScope.ACCOUNT, creds.account_id, metric, value, now)))
        if self.account_insights:
            today = now.astimezone(UTC).date()
            day_end = datetime.combine(today, time(0), tzinfo=UTC)  # end of the last complete UTC day
            params = {
                "metric": ",".join(self.account_insights),
                "period": "day",
                "metric_type": "total_value",
                "since": str(int((day_end - timedelta(days=1)).timestamp())),
                "until": str(int(day_end.timestamp())),
            }
            try:
                body = self._get(creds, f"{creds.account_id}/insights", params)
            except AuthError:
                raise
            except PermanentError as exc:  # a retired metric must not cost the follower counts
                logger.warning(
                    "insights_refused",
                    extra={"platform": self.name, "object_id": creds.account_id, "reason": exc.message},
                )
                body = None
            ranked += ranked_insight_points(
                body,
                scope=MetricScope.ACCOUNT,
                object_id=creds.account_id,
                names=ACCOUNT_INSIGHTS,
                default_at=day_end,
            )
        return best_points(ranked)

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = self._clock()
        ranked: list[Ranked] = []
        for media_id in dict.fromkeys(platform_post_ids):
            try:
                body = self._get(creds, f"{media_id}/insights", {"metric": ",".join(self.media_metrics)})
            except AuthError:
                raise
            except PermanentError as exc:
                logger.warning(
                    "post_metrics_skipped",
                    extra={
                        "platform": self.name,
                        "post_id": media_id,
                        "reason": exc.message,
                        "code": exc.code,
                    },
                )
                continue
            ranked += ranked_insight_points(
                body, scope=MetricScope.POST, object_id=media_id, names=self.media_names, default_at=now
            )
        return best_points(ranked)

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        return graph_timeline(self._get, creds, since, self.timeline)

    def _get(self, creds: AccountCredentials, path: str, params: Mapping[str, str]) -> object:
        resp = call(
            self._session,
            "GET",
            f"{self.base_url}/{path}",
            self.name,
            params=dict(params),
            headers=bearer(creds.access_token),
        )
        result: object = json_body(resp, self.name)
        return result
