"""TikTok under faults: the real publisher and TikTokPublisher against a fake Content Posting API on
127.0.0.1. Creator info is read and the privacy level checked before anything is sent; a FILE_UPLOAD
init is repeatable (nothing is posted without its bytes); chunks go in order and a lost one is resumed
at ``uploaded_bytes``; the post is the one TikTok completes, read by polling the status, which answers
HTTP 200 even when the post FAILED. Each scenario asserts the exact records on the fake and the target."""

from __future__ import annotations

import pytest

from chorus.posts.model import MediaRef, TargetState
from tests.faults.fakes.tiktok import (
    CONTENT_INIT,
    INBOX_INIT,
    INIT,
    STATUS,
    UPLOAD,
    VIDEO,
    VIDEO_BYTES,
    TikTok,
    is_chunk,
    tiktok_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed, WorkerKilled

OPEN_ID = "afd97af1-b87b-48b9-ac98-410aghda5344"


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> TikTok:
    return tiktok_platform(platform, monkeypatch)


def account(bed: PublisherBed, privacy: str = "SELF_ONLY", **options: str) -> str:
    """The creator's account; ``options`` are its TikTok defaults (``mode``, ``photo_cover_index``, ...)."""
    return bed.account("tiktok", OPEN_ID, token="act.token", handle="merle",
                       extra={"privacy_level": privacy, **options})  # fmt: skip


def video(platform: FakePlatform) -> MediaRef:
    return MediaRef(mime_type="video/mp4", url=f"{platform.url}{VIDEO}", size=len(VIDEO_BYTES))


def photos(platform: FakePlatform, count: int = 2) -> tuple[MediaRef, ...]:
    return tuple(
        MediaRef(mime_type="image/jpeg", url=f"{platform.url}/files/photo-{n}.jpg") for n in range(count)
    )


def ranges(platform: FakePlatform) -> list[str]:
    return [str(r.headers.get("Content-Range")) for r in platform.calls("PUT", UPLOAD)]


def test_a_video_is_initialised_uploaded_polled_and_published_once(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    acct = account(bed)
    post = bed.post(acct, "A funny #cat video", media=(video(platform),))
    bed.run_until_settled()
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert [v["id"] for v in platform.records["video"]] == ["7301234567890120001"]
    assert (target.platform_post_id, target.url) == (
        "7301234567890120001", "https://www.tiktok.com/@merle/video/7301234567890120001")  # fmt: skip
    assert ranges(platform) == ["bytes 0-999/2560", "bytes 1000-2559/2560"]
    (made,) = platform.records["publish"]
    assert made["post_info"] == {"title": "A funny #cat video", "privacy_level": "SELF_ONLY", "disable_comment": False,
                                 "disable_duet": False, "disable_stitch": True}  # fmt: skip


def test_a_last_chunk_whose_answer_timed_out_is_not_sent_again_the_post_is_read_from_the_status(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    # Given TikTok took the last chunk (the post will be made) but its answer never arrived
    platform.create_then_timeout("PUT", UPLOAD, when=is_chunk(1000))
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.run_until_settled()
    # Then uploaded_bytes said it had everything: no chunk again, one publish, one post
    assert ranges(platform) == ["bytes 0-999/2560", "bytes 1000-2559/2560"]
    assert len(platform.records["publish"]) == 1
    assert len(platform.records["video"]) == 1
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_chunk_cut_mid_upload_is_resumed_at_uploaded_bytes(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    platform.drop("PUT", UPLOAD, when=is_chunk(1000))
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.run_until_settled()
    assert ranges(platform) == ["bytes 0-999/2560", "bytes 1000-2559/2560", "bytes 1000-2559/2560"]
    assert len(platform.records["video"]) == 1
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_an_init_made_then_timed_out_is_made_again_and_only_the_uploaded_one_becomes_a_post(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    platform.create_then_timeout("POST", INIT)
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.run_until_settled()
    # Then two publishes exist, the first never uploaded to (TikTok expires it), and one post
    assert [len(p["received"]) for p in platform.records["publish"]] == [0, 2560]
    assert len(platform.records["video"]) == 1
    assert bed.target(post, acct).state is TargetState.PUBLISHED


@pytest.mark.parametrize("kind", ["video", "photos"])
def test_a_worker_killed_between_init_and_upload_or_status_resumes_the_same_publish(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok, kind: str
) -> None:
    bed.kill_after_landed("init")
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),) if kind == "video" else photos(platform))
    bed.run_until_settled()
    assert [type(c) for c in bed.crashes] == [WorkerKilled]
    assert len(platform.records["publish"]) == 1
    assert len(platform.records["video"]) == 1
    assert bed.target(post, acct).state is TargetState.PUBLISHED


@pytest.mark.parametrize(
    ("kind", "reason"), [("video", "duration_check_failed"), ("photos", "photo_pull_failed")]
)
def test_a_status_answered_200_but_failed_fails_the_target_with_the_reason(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok, kind: str, reason: str
) -> None:
    knobs.fail_reason = reason
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),) if kind == "video" else photos(platform))
    bed.run_until_settled()
    target = bed.target(post, acct)
    assert target.state is TargetState.FAILED
    assert target.error_code == reason
    assert f"could not publish the {kind}: {reason}" in (target.error or "")
    assert "video" not in platform.records


