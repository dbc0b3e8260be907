"""Facebook Page adapter against the Graph API (feed, photos, videos, comments, errors)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MediaItem,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.facebook.publish import FacebookPublisher
from tests.contract.stepping import STEP_BUDGET, drive

GRAPH = "https://graph.facebook.com/v21.0"
PAGE = "1234567890"
CREDS = AccountCredentials(platform="facebook", account_id=PAGE, access_token="page-token")
TOKEN = {"access_token": "page-token"}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def adapter() -> FacebookPublisher:
    adapter = FacebookPublisher(session=requests.Session())
    adapter.request_budget_s = STEP_BUDGET  # steps after two requests (see tests.contract.stepping)
    return adapter


def form(fields: dict[str, str]) -> list[Any]:
    return [matchers.urlencoded_params_matcher({**fields, **TOKEN})]


def graph_error(code: int, message: str, **extra: object) -> dict[str, object]:
    return {
        "error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC", **extra}
    }


def test_text_and_link_go_to_the_page_feed(rsps: responses.RequestsMock, adapter: FacebookPublisher) -> None:
    rsps.post(
        f"{GRAPH}/{PAGE}/feed",
        json={"id": f"{PAGE}_111"},
        match=form({"message": "New menu", "link": "https://example.com/menu"}),
    )
    result = adapter.publish(
        CREDS, PublishRequest(target_id="t", text="New menu", link="https://example.com/menu")
    )
    assert result == PublishResult(platform_post_id=f"{PAGE}_111", url=f"https://www.facebook.com/{PAGE}_111")


def test_one_image_is_a_photo_post(rsps: responses.RequestsMock, adapter: FacebookPublisher) -> None:
    rsps.post(
        f"{GRAPH}/{PAGE}/photos",
        json={"id": "790", "post_id": f"{PAGE}_790"},
        match=form({"url": "https://cdn.example/a.jpg", "message": "Sunny"}),
    )
    media = (MediaItem(url="https://cdn.example/a.jpg", mime_type="image/jpeg"),)
    result = adapter.publish(CREDS, PublishRequest(target_id="t", text="Sunny", media=media))
    assert result.platform_post_id == f"{PAGE}_790"  # type: ignore[union-attr]


def test_several_images_are_unpublished_photos_attached_to_one_feed_post(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    rsps.post(
        f"{GRAPH}/{PAGE}/photos",
        json={"id": "p1"},
        match=form({"url": "https://c/1.jpg", "published": "false"}),
    )
    rsps.post(
        f"{GRAPH}/{PAGE}/photos",
        json={"id": "p2"},
        match=form({"url": "https://c/2.jpg", "published": "false"}),
    )
    rsps.post(
        f"{GRAPH}/{PAGE}/feed",
        json={"id": f"{PAGE}_5"},
        match=form(
            {
                "message": "Album",
                "attached_media[0]": json.dumps({"media_fbid": "p1"}),
                "attached_media[1]": json.dumps({"media_fbid": "p2"}),
            }
        ),
    )
    media = tuple(MediaItem(url=f"https://c/{i}.jpg", mime_type="image/jpeg") for i in (1, 2))
    result, steps, per_call = drive(
        adapter, CREDS, PublishRequest(target_id="t", text="Album", media=media), rsps
    )
    assert result.platform_post_id == f"{PAGE}_5"
    # the unpublished photos are kept in the step state when the call's budget runs out
    assert steps == [PendingStep("photos", {"photo_ids": "p1,p2"}, delay_seconds=1)]
    assert per_call == [2, 1]


def test_an_unpublished_photo_that_times_out_is_uploaded_again_not_verified(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    # Given the upload of an unpublished photo times out (invisible until attached: safe to repeat)
    rsps.post(f"{GRAPH}/{PAGE}/photos", body=requests.ReadTimeout("slow"))
    media = tuple(MediaItem(url=f"https://c/{i}.jpg", mime_type="image/jpeg") for i in (1, 2))
    request = PublishRequest(target_id="t", text="Album", media=media)
    # Then it is a transient error, and no part was sent
    with pytest.raises(TransientError):
        adapter.publish(CREDS, request)
    assert request.progress.sent == set()


def test_a_video_goes_to_the_page_videos(rsps: responses.RequestsMock, adapter: FacebookPublisher) -> None:
    rsps.post(
        f"{GRAPH}/{PAGE}/videos",
        json={"id": "vid9"},
        match=form({"file_url": "https://c/v.mp4", "description": "Clip"}),
    )
    media = (MediaItem(url="https://c/v.mp4", mime_type="video/mp4"),)
    result = adapter.publish(CREDS, PublishRequest(target_id="t", text="Clip", media=media))
    assert result == PublishResult(
        platform_post_id="vid9", url=f"https://www.facebook.com/{PAGE}/videos/vid9"
    )


def test_first_comment_is_posted_on_the_new_post(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    rsps.post(f"{GRAPH}/{PAGE}/feed", json={"id": f"{PAGE}_1"})
    rsps.post(f"{GRAPH}/{PAGE}_1/comments", json={"id": "c1"}, match=form({"message": "Link in here"}))
    result = adapter.publish(CREDS, PublishRequest(target_id="t", text="Post", first_comment="Link in here"))
    assert result.part_ids == ("c1",)  # type: ignore[union-attr]


def test_a_comment_that_times_out_is_verified_by_find_part_and_never_posted_twice(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    # Given the post succeeds but the comment times out (it went through)
    rsps.post(f"{GRAPH}/{PAGE}/feed", json={"id": f"{PAGE}_1"})
    rsps.post(f"{GRAPH}/{PAGE}_1/comments", body=requests.ReadTimeout("slow"))
    request = PublishRequest(
        target_id="t", text="Post", first_comment="Hi!", not_before=datetime(2025, 3, 1, 12, tzinfo=UTC)
    )
    # When publishing, the outcome is unknown; the post is landed, the comment sent
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    assert request.progress.landed == {"0": f"{PAGE}_1"}
    assert request.progress.sent == {"comment"}
    # And publishing again before it is verified sends nothing
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    assert len(rsps.calls) == 2
    # When verifying, the page's comment with that message is found (not another user's)
    rsps.get(
        f"{GRAPH}/{PAGE}_1/comments",
        json={
            "data": [
                {"id": "c6", "message": "Hi!", "from": {"id": "999", "name": "Someone"}},
                {
                    "id": "c7",
                    "message": "Hi!",
                    "from": {"id": PAGE, "name": "Page"},
                    "created_time": "2025-03-01T12:00:03+0000",
                },
            ]
        },
        match=[
            matchers.query_param_matcher(
                {
                    "fields": "id,message,from,created_time",
                    "filter": "stream",
                    "order": "reverse_chronological",
                    "limit": "100",
                    **TOKEN,
                }
            )
        ],
    )
    assert adapter.find_part(CREDS, request, "comment") == "c7"
    request.progress.record("comment", "c7")
    # Then the publish completes without another request
    result = adapter.publish(CREDS, request)
    assert result == PublishResult(
        platform_post_id=f"{PAGE}_1", url=f"https://www.facebook.com/{PAGE}_1", part_ids=("c7",)
    )
    assert len(rsps.calls) == 3


def test_a_refused_comment_is_raised_and_a_retry_posts_only_the_comment(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    # Given the comment is refused after the post landed
    rsps.post(f"{GRAPH}/{PAGE}/feed", json={"id": "P_1"})
    rsps.post(f"{GRAPH}/P_1/comments", status=400, json=graph_error(100, "Invalid parameter"))
    request = PublishRequest(target_id="t", text="Post", first_comment="Hi!")
    with pytest.raises(PermanentError, match="Invalid parameter"):
        adapter.publish(CREDS, request)
    assert request.progress.landed == {"0": "P_1"}
    # When retried, only the comment is posted
    rsps.post(f"{GRAPH}/P_1/comments", json={"id": "c8"}, match=form({"message": "Hi!"}))
    result = adapter.publish(CREDS, request)
    assert result.part_ids == ("c8",)  # type: ignore[union-attr]
    assert [c.request.url.rsplit("/", 1)[-1] for c in rsps.calls] == ["feed", "comments", "comments"]


def test_find_part_is_none_before_the_post_exists(adapter: FacebookPublisher) -> None:
    request = PublishRequest(target_id="t", text="Post", first_comment="Hi!")
    assert adapter.find_part(CREDS, request, "comment") is None


def test_a_reply_is_a_comment_on_the_comment(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    rsps.post(f"{GRAPH}/44_55/comments", json={"id": "44_66"}, match=form({"message": "Thanks!"}))
    result = adapter.publish(CREDS, PublishRequest(target_id="t", text="Thanks!", reply_to="44_55"))
    assert result.platform_post_id == "44_66"  # type: ignore[union-attr]


def test_a_graph_error_is_permanent_with_its_message(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    rsps.post(f"{GRAPH}/{PAGE}/feed", status=400, json=graph_error(100, "(#100) Invalid parameter"))
    with pytest.raises(PermanentError) as caught:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))
    assert caught.value.message == "(#100) Invalid parameter"
    assert not isinstance(caught.value, AuthError)


def test_an_expired_token_code_190_is_an_auth_error(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    body = graph_error(190, "Error validating access token: Session has expired", error_subcode=463)
    rsps.post(f"{GRAPH}/{PAGE}/feed", status=400, json=body)
    with pytest.raises(AuthError):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_a_401_is_an_auth_error(rsps: responses.RequestsMock, adapter: FacebookPublisher) -> None:
    rsps.post(f"{GRAPH}/{PAGE}/feed", status=401, json=graph_error(102, "Session key invalid"))
    with pytest.raises(AuthError):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_page_throttling_is_rate_limited_with_the_usage_header_wait(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    usage = {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 5}]}
    rsps.post(
        f"{GRAPH}/{PAGE}/feed",
        status=400,
        json=graph_error(32, "Page request limit reached"),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    with pytest.raises(RateLimited) as caught:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))
    assert caught.value.retry_after == 300


def test_a_429_is_rate_limited(rsps: responses.RequestsMock, adapter: FacebookPublisher) -> None:
    rsps.post(
        f"{GRAPH}/{PAGE}/feed",
        status=429,
        json=graph_error(4, "Application request limit reached"),
        headers={"Retry-After": "60"},
    )
    with pytest.raises(RateLimited) as caught:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))
    assert caught.value.retry_after == 60


def test_503_is_transient(rsps: responses.RequestsMock, adapter: FacebookPublisher) -> None:
    rsps.post(f"{GRAPH}/{PAGE}/feed", status=503, body="Service Unavailable")
    with pytest.raises(TransientError):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_a_read_timeout_is_an_unknown_outcome(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    rsps.post(f"{GRAPH}/{PAGE}/feed", body=requests.ReadTimeout("slow"))
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_find_published_matches_message_since_not_before(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    due = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    rsps.get(
        f"{GRAPH}/{PAGE}/feed",
        json={
            "data": [
                {"id": f"{PAGE}_9", "message": "Other", "created_time": "2025-03-01T12:00:02+0000"},
                {
                    "id": f"{PAGE}_8",
                    "message": "Spring  sale!",
                    "created_time": "2025-03-01T12:00:01+0000",
                    "permalink_url": "https://www.facebook.com/p/8",
                },
            ]
        },
        match=[
            matchers.query_param_matcher(
                {
                    "fields": "id,message,created_time,permalink_url",
                    "limit": "25",
                    "since": str(int(due.timestamp()) - 120),
                    **TOKEN,
                }
            )
        ],
    )
    found = adapter.find_published(CREDS, PublishRequest(target_id="t", text="Spring sale!", not_before=due))
    assert found == PublishResult(platform_post_id=f"{PAGE}_8", url="https://www.facebook.com/p/8")


def test_find_published_returns_none_when_absent(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    rsps.get(f"{GRAPH}/{PAGE}/feed", json={"data": []})
    assert adapter.find_published(CREDS, PublishRequest(target_id="t", text="x")) is None


def test_delete_tolerates_a_post_that_is_already_gone(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    rsps.delete(f"{GRAPH}/{PAGE}_1", json={"success": True}, match=[matchers.query_param_matcher(TOKEN)])
    rsps.delete(
        f"{GRAPH}/{PAGE}_2", status=400, json=graph_error(100, "Unsupported delete request", error_subcode=33)
    )
    adapter.delete(CREDS, f"{PAGE}_1")
    adapter.delete(CREDS, f"{PAGE}_2")
    rsps.delete(f"{GRAPH}/{PAGE}_3", status=400, json=graph_error(190, "expired"))
    with pytest.raises(AuthError):
        adapter.delete(CREDS, f"{PAGE}_3")


def test_with_media_the_link_goes_into_the_text(
    rsps: responses.RequestsMock, adapter: FacebookPublisher
) -> None:
    rsps.post(
        f"{GRAPH}/{PAGE}/photos",
        json={"id": "790", "post_id": f"{PAGE}_790"},
        match=form({"url": "https://cdn.example/a.jpg", "message": "Menu\n\nhttps://example.com/menu"}),
    )
    media = (MediaItem(url="https://cdn.example/a.jpg", mime_type="image/jpeg"),)
    adapter.publish(
        CREDS, PublishRequest(target_id="t", text="Menu", media=media, link="https://example.com/menu")
    )
