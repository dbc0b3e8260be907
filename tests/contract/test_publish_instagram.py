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
from chorus.platforms.instagram.publish import MAX_POLLS, InstagramPublisher, PublishingQuota
from tests.contract.stepping import STEP_BUDGET, drive

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
    adapter = InstagramPublisher(session=requests.Session())
    adapter.request_budget_s = STEP_BUDGET  # steps after two requests (see tests.contract.stepping)
    return adapter


def form(fields: dict[str, str]) -> list[Any]:
    return [matchers.urlencoded_params_matcher({**fields, **TOKEN})]


def query(fields: dict[str, str]) -> list[Any]:
    return [matchers.query_param_matcher({**fields, **TOKEN})]


def test_an_image_post_creates_a_container_records_it_and_asks_to_poll_it(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "17889455560051444"},
        match=form({"image_url": "https://cdn.example/a.jpg", "caption": "Hello #ig"}),
    )
    request = PublishRequest(target_id="t", text="Hello #ig", media=(JPEG,))
    step = adapter.publish(CREDS, request)
    assert step == PendingStep(
        "poll_container", {"container_id": "17889455560051444", "polls": "0"}, delay_seconds=10
    )
    # the container id is persisted as it is created: a retry polls it, never creates another
    assert request.progress.landed == {"container": "17889455560051444"}


def test_a_video_is_published_as_a_reel(rsps: responses.RequestsMock, adapter: InstagramPublisher) -> None:
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "c1"},
        match=form({"media_type": "REELS", "video_url": "https://cdn.example/v.mp4", "caption": "Reel"}),
    )
    step = adapter.publish(CREDS, PublishRequest(target_id="t", text="Reel", media=(MP4,)))
    assert isinstance(step, PendingStep)


def test_a_container_that_times_out_is_created_again_not_verified(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    # Given the container request times out (a container is invisible until published: safe to repeat)
    rsps.post(f"{GRAPH}/{IG}/media", body=requests.ReadTimeout("slow"))
    rsps.post(f"{GRAPH}/{IG}/media", json={"id": "c2"})
    request = PublishRequest(target_id="t", text="x", media=(JPEG,))
    with pytest.raises(TransientError):
        adapter.publish(CREDS, request)
    # Then a retry creates it, and nothing is left to verify
    assert isinstance(adapter.publish(CREDS, request), PendingStep)
    assert request.progress.landed == {"container": "c2"}


def test_an_image_carousel_creates_children_then_the_carousel_each_once(
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
    request = PublishRequest(target_id="t", text="Two", media=(JPEG, JPEG))
    # the two children fill the first call's budget: they are recorded, then continued
    step = adapter.publish(CREDS, request)
    assert step == PendingStep("poll_children", {}, delay_seconds=1)
    assert request.progress.landed == {"child:0": "k1", "child:1": "k2"}
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "car"},
        match=form({"media_type": "CAROUSEL", "children": "k1,k2", "caption": "Two"}),
    )
    step = adapter.continue_publish(CREDS, request, step)
    assert step == PendingStep("poll_container", {"container_id": "car", "polls": "0"}, delay_seconds=10)
    assert len(rsps.calls) == 3


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
    assert step == PendingStep("poll_children", {}, delay_seconds=1)
    # the video child is still processing: wait again (one read for all video children)
    rsps.get(
        f"{GRAPH}/",
        json={"k2": {"status_code": "IN_PROGRESS", "id": "k2"}},
        match=query({"ids": "k2", "fields": "status_code,status"}),
    )
    step = adapter.continue_publish(CREDS, request, step)
    assert step == PendingStep("poll_children", {"polls": "1"}, delay_seconds=10)
    # finished: the carousel container is created from the recorded children
    rsps.get(f"{GRAPH}/", json={"k2": {"status_code": "FINISHED", "id": "k2"}})
    rsps.post(
        f"{GRAPH}/{IG}/media",
        json={"id": "car"},
        match=form({"media_type": "CAROUSEL", "children": "k1,k2", "caption": "Mixed"}),
    )
    assert adapter.continue_publish(CREDS, request, step) == PendingStep(
        "poll_container", {"container_id": "car", "polls": "0"}, delay_seconds=10
    )
    assert [c.request.method for c in rsps.calls].count("POST") == 3


def polling(container: str = "c1", **extra: str) -> PublishRequest:
    """A request whose container exists (recorded in its progress), as the poll step finds it."""
    request = PublishRequest(target_id="t", text="x", media=(JPEG,), **extra)  # type: ignore[arg-type]
    request.progress.record("container", container)
    return request


def test_an_in_progress_container_is_polled_again_and_counted(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(
        f"{GRAPH}/c1",
        json={"status_code": "IN_PROGRESS", "id": "c1"},
        match=query({"fields": "status_code,status"}),
    )
    step = PendingStep("poll_container", {"container_id": "c1", "polls": "4"})
    again = adapter.continue_publish(CREDS, polling(), step)
    assert again == PendingStep("poll_container", {"container_id": "c1", "polls": "5"}, delay_seconds=10)


def test_polls_are_bounded_then_the_target_fails_with_the_last_status(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "IN_PROGRESS", "status": "Processing: 40%", "id": "c1"})
    step = PendingStep("poll_container", {"container_id": "c1", "polls": str(MAX_POLLS - 1)})
    with pytest.raises(PermanentError, match=f"still IN_PROGRESS after {MAX_POLLS} checks: Processing: 40%"):
        adapter.continue_publish(CREDS, polling(), step)


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
    request = polling()
    result, _, per_call = drive(adapter, CREDS, request, rsps)
    # (status, media_publish), then the permalink in the next call: two requests a call
    assert per_call == [2, 1]
    assert result == PublishResult(
        platform_post_id="17920238422030506", url="https://www.instagram.com/p/Cabc/"
    )