def test_a_privacy_level_the_creator_cannot_use_fails_before_anything_is_sent(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    acct = account(bed, privacy="PUBLIC_TO_EVERYONE")
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.run_until_settled()
    target = bed.target(post, acct)
    assert target.state is TargetState.FAILED
    assert target.error_code == "privacy_level_option_mismatch"
    assert not platform.calls("POST", INIT)


def test_the_daily_post_cap_defers_the_post_with_the_reason(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    platform.fail("POST", INIT, 403, {"data": {}, "error": {"code": "spam_risk_too_many_posts",
                  "message": "The daily post cap from the API is reached for the current user.", "log_id": "x"}})  # fmt: skip
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.run_until_settled()
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    waited = [a for a in target.attempt_log if a.outcome == "rate_limited"]
    assert waited
    assert "spam_risk_too_many_posts" in waited[0].detail
    assert len(platform.records["video"]) == 1
    assert len(platform.calls("POST", STATUS)) >= 2


# -- photo posts and drafts ----------------------------------------------------------------------------


def test_a_photo_post_is_pulled_from_its_urls_and_published_once(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    acct = account(bed, photo_cover_index="1", allow_comment="false")
    post = bed.post(acct, "Three cakes #baking", media=photos(platform, 3))
    bed.run_until_settled()
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    (made,) = platform.records["publish"]
    assert (made["post_mode"], made["post_info"]) == ("DIRECT_POST", {
        "description": "Three cakes #baking", "privacy_level": "SELF_ONLY", "disable_comment": True})  # fmt: skip
    assert made["source_info"] == {"source": "PULL_FROM_URL", "photo_cover_index": 1,
                                   "photo_images": [f"{platform.url}/files/photo-{n}.jpg" for n in range(3)]}  # fmt: skip
    (photo,) = platform.records["video"]
    assert (target.platform_post_id, target.url) == (
        photo["id"],
        f"https://www.tiktok.com/@merle/photo/{photo['id']}",
    )
    assert not platform.calls("PUT", UPLOAD)


def test_a_photo_init_accepted_then_timed_out_is_verified_never_sent_again(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    # Given TikTok took the photo post (it pulls and posts them) but its answer never arrived
    platform.create_then_timeout("POST", CONTENT_INIT)
    acct = account(bed)
    post = bed.post(acct, "Lemon tart, three ways", media=photos(platform))
    bed.run_until_settled()
    # Then the creator's posts were searched for the caption: one init, one post, published
    assert len(platform.calls("POST", CONTENT_INIT)) == 1
    (photo,) = platform.records["video"]
    target = bed.target(post, acct)
    assert (target.state, target.platform_post_id) == (TargetState.PUBLISHED, photo["id"])


def test_a_draft_video_is_uploaded_to_the_inbox_and_ends_sent_to_inbox_not_published(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    acct = account(bed, mode="draft")
    post = bed.post(acct, "Finish me in the app", media=(video(platform),))
    bed.run_until_settled()
    target = bed.target(post, acct)
    assert target.state is TargetState.SENT_TO_INBOX
    (made,) = platform.records["publish"]
    assert made["draft"]
    assert made["post_info"] == {}  # the inbox takes the file only
    assert made["received"] == VIDEO_BYTES
    assert (target.platform_post_id, target.parts["inbox"]) == (made["id"], made["id"])
    assert target.published_at is None
    assert "video" not in platform.records  # nothing is posted until the creator finishes it
    assert not platform.calls("POST", INIT)
    assert "PostPublished" not in bed.events.names()


def test_a_draft_init_made_then_timed_out_is_made_again_and_only_the_uploaded_one_reaches_the_inbox(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    platform.create_then_timeout("POST", INBOX_INIT)
    acct = account(bed, mode="draft")
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.run_until_settled()
    assert [len(p["received"]) for p in platform.records["publish"]] == [0, 2560]
    target = bed.target(post, acct)
    assert (target.state, target.platform_post_id) == (
        TargetState.SENT_TO_INBOX,
        platform.records["publish"][1]["id"],
    )


def test_draft_photos_whose_answer_was_lost_fail_rather_than_send_a_second_draft(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    platform.create_then_timeout("POST", CONTENT_INIT)
    acct = account(bed, mode="draft")
    post = bed.post(acct, "Photos", media=photos(platform))
    bed.run_until_settled()
    target = bed.target(post, acct)
    assert len(platform.calls("POST", CONTENT_INIT)) == 1
    assert target.state is TargetState.FAILED
    assert "inbox" in (target.error or "")


def test_a_worker_killed_after_the_draft_reached_the_inbox_still_ends_sent_to_inbox(
    bed: PublisherBed, platform: FakePlatform, knobs: TikTok
) -> None:
    bed.kill_after_landed("inbox")  # the inbox is recorded, the target not yet moved
    acct = account(bed, mode="draft")
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.run_until_settled()
    assert [type(c) for c in bed.crashes] == [WorkerKilled]
    target = bed.target(post, acct)
    (made,) = platform.records["publish"]
    assert (target.state, target.platform_post_id) == (TargetState.SENT_TO_INBOX, made["id"])
    assert "video" not in platform.records
    assert "PostPublished" not in bed.events.names()
