"""Pinterest under faults: the real publisher and PinterestPublisher against a fake Pinterest API on
127.0.0.1. A pin is one part (the root); a video pin is prepared first (part ``media``: registered and
uploaded once, its id recorded), then waited for, then pinned once. The Pins API has no idempotency
key: a lost answer is verified on the board's pins, never pinned again blindly. Each scenario asserts
the exact records on the fake and the target's state."""

from __future__ import annotations

import pytest

from chorus.posts.model import MediaRef, TargetState
from tests.faults.fakes.pinterest import (
    BOARD,
    BOARD_PINS,
    MEDIA,
    PINS,
    UPLOAD,
    VIDEO,
    Pinterest,
    pinterest_error,
    pinterest_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed

JPEG = MediaRef(mime_type="image/jpeg", url="https://cdn.example/tart.jpg", alt_text="A lemon tart")


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Pinterest:
    return pinterest_platform(platform, monkeypatch)


def account(bed: PublisherBed) -> str:
    return bed.account("pinterest", "merle", token="pina-token", extra={"board_id": BOARD})


def pins(platform: FakePlatform) -> list[tuple[str | None, str | None, str]]:
    """(title, description, source type) of every pin on the fake."""
    return [
        (p["title"], p["description"], p["media_source"]["source_type"])
        for p in platform.records.get("pin", [])
    ]


def video(platform: FakePlatform) -> MediaRef:
    return MediaRef(mime_type="video/mp4", url=f"{platform.url}{VIDEO}")


def test_a_pin_made_then_timed_out_is_found_on_the_board_and_never_pinned_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Pinterest
) -> None:
    # Given POST /v5/pins makes the pin but its answer never arrives
    platform.create_then_timeout("POST", PINS)
    acct = account(bed)
    post = bed.post(
        acct, "Lemon tart\nBake it at 180 degrees.", media=(JPEG,), link="https://recipes.example/t"
    )
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the verify found it on the board: exactly one pin, pinned once
    assert pins(platform) == [("Lemon tart", "Bake it at 180 degrees.", "image_url")]
    assert len(platform.calls("POST", PINS)) == 1
    assert len(platform.calls("GET", BOARD_PINS)) >= 1
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert target.platform_post_id == platform.records["pin"][0]["id"]
    assert target.url == f"https://www.pinterest.com/pin/{platform.records['pin'][0]['id']}/"
    assert target.attempt_log[0].outcome == "unknown"


def test_a_board_listing_that_lags_is_looked_at_again_before_anything_is_sent(
    bed: PublisherBed, platform: FakePlatform, knobs: Pinterest
) -> None:
    # Given the pin's answer is lost and the board's list shows nothing at the first two looks
    platform.create_then_timeout("POST", PINS)
    platform.fail("GET", BOARD_PINS, 200, {"items": [], "bookmark": None}, times=2)
    acct = account(bed)
    post = bed.post(acct, "Tart", media=(JPEG,))
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then it looked again and found the pin: still one pin
    assert pins(platform) == [(None, "Tart", "image_url")]
    assert len(platform.calls("POST", PINS)) == 1
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_worker_killed_between_the_upload_and_the_pin_resumes_without_uploading_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Pinterest
) -> None:
    # Given a video Pinterest processes for two status reads, and a worker that dies right after the
    # uploaded media was recorded
    knobs.processing_reads = 2
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.kill_after_landed("media")
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the media was registered and uploaded once, polled as steps, and pinned once
    assert len(platform.calls("POST", MEDIA)) == 1
    assert len(platform.calls("POST", UPLOAD)) == 1
    (media,) = platform.records["media"]
    assert pins(platform) == [(None, "Clip", "video_id")]
    assert platform.records["pin"][0]["media_source"] == {
        "source_type": "video_id", "media_id": media["id"], "cover_image_key_frame_time": 0}  # fmt: skip
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == {"media": media["id"], "0": platform.records["pin"][0]["id"]}


def test_a_worker_killed_after_the_pin_was_marked_sent_verifies_it_first(
    bed: PublisherBed, platform: FakePlatform, knobs: Pinterest
) -> None:
    # Given a video pin whose worker dies once the pin is marked sent, before its request goes out
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.kill_after_sent("0")
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the redelivery looked on the board first (nothing there), then pinned it once
    assert pins(platform) == [(None, "Clip", "video_id")]
    assert len(platform.calls("POST", UPLOAD)) == 1
    assert len(platform.calls("POST", PINS)) == 1
    assert len(platform.calls("GET", BOARD_PINS)) >= 1
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_the_pin_refused_after_the_video_uploaded_fails_with_the_pin_missing_and_a_retry_resumes(
    bed: PublisherBed, platform: FakePlatform, knobs: Pinterest
) -> None:
    # Given the pin (the part after the uploaded media) is refused for good, once
    platform.fail("POST", PINS, 403, pinterest_error(403, 235, "Sorry, this image is broken.").body)
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),))
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the target failed with Pinterest's reason, the media recorded and the pin listed missing
    assert pins(platform) == []
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "failed"
    assert shown["error"] == "Sorry, this image is broken."
    assert shown["parts"] == {"media": platform.records["media"][0]["id"]}
    assert shown["missing_parts"] == ["0"]
    # When an editor retries it
    bed.retry(post)
    bed.run_until_settled()
    # Then the retry resumed at the pin: nothing registered or uploaded again, one pin
    assert len(platform.calls("POST", MEDIA)) == 1
    assert len(platform.calls("POST", UPLOAD)) == 1
    assert pins(platform) == [(None, "Clip", "video_id")]
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_pin_answered_503_is_retried_once_and_made_once(
    bed: PublisherBed, platform: FakePlatform, knobs: Pinterest
) -> None:
    platform.fail("POST", PINS, 503, {"code": 3, "message": "Service unavailable"})
    acct = account(bed)
    post = bed.post(acct, "Tart", media=(JPEG,))
    bed.run_until_settled()
    assert pins(platform) == [(None, "Tart", "image_url")]
    assert len(platform.calls("POST", PINS)) == 2
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_rate_limited_pin_waits_the_retry_after_then_goes_out(
    bed: PublisherBed, platform: FakePlatform, knobs: Pinterest
) -> None:
    platform.fail("POST", PINS, 429, {"code": 8, "message": "This request exceeded a rate limit."},
                  headers={"Retry-After": "120"})  # fmt: skip
    acct = account(bed)
    post = bed.post(acct, "Tart", media=(JPEG,))
    bed.run_until_settled()
    assert pins(platform) == [(None, "Tart", "image_url")]
    assert any(delay >= 120 for _, delay in bed.queue.sent)
    assert bed.target(post, acct).state is TargetState.PUBLISHED
