"""TikTok Direct Post against the documented Content Posting API (fixtures/platform_api/publishing/tiktok):
creator info read and the post's privacy and interaction options checked before anything is sent, init
(FILE_UPLOAD and PULL_FROM_URL) with its exact body, chunks with Content-Range, status polling where
HTTP 200 may carry a FAILED post, deferrals for the daily caps and rate limits, verification, metrics."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import (
    ROOT,
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
from chorus.platforms.registry import post_id_in_url
from chorus.platforms.tiktok.metrics import TikTokMetrics
from chorus.platforms.tiktok.publish import TikTokPublisher, chunk_plan
from tests.contract.stepping import drive
from tests.support import fixture_json

API = "https://open.tiktokapis.com/v2"
UPLOAD_URL = "https://open-upload.tiktokapis.com/video/?upload_id=67890&upload_token=Xza123"
CREDS = AccountCredentials(platform="tiktok", account_id="afd97af1-b87b-48b9-ac98-410aghda5344",
                           access_token="act.example12345Example12345Example", handle="tiktok")  # fmt: skip
BEARER = {"Authorization": "Bearer act.example12345Example12345Example",
          "Content-Type": "application/json; charset=UTF-8"}  # fmt: skip
DATA = bytes(range(256)) * 10  # 2,560 bytes: with a chunk size of 1,000, chunks of 1,000 and 1,560
MP4 = MediaItem(url="https://cdn.example/clip.mp4", mime_type="video/mp4")
CAPTION = "this will be a funny #cat video on your @tiktok #fyp"
OPTIONS = {"privacy_level": "MUTUAL_FOLLOW_FRIENDS", "allow_comment": "false", "cover_ms": "1000"}
OK = {"code": "ok", "message": "", "log_id": "202210112248442CB9319E1FB30C1073F3"}


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/publishing/tiktok/{name}")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def adapter() -> TikTokPublisher:
    return TikTokPublisher(session=requests.Session(), chunk_size=1000)


def serve(rsps: responses.RequestsMock) -> None:
    def ranged(request: Any) -> tuple[int, dict[str, str], bytes]:
        found = re.fullmatch(r"bytes=(\d+)-(\d+)", request.headers.get("Range", ""))
        if not found:
            return 200, {}, DATA
        first, last = int(found.group(1)), min(int(found.group(2)), len(DATA) - 1)
        return 206, {"Content-Range": f"bytes {first}-{last}/{len(DATA)}"}, DATA[first : last + 1]

    rsps.add_callback(responses.GET, MP4.url, callback=ranged)


def creator(rsps: responses.RequestsMock, answer: Any = None) -> None:
    rsps.post(f"{API}/post/publish/creator_info/query/", json=answer or doc("creator_info_query_response.json"),
              match=[matchers.header_matcher(BEARER)])  # fmt: skip


def init(rsps: responses.RequestsMock, body: dict[str, Any] | None = None, **kw: Any) -> None:
    match = [matchers.header_matcher(BEARER)] + ([matchers.json_params_matcher(body)] if body else [])
    kw.setdefault("json", doc("video_init_response_file_upload.json"))
    rsps.post(f"{API}/post/publish/video/init/", match=match, **kw)


def status(rsps: responses.RequestsMock, data: dict[str, Any]) -> None:
    rsps.post(f"{API}/post/publish/status/fetch/", json={"data": data, "error": OK}, match=[
        matchers.header_matcher(BEARER), matchers.json_params_matcher(doc("status_fetch_request.json") | {
            "publish_id": "v_pub_file~v2-1.123456789"})])  # fmt: skip


def chunks(rsps: responses.RequestsMock, *, drop_second: bool = False) -> list[str]:
    """TikTok's upload URL: 206 per chunk, 201 after the last; the Content-Range of each PUT."""
    seen: list[str] = []

    def put(request: Any) -> tuple[int, dict[str, str], str] | Exception:
        content_range = request.headers["Content-Range"]
        assert "Authorization" not in request.headers  # the upload URL carries its own token
        first, last, total = map(int, re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range).groups())  # type: ignore[union-attr]
        assert request.body == DATA[first : last + 1]
        seen.append(content_range)
        if drop_second and len(seen) == 2:
            return requests.ConnectionError("connection reset")
        return (201 if last + 1 == total else 206), {}, ""

    rsps.add_callback(responses.PUT, UPLOAD_URL, callback=put)
    return seen


