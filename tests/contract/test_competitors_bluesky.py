"""Contract: a Bluesky competitor's public account, ``app.bsky.actor.getProfile`` and
``app.bsky.feed.getAuthorFeed`` (``publishing/timelines/``: the AppView's author-feed snapshot and the
lexicon). Counts may be absent (0); reposts in the feed carry a ``reason`` and are not the account's posts."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from chorus.competitors.model import ContentType
from chorus.competitors.timelines import BlueskyTimeline, bluesky_content_type, bluesky_feed
from tests.support import fixture_json

BASE = "https://appview.example"
FEED: dict[str, Any] = fixture_json(
    "platform_api/publishing/timelines/bluesky_getAuthorFeed_appview_snapshot.json"
)
LEXICON: dict[str, Any] = fixture_json(
    "platform_api/publishing/timelines/lexicon_app.bsky.feed.getAuthorFeed.json"
)


def test_the_documented_author_feed_becomes_posts_with_their_counts() -> None:
    page = bluesky_feed(FEED)
    assert [p.platform_post_id for p in page.posts] == ["record(0)", "record(6)", "record(2)", "record(13)"]
    assert [(p.likes, p.reposts, p.replies, p.quotes) for p in page.posts] == [
        (0, 1, 0, 0), (2, 0, 0, 0), (3, 1, 3, 0), (0, 0, 0, 0)]  # fmt: skip
    assert [p.engagements for p in page.posts] == [1, 2, 7, 0]
    assert page.posts[0].text == "thanks bob"
    # a quoted record is still a text post; the snapshot has no images or links
    assert {p.content_type for p in page.posts} == {ContentType.TEXT}
    assert page.next_token is None  # the snapshot has no cursor: the timeline ends here


def test_reposts_in_the_feed_are_skipped_and_absent_counts_are_zero() -> None:
    feed = copy.deepcopy(FEED)
    feed["feed"][0]["reason"] = {"$type": "app.bsky.feed.defs#reasonRepost", "by": {"did": "did:plc:x"}}
    for name in ("likeCount", "repostCount", "replyCount", "quoteCount"):
        feed["feed"][1]["post"].pop(name, None)
    feed["cursor"] = "3kb2"
    page = bluesky_feed(feed)
    assert [p.platform_post_id for p in page.posts] == ["record(6)", "record(2)", "record(13)"]
    assert page.posts[0].engagements == 0
    assert page.next_token == "3kb2"


@pytest.mark.parametrize(
    ("embed", "kind"),
    [
        ({"$type": "app.bsky.embed.images#view", "images": []}, ContentType.IMAGE),
        ({"$type": "app.bsky.embed.video#view", "cid": "c"}, ContentType.VIDEO),
        ({"$type": "app.bsky.embed.external#view", "external": {"uri": "https://a.example"}}, ContentType.LINK),
        ({"$type": "app.bsky.embed.recordWithMedia#view", "media": {"$type": "app.bsky.embed.images#view"}},
         ContentType.IMAGE),
        ({"$type": "app.bsky.embed.record#view"}, ContentType.TEXT),
        ({}, ContentType.TEXT),
    ],
)  # fmt: skip
def test_content_type_follows_the_embed(embed: dict[str, Any], kind: ContentType) -> None:
    assert bluesky_content_type(embed) is kind


@responses.activate
def test_the_timeline_asks_the_lexicon_s_parameters_and_pages_by_cursor() -> None:
    params = LEXICON["defs"]["main"]["parameters"]["properties"]
    assert params["limit"]["maximum"] == 100
    assert "posts_no_replies" in params["filter"]["knownValues"]
    url = f"{BASE}/xrpc/app.bsky.feed.getAuthorFeed"
    responses.get(url, json={**FEED, "cursor": "c1"})
    responses.get(url, json={"feed": []})
    timeline = BlueskyTimeline(BASE)
    first = timeline.page("did:plc:acme", {}, None)
    second = timeline.page("did:plc:acme", {}, first.next_token)
    asked = [parse_qs(urlsplit(c.request.url or "").query) for c in responses.calls]
    assert asked[0] == {"actor": ["did:plc:acme"], "limit": ["100"], "filter": ["posts_no_replies"]}
    assert asked[1]["cursor"] == ["c1"]
    assert (len(first.posts), second.posts, second.next_token) == (4, (), None)


@responses.activate
def test_the_lookup_resolves_a_handle_to_its_did_and_followers() -> None:
    # app.bsky.actor.defs#profileViewDetailed: did, handle, displayName, followersCount
    responses.get(f"{BASE}/xrpc/app.bsky.actor.getProfile",
                  json={"did": "did:plc:acme", "handle": "acme.bsky.social", "displayName": "Acme",
                        "followersCount": 1200, "followsCount": 3, "postsCount": 80})  # fmt: skip
    profile = BlueskyTimeline(BASE).lookup("acme.bsky.social", None)
    assert (profile.platform_id, profile.handle, profile.followers) == (
        "did:plc:acme",
        "acme.bsky.social",
        1200,
    )
    assert profile.url == "https://bsky.app/profile/acme.bsky.social"
    assert parse_qs(urlsplit(responses.calls[0].request.url or "").query) == {"actor": ["acme.bsky.social"]}
