"""Pinterest pin analytics against the documented and recorded answers
(fixtures/platform_api/publishing/pinterest/pin_analytics_*.json), errors included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import AccountCredentials, AuthError, MetricPoint, MetricsCollector, MetricScope
from chorus.platforms.pinterest.metrics import PinterestMetrics
from tests.support import fixture_json

API = "https://api.pinterest.com/v5"
NOW = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
CREDS = AccountCredentials(platform="pinterest", account_id="549755885175", access_token="pina-token")
ASKED = [
    matchers.query_param_matcher({
        "start_date": "2026-08-26",  # 89 days back: within the 90 the API allows
        "end_date": "2026-11-23",
        "app_types": "ALL",
        "metric_types": "IMPRESSION,OUTBOUND_CLICK,PIN_CLICK,SAVE,TOTAL_COMMENTS,TOTAL_REACTIONS",
    }),
    matchers.header_matcher({"Authorization": "Bearer pina-token"}),
]  # fmt: skip


def doc(name: str) -> object:
    return fixture_json(f"platform_api/publishing/pinterest/{name}")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def collector() -> PinterestMetrics:
    return PinterestMetrics(requests.Session(), clock=lambda: NOW)


def point(pin: str, metric: str, value: int) -> MetricPoint:
    return MetricPoint(MetricScope.POST, pin, metric, value, NOW, "lifetime")


def test_pinterest_metrics_is_a_metrics_collector() -> None:
    assert isinstance(collector(), MetricsCollector)


def test_the_docs_sample_gives_impressions_clicks_saves_comments_reactions_and_video_views(
    rsps: responses.RequestsMock,
) -> None:
    # Given the docs sample (its map keys are Redoc's property1/property2: the first entry is read)
    rsps.get(f"{API}/pins/813744226420795884/analytics", json=doc("pin_analytics_response_docs_sample.json"),
             match=ASKED)  # fmt: skip
    points = collector().post_metrics(CREDS, ["813744226420795884"])
    pin = "813744226420795884"
    assert points == [point(pin, "impressions", 240), point(pin, "clicks", 20), point(pin, "saves", 20),
                      point(pin, "comments", 10), point(pin, "likes", 12), point(pin, "video_views", 20)]  # fmt: skip


def test_the_recorded_answer_keyed_all_with_float_counts(rsps: responses.RequestsMock) -> None:
    # Given the recorded answer: keyed "all", counts as 0.0, data still PROCESSING
    rsps.get(
        f"{API}/pins/1022106077905927852/analytics",
        json=doc("pin_analytics_response_recorded_python_pinterest.json"),
    )
    points = collector().post_metrics(CREDS, ["1022106077905927852"])
    pin = "1022106077905927852"
    assert points == [point(pin, "impressions", 0), point(pin, "saves", 0)]


@pytest.mark.parametrize(
    ("status", "fixture"),
    [
        (400, "pin_analytics_error_400_invalid_params.json"),
        (403, "pin_analytics_error_403_not_authorized.json"),
        (404, "pin_analytics_error_404_pin_not_found.json"),
    ],
)
def test_a_refused_pin_is_skipped_and_the_others_still_count(
    rsps: responses.RequestsMock, status: int, fixture: str
) -> None:
    rsps.get(f"{API}/pins/bad/analytics", json=doc(fixture), status=status)
    rsps.get(f"{API}/pins/good/analytics", json=doc("pin_analytics_response_recorded_python_pinterest.json"))
    points = collector().post_metrics(CREDS, ["bad", "good"])
    assert {p.object_id for p in points} == {"good"}


def test_a_dead_token_stops_the_collection(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/pins/1/analytics", json={"code": 2, "message": "Authentication failed."}, status=401)
    with pytest.raises(AuthError):
        collector().post_metrics(CREDS, ["1", "2"])


def test_no_account_level_metric_is_read(rsps: responses.RequestsMock) -> None:
    assert collector().account_metrics(CREDS) == []
    assert len(rsps.calls) == 0