def test_a_video_is_checked_initialised_uploaded_in_chunks_and_polled_until_complete(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    # Given the documented creator info, init answer (publish_id + upload_url) and a completing status
    serve(rsps)
    creator(rsps)
    init(rsps, {
        "post_info": {"title": CAPTION, "privacy_level": "MUTUAL_FOLLOW_FRIENDS", "disable_duet": False,
                      "disable_comment": True, "disable_stitch": True, "video_cover_timestamp_ms": 1000},
        "source_info": {"source": "FILE_UPLOAD", "video_size": 2560, "chunk_size": 1000, "total_chunk_count": 2},
    })  # fmt: skip
    seen = chunks(rsps)
    status(rsps, {"status": "PROCESSING_UPLOAD", "uploaded_bytes": 2560})
    status(rsps, {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7301234567890123456]})
    request = PublishRequest(target_id="t", text=CAPTION, media=(MP4,), options=OPTIONS)
    # When the publisher drives it
    result, steps, _per_call = drive(adapter, CREDS, request, rsps)
    # Then the chunks went in order (the last one with the trailing bytes), and the post is public
    assert seen == ["bytes 0-999/2560", "bytes 1000-2559/2560"]
    assert PendingStep("poll_status", {"polls": "1"}, delay_seconds=10) in steps
    assert result == PublishResult(
        "7301234567890123456", "https://www.tiktok.com/@tiktok/video/7301234567890123456"
    )
    assert request.progress.landed[ROOT] == "7301234567890123456"
    assert request.progress.landed["creator"] == "MUTUAL_FOLLOW_FRIENDS"
    assert json.loads(request.progress.landed["init"])["publish_id"] == "v_pub_file~v2-1.123456789"
    assert json.loads(request.progress.landed["init"])["url"] == UPLOAD_URL


