"""Facebook Page and Page-post metrics from the Graph API, and the Meta insights parser Instagram shares.

Requests (Graph API, page access token in the ``Authorization: Bearer`` header):

* account: ``GET /{page-id}?fields=followers_count,fan_count,insights.metric(...).period(day)`` - one
  call returns the lifetime follower count and the recent daily insights (the ``fields=insights`` shape);
* posts: ``GET /?ids={id1},{id2}...&fields=insights.metric(...),reactions...,comments...,shares`` - up to
  50 posts a call, each answered in the ``fields=insights`` shape under its id;
* timeline (:class:`~chorus.platforms.base.TimelineReader`, :func:`graph_timeline`): ``GET
  /{page-id}/published_posts?fields=id,created_time,message,permalink_url&since=<unix>&limit=100``, older
  pages by ``paging.cursors.after`` while ``paging.next`` says there are more (Instagram reads
  ``/{ig-user-id}/media`` and Threads ``/{threads-user-id}/threads`` the same way).

Insights answers come in two shapes, both read by :func:`ranked_insight_points`: the edge
``{"data": [...], "paging": {...}}`` (``/{id}/insights``) and the field ``{"insights": {...}, "id": ...}``.
``paging`` is never followed: insights paging walks *time windows* (``since``/``until`` of the previous
and next window), not the rest of a result set, so "next" leads to later - often future - windows.

Breakdown (dict-valued) metrics such as ``page_fans_city`` are skipped, not summed: they hold only the top
cities/countries (top 50 for ``page_fans_city``), so a sum understates the total and would collide with
the real total taken from ``followers_count``. Breakdowns belong to a separate audience report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from chorus.platforms.base import (
    TIMELINE_MAX_PAGES,
    AccountCredentials,
    AuthError,
    MetricPoint,
    MetricScope,
    PermanentError,
    TimelinePost,
    newest_first,
    timeline_time,
)
from chorus.platforms.http import batched, bearer, call, json_body

logger = logging.getLogger(__name__)

PLATFORM = "facebook"
GRAPH_URL = "https://graph.facebook.com/v21.0"
MAX_IDS_PER_REQUEST = 50
PERIODS = frozenset({"lifetime", "day", "week", "days_28"})

Ranked = tuple[int, MetricPoint]
"""A point with its source's rank: when two sources give the same (object, metric, at, period), the
lower rank wins (the current metric over its deprecated predecessor)."""

PAGE_INSIGHTS: Mapping[str, tuple[str, int]] = {
    "page_follows": ("followers", 0),
    "page_fans": ("followers", 1),  # deprecated Page "likes"
    "page_impressions": ("impressions", 0),
    "page_impressions_unique": ("reach", 0),
    "page_media_view": ("views", 0),
    "page_total_media_view_unique": ("reach", 1),
    "page_post_engagements": ("engagements", 0),
    # Unique people who engaged (deprecated 2024): a lower bound of engagements, used only when the
    # engagement count itself is missing.
    "page_engaged_users": ("engagements", 1),
    "page_views_total": ("profile_visits", 0),
}
POST_INSIGHTS: Mapping[str, tuple[str, int]] = {
    "post_impressions": ("impressions", 0),
    "post_impressions_unique": ("reach", 0),
    "post_media_view": ("views", 0),
    "post_clicks": ("clicks", 0),
    "post_video_views": ("video_views", 0),
    "post_engaged_users": ("engagements", 1),  # deprecated, unique people (see page_engaged_users)
}
# Impressions left the Page Insights API for "views" (page_media_view / post_media_view) in 2025; the
# older names stay in the tables above so stored or older answers still read. Configurable per install.
DEFAULT_PAGE_METRICS = ("page_media_view", "page_post_engagements", "page_views_total")
DEFAULT_POST_METRICS = ("post_media_view", "post_impressions_unique", "post_clicks")


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_count(value: Any) -> int | None:
    """An integer count, or None for anything else (bool, breakdown dicts, missing values)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def parse_graph_time(text: Any) -> datetime | None:
    """Graph API times such as ``2023-03-08T08:00:00+0000`` as aware UTC datetimes."""
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def ranked_insight_points(
    body: Any,
    *,
    scope: MetricScope,
    object_id: str,
    names: Mapping[str, tuple[str, int]],
    default_at: datetime,
) -> list[Ranked]:
    """Points from a Meta insights answer in the edge or the field shape.

    Each ``values[]`` entry gives one point at its ``end_time`` (``default_at`` when absent, as for
    lifetime metrics); the newer ``total_value`` shape gives one point at ``default_at``. The insight's
    period is kept. Metrics missing from ``names``, unknown periods and breakdown values are skipped.
    """
    if not isinstance(body, dict):
        return []
    insights = body.get("insights")
    container: dict[str, Any] = insights if isinstance(insights, dict) else body
    data = container.get("data")
    ranked: list[Ranked] = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        mapping = names.get(name) if isinstance(name, str) else None
        period = item.get("period", "lifetime")
        if mapping is None or period not in PERIODS:
            continue
        metric, rank = mapping
        for at, raw in _insight_values(item, default_at):
            value = as_count(raw)
            if value is None:
                logger.debug("insight_value_skipped", extra={"metric_name": name, "object_id": object_id})
                continue
            ranked.append((rank, MetricPoint(scope, object_id, metric, value, at, period)))
    return ranked


