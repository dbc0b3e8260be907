"""Bluesky metrics against AppView answers (fixtures/metrics/bluesky_*.json, lexicon getPosts)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from chorus.platforms.base import AccountCredentials, MetricPoint, MetricsCollector, MetricScope
from chorus.platforms.bluesky.metrics import MAX_URIS_PER_REQUEST, BlueskyMetrics
from tests.support import fixture_bytes, fixture_json

PDS = "https://pds.example.test"
APPVIEW = "https://public.api.bsky.app"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DID = "did:plc:kvwvcn5iqfooopmyzvb4qzba"
WITH_PDS = AccountCredentials(platform="bluesky", account_id=DID, access_token="jwt", base_url=PDS)
PUBLIC = AccountCredentials(platform="bluesky", account_id=DID, access_token="jwt")
SNAPSHOT_URIS = ["record(0)", "record(2)", "record(3)", "record(6)", "record(10)", "record(12)"]


def collector() -> BlueskyMetrics:
    return BlueskyMetrics(requests.Session(), clock=lambda: NOW)


def sent(index: int = 0) -> tuple[str, str, dict[str, list[str]], str | None]:
    request = responses.calls[index].request
    parts = urlsplit(request.url or "")
    return parts.netloc, parts.path, parse_qs(parts.query), request.headers.get("Authorization")


def test_bluesky_metrics_is_a_metrics_collector() -> None:
    assert isinstance(collector(), MetricsCollector)


def test_the_batch_limit_is_the_lexicons_max_length() -> None:
    lexicon = fixture_json("metrics/lexicon_app.bsky.feed.getPosts.json")
    assert lexicon["defs"]["main"]["parameters"]["properties"]["uris"]["maxLength"] == MAX_URIS_PER_REQUEST


@responses.activate
def test_get_posts_counts_become_points_for_every_post_view() -> None:
    # Given the account's PDS answers getPosts with the AppView snapshot of six post views
    body = fixture_bytes("metrics/bluesky_getPosts_appview_snapshot.json")
    responses.add(responses.GET, f"{PDS}/xrpc/app.bsky.feed.getPosts", body=body)
    # When the six posts are collected
    points = collector().post_metrics(WITH_PDS, SNAPSHOT_URIS)
    # Then one request went to the PDS with the session token and each uri as a repeated parameter
    assert sent() == (
        "pds.example.test",
        "/xrpc/app.bsky.feed.getPosts",
        {"uris": SNAPSHOT_URIS},
        "Bearer jwt",
    )
    # And like/repost/reply/quote/bookmark counts became likes/shares/comments/quotes/saves
    expected = {
        "record(0)": (0, 0, 0, 0, 0),
        "record(2)": (3, 1, 2, 0, 0),
        "record(3)": (0, 0, 0, 1, 0),
        "record(6)": (2, 0, 0, 1, 0),
        "record(10)": (0, 1, 0, 1, 0),
        "record(12)": (0, 1, 0, 0, 0),
    }
    assert points == [
        MetricPoint(MetricScope.POST, uri, metric, value, NOW)
        for uri, values in expected.items()
        for metric, value in zip(("likes", "shares", "comments", "quotes", "saves"), values, strict=True)
    ]


@responses.activate
def test_missing_count_fields_stay_absent_and_the_public_appview_gets_no_token() -> None:
    # Given a real post view (from a fetched getPostThread) without quoteCount or bookmarkCount,
    # answered by the public AppView because the account has no PDS URL
    view = fixture_json("metrics/bluesky_postview_counts_getPostThread.json")["thread"]["post"]
    uri = view["uri"]
    responses.add(responses.GET, f"{APPVIEW}/xrpc/app.bsky.feed.getPosts", body=json.dumps({"posts": [view]}))
    # When collected
    points = collector().post_metrics(PUBLIC, [uri])
    # Then the zeros it does carry are points and the missing fields are not zero points
    assert points == [
        MetricPoint(MetricScope.POST, uri, "likes", 0, NOW),
        MetricPoint(MetricScope.POST, uri, "shares", 0, NOW),
        MetricPoint(MetricScope.POST, uri, "comments", 0, NOW),
    ]
    # And the token never left for a host that did not issue it
    assert sent()[0] == "public.api.bsky.app"
    assert sent()[3] is None


@responses.activate
def test_more_than_25_uris_are_split_into_batches_of_25() -> None:
    responses.add(responses.GET, f"{PDS}/xrpc/app.bsky.feed.getPosts", json={"posts": []})
    uris = [f"at://{DID}/app.bsky.feed.post/{n}" for n in range(26)]
    collector().post_metrics(WITH_PDS, uris)
    assert [len(sent(i)[2]["uris"]) for i in range(len(responses.calls))] == [25, 1]


@responses.activate
def test_profile_counts_give_followers_and_follows() -> None:
    # Given getProfile answers with a profileViewDetailed built from the lexicon's field names
    # (no recorded sample in the fixtures)
    profile = {
        "did": DID,
        "handle": "alice.test",
        "followersCount": 812,
        "followsCount": 95,
        "postsCount": 400,
    }
    responses.add(responses.GET, f"{PDS}/xrpc/app.bsky.actor.getProfile", json=profile)
    points = collector().account_metrics(WITH_PDS)
    assert sent()[1:] == ("/xrpc/app.bsky.actor.getProfile", {"actor": [DID]}, "Bearer jwt")
    assert points == [
        MetricPoint(MetricScope.ACCOUNT, DID, "followers", 812, NOW),
        MetricPoint(MetricScope.ACCOUNT, DID, "follows", 95, NOW),
    ]
