"""X under faults: the real publisher and XPublisher against a fake X API on 127.0.0.1. X has no
idempotency key, so every part sent without a known answer is looked up on the account's timeline
before anything is sent again. Each scenario asserts the exact tweets on the fake and the target."""

from __future__ import annotations

import pytest

from chorus.platforms.x import publish as xpublish
from chorus.posts.model import MediaRef, TargetState
from tests.faults.fakes.gateway import gateway_after_create
from tests.faults.fakes.x import (
    APPEND,
    CLIP,
    STATUS,
    TWEETS,
    USER_ID,
    creates,
    text_is,
    thread,
    x_media,
    x_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed

THREAD = [("one", None), ("two", "one"), ("three", "two"), ("comment", "one")]
PARTS = ["0", "1", "2", "comment"]


@pytest.fixture
def x(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> FakePlatform:
    x_platform(platform, monkeypatch)
    return platform


def thread_post(bed: PublisherBed) -> tuple[str, str]:
    account = bed.account("x", USER_ID, handle="chorus")
    return account, bed.post(account, "one", thread=("two", "three"), first_comment="comment")


def ids(platform: FakePlatform) -> list[str]:
    return [t["id"] for t in platform.records.get("tweet", [])]


def test_a_root_created_then_timed_out_is_found_on_the_timeline_not_posted_twice(
    bed: PublisherBed, x: FakePlatform
) -> None:
    # Given X creates the first tweet but its answer never arrives
    x.create_then_timeout("POST", TWEETS, when=text_is("one"))
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the root was verified on the timeline and the thread continued from it: each tweet once
    assert creates(x) == ["one", "two", "three", "comment"]
    assert thread(x) == THREAD
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(PARTS, ids(x), strict=True))
    assert target.platform_post_id == ids(x)[0]
    assert target.url == f"https://x.com/chorus/status/{ids(x)[0]}"


def test_a_thread_part_created_then_timed_out_is_found_as_a_reply_to_its_parent(
    bed: PublisherBed, x: FakePlatform
) -> None:
    # Given X creates the second tweet but drops the connection before answering
    x.create_then_drop("POST", TWEETS, when=text_is("two"))
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then find_part found the reply to the root and the thread went on from it
    assert creates(x) == ["one", "two", "three", "comment"]
    assert thread(x) == THREAD
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(PARTS, ids(x), strict=True))
    assert target.sent_parts == frozenset()


def test_part_2_answered_503_then_ok_resumes_at_that_part(bed: PublisherBed, x: FakePlatform) -> None:
    # Given X answers 503 to the second tweet once
    x.fail_when(
        "POST", TWEETS, text_is("two"), 503, {"title": "Service Unavailable", "detail": "Over capacity"}
    )
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the retry began at the failed part: every tweet exists once
    assert creates(x) == ["one", "two", "two", "three", "comment"]
    assert thread(x) == THREAD
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(PARTS, ids(x), strict=True))
    assert bed.events.names() == []  # what follows a publish reads the table stream


def test_part_2_refused_leaves_the_post_partially_published_and_a_retry_completes_it(
    bed: PublisherBed, x: FakePlatform
) -> None:
    # Given X refuses the second tweet (a 403), once
    refusal = {"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank",
               "title": "Forbidden", "status": 403}  # fmt: skip
    x.fail_when("POST", TWEETS, text_is("two"), 403, refusal)
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then only the root exists; the target is partially published with the landed and missing parts
    assert thread(x) == [("one", None)]
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "partially_published"
    assert shown["parts"] == {"0": ids(x)[0]}
    assert shown["missing_parts"] == ["1", "2", "comment"]
    assert shown["error"] == refusal["detail"]
    assert bed.events.names() == ["PublishPartiallyFailed"]
    # When an editor retries it
    bed.retry(post)
    bed.run_until_settled()
    # Then only the missing tweets went out: the thread is complete, each tweet once
    assert creates(x) == ["one", "two", "two", "three", "comment"]
    assert thread(x) == THREAD
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(PARTS, ids(x), strict=True))


