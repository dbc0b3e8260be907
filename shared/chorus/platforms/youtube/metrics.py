"""YouTube metrics from the Data API v3 (OAuth 2.0 bearer token of the channel owner).

* posts: ``GET /videos?part=statistics&id={id1},{id2}...`` - up to 50 ids a call. Counts are JSON
  *strings* (``"viewCount": "7920"``). viewCount -> views, likeCount -> likes, commentCount -> comments;
  likeCount/commentCount are omitted when the owner hides them or disables comments, so they stay absent.
  ``dislikeCount`` (private since Dec 2021) and ``favoriteCount`` (always 0, deprecated) are not metrics.
  Videos the API does not return (deleted, private) are simply missing from ``items``.
* account: ``GET /channels?part=statistics&id={channel-id}``: subscriberCount -> followers, unless
  ``hiddenSubscriberCount`` is true (then the count is not real and followers is absent); viewCount -> views.

* timeline (posts made elsewhere, :class:`~chorus.platforms.base.TimelineReader`):
  ``GET /channels?part=contentDetails&mine=true`` -> ``contentDetails.relatedPlaylists.uploads`` (the
  channel's uploads playlist), then ``GET /playlistItems?part=contentDetails,snippet&playlistId={uploads}
  &maxResults=50`` and ``pageToken`` = the answer's ``nextPageToken`` while the page still reaches back
  far enough (Data API reference: channels.list, playlistItems.list; no fixture exists for either answer).
  Each item's video is ``contentDetails.videoId`` and its time ``contentDetails.videoPublishedAt``; an
  upload without that time (private, scheduled, still processing) is not published yet and not a post.

Each call costs one unit of the project's daily budget (:mod:`chorus.platforms.youtube.quota`), charged
before it is sent: a spent budget stops the collection until the next quota day (``RateLimited``, with
the reason; the timeline read is skipped with the rest of the run, never sent over the budget).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from chorus.platforms.base import (
    AccountCredentials,
    MetricPoint,
    MetricScope,
    TimelinePost,
    paged_timeline,
    timeline_time,
)
from chorus.platforms.http import batched, bearer, call, json_body
from chorus.platforms.youtube.publish import video_url
from chorus.platforms.youtube.quota import Quota

PLATFORM = "youtube"
API_URL = "https://www.googleapis.com/youtube/v3"
MAX_IDS_PER_REQUEST = 50
PLAYLIST_PAGE = 50  # playlistItems.list's maxResults (0-50)

VIDEO_METRICS: Mapping[str, str] = {"viewCount": "views", "likeCount": "likes", "commentCount": "comments"}
CHANNEL_METRICS: Mapping[str, str] = {"subscriberCount": "followers", "viewCount": "views"}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def as_count(value: Any) -> int | None:
    """A YouTube count: a decimal string (or, leniently, an int); anything else is no value."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _points(
    scope: MetricScope, object_id: str, stats: Mapping[str, Any], names: Mapping[str, str], at: datetime
) -> list[MetricPoint]:
    points = []
    for field_name, metric in names.items():
        value = as_count(stats.get(field_name))
        if value is not None:
            points.append(MetricPoint(scope, object_id, metric, value, at))
    return points


class YouTubeMetrics:
    """:class:`~chorus.platforms.base.MetricsCollector` for YouTube (``creds.account_id`` = channel id)."""

    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
        quota: Quota | None = None,
    ) -> None:
        self._session = session or requests.Session()
        self.base_url = (base_url or API_URL).rstrip("/")
        self._clock = clock
        self.daily_quota = quota or Quota(clock=clock)

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        now = self._clock()
        points: list[MetricPoint] = []
        for item in self._items(creds, "channels", creds.account_id):
            stats = item.get("statistics")
            if item.get("id") != creds.account_id or not isinstance(stats, dict):
                continue
            names = dict(CHANNEL_METRICS)
            if stats.get("hiddenSubscriberCount") is True:
                del names["subscriberCount"]
            points += _points(MetricScope.ACCOUNT, creds.account_id, stats, names, now)
        return points

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = self._clock()
        points: list[MetricPoint] = []
        for chunk in batched(list(dict.fromkeys(platform_post_ids)), MAX_IDS_PER_REQUEST):
            for item in self._items(creds, "videos", ",".join(chunk)):
                stats, video_id = item.get("statistics"), item.get("id")
                if isinstance(video_id, str) and isinstance(stats, dict):
                    points += _points(MetricScope.POST, video_id, stats, VIDEO_METRICS, now)
        return points

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        """The channel's own videos published at or after ``since``, newest first (its uploads playlist)."""
        uploads = None
        for item in self._list(creds, "channels", {"part": "contentDetails", "mine": "true"})[0]:
            playlists = (item.get("contentDetails") or {}).get("relatedPlaylists")
            if item.get("id") == creds.account_id and isinstance(playlists, dict):
                uploads = playlists.get("uploads")
        if not isinstance(uploads, str) or not uploads:
            return []  # not the connected channel's answer, or a channel with no uploads playlist
        params = {"part": "contentDetails,snippet", "playlistId": uploads, "maxResults": str(PLAYLIST_PAGE)}

        def page(token: str | None) -> tuple[list[TimelinePost | None], str | None]:
            items, body = self._list(
                creds, "playlistItems", {**params, **({"pageToken": token} if token else {})}
            )
            following = body.get("nextPageToken")
            return [_upload(item) for item in items], following if isinstance(following, str) else None

        return paged_timeline(page, since)

    def _items(self, creds: AccountCredentials, resource: str, ids: str) -> list[dict[str, Any]]:
        return self._list(creds, resource, {"part": "statistics", "id": ids})[0]

    def _list(
        self, creds: AccountCredentials, resource: str, params: Mapping[str, str]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """One ``{resource}.list`` call, charged to the daily budget first: its items and its answer."""
        method = f"{resource}.list"
        self.daily_quota.charge(method)
        with self.daily_quota.watch(method):
            resp = call(
                self._session,
                "GET",
                f"{self.base_url}/{resource}",
                PLATFORM,
                params=dict(params),
                headers=bearer(creds.access_token),
            )
        body = json_body(resp, PLATFORM)
        if not isinstance(body, dict):
            return [], {}
        items = body.get("items")
        return ([item for item in items if isinstance(item, dict)] if isinstance(items, list) else []), body


def _upload(item: Mapping[str, Any]) -> TimelinePost | None:
    """A playlist item as a post: its video id, publish time, title and watch URL (None: not published)."""
    details, snippet = item.get("contentDetails"), item.get("snippet")
    details = details if isinstance(details, dict) else {}
    snippet = snippet if isinstance(snippet, dict) else {}
    video_id = details.get("videoId") or (snippet.get("resourceId") or {}).get("videoId")
    published = timeline_time(details.get("videoPublishedAt"))
    if not isinstance(video_id, str) or not video_id or published is None:
        return None
    return TimelinePost(video_id, published, str(snippet.get("title") or ""), video_url(video_id))
