"""Threads media insights against the documented answer
(fixtures/platform_api/publishing/threads/media_insights_response.json) and the errors a collector meets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import AccountCredentials, AuthError, MetricPoint, MetricsCollector, MetricScope
from chorus.platforms.threads.metrics import ThreadsMetrics
from tests.support import fixture_json

API = "https://graph.threads.net/v1.0"
NOW = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
CREDS = AccountCredentials(platform="threads", account_id="17841405793187218", access_token="th-token")
ASKED = [
    matchers.query_param_matcher({"metric": "views,likes,replies,reposts,quotes,shares"}),
    matchers.header_matcher({"Authorization": "Bearer th-token"}),
]


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def collector() -> ThreadsMetrics:
    return ThreadsMetrics(requests.Session(), clock=lambda: NOW)


def point(media: str, metric: str, value: int) -> MetricPoint:
    return MetricPoint(MetricScope.POST, media, metric, value, NOW, "lifetime")


def test_threads_metrics_is_a_metrics_collector() -> None:
    assert isinstance(collector(), MetricsCollector)


def test_media_insights_become_lifetime_points_with_canonical_names(rsps: responses.RequestsMock) -> None:
    # Given the documented media insights answer (likes 100, replies 10)
    rsps.get(f"{API}/m1/insights", json=fixture_json("platform_api/publishing/threads/media_insights_response.json"),
             match=ASKED)  # fmt: skip
    # When the media's metrics are collected
    points = collector().post_metrics(CREDS, ["m1"])
    # Then likes and replies (as comments) are points; metrics not answered are absent, not zero
    assert points == [point("m1", "likes", 100), point("m1", "comments", 10)]


def test_reposts_count_as_shares_and_threads_own_shares_only_without_them(
    rsps: responses.RequestsMock,
) -> None:
    def insight(name: str, value: int) -> dict[str, object]:
        return {
            "name": name,
            "period": "lifetime",
            "values": [{"value": value}],
            "id": f"m/insights/{name}/lifetime",
        }

    rsps.get(f"{API}/m1/insights", json={"data": [insight("views", 900), insight("reposts", 3), insight("shares", 7),
                                                   insight("quotes", 2)]})  # fmt: skip
    rsps.get(f"{API}/m2/insights", json={"data": [insight("shares", 7)]})
    points = collector().post_metrics(CREDS, ["m1", "m2"])
    assert points == [point("m1", "views", 900), point("m1", "shares", 3), point("m1", "quotes", 2),
                      point("m2", "shares", 7)]  # fmt: skip


def test_a_repost_facade_answers_nothing_and_a_deleted_media_is_skipped(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/facade/insights", json={"data": []})
    rsps.get(f"{API}/gone/insights", status=400,
             json={"error": {"message": "Object with ID 'gone' does not exist", "code": 100}})  # fmt: skip
    rsps.get(
        f"{API}/m1/insights",
        json=fixture_json("platform_api/publishing/threads/media_insights_response.json"),
    )
    points = collector().post_metrics(CREDS, ["facade", "gone", "m1", "m1"])
    assert [p.object_id for p in points] == ["m1", "m1"]


def test_a_dead_token_stops_the_collection(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/m1/insights", status=400,
             json={"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}})  # fmt: skip
    with pytest.raises(AuthError):
        collector().post_metrics(CREDS, ["m1", "m2"])


def test_no_account_level_metric_is_read(rsps: responses.RequestsMock) -> None:
    assert collector().account_metrics(CREDS) == []
    assert len(rsps.calls) == 0
