"""X API v2 public metrics against the documented Tweet object (fixtures/metrics/x_v2_*.json)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from chorus.platforms.base import AccountCredentials, MetricPoint, MetricsCollector, MetricScope, RateLimited
from chorus.platforms.x.metrics import XMetrics
from tests.support import fixture_bytes, fixture_json

API = "https://api.x.com"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CREDS = AccountCredentials(platform="x", account_id="2244994945", access_token="x-token")
TWEET = "1212092628029698048"


def collector() -> XMetrics:
    return XMetrics(requests.Session(), clock=lambda: NOW)


def sent(index: int = 0) -> tuple[str, dict[str, list[str]], str | None]:
    request = responses.calls[index].request
    parts = urlsplit(request.url or "")
    return parts.path, parse_qs(parts.query), request.headers.get("Authorization")


def post(metric: str, value: int, tweet: str = TWEET) -> MetricPoint:
    return MetricPoint(MetricScope.POST, tweet, metric, value, NOW)


def test_x_metrics_is_a_metrics_collector() -> None:
    assert isinstance(collector(), MetricsCollector)


@responses.activate
def test_tweet_public_metrics_map_to_canonical_names_and_impressions_stay_absent() -> None:
    # Given GET /2/tweets answers with the documented Tweet object in data[]
    body = b'{"data": [' + fixture_bytes("metrics/x_v2_tweet_public_metrics.json") + b"]}"
    responses.add(responses.GET, f"{API}/2/tweets", body=body)
    # When the tweet's metrics are collected
    points = collector().post_metrics(CREDS, [TWEET])
    # Then one request asked for public_metrics of that id with the bearer token
    assert sent() == ("/2/tweets", {"ids": [TWEET], "tweet.fields": ["public_metrics"]}, "Bearer x-token")
    # And retweet/reply/like/quote counts became shares/comments/likes/quotes; no impression_count, no point
    assert points == [post("shares", 8), post("comments", 2), post("likes", 40), post("quotes", 1)]


@responses.activate
def test_impression_and_bookmark_counts_are_read_when_present() -> None:
    # Given the documented Tweet with the newer impression_count and bookmark_count added
    tweet = fixture_json("metrics/x_v2_tweet_public_metrics.json")
    tweet["public_metrics"] |= {"impression_count": 3021, "bookmark_count": 5}
    responses.add(responses.GET, f"{API}/2/tweets", json={"data": [tweet]})
    points = collector().post_metrics(CREDS, [TWEET])
    assert post("impressions", 3021) in points
    assert post("saves", 5) in points


@responses.activate
def test_ids_the_api_cannot_return_yield_no_points() -> None:
    # Given a partial answer: one Tweet in data[], one id in errors[] (documented v2 partial-error shape)
    body = {
        "data": [fixture_json("metrics/x_v2_tweet_public_metrics.json")],
        "errors": [
            {
                "value": "20",
                "detail": "Could not find tweet with ids: [20].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "20",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ],
    }
    responses.add(responses.GET, f"{API}/2/tweets", json=body)
    points = collector().post_metrics(CREDS, [TWEET, "20"])
    assert sent()[1]["ids"] == [f"{TWEET},20"]
    assert {p.object_id for p in points} == {TWEET}


@responses.activate
def test_more_than_a_hundred_ids_are_split_into_batches_of_a_hundred() -> None:
    responses.add(responses.GET, f"{API}/2/tweets", json={"data": []})
    collector().post_metrics(CREDS, [str(n) for n in range(101)])
    assert [len(sent(i)[1]["ids"][0].split(",")) for i in range(len(responses.calls))] == [100, 1]


@responses.activate
def test_user_public_metrics_give_followers_and_follows() -> None:
    # Given GET /2/users/:id built from the documented User fields (no recorded sample in the fixtures)
    user = {
        "data": {
            "id": "2244994945",
            "name": "Developers",
            "username": "XDevelopers",
            "public_metrics": {
                "followers_count": 570000,
                "following_count": 2048,
                "tweet_count": 3650,
                "listed_count": 1672,
            },
        }
    }
    responses.add(responses.GET, f"{API}/2/users/2244994945", json=user)
    points = collector().account_metrics(CREDS)
    assert sent() == ("/2/users/2244994945", {"user.fields": ["public_metrics"]}, "Bearer x-token")
    assert points == [
        MetricPoint(MetricScope.ACCOUNT, "2244994945", "followers", 570000, NOW),
        MetricPoint(MetricScope.ACCOUNT, "2244994945", "follows", 2048, NOW),
    ]


@responses.activate
def test_a_429_parks_until_the_rate_limit_window_resets() -> None:
    reset = str(int(datetime.now(UTC).timestamp()) + 900)
    responses.add(
        responses.GET,
        f"{API}/2/tweets",
        status=429,
        json={
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        headers={"x-rate-limit-limit": "300", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset},
    )
    with pytest.raises(RateLimited) as caught:
        collector().post_metrics(CREDS, [TWEET])
    assert caught.value.retry_after is not None
    assert 800 < caught.value.retry_after <= 900
