"""Instagram metrics against documented Graph API answers (fixtures/metrics/instagram_media_*.json)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from chorus.platforms.base import AccountCredentials, AuthError, MetricPoint, MetricsCollector, MetricScope
from chorus.platforms.instagram.metrics import InstagramMetrics
from tests.support import fixture_bytes, fixture_json

GRAPH = "https://graph.facebook.com/v21.0"
NOW = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
IG = AccountCredentials(platform="instagram", account_id="17841400000000001", access_token="ig-token")
MEDIA = "17846368219941692"
NEW_MEDIA = "18035507131611621"
MEDIA_METRICS = "reach,saved,likes,comments,shares,views,total_interactions"


def collector() -> InstagramMetrics:
    return InstagramMetrics(requests.Session(), clock=lambda: NOW)


def sent(index: int = 0) -> tuple[str, dict[str, list[str]], str | None]:
    request = responses.calls[index].request
    parts = urlsplit(request.url or "")
    return parts.path, parse_qs(parts.query), request.headers.get("Authorization")


def post(media: str, metric: str, value: int) -> MetricPoint:
    return MetricPoint(MetricScope.POST, media, metric, value, NOW, "lifetime")


def test_instagram_metrics_is_a_metrics_collector() -> None:
    assert isinstance(collector(), MetricsCollector)


@responses.activate
def test_media_insights_in_the_values_shape_become_lifetime_points() -> None:
    # Given the documented media insights answer (impressions, reach, saved in values[])
    body = fixture_bytes("metrics/instagram_media_insights.json")
    responses.add(responses.GET, f"{GRAPH}/{MEDIA}/insights", body=body)
    # When the media's metrics are collected
    points = collector().post_metrics(IG, [MEDIA])
    # Then the media insights edge was asked for the default metrics with the token in the header
    assert sent() == (f"/v21.0/{MEDIA}/insights", {"metric": [MEDIA_METRICS]}, "Bearer ig-token")
    # And every offered metric became a canonical point; `saved` 0 is a real zero, kept
    assert points == [post(MEDIA, "impressions", 8), post(MEDIA, "reach", 5), post(MEDIA, "saves", 0)]


@responses.activate
def test_media_insights_in_the_newer_shape_read_values_and_ignore_breakdowns() -> None:
    # Given the documented newer answer (profile_activity with values[] and total_value + breakdowns)
    body = fixture_bytes("metrics/instagram_media_insights_new_metrics.json")
    responses.add(responses.GET, f"{GRAPH}/{NEW_MEDIA}/insights", body=body)
    # When collected
    points = collector().post_metrics(IG, [NEW_MEDIA])
    # Then profile actions are one clicks point, not one per breakdown
    assert points == [post(NEW_MEDIA, "clicks", 11)]


@responses.activate
def test_media_insights_with_only_total_value_are_read() -> None:
    # Given the newer answer with values[] removed (total_value alone, as the API sends for some metrics)
    body = fixture_json("metrics/instagram_media_insights_new_metrics.json")
    del body["data"][0]["values"]
    responses.add(responses.GET, f"{GRAPH}/{NEW_MEDIA}/insights", json=body)
    # When collected
    # Then total_value.value is the point's value
    assert collector().post_metrics(IG, [NEW_MEDIA]) == [post(NEW_MEDIA, "clicks", 11)]


@responses.activate
def test_a_refused_media_is_skipped_and_the_others_still_count() -> None:
    # Given one media Graph refuses (deleted / metric not offered for its type) and one it answers
    refused = {"error": {"message": "(#100) The media does not exist", "type": "OAuthException", "code": 100}}
    responses.add(responses.GET, f"{GRAPH}/gone/insights", status=400, json=refused)
    responses.add(
        responses.GET,
        f"{GRAPH}/{MEDIA}/insights",
        body=fixture_bytes("metrics/instagram_media_insights.json"),
    )
    # When both are collected
    points = collector().post_metrics(IG, ["gone", MEDIA])
    # Then the answered media has its points and the refused one has none
    assert {p.object_id for p in points} == {MEDIA}
    assert len(responses.calls) == 2


@responses.activate
def test_an_expired_token_stops_collection() -> None:
    expired = {"error": {"message": "Session has expired", "type": "OAuthException", "code": 190}}
    responses.add(responses.GET, f"{GRAPH}/{MEDIA}/insights", status=400, json=expired)
    with pytest.raises(AuthError):
        collector().post_metrics(IG, [MEDIA, NEW_MEDIA])
    assert len(responses.calls) == 1


@responses.activate
def test_account_followers_and_yesterdays_total_value_insights() -> None:
    # Given answers built from the documented IG User fields and the total_value insights shape
    # (no recorded sample of these two answers exists in the fixtures)
    responses.add(
        responses.GET,
        f"{GRAPH}/{IG.account_id}",
        json={"followers_count": 5230, "follows_count": 180, "id": IG.account_id},
    )
    insights = {
        "data": [
            {"name": "reach", "period": "day", "title": "Accounts reached", "total_value": {"value": 940}},
            {
                "name": "profile_views",
                "period": "day",
                "title": "Profile views",
                "total_value": {"value": 37},
            },
            {"name": "accounts_engaged", "period": "day", "total_value": {"value": 12}},
        ]
    }
    responses.add(responses.GET, f"{GRAPH}/{IG.account_id}/insights", json=insights)
    # When account metrics are collected at 15:30 UTC
    points = collector().account_metrics(IG)
    # Then the profile was read for its counters and the insights for the last complete UTC day
    midnight = datetime(2026, 11, 23, tzinfo=UTC)
    assert sent(0) == (
        f"/v21.0/{IG.account_id}",
        {"fields": ["followers_count,follows_count"]},
        "Bearer ig-token",
    )
    assert sent(1)[1] == {
        "metric": ["reach,views,profile_views,website_clicks,total_interactions"],
        "period": ["day"],
        "metric_type": ["total_value"],
        "since": [str(int(datetime(2026, 11, 22, tzinfo=UTC).timestamp()))],
        "until": [str(int(midnight.timestamp()))],
    }
    # And counters are lifetime at now, insights are day points at the end of that day
    acct = IG.account_id
    assert points == [
        MetricPoint(MetricScope.ACCOUNT, acct, "followers", 5230, NOW),
        MetricPoint(MetricScope.ACCOUNT, acct, "follows", 180, NOW),
        MetricPoint(MetricScope.ACCOUNT, acct, "reach", 940, midnight, "day"),
        MetricPoint(MetricScope.ACCOUNT, acct, "profile_visits", 37, midnight, "day"),
    ]


@responses.activate
def test_refused_account_insights_keep_the_follower_counts() -> None:
    # Given the profile read succeeds and the insights read is refused (a retired metric)
    responses.add(
        responses.GET, f"{GRAPH}/{IG.account_id}", json={"followers_count": 5230, "id": IG.account_id}
    )
    retired = {"error": {"message": "(#100) metric[0] must be one of the following values", "code": 100}}
    responses.add(responses.GET, f"{GRAPH}/{IG.account_id}/insights", status=400, json=retired)
    # When account metrics are collected
    # Then the follower count is still returned
    assert collector().account_metrics(IG) == [
        MetricPoint(MetricScope.ACCOUNT, IG.account_id, "followers", 5230, NOW)
    ]
