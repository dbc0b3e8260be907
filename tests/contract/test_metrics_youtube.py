"""YouTube Data API statistics against a recorded videos.list answer (fixtures/metrics/youtube_*.json)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from chorus.platforms.base import AccountCredentials, MetricPoint, MetricsCollector, MetricScope, RateLimited
from chorus.platforms.youtube.metrics import YouTubeMetrics
from chorus.platforms.youtube.quota import UNITS, MemoryLedger, Quota, quota_day, until_next_quota_day
from tests.support import fixture_bytes, fixture_json

API = "https://www.googleapis.com/youtube/v3"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
CREDS = AccountCredentials(platform="youtube", account_id=CHANNEL, access_token="yt-token")
VIDEO = "D-lhorsDlUQ"
LEDGER = MemoryLedger()


def collector() -> YouTubeMetrics:
    return YouTubeMetrics(requests.Session(), clock=lambda: NOW, quota=Quota(LEDGER, clock=lambda: NOW))


def sent(index: int = 0) -> tuple[str, dict[str, list[str]], str | None]:
    request = responses.calls[index].request
    parts = urlsplit(request.url or "")
    return parts.path, parse_qs(parts.query), request.headers.get("Authorization")


def channel_answer(statistics: dict[str, Any]) -> dict[str, Any]:
    """channels.list built from the documented resource fields (no recorded sample in the fixtures)."""
    return {
        "kind": "youtube#channelListResponse",
        "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
        "items": [{"kind": "youtube#channel", "id": CHANNEL, "statistics": statistics}],
    }


def test_youtube_metrics_is_a_metrics_collector() -> None:
    assert isinstance(collector(), MetricsCollector)


@responses.activate
def test_string_statistics_become_integer_views_likes_and_comments() -> None:
    # Given videos.list answers with the recorded response (counts are JSON strings)
    body = fixture_bytes("metrics/youtube_videos_list_statistics.json")
    responses.add(responses.GET, f"{API}/videos", body=body)
    # When the video's metrics are collected
    points = collector().post_metrics(CREDS, [VIDEO])
    # Then one request asked for statistics of that id with the OAuth token
    assert sent() == ("/youtube/v3/videos", {"part": ["statistics"], "id": [VIDEO]}, "Bearer yt-token")
    # And views/likes/comments are integers; dislikeCount and favoriteCount are not metrics
    assert points == [
        MetricPoint(MetricScope.POST, VIDEO, "views", 7920, NOW),
        MetricPoint(MetricScope.POST, VIDEO, "likes", 190, NOW),
        MetricPoint(MetricScope.POST, VIDEO, "comments", 32, NOW),
    ]


@responses.activate
def test_a_hidden_like_count_is_absent_not_zero() -> None:
    # Given the recorded response with likeCount removed (the owner hid likes)
    body = fixture_json("metrics/youtube_videos_list_statistics.json")
    del body["items"][0]["statistics"]["likeCount"]
    responses.add(responses.GET, f"{API}/videos", json=body)
    points = collector().post_metrics(CREDS, [VIDEO])
    assert [p.metric for p in points] == ["views", "comments"]


@responses.activate
def test_fifty_one_videos_take_two_requests() -> None:
    responses.add(responses.GET, f"{API}/videos", json={"items": []})
    collector().post_metrics(CREDS, [f"v{n}" for n in range(51)])
    assert [len(sent(i)[1]["id"][0].split(",")) for i in range(len(responses.calls))] == [50, 1]


@responses.activate
def test_channel_statistics_give_followers_and_views() -> None:
    stats = {
        "viewCount": "1234567",
        "subscriberCount": "2300",
        "hiddenSubscriberCount": False,
        "videoCount": "9",
    }
    responses.add(responses.GET, f"{API}/channels", json=channel_answer(stats))
    points = collector().account_metrics(CREDS)
    assert sent()[1] == {"part": ["statistics"], "id": [CHANNEL]}
    assert points == [
        MetricPoint(MetricScope.ACCOUNT, CHANNEL, "followers", 2300, NOW),
        MetricPoint(MetricScope.ACCOUNT, CHANNEL, "views", 1234567, NOW),
    ]


@responses.activate
def test_a_hidden_subscriber_count_gives_no_followers_point() -> None:
    stats = {"viewCount": "10", "subscriberCount": "0", "hiddenSubscriberCount": True, "videoCount": "1"}
    responses.add(responses.GET, f"{API}/channels", json=channel_answer(stats))
    points = collector().account_metrics(CREDS)
    assert [p.metric for p in points] == ["views"]


@responses.activate
def test_an_exhausted_quota_is_rate_limited() -> None:
    quota = {
        "error": {
            "code": 403,
            "message": "The request cannot be completed because you have exceeded your quota.",
            "errors": [{"message": "quota", "domain": "youtube.quota", "reason": "quotaExceeded"}],
        }
    }
    responses.add(responses.GET, f"{API}/videos", status=403, json=quota)
    ledger = MemoryLedger()
    with pytest.raises(RateLimited) as caught:
        YouTubeMetrics(
            requests.Session(), clock=lambda: NOW, quota=Quota(ledger, clock=lambda: NOW)
        ).post_metrics(CREDS, [VIDEO])
    assert caught.value.code == "quotaExceeded"
    # the day's units are spent: until the next quota day (midnight Pacific), nothing more is asked
    assert caught.value.retry_after == until_next_quota_day(NOW)
    assert ledger.used(UNITS, quota_day(NOW)) == 10_000


@responses.activate
def test_each_call_costs_a_unit_and_a_spent_budget_sends_nothing() -> None:
    ledger = MemoryLedger()
    metrics = YouTubeMetrics(requests.Session(), clock=lambda: NOW, quota=Quota(ledger, clock=lambda: NOW))
    responses.add(responses.GET, f"{API}/videos", json={"items": []})
    metrics.post_metrics(CREDS, [VIDEO])
    assert ledger.used(UNITS, quota_day(NOW)) == 1
    ledger.spent[(UNITS, quota_day(NOW))] = 10_000
    with pytest.raises(RateLimited, match="daily API quota"):
        metrics.post_metrics(CREDS, [VIDEO])
    assert len(responses.calls) == 1
