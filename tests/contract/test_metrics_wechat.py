"""WeChat datacube statistics against the documented requests and answers
(fixtures/platform_api/china/wechat/datacube_*): the request bodies, the answers read into canonical
points at the end of their Beijing day, yesterday asked for only after 08:00 Beijing time, and errcode
answers through the one table."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import MetricPoint, MetricsCollector, MetricScope, RateLimited, TransientError
from chorus.platforms.wechat.metrics import WeChatMetrics, end_of, last_complete_day
from tests.contract.replying import rsps
from tests.contract.wechat import API, APP_CREDS, STABLE, china, memory_tokens

__all__ = ["rsps"]

ACCOUNT = APP_CREDS.account_id


def url(api: str) -> str:
    return f"{API}/datacube/{api}"


def collector(now: datetime) -> WeChatMetrics:
    return WeChatMetrics(requests.Session(), API, tokens=memory_tokens(), clock=lambda: now)


def token(rsps: responses.RequestsMock) -> None:
    rsps.post(STABLE, json=china("stable_token_response_docs.json"))


def test_the_documented_user_and_article_statistics_become_daily_points(rsps: responses.RequestsMock) -> None:
    # Given 2014-12-08 10:00 in Beijing: 2014-12-07 is the last complete day
    now = datetime(2014, 12, 8, 2, 0, tzinfo=UTC)
    token(rsps)
    users = china("datacube_getusersummary_request_skit.json")  # 2014-12-02 .. 2014-12-07
    on_the_day = {"begin_date": "2014-12-07", "end_date": "2014-12-07"}
    rsps.post(url("getusersummary"), json=china("datacube_getusersummary_response_wechatpy.json"),
              match=[matchers.json_params_matcher(users), matchers.query_param_matcher({"access_token": "ACCESS_TOKEN"})])  # fmt: skip
    rsps.post(url("getusercumulate"), json=china("datacube_getusercumulate_response_wechatpy.json"),
              match=[matchers.json_params_matcher(users)])  # fmt: skip
    article = dict(china("datacube_getarticlesummary_response_wechatpy.json"))
    rsps.post(url("getarticlesummary"), json=article, match=[matchers.json_params_matcher(on_the_day)])
    # When the account is collected
    points = collector(now).account_metrics(APP_CREDS)
    # Then every documented counter is a point at the end of its Beijing day (16:00 UTC)
    day_end = datetime(2014, 12, 7, 16, 0, tzinfo=UTC)
    assert points == [
        MetricPoint(MetricScope.ACCOUNT, ACCOUNT, "follows", 0, day_end, "day"),
        MetricPoint(MetricScope.ACCOUNT, ACCOUNT, "followers", 1217056, day_end),
        MetricPoint(MetricScope.ACCOUNT, ACCOUNT, "views", 25615, day_end, "day"),
        MetricPoint(MetricScope.ACCOUNT, ACCOUNT, "shares", 994, day_end, "day"),
        MetricPoint(MetricScope.ACCOUNT, ACCOUNT, "saves", 3, day_end, "day"),
    ]


def test_the_article_request_is_the_documented_one_day_span(rsps: responses.RequestsMock) -> None:
    now = datetime(2014, 12, 9, 1, 0, tzinfo=UTC)  # 09:00 in Beijing: 2014-12-08 is complete
    token(rsps)
    rsps.post(url("getusersummary"), json={"list": []})
    rsps.post(url("getusercumulate"), json={"list": []})
    documented = china("datacube_getarticlesummary_request_skit.json")
    rsps.post(url("getarticlesummary"), json={"list": []}, match=[matchers.json_params_matcher(documented)])
    assert collector(now).account_metrics(APP_CREDS) == []
    assert json.loads(rsps.calls[-1].request.body or b"{}") == documented


def test_yesterday_is_asked_for_only_after_8_in_beijing() -> None:
    assert (
        str(last_complete_day(datetime(2014, 12, 8, 23, 59, tzinfo=UTC))) == "2014-12-07"
    )  # 07:59 on the 9th
    assert str(last_complete_day(datetime(2014, 12, 9, 0, 0, tzinfo=UTC))) == "2014-12-08"  # 08:00 on the 9th
    assert end_of(last_complete_day(datetime(2014, 12, 9, 0, 0, tzinfo=UTC))) == datetime(
        2014, 12, 8, 16, tzinfo=UTC
    )


def test_new_followers_are_summed_over_their_sources_per_day(rsps: responses.RequestsMock) -> None:
    token(rsps)
    rsps.post(url("getusersummary"), json={"list": [
        {"ref_date": "2014-12-06", "user_source": 0, "new_user": 3, "cancel_user": 1},
        {"ref_date": "2014-12-06", "user_source": 30, "new_user": 4, "cancel_user": 0},
        {"ref_date": "2014-12-07", "user_source": 0, "new_user": 1, "cancel_user": 2},
    ]})  # fmt: skip
    rsps.post(url("getusercumulate"), json={"list": []})
    rsps.post(url("getarticlesummary"), json={"list": []})
    points = collector(datetime(2014, 12, 8, 2, 0, tzinfo=UTC)).account_metrics(APP_CREDS)
    assert [(p.metric, p.value, p.at.day) for p in points] == [("follows", 7, 6), ("follows", 1, 7)]


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("errcode_45009_reach_max_api_daily_quota_limit_docs.json", RateLimited),
        ("errcode_45009_api_freq_out_of_limit_docs.json", RateLimited),
    ],
)
def test_a_spent_quota_waits_for_its_reset(
    rsps: responses.RequestsMock, fixture: str, error: type[Exception]
) -> None:
    token(rsps)
    rsps.post(url("getusersummary"), json=china(fixture))
    with pytest.raises(error) as refused:
        collector(datetime(2014, 12, 8, 2, 0, tzinfo=UTC)).account_metrics(APP_CREDS)
    assert isinstance(refused.value, RateLimited)
    assert 0 < (refused.value.retry_after or 0) <= 24 * 3600  # until the next midnight in Beijing
    assert "resets at midnight Beijing time (errcode 45009" in refused.value.message


def test_a_busy_wechat_is_retried_later(rsps: responses.RequestsMock) -> None:
    token(rsps)
    rsps.post(url("getusersummary"), json={"errcode": -1, "errmsg": "system error"})
    with pytest.raises(TransientError):
        collector(datetime(2014, 12, 8, 2, 0, tzinfo=UTC)).account_metrics(APP_CREDS)


def test_it_is_a_metrics_collector_with_no_per_article_points() -> None:
    made = collector(datetime(2014, 12, 8, tzinfo=UTC))
    assert isinstance(made, MetricsCollector)
    assert made.post_metrics(APP_CREDS, ["ARTICLE_ID"]) == []