def _insight_values(item: Mapping[str, Any], default_at: datetime) -> Iterable[tuple[datetime, Any]]:
    values = item.get("values")
    if isinstance(values, list) and values:
        for entry in values:
            if isinstance(entry, dict):
                yield parse_graph_time(entry.get("end_time")) or default_at, entry.get("value")
        return
    total = item.get("total_value")
    if isinstance(total, dict):
        yield default_at, total.get("value")


def best_points(ranked: Iterable[Ranked]) -> list[MetricPoint]:
    """One point per (scope, object, metric, at, period): the lowest rank wins; first-seen order kept."""
    chosen: dict[tuple[object, ...], Ranked] = {}
    for rank, point in ranked:
        key = (point.scope, point.object_id, point.metric, point.at, point.period)
        if key not in chosen or rank < chosen[key][0]:
            chosen[key] = (rank, point)
    return [point for _, point in chosen.values()]


def parse_insights(
    body: Any,
    *,
    scope: MetricScope,
    object_id: str,
    names: Mapping[str, tuple[str, int]],
    default_at: datetime,
) -> list[MetricPoint]:
    """:func:`ranked_insight_points`, with duplicates resolved by :func:`best_points`."""
    return best_points(
        ranked_insight_points(body, scope=scope, object_id=object_id, names=names, default_at=default_at)
    )


def _summary_total(body: Mapping[str, Any], edge: str) -> int | None:
    node = body.get(edge)
    summary = node.get("summary") if isinstance(node, dict) else None
    return as_count(summary.get("total_count")) if isinstance(summary, dict) else None


@dataclass(frozen=True)
class GraphTimeline:
    """Where a Graph API surface lists an account's own posts, and the fields that say what each is."""

    edge: str  # /{account-id}/<edge>
    time_field: str
    text_field: str
    url_field: str
    page: int = 100

    @property
    def fields(self) -> str:
        return f"id,{self.time_field},{self.text_field},{self.url_field}"


PAGE_TIMELINE = GraphTimeline("published_posts", "created_time", "message", "permalink_url")

GraphGet = Callable[[AccountCredentials, str, Mapping[str, str]], Any]


def graph_timeline(
    get: GraphGet, creds: AccountCredentials, since: datetime, timeline: GraphTimeline
) -> list[TimelinePost]:
    """The account's posts since ``since`` from a Graph edge (cursor paging, at most
    :data:`~chorus.platforms.base.TIMELINE_MAX_PAGES` pages; the ``since`` filter is the API's own)."""
    params = {"fields": timeline.fields, "since": str(int(since.timestamp())), "limit": str(timeline.page)}
    found: list[TimelinePost] = []
    for _ in range(TIMELINE_MAX_PAGES):
        body = get(creds, f"{creds.account_id}/{timeline.edge}", params)
        if not isinstance(body, Mapping):
            break
        for item in body.get("data") or []:
            published = timeline_time(item.get(timeline.time_field)) if isinstance(item, Mapping) else None
            if published is None or not item.get("id"):
                continue
            url = item.get(timeline.url_field)
            found.append(
                TimelinePost(
                    platform_post_id=str(item["id"]),
                    published_at=published,
                    text=str(item.get(timeline.text_field) or ""),
                    url=url if isinstance(url, str) else None,
                )
            )
        paging = body.get("paging")
        cursors = paging.get("cursors") if isinstance(paging, Mapping) else None
        after = cursors.get("after") if isinstance(cursors, Mapping) else None
        if not isinstance(paging, Mapping) or not paging.get("next") or not isinstance(after, str):
            break
        params = {**params, "after": after}
    return newest_first(found, since)


