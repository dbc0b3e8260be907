"""Mastodon metrics from the instance's REST API (``creds.base_url`` = the instance, e.g. https://mastodon.social).

* posts: ``GET /api/v1/statuses/{id}`` per status: replies_count -> comments, reblogs_count -> shares,
  favourites_count -> likes, quotes_count -> quotes (Mastodon 4.5+; absent on older servers, so absent).
  A status the server refuses (404 deleted, 403 no longer visible) is skipped (logged).
* account: ``GET /api/v1/accounts/{id}``: followers_count -> followers, following_count -> follows.
* timeline (:class:`~chorus.platforms.base.TimelineReader`): ``GET /api/v1/accounts/{id}/statuses``
  (``limit=40``, the maximum, ``exclude_reblogs=true``), newest first, older pages by the ``Link``
  header's ``rel="next"`` (``max_id``, only on the same instance) while they reach ``since``.

Mastodon offers no impressions or reach: those metrics are never produced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from chorus.net.fetch import guarded_session
from chorus.platforms.base import (
    TIMELINE_MAX_PAGES,
    AccountCredentials,
    AuthError,
    MetricPoint,
    MetricScope,
    PermanentError,
    TimelinePost,
    counted_points,
    newest_first,
    timeline_time,
)
from chorus.platforms.http import bearer, call, json_body
from chorus.posts.text import html_to_text

logger = logging.getLogger(__name__)

PLATFORM = "mastodon"

STATUS_METRICS: Mapping[str, str] = {
    "replies_count": "comments",
    "reblogs_count": "shares",
    "favourites_count": "likes",
    "quotes_count": "quotes",
}
ACCOUNT_METRICS: Mapping[str, str] = {"followers_count": "followers", "following_count": "follows"}


def _utc_now() -> datetime:
    return datetime.now(UTC)


TIMELINE_PAGE = 40  # the documented maximum of ``limit``


def _timeline_post(status: Any) -> TimelinePost | None:
    if not isinstance(status, Mapping) or status.get("reblog") or not status.get("id"):
        return None
    published = timeline_time(status.get("created_at"))
    if published is None:
        return None
    return TimelinePost(
        platform_post_id=str(status["id"]),
        published_at=published,
        text=html_to_text(str(status.get("content") or "")),
        url=status.get("url") if isinstance(status.get("url"), str) else None,
    )


class MastodonMetrics:
    """:class:`~chorus.platforms.base.MetricsCollector` for Mastodon (and API-compatible servers)."""

    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._session = session or guarded_session()
        self.base_url = base_url.rstrip("/") if base_url else None
        self._clock = clock

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        now = self._clock()
        body = self._get(creds, self._instance(creds), f"/api/v1/accounts/{quote(creds.account_id, safe='')}")
        return counted_points(MetricScope.ACCOUNT, creds.account_id, body, ACCOUNT_METRICS, now)

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = self._clock()
        base = self._instance(creds)  # outside the loop: a missing instance is not a per-post refusal
        points: list[MetricPoint] = []
        for status_id in dict.fromkeys(platform_post_ids):
            try:
                body = self._get(creds, base, f"/api/v1/statuses/{quote(status_id, safe='')}")
            except AuthError:
                raise
            except PermanentError as exc:
                logger.warning(
                    "post_metrics_skipped",
                    extra={
                        "platform": PLATFORM,
                        "post_id": status_id,
                        "reason": exc.message,
                        "code": exc.status,
                    },
                )
                continue
            points += counted_points(MetricScope.POST, status_id, body, STATUS_METRICS, now)
        return points

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        base = self._instance(creds)
        url: str | None = f"{base}/api/v1/accounts/{quote(creds.account_id, safe='')}/statuses"
        params: dict[str, str | int] | None = {"limit": TIMELINE_PAGE, "exclude_reblogs": "true"}
        found: list[TimelinePost] = []
        for _ in range(TIMELINE_MAX_PAGES):
            if url is None:
                break
            resp = call(
                self._session, "GET", url, PLATFORM, params=params, headers=bearer(creds.access_token)
            )
            page = json_body(resp, PLATFORM)
            oldest = None
            for status in page if isinstance(page, list) else []:
                post = _timeline_post(status)
                if post is not None:
                    found.append(post)
                    oldest = post.published_at if oldest is None else min(oldest, post.published_at)
            if oldest is None or oldest < since:
                break
            url, params = resp.links.get("next", {}).get("url"), None  # the link carries the query
            if url is not None and not url.startswith(f"{base}/"):
                break  # the token goes to the account's instance only
        return newest_first(found, since)

    def _instance(self, creds: AccountCredentials) -> str:
        base = creds.base_url or self.base_url
        if not base:
            raise PermanentError("no Mastodon instance URL for this account", platform=PLATFORM)
        return base.rstrip("/")

    def _get(self, creds: AccountCredentials, base: str, path: str) -> Any:
        resp = call(self._session, "GET", f"{base}{path}", PLATFORM, headers=bearer(creds.access_token))
        return json_body(resp, PLATFORM)
