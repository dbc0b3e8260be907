"""Threads publishing against Meta's documented requests and answers
(fixtures/platform_api/publishing/threads): containers, status, threads_publish, replies as thread parts,
the publishing quota, verification after a lost answer, and the errors each maps to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
from chorus.platforms.instagram.publish import PublishingQuota
from chorus.platforms.threads.publish import MAX_POLLS, POLL_DELAY_SECONDS, ThreadsPublisher
from tests.contract.stepping import STEP_BUDGET, drive
from tests.support import fixture_json

API = "https://graph.threads.net/v1.0"
USER = "17841405793187218"
CREDS = AccountCredentials(platform="threads", account_id=USER, access_token="th-token", handle="chorus")
TOKEN = {"access_token": "th-token"}
JPEG = MediaItem(url="https://cdn.example/a.jpg", mime_type="image/jpeg", alt_text="A bronze statue")
MP4 = MediaItem(url="https://cdn.example/v.mp4", mime_type="video/mp4")
NOW = datetime.now(UTC)


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/publishing/threads/{name}")


def finished(container: str) -> dict[str, Any]:
    """The documented FINISHED answer (container_status_finished.json) for ``container``."""
    return {**doc("container_status_finished.json"), "id": container}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def adapter() -> ThreadsPublisher:
    return ThreadsPublisher(session=requests.Session())


def form(fields: dict[str, str]) -> list[Any]:
    return [matchers.urlencoded_params_matcher({**fields, **TOKEN})]


def query(fields: dict[str, str]) -> list[Any]:
    return [matchers.query_param_matcher({**fields, **TOKEN})]


def container(rsps: responses.RequestsMock, fields: dict[str, str], made: str) -> None:
    rsps.post(f"{API}/{USER}/threads", json={"id": made}, match=form(fields))


def status(rsps: responses.RequestsMock, of: str, answer: dict[str, Any]) -> None:
    rsps.get(f"{API}/{of}", json=answer, match=query({"fields": "status,error_message"}))


def publish(rsps: responses.RequestsMock, creation_id: str, media_id: str) -> None:
    rsps.post(
        f"{API}/{USER}/threads_publish", json={"id": media_id}, match=form({"creation_id": creation_id})
    )


def permalink(rsps: responses.RequestsMock, media_id: str) -> None:
    rsps.get(
        f"{API}/{media_id}",
        json={"permalink": f"https://www.threads.net/@chorus/post/{media_id}", "id": media_id},
        match=query({"fields": "permalink"}),
    )


def test_a_text_post_is_a_container_then_its_status_then_threads_publish(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    # Given the documented answers: container id 1234567, FINISHED, media id 1234567
    created = doc("container_create_response.json")["id"]
    rsps.post(f"{API}/{USER}/threads", json=doc("container_create_response.json"),
              match=form({"media_type": "TEXT", "text": "Hello Threads"}))  # fmt: skip
    status(rsps, created, finished(created))
    rsps.post(f"{API}/{USER}/threads_publish", json=doc("publish_response.json"),
              match=form({"creation_id": created}))  # fmt: skip
    permalink(rsps, "1234567")
    request = PublishRequest(target_id="t", text="Hello Threads")
    # When it is published
    result = adapter.publish(CREDS, request)
    # Then one container, one status read, one publish of that container, and the permalink
    assert result == PublishResult("1234567", "https://www.threads.net/@chorus/post/1234567")
    assert request.progress.landed == {"container": created, "0": "1234567"}
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "POST", "GET"]


def test_a_text_post_with_a_link_sends_it_as_link_attachment(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    container(
        rsps, {"media_type": "TEXT", "text": "Read this", "link_attachment": "https://blog.example/a"}, "c1"
    )
    status(rsps, "c1", finished("c1"))
    publish(rsps, "c1", "m1")
    permalink(rsps, "m1")
    result = adapter.publish(
        CREDS, PublishRequest(target_id="t", text="Read this", link="https://blog.example/a")
    )
    assert isinstance(result, PublishResult)


def test_an_image_post_carries_its_url_alt_text_and_the_link_in_the_text(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    container(rsps, {"media_type": "IMAGE", "image_url": JPEG.url, "alt_text": "A bronze statue",
                     "text": "#BronzFonz\n\nhttps://blog.example/a"}, "c1")  # fmt: skip
    status(rsps, "c1", finished("c1"))
    publish(rsps, "c1", "m1")
    permalink(rsps, "m1")
    request = PublishRequest(target_id="t", text="#BronzFonz", media=(JPEG,), link="https://blog.example/a")
    assert adapter.publish(CREDS, request).platform_post_id == "m1"  # type: ignore[union-attr]


def test_a_video_still_in_progress_is_polled_as_a_step_a_minute_later(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    # Given a video container Threads is still processing
    container(rsps, {"media_type": "VIDEO", "video_url": MP4.url, "text": "Clip"}, "v1")
    status(rsps, "v1", {"status": "IN_PROGRESS", "id": "v1"})
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    # When it is published
    step = adapter.publish(CREDS, request)
    # Then the next look is a step of its own, a minute later (the docs: poll once per minute)
    assert step == PendingStep("poll_container", {"container_id": "v1", "polls": "1"}, delay_seconds=60)
    assert POLL_DELAY_SECONDS == 60
    # When the step comes back and the container is FINISHED, it is published (never re-created)
    status(rsps, "v1", finished("v1"))
    publish(rsps, "v1", "m9")
    permalink(rsps, "m9")
    result = adapter.continue_publish(CREDS, request, step)
    assert isinstance(result, PublishResult)
    assert len([c for c in rsps.calls if c.request.url.endswith("/threads")]) == 1


def test_polls_are_bounded_then_the_target_fails_with_the_last_status(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    request.progress.record("container", "v1")
    step = PendingStep("poll_container", {"container_id": "v1", "polls": str(MAX_POLLS)})
    status(rsps, "v1", {"status": "IN_PROGRESS", "id": "v1"})
    with pytest.raises(PermanentError) as failed:
        adapter.continue_publish(CREDS, request, step)
    assert (
        failed.value.message
        == f"Threads container still IN_PROGRESS after {MAX_POLLS + 1} checks: IN_PROGRESS"
    )
    assert failed.value.code == "IN_PROGRESS"


def test_a_container_in_error_fails_the_target_with_threads_error_message(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    # Given the documented ERROR answer (container_status_error.json)
    error = doc("container_status_error.json")
    container(rsps, {"media_type": "VIDEO", "video_url": MP4.url, "text": "Clip"}, error["id"])
    status(rsps, error["id"], error)
    with pytest.raises(PermanentError) as failed:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="Clip", media=(MP4,)))
    assert failed.value.message == "Threads container ERROR: FAILED_DOWNLOADING_VIDEO"
    assert failed.value.code == "ERROR"


def test_a_carousel_makes_item_containers_waits_for_videos_then_the_carousel(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    container(rsps, {"media_type": "IMAGE", "image_url": JPEG.url, "alt_text": "A bronze statue",
                     "is_carousel_item": "true"}, "k1")  # fmt: skip
    container(rsps, {"media_type": "VIDEO", "video_url": MP4.url, "is_carousel_item": "true"}, "k2")
    status(rsps, "k2", {"status": "IN_PROGRESS", "id": "k2"})
    request = PublishRequest(target_id="t", text="Two", media=(JPEG, MP4))
    step = adapter.publish(CREDS, request)
    assert step == PendingStep("poll_container", {"container_id": "k2", "polls": "1"}, delay_seconds=60)
    assert request.progress.landed == {"child:0": "k1", "child:1": "k2"}
    # the video item is ready: the carousel container names both items, then it is published
    status(rsps, "k2", finished("k2"))
    container(rsps, {"media_type": "CAROUSEL", "children": "k1,k2", "text": "Two"}, "car")
    status(rsps, "car", finished("car"))
    publish(rsps, "car", "m1")
    permalink(rsps, "m1")
    result = adapter.continue_publish(CREDS, request, step)
    assert isinstance(result, PublishResult)
    assert request.progress.landed["container"] == "car"


def test_a_thread_and_first_comment_are_replies_each_to_the_part_before(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    # Given a root, two thread parts and a first comment (a reply to the root)
    container(rsps, {"media_type": "TEXT", "text": "one"}, "c0")
    status(rsps, "c0", finished("c0"))
    publish(rsps, "c0", "m0")
    container(rsps, {"media_type": "TEXT", "text": "two", "reply_to_id": "m0"}, "c1")
    status(rsps, "c1", finished("c1"))
    publish(rsps, "c1", "m1")
    container(rsps, {"media_type": "TEXT", "text": "three", "reply_to_id": "m1"}, "c2")
    status(rsps, "c2", finished("c2"))
    publish(rsps, "c2", "m2")
    container(rsps, {"media_type": "TEXT", "text": "comment", "reply_to_id": "m0"}, "cc")
    status(rsps, "cc", finished("cc"))
    publish(rsps, "cc", "mc")
    permalink(rsps, "m0")
    adapter.request_budget_s = STEP_BUDGET
    request = PublishRequest(target_id="t", text="one", thread=("two", "three"), first_comment="comment")
    # When it is driven through its steps with two requests a call
    result, steps, per_call = drive(adapter, CREDS, request, rsps)
    # Then every part landed once, in order, never more than the budget a call
    assert result.platform_post_id == "m0"
    assert result.part_ids == ("m1", "m2", "mc")
    assert max(per_call) <= 2
    assert len(steps) >= 6
    assert request.progress.landed["container:comment"] == "cc"


def test_a_publish_whose_answer_is_lost_is_unknown_and_verified_by_the_container_status(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    # Given threads_publish times out after the request was sent
    container(rsps, {"media_type": "TEXT", "text": "Hello"}, "c1")
    status(rsps, "c1", finished("c1"))
    rsps.post(f"{API}/{USER}/threads_publish", body=requests.ReadTimeout("slow"))
    request = PublishRequest(target_id="t", text="Hello", not_before=NOW)
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    assert request.progress.sent == {"0"}
    # When the publisher verifies: the container is PUBLISHED and the account's threads list the post
    status(rsps, "c1", {"status": "PUBLISHED", "id": "c1"})
    since = str(int((NOW - timedelta(minutes=2)).timestamp()))
    rsps.get(
        f"{API}/{USER}/threads",
        json={
            "data": [
                {
                    "id": "m7",
                    "text": "Hello",
                    "username": "chorus",
                    "timestamp": NOW.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                    "permalink": "https://www.threads.net/@chorus/post/abc",
                }
            ],
            "paging": {"cursors": {"before": "B", "after": "A"}},
        },
        match=query({"fields": "id,text,username,permalink,timestamp", "since": since, "limit": "25"}),
    )
    # Then it is found, with its permalink
    assert adapter.find_published(CREDS, request) == PublishResult(
        "m7", "https://www.threads.net/@chorus/post/abc"
    )


def test_a_container_not_published_means_the_post_does_not_exist(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    request = PublishRequest(target_id="t", text="Hello", not_before=NOW)
    request.progress.record("container", "c1")
    status(rsps, "c1", finished("c1"))
    assert adapter.find_published(CREDS, request) is None
    assert len(rsps.calls) == 1  # no listing read: a FINISHED container was never published


def test_a_published_container_found_at_the_status_read_is_never_published_again(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    # Given a container whose publish went through earlier (its answer lost, the mark cleared)
    request = PublishRequest(target_id="t", text="Hello", not_before=NOW)
    request.progress.record("container", "c1")
    status(rsps, "c1", {"status": "PUBLISHED", "id": "c1"})
    rsps.get(
        f"{API}/{USER}/threads", json={"data": [{"id": "m7", "text": "Hello", "timestamp": NOW.isoformat()}]}
    )
    permalink(rsps, "m7")
    # When the publish runs again, the post is looked up and recorded, and threads_publish is not called
    result = adapter.publish(CREDS, request)
    assert result.platform_post_id == "m7"  # type: ignore[union-attr]
    assert not [c for c in rsps.calls if c.request.url.startswith(f"{API}/{USER}/threads_publish")]


def test_a_thread_part_is_found_among_the_parents_replies_by_the_account(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    request = PublishRequest(target_id="t", text="one", thread=("two",), not_before=NOW)
    request.progress.record("0", "m0")
    request.progress.record("container:1", "c1")
    status(rsps, "c1", {"status": "PUBLISHED", "id": "c1"})
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%S+0000")
    rsps.get(
        f"{API}/m0/replies",
        json={
            "data": [
                {"id": "r0", "text": "two", "username": "someone", "timestamp": stamp},
                {"id": "r1", "text": "two", "username": "chorus", "timestamp": stamp},
            ]
        },
        match=query({"fields": "id,text,username,permalink,timestamp"}),
    )
    assert adapter.find_part(CREDS, request, "1") == "r1"


def test_the_publishing_quota_is_read_from_threads_publishing_limit(
    rsps: responses.RequestsMock, adapter: ThreadsPublisher
) -> None:
    rsps.get(f"{API}/{USER}/threads_publishing_limit", json=doc("publishing_limit_response.json"),
             match=query({"fields": "quota_usage,config"}))  # fmt: skip
    assert adapter.quota(CREDS) == PublishingQuota(usage=4, total=250, duration_seconds=86400)
    rsps.get(f"{API}/{USER}/threads_publishing_limit", json=doc("publishing_limit_response_all_quotas.json"))
    quota = adapter.quota(CREDS)
    assert (quota.total, quota.remaining, quota.exhausted) == (250, 250, False)
    rsps.get(f"{API}/{USER}/threads_publishing_limit",
             json={"data": [{"quota_usage": 250, "config": {"quota_total": 250, "quota_duration": 86400}}]})  # fmt: skip
    assert adapter.quota(CREDS).exhausted


@pytest.mark.parametrize(
    ("status_code", "body", "headers", "error"),
    [
        (429, {"error": {"message": "Too many calls", "code": 4}}, {"Retry-After": "120"}, RateLimited),
        (400, {"error": {"message": "Application request limit reached", "code": 4}}, {}, RateLimited),
        (401, {"error": {"message": "Error validating access token", "code": 190}}, {}, AuthError),
        (
            400,
            {"error": {"message": "Session has expired", "type": "OAuthException", "code": 190}},
            {},
            AuthError,
        ),
        (
            500,
            {"error": {"message": "An unknown error occurred", "code": 1, "is_transient": True}},
            {},
            TransientError,
        ),
        (400, {"error": {"message": "Invalid parameter", "code": 100}}, {}, PermanentError),
    ],
)
def test_threads_errors_map_to_retry_deferral_reauth_or_failure(
    rsps: responses.RequestsMock,
    adapter: ThreadsPublisher,
    status_code: int,
    body: dict[str, Any],
    headers: dict[str, str],
    error: type[Exception],
) -> None:
    rsps.post(f"{API}/{USER}/threads", json=body, status=status_code, headers=headers)
    request = PublishRequest(target_id="t", text="Hello")
    with pytest.raises(error) as raised:
        adapter.publish(CREDS, request)
    assert type(raised.value) is error
    assert request.progress.sent == set()  # a definite answer: nothing to verify
    if status_code == 429:
        assert raised.value.retry_after == 120  # type: ignore[attr-defined]
