"""Threads under faults: the real publisher and ThreadsPublisher against a fake Threads API on 127.0.0.1.
Every part is a container (made once, its id recorded) published once (a PUBLISHED container is looked
up, never published again); thread parts are replies, each its own part. Each scenario asserts the
exact records on the fake and the target's state."""

from __future__ import annotations

import pytest

from chorus.posts.model import MediaRef, TargetState
from tests.faults.fakes.threads import (
    CONTAINERS,
    PUBLISH,
    QUOTA,
    REPLIES,
    USER,
    Threads,
    graph_error,
    text_is,
    threads_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Threads:
    return threads_platform(platform, monkeypatch)


def thread_post(bed: PublisherBed, **content: object) -> tuple[str, str]:
    account = bed.account("threads", USER, token="th-token", handle="chorus")
    return account, bed.post(account, "one", thread=("two", "three"), **content)  # type: ignore[arg-type]


def posts(platform: FakePlatform) -> list[tuple[str, str | None]]:
    """(text, the post it replies to) of every post on the fake, in the order they were made."""
    return [(p["text"], p["reply_to_id"]) for p in platform.records.get("post", [])]


def published_once(platform: FakePlatform) -> None:
    """One root and each thread part once, each replying to the part before."""
    made = platform.records["post"]
    assert posts(platform) == [("one", None), ("two", made[0]["id"]), ("three", made[1]["id"])]


def publishes(platform: FakePlatform) -> int:
    return len(platform.calls("POST", PUBLISH))


def test_a_publish_made_then_timed_out_is_verified_and_never_posted_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Threads
) -> None:
    # Given threads_publish publishes the root but its answer never arrives
    platform.create_then_timeout("POST", PUBLISH)
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the verify read the container (PUBLISHED) and found the post: one post per part, in order
    published_once(platform)
    assert publishes(platform) == 3
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.platform_post_id == platform.records["post"][0]["id"]
    assert target.url == "https://www.threads.net/@chorus/post/FAKE1"
    assert [a.outcome for a in target.attempt_log][:2] == ["unknown", "verified"]


def test_a_published_container_the_listing_does_not_show_yet_is_never_published_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Threads
) -> None:
    # Given the root's publish answer is lost and the profile's listing lags behind every verify look
    platform.create_then_timeout("POST", PUBLISH)
    platform.fail("GET", CONTAINERS, 200, {"data": []}, times=3)
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the container's PUBLISHED status stopped a second publish; the post was found once listed
    published_once(platform)
    assert publishes(platform) == 3
    assert len(platform.records["container"]) == 3
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_a_reply_made_then_cut_off_is_found_among_the_parents_replies(
    bed: PublisherBed, platform: FakePlatform, knobs: Threads
) -> None:
    # Given the second part's publish is made but the connection drops before the answer
    second_container = f"1789{2:011d}"  # the fake numbers containers in the order they are made
    platform.create_then_drop("POST", PUBLISH, when=lambda r: r.form.get("creation_id") == second_container)
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then find_part found it under the root: no part was made twice
    published_once(platform)
    assert publishes(platform) == 3
    assert len(platform.calls("GET", REPLIES)) >= 1
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_a_worker_killed_between_steps_resumes_without_repeating_a_container_or_a_post(
    bed: PublisherBed, platform: FakePlatform, knobs: Threads
) -> None:
    # Given a worker that dies right after the root's container was recorded, and another right after
    # the root itself landed
    account, post = thread_post(bed)
    bed.kill_after_landed("container")
    bed.kill_after_landed("0")
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then each container was made once and each part published once
    published_once(platform)
    assert len(platform.records["container"]) == 3
    assert publishes(platform) == 3
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_a_later_part_refused_leaves_the_post_partially_published_and_a_retry_resumes_it(
    bed: PublisherBed, platform: FakePlatform, knobs: Threads
) -> None:
    # Given Threads refuses the third part's container for good, once
    platform.fail_when(
        "POST", CONTAINERS, text_is("three"), 400, graph_error(400, 100, "Invalid parameter").body
    )
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the root and part 1 are out, part 2 missing: partially published, listed, alerted
    made = platform.records["post"]
    assert posts(platform) == [("one", None), ("two", made[0]["id"])]
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "partially_published"
    assert shown["parts"]["0"] == made[0]["id"]
    assert shown["parts"]["1"] == made[1]["id"]
    assert shown["missing_parts"] == ["2"]
    assert bed.events.names() == ["PublishPartiallyFailed"]
    # When an editor retries it
    bed.retry(post)
    bed.run_until_settled()
    # Then only the missing part went out: nothing already published was sent again
    published_once(platform)
    assert publishes(platform) == 3
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_a_video_in_progress_is_polled_as_steps_then_published_once(
    bed: PublisherBed, platform: FakePlatform, knobs: Threads
) -> None:
    # Given a video container that needs three status reads before it is FINISHED
    knobs.in_progress_reads = 3
    account = bed.account("threads", USER, token="th-token", handle="chorus")
    video = MediaRef(mime_type="video/mp4", url="https://cdn.example/clip.mp4")
    post = bed.post(account, "Clip", media=(video,))
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then each read was its own step a minute apart, and the container was published once
    (container,) = platform.records["container"]
    assert container["video_url"] == "https://cdn.example/clip.mp4"
    assert len(platform.calls("GET", rf"/v1.0/{container['id']}")) == 4
    assert [delay for _, delay in bed.queue.sent if delay == 60] == [60, 60, 60]
    assert posts(platform) == [("Clip", None)]
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_an_exhausted_publishing_quota_parks_the_post_until_the_window_frees_up(
    bed: PublisherBed, platform: FakePlatform, knobs: Threads
) -> None:
    # Given threads_publishing_limit says the 250 posts of the last 24 hours are used, once
    full = {"data": [{"quota_usage": 250, "config": {"quota_total": 250, "quota_duration": 86400}}]}
    platform.fail("GET", QUOTA, 200, full)
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then nothing was sent while the quota was exhausted: the target waited, then went out once
    assert len(platform.calls("GET", QUOTA)) == 2
    first_container = platform.calls("POST", CONTAINERS)[0]
    assert platform.requests.index(first_container) > platform.requests.index(platform.calls("GET", QUOTA)[1])
    assert any(delay >= 900 for _, delay in bed.queue.sent)
    published_once(platform)
    assert bed.target(post, account).state is TargetState.PUBLISHED
