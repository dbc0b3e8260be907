"""Douyin under faults: the real publisher and DouyinPublisher against a fake Douyin open platform on
127.0.0.1. A Douyin post is one video: uploaded (part ``media``: its video_id; in parts above the
single-request size, each part ``chunk:<n>`` recorded once confirmed), then created once (the root).
``create_video`` has no idempotency key: a lost answer is verified with ``video_basic_info`` for the
persisted video_id, never created again blindly. Each scenario asserts the exact records on the fake."""

from __future__ import annotations

import pytest

from chorus.platforms.douyin import publish as douyin_publish
from chorus.posts.model import MediaRef, TargetState
from tests.faults.fakes.douyin import (
    ACCESS,
    BASIC_INFO,
    CREATE,
    OPEN_ID,
    PART_COMPLETE,
    PART_INIT,
    PART_UPLOAD,
    UPLOAD,
    VIDEO,
    VIDEO_BYTES,
    Douyin,
    douyin_error,
    douyin_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed, WorkerKilled

SCOPES = "user_info,video.create.bind,video.data.bind"


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Douyin:
    return douyin_platform(platform, monkeypatch)


@pytest.fixture
def chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 30-byte video goes in parts of 10 bytes (3 parts): above a 16-byte single-request size."""
    monkeypatch.setattr(douyin_publish, "SINGLE_MAX_BYTES", 16)
    monkeypatch.setattr(douyin_publish, "PART_BYTES", 10)


def account(bed: PublisherBed, scopes: str = SCOPES) -> str:
    return bed.account("douyin", OPEN_ID, token=ACCESS, extra={"scopes": scopes})


def video(platform: FakePlatform) -> MediaRef:
    return MediaRef(mime_type="video/mp4", url=f"{platform.url}{VIDEO}")


def items(platform: FakePlatform) -> list[tuple[str, bytes]]:
    """(caption, the bytes of the video it was made from) of every created item."""
    videos = {v["id"]: v["bytes"] for v in platform.records.get("video", [])}
    return [(i["text"], videos[i["video_id"]]) for i in platform.records.get("item", [])]


def part_numbers(platform: FakePlatform) -> list[int]:
    return [int(r.query["part_number"]) for r in platform.calls("POST", PART_UPLOAD)]


def test_a_video_created_then_timed_out_is_found_by_its_video_id_and_never_created_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Douyin
) -> None:
    # Given create_video makes the item but its answer never arrives
    platform.create_then_timeout("POST", CREATE)
    acct = account(bed)
    post = bed.post(acct, "新品上市 #测试话题", media=(video(platform),))
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the verify found the item made from the persisted video_id: one upload, one item
    assert items(platform) == [("新品上市 #测试话题", VIDEO_BYTES)]
    assert len(platform.calls("POST", UPLOAD)) == 1
    assert len(platform.calls("POST", CREATE)) == 1
    assert len(platform.calls("POST", BASIC_INFO)) >= 1
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert target.platform_post_id == platform.records["item"][0]["id"]
    assert target.attempt_log[0].outcome == "unknown"


def test_a_worker_killed_after_two_of_three_parts_resumes_without_sending_a_confirmed_part_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Douyin, chunked: None
) -> None:
    # Given a video sent in three parts, and a worker that dies right after part 2 was recorded
    acct = account(bed)
    post = bed.post(acct, "分片上传", media=(video(platform),))
    bed.kill_after_landed("chunk:2")
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    assert [type(c) for c in bed.crashes] == [WorkerKilled]
    # Then one part upload was opened, each part sent exactly once, completed once and created once
    assert len(platform.calls("POST", PART_INIT)) == 1
    assert part_numbers(platform) == [1, 2, 3]
    assert len(platform.calls("POST", PART_COMPLETE)) == 1
    assert len(platform.calls("POST", UPLOAD)) == 0
    assert items(platform) == [("分片上传", VIDEO_BYTES)]
    # the upload_id (with + / =) travelled URL-encoded and came back intact
    assert {r.query["upload_id"] for r in platform.calls("POST", PART_UPLOAD)} == {
        platform.records["upload"][0]["id"]
    }
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert set(target.parts) == {"upload", "chunk:1", "chunk:2", "chunk:3", "media", "0"}
    assert target.parts["media"] == platform.records["video"][0]["id"]


def test_a_part_answered_busy_is_sent_again_alone(
    bed: PublisherBed, platform: FakePlatform, knobs: Douyin, chunked: None
) -> None:
    # Given Douyin answers the third part with its documented "busy" code (2100004) once
    platform.fail_when("POST", PART_UPLOAD, lambda r: r.query.get("part_number") == "3", 200,
                       douyin_error(2100004, "系统繁忙，此时请开发者稍候再试"))  # fmt: skip
    acct = account(bed)
    post = bed.post(acct, "重试", media=(video(platform),))
    bed.run_until_settled()
    # Then only part 3 went again; the video is whole and created once
    assert part_numbers(platform) == [1, 2, 3, 3]
    assert items(platform) == [("重试", VIDEO_BYTES)]
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_the_create_refused_after_the_upload_fails_with_the_video_kept_and_a_retry_resumes_at_the_create(
    bed: PublisherBed, platform: FakePlatform, knobs: Douyin
) -> None:
    # Given the create (the part after the upload) is refused for good, once
    platform.fail("POST", CREATE, 200, douyin_error(2100005, "参数不合法"))
    acct = account(bed)
    post = bed.post(acct, "失败一次", media=(video(platform),))
    bed.run_until_settled()
    # Then the target failed with Douyin's reason, the upload recorded and the video listed missing
    assert items(platform) == []
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "failed"
    assert shown["error"] == "参数不合法 (error_code 2100005)"
    assert shown["parts"] == {"media": platform.records["video"][0]["id"]}
    assert shown["missing_parts"] == ["0"]
    # When an editor retries it
    bed.retry(post)
    bed.run_until_settled()
    # Then nothing was uploaded again and the video was created once
    assert len(platform.calls("POST", UPLOAD)) == 1
    assert items(platform) == [("失败一次", VIDEO_BYTES)]
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_an_account_whose_app_lacks_the_create_scope_fails_at_once_and_nothing_is_uploaded(
    bed: PublisherBed, platform: FakePlatform, knobs: Douyin
) -> None:
    acct = account(bed, scopes="user_info,video.data.bind")
    post = bed.post(acct, "没有权限", media=(video(platform),))
    bed.run_until_settled()
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "failed"
    assert "video.create.bind" in shown["error"]
    assert platform.requests == []


def test_an_app_without_the_capability_is_a_permanent_failure_not_a_retry(
    bed: PublisherBed, platform: FakePlatform, knobs: Douyin
) -> None:
    # Given Douyin answers the create with 28001018 (应用未获得该能力) in the api/v1 envelope
    platform.fail("POST", CREATE, 200, {"err_no": 28001018, "err_msg": "应用未获得该能力", "log_id": "2023"})
    acct = account(bed)
    post = bed.post(acct, "能力", media=(video(platform),))
    bed.run_until_settled()
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "failed"
    assert shown["error"] == "应用未获得该能力 (error_code 28001018)"
    assert len(platform.calls("POST", CREATE)) == 1


def test_a_throttled_create_waits_then_goes_out_once(
    bed: PublisherBed, platform: FakePlatform, knobs: Douyin
) -> None:
    platform.fail("POST", CREATE, 200, douyin_error(2118110, "请求过于频繁"))
    acct = account(bed)
    post = bed.post(acct, "限流", media=(video(platform),))
    bed.run_until_settled()
    assert items(platform) == [("限流", VIDEO_BYTES)]
    assert len(platform.calls("POST", CREATE)) == 2
    assert bed.target(post, acct).state is TargetState.PUBLISHED
