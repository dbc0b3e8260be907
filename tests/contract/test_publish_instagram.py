"""Instagram content publishing: containers, polling, media_publish, quota, comments."""

from __future__ import annotations

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
from chorus.platforms.instagram.publish import InstagramPublisher, PublishingQuota

GRAPH = "https://graph.facebook.com/v21.0"
IG = "17841400008460056"
CREDS = AccountCredentials(platform="instagram", account_id=IG, access_token="page-token")
TOKEN = {"access_token": "page-token"}
JPEG = MediaItem(url="https://cdn.example/a.jpg", mime_type="image/jpeg")
MP4 = MediaItem(url="https://cdn.example/v.mp4", mime_type="video/mp4")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def adapter() -> InstagramPublisher:
    return InstagramPublisher(session=requests.Session())


def form(fields: dict[str, str]) -> list[Any]:
    return [matchers.urlencoded_params_matcher({**fields, **TOKEN})]


def query(fields: dict[str, str]) -> list[Any]:
    return [matchers.query_param_matcher({**fields, **TOKEN})]


def test_an_image_post_creates_a_container_and_asks_to_poll_it(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "17889455560051444"},
        match=form({"image_url": "https://cdn.example/a.jpg", "caption": "Hello #ig"}),
    )
    step = adapter.publish(CREDS, PublishRequest(target_id="t", text="Hello #ig", media=(JPEG,)))
    assert step == PendingStep("poll_container", {"container_id": "17889455560051444"}, delay_seconds=10)


def test_a_video_is_published_as_a_reel(rsps: responses.RequestsMock, adapter: InstagramPublisher) -> None:
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "c1"},
        match=form({"media_type": "REELS", "video_url": "https://cdn.example/v.mp4", "caption": "Reel"}),
    )
    step = adapter.publish(CREDS, PublishRequest(target_id="t", text="Reel", media=(MP4,)))
    assert isinstance(step, PendingStep)


def test_an_image_carousel_creates_children_then_the_carousel(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "k1"},
        match=form({"image_url": JPEG.url, "is_carousel_item": "true"}),
    )
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "k2"},
        match=form({"image_url": JPEG.url, "is_carousel_item": "true"}),
    )
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "car"},
        match=form({"media_type": "CAROUSEL", "children": "k1,k2", "caption": "Two"}),
    )
    step = adapter.publish(CREDS, PublishRequest(target_id="t", text="Two", media=(JPEG, JPEG)))
    assert step == PendingStep("poll_container", {"container_id": "car"}, delay_seconds=10)


def test_a_carousel_with_a_video_waits_for_its_children_first(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "k1"},
        match=form({"image_url": JPEG.url, "is_carousel_item": "true"}),
    )
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "k2"},
        match=form({"media_type": "VIDEO", "video_url": MP4.url, "is_carousel_item": "true"}),
    )
    request = PublishRequest(target_id="t", text="Mixed", media=(JPEG, MP4))
    step = adapter.publish(CREDS, request)
    assert step == PendingStep("poll_children", {"children": "k1,k2"}, delay_seconds=10)
    # the video child is still processing: wait again
    rsps.get(f"{GRAPH}/k1", json={"status_code": "FINISHED", "id": "k1"})
    rsps.get(f"{GRAPH}/k2", json={"status_code": "IN_PROGRESS", "id": "k2"})
    assert adapter.continue_publish(CREDS, request, step) == step
    # both finished: the carousel container is created
    rsps.get(f"{GRAPH}/k1", json={"status_code": "FINISHED", "id": "k1"})
    rsps.get(f"{GRAPH}/k2", json={"status_code": "FINISHED", "id": "k2"})
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "car"},
        match=form({"media_type": "CAROUSEL", "children": "k1,k2", "caption": "Mixed"}),
    )
    assert adapter.continue_publish(CREDS, request, step) == PendingStep(
        "poll_container", {"container_id": "car"}, delay_seconds=10
    )


