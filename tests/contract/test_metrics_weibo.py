"""Weibo counts against the documented answers (fixtures/platform_api/china/weibo): ``statuses/count``
(reposts, comments, attitudes or likes; numbers or strings), ``users/show`` (followers, follows), at most
100 ids a call, and errors through the one table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import AuthError, MetricScope
from chorus.platforms.weibo.metrics import WeiboMetrics
from tests.contract.weibo import API, AUTH, CREDS, UID, doc, jsonc

COUNT = f"{API}/2/statuses/count.json"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def collector() -> WeiboMetrics:
    return WeiboMetrics(session=requests.Session(), base_url=API)


def values(points: list) -> dict[tuple[str, str], int]:  # type: ignore[type-arg]
    return {(p.object_id, p.metric): p.value for p in points}


def test_counts_sent_as_strings_with_likes_are_read(
    rsps: responses.RequestsMock, collector: WeiboMetrics
) -> None:
    # Given the documented answer whose numbers are strings and whose likes are "likes"
    rsps.get(COUNT, json=doc("statuses_count_biz_response_docs_wrapped.json"),
             match=[matchers.header_matcher(AUTH), matchers.query_param_matcher({"ids": "32817222"})])  # fmt: skip
    points = collector.post_metrics(CREDS, ["32817222"])
    assert values(points) == {
        ("32817222", "comments"): 16,
        ("32817222", "shares"): 38,
        ("32817222", "likes"): 38,
    }
    assert {p.scope for p in points} == {MetricScope.POST}


def test_counts_with_attitudes_as_numbers_are_read(
    rsps: responses.RequestsMock, collector: WeiboMetrics
) -> None:
    answer = jsonc("media_statuses_count_sp_biz_response_docs.jsonc")
    ids = [str(item["id"]) for item in answer]
    rsps.get(COUNT, json=answer, match=[matchers.query_param_matcher({"ids": ",".join(ids)})])
    found = values(collector.post_metrics(CREDS, ids))
    assert found[("3468865533114224", "comments")] == 37495
    assert found[("3468865533114224", "shares")] == 39118
    assert found[("3468865533114224", "likes")] == 0  # attitudes: Weibo's count, zero here
    assert ("3468865533114224", "reads") not in found  # not a canonical metric
    assert len(found) == 6


def test_at_most_100_ids_go_in_one_call(rsps: responses.RequestsMock, collector: WeiboMetrics) -> None:
    ids = [str(4000000000000000 + n) for n in range(150)]
    rsps.get(COUNT, json=[{"id": int(i), "comments": 1, "reposts": 2, "attitudes": 3} for i in ids[:100]])
    rsps.get(COUNT, json=[{"id": int(i), "comments": 1, "reposts": 2, "attitudes": 3} for i in ids[100:]])
    points = collector.post_metrics(CREDS, ids)
    assert [len(str(c.request.params["ids"]).split(",")) for c in rsps.calls] == [100, 50]
    assert len(points) == 450


def test_a_status_weibo_did_not_answer_for_or_a_count_missing_gives_no_point(
    rsps: responses.RequestsMock, collector: WeiboMetrics
) -> None:
    rsps.get(COUNT, json=[{"id": "1", "comments": "x", "reposts": None}, {"id": "999", "comments": 5}])
    assert collector.post_metrics(CREDS, ["1"]) == []


def test_followers_come_from_users_show(rsps: responses.RequestsMock, collector: WeiboMetrics) -> None:
    user = doc("statuses_share_response_docs.json")["user"]
    rsps.get(f"{API}/2/users/show.json", json=user,
             match=[matchers.header_matcher(AUTH), matchers.query_param_matcher({"uid": UID})])  # fmt: skip
    points = collector.account_metrics(CREDS)
    assert values(points) == {(UID, "followers"): 337, (UID, "follows"): 534}
    assert {p.scope for p in points} == {MetricScope.ACCOUNT}


def test_an_expired_token_is_an_auth_error(rsps: responses.RequestsMock, collector: WeiboMetrics) -> None:
    rsps.get(COUNT, json={"error": "expired_token", "error_code": 21327, "request": "/2/statuses/count.json"},
             status=400)  # fmt: skip
    with pytest.raises(AuthError):
        collector.post_metrics(CREDS, ["1"])
