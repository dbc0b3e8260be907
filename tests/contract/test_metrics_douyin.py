"""Douyin item data against the SKIT sample (fixtures/platform_api/china/douyin/video_data_v1_response_skit.json):
plays, likes, comments and shares per video, batches of item ids, and the errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import AccountCredentials, AuthError, MetricPoint, MetricsCollector, MetricScope
from chorus.platforms.douyin import metrics as douyin_metrics
from chorus.platforms.douyin.metrics import DouyinMetrics
from tests.support import fixture_json

URL = "https://open.douyin.com/api/douyin/v1/video/video_data/"
NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
CREDS = AccountCredentials(platform="douyin", account_id="aaa-bbb-ccc", access_token="act.1")
SAMPLE = fixture_json("platform_api/china/douyin/video_data_v1_response_skit.json")
ITEM = SAMPLE["data"]["list"][0]["item_id"]
ASKED = [
    matchers.header_matcher({"access-token": "act.1"}),
    matchers.query_param_matcher({"open_id": "aaa-bbb-ccc"}),
]


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def collector() -> DouyinMetrics:
    return DouyinMetrics(requests.Session(), clock=lambda: NOW)


def test_douyin_metrics_is_a_metrics_collector() -> None:
    assert isinstance(collector(), MetricsCollector)


def test_the_sample_gives_views_likes_comments_and_shares(rsps: responses.RequestsMock) -> None:
    rsps.post(URL, json=SAMPLE, match=[*ASKED, matchers.json_params_matcher({"item_ids": [ITEM]})])
    points = collector().post_metrics(CREDS, [ITEM, ITEM])
    assert points == [
        MetricPoint(MetricScope.POST, ITEM, "views", 300, NOW),
        MetricPoint(MetricScope.POST, ITEM, "likes", 200, NOW),
        MetricPoint(MetricScope.POST, ITEM, "comments", 100, NOW),
        MetricPoint(MetricScope.POST, ITEM, "shares", 10, NOW),
    ]


def test_ids_go_in_batches_and_a_refused_batch_is_skipped(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(douyin_metrics, "BATCH", 1)
    rsps.post(URL, json={"data": {"error_code": 2100005, "description": "参数不合法"}},
              match=[matchers.json_params_matcher({"item_ids": ["@gone"]})])  # fmt: skip
    rsps.post(URL, json=SAMPLE, match=[matchers.json_params_matcher({"item_ids": [ITEM]})])
    points = collector().post_metrics(CREDS, ["@gone", ITEM])
    assert {p.metric for p in points} == {"views", "likes", "comments", "shares"}


def test_an_expired_token_stops_the_collection(rsps: responses.RequestsMock) -> None:
    rsps.post(URL, json={"err_no": 28001008, "err_msg": "access_token过期，请刷新或重新授权", "log_id": "1"})
    with pytest.raises(AuthError):
        collector().post_metrics(CREDS, [ITEM])


def test_no_account_metrics_are_claimed() -> None:
    assert collector().account_metrics(CREDS) == []
