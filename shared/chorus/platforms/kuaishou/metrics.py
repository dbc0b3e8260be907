"""Kuaishou counts: per video ``GET /openapi/photo/info?app_id=&access_token=&photo_id=`` (scope
``user_video_info``): ``video_info.view_count`` -> views, ``like_count`` -> likes, ``comment_count`` ->
comments; the account ``GET /openapi/user_info``: ``user_info.fan`` -> followers, ``follow`` -> follows.
Each a lifetime count at collection time; a count Kuaishou does not give is absent, never zero. A dead
token stops the collection; any other refusal of one video skips it (logged). These answers were not
retrievable from Kuaishou's pages (``kuaishou/_endpoints.json``): the fields are those its clients read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import requests

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MetricPoint,
    MetricScope,
    PermanentError,
    counted_points,
)
from chorus.platforms.facebook.metrics import utc_now
from chorus.platforms.kuaishou import api
from chorus.platforms.kuaishou.publish import app_id
from chorus.platforms.whoami import obj

logger = logging.getLogger(__name__)

PLATFORM = api.PLATFORM
VIDEO_COUNTS: Mapping[str, str] = {"view_count": "views", "like_count": "likes", "comment_count": "comments"}
ACCOUNT_COUNTS: Mapping[str, str] = {"fan": "followers", "follow": "follows"}


class KuaishouMetrics:
    """:class:`~chorus.platforms.base.MetricsCollector` for Kuaishou accounts."""

    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.session = session or requests.Session()
        self.base_url = (base_url or api.API_URL).rstrip("/")
        self._clock = clock

    def _get(self, creds: AccountCredentials, path: str, **params: str) -> dict[str, Any]:
        query = {"app_id": app_id(creds), "access_token": creds.access_token, **params}
        return api.request(self.session, "GET", f"{self.base_url}/openapi/{path}", params=query)

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        body = self._get(creds, "user_info")
        return counted_points(MetricScope.ACCOUNT, creds.account_id, obj(body.get("user_info")), ACCOUNT_COUNTS,
                              self._clock())  # fmt: skip

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = self._clock()
        points: list[MetricPoint] = []
        for photo_id in dict.fromkeys(platform_post_ids):
            try:
                body = self._get(creds, "photo/info", photo_id=photo_id)
            except AuthError:
                raise
            except PermanentError as exc:
                logger.warning("post_metrics_skipped",
                               extra={"platform": PLATFORM, "post_id": photo_id, "reason": exc.message, "code": exc.code})  # fmt: skip
                continue
            points += counted_points(
                MetricScope.POST, photo_id, obj(body.get("video_info")), VIDEO_COUNTS, now
            )
        return points
