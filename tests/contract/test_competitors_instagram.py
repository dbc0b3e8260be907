"""Contract: an Instagram competitor through business discovery, ``GET /{ig-user-id}?fields=
business_discovery.username(h){...}`` with the connected professional account's token. The ``media``
edge has the shape of ``publishing/timelines/instagram_user_media_python_facebook.json`` (a recorded
``/{ig-user-id}/media`` page: ``like_count``, ``comments_count``, ``media_type``, ``+0000`` times,
cursor paging); the profile fields are the IG User's (``followers_count``)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from chorus.competitors.model import ContentType
from chorus.competitors.timelines import InstagramTimeline, instagram_content_type, instagram_media
from chorus.platforms.base import PermanentError
from tests.support import fixture_json

BASE = "https://graph.example/v21.0"
MEDIA: dict[str, Any] = fixture_json(
    "platform_api/publishing/timelines/instagram_user_media_python_facebook.json"
)
VIA = {"workspace_id": "ws1", "via_account": "acc1", "username": "bluebottle"}


def creds(extra: Mapping[str, str]) -> tuple[str, str]:
    assert extra["via_account"] == "acc1"
    return "17841405309211844", "ig-token"


def test_the_recorded_media_edge_becomes_posts_with_likes_and_comments() -> None:
    page = instagram_media(MEDIA)
    assert [p.platform_post_id for p in page.posts] == ["17895731045244887", "17896622936197745"]
    second = page.posts[1]
    assert (second.likes, second.replies, second.engagements) == (2, 6, 8)
    assert second.content_type is ContentType.IMAGE
    assert second.url == "https://www.instagram.com/p/CSgdWACBeKr/"
    assert second.created_at.isoformat() == "2021-08-13T08:02:40+00:00"
    assert page.next_token == "after"  # paging.next is there: the after cursor continues


def test_a_nested_edge_without_next_continues_only_when_the_page_is_full() -> None:
    edge = copy.deepcopy(MEDIA)
    del edge["paging"]["next"]
    assert instagram_media(edge).next_token is None
    assert instagram_media(edge, limit=2).next_token == "after"


@pytest.mark.parametrize(
    ("media", "kind"),
    [
        ({"media_type": "VIDEO"}, ContentType.VIDEO),
        ({"media_type": "VIDEO", "media_product_type": "REELS"}, ContentType.VIDEO),
        ({"media_type": "CAROUSEL_ALBUM"}, ContentType.IMAGE),
        ({"media_type": "IMAGE"}, ContentType.IMAGE),
    ],
)
def test_content_type_follows_media_type(media: dict[str, str], kind: ContentType) -> None:
    assert instagram_content_type(media) is kind


@responses.activate
def test_business_discovery_asks_through_the_connected_account_with_its_token() -> None:
    responses.get(f"{BASE}/17841405309211844", json={
        "business_discovery": {"id": "17841401441775531", "username": "bluebottle", "name": "Blue Bottle Coffee",
                               "followers_count": 267788, "media_count": 1205},
        "id": "17841405309211844"})  # fmt: skip
    responses.get(f"{BASE}/17841405309211844", json={
        "business_discovery": {"id": "17841401441775531", "media": MEDIA}, "id": "17841405309211844"})  # fmt: skip
    timeline = InstagramTimeline(BASE, creds)
    profile = timeline.lookup("bluebottle", None, VIA)
    assert (profile.platform_id, profile.handle, profile.followers) == (
        "17841401441775531",
        "bluebottle",
        267788,
    )
    page = timeline.page(profile.platform_id, VIA, "QVFIU")
    assert len(page.posts) == 2
    asked = [parse_qs(urlsplit(c.request.url or "").query)["fields"][0] for c in responses.calls]
    assert asked[0] == "business_discovery.username(bluebottle){id,username,name,followers_count,media_count}"
    assert asked[1].startswith(
        "business_discovery.username(bluebottle){media.after(QVFIU).limit(50){id,caption,"
    )
    assert all(c.request.headers["Authorization"] == "Bearer ig-token" for c in responses.calls)


@responses.activate
def test_an_account_discovery_cannot_see_is_a_permanent_error() -> None:
    # a refusal in Graph's error shape (an account discovery cannot see: personal, private or unknown)
    responses.get(f"{BASE}/17841405309211844", status=400, json={"error": {
        "message": "Invalid user id", "type": "OAuthException", "code": 110, "error_subcode": 2207013}})  # fmt: skip
    with pytest.raises(PermanentError):
        InstagramTimeline(BASE, creds).lookup("someone_private", None, VIA)
    with pytest.raises(PermanentError):
        InstagramTimeline(BASE, creds).lookup("bluebottle", None, {})
