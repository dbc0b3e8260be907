"""Instagram under faults: the real publisher and InstagramPublisher against a fake Graph API on
127.0.0.1. Containers are created once (their ids recorded as they are made), polled a bounded number
of times, published once (a PUBLISHED container is looked up, never published again), and the first
comment is its own part. Each scenario asserts the exact records on the fake and the target's state."""

from __future__ import annotations

import pytest

from chorus.platforms.instagram import publish as igpublish
from chorus.posts.model import MediaRef, TargetState
from tests.faults.fakes.gateway import gateway_after_create
from tests.faults.fakes.graph import (
    COMMENTS,
    CONTAINERS,
    IG_USER,
    MEDIA_PUBLISH,
    Instagram,
    graph_error,
    instagram_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed

JPEG = MediaRef(mime_type="image/jpeg", url="https://cdn.example/spring.jpg")


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Instagram:
    return instagram_platform(platform, monkeypatch)


def ig_post(bed: PublisherBed, media: tuple[MediaRef, ...] = (JPEG,)) -> tuple[str, str]:
    account = bed.account("instagram", IG_USER, token="page-token", handle="chorus")
    return account, bed.post(account, "Spring is here", media=media, first_comment="#spring #menu")


def media(platform: FakePlatform) -> list[tuple[str, str]]:
    """(caption, container) of every published media on the fake."""
    return [(m["caption"], m["container"]) for m in platform.records.get("media", [])]


def comments(platform: FakePlatform) -> list[tuple[str, str]]:
    return [(c["text"], c["parent"]) for c in platform.records.get("comment", [])]


def containers(platform: FakePlatform) -> list[str]:
    return [c["id"] for c in platform.records.get("container", [])]


def publishes(platform: FakePlatform) -> int:
    return len(platform.calls("POST", MEDIA_PUBLISH))


def published_once(platform: FakePlatform) -> None:
    """Exactly one container, one media made from it, one comment on that media."""
    (container,) = containers(platform)
    assert media(platform) == [("Spring is here", container)]
    assert comments(platform) == [("#spring #menu", platform.records["media"][0]["id"])]


def landed(platform: FakePlatform) -> dict[str, str]:
    return {
        "container": containers(platform)[0],
        "0": platform.records["media"][0]["id"],
        "comment": platform.records["comment"][0]["id"],
    }


def test_media_publish_created_then_timed_out_is_verified_by_the_container_status(
    bed: PublisherBed, platform: FakePlatform, knobs: Instagram
) -> None:
    # Given media_publish publishes the container but its answer never arrives
    platform.create_then_timeout("POST", MEDIA_PUBLISH)
    account, post = ig_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the verify saw the container PUBLISHED and found the media: published once, commented once
    published_once(platform)
    assert publishes(platform) == 1
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == landed(platform)
    assert target.url == "https://www.instagram.com/p/FAKE1/"


def test_a_published_container_the_listing_does_not_show_yet_is_never_published_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Instagram
) -> None:
    # Given media_publish's answer is lost and the media listing lags behind for every verify look
    platform.create_then_timeout("POST", MEDIA_PUBLISH)
    platform.fail("GET", CONTAINERS, 200, {"data": []}, times=3)
    account, post = ig_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the retry read the container's status (PUBLISHED) and looked the media up instead of
    # publishing the container a second time
    published_once(platform)
    assert publishes(platform) == 1
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == landed(platform)


def test_the_comment_answered_503_then_ok_resumes_at_the_comment(
    bed: PublisherBed, platform: FakePlatform, knobs: Instagram
) -> None:
    # Given the first comment is answered 503 once
    platform.fail(
        "POST", COMMENTS, 503, {"error": {"message": "Please retry", "code": 2, "is_transient": True}}
    )
    account, post = ig_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then only the comment was retried: one container, one media, one comment
    published_once(platform)
    assert publishes(platform) == 1
    assert len(platform.calls("POST", COMMENTS)) == 2
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == landed(platform)


