"""YouTube videos against the documented resumable upload protocol
(fixtures/platform_api/publishing/youtube): the session started with the video's metadata and persisted
before the first byte, chunks with their Content-Range, 308 + Range answers, a lost connection resumed
at the server's offset (``bytes */total``), the final 201 video resource, thumbnails, quota units
counted per call with the daily budget never exceeded, verification by the session, and the errors
each maps to."""

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
    Progress,
    PublishRequest,
    PublishResult,
    RateLimited,
)
from chorus.platforms.youtube.publish import CHUNK_UNIT, YouTubePublisher, metadata, video_url
from chorus.platforms.youtube.quota import (
    UNITS,
    UPLOADS,
    MemoryLedger,
    Quota,
    quota_day,
    until_next_quota_day,
)
from tests.contract.stepping import STEP_BUDGET, drive
from tests.support import fixture_json

UPLOAD = "https://www.googleapis.com/upload/youtube/v3"
API = "https://www.googleapis.com/youtube/v3"
SESSION = f"{UPLOAD}/videos?uploadType=resumable&upload_id=xa298sd_f&part=snippet,status,contentDetails"
CREDS = AccountCredentials(
    platform="youtube", account_id="UC_x5XG1OV2P6uZZ5FSM9Ttw", access_token="ya29.token"
)
BEARER = [matchers.header_matcher({"Authorization": "Bearer ya29.token"})]
DATA = bytes(range(256)) * 2400  # 614,400 bytes: two whole chunks of 256 KiB and a last one
MP4 = MediaItem(url="https://cdn.example/clip.mp4", mime_type="video/mp4")
JPEG = MediaItem(url="https://cdn.example/thumb.jpg", mime_type="image/jpeg")
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/publishing/youtube/{name}")


VIDEO = doc("videos_insert_response_python_youtube.json")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


@pytest.fixture
def adapter(ledger: MemoryLedger) -> YouTubePublisher:
    return YouTubePublisher(
        session=requests.Session(), quota=Quota(ledger, clock=lambda: NOW), chunk_size=CHUNK_UNIT
    )


def serve(rsps: responses.RequestsMock, url: str, data: bytes, mime: str) -> None:
    """The media, answering ``Range`` reads with 206 and the total size."""

    def ranged(request: Any) -> tuple[int, dict[str, str], bytes]:
        found = re.fullmatch(r"bytes=(\d+)-(\d+)", request.headers.get("Range", ""))
        if not found:
            return 200, {"Content-Type": mime}, data
        first, last = int(found.group(1)), min(int(found.group(2)), len(data) - 1)
        return (
            206,
            {"Content-Type": mime, "Content-Range": f"bytes {first}-{last}/{len(data)}"},
            data[first : last + 1],
        )

    rsps.add_callback(responses.GET, url, callback=ranged)


def start(
    rsps: responses.RequestsMock, body: dict[str, Any] | None = None, notify: str = "true", **kw: Any
) -> None:
    headers = {"Authorization": "Bearer ya29.token", "Content-Type": "application/json; charset=UTF-8",
               "X-Upload-Content-Length": str(len(DATA)), "X-Upload-Content-Type": "video/mp4"}  # fmt: skip
    match = [matchers.header_matcher(headers),
             matchers.query_param_matcher({"uploadType": "resumable", "part": "snippet,status",
                                           "notifySubscribers": notify})]  # fmt: skip
    if body is not None:
        match.append(matchers.json_params_matcher(body))
    rsps.post(f"{UPLOAD}/videos", status=200, headers={"Location": SESSION}, match=match, **kw)


def chunk(rsps: responses.RequestsMock, first: int, last: int, *, status: int = 308, held: int | None = None,
          **kw: Any) -> None:  # fmt: skip
    answer: dict[str, Any] = {"json": VIDEO} if status in (200, 201) else {}
    headers = {"Range": f"bytes=0-{held if held is not None else last}"} if status == 308 else {}
    rsps.put(SESSION, status=status, headers=headers, match=[
        *BEARER, matchers.header_matcher({"Content-Range": f"bytes {first}-{last}/{len(DATA)}"}),
    ], **answer, **kw)  # fmt: skip


