"""Douyin item data: plays, likes, comments and shares of the account's videos.

``POST /api/douyin/v1/video/video_data/?open_id=`` ``{item_ids: [...]}`` (scope ``video.data.bind``; at
most ``BATCH`` ids a request) answers ``list[]`` with each item's ``statistics``
(``video_data_v1_response_skit.json``): ``play_count`` -> views, ``digg_count`` -> likes,
``comment_count`` -> comments, ``share_count`` -> shares, each a lifetime count at collection time. A
count Douyin does not give is absent, never zero. A dead token stops the collection (the account is
marked for re-authorisation); any other refusal skips the batch and is logged. Account metrics: none
(Douyin's fans data is a separate scope Chorus does not ask for).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from chorus.platforms.base import (
    AccountCredentials,
    MetricPoint,
    MetricScope,
    counted_points,
)
from chorus.platforms.collecting import HttpCollector, skipping
from chorus.platforms.douyin import api
from chorus.platforms.http import batched
from chorus.platforms.whoami import listed, obj

PLATFORM = api.PLATFORM
BATCH = 20
STATISTICS: Mapping[str, str] = {
    "play_count": "views",
    "digg_count": "likes",
    "comment_count": "comments",
    "share_count": "shares",
}


class DouyinMetrics(HttpCollector):
    """:class:`~chorus.platforms.base.MetricsCollector` for Douyin accounts."""

    name = PLATFORM

    def api_url(self) -> str:
        return api.API_URL

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        return []

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = self._clock()
        points: list[MetricPoint] = []
        for ids in batched(list(dict.fromkeys(platform_post_ids)), BATCH):
            data = skipping(partial(
                api.request, self.session, "POST", f"{self.base_url}/api/douyin/v1/video/video_data/",
                token=creds.access_token, params={"open_id": creds.account_id}, json={"item_ids": ids},
                idempotent=True,
            ), PLATFORM, posts=len(ids))  # fmt: skip
            if data is None:
                continue
            for video in listed(data.get("list")):
                found = obj(video)
                item_id = found.get("item_id")
                if isinstance(item_id, str) and item_id in ids:
                    points += counted_points(
                        MetricScope.POST, item_id, obj(found.get("statistics")), STATISTICS, now
                    )
        return points
