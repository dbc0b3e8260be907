"""LinkedIn organization (Company Page) metrics from the versioned Community Management API.

* account: ``GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org}``
  (lifetime organic totals of the page's posts) and
  ``GET /rest/networkSizes/{org}?edgeType=COMPANY_FOLLOWED_BY_MEMBER`` (``firstDegreeSize`` -> followers).
* posts: the same statistics finder with ``shares=List(...)`` / ``ugcPosts=List(...)``; each element names
  its post in ``share`` or ``ugcPost``. Posts are sent in groups of :data:`MAX_POSTS_PER_REQUEST`.

totalShareStatistics -> canonical: impressionCount -> impressions, uniqueImpressionsCount -> reach,
clickCount -> clicks, likeCount -> likes, commentCount -> comments, shareCount -> shares. ``engagement`` is
a *rate* (a double, LinkedIn's interactions / impressions); Chorus stores counts, so it becomes
engagements = round(engagement x impressionCount), LinkedIn's own numerator, and only when both are given.

Rest.li 2.0 wants literal ``List(...)`` syntax with each URN percent-encoded inside it, which ``requests``
``params`` would mangle, so the query string is built here.

Timeline (a page's posts made elsewhere, :class:`~chorus.platforms.base.TimelineReader`): the Posts API's
"Find Posts by Authors" finder, ``GET /rest/posts?author={encoded org URN}&q=author&count=50&start={n}
&sortBy=LAST_MODIFIED`` (``r_organization_social``; the versioned headers as every /rest call), answered
``{paging: {start, count, total?, links}, elements: [Post]}`` (a Rest.li collection: the Posts API page on
learn.microsoft.com and the official linkedin-api-python-client's ``CollectionResponse``/``Paging``; no
fixture of it exists). Each Post: ``id`` (share or ugcPost URN), ``author``, ``commentary`` (little text),
``publishedAt`` / ``createdAt`` / ``lastModifiedAt`` (epoch ms), ``lifecycleState``; a reshare carries
``reshareContext``. Pages are asked by ``start`` while a full page comes back, ``paging.total`` is not
reached, and the page is still modified since ``since`` (sorted by last modification, newest first: a
post last modified before ``since`` was created before it too). Only PUBLISHED posts authored by the
page, not reshares, are its posts. A member's posts are not read: that needs ``r_member_social``, a
closed permission Chorus does not ask for, and share statistics exist for pages only.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from chorus.platforms.base import (
    TIMELINE_MAX_PAGES,
    AccountCredentials,
    MetricPoint,
    MetricScope,
    TimelinePost,
    newest_first,
)
from chorus.platforms.http import batched, bearer, call, json_body
from chorus.platforms.linkedin.oauth import API_VERSION, is_organization, organization_urn, rest_headers
from chorus.platforms.linkedin.publish import encoded_urn, plain_text, post_url

logger = logging.getLogger(__name__)

PLATFORM = "linkedin"
API_URL = "https://api.linkedin.com/rest"
DEFAULT_VERSION = API_VERSION  # LinkedIn-Version (YYYYMM); versions are retired after about a year
MAX_POSTS_PER_REQUEST = 20
POSTS_PAGE = 50  # the author finder's count

SHARE_STATISTICS: Mapping[str, str] = {
    "impressionCount": "impressions",
    "uniqueImpressionsCount": "reach",
    "clickCount": "clicks",
    "likeCount": "likes",
    "commentCount": "comments",
    "shareCount": "shares",
}
POST_KINDS: Mapping[str, str] = {"urn:li:share:": "shares", "urn:li:ugcPost:": "ugcPosts"}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def share_statistics_points(
    scope: MetricScope, object_id: str, stats: Mapping[str, Any], at: datetime
) -> list[MetricPoint]:
    """Canonical points from one ``totalShareStatistics`` object."""
    points = []
    for field_name, metric in SHARE_STATISTICS.items():
        value = _count(stats.get(field_name))
        if value is not None:
            points.append(MetricPoint(scope, object_id, metric, value, at))
    rate, impressions = stats.get("engagement"), _count(stats.get("impressionCount"))
    if isinstance(rate, int | float) and not isinstance(rate, bool) and math.isfinite(rate) and impressions:
        points.append(MetricPoint(scope, object_id, "engagements", round(rate * impressions), at))
    return points


class LinkedInMetrics:
    """:class:`~chorus.platforms.base.MetricsCollector` for LinkedIn organizations
    (``creds.account_id`` = organization id or URN; post ids = share or ugcPost URNs)."""

    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        version: str = DEFAULT_VERSION,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._session = session or requests.Session()
        self.base_url = (base_url or API_URL).rstrip("/")  # the module's address when built
        self.version = version
        self._clock = clock

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        if not is_organization(creds.account_id):
            return []  # share statistics exist for organization pages only, not for a member
        now = self._clock()
        org = organization_urn(creds.account_id)
        points: list[MetricPoint] = []
        for element in self._statistics(creds, org, ""):
            stats = element.get("totalShareStatistics")
            if isinstance(stats, dict) and "share" not in element and "ugcPost" not in element:
                points += share_statistics_points(MetricScope.ACCOUNT, creds.account_id, stats, now)
        size = self._get(creds, f"/networkSizes/{encoded_urn(org)}?edgeType=COMPANY_FOLLOWED_BY_MEMBER")
        followers = _count(size.get("firstDegreeSize")) if isinstance(size, dict) else None
        if followers is not None:
            points.append(MetricPoint(MetricScope.ACCOUNT, creds.account_id, "followers", followers, now))
        return points

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        if not is_organization(creds.account_id):
            return []
        now = self._clock()
        org = organization_urn(creds.account_id)
        wanted = list(dict.fromkeys(platform_post_ids))
        points: list[MetricPoint] = []
        for prefix, param in POST_KINDS.items():
            urns = [urn for urn in wanted if urn.startswith(prefix)]
            for chunk in batched(urns, MAX_POSTS_PER_REQUEST):
                extra = f"&{param}=List({','.join(encoded_urn(urn) for urn in chunk)})"
                for element in self._statistics(creds, org, extra):
                    post = element.get("share") or element.get("ugcPost")
                    stats = element.get("totalShareStatistics")
                    if isinstance(post, str) and post in chunk and isinstance(stats, dict):
                        points += share_statistics_points(MetricScope.POST, post, stats, now)
        unsupported = [urn for urn in wanted if not urn.startswith(tuple(POST_KINDS))]
        if unsupported:
            logger.warning("post_metrics_skipped", extra={"platform": PLATFORM, "post_ids": unsupported})
        return points

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        """The page's own posts published at or after ``since``, newest first (none for a member)."""
        if not is_organization(creds.account_id):
            return []
        org = organization_urn(creds.account_id)
        found: list[TimelinePost] = []
        since_ms = since.timestamp() * 1000
        start = 0
        for _ in range(TIMELINE_MAX_PAGES):
            body = self._get(creds, f"/posts?author={encoded_urn(org)}&q=author&count={POSTS_PAGE}&start={start}"
                                    "&sortBy=LAST_MODIFIED")  # fmt: skip
            body = body if isinstance(body, dict) else {}
            elements = [e for e in body.get("elements") or [] if isinstance(e, dict)]
            reaches_back = False
            for element in elements:
                modified = _ms(element.get("lastModifiedAt")) or _ms(element.get("createdAt"))
                reaches_back = reaches_back or (modified is not None and modified < since_ms)
                post = _own_post(element, org)
                if post is not None:
                    found.append(post)
            paging = body.get("paging")
            start += len(elements)
            total = _count(paging.get("total")) if isinstance(paging, dict) else None
            if reaches_back or len(elements) < POSTS_PAGE or (total is not None and start >= total):
                break
        return newest_first(found, since)

    def _statistics(self, creds: AccountCredentials, org: str, extra: str) -> Iterable[dict[str, Any]]:
        body = self._get(
            creds,
            f"/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={encoded_urn(org)}{extra}",
        )
        elements = body.get("elements") if isinstance(body, dict) else None
        return [e for e in elements if isinstance(e, dict)] if isinstance(elements, list) else []

    def _get(self, creds: AccountCredentials, path_and_query: str) -> Any:
        headers = {**bearer(creds.access_token), **rest_headers(self.version)}
        resp = call(self._session, "GET", f"{self.base_url}{path_and_query}", PLATFORM, headers=headers)
        return json_body(resp, PLATFORM)


def _ms(value: Any) -> float | None:
    """An epoch-milliseconds time field, or None."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _own_post(element: Mapping[str, Any], org: str) -> TimelinePost | None:
    """A listed post as the page's own post: published, authored by the page, not a reshare."""
    urn, at = element.get("id"), _ms(element.get("publishedAt")) or _ms(element.get("createdAt"))
    if not isinstance(urn, str) or not urn.startswith(tuple(POST_KINDS)) or at is None:
        return None
    if element.get("author") != org or element.get("reshareContext"):
        return None
    if element.get("lifecycleState", "PUBLISHED") != "PUBLISHED":
        return None
    published = datetime.fromtimestamp(at / 1000, UTC)
    return TimelinePost(urn, published, plain_text(str(element.get("commentary") or "")), post_url(urn))
