"""Mastodon metrics against the documented Status entity (fixtures/metrics/mastodon_status_counts.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
import responses

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MetricPoint,
    MetricsCollector,
    MetricScope,
    PermanentError,
)
from chorus.platforms.mastodon.metrics import MastodonMetrics
from tests.support import fixture_bytes, fixture_json

INSTANCE = "https://mastodon.social"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CREDS = AccountCredentials(platform="mastodon", account_id="1", access_token="m-token", base_url=INSTANCE)
STATUS = "103270115826048975"


def collector() -> MastodonMetrics:
    return MastodonMetrics(requests.Session(), clock=lambda: NOW)


def post(metric: str, value: int) -> MetricPoint:
    return MetricPoint(MetricScope.POST, STATUS, metric, value, NOW)


def test_mastodon_metrics_is_a_metrics_collector() -> None:
    assert isinstance(collector(), MetricsCollector)


@responses.activate
def test_status_counts_become_comments_shares_likes_and_quotes() -> None:
    # Given the instance answers GET /api/v1/statuses/:id with the documented Status
    body = fixture_bytes("metrics/mastodon_status_counts.json")
    responses.add(responses.GET, f"{INSTANCE}/api/v1/statuses/{STATUS}", body=body)
    # When the status's metrics are collected
    points = collector().post_metrics(CREDS, [STATUS])
    # Then the request went to the account's instance with its token
    request = responses.calls[0].request
    assert request.url == f"{INSTANCE}/api/v1/statuses/{STATUS}"
    assert request.headers["Authorization"] == "Bearer m-token"
    # And replies/reblogs/favourites/quotes counts are the points
    assert points == [post("comments", 5), post("shares", 6), post("likes", 11), post("quotes", 2)]


@responses.activate
def test_a_server_without_quotes_gives_no_quotes_point() -> None:
    # Given the documented Status without quotes_count (servers before Mastodon 4.5)
    status = fixture_json("metrics/mastodon_status_counts.json")
    del status["quotes_count"]
    responses.add(responses.GET, f"{INSTANCE}/api/v1/statuses/{STATUS}", json=status)
    points = collector().post_metrics(CREDS, [STATUS])
    assert "quotes" not in {p.metric for p in points}
    assert len(points) == 3


@responses.activate
def test_a_deleted_status_is_skipped_and_the_others_still_count() -> None:
    responses.add(
        responses.GET, f"{INSTANCE}/api/v1/statuses/1", status=404, json={"error": "Record not found"}
    )
    responses.add(
        responses.GET,
        f"{INSTANCE}/api/v1/statuses/{STATUS}",
        body=fixture_bytes("metrics/mastodon_status_counts.json"),
    )
    points = collector().post_metrics(CREDS, ["1", STATUS])
    assert {p.object_id for p in points} == {STATUS}


@responses.activate
def test_a_revoked_token_stops_collection() -> None:
    responses.add(
        responses.GET,
        f"{INSTANCE}/api/v1/statuses/1",
        status=401,
        json={"error": "The access token was revoked"},
    )
    with pytest.raises(AuthError, match="revoked"):
        collector().post_metrics(CREDS, ["1", STATUS])


@responses.activate
def test_account_followers_and_following_counts() -> None:
    # Given GET /api/v1/accounts/:id answers with the Account embedded in the documented Status
    account = json.dumps(fixture_json("metrics/mastodon_status_counts.json")["account"])
    responses.add(responses.GET, f"{INSTANCE}/api/v1/accounts/1", body=account)
    points = collector().account_metrics(CREDS)
    assert points == [
        MetricPoint(MetricScope.ACCOUNT, "1", "followers", 322930, NOW),
        MetricPoint(MetricScope.ACCOUNT, "1", "follows", 459, NOW),
    ]


def test_an_account_without_an_instance_url_is_refused() -> None:
    creds = AccountCredentials(platform="mastodon", account_id="1", access_token="t")
    with pytest.raises(PermanentError, match="instance"):
        collector().post_metrics(creds, [STATUS])