def test_status_answered_200_with_a_failed_post_fails_the_target_with_the_reason(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    # Given the documented status: HTTP 200, error.code ok, data.status FAILED (status_fetch_failed.json)
    request = PublishRequest(target_id="t", text=CAPTION, media=(MP4,), options=OPTIONS)
    request.progress.landed.update({"init": json.dumps(
        {"publish_id": "v_pub_file~v2-1.123456789", "url": UPLOAD_URL, "size": 2560, "chunk": 1000, "count": 2}),
        "chunk:0": "206", "chunk:1": "201"})  # fmt: skip
    rsps.post(f"{API}/post/publish/status/fetch/", json=doc("status_fetch_failed.json"))
    with pytest.raises(PermanentError, match="picture_size_check_failed") as failed:
        adapter.continue_publish(CREDS, request, PendingStep("poll_status", {"polls": "1"}))
    assert failed.value.code == "picture_size_check_failed"
    assert ROOT not in request.progress.landed  # no post exists: the target fails, not partially published


def test_a_lost_chunk_connection_asks_uploaded_bytes_and_resumes_at_that_chunk(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    serve(rsps)
    creator(rsps)
    init(rsps)
    seen = chunks(rsps, drop_second=True)
    status(rsps, {"status": "PROCESSING_UPLOAD", "uploaded_bytes": 1000})
    status(rsps, {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": []})
    request = PublishRequest(target_id="t", text=CAPTION, media=(MP4,), options=OPTIONS)
    result, _steps, _per_call = drive(adapter, CREDS, request, rsps)
    # Then the second chunk went again after TikTok said it holds 1,000 bytes; one init, one post
    assert seen == ["bytes 0-999/2560", "bytes 1000-2559/2560", "bytes 1000-2559/2560"]
    assert len([c for c in rsps.calls if c.request.url.endswith("/video/init/")]) == 1
    assert result == PublishResult("v_pub_file~v2-1.123456789", None)  # not public yet: the publish id


def test_pull_from_url_under_the_accounts_verified_prefix(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    creds = AccountCredentials("tiktok", "open-1", "act.example12345Example12345Example",
                               extra={"pull_from_url": "https://example.verified.domain.com/"})  # fmt: skip
    item = MediaItem(url="https://example.verified.domain.com/example_video.mp4", mime_type="video/mp4")
    creator(rsps)
    expected = doc("video_init_request_pull_from_url.json")
    expected["post_info"]["disable_stitch"] = True  # the creator turned stitches off (creator info)
    init(rsps, expected, json=doc("video_init_response_pull_from_url.json"))
    rsps.post(f"{API}/post/publish/status/fetch/", json={"data": {"status": "PUBLISH_COMPLETE"}, "error": OK})
    options = {"privacy_level": "MUTUAL_FOLLOW_FRIENDS", "allow_comment": "false", "allow_duet": "true",
               "cover_ms": "1000"}  # fmt: skip
    result = adapter.publish(
        creds, PublishRequest(target_id="t", text=CAPTION, media=(item,), options=options)
    )
    assert result == PublishResult("v_pub_url~v2.123456789", None)


@pytest.mark.parametrize(
    ("options", "rule"),
    [
        ({}, "privacy_level_required"),
        ({"privacy_level": "FOLLOWER_OF_CREATOR"}, "privacy_level_option_mismatch"),
        ({"privacy_level": "SELF_ONLY", "allow_stitch": "true"}, "interaction_disabled"),
    ],
)
def test_options_the_creator_cannot_use_are_refused_before_anything_is_sent(
    rsps: responses.RequestsMock, adapter: TikTokPublisher, options: dict[str, str], rule: str
) -> None:
    creator(rsps)
    with pytest.raises(PermanentError) as refused:
        adapter.publish(CREDS, PublishRequest(target_id="t", text=CAPTION, media=(MP4,), options=options))
    assert refused.value.code == rule
    assert [c.request.url for c in rsps.calls] == [f"{API}/post/publish/creator_info/query/"]


@pytest.mark.parametrize(
    ("status_code", "code", "error"),
    [
        (403, "spam_risk_too_many_posts", RateLimited),
        (403, "reached_active_user_cap", RateLimited),
        (429, "rate_limit_exceeded", RateLimited),
        (401, "access_token_invalid", AuthError),
        (403, "unaudited_client_can_only_post_to_private_accounts", PermanentError),
        (400, "invalid_param", PermanentError),
    ],
)
def test_init_errors_map_to_deferrals_reauth_or_permanent(
    rsps: responses.RequestsMock,
    adapter: TikTokPublisher,
    status_code: int,
    code: str,
    error: type[Exception],
) -> None:
    serve(rsps)
    creator(rsps)
    init(rsps, status=status_code, json={"data": {}, "error": {"code": code, "message": f"{code} said TikTok",
                                                               "log_id": "x"}})  # fmt: skip
    request = PublishRequest(target_id="t", text=CAPTION, media=(MP4,), options=OPTIONS)
    with pytest.raises(error) as raised:
        adapter.publish(CREDS, request)
    assert type(raised.value) is error
    if error is RateLimited:
        assert raised.value.retry_after  # type: ignore[attr-defined]
        assert code in raised.value.message  # type: ignore[attr-defined]
    assert "init" not in request.progress.sent  # refused: nothing was made


def test_a_lost_file_upload_init_is_sent_again_nothing_was_posted_without_its_bytes(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    serve(rsps)
    creator(rsps)
    rsps.post(f"{API}/post/publish/video/init/", body=requests.ReadTimeout("read timed out"))
    request = PublishRequest(target_id="t", text=CAPTION, media=(MP4,), options=OPTIONS)
    with pytest.raises(TransientError):  # nothing is posted without the bytes: a plain retry
        adapter.publish(CREDS, request)
    assert "init" not in request.progress.sent
    # The next attempt inits again with the same post_info (the first publish never got a byte)
    init(rsps, {"post_info": {"title": CAPTION, "privacy_level": "MUTUAL_FOLLOW_FRIENDS", "disable_duet": False,
                              "disable_comment": True, "disable_stitch": True, "video_cover_timestamp_ms": 1000},
                "source_info": {"source": "FILE_UPLOAD", "video_size": 2560, "chunk_size": 1000,
                                "total_chunk_count": 2}})  # fmt: skip
    chunks(rsps)
    status(rsps, {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7301]})
    result, _steps, _per_call = drive(adapter, CREDS, request, rsps)
    assert result.platform_post_id == "7301"
    assert len([c for c in rsps.calls if c.request.url.endswith("/creator_info/query/")]) == 2


def test_a_lost_pull_from_url_init_is_verified_never_sent_again(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    creds = AccountCredentials("tiktok", "open-1", "act.example12345Example12345Example",
                               extra={"pull_from_url": "https://example.verified.domain.com/"})  # fmt: skip
    item = MediaItem(url="https://example.verified.domain.com/example_video.mp4", mime_type="video/mp4")
    creator(rsps)
    rsps.post(f"{API}/post/publish/video/init/", body=requests.ReadTimeout("read timed out"))
    request = PublishRequest(target_id="t", text=CAPTION, media=(item,), options=OPTIONS)
    with pytest.raises(UnknownOutcome):
        adapter.publish(creds, request)
    # Another attempt sends no init: the part is to be verified first
    with pytest.raises(UnknownOutcome):
        adapter.publish(creds, request)
    assert len([c for c in rsps.calls if c.request.url.endswith("/video/init/")]) == 1
    # The verify: the creator's recent videos, one with this caption since the target started
    now = int(datetime.now(UTC).timestamp())
    rsps.post(f"{API}/video/list/", json={"data": {"videos": [
        {"id": "7301", "title": CAPTION, "video_description": CAPTION, "create_time": now,
         "share_url": "https://www.tiktok.com/@tiktok/video/7301"}], "cursor": 0, "has_more": False}, "error": OK},
        match=[matchers.json_params_matcher({"max_count": 20}),
               matchers.query_param_matcher({"fields": "id,title,video_description,create_time,share_url"})])  # fmt: skip
    assert adapter.find_published(creds, request) == PublishResult(
        "7301", "https://www.tiktok.com/@tiktok/video/7301"
    )


def test_chunk_plan_follows_tiktoks_rules() -> None:
    assert chunk_plan(4_194_304) == (4_194_304, 1)  # whole_upload_example
    assert chunk_plan(50_000_123) == (10_000_000, 5)  # chunk_upload_example
    assert chunk_plan(10_000_000) == (10_000_000, 1)


def test_metrics_query_videos_twenty_at_a_time_and_read_the_creators_followers(
    rsps: responses.RequestsMock,
) -> None:
    ids = [str(n) for n in range(21)]
    fields = {"fields": "id,like_count,comment_count,share_count,view_count"}
    rsps.post(f"{API}/video/query/", json={"data": {"videos": [
        {"id": "0", "like_count": 12, "comment_count": 3, "share_count": 1, "view_count": 480}]}, "error": OK},
        match=[matchers.query_param_matcher(fields), matchers.json_params_matcher({"filters": {"video_ids": ids[:20]}})])  # fmt: skip
    rsps.post(f"{API}/video/query/", json=doc("video_query_response.json"),
              match=[matchers.json_params_matcher({"filters": {"video_ids": ids[20:]}})])  # fmt: skip
    rsps.get(f"{API}/user/info/", json={"data": {"user": {"open_id": "o", "follower_count": 900, "following_count": 12}},
                                        "error": OK})  # fmt: skip
    collector = TikTokMetrics(session=requests.Session())
    points = collector.post_metrics(CREDS, ids)
    assert sorted((p.object_id, p.metric, p.value) for p in points) == [
        ("0", "comments", 3), ("0", "likes", 12), ("0", "shares", 1), ("0", "views", 480)]  # fmt: skip
    assert {(p.metric, p.value) for p in collector.account_metrics(CREDS)} == {
        ("followers", 900),
        ("follows", 12),
    }


# -- photo posts and drafts (content/init, inbox/video/init) ---------------------------------------------

PHOTOS = tuple(
    MediaItem(url=f"https://tiktokcdn.com/obj/example-image-0{n}.webp", mime_type="image/webp")
    for n in (1, 2)
)
PHOTO_OPTIONS = {"privacy_level": "PUBLIC_TO_EVERYONE", "allow_comment": "false", "auto_add_music": "true",
                 "photo_cover_index": "1"}  # fmt: skip
INBOX_UPLOAD_URL = "https://open-upload.tiktokapis.com/video/?upload_id=67890&upload_token=Xza123"


def photo_request(**kw: Any) -> PublishRequest:
    """The documented photo post: the fixture's title and description as the post's title and text."""
    sample = doc("content_init_request_photo_direct_post.json")["post_info"]
    kw.setdefault("options", PHOTO_OPTIONS)
    return PublishRequest(
        target_id="t", text=sample["description"], title=sample["title"], media=PHOTOS, **kw
    )


def content_init(rsps: responses.RequestsMock, body: dict[str, Any] | None = None, **kw: Any) -> None:
    match = [matchers.header_matcher(BEARER)] + ([matchers.json_params_matcher(body)] if body else [])
    kw.setdefault("json", doc("content_init_response_photo.json"))
    rsps.post(f"{API}/post/publish/content/init/", match=match, **kw)


def status_of(rsps: responses.RequestsMock, publish_id: str, data: dict[str, Any]) -> None:
    rsps.post(f"{API}/post/publish/status/fetch/", json={"data": data, "error": OK},
              match=[matchers.json_params_matcher({"publish_id": publish_id})])  # fmt: skip


def test_a_photo_post_is_checked_then_pulled_from_its_urls_with_the_documented_body(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    # Given the documented creator info, and TikTok downloading the photos, then posting them
    creator(rsps)
    content_init(rsps, doc("content_init_request_photo_direct_post.json"))
    status_of(rsps, "p_pub_url~v2.123456789", {"status": "PROCESSING_DOWNLOAD", "downloaded_bytes": 100})
    status_of(rsps, "p_pub_url~v2.123456789",
              {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7301234567890123457]})  # fmt: skip
    request = photo_request()
    # When the publisher drives it
    result, steps, _per_call = drive(adapter, CREDS, request, rsps)
    # Then the init body equals the documented one (post_mode DIRECT_POST, media_type PHOTO), no bytes
    # were uploaded, and the post is the photo post TikTok made
    assert PendingStep("poll_status", {"polls": "1"}, delay_seconds=10) in steps
    assert result == PublishResult(
        "7301234567890123457", "https://www.tiktok.com/@tiktok/photo/7301234567890123457"
    )
    assert json.loads(request.progress.landed["init"]) == {
        "photo": True, "publish_id": "p_pub_url~v2.123456789", "url": ""}  # fmt: skip
    assert not [c for c in rsps.calls if c.request.method == "PUT"]
    assert "inbox" not in request.progress.landed


def test_a_failed_photo_post_fails_with_tiktoks_reason(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    creator(rsps)
    content_init(rsps)
    rsps.post(f"{API}/post/publish/status/fetch/", json=doc("status_fetch_failed.json"))  # 200, FAILED
    with pytest.raises(
        PermanentError, match="could not publish the photos: picture_size_check_failed"
    ) as failed:
        drive(adapter, CREDS, photo_request(), rsps)
    assert failed.value.code == "picture_size_check_failed"


def test_a_lost_photo_init_is_verified_never_sent_again(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    creator(rsps)
    rsps.post(f"{API}/post/publish/content/init/", body=requests.ReadTimeout("read timed out"))
    request = photo_request()
    with pytest.raises(UnknownOutcome):  # TikTok may be pulling the photos already
        adapter.publish(CREDS, request)
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    assert len([c for c in rsps.calls if c.request.url.endswith("/content/init/")]) == 1


@pytest.mark.parametrize(
    ("media", "options", "code"),
    [
        ((MediaItem("https://cdn.example/a.png", "image/png"),), PHOTO_OPTIONS, "photos"),
        (
            tuple(MediaItem(f"https://cdn.example/{n}.jpg", "image/jpeg") for n in range(36)),
            PHOTO_OPTIONS,
            "photos",
        ),
        ((MP4, *PHOTOS), PHOTO_OPTIONS, "video_required"),
        (PHOTOS, PHOTO_OPTIONS | {"mode": "later"}, "mode"),
    ],
)
def test_what_tiktok_cannot_post_is_refused_before_anything_is_sent(
    rsps: responses.RequestsMock,
    adapter: TikTokPublisher,
    media: tuple[MediaItem, ...],
    options: dict[str, str],
    code: str,
) -> None:
    with pytest.raises(PermanentError) as refused:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="hi", media=media, options=options))
    assert refused.value.code == code
    assert not rsps.calls


@pytest.mark.parametrize(
    ("extra", "options", "code"),
    [
        ({}, PHOTO_OPTIONS | {"photo_cover_index": "2"}, "photo_cover_index"),
        ({"pull_from_url": "https://media.chorus.example/"}, PHOTO_OPTIONS, "url_ownership_unverified"),
    ],
)
def test_a_photo_cover_or_url_tiktok_would_refuse_fails_before_init(
    rsps: responses.RequestsMock,
    adapter: TikTokPublisher,
    extra: dict[str, str],
    options: dict[str, str],
    code: str,
) -> None:
    creds = AccountCredentials("tiktok", "open-1", CREDS.access_token, handle="tiktok", extra=extra)
    creator(rsps)
    request = photo_request(options=options)
    with pytest.raises(PermanentError) as refused:
        adapter.publish(creds, request)
    assert refused.value.code == code
    assert [c.request.url for c in rsps.calls] == [f"{API}/post/publish/creator_info/query/"]
    assert "init" not in request.progress.sent


def test_a_draft_video_goes_to_the_inbox_uploaded_in_chunks_and_ends_sent_to_inbox(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    # Given TikTok's upload-to-inbox init (source_info only: no caption or privacy) and its upload URL
    serve(rsps)
    rsps.post(f"{API}/post/publish/inbox/video/init/", json=doc("inbox_video_init_response_file_upload.json"),
              match=[matchers.header_matcher(BEARER), matchers.json_params_matcher({"source_info": {
                  "source": "FILE_UPLOAD", "video_size": 2560, "chunk_size": 1000, "total_chunk_count": 2}})])  # fmt: skip
    seen = chunks(rsps)
    status_of(rsps, "v_inbox_file~v2.123456789", {"status": "PROCESSING_UPLOAD", "uploaded_bytes": 2560})
    status_of(rsps, "v_inbox_file~v2.123456789", {"status": "SEND_TO_USER_INBOX"})
    request = PublishRequest(target_id="t", text=CAPTION, media=(MP4,), options={"mode": "draft"})
    result, _steps, _per_call = drive(adapter, CREDS, request, rsps)
    # Then no creator info was read (nothing is posted by Chorus), the bytes went in order, and the
    # target's root is the draft's publish id, recorded as sent to the inbox
    assert not [c for c in rsps.calls if "creator_info" in c.request.url]
    assert seen == ["bytes 0-999/2560", "bytes 1000-2559/2560"]
    assert result == PublishResult("v_inbox_file~v2.123456789", None)
    assert request.progress.landed["inbox"] == "v_inbox_file~v2.123456789"


def test_draft_photos_go_to_the_inbox_with_media_upload_and_their_title_and_description(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    sample = doc("content_init_request_photo_direct_post.json")
    content_init(rsps, {
        "post_info": {"title": sample["post_info"]["title"], "description": sample["post_info"]["description"]},
        "source_info": sample["source_info"], "post_mode": "MEDIA_UPLOAD", "media_type": "PHOTO"},
        json={"data": {"publish_id": "p_inbox_url~v2.1"}, "error": OK})  # fmt: skip
    status_of(rsps, "p_inbox_url~v2.1", {"status": "SEND_TO_USER_INBOX"})
    request = photo_request(options={"mode": "draft", "photo_cover_index": "1"})
    result, _steps, _per_call = drive(adapter, CREDS, request, rsps)
    assert result == PublishResult("p_inbox_url~v2.1", None)
    assert request.progress.landed["inbox"] == "p_inbox_url~v2.1"
    assert not [c for c in rsps.calls if "creator_info" in c.request.url]


def test_a_draft_the_creator_posted_before_the_status_read_is_published(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    content_init(rsps, json={"data": {"publish_id": "p_inbox_url~v2.2"}, "error": OK})
    status_of(rsps, "p_inbox_url~v2.2", {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7302]})
    request = photo_request(options={"mode": "draft", "photo_cover_index": "0"})
    result, _steps, _per_call = drive(adapter, CREDS, request, rsps)
    assert result == PublishResult("7302", "https://www.tiktok.com/@tiktok/photo/7302")
    assert "inbox" not in request.progress.landed


def test_a_lost_draft_init_is_not_sent_again_and_cannot_be_looked_up(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    rsps.post(f"{API}/post/publish/content/init/", body=requests.ReadTimeout("read timed out"))
    request = photo_request(options={"mode": "draft", "photo_cover_index": "0"})
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    with pytest.raises(PermanentError) as unknown:  # a draft is on no list: the person looks in the app
        adapter.find_published(CREDS, request)
    assert unknown.value.code == "inbox_unknown"
    assert len(rsps.calls) == 1


def test_too_many_pending_drafts_defer_the_post(
    rsps: responses.RequestsMock, adapter: TikTokPublisher
) -> None:
    content_init(rsps, status=403, json={"data": {}, "error": {
        "code": "spam_risk_too_many_pending_share", "message": "at most 5 pending shares", "log_id": "x"}})  # fmt: skip
    request = photo_request(options={"mode": "draft", "photo_cover_index": "0"})
    with pytest.raises(RateLimited) as waited:
        adapter.publish(CREDS, request)
    assert "spam_risk_too_many_pending_share" in waited.value.message
    assert "init" not in request.progress.sent


@pytest.mark.parametrize(
    ("platform", "url", "post_id"),
    [
        ("tiktok", "https://www.tiktok.com/@merle/photo/7302", "7302"),
        ("tiktok", "https://tiktok.com/@merle/video/7301?lang=en", "7301"),
        ("tiktok", "https://www.tiktok.com/@merle", "https://www.tiktok.com/@merle"),
        (
            "xiaohongshu",
            "https://www.xiaohongshu.com/explore/64a1",
            "https://www.xiaohongshu.com/explore/64a1",
        ),
    ],
)
def test_a_post_marked_posted_is_known_by_the_id_in_its_url_where_the_adapter_reads_one(
    platform: str, url: str, post_id: str
) -> None:
    # A draft finished in the TikTok app: the id metrics and the creator's timeline know it by
    assert post_id_in_url(platform, url) == post_id