def test_an_in_progress_container_is_polled_again(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(
        f"{GRAPH}/c1",
        json={"status_code": "IN_PROGRESS", "id": "c1"},
        match=query({"fields": "status_code,status"}),
    )
    step = PendingStep("poll_container", {"container_id": "c1"})
    again = adapter.continue_publish(CREDS, PublishRequest(target_id="t", text="x", media=(JPEG,)), step)
    assert again == PendingStep("poll_container", {"container_id": "c1"}, delay_seconds=10)


def test_a_finished_container_is_published_and_its_permalink_returned(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "FINISHED", "id": "c1"})
    rsps.post(
        f"{GRAPH}/{IG}/media_publish", json={"id": "17920238422030506"}, match=form({"creation_id": "c1"})
    )
    rsps.get(
        f"{GRAPH}/17920238422030506",
        json={"permalink": "https://www.instagram.com/p/Cabc/", "id": "17920238422030506"},
        match=query({"fields": "permalink"}),
    )
    result = adapter.continue_publish(
        CREDS,
        PublishRequest(target_id="t", text="x", media=(JPEG,)),
        PendingStep("poll_container", {"container_id": "c1"}),
    )
    assert result == PublishResult(
        platform_post_id="17920238422030506", url="https://www.instagram.com/p/Cabc/"
    )


def test_a_permalink_failure_does_not_fail_a_published_post(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "FINISHED"})
    rsps.post(f"{GRAPH}/{IG}/media_publish", json={"id": "m1"})
    rsps.get(f"{GRAPH}/m1", status=500, json={"error": {"message": "Unknown error", "code": 1}})
    result = adapter.continue_publish(
        CREDS,
        PublishRequest(target_id="t", text="x", media=(JPEG,)),
        PendingStep("poll_container", {"container_id": "c1"}),
    )
    assert result == PublishResult(platform_post_id="m1", url=None)


def test_an_errored_container_fails_permanently_with_its_status(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(
        f"{GRAPH}/c1",
        json={"status_code": "ERROR", "status": "Error: Media upload has failed with error code 2207026"},
    )
    with pytest.raises(PermanentError, match="2207026"):
        adapter.continue_publish(
            CREDS,
            PublishRequest(target_id="t", text="x"),
            PendingStep("poll_container", {"container_id": "c1"}),
        )


def test_an_expired_container_fails_permanently(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "EXPIRED"})
    with pytest.raises(PermanentError, match="EXPIRED"):
        adapter.continue_publish(
            CREDS,
            PublishRequest(target_id="t", text="x"),
            PendingStep("poll_container", {"container_id": "c1"}),
        )


def test_first_comment_follows_the_publish(rsps: responses.RequestsMock, adapter: InstagramPublisher) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "FINISHED"})
    rsps.post(f"{GRAPH}/{IG}/media_publish", json={"id": "m1"})
    rsps.get(f"{GRAPH}/m1", json={"permalink": "https://www.instagram.com/p/X/"})
    rsps.post(f"{GRAPH}/m1/comments", json={"id": "cm1"}, match=form({"message": "#tags #here"}))
    request = PublishRequest(target_id="t", text="x", media=(JPEG,), first_comment="#tags #here")
    result = adapter.continue_publish(CREDS, request, PendingStep("poll_container", {"container_id": "c1"}))
    assert result.part_ids == ("cm1",)  # type: ignore[union-attr]


def test_publishing_limit_reached_is_rate_limited(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "FINISHED"})
    rsps.post(
        f"{GRAPH}/{IG}/media_publish",
        status=400,
        json={
            "error": {
                "message": "Application request limit reached",
                "type": "OAuthException",
                "code": 9,
                "error_subcode": 2207042,
            }
        },
    )
    with pytest.raises(RateLimited):
        adapter.continue_publish(
            CREDS,
            PublishRequest(target_id="t", text="x"),
            PendingStep("poll_container", {"container_id": "c1"}),
        )


