"""X (Twitter) metrics from API v2 public metrics.

* posts: ``GET /2/tweets?ids={id1},{id2}...&tweet.fields=public_metrics`` - up to 100 ids a call. Ids the
  API cannot return (deleted, protected) come back in ``errors[]`` beside ``data[]``: they yield no points.
* account: ``GET /2/users/{id}?user.fields=public_metrics`` (followers_count, following_count).
* timeline (:class:`~chorus.platforms.base.TimelineReader`): ``GET /2/users/{id}/tweets?max_results=100
  &start_time=...&tweet.fields=created_at&exclude=retweets``, older pages by ``meta.next_token`` ->
  ``pagination_token`` (the API stops at ``start_time`` itself).

public_metrics -> canonical: retweet_count -> shares, reply_count -> comments, like_count -> likes,
quote_count -> quotes, impression_count -> impressions, bookmark_count -> saves (each only when present:
older answers and some access levels omit impression_count and bookmark_count).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

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
from chorus.platforms.http import batched, bearer, call, json_body
from chorus.platforms.x.publish import post_url

logger = logging.getLogger(__name__)

PLATFORM = "x"
API_URL = "https://api.x.com"
TIMELINE_PAGE = 100  # max_results' documented maximum
MAX_IDS_PER_REQUEST = 100

TWEET_METRICS: Mapping[str, str] = {
    "retweet_count": "shares",
    "reply_count": "comments",
    "like_count": "likes",
    "quote_count": "quotes",
    "impression_count": "impressions",
    "bookmark_count": "saves",
}
USER_METRICS: Mapping[str, str] = {"followers_count": "followers", "following_count": "follows"}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class XMetrics:
    """:class:`~chorus.platforms.base.MetricsCollector` for X (``creds.account_id`` = numeric user id)."""

    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str = API_URL,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._session = session or requests.Session()
        self.base_url = base_url.rstrip("/")
        self._clock = clock

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        now = self._clock()
        body = self._get(creds, f"/2/users/{creds.account_id}", {"user.fields": "public_metrics"})
        user = body.get("data") if isinstance(body, dict) else None
        if not isinstance(user, dict):
            return []
        return counted_points(
            MetricScope.ACCOUNT, creds.account_id, user.get("public_metrics"), USER_METRICS, now
        )

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = self._clock()
        points: list[MetricPoint] = []
        for chunk in batched(list(dict.fromkeys(platform_post_ids)), MAX_IDS_PER_REQUEST):
            body = self._get(creds, "/2/tweets", {"ids": ",".join(chunk), "tweet.fields": "public_metrics"})
            if not isinstance(body, dict):
                continue
            for error in body.get("errors") or []:
                if isinstance(error, dict):
                    logger.info(
                        "post_metrics_skipped",
                        extra={
                            "platform": PLATFORM,
                            "post_id": error.get("resource_id") or error.get("value"),
                            "reason": error.get("title") or error.get("detail"),
                        },
                    )
            for tweet in body.get("data") or []:
                if isinstance(tweet, dict) and isinstance(tweet.get("id"), str):
                    points += counted_points(
                        MetricScope.POST, tweet["id"], tweet.get("public_metrics"), TWEET_METRICS, now
                    )
        return points

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        params = {
            "max_results": str(TIMELINE_PAGE),
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tweet.fields": "created_at",
            "exclude": "retweets",
        }
        found: list[TimelinePost] = []
        for _ in range(TIMELINE_MAX_PAGES):
            body = self._get(creds, f"/2/users/{creds.account_id}/tweets", params)
            if not isinstance(body, dict):
                break
            for tweet in body.get("data") or []:
                published = timeline_time(tweet.get("created_at")) if isinstance(tweet, dict) else None
                if published is None or not tweet.get("id"):
                    continue
                found.append(
                    TimelinePost(
                        platform_post_id=str(tweet["id"]),
                        published_at=published,
                        text=str(tweet.get("text") or ""),
                        url=post_url(str(tweet["id"]), creds.handle),
                    )
                )
            meta = body.get("meta")
            token = meta.get("next_token") if isinstance(meta, dict) else None
            if not isinstance(token, str) or not token:
                break
            params["pagination_token"] = token
        return newest_first(found, since)

    def _get(self, creds: AccountCredentials, path: str, params: Mapping[str, str]) -> Any:
        resp = call(
            self._session,
            "GET",
            f"{self.base_url}{path}",
            PLATFORM,
            params=dict(params),
            headers=bearer(creds.access_token),
        )
        return json_body(resp, PLATFORM)
