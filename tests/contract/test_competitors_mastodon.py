"""Contract: a Mastodon competitor, ``GET /api/v1/accounts/lookup?acct=`` on its server and
``GET /api/v1/accounts/:id/statuses`` (``publishing/timelines/``: a recorded Mastodon.py cassette body with
its ``Link`` header, the docs' error examples; ``metrics/mastodon_status_counts.json``: the docs' Status
with counts, media and a link card)."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from chorus.competitors.model import ContentType
from chorus.competitors.timelines import MastodonTimeline, mastodon_post, mastodon_statuses
from chorus.platforms.base import PermanentError
from tests.support import fixture_bytes, fixture_json

HOST = "mastodon.example"
BASE = f"https://{HOST}"
RECORDED: list[dict[str, Any]] = fixture_json(
    "platform_api/publishing/timelines/mastodon_account_statuses_mastodonpy.json"
)
STATUS: dict[str, Any] = fixture_json("metrics/mastodon_status_counts.json")


def recorded_link() -> str:
    headers = fixture_bytes(
        "platform_api/publishing/timelines/mastodon_account_statuses_mastodonpy.headers.txt"
    ).decode()
    (line,) = [h for h in headers.splitlines() if h.lower().startswith("link:")]
    return line.split(":", 1)[1].strip()


def test_the_recorded_page_becomes_posts_and_its_link_gives_the_next_max_id() -> None:
    next_url = recorded_link().split(";")[0].strip("<>")
    page = mastodon_statuses(RECORDED, next_url)
    assert [p.platform_post_id for p in page.posts] == [s["id"] for s in RECORDED]
    assert page.posts[0].text == "Toot number 9!"
    assert page.posts[0].url == "http://localhost:3000/@mastodonpy_test/117020580518794573"
    assert {p.engagements for p in page.posts} == {0}
    assert page.next_token == "117020580489281910"  # rel="next" max_id of the recorded header


def test_the_documented_status_counts_favourites_reblogs_replies_and_its_card_is_a_link() -> None:
    post = mastodon_post(STATUS)
    assert (post.likes, post.reposts, post.replies) == (11, 6, 5)
    assert post.content_type is ContentType.LINK
    with_image = copy.deepcopy(STATUS) | {"media_attachments": [{"id": "1", "type": "image"}]}
    assert mastodon_post(with_image).content_type is ContentType.IMAGE
    with_video = copy.deepcopy(STATUS) | {"media_attachments": [{"id": "1", "type": "gifv"}]}
    assert mastodon_post(with_video).content_type is ContentType.VIDEO


def test_reblogs_are_skipped_and_a_page_without_link_continues_from_its_oldest_id() -> None:
    boosted = copy.deepcopy(RECORDED[1]) | {"reblog": copy.deepcopy(STATUS)}
    page = mastodon_statuses([RECORDED[0], boosted, RECORDED[2]], None)
    assert [p.platform_post_id for p in page.posts] == [RECORDED[0]["id"], RECORDED[2]["id"]]
    assert page.next_token == RECORDED[2]["id"]
    assert mastodon_statuses([], None).next_token is None


@responses.activate
def test_lookup_then_statuses_with_the_documented_parameters() -> None:
    responses.get(f"{BASE}/api/v1/accounts/lookup", json=STATUS["account"])
    responses.get(f"{BASE}/api/v1/accounts/1/statuses", json=RECORDED, headers={"Link": recorded_link()})
    timeline = MastodonTimeline()
    profile = timeline.lookup("Gargron", HOST)
    assert (profile.platform_id, profile.handle, profile.followers) == ("1", f"Gargron@{HOST}", 322930)
    assert profile.base_url == BASE
    page = timeline.page(profile.platform_id, {"base_url": BASE}, None)
    assert len(page.posts) == 5
    asked = [parse_qs(urlsplit(c.request.url or "").query) for c in responses.calls]
    assert asked[0] == {"acct": ["Gargron"]}
    assert asked[1] == {"limit": ["40"], "exclude_reblogs": ["true"], "exclude_replies": ["true"]}


@responses.activate
def test_an_unknown_account_is_the_documented_404() -> None:
    responses.get(f"{BASE}/api/v1/accounts/lookup", status=404,
                  json=fixture_json("platform_api/publishing/timelines/mastodon_account_statuses_error_404.json"))  # fmt: skip
    with pytest.raises(PermanentError) as raised:
        MastodonTimeline().lookup("nobody", HOST)
    assert raised.value.status == 404
