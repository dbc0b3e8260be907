"""Kuaishou under faults: the real publisher and KuaishouPublisher against a fake Kuaishou open platform
on 127.0.0.1. A Kuaishou post is one video: start_upload (part ``upload``), the file sent directly or
in fragments (each ``fragment:<i>`` recorded once confirmed; part ``media`` once complete), then
published once (the root). ``photo/publish`` has no idempotency key: a lost answer is verified on the
account's video list, never published again blindly."""

from __future__ import annotations

import pytest

from chorus.platforms.kuaishou import publish as kuaishou_publish
from chorus.posts.model import MediaRef, TargetState
from tests.faults.fakes.kuaishou import (
    ACCESS,
    APP_ID,
    COMPLETE,
    DIRECT,
    FRAGMENT,
    LIST,
    OPEN_ID,
    PUBLISH,
    START,
    VIDEO,
    VIDEO_BYTES,
    Kuaishou,
    kuaishou_error,
    kuaishou_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed, WorkerKilled


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Kuaishou:
    return kuaishou_platform(platform, monkeypatch)


@pytest.fixture
def fragmented(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 30-byte video goes in fragments of 10 bytes (3): above a 16-byte direct-upload size."""
    monkeypatch.setattr(kuaishou_publish, "DIRECT_MAX_BYTES", 16)
    monkeypatch.setattr(kuaishou_publish, "FRAGMENT_BYTES", 10)


def account(bed: PublisherBed) -> str:
    return bed.account("kuaishou", OPEN_ID, token=ACCESS, extra={"app_id": APP_ID})


def video(platform: FakePlatform) -> MediaRef:
    return MediaRef(mime_type="video/mp4", url=f"{platform.url}{VIDEO}")


def photos(platform: FakePlatform) -> list[tuple[str, bytes]]:
    return [(p["caption"], p["bytes"]) for p in platform.records.get("photo", [])]


def test_a_video_published_then_timed_out_is_found_in_the_list_and_never_published_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Kuaishou
) -> None:
    platform.create_then_timeout("POST", PUBLISH)
    acct = account(bed)
    post = bed.post(acct, "老铁们好 😀", media=(video(platform),))
    bed.run_until_settled()
    assert photos(platform) == [("老铁们好 😀", VIDEO_BYTES)]
    assert len(platform.calls("POST", START)) == 1
    assert len(platform.calls("POST", DIRECT)) == 1
    assert len(platform.calls("POST", PUBLISH)) == 1
    assert len(platform.calls("GET", LIST)) >= 1
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert target.platform_post_id == platform.records["photo"][0]["id"]
    assert target.attempt_log[0].outcome == "unknown"
    # the access token went only to the open API, never to the upload endpoint
    assert all("access_token" not in r.query for r in platform.calls("POST", DIRECT))


def test_a_worker_killed_after_two_of_three_fragments_resumes_without_sending_one_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Kuaishou, fragmented: None
) -> None:
    acct = account(bed)
    post = bed.post(acct, "分片", media=(video(platform),))
    bed.kill_after_landed("fragment:1")
    bed.run_until_settled()
    assert [type(c) for c in bed.crashes] == [WorkerKilled]
    assert [int(r.query["fragment_id"]) for r in platform.calls("POST", FRAGMENT)] == [0, 1, 2]
    assert [r.query["fragment_count"] for r in platform.calls("POST", COMPLETE)] == ["3"]
    assert len(platform.calls("POST", START)) == 1
    assert photos(platform) == [("分片", VIDEO_BYTES)]
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert set(target.parts) == {"upload", "fragment:0", "fragment:1", "fragment:2", "media", "0"}


def test_the_publish_refused_after_the_upload_fails_and_a_retry_resumes_at_the_publish(
    bed: PublisherBed, platform: FakePlatform, knobs: Kuaishou
) -> None:
    platform.fail("POST", PUBLISH, 200, kuaishou_error(10000200, "文件包含敏感内容"))
    acct = account(bed)
    post = bed.post(acct, "一次失败", media=(video(platform),))
    bed.run_until_settled()
    assert photos(platform) == []
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "failed"
    assert shown["error"] == "文件包含敏感内容 (error_code 10000200)"
    assert shown["missing_parts"] == ["0"]
    bed.retry(post)
    bed.run_until_settled()
    assert len(platform.calls("POST", START)) == 1
    assert len(platform.calls("POST", DIRECT)) == 1
    assert photos(platform) == [("一次失败", VIDEO_BYTES)]
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_dead_token_marks_the_target_for_reauthorisation_without_publishing(
    bed: PublisherBed, platform: FakePlatform, knobs: Kuaishou
) -> None:
    knobs.token = "another-token"  # the stored one is no longer valid (100200102)
    acct = account(bed)
    post = bed.post(acct, "过期", media=(video(platform),))
    bed.run_until_settled()
    assert photos(platform) == []
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "failed"
    assert "100200102" in shown["error"]
    assert len(platform.calls("POST", START)) == 1