class FacebookMetrics:
    """:class:`~chorus.platforms.base.MetricsCollector` for Facebook Pages.

    ``creds.account_id`` is the page id and ``creds.access_token`` a page access token.
    """

    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str = GRAPH_URL,
        *,
        page_metrics: Iterable[str] = DEFAULT_PAGE_METRICS,
        post_metrics: Iterable[str] = DEFAULT_POST_METRICS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._session = session or requests.Session()
        self.base_url = base_url.rstrip("/")
        self.page_metrics = tuple(page_metrics)
        self.post_metric_names = tuple(post_metrics)
        self._clock = clock

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        """Followers and the page's daily insights. Meta retires insights metrics every few releases and
        refuses the whole read when one is unknown, so a refused read is repeated without insights (and
        logged) rather than losing the follower count too."""
        now = self._clock()
        counters = "followers_count,fan_count"
        insights = f"insights.metric({','.join(self.page_metrics)}).period(day)"
        try:
            body = self._get(creds, creds.account_id, {"fields": f"{counters},{insights}"})
        except AuthError:
            raise
        except PermanentError as exc:
            logger.warning(
                "insights_refused",
                extra={"platform": PLATFORM, "object_id": creds.account_id, "reason": exc.message},
            )
            body = self._get(creds, creds.account_id, {"fields": counters})
        if not isinstance(body, dict):
            return []
        ranked: list[Ranked] = []
        # followers_count is the Page's followers; fan_count (Page likes) only stands in when it is absent.
        for field_name, rank in (("followers_count", 0), ("fan_count", 1)):
            value = as_count(body.get(field_name))
            if value is not None:
                ranked.append(
                    (rank, MetricPoint(MetricScope.ACCOUNT, creds.account_id, "followers", value, now))
                )
        ranked += ranked_insight_points(
            body, scope=MetricScope.ACCOUNT, object_id=creds.account_id, names=PAGE_INSIGHTS, default_at=now
        )
        return best_points(ranked)

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        now = self._clock()
        points: list[MetricPoint] = []
        for chunk in batched(list(dict.fromkeys(platform_post_ids)), MAX_IDS_PER_REQUEST):
            points += self._post_batch(creds, chunk, now)
        return points

    def _post_batch(
        self, creds: AccountCredentials, ids: list[str], now: datetime, *, insights: bool = True
    ) -> list[MetricPoint]:
        """One ``?ids=`` call. Graph refuses the whole call when one id is gone or one insights metric is
        unknown, so a refused batch is retried id by id; a refused single post is retried without
        insights (its reaction, comment and share counts still count), then skipped (logged)."""
        try:
            body = self._fetch_posts(creds, ids, insights=insights)
        except AuthError:
            raise
        except PermanentError as exc:
            if len(ids) > 1:
                return [p for one in ids for p in self._post_batch(creds, [one], now, insights=insights)]
            if insights:
                logger.warning(
                    "insights_refused",
                    extra={"platform": PLATFORM, "object_id": ids[0], "reason": exc.message},
                )
                return self._post_batch(creds, ids, now, insights=False)
            logger.warning(
                "post_metrics_skipped",
                extra={"platform": PLATFORM, "post_id": ids[0], "reason": exc.message, "code": exc.code},
            )
            return []
        points: list[MetricPoint] = []
        for post_id in ids:
            post = body.get(post_id) if isinstance(body, dict) else None
            if isinstance(post, dict):
                points += self._post_points(post_id, post, now)
        return points

    def _fetch_posts(self, creds: AccountCredentials, ids: list[str], *, insights: bool) -> Any:
        fields = "reactions.limit(0).summary(true),comments.limit(0).summary(true),shares"
        if insights:
            fields = f"insights.metric({','.join(self.post_metric_names)}),{fields}"
        return self._get(creds, "", {"ids": ",".join(ids), "fields": fields})

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        return graph_timeline(self._get, creds, since, PAGE_TIMELINE)

    def _get(self, creds: AccountCredentials, path: str, params: Mapping[str, str]) -> Any:
        resp = call(
            self._session,
            "GET",
            f"{self.base_url}/{path}",
            PLATFORM,
            params=dict(params),
            headers=bearer(creds.access_token),
        )
        return json_body(resp, PLATFORM)

    @staticmethod
    def _post_points(post_id: str, post: Mapping[str, Any], now: datetime) -> list[MetricPoint]:
        ranked = ranked_insight_points(
            post, scope=MetricScope.POST, object_id=post_id, names=POST_INSIGHTS, default_at=now
        )
        shares = post.get("shares")
        counts = {
            "likes": _summary_total(post, "reactions"),  # all reaction types count as likes
            "comments": _summary_total(post, "comments"),
            # Graph omits `shares` on a post nobody shared; absent stays absent (never a guessed zero).
            "shares": as_count(shares.get("count")) if isinstance(shares, dict) else None,
        }
        for metric, value in counts.items():
            if value is not None:
                ranked.append((0, MetricPoint(MetricScope.POST, post_id, metric, value, now)))
        return best_points(ranked)