def test_a_comment_created_then_cut_off_is_found_on_the_media(
    bed: PublisherBed, platform: FakePlatform, knobs: Instagram
) -> None:
    # Given the comment is made but the connection drops before the answer
    platform.create_then_drop("POST", COMMENTS)
    account, post = ig_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then find_part found it on the media's comments: it was not made again
    published_once(platform)
    assert len(platform.calls("POST", COMMENTS)) == 1
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_a_refused_comment_leaves_the_post_partially_published_and_a_retry_completes_it(
    bed: PublisherBed, platform: FakePlatform, knobs: Instagram
) -> None:
    # Given Instagram refuses the first comment for good, once
    platform.fail("POST", COMMENTS, 400, graph_error(400, 100, "Invalid parameter").body)
    account, post = ig_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the media is out, the comment missing: partially published and listed
    assert comments(platform) == []
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "partially_published"
    assert shown["parts"]["0"] == platform.records["media"][0]["id"]
    assert shown["missing_parts"] == ["comment"]
    assert bed.events.names() == ["PublishPartiallyFailed"]
    # When an editor retries it
    bed.retry(post)
    bed.run_until_settled()
    # Then only the comment went out: no new container, no second publish
    published_once(platform)
    assert publishes(platform) == 1
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == landed(platform)


def test_a_worker_killed_after_the_media_landed_resumes_with_the_comment(
    bed: PublisherBed, platform: FakePlatform, knobs: Instagram
) -> None:
    # Given a worker that dies right after the media's landing was persisted
    account, post = ig_post(bed)
    bed.kill_after_landed("0")
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then nothing was created or published twice
    published_once(platform)
    assert publishes(platform) == 1
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_container_polls_are_bounded_then_the_target_fails_with_the_last_status(
    bed: PublisherBed, platform: FakePlatform, knobs: Instagram, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a container that stays IN_PROGRESS, and a bound of 4 status reads
    monkeypatch.setattr(igpublish, "MAX_POLLS", 4)
    knobs.in_progress_reads = 1000
    account, post = ig_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then it read the status 4 times, never published, and failed with Instagram's last status
    (container,) = containers(platform)
    assert len(platform.calls("GET", rf"/v21.0/{container}")) == 4
    assert publishes(platform) == 0
    target = bed.target(post, account)
    assert target.state is TargetState.FAILED
    assert target.error == "Instagram container still IN_PROGRESS after 4 checks: In_Progress: fake"
    assert target.error_code == "IN_PROGRESS"


def test_a_container_in_progress_is_polled_as_steps_then_published(
    bed: PublisherBed, platform: FakePlatform, knobs: Instagram
) -> None:
    # Given a container that needs three status reads before it is FINISHED
    knobs.in_progress_reads = 3
    account, post = ig_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then each read was its own step, and the container was published once
    (container,) = containers(platform)
    assert len(platform.calls("GET", rf"/v21.0/{container}")) == 4
    published_once(platform)
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_carousel_children_are_created_once_though_the_carousel_container_fails_first(
    bed: PublisherBed, platform: FakePlatform, knobs: Instagram
) -> None:
    # Given the carousel container request is answered 503 once (the children were made before it)
    platform.fail_when("POST", CONTAINERS, lambda r: r.form.get("media_type") == "CAROUSEL", 503,
                       {"error": {"message": "Please retry", "code": 2}})  # fmt: skip
    account, post = ig_post(bed, media=(JPEG, JPEG))
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the retry reused the recorded children: two children and one carousel, published once
    made = platform.records["container"]
    assert [c.get("media_type", "IMAGE") for c in made] == ["IMAGE", "IMAGE", "CAROUSEL"]
    assert made[2]["children"] == f"{made[0]['id']},{made[1]['id']}"
    assert len(platform.calls("POST", CONTAINERS)) == 4
    assert media(platform) == [("Spring is here", made[2]["id"])]
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts["child:0"] == made[0]["id"]


def test_a_502_from_the_gateway_after_the_comment_was_made_is_verified_not_commented_twice(
    bed: PublisherBed, platform: FakePlatform, knobs: Instagram
) -> None:
    # Given the comment is made but the gateway answers 502
    gateway_after_create(platform, "POST", COMMENTS, 502, lambda req: True)
    account, post = ig_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then find_part found it: one comment
    published_once(platform)
    assert len(platform.calls("POST", COMMENTS)) == 1
    assert bed.target(post, account).state is TargetState.PUBLISHED
