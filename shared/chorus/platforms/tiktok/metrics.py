"""TikTok metrics through the Display API v2 (scopes ``video.list`` and ``user.info.stats``).

* posts: ``POST /v2/video/query/?fields=id,like_count,comment_count,share_count,view_count`` with
  ``{"filters": {"video_ids": [...]}}``, at most 20 ids a request (``video_query_request.json``):
  like_count -> likes, comment_count -> comments, share_count -> shares, view_count -> views. A video the
  answer leaves out (private, deleted, or a publish not yet public: its id is still the ``publish_id``)
  gives no point. A request TikTok refuses for its ids is skipped and logged; a dead token stops the
  collection (re-authorise).
* account: ``GET /v2/user/info/?fields=open_id,follower_count,following_count`` -> followers, follows.
* timeline (posts made elsewhere): ``POST /v2/video/list/?fields=id,title,video_description,create_time,
  share_url`` with ``{"max_count": 20}``, then ``cursor`` (the answer's, a time in ms) while ``has_more``
  and the page still reaches back far enough (``video_list_request.json`` / ``video_list_response.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from chorus.platforms.base import (
    TIMELINE_MAX_PAGES,
    AccountCredentials,
    MetricPoint,
    MetricScope,
    TimelinePost,
    counted_points,
    newest_first,
)
from chorus.platforms.collecting import HttpCollector, skipping
from chorus.platforms.http import batched
from chorus.platforms.tiktok.api import API_URL, PLATFORM, v2
from chorus.platforms.whoami import get_json, obj

MAX_IDS_PER_REQUEST = 20
LIST_PAGE = 20  # video/list's max_count
LIST_FIELDS = "id,title,video_description,create_time,share_url"
VIDEO_METRICS: Mapping[str, str] = {"like_count": "likes", "comment_count": "comments", "share_count": "shares",
                                    "view_count": "views"}  # fmt: skip
USER_METRICS: Mapping[str, str] = {"follower_count": "followers", "following_count": "follows"}


class TikTokMetrics(HttpCollector):
    """:class:`~chorus.platforms.base.MetricsCollector` for TikTok creators (``creds.account_id`` = open_id)."""

    name = PLATFORM

    def api_url(self) -> str:
        return API_URL

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        body = get_json(self.session, f"{self.base_url}/v2/user/info/", PLATFORM, token=creds.access_token,
                        params={"fields": "open_id,follower_count,following_count"})  # fmt: skip
        user = obj(obj(body.get("data")).get("user"))
        return counted_points(MetricScope.ACCOUNT, creds.account_id, user, USER_METRICS, self._clock())

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = self._clock()
        points: list[MetricPoint] = []
        fields = ",".join(["id", *VIDEO_METRICS])
        for chunk in batched(list(dict.fromkeys(platform_post_ids)), MAX_IDS_PER_REQUEST):
            data = skipping(partial(v2, self.session, self.base_url, "video/query/", creds.access_token,
                                    {"filters": {"video_ids": chunk}}, params={"fields": fields}),
                            PLATFORM, ids=len(chunk))  # fmt: skip
            if data is None:
                continue
            for video in data.get("videos") or []:
                if isinstance(video, dict) and isinstance(video.get("id"), str | int):
                    points += counted_points(MetricScope.POST, str(video["id"]), video, VIDEO_METRICS, now)
        return points

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        """The creator's own videos published at or after ``since``, newest first (``video/list``)."""
        found: list[TimelinePost] = []
        body: dict[str, Any] = {"max_count": LIST_PAGE}
        for _ in range(TIMELINE_MAX_PAGES):
            data = v2(self.session, self.base_url, "video/list/", creds.access_token, body,
                      params={"fields": LIST_FIELDS})  # fmt: skip
            oldest: datetime | None = None
            for video in data.get("videos") or []:
                created = _created(video.get("create_time")) if isinstance(video, dict) else None
                if created is None or not video.get("id"):
                    continue
                oldest = created if oldest is None or created < oldest else oldest
                found.append(TimelinePost(str(video["id"]), created,
                                          str(video.get("video_description") or video.get("title") or ""),
                                          video.get("share_url") or None))  # fmt: skip
            cursor = data.get("cursor")
            if not data.get("has_more") or not isinstance(cursor, int) or oldest is None or oldest < since:
                break
            body = {"max_count": LIST_PAGE, "cursor": cursor}
        return newest_first(found, since)


def _created(value: Any) -> datetime | None:
    """A video's ``create_time`` (Unix seconds) as a time; anything else is no time."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, UTC)
