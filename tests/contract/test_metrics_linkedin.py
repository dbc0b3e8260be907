"""LinkedIn organization share statistics.

No verbatim LinkedIn sample exists in the fixtures: the answers here are BUILT from the documented field
names in fixtures/metrics/linkedin_share_statistics_fields.json (values invented), and a test checks that
every field this collector reads is one of those documented names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests
import responses

from chorus.platforms.base import AccountCredentials, MetricPoint, MetricsCollector, MetricScope
from chorus.platforms.linkedin.metrics import SHARE_STATISTICS, LinkedInMetrics
from tests.support import fixture_json

API = "https://api.linkedin.com/rest"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ORG = "urn:li:organization:2414183"
CREDS = AccountCredentials(platform="linkedin", account_id="2414183", access_token="li-token")
SHARE = "urn:li:share:7000000000000000001"
UGC = "urn:li:ugcPost:7000000000000000002"
STATS_URL = (
    f"{API}/organizationalEntityShareStatistics?q=organizationalEntity"
    "&organizationalEntity=urn%3Ali%3Aorganization%3A2414183"
)


def documented_fields() -> set[str]:
    shape = fixture_json("metrics/linkedin_share_statistics_fields.json")["response_shape"]
    return set(shape["elements"][0]["totalShareStatistics"])


def statistics(**overrides: Any) -> dict[str, Any]:
    """A totalShareStatistics object using exactly the documented field names."""
    stats: dict[str, Any] = {
        "uniqueImpressionsCount": 880,
        "shareCount": 3,
        "engagement": 0.0425,
        "clickCount": 41,
        "likeCount": 25,
        "impressionCount": 1600,
        "commentCount": 4,
    }
    assert set(stats) == documented_fields()
    return stats | overrides


def collector() -> LinkedInMetrics:
    return LinkedInMetrics(requests.Session(), clock=lambda: NOW)


def points_for(scope: MetricScope, object_id: str) -> list[MetricPoint]:
    values = [
        ("impressions", 1600),
        ("reach", 880),
        ("clicks", 41),
        ("likes", 25),
        ("comments", 4),
        ("shares", 3),
        ("engagements", 68),  # round(0.0425 x 1600)
    ]
    return [MetricPoint(scope, object_id, metric, value, NOW) for metric, value in values]


def test_linkedin_metrics_is_a_metrics_collector() -> None:
    assert isinstance(collector(), MetricsCollector)


def test_every_statistics_field_read_is_a_documented_field() -> None:
    assert set(SHARE_STATISTICS) | {"engagement"} == documented_fields()


@responses.activate
def test_organization_lifetime_statistics_and_follower_count() -> None:
    # Given the lifetime statistics finder and networkSizes answer (built, see module docstring)
    responses.add(
        responses.GET,
        STATS_URL,
        json={"elements": [{"organizationalEntity": ORG, "totalShareStatistics": statistics()}]},
    )
    responses.add(
        responses.GET,
        f"{API}/networkSizes/urn%3Ali%3Aorganization%3A2414183?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
        json={"firstDegreeSize": 15320},
    )
    # When the organization's account metrics are collected
    points = collector().account_metrics(CREDS)
    # Then both documented endpoints were called with the versioned-API headers
    assert [call.request.url for call in responses.calls] == [
        STATS_URL,
        f"{API}/networkSizes/urn%3Ali%3Aorganization%3A2414183?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
    ]
    headers = responses.calls[0].request.headers
    assert headers["Authorization"] == "Bearer li-token"
    assert headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert headers["LinkedIn-Version"] == "202609"
    # And every statistic plus followers is a lifetime point; the engagement rate became a count
    assert points == [
        *points_for(MetricScope.ACCOUNT, "2414183"),
        MetricPoint(MetricScope.ACCOUNT, "2414183", "followers", 15320, NOW),
    ]


@responses.activate
def test_post_statistics_use_restli_list_syntax_per_post_kind() -> None:
    # Given per-post answers naming each post in `share` / `ugcPost`
    share_url = f"{STATS_URL}&shares=List(urn%3Ali%3Ashare%3A7000000000000000001)"
    ugc_url = f"{STATS_URL}&ugcPosts=List(urn%3Ali%3AugcPost%3A7000000000000000002)"
    element = {"organizationalEntity": ORG, "totalShareStatistics": statistics()}
    responses.add(responses.GET, share_url, json={"elements": [element | {"share": SHARE}]})
    responses.add(responses.GET, ugc_url, json={"elements": [element | {"ugcPost": UGC}]})
    # When both posts are collected
    points = collector().post_metrics(CREDS, [UGC, SHARE])
    # Then shares and ugcPosts went in their own List(...) parameter, URNs encoded inside it
    assert [call.request.url for call in responses.calls] == [share_url, ugc_url]
    # And each post got its points
    assert points == [*points_for(MetricScope.POST, SHARE), *points_for(MetricScope.POST, UGC)]


@responses.activate
def test_a_missing_unique_impressions_count_gives_no_reach_point() -> None:
    stats = statistics()
    del stats["uniqueImpressionsCount"]
    responses.add(
        responses.GET,
        f"{STATS_URL}&shares=List(urn%3Ali%3Ashare%3A7000000000000000001)",
        json={"elements": [{"organizationalEntity": ORG, "share": SHARE, "totalShareStatistics": stats}]},
    )
    points = collector().post_metrics(CREDS, [SHARE])
    assert "reach" not in {p.metric for p in points}
    assert len(points) == 6


@responses.activate
def test_post_ids_that_are_not_share_or_ugc_post_urns_are_not_requested() -> None:
    assert collector().post_metrics(CREDS, ["urn:li:activity:1", "12345"]) == []
    assert len(responses.calls) == 0


@responses.activate
def test_twenty_one_shares_take_two_requests() -> None:
    responses.add(responses.GET, f"{API}/organizationalEntityShareStatistics", json={"elements": []})
    collector().post_metrics(CREDS, [f"urn:li:share:{n}" for n in range(21)])
    lists = [call.request.url.split("shares=List(")[1] for call in responses.calls]  # type: ignore[union-attr]
    assert [len(part.rstrip(")").split(",")) for part in lists] == [20, 1]


@responses.activate
def test_a_members_account_has_no_share_statistics_and_nothing_is_asked() -> None:
    # organizationalEntityShareStatistics exists for organization pages only: a member connected by
    # OAuth (urn:li:person:...) is not an organizationalEntity, so no request is sent for it
    member = AccountCredentials(platform="linkedin", account_id="urn:li:person:782bbtaQ", access_token="t")
    assert collector().account_metrics(member) == []
    assert collector().post_metrics(member, [SHARE]) == []
    assert len(responses.calls) == 0


@responses.activate
def test_an_organization_connected_by_its_urn_is_asked_by_that_urn() -> None:
    responses.get(STATS_URL, json={"elements": [{"totalShareStatistics": statistics()}]})
    responses.get(
        f"{API}/networkSizes/urn%3Ali%3Aorganization%3A2414183?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
        json={"firstDegreeSize": 5},
    )
    creds = AccountCredentials(platform="linkedin", account_id=ORG, access_token="li-token")
    points = collector().account_metrics(creds)
    assert MetricPoint(MetricScope.ACCOUNT, ORG, "followers", 5, NOW) in points