def test_a_worker_killed_between_parts_resumes_without_duplicates(bed: PublisherBed, x: FakePlatform) -> None:
    # Given a worker that dies right after the second tweet's landing was persisted
    account, post = thread_post(bed)
    bed.kill_after_landed("1")
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the redelivery resumed at the third tweet
    assert creates(x) == ["one", "two", "three", "comment"]
    assert thread(x) == THREAD
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(PARTS, ids(x), strict=True))


def test_a_video_is_uploaded_segment_by_segment_and_polled_as_bounded_steps(
    bed: PublisherBed, x: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a 25-byte video sent in 10-byte segments, which X processes for two STATUS checks
    monkeypatch.setattr(xpublish, "CHUNK_BYTES", 10)
    clip = bytes(range(25))
    x_media(x, clip, in_progress_checks=2)
    account = bed.account("x", USER_ID, handle="chorus")
    video = MediaRef(mime_type="video/mp4", url=f"{x.url}/cdn/clip.mp4")
    post = bed.post(account, "Clip", media=(video,), first_comment="Full video on the site")
    # When the publisher runs until nothing is left to do
    outcomes = bed.run_until_settled()
    # Then each segment went up once, in order, read with a Range request; processing was waited for
    # as steps (no call waits); the tweet carries the media and the comment follows, each once
    (upload,) = x.records["upload"]
    assert upload["segments"] == {"0": clip[:10], "1": clip[10:20], "2": clip[20:]}
    assert [r.form["segment_index"] for r in x.calls("POST", APPEND)] == ["0", "1", "2"]
    assert all(r.headers.get("Range") for r in x.calls("GET", CLIP))
    assert len(x.calls("GET", STATUS)) == 3
    assert [(t["text"], t["media_ids"]) for t in x.records["tweet"]] == [
        ("Clip", [upload["id"]]),
        ("Full video on the site", []),
    ]
    assert [o.result for o in outcomes].count("processing") >= 4
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_video_processing_checks_are_bounded_then_the_target_fails_with_xs_last_state(
    bed: PublisherBed, x: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a video X never finishes processing, and a bound of 3 STATUS checks
    monkeypatch.setattr(xpublish, "MAX_STATUS_POLLS", 3)
    x_media(x, b"0123456789", in_progress_checks=1000)
    account = bed.account("x", USER_ID, handle="chorus")
    post = bed.post(account, "Clip", media=(MediaRef(mime_type="video/mp4", url=f"{x.url}/cdn/clip.mp4"),))
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then it checked 3 times, tweeted nothing and failed with the last state X gave
    assert len(x.calls("GET", STATUS)) == 3
    assert x.records.get("tweet", []) == []
    target = bed.target(post, account)
    assert target.state is TargetState.FAILED
    assert target.error == "X was still processing the media after 3 checks (last state: in_progress)"


def test_a_504_from_the_gateway_after_part_2_was_made_is_verified_not_reposted(
    bed: PublisherBed, x: FakePlatform
) -> None:
    # Given X makes the second tweet but its gateway answers 504
    gateway_after_create(x, "POST", TWEETS, 504, text_is("two"))
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the unknown outcome was verified on the timeline: every tweet once
    assert creates(x) == ["one", "two", "three", "comment"]
    assert thread(x) == THREAD
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_a_media_tweet_created_then_timed_out_is_found_despite_its_media_link(
    bed: PublisherBed, x: FakePlatform
) -> None:
    # Given a video tweet that X creates without answering (its timeline text ends with a t.co link)
    x_media(x, b"0123456789", in_progress_checks=0)
    x.create_then_timeout("POST", TWEETS, when=text_is("Clip"))
    account = bed.account("x", USER_ID, handle="chorus")
    post = bed.post(account, "Clip", media=(MediaRef(mime_type="video/mp4", url=f"{x.url}/cdn/clip.mp4"),))
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the verify recognised the tweet: one tweet, one upload
    assert creates(x) == ["Clip"]
    assert len(x.records["upload"]) == 1
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.platform_post_id == x.records["tweet"][0]["id"]
