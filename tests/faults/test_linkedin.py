"""LinkedIn under faults: the real publisher and LinkedInPublisher against a fake LinkedIn REST API on
127.0.0.1. A post is one part (the root); its media is prepared first as persisted steps (an image:
``image:<n>``; a video: ``video:init`` -> ``video:<i>`` per uploaded byte range -> ``video`` once
finalized, then waited for until AVAILABLE). The Posts API has no idempotency key and names the post
only in a header: a lost answer is verified among the author's posts, never posted again blindly.
Each scenario asserts the exact records on the fake and the target's state."""

from __future__ import annotations

import json

import pytest

from chorus.posts.model import MediaRef, TargetState
from tests.faults.fakes.linkedin import (
    IMAGE,
    IMAGES,
    ORG,
    POSTS,
    UPLOAD,
    VIDEO,
    VIDEOS,
    LinkedIn,
    linkedin_error,
    linkedin_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> LinkedIn:
    return linkedin_platform(platform, monkeypatch)


def account(bed: PublisherBed) -> str:
    return bed.account("linkedin", ORG, token="li-token")


def posts(platform: FakePlatform) -> list[tuple[str, str | None]]:
    """(commentary, media id) of every post on the fake."""
    return [
        (p["commentary"], ((p["content"] or {}).get("media") or {}).get("id"))
        for p in platform.records.get("post", [])
    ]


def jpeg(platform: FakePlatform) -> MediaRef:
    return MediaRef(mime_type="image/jpeg", url=f"{platform.url}{IMAGE}", alt_text="A lemon tart")


def mp4(platform: FakePlatform) -> MediaRef:
    return MediaRef(mime_type="video/mp4", url=f"{platform.url}{VIDEO}")


def test_a_post_made_then_timed_out_is_found_among_the_authors_posts_and_never_posted_again(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    # Given POST /rest/posts makes the post but its answer (the x-restli-id header) never arrives
    platform.create_then_timeout("POST", POSTS)
    acct = account(bed)
    post = bed.post(acct, "Launch (beta) #news")
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the verify found it by its commentary: exactly one post, posted once
    assert posts(platform) == [("Launch \\(beta\\) {hashtag|\\#|news}", None)]
    assert len(platform.calls("POST", POSTS)) == 1
    assert len(platform.calls("GET", POSTS)) >= 1
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    urn = platform.records["post"][0]["id"]
    assert (target.platform_post_id, target.url) == (urn, f"https://www.linkedin.com/feed/update/{urn}/")
    assert target.attempt_log[0].outcome == "unknown"


def test_a_listing_that_lags_is_looked_at_again_before_anything_is_sent(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    # Given the post's answer is lost and the author's posts show nothing at the first two looks
    platform.create_then_timeout("POST", POSTS)
    platform.fail("GET", POSTS, 200, {"elements": [], "paging": {"start": 0, "count": 20}}, times=2)
    acct = account(bed)
    post = bed.post(acct, "Lagging")
    bed.run_until_settled()
    # Then it looked again and found it: still one post
    assert posts(platform) == [("Lagging", None)]
    assert len(platform.calls("POST", POSTS)) == 1
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_worker_killed_between_two_video_uploads_resumes_at_the_missing_range(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    # Given a 512-byte video uploaded in three ranges, processed for two status reads, and a worker
    # that dies right after the second range's ETag was recorded
    knobs.processing_reads = 2
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(mp4(platform),))
    bed.kill_after_landed("video:1")
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then it was initialized once, each range uploaded once, finalized once, and posted once
    (video,) = platform.records["video"]
    assert [u["part"] for u in platform.records["upload"]] == [0, 1, 2]
    assert len([c for c in platform.calls("POST", VIDEOS) if c.query["action"] == "initializeUpload"]) == 1
    assert len([c for c in platform.calls("POST", VIDEOS) if c.query["action"] == "finalizeUpload"]) == 1
    assert posts(platform) == [("Clip", video["id"])]
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert json.loads(target.parts["video:init"])["video"] == video["id"]
    assert {k: v for k, v in target.parts.items() if k != "video:init"} == {
        "video:0": video["etags"][0], "video:1": video["etags"][1], "video:2": video["etags"][2],
        "video": video["id"], "0": platform.records["post"][0]["id"]}  # fmt: skip


def test_a_worker_killed_after_the_video_was_initialized_uploads_to_the_same_video(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(mp4(platform),))
    bed.kill_after_landed("video:init")
    bed.run_until_settled()
    assert len(platform.records["video"]) == 1
    assert len(platform.records["upload"]) == 3
    assert posts(platform) == [("Clip", platform.records["video"][0]["id"])]
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_worker_killed_after_the_post_was_marked_sent_verifies_it_first(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    # Given an image post whose worker dies once the post is marked sent, before its request goes out
    acct = account(bed)
    post = bed.post(acct, "Tart", media=(jpeg(platform),))
    bed.kill_after_sent("0")
    bed.run_until_settled()
    # Then the redelivery looked among the author's posts first (nothing there), then posted it once
    assert posts(platform) == [("Tart", platform.records["image"][0]["id"])]
    assert len(platform.calls("POST", IMAGES)) == 1
    assert len(platform.calls("PUT", UPLOAD)) == 1
    assert len(platform.calls("POST", POSTS)) == 1
    assert len(platform.calls("GET", POSTS)) >= 1
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_the_post_refused_after_the_image_uploaded_fails_with_the_post_missing_and_a_retry_resumes(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    # Given the post (the part after the uploaded image) is refused for good, once
    platform.fail("POST", POSTS, 422, linkedin_error(422, "Content is a duplicate of urn:li:share:1").body)
    acct = account(bed)
    post = bed.post(acct, "Tart", media=(jpeg(platform),))
    bed.run_until_settled()
    # Then the target failed with LinkedIn's reason, the image recorded and the post listed missing
    assert posts(platform) == []
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "failed"
    assert shown["error"] == "Content is a duplicate of urn:li:share:1"
    assert shown["parts"] == {"image:0": platform.records["image"][0]["id"]}
    assert shown["missing_parts"] == ["0"]
    # When an editor retries it
    bed.retry(post)
    bed.run_until_settled()
    # Then the retry resumed at the post: nothing initialized or uploaded again, one post
    assert len(platform.calls("POST", IMAGES)) == 1
    assert len(platform.calls("PUT", UPLOAD)) == 1
    assert posts(platform) == [("Tart", platform.records["image"][0]["id"])]
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_video_range_answered_503_is_uploaded_again_alone(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    # Given the second range's PUT is answered 503 once (the first went through)
    platform.fail_when("PUT", UPLOAD, lambda req: req.path.endswith("-1"), 503, b"busy")
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(mp4(platform),))
    bed.run_until_settled()
    # Then only that range was sent again: four PUTs, three stored ranges, one video, one post
    assert [c.path.rsplit("-", 1)[1] for c in platform.calls("PUT", UPLOAD)] == ["0", "1", "1", "2"]
    assert [u["part"] for u in platform.records["upload"]] == [0, 1, 2]
    assert len(platform.records["video"]) == 1
    assert posts(platform) == [("Clip", platform.records["video"][0]["id"])]
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_throttled_post_waits_for_retry_after_then_goes_out_once(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    throttled = linkedin_error(429, "Resource level throttle limit for calls to this resource is reached.")
    platform.fail("POST", POSTS, 429, throttled.body, headers={"Retry-After": "120"})
    acct = account(bed)
    post = bed.post(acct, "Busy day")
    bed.run_until_settled()
    assert posts(platform) == [("Busy day", None)]
    assert any(delay >= 120 for _, delay in bed.queue.sent)
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_the_documented_401_fails_the_target_and_marks_the_account_for_reauthorisation(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    platform.fail("POST", POSTS, 401, linkedin_error(401, "Empty oauth2_access_token").body, times=None)
    acct = account(bed)
    post = bed.post(acct, "Hello")
    bed.run_until_settled()
    assert posts(platform) == []
    assert bed.target(post, acct).state is TargetState.FAILED
    assert "AccountNeedsReauth" in bed.events.names()


def test_a_lost_answer_that_cannot_be_looked_up_fails_the_target_rather_than_posting_twice(
    bed: PublisherBed, platform: FakePlatform, knobs: LinkedIn
) -> None:
    # Given a member whose app may not read its posts (r_member_social is restricted): the listing is
    # refused with 403, and the post's answer is lost
    platform.create_then_timeout("POST", POSTS)
    refused = linkedin_error(403, "Not enough permissions to access: posts.FINDER-author.20240101")
    platform.fail("GET", POSTS, 403, refused.body, times=None)
    acct = bed.account("linkedin", "urn:li:person:782bbtaQ", token="li-token")
    post = bed.post(acct, "Hello from me")
    bed.run_until_settled()
    # Then the post exists once and the target failed saying it could not be verified (never resent)
    assert posts(platform) == [("Hello from me", None)]
    assert len(platform.calls("POST", POSTS)) == 1
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "failed"
    assert shown["error"].startswith("could not verify the post: Not enough permissions")