def status_query(rsps: responses.RequestsMock, held: int | None, *, final: bool = False) -> None:
    match = [*BEARER, matchers.header_matcher({"Content-Range": f"bytes */{len(DATA)}"})]
    if final:
        rsps.put(SESSION, status=200, json=VIDEO, match=match)
    else:
        rsps.put(SESSION, status=308, headers={"Range": f"bytes=0-{held - 1}"} if held else {}, match=match)


def puts(rsps: responses.RequestsMock) -> list[tuple[str, int]]:
    """(Content-Range, body length) of every PUT sent to the session."""
    return [
        (str(c.request.headers["Content-Range"]), len(c.request.body or b""))
        for c in rsps.calls
        if c.request.method == "PUT"
    ]


class Upload:
    """YouTube's side of one session: the bytes it holds; a chunk whose Content-Range is in ``drop`` loses
    its connection once, after the server took the bytes when ``kept`` (else before)."""

    def __init__(self, rsps: responses.RequestsMock, drop: tuple[str, ...] = (), kept: bool = False) -> None:
        self.held = 0
        self.drop = list(drop)
        self.kept = kept
        rsps.add_callback(responses.PUT, SESSION, callback=self.put)

    def put(self, request: Any) -> tuple[int, dict[str, str], str] | Exception:
        assert request.headers["Authorization"] == "Bearer ya29.token"
        content_range = request.headers["Content-Range"]
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if found:
            first, last = int(found.group(1)), int(found.group(2))
            assert first == self.held, f"sent from {first}, the server holds {self.held}"
            assert request.body == DATA[first : last + 1]
            if content_range in self.drop:
                self.drop.remove(content_range)
                if self.kept:
                    self.held = last + 1
                return requests.ConnectionError("connection reset mid-chunk")
            self.held = last + 1
        if self.held >= len(DATA):
            return 201 if found else 200, {"Content-Type": "application/json"}, json.dumps(VIDEO)
        return 308, ({"Range": f"bytes=0-{self.held - 1}"} if self.held else {}), ""


