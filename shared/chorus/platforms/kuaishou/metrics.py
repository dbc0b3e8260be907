"""Kuaishou counts: per video ``GET /openapi/photo/info?app_id=&access_token=&photo_id=`` (scope
``user_video_info``): ``video_info.view_count`` -> views, ``like_count`` -> likes, ``comment_count`` ->
comments; the account ``GET /openapi/user_info``: ``user_info.fan`` -> followers, ``follow`` -> follows.
Each a lifetime count at collection time; a count Kuaishou does not give is absent, never zero. A dead
token stops the collection; any other refusal of one video skips it (logged). These answers were not
retrievable from Kuaishou's pages (``kuaishou/_endpoints.json``): the fields are those its clients read.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from chorus.platforms.base import (
    AccountCredentials,
    MetricPoint,
    MetricScope,
    counted_points,
)
from chorus.platforms.collecting import HttpCollector, skipping
from chorus.platforms.kuaishou import api
from chorus.platforms.kuaishou.publish import app_id
from chorus.platforms.whoami import obj

PLATFORM = api.PLATFORM
VIDEO_COUNTS: Mapping[str, str] = {"view_count": "views", "like_count": "likes", "comment_count": "comments"}
ACCOUNT_COUNTS: Mapping[str, str] = {"fan": "followers", "follow": "follows"}


class KuaishouMetrics(HttpCollector):
    """:class:`~chorus.platforms.base.MetricsCollector` for Kuaishou accounts."""

    name = PLATFORM

    def api_url(self) -> str:
        return api.API_URL

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
            body = skipping(
                partial(self._get, creds, "photo/info", photo_id=photo_id), PLATFORM, post_id=photo_id
            )
            if body is None:
                continue
            points += counted_points(
                MetricScope.POST, photo_id, obj(body.get("video_info")), VIDEO_COUNTS, now
            )
        return points
