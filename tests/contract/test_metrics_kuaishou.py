"""Kuaishou counts: ``photo/info`` per video and ``user_info`` for the account (answers not retrievable
from Kuaishou's pages: the fields its clients read), and the ``result`` errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import AccountCredentials, AuthError, MetricPoint, MetricsCollector, MetricScope
from chorus.platforms.kuaishou.metrics import KuaishouMetrics

BASE = "https://open.kuaishou.com/openapi"
NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
CREDS = AccountCredentials(
    platform="kuaishou", account_id="f8d7", access_token="ks-1", extra={"app_id": "ks-app"}
)
AUTH = {"app_id": "ks-app", "access_token": "ks-1"}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def collector() -> KuaishouMetrics:
    return KuaishouMetrics(requests.Session(), clock=lambda: NOW)


def test_kuaishou_metrics_is_a_metrics_collector() -> None:
    assert isinstance(collector(), MetricsCollector)


def test_each_video_gives_views_likes_and_comments_and_a_refused_one_is_skipped(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(f"{BASE}/photo/info", json={"result": 10000200, "error_msg": "参数错误"},
             match=[matchers.query_param_matcher({**AUTH, "photo_id": "3xgone"})])  # fmt: skip
    rsps.get(f"{BASE}/photo/info", json={"result": 1, "video_info": {
        "photo_id": "3xabc", "caption": "c", "view_count": 1500, "like_count": 80, "comment_count": 12}},
        match=[matchers.query_param_matcher({**AUTH, "photo_id": "3xabc"})])  # fmt: skip
    assert collector().post_metrics(CREDS, ["3xgone", "3xabc"]) == [
        MetricPoint(MetricScope.POST, "3xabc", "views", 1500, NOW),
        MetricPoint(MetricScope.POST, "3xabc", "likes", 80, NOW),
        MetricPoint(MetricScope.POST, "3xabc", "comments", 12, NOW),
    ]


def test_the_account_gives_followers_and_follows(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/user_info", json={"result": 1, "user_info": {"name": "快手小店", "fan": 1200, "follow": 35}},
             match=[matchers.query_param_matcher(AUTH)])  # fmt: skip
    assert collector().account_metrics(CREDS) == [
        MetricPoint(MetricScope.ACCOUNT, "f8d7", "followers", 1200, NOW),
        MetricPoint(MetricScope.ACCOUNT, "f8d7", "follows", 35, NOW),
    ]


def test_an_invalid_token_stops_the_collection(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/photo/info", json={"result": 100200102, "error_msg": "无效的 access_token"})
    with pytest.raises(AuthError):
        collector().post_metrics(CREDS, ["3xabc"])
