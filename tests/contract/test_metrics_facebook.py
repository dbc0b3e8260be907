"""Facebook Page metrics against documented Graph API answers (fixtures/metrics/facebook_*.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MetricPoint,
    MetricsCollector,
    MetricScope,
    RateLimited,
)
from chorus.platforms.facebook.metrics import PAGE_INSIGHTS, FacebookMetrics, parse_insights
from tests.support import fixture_bytes, fixture_json

GRAPH = "https://graph.facebook.com/v21.0"
NOW = datetime(2023, 3, 9, 12, 0, tzinfo=UTC)
PAGE = AccountCredentials(platform="facebook", account_id="123456", access_token="page-token")
POST_ID = "1234567_98765432"
ACCOUNT_FIELDS = (
    "followers_count,fan_count,"
    "insights.metric(page_media_view,page_post_engagements,page_views_total).period(day)"
)
POST_FIELDS = (
    "insights.metric(post_media_view,post_impressions_unique,post_clicks),"
    "reactions.limit(0).summary(true),comments.limit(0).summary(true),shares"
)


def collector() -> FacebookMetrics:
    return FacebookMetrics(requests.Session(), clock=lambda: NOW)


def sent(index: int = 0) -> tuple[str, dict[str, list[str]], str | None]:
    request = responses.calls[index].request
    parts = urlsplit(request.url or "")
    return parts.path, parse_qs(parts.query), request.headers.get("Authorization")


def fields_are(fields: str) -> Any:
    return responses.matchers.query_param_matcher({"fields": fields}, strict_match=False)


def ids_are(ids: str) -> Any:
    return responses.matchers.query_param_matcher({"ids": ids}, strict_match=False)


def account_point(metric: str, value: int, at: datetime, period: str) -> MetricPoint:
    return MetricPoint(MetricScope.ACCOUNT, "123456", metric, value, at, period)


def test_facebook_metrics_is_a_metrics_collector() -> None:
    assert isinstance(collector(), MetricsCollector)
    assert collector().name == "facebook"


@responses.activate
def test_page_insights_in_the_fields_shape_become_points_per_end_time_and_period() -> None:
    # Given the Graph API answers the page read with the documented fields=insights body
    responses.add(
        responses.GET, f"{GRAPH}/123456", body=fixture_bytes("metrics/facebook_page_insights_field.json")
    )
    # When the page's account metrics are collected
    points = collector().account_metrics(PAGE)
    # Then one request asked for followers and the daily insights with the page token in the header
    path, query, auth = sent()
    assert (path, query, auth) == ("/v21.0/123456", {"fields": [ACCOUNT_FIELDS]}, "Bearer page-token")
    assert "access_token" not in query
    # And page_engaged_users (the only metric offered) gives one point per value, end_time and period kept
    mar8, mar9 = datetime(2023, 3, 8, 8, tzinfo=UTC), datetime(2023, 3, 9, 8, tzinfo=UTC)
    assert points == [
        account_point("engagements", 0, mar8, "day"),
        account_point("engagements", 0, mar9, "day"),
        account_point("engagements", 1, mar8, "week"),
        account_point("engagements", 1, mar9, "week"),
        account_point("engagements", 1, mar8, "days_28"),
        account_point("engagements", 1, mar9, "days_28"),
    ]
    # And no followers point is invented: the body has no followers_count
    assert not [p for p in points if p.metric == "followers"]


@responses.activate
def test_insights_paging_is_not_followed() -> None:
    # Given the documented answer carries paging.next (the next time window)
    responses.add(
        responses.GET, f"{GRAPH}/123456", body=fixture_bytes("metrics/facebook_page_insights_field.json")
    )
    # When account metrics are collected
    collector().account_metrics(PAGE)
    # Then exactly one request was made
    assert len(responses.calls) == 1


@responses.activate
def test_followers_count_wins_over_fan_count_and_is_stamped_at_collection_time() -> None:
    # Given the documented body plus the page's followers_count and fan_count fields
    body = fixture_json("metrics/facebook_page_insights_field.json") | {
        "followers_count": 1520,
        "fan_count": 1490,
    }
    responses.add(responses.GET, f"{GRAPH}/123456", json=body)
    # When collected
    points = collector().account_metrics(PAGE)
    # Then there is one followers point, from followers_count, lifetime at now
    assert [p for p in points if p.metric == "followers"] == [
        account_point("followers", 1520, NOW, "lifetime")
    ]


def test_the_insights_edge_shape_skips_dict_valued_breakdowns_instead_of_summing_them() -> None:
    # Given the /{page-id}/insights edge answer with page_fans_city (a top-50-cities breakdown)
    body = fixture_json("metrics/facebook_page_insights_edge_page_fans_city.json")
    # When parsed even with the breakdown mapped to a canonical metric
    points = parse_insights(
        body,
        scope=MetricScope.ACCOUNT,
        object_id="page",
        names={"page_fans_city": ("followers", 0)},
        default_at=NOW,
    )
    # Then no point is produced (a sum of the top 50 cities is not the follower count)
    assert points == []


def test_the_insights_edge_shape_yields_points_for_scalar_values() -> None:
    # Given the edge shape ({"data": [...], "paging": ...}) holding a scalar metric
    body = fixture_json("metrics/facebook_page_insights_field.json")["insights"]
    assert set(body) == {"data", "paging"}
    # When parsed with the page metric names
    points = parse_insights(
        body, scope=MetricScope.ACCOUNT, object_id="123456", names=PAGE_INSIGHTS, default_at=NOW
    )
    # Then it reads the same six points as the fields shape
    assert len(points) == 6
    assert {p.period for p in points} == {"day", "week", "days_28"}


def test_the_current_metric_wins_over_its_deprecated_predecessor_for_the_same_slot() -> None:
    at = "2023-03-08T08:00:00+0000"
    body = {
        "data": [
            {"name": "page_engaged_users", "period": "day", "values": [{"value": 3, "end_time": at}]},
            {"name": "page_post_engagements", "period": "day", "values": [{"value": 9, "end_time": at}]},
        ]
    }
    points = parse_insights(
        body, scope=MetricScope.ACCOUNT, object_id="p", names=PAGE_INSIGHTS, default_at=NOW
    )
    assert [(p.metric, p.value) for p in points] == [("engagements", 9)]


@responses.activate
def test_post_insights_are_batched_by_ids_and_lifetime_values_are_stamped_now() -> None:
    # Given the ?ids= answer wraps the documented post-with-insights body under the post's id
    body = b'{"' + POST_ID.encode() + b'": ' + fixture_bytes("metrics/facebook_post_insights.json") + b"}"
    responses.add(responses.GET, f"{GRAPH}/", body=body)
    # When the post's metrics are collected
    points = collector().post_metrics(PAGE, [POST_ID, POST_ID])
    # Then one request named the (deduplicated) id and the fields
    path, query, auth = sent()
    assert (path, query, auth) == (
        "/v21.0/",
        {"ids": [POST_ID], "fields": [POST_FIELDS]},
        "Bearer page-token",
    )
    # And the lifetime post_engaged_users value became an engagements point at collection time
    assert points == [MetricPoint(MetricScope.POST, POST_ID, "engagements", 0, NOW, "lifetime")]


@responses.activate
def test_post_reactions_comments_and_shares_become_likes_comments_and_shares() -> None:
    # Given a post answer with the documented summary edges (built from the Graph field names)
    post = fixture_json("metrics/facebook_post_insights.json") | {
        "reactions": {"data": [], "summary": {"total_count": 12, "viewer_reaction": "NONE"}},
        "comments": {"data": [], "summary": {"order": "ranked", "total_count": 4, "can_comment": True}},
        "shares": {"count": 2},
    }
    responses.add(responses.GET, f"{GRAPH}/", json={POST_ID: post})
    # When collected
    points = collector().post_metrics(PAGE, [POST_ID])
    # Then each count is a lifetime point beside the insight
    assert {(p.metric, p.value) for p in points} == {
        ("engagements", 0),
        ("likes", 12),
        ("comments", 4),
        ("shares", 2),
    }


@responses.activate
def test_a_batch_refused_for_one_missing_post_is_retried_post_by_post() -> None:
    # Given Graph refuses the two-id batch because one post is gone, and then answers per id
    gone = {"error": {"message": "(#100) Some of the aliases you requested do not exist: 1_2", "code": 100}}
    good = b'{"' + POST_ID.encode() + b'": ' + fixture_bytes("metrics/facebook_post_insights.json") + b"}"
    responses.get(f"{GRAPH}/", status=400, json=gone, match=[ids_are(f"{POST_ID},1_2")])
    responses.get(f"{GRAPH}/", body=good, match=[ids_are(POST_ID)])
    responses.get(f"{GRAPH}/", status=400, json=gone, match=[ids_are("1_2")])
    # When both posts are collected
    points = collector().post_metrics(PAGE, [POST_ID, "1_2"])
    # Then the existing post still has its point and the missing one is skipped
    assert points == [MetricPoint(MetricScope.POST, POST_ID, "engagements", 0, NOW, "lifetime")]
    assert [sent(i)[1]["ids"] for i in range(len(responses.calls))] == [
        [f"{POST_ID},1_2"],
        [POST_ID],
        ["1_2"],
        ["1_2"],  # once more without insights before giving up on it
    ]


@responses.activate
def test_an_expired_token_is_raised_not_retried_post_by_post() -> None:
    expired = {"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}}
    responses.add(responses.GET, f"{GRAPH}/", status=400, json=expired)
    with pytest.raises(AuthError):
        collector().post_metrics(PAGE, [POST_ID, "1_2"])
    assert len(responses.calls) == 1


@responses.activate
def test_throttling_is_raised_as_rate_limited() -> None:
    throttled = {"error": {"message": "(#32) Page request limit reached", "code": 32}}
    usage = json.dumps(
        {"123456": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 2}]}
    )
    responses.add(
        responses.GET,
        f"{GRAPH}/123456",
        status=400,
        json=throttled,
        headers={"X-Business-Use-Case-Usage": usage},
    )
    with pytest.raises(RateLimited) as caught:
        collector().account_metrics(PAGE)
    assert caught.value.retry_after == 120.0


@responses.activate
def test_more_than_fifty_posts_are_sent_in_batches_of_fifty() -> None:
    responses.add(responses.GET, f"{GRAPH}/", json={})
    ids = [f"1_{n}" for n in range(51)]
    assert collector().post_metrics(PAGE, ids) == []
    assert [len(sent(i)[1]["ids"][0].split(",")) for i in range(len(responses.calls))] == [50, 1]


@responses.activate
def test_a_refused_insights_metric_does_not_cost_the_follower_count() -> None:
    # Given Graph refuses the page read because one insights metric was retired
    retired = {"error": {"message": "(#100) The value must be a valid insights metric", "code": 100}}
    responses.get(f"{GRAPH}/123456", status=400, json=retired, match=[fields_are(ACCOUNT_FIELDS)])
    responses.get(
        f"{GRAPH}/123456",
        json={"followers_count": 1520, "id": "123456"},
        match=[fields_are("followers_count,fan_count")],
    )
    # When account metrics are collected
    points = collector().account_metrics(PAGE)
    # Then the read is repeated without insights and the follower count still arrives
    assert points == [account_point("followers", 1520, NOW, "lifetime")]
    assert len(responses.calls) == 2


@responses.activate
def test_a_post_whose_insights_are_refused_still_gets_its_counts() -> None:
    # Given Graph refuses the post read with insights but answers the counts-only read
    retired = {"error": {"message": "(#100) The value must be a valid insights metric", "code": 100}}
    counts_only = "reactions.limit(0).summary(true),comments.limit(0).summary(true),shares"
    responses.get(f"{GRAPH}/", status=400, json=retired, match=[fields_are(POST_FIELDS)])
    responses.get(
        f"{GRAPH}/",
        json={POST_ID: {"id": POST_ID, "reactions": {"data": [], "summary": {"total_count": 7}}}},
        match=[fields_are(counts_only)],
    )
    # When collected
    points = collector().post_metrics(PAGE, [POST_ID])
    # Then the counts it could read are points
    assert points == [MetricPoint(MetricScope.POST, POST_ID, "likes", 7, NOW)]