def test_a_read_timeout_on_media_publish_is_an_unknown_outcome(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "FINISHED"})
    rsps.post(f"{GRAPH}/{IG}/media_publish", body=requests.ReadTimeout("slow"))
    with pytest.raises(UnknownOutcome):
        adapter.continue_publish(
            CREDS,
            PublishRequest(target_id="t", text="x"),
            PendingStep("poll_container", {"container_id": "c1"}),
        )


def test_graph_errors_map_to_the_error_classes(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    request = PublishRequest(target_id="t", text="x", media=(JPEG,))
    rsps.post(
        f"{GRAPH}/{IG}/media",
        status=400,
        json={
            "error": {
                "message": "The aspect ratio is not supported.",
                "type": "OAuthException",
                "code": 36003,
            }
        },
    )
    with pytest.raises(PermanentError) as caught:
        adapter.publish(CREDS, request)
    assert caught.value.message == "The aspect ratio is not supported."
    rsps.post(f"{GRAPH}/{IG}/media", status=400, json={"error": {"message": "expired", "code": 190}})
    with pytest.raises(AuthError):
        adapter.publish(CREDS, request)
    rsps.post(f"{GRAPH}/{IG}/media", status=503, body="down")
    with pytest.raises(TransientError):
        adapter.publish(CREDS, request)


def test_quota_reads_the_content_publishing_limit(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(
        f"{GRAPH}/{IG}/content_publishing_limit",
        json={"data": [{"quota_usage": 50, "config": {"quota_total": 50, "quota_duration": 86400}}]},
        match=query({"fields": "quota_usage,config"}),
    )
    quota = adapter.quota(CREDS)
    assert quota == PublishingQuota(usage=50, total=50, duration_seconds=86400)
    assert quota.exhausted


def test_a_reply_to_a_comment_uses_the_replies_edge(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.post(f"{GRAPH}/17870913679156914/replies", json={"id": "r1"}, match=form({"message": "Thank you!"}))
    result = adapter.publish(
        CREDS, PublishRequest(target_id="t", text="Thank you!", reply_to="17870913679156914")
    )
    assert result == PublishResult(platform_post_id="r1")


def test_publish_without_media_is_refused_before_any_call(adapter: InstagramPublisher) -> None:
    with pytest.raises(PermanentError, match="needs an image"):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_find_published_matches_a_recent_caption(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(
        f"{GRAPH}/{IG}/media",
        json={
            "data": [
                {"id": "m0", "caption": "Spring is here", "timestamp": "2025-02-01T10:00:00+0000"},
                {
                    "id": "m1",
                    "caption": "Spring is here",
                    "timestamp": "2025-03-01T10:00:05+0000",
                    "permalink": "https://www.instagram.com/p/S/",
                },
            ]
        },
        match=query({"fields": "id,caption,permalink,timestamp", "limit": "25"}),
    )
    due = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    # the newest matching post after the due time wins; an older identical caption does not
    rsps.get(
        f"{GRAPH}/{IG}/media",
        json={"data": [{"id": "m0", "caption": "Spring is here", "timestamp": "2025-02-01T10:00:00+0000"}]},
    )
    found = adapter.find_published(
        CREDS, PublishRequest(target_id="t", text="Spring is here", not_before=due)
    )
    assert found == PublishResult(platform_post_id="m1", url="https://www.instagram.com/p/S/")
    assert (
        adapter.find_published(CREDS, PublishRequest(target_id="t", text="Spring is here", not_before=due))
        is None
    )


def test_delete_removes_the_media(rsps: responses.RequestsMock, adapter: InstagramPublisher) -> None:
    rsps.delete(f"{GRAPH}/m1", json={"success": True}, match=query({}))
    adapter.delete(CREDS, "m1")


def test_a_link_is_appended_to_the_caption(rsps: responses.RequestsMock, adapter: InstagramPublisher) -> None:
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "c9"},
        match=form({"image_url": JPEG.url, "caption": "Menu\n\nhttps://example.com/menu"}),
    )
    adapter.publish(
        CREDS, PublishRequest(target_id="t", text="Menu", media=(JPEG,), link="https://example.com/menu")
    )
