"""Pinterest pin analytics (API v5, ``GET /v5/pins/{pin_id}/analytics``).

Per pin, ``start_date`` = 89 days before today (UTC; the API refuses more than 90 days back),
``end_date`` = today, ``app_types=ALL``, ``metric_types`` = the standard pin metrics. The answer is keyed
by app type (``all``; the docs sample shows Redoc's ``property1``), each with ``summary_metrics`` over
the window, ``daily_metrics[]`` (``data_status`` READY or PROCESSING) and ``lifetime_metrics``
(TOTAL_COMMENTS, TOTAL_REACTIONS). Chorus follows a post for 90 days, so the window's summary is the
pin's count so far: each becomes a lifetime point at collection time.

Canonical names: IMPRESSION -> impressions, OUTBOUND_CLICK -> clicks, SAVE -> saves, TOTAL_COMMENTS ->
comments, TOTAL_REACTIONS -> likes, VIDEO_MRC_VIEW -> video_views. Counts may come as floats (``0.0``,
recorded answer): whole numbers are kept, rates (SAVE_RATE) and PIN_CLICK (no canonical name) are not.
A pin refused (400/403/404, documented bodies) is skipped and logged; a dead token stops the collection.
Account metrics: none (no account analytics is documented in the fixtures).

Timeline (pins made elsewhere, :class:`~chorus.platforms.base.TimelineReader`): ``GET /v5/pins
?page_size=100&pin_filter=exclude_repins`` (``pins/list``: the pins the token's user owns, newest first,
whatever board they are on; ``page_size`` 1-250), then ``bookmark`` = the answer's while the page still
reaches back far enough. The answer is ``{items[], bookmark}`` (the spec's paginated shape, as
``boards_list_response_docs_sample.json``), each item a Pin (``pin_get_response_recorded_python_pinterest
.json``): ``id``, ``created_at`` (the recorded answer has no offset: UTC), ``title``, ``description``. A
pin saved from someone else's (``parent_pin_id``) is not the account's post. No fixture of the list
answer exists; its request is the v5 reference's (``pins/list``, scope ``pins:read``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import requests

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MetricPoint,
    MetricScope,
    PermanentError,
    TimelinePost,
    paged_timeline,
    timeline_time,
)
from chorus.platforms.facebook.metrics import utc_now
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.pinterest.oauth import API_URL
from chorus.platforms.pinterest.publish import pin_url

logger = logging.getLogger(__name__)

PLATFORM = "pinterest"
WINDOW_DAYS = 89
LIST_PAGE = 100  # pins/list's page_size (1-250)
METRICS: Mapping[str, str] = {
    "IMPRESSION": "impressions",
    "OUTBOUND_CLICK": "clicks",
    "SAVE": "saves",
    "TOTAL_COMMENTS": "comments",
    "TOTAL_REACTIONS": "likes",
    "VIDEO_MRC_VIEW": "video_views",
}
METRIC_TYPES = ("IMPRESSION", "OUTBOUND_CLICK", "PIN_CLICK", "SAVE", "TOTAL_COMMENTS", "TOTAL_REACTIONS")


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def analytics_points(body: Any, pin_id: str, at: datetime) -> list[MetricPoint]:
    """Lifetime points from a pin analytics answer (the ``all`` entry, else the first one)."""
    if not isinstance(body, dict) or not body:
        return []
    entry = body.get("all") or next(iter(body.values()))
    if not isinstance(entry, dict):
        return []
    values: dict[str, Any] = {}
    for section in ("summary_metrics", "lifetime_metrics"):
        found = entry.get(section)
        if isinstance(found, dict):
            values.update(found)
    points = []
    for name, metric in METRICS.items():
        count = _count(values.get(name))
        if count is not None:
            points.append(MetricPoint(MetricScope.POST, pin_id, metric, count, at))
    return points


class PinterestMetrics:
    """:class:`~chorus.platforms.base.MetricsCollector` for Pinterest accounts."""

    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.session = session or requests.Session()
        self.base_url = (base_url or API_URL).rstrip("/")
        self._clock = clock

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        return []

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = self._clock()
        today = now.date()
        params = {
            "start_date": (today - timedelta(days=WINDOW_DAYS)).isoformat(),
            "end_date": today.isoformat(),
            "app_types": "ALL",
            "metric_types": ",".join(METRIC_TYPES),
        }
        points: list[MetricPoint] = []
        for pin_id in dict.fromkeys(platform_post_ids):
            try:
                resp = call(self.session, "GET", f"{self.base_url}/pins/{pin_id}/analytics", PLATFORM,
                            params=params, headers=bearer(creds.access_token))  # fmt: skip
                body = json_body(resp, PLATFORM)
            except AuthError:
                raise
            except PermanentError as exc:
                logger.warning(
                    "post_metrics_skipped",
                    extra={"platform": PLATFORM, "post_id": pin_id, "reason": exc.message, "code": exc.code},
                )
                continue
            points += analytics_points(body, pin_id, now)
        return points

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        """The account's own pins created at or after ``since``, newest first (``GET /v5/pins``)."""
        params = {"page_size": str(LIST_PAGE), "pin_filter": "exclude_repins"}

        def page(bookmark: str | None) -> tuple[list[TimelinePost | None], str | None]:
            resp = call(self.session, "GET", f"{self.base_url}/pins", PLATFORM,
                        params={**params, **({"bookmark": bookmark} if bookmark else {})},
                        headers=bearer(creds.access_token))  # fmt: skip
            body = json_body(resp, PLATFORM)
            body = body if isinstance(body, dict) else {}
            pins, following = [_pin(item) for item in body.get("items") or []], body.get("bookmark")
            return pins, following if isinstance(following, str) else None

        return paged_timeline(page, since)


def _pin(item: Any) -> TimelinePost | None:
    """A listed pin as a post (None: not a pin of the account's own, or no time to place it by)."""
    if not isinstance(item, dict) or item.get("parent_pin_id"):
        return None
    pin_id, created = item.get("id"), timeline_time(item.get("created_at"), naive_is_utc=True)
    if not isinstance(pin_id, str) or not pin_id or created is None:
        return None
    text = " ".join(str(item.get(f) or "").strip() for f in ("title", "description")).strip()
    return TimelinePost(pin_id, created, text, pin_url(pin_id))