def test_a_permalink_failure_does_not_fail_a_published_post(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "FINISHED"})
    rsps.post(f"{GRAPH}/{IG}/media_publish", json={"id": "m1"})
    rsps.get(f"{GRAPH}/m1", status=500, json={"error": {"message": "Unknown error", "code": 1}})
    result, _, _ = drive(adapter, CREDS, polling(), rsps)
    assert result == PublishResult(platform_post_id="m1", url=None)


def test_a_published_container_is_found_never_published_again(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    # Given an earlier media_publish went through though its answer was lost
    rsps.get(f"{GRAPH}/c1", json={"status_code": "PUBLISHED", "id": "c1"})
    rsps.get(
        f"{GRAPH}/{IG}/media",
        json={"data": [{"id": "m9", "caption": "x", "permalink": "https://www.instagram.com/p/N/"}]},
    )
    # When the poll step runs again
    result, _, _ = drive(adapter, CREDS, polling(), rsps)
    # Then the media is looked up: no media_publish request at all
    assert result == PublishResult(platform_post_id="m9", url="https://www.instagram.com/p/N/")
    assert all("media_publish" not in c.request.url for c in rsps.calls)


def test_a_published_container_not_listed_yet_is_an_unknown_outcome(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "PUBLISHED", "id": "c1"})
    rsps.get(f"{GRAPH}/{IG}/media", json={"data": []})
    with pytest.raises(UnknownOutcome, match="PUBLISHED"):
        adapter.continue_publish(CREDS, polling(), PendingStep("poll_container", {"container_id": "c1"}))


def test_an_errored_container_fails_permanently_with_its_status(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(
        f"{GRAPH}/c1",
        json={"status_code": "ERROR", "status": "Error: Media upload has failed with error code 2207026"},
    )
    with pytest.raises(PermanentError, match="2207026"):
        adapter.continue_publish(CREDS, polling(), PendingStep("poll_container", {"container_id": "c1"}))


def test_an_expired_container_fails_permanently(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "EXPIRED"})
    with pytest.raises(PermanentError, match="EXPIRED"):
        adapter.continue_publish(CREDS, polling(), PendingStep("poll_container", {"container_id": "c1"}))


def test_first_comment_follows_the_publish(rsps: responses.RequestsMock, adapter: InstagramPublisher) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "FINISHED"})
    rsps.post(f"{GRAPH}/{IG}/media_publish", json={"id": "m1"})
    rsps.get(f"{GRAPH}/m1", json={"permalink": "https://www.instagram.com/p/X/"})
    rsps.post(f"{GRAPH}/m1/comments", json={"id": "cm1"}, match=form({"message": "#tags #here"}))
    result, _, _ = drive(adapter, CREDS, polling(first_comment="#tags #here"), rsps)
    assert result.part_ids == ("cm1",)


def test_a_comment_that_times_out_is_verified_by_find_part(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    # Given the media is published and the comment's answer is lost
    request = polling(first_comment="#tags", not_before=datetime(2025, 3, 1, 10, tzinfo=UTC))
    request.progress.record("0", "m1", "https://www.instagram.com/p/X/")
    rsps.post(f"{GRAPH}/m1/comments", body=requests.ReadTimeout("slow"))
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    assert request.progress.sent == {"comment"}
    # When verifying, the comment is found on the media's comments
    rsps.get(
        f"{GRAPH}/m1/comments",
        json={"data": [{"id": "cm7", "text": "#tags", "timestamp": "2025-03-01T10:00:09+0000"}]},
        match=query({"fields": "id,text,username,timestamp", "limit": "100"}),
    )
    assert adapter.find_part(CREDS, request, "comment") == "cm7"


def test_find_published_trusts_a_container_that_is_not_published(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    # a FINISHED container was never published: no need to read the media listing
    rsps.get(f"{GRAPH}/c1", json={"status_code": "FINISHED"})
    assert adapter.find_published(CREDS, polling()) is None
    assert len(rsps.calls) == 1


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
        adapter.continue_publish(CREDS, polling(), PendingStep("poll_container", {"container_id": "c1"}))


def test_a_read_timeout_on_media_publish_is_an_unknown_outcome(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    rsps.get(f"{GRAPH}/c1", json={"status_code": "FINISHED"})
    rsps.post(f"{GRAPH}/{IG}/media_publish", body=requests.ReadTimeout("slow"))
    request = polling()
    with pytest.raises(UnknownOutcome):
        adapter.continue_publish(CREDS, request, PendingStep("poll_container", {"container_id": "c1"}))
    assert request.progress.sent == {"0"}


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


def test_find_part_skips_another_users_comment_and_reads_the_handle_loosely(
    rsps: responses.RequestsMock, adapter: InstagramPublisher
) -> None:
    creds = AccountCredentials(
        platform="instagram", account_id=IG, access_token="page-token", handle="@Chorus"
    )
    request = polling(first_comment="#tags")
    request.progress.record("0", "m1")
    rsps.get(
        f"{GRAPH}/m1/comments",
        json={
            "data": [
                {"id": "cm5", "text": "#tags", "username": "someone"},
                {"id": "cm6", "text": "#tags", "username": "chorus"},
            ]
        },
    )
    assert adapter.find_part(creds, request, "comment") == "cm6"
