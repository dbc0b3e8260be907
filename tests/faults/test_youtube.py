"""YouTube under faults: the real publisher and YouTubePublisher against a fake YouTube on 127.0.0.1.
A video is one post (the root), uploaded through a resumable session persisted before its first byte;
chunks are acknowledged by the server's ``Range``; a lost connection, a crash or a lost last answer is
answered by asking the session where it stands (``bytes */total``) — never a second session's video.
The project's daily quota (DynamoDB ledger on moto) is never exceeded: a post waits for the next quota
day. Each scenario asserts the exact records on the fake and the target's state."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from chorus.platforms.youtube import quota as ytquota
from chorus.posts.model import MediaRef, TargetState
from chorus.store.quotas import DynamoQuotaLedger
from tests.faults.fakes.youtube import (
    THUMB,
    THUMBNAIL,
    UPLOAD,
    VIDEO,
    VIDEO_BYTES,
    YouTube,
    is_chunk,
    youtube_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed, WorkerKilled

UC = "UC_x5XG1OV2P6uZZ5FSM9Ttw"


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> YouTube:
    return youtube_platform(platform, monkeypatch)


def account(bed: PublisherBed) -> str:
    return bed.account("youtube", UC, token="ya29.token")


def video(platform: FakePlatform) -> MediaRef:
    return MediaRef(mime_type="video/mp4", url=f"{platform.url}{VIDEO}", size=len(VIDEO_BYTES))


def ranges(platform: FakePlatform) -> list[str]:
    return [str(r.headers.get("Content-Range")) for r in platform.calls("PUT", UPLOAD)]


def test_a_last_chunk_whose_answer_timed_out_is_read_back_from_the_session_one_video(
    bed: PublisherBed, platform: FakePlatform, knobs: YouTube
) -> None:
    # Given the last chunk completes the upload (the video is made) but its answer never arrives
    platform.create_then_timeout("PUT", UPLOAD, when=is_chunk(524288))
    acct = account(bed)
    post = bed.post(acct, "Lemon tart\nBake it at 180 degrees.", media=(video(platform),))
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the session was asked where it stands and answered the video: one session, one video
    assert len(platform.records["session"]) == 1
    assert [v["id"] for v in platform.records["video"]] == ["D-lhorsDl01"]
    assert ranges(platform)[-1] == f"bytes */{len(VIDEO_BYTES)}"
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert (target.platform_post_id, target.url) == (
        "D-lhorsDl01",
        "https://www.youtube.com/watch?v=D-lhorsDl01",
    )
    assert platform.records["video"][0]["snippet"]["title"] == "Lemon tart"


def test_a_connection_lost_mid_upload_resumes_at_the_servers_offset(
    bed: PublisherBed, platform: FakePlatform, knobs: YouTube
) -> None:
    # Given the second chunk's connection is cut before the server took a byte of it
    platform.drop("PUT", UPLOAD, when=is_chunk(262144))
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.run_until_settled()
    # Then the upload went on from the server's offset (262144), after asking it: one video
    total = len(VIDEO_BYTES)
    sent = ranges(platform)
    assert sent[:3] == [f"bytes 0-262143/{total}", f"bytes 262144-524287/{total}", f"bytes */{total}"]
    assert [r for r in sent if not r.startswith("bytes */")] == [
        f"bytes 0-262143/{total}", f"bytes 262144-524287/{total}", f"bytes 262144-524287/{total}",
        f"bytes 524288-{total - 1}/{total}"]  # fmt: skip
    assert len(platform.records["session"]) == 1
    assert len(platform.records["video"]) == 1
    assert platform.records["video"][0]["bytes"] == total
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_worker_killed_after_the_session_was_persisted_resumes_it_not_a_new_one(
    bed: PublisherBed, platform: FakePlatform, knobs: YouTube
) -> None:
    # Given the worker dies right after the session URI was persisted (before any byte went)
    bed.kill_after_landed("session:1")
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.run_until_settled()
    # Then the redelivery asked the persisted session, uploaded through it: one session, one video
    assert [type(c) for c in bed.crashes] == [WorkerKilled]
    assert len(platform.records["session"]) == 1
    assert len(platform.records["video"]) == 1
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert target.parts["session:1"].endswith("upload_id=xa298sd_1&part=snippet,status")


def test_a_worker_killed_between_chunks_sends_only_what_the_server_lacks(
    bed: PublisherBed, platform: FakePlatform, knobs: YouTube
) -> None:
    bed.kill_after_landed("chunk:1:0")
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),))
    bed.run_until_settled()
    total = len(VIDEO_BYTES)
    sent = [r for r in ranges(platform) if not r.startswith("bytes */")]
    assert sent == [
        f"bytes 0-262143/{total}",
        f"bytes 262144-524287/{total}",
        f"bytes 524288-{total - 1}/{total}",
    ]
    assert len(platform.records["video"]) == 1
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_thumbnail_refused_after_the_video_leaves_it_partially_published_and_a_retry_completes_it(
    bed: PublisherBed, platform: FakePlatform, knobs: YouTube
) -> None:
    # Given thumbnails.set refuses (the channel may not set custom thumbnails yet) once
    platform.fail("POST", THUMBNAIL, 403, {"error": {"code": 403, "message": "The authenticated user doesnt have "
                  "permissions to upload and set custom video thumbnails.", "errors": [{"reason": "forbidden"}]}})  # fmt: skip
    acct = account(bed)
    thumb = MediaRef(mime_type="image/jpeg", url=f"{platform.url}{THUMB}")
    post = bed.post(acct, "Clip", media=(video(platform), thumb))
    bed.run_until_settled()
    # Then the video is out once, the target says what failed after it
    target = bed.target(post, acct)
    assert target.state is TargetState.PARTIALLY_PUBLISHED
    assert target.platform_post_id == "D-lhorsDl01"
    assert "custom video thumbnails" in (target.error or "")
    assert "thumbnail" not in platform.records
    # When the post is retried, only the thumbnail is sent: still one session and one video
    bed.retry(post)
    bed.run_until_settled()
    assert bed.target(post, acct).state is TargetState.PUBLISHED
    assert [t["video"] for t in platform.records["thumbnail"]] == ["D-lhorsDl01"]
    assert (len(platform.records["session"]), len(platform.records["video"])) == (1, 1)


def test_a_spent_daily_upload_quota_makes_the_post_wait_for_pacific_midnight(
    bed: PublisherBed, platform: FakePlatform, knobs: YouTube, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the project spent its 100 uploads of today's quota day (the ledger on the main table)
    monkeypatch.setattr(ytquota, "_utc_now", bed.now)
    today = ytquota.quota_day(bed.now())
    for _n in range(100):
        assert DynamoQuotaLedger("youtube").charge(ytquota.UPLOADS, today, 1, 100)
    acct = account(bed)
    post = bed.post(acct, "Clip", media=(video(platform),))
    # When the publisher runs until the next quota day has come
    bed.run_until_settled()
    # Then nothing was sent before Pacific midnight, the reason was shown, and it went out after it
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    waits = [a for a in target.attempt_log if a.outcome == "rate_limited"]
    assert waits
    assert "daily upload quota (100 videos a day) is used up" in waits[0].detail
    midnight = datetime.combine(date.fromisoformat(today) + timedelta(days=1), time(), tzinfo=ytquota.PACIFIC)
    published = next(a for a in target.attempt_log if a.outcome == "published")
    assert published.at >= midnight > waits[-1].at
    assert DynamoQuotaLedger("youtube").used(ytquota.UPLOADS, today) == 100
    assert DynamoQuotaLedger("youtube").used(ytquota.UPLOADS, ytquota.quota_day(published.at)) == 1
    assert len(platform.records["video"]) == 1