class Recorder:
    """The order the target's progress is persisted in, next to the requests sent."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.rsps = rsps
        self.events: list[str] = []

    def part_sent(self, part: str) -> None:
        self.events.append(f"sent {part} after {len(self.rsps.calls)} requests")

    def part_unsent(self, part: str) -> None:
        self.events.append(f"unsent {part}")

    def part_landed(self, part: str, platform_id: str, url: str | None) -> None:
        self.events.append(f"landed {part} after {len(self.rsps.calls)} requests")


def test_a_video_is_uploaded_in_chunks_after_its_session_was_persisted_and_published_once(
    rsps: responses.RequestsMock, adapter: YouTubePublisher, ledger: MemoryLedger
) -> None:
    # Given the documented session answer (200 + Location) and chunks answered 308 + Range, the last 201
    serve(rsps, MP4.url, DATA, "video/mp4")
    start(rsps, {
        "snippet": {"title": "Lemon tart", "description": "Bake it at 180 degrees. #baking #tart",
                    "categoryId": "22", "tags": ["baking", "tart"]},
        "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": False},
    })  # fmt: skip
    chunk(rsps, 0, 262143)
    chunk(rsps, 262144, 524287)
    chunk(rsps, 524288, len(DATA) - 1, status=201)
    recorder = Recorder(rsps)
    progress = Progress(key="t", started_at=NOW, store=recorder)
    request = PublishRequest(target_id="t", text="Lemon tart\nBake it at 180 degrees. #baking #tart",
                             media=(MP4,), progress=progress)  # fmt: skip
    # When it is published
    result = adapter.publish(CREDS, request)
    # Then the video resource's id is the post, the chunks carried their ranges, the session came first
    assert result == PublishResult("D-lhorsDlUQ", video_url("D-lhorsDlUQ"))
    assert puts(rsps) == [("bytes 0-262143/614400", 262144), ("bytes 262144-524287/614400", 262144),
                          ("bytes 524288-614399/614400", 90112)]  # fmt: skip
    first_put = next(i for i, c in enumerate(rsps.calls) if c.request.method == "PUT")
    landed_session = recorder.events.index(
        next(e for e in recorder.events if e.startswith("landed session:1"))
    )
    assert int(recorder.events[landed_session].split()[-2]) <= first_put  # persisted before the first byte
    assert progress.landed["session:1"] == SESSION
    assert (progress.landed["chunk:1:0"], progress.landed["chunk:1:262144"]) == ("262144", "524288")
    # And one unit of the uploads bucket was spent
    assert ledger.used(UPLOADS, quota_day(NOW)) == 1


def test_a_connection_lost_mid_upload_resumes_at_the_servers_offset_never_a_second_session(
    rsps: responses.RequestsMock, adapter: YouTubePublisher
) -> None:
    # Given the second chunk's connection drops before the server took its bytes
    serve(rsps, MP4.url, DATA, "video/mp4")
    start(rsps)
    Upload(rsps, drop=("bytes 262144-524287/614400",))
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    # When it is published (continued in a later step when the call's budget runs out)
    result, _steps, _per_call = drive(adapter, CREDS, request, rsps)
    # Then the server's offset was asked (bytes */total) and the upload resumed there: one session, one video
    assert result.platform_post_id == "D-lhorsDlUQ"
    sent = [r for r, _n in puts(rsps)]
    assert sent[:3] == ["bytes 0-262143/614400", "bytes 262144-524287/614400", "bytes */614400"]
    assert [r for r in sent if not r.startswith("bytes */")] == [
        "bytes 0-262143/614400", "bytes 262144-524287/614400", "bytes 262144-524287/614400",
        "bytes 524288-614399/614400"]  # fmt: skip
    assert sum(1 for c in rsps.calls if c.request.method == "POST") == 1


def test_a_chunk_the_server_took_before_the_connection_dropped_is_not_sent_again(
    rsps: responses.RequestsMock, adapter: YouTubePublisher
) -> None:
    # Given the server holds the second chunk although its answer never arrived
    serve(rsps, MP4.url, DATA, "video/mp4")
    start(rsps)
    Upload(rsps, drop=("bytes 262144-524287/614400",), kept=True)
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    # When it is published
    result, _steps, _per_call = drive(adapter, CREDS, request, rsps)
    # Then the upload went on from the server's offset (524288): that range went once
    assert result.platform_post_id == "D-lhorsDlUQ"
    assert [r for r, _n in puts(rsps) if not r.startswith("bytes */")] == [
        "bytes 0-262143/614400", "bytes 262144-524287/614400", "bytes 524288-614399/614400"]  # fmt: skip


def test_an_upload_continued_in_a_later_step_asks_the_server_first_and_sends_only_what_it_lacks(
    rsps: responses.RequestsMock, ledger: MemoryLedger
) -> None:
    # Given a call budget of two requests: the upload crosses step boundaries
    adapter = YouTubePublisher(session=requests.Session(), quota=Quota(ledger, clock=lambda: NOW),
                               chunk_size=CHUNK_UNIT)  # fmt: skip
    adapter.request_budget_s = STEP_BUDGET * 2
    serve(rsps, MP4.url, DATA, "video/mp4")
    start(rsps)
    Upload(rsps)
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    # When the publisher drives it step by step
    result, steps, _per_call = drive(adapter, CREDS, request, rsps)
    # Then each continued call asked where the server stands, and no byte range went twice
    assert result.platform_post_id == "D-lhorsDlUQ"
    assert steps
    assert all(s == PendingStep("continue", {}, delay_seconds=1) for s in steps)
    sent = [r for r, _n in puts(rsps) if not r.startswith("bytes */")]
    assert sent == ["bytes 0-262143/614400", "bytes 262144-524287/614400", "bytes 524288-614399/614400"]
    assert ledger.used(UPLOADS, quota_day(NOW)) == 1


def test_a_last_chunk_whose_answer_was_lost_is_read_back_from_the_session(
    rsps: responses.RequestsMock, adapter: YouTubePublisher
) -> None:
    # Given the session and the first two chunks are recorded, and the server already holds every byte
    status_query(rsps, None, final=True)
    serve(rsps, MP4.url, DATA, "video/mp4")
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    request.progress.landed.update({"session:1": SESSION, "chunk:1:0": "262144"})
    request.progress.sent.add(ROOT)
    # When it is published again
    result = adapter.publish(CREDS, request)
    # Then the video is the session's: nothing uploaded again, no new session
    assert result.platform_post_id == "D-lhorsDlUQ"
    assert puts(rsps) == [("bytes */614400", 0)]


def test_verification_asks_the_session_complete_or_not(
    rsps: responses.RequestsMock, adapter: YouTubePublisher
) -> None:
    serve(rsps, MP4.url, DATA, "video/mp4")
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    # No session yet: nothing can exist
    assert adapter.find_published(CREDS, request) is None
    request.progress.landed["session:1"] = SESSION
    # Incomplete: not published
    status_query(rsps, 262144)
    assert adapter.find_published(CREDS, request) is None
    # Complete: the video
    status_query(rsps, None, final=True)
    assert adapter.find_published(CREDS, request) == PublishResult("D-lhorsDlUQ", video_url("D-lhorsDlUQ"))
    # Expired (404): nothing made through it
    rsps.put(SESSION, status=404, json={"error": {"code": 404, "message": "Not Found", "errors": []}})
    assert adapter.find_published(CREDS, request) is None


def test_an_expired_session_starts_the_next_one(
    rsps: responses.RequestsMock, adapter: YouTubePublisher
) -> None:
    # Given a recorded session that YouTube no longer knows (404)
    serve(rsps, MP4.url, DATA, "video/mp4")
    rsps.put(SESSION, status=404, json={"error": {"code": 404, "message": "Not Found", "errors": []}},
             match=[matchers.header_matcher({"Content-Range": "bytes */614400"})])  # fmt: skip
    start(rsps)
    Upload(rsps)
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    request.progress.landed["session:1"] = SESSION
    # When it is published
    result, _steps, _per_call = drive(adapter, CREDS, request, rsps)
    # Then a second session carried the whole file
    assert result.platform_post_id == "D-lhorsDlUQ"
    assert request.progress.landed["session:2"] == SESSION


def test_options_set_title_tags_category_privacy_publish_at_made_for_kids_and_notification(
    rsps: responses.RequestsMock, adapter: YouTubePublisher
) -> None:
    # Given the post's YouTube options
    options = {
        "title": "Tart <live>",
        "tags": "baking, pastry",
        "category_id": "26",
        "privacy": "unlisted",
        "publish_at": "2026-12-24T18:00:00Z",
        "made_for_kids": "true",
        "notify_subscribers": "false",
    }
    request = PublishRequest(target_id="t", text="Bake it at 180 degrees.", media=(MP4,), options=options)
    serve(rsps, MP4.url, DATA, "video/mp4")
    start(rsps, {
        "snippet": {"title": "Tart live", "description": "Bake it at 180 degrees.", "categoryId": "26",
                    "tags": ["baking", "pastry"]},
        "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": True, "publishAt": "2026-12-24T18:00:00Z"},
    }, notify="false")  # fmt: skip
    chunk(rsps, 0, 262143)
    chunk(rsps, 262144, 524287)
    chunk(rsps, 524288, len(DATA) - 1, status=201)
    # When it is published: publishAt makes the video private until YouTube publishes it
    assert adapter.publish(CREDS, request).platform_post_id == "D-lhorsDlUQ"


def test_the_accounts_defaults_apply_and_a_bad_privacy_is_refused_before_anything_is_sent() -> None:
    creds = AccountCredentials("youtube", "UC1", "t", extra={"privacy": "private", "category_id": "10"})
    body = metadata(PublishRequest(target_id="t", text="One line", media=(MP4,)), creds)
    assert body["status"]["privacyStatus"] == "private"
    assert body["snippet"] == {"title": "One line", "description": "One line", "categoryId": "10"}
    with pytest.raises(PermanentError, match="privacy must be one of"):
        YouTubePublisher(session=requests.Session(), quota=Quota(MemoryLedger())).publish(
            CREDS, PublishRequest(target_id="t", text="x", media=(MP4,), options={"privacy": "friends"})
        )


def test_a_thumbnail_is_set_after_the_video_and_costs_fifty_units(
    rsps: responses.RequestsMock, adapter: YouTubePublisher, ledger: MemoryLedger
) -> None:
    serve(rsps, MP4.url, DATA, "video/mp4")
    serve(rsps, JPEG.url, b"\xff\xd8jpeg-bytes", "image/jpeg")
    start(rsps)
    Upload(rsps)
    rsps.post(f"{UPLOAD}/thumbnails/set", json={"kind": "youtube#thumbnailSetResponse", "items": []}, match=[
        *BEARER, matchers.query_param_matcher({"videoId": "D-lhorsDlUQ"}),
        matchers.header_matcher({"Content-Type": "image/jpeg"})])  # fmt: skip
    request = PublishRequest(target_id="t", text="Clip", media=(MP4, JPEG))
    assert drive(adapter, CREDS, request, rsps)[0].platform_post_id == "D-lhorsDlUQ"
    thumb = next(c for c in rsps.calls if "thumbnails/set" in c.request.url)
    assert thumb.request.body == b"\xff\xd8jpeg-bytes"
    assert request.progress.landed["thumbnail"] == "D-lhorsDlUQ"
    assert ledger.used(UNITS, quota_day(NOW)) == 50


def test_a_spent_daily_upload_budget_waits_for_pacific_midnight_and_sends_nothing(
    rsps: responses.RequestsMock, ledger: MemoryLedger
) -> None:
    # Given the 100 uploads of today's quota day are spent
    adapter = YouTubePublisher(session=requests.Session(), quota=Quota(ledger, clock=lambda: NOW))
    ledger.spent[(UPLOADS, quota_day(NOW))] = 100
    serve(rsps, MP4.url, DATA, "video/mp4")
    # When a video is published
    with pytest.raises(RateLimited) as waited:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="Clip", media=(MP4,)))
    # Then it waits for the next quota day (midnight Pacific: 08:00 UTC in December), with the reason
    assert waited.value.retry_after == until_next_quota_day(NOW) == 20 * 3600
    assert "daily upload quota (100 videos a day) is used up" in waited.value.message
    assert not [c for c in rsps.calls if "googleapis" in c.request.url]


def test_googles_quota_exceeded_marks_the_bucket_full_for_the_day(
    rsps: responses.RequestsMock, adapter: YouTubePublisher, ledger: MemoryLedger
) -> None:
    # Given the documented quotaExceeded answer (403, youtube.quota)
    serve(rsps, MP4.url, DATA, "video/mp4")
    rsps.post(f"{UPLOAD}/videos", status=403, json=doc("error_403_quota_exceeded.json"))
    with pytest.raises(RateLimited) as waited:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="Clip", media=(MP4,)))
    assert waited.value.retry_after == until_next_quota_day(NOW)
    assert ledger.used(UPLOADS, quota_day(NOW)) == 100


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"error": {"code": 401, "message": "Invalid Credentials", "errors": [{"reason": "authError"}]}},
         AuthError),
        (400, doc("error_400_key_invalid_python_youtube.json"), PermanentError),
        (403, doc("error_403_permission_denied_python_youtube.json"), PermanentError),
    ],
)  # fmt: skip
def test_documented_errors_map_to_reauth_or_permanent(
    rsps: responses.RequestsMock, adapter: YouTubePublisher, status: int, body: Any, error: type[Exception]
) -> None:
    serve(rsps, MP4.url, DATA, "video/mp4")
    rsps.post(f"{UPLOAD}/videos", status=status, json=body)
    with pytest.raises(error):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="Clip", media=(MP4,)))


def test_the_channels_daily_upload_cap_waits_for_the_next_day(
    rsps: responses.RequestsMock, adapter: YouTubePublisher
) -> None:
    serve(rsps, MP4.url, DATA, "video/mp4")
    rsps.post(f"{UPLOAD}/videos", status=400, json={"error": {"code": 400, "message": "The user has exceeded the "
              "number of videos they may upload.", "errors": [{"reason": "uploadLimitExceeded"}]}})  # fmt: skip
    with pytest.raises(RateLimited, match="waiting for the next day") as waited:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="Clip", media=(MP4,)))
    assert waited.value.retry_after is not None
    assert waited.value.retry_after > 0


def test_a_post_without_exactly_one_video_is_refused(adapter: YouTubePublisher) -> None:
    with pytest.raises(PermanentError, match="exactly one video"):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="Only text"))


def test_delete_removes_the_video_and_a_video_already_gone_counts_as_deleted(
    rsps: responses.RequestsMock, adapter: YouTubePublisher, ledger: MemoryLedger
) -> None:
    rsps.delete(
        f"{API}/videos", status=204, match=[*BEARER, matchers.query_param_matcher({"id": "D-lhorsDlUQ"})]
    )
    adapter.delete(CREDS, "D-lhorsDlUQ")
    rsps.delete(f"{API}/videos", status=404, json={"error": {"code": 404, "message": "Video not found"}})
    adapter.delete(CREDS, "gone")
    assert ledger.used(UNITS, quota_day(NOW)) == 100  # 50 units each
