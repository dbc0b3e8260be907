"""Contract: an X competitor, ``GET /2/users/by/username/:username?user.fields=public_metrics`` and
``GET /2/users/:id/tweets`` (``publishing/timelines/x_users_id_tweets_public_metrics_docs.json``: the docs'
"Optional fields" example with ``public_metrics`` and ``meta.next_token``)."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from chorus.competitors.model import ContentType
from chorus.competitors.timelines import XTimeline, x_tweets
from chorus.platforms.base import RateLimited
from tests.support import fixture_json

BASE = "https://api.x.example"
DOCS: dict[str, Any] = fixture_json(
    "platform_api/publishing/timelines/x_users_id_tweets_public_metrics_docs.json"
)


def test_the_documented_timeline_becomes_posts_with_public_metrics() -> None:
    page = x_tweets(DOCS, "TwitterDev")
    assert [p.platform_post_id for p in page.posts] == [t["id"] for t in DOCS["data"]]
    first = page.posts[0]
    assert (first.likes, first.reposts, first.replies, first.quotes) == (22, 5, 2, 0)
    assert [p.engagements for p in page.posts] == [29, 31, 119, 26, 1]
    assert first.url == "https://x.com/TwitterDev/status/1374405406261268481"
    assert first.created_at.isoformat() == "2021-03-23T16:59:18+00:00"
    assert page.next_token == "7140dibdnow9c7btw3w3xyyhxcirw2ov9mjp7gczc93xu"


def test_content_type_from_media_expansions_and_url_entities() -> None:
    body = copy.deepcopy(DOCS)
    body["data"][0]["attachments"] = {"media_keys": ["3_1"]}
    body["data"][1]["attachments"] = {"media_keys": ["7_2"]}
    body["data"][2]["entities"] = {"urls": [{"expanded_url": "https://acme.example"}]}
    body["includes"]["media"] = [{"media_key": "3_1", "type": "photo"}, {"media_key": "7_2", "type": "video"}]
    kinds = [p.content_type for p in x_tweets(body).posts]
    assert kinds[:4] == [ContentType.IMAGE, ContentType.VIDEO, ContentType.LINK, ContentType.TEXT]


def test_an_empty_timeline_has_no_data_and_no_next_page() -> None:
    page = x_tweets({"meta": {"result_count": 0}})
    assert (page.posts, page.next_token) == ((), None)


@responses.activate
def test_lookup_and_pages_send_the_bearer_and_the_documented_fields() -> None:
    responses.get(f"{BASE}/2/users/by/username/TwitterDev", json={"data": {
        "id": "2244994945", "name": "Twitter Dev", "username": "TwitterDev",
        "public_metrics": {"followers_count": 513958, "following_count": 2039, "tweet_count": 3635}}})  # fmt: skip
    responses.get(f"{BASE}/2/users/2244994945/tweets", json=DOCS)
    timeline = XTimeline(BASE, "app-bearer")
    profile = timeline.lookup("TwitterDev", None)
    assert (profile.platform_id, profile.followers) == ("2244994945", 513958)
    timeline.page("2244994945", {"username": "TwitterDev"}, "tok-2")
    assert all(c.request.headers["Authorization"] == "Bearer app-bearer" for c in responses.calls)
    asked = parse_qs(urlsplit(responses.calls[1].request.url or "").query)
    assert asked["tweet.fields"] == ["created_at,public_metrics,attachments,entities"]
    assert asked["max_results"] == ["100"]
    assert asked["pagination_token"] == ["tok-2"]
    assert asked["exclude"] == ["retweets,replies"]


@responses.activate
def test_a_429_is_rate_limited_until_the_window_resets() -> None:
    responses.get(f"{BASE}/2/users/1/tweets", status=429, json={"title": "Too Many Requests"},
                  headers={"x-rate-limit-reset": "4102444800"})  # fmt: skip
    with pytest.raises(RateLimited):
        XTimeline(BASE, "t").page("1", {}, None)
