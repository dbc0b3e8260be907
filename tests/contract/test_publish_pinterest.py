"""Pinterest pins against the documented requests and answers (fixtures/platform_api/publishing/pinterest):
an image pin, a video pin through media register / upload / status, title, description, link and alt
text, verification on the board's pins, and the errors each maps to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import (
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
from chorus.platforms.pinterest.publish import MAX_POLLS, PinterestPublisher, title_and_description
from tests.support import fixture_json

API = "https://api.pinterest.com/v5"
BOARD = "549755885175"
CREDS = AccountCredentials(
    platform="pinterest", account_id="merleliukun", access_token="pina-token", extra={"board_id": BOARD}
)
BEARER = [matchers.header_matcher({"Authorization": "Bearer pina-token"})]
JPEG = MediaItem(url="https://cdn.example/pin.jpg", mime_type="image/jpeg", alt_text="A lemon tart")
MP4 = MediaItem(url="https://cdn.example/clip.mp4", mime_type="video/mp4")
NOW = datetime.now(UTC)


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/publishing/pinterest/{name}")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def adapter() -> PinterestPublisher:
    return PinterestPublisher(session=requests.Session())


def pins(rsps: responses.RequestsMock, body: dict[str, Any], answer: Any = None, status: int = 201) -> None:
    rsps.post(
        f"{API}/pins",
        json=answer if answer is not None else doc("pins_create_response_201_docs_sample.json"),
        status=status,
        match=[*BEARER, matchers.json_params_matcher(body)],
    )


def test_an_image_pin_goes_to_the_accounts_board_with_title_description_link_and_alt_text(
    rsps: responses.RequestsMock, adapter: PinterestPublisher
) -> None:
    # Given the documented 201 answer (pins_create_response_201_docs_sample.json)
    pins(rsps, {
        "board_id": BOARD,
        "media_source": {"source_type": "image_url", "url": JPEG.url},
        "title": "Lemon tart",
        "description": "Bake it at 180 degrees.",
        "link": "https://recipes.example/tart",
        "alt_text": "A lemon tart",
    })  # fmt: skip
    request = PublishRequest(target_id="t", text="Lemon tart\nBake it at 180 degrees.", media=(JPEG,),
                             link="https://recipes.example/tart")  # fmt: skip
    # When it is published
    result = adapter.publish(CREDS, request)
    # Then one POST /v5/pins, the pin's id and URL recorded
    assert result == PublishResult("813744226420795884", "https://www.pinterest.com/pin/813744226420795884/")
    assert request.progress.landed == {"0": "813744226420795884"}
    assert len(rsps.calls) == 1


def test_the_first_line_is_the_title_only_when_it_is_short_and_more_follows() -> None:
    assert title_and_description("Lemon tart\nBake it.") == ("Lemon tart", "Bake it.")
    assert title_and_description("Just one line") == (None, "Just one line")
    long_first = "x" * 101 + "\nrest"
    assert title_and_description(long_first) == (None, long_first)


def test_a_video_pin_registers_uploads_polls_then_pins_the_media(
    rsps: responses.RequestsMock, adapter: PinterestPublisher
) -> None:
    # Given the documented register answer (media_register_response.json) and a video to fetch
    registered = doc("media_register_response.json")
    rsps.post(f"{API}/media", json=registered, status=201,
              match=[*BEARER, matchers.json_params_matcher(doc("media_register_request.json"))])  # fmt: skip
    rsps.get(MP4.url, body=b"\x00\x00\x00\x18ftypmp42", content_type="video/mp4")
    rsps.post(registered["upload_url"], status=204)
    rsps.get(f"{API}/media/12345", json={"media_id": "12345", "media_type": "video", "status": "processing"},
             match=BEARER)  # fmt: skip
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    # When it is published: registered and uploaded (part "media"), still processing -> a step
    step = adapter.publish(CREDS, request)
    assert step == PendingStep("poll_media", {"media_id": "12345", "polls": "1"}, delay_seconds=10)
    assert request.progress.landed == {"media": "12345"}
    # Then the upload went to the pre-signed URL with every upload parameter and no Pinterest token
    upload = rsps.calls[2].request
    assert "Authorization" not in upload.headers
    body = upload.body if isinstance(upload.body, bytes) else upload.body.encode()
    for name, value in registered["upload_parameters"].items():
        assert f'name="{name}"\r\n\r\n{value}\r\n'.encode() in body
    assert b"ftypmp42" in body
    # When the step comes back and the media succeeded (media_get_response_succeeded.json), the pin is made
    rsps.get(f"{API}/media/12345", json=doc("media_get_response_succeeded.json"), match=BEARER)
    pins(rsps, {"board_id": BOARD, "description": "Clip", "media_source": {
        "source_type": "video_id", "media_id": "12345", "cover_image_key_frame_time": 0}})  # fmt: skip
    result = adapter.continue_publish(CREDS, request, step)
    assert isinstance(result, PublishResult)
    assert len([c for c in rsps.calls if c.request.url == f"{API}/media"]) == 1  # registered once


def test_a_failed_video_and_endless_processing_fail_the_target(
    rsps: responses.RequestsMock, adapter: PinterestPublisher
) -> None:
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    request.progress.record("media", "12345")
    rsps.get(f"{API}/media/12345", json={"media_id": "12345", "media_type": "video", "status": "failed"})
    with pytest.raises(PermanentError) as failed:
        adapter.publish(CREDS, request)
    assert failed.value.message == "Pinterest could not process the video (media 12345: failed)"
    rsps.get(f"{API}/media/12345", json={"media_id": "12345", "media_type": "video", "status": "processing"})
    with pytest.raises(PermanentError) as stuck:
        adapter.continue_publish(CREDS, request, PendingStep("poll_media", {"polls": str(MAX_POLLS)}))
    assert stuck.value.code == "processing"


def test_an_unknown_media_upload_is_a_permanent_error(
    rsps: responses.RequestsMock, adapter: PinterestPublisher
) -> None:
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    request.progress.record("media", "12345")
    rsps.get(f"{API}/media/12345", json=doc("media_get_error_404.json"), status=404)
    with pytest.raises(PermanentError) as failed:
        adapter.publish(CREDS, request)
    assert failed.value.message == "Media upload not found"


def test_a_pin_whose_answer_is_lost_is_found_on_the_board(
    rsps: responses.RequestsMock, adapter: PinterestPublisher
) -> None:
    # Given POST /v5/pins times out after it was sent
    rsps.post(f"{API}/pins", body=requests.ReadTimeout("slow"))
    request = PublishRequest(target_id="t", text="Lemon tart\nBake it.", media=(JPEG,), not_before=NOW)
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    assert request.progress.sent == {"0"}
    # When the publisher verifies on the board's pins (an older pin with the same text is not it)
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%S")
    rsps.get(
        f"{API}/boards/{BOARD}/pins",
        json={"items": [
            {"id": "1", "title": "Lemon tart", "description": "Bake it.", "board_id": BOARD, "link": None,
             "created_at": "2022-08-11T08:46:16"},
            {"id": "2", "title": "Lemon tart", "description": "Bake it.", "board_id": BOARD, "link": None,
             "created_at": stamp},
        ], "bookmark": None},
        match=[*BEARER, matchers.query_param_matcher({"page_size": "25"})],
    )  # fmt: skip
    # Then the new pin is found, and publishing again sends nothing (the part is still marked sent)
    assert adapter.find_published(CREDS, request) == PublishResult("2", "https://www.pinterest.com/pin/2/")
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)


def test_a_pin_not_on_the_board_is_not_published(
    rsps: responses.RequestsMock, adapter: PinterestPublisher
) -> None:
    rsps.get(f"{API}/boards/{BOARD}/pins", json={"items": [], "bookmark": None})
    request = PublishRequest(target_id="t", text="x", media=(JPEG,), not_before=NOW)
    assert adapter.find_published(CREDS, request) is None
    assert adapter.find_part(CREDS, request, "comment") is None


def test_an_account_without_a_board_cannot_pin(adapter: PinterestPublisher) -> None:
    creds = AccountCredentials(platform="pinterest", account_id="a", access_token="t")
    with pytest.raises(PermanentError) as refused:
        adapter.publish(creds, PublishRequest(target_id="t", text="x", media=(JPEG,)))
    assert refused.value.code == "board_required"


@pytest.mark.parametrize(
    ("status", "fixture", "error", "code"),
    [
        (400, "pins_create_error_400_invalid_url.json", PermanentError, "1"),
        (403, "pins_create_error_403_image_too_small.json", PermanentError, "233"),
        (403, "pins_create_error_403_image_broken.json", PermanentError, "235"),
        (404, "pins_create_error_404_board_not_found.json", PermanentError, "40"),
        (404, "pins_create_error_404_board_section_not_found.json", PermanentError, "2031"),
        (429, "pins_create_error_429_rate_limit.json", RateLimited, "8"),
    ],
)
def test_documented_pin_errors_keep_pinterests_code_and_message(
    rsps: responses.RequestsMock,
    adapter: PinterestPublisher,
    status: int,
    fixture: str,
    error: type[Exception],
    code: str,
) -> None:
    body = doc(fixture)
    rsps.post(f"{API}/pins", json=body, status=status, headers={"Retry-After": "30"} if status == 429 else {})
    request = PublishRequest(target_id="t", text="x", media=(JPEG,))
    with pytest.raises(error) as raised:
        adapter.publish(CREDS, request)
    assert type(raised.value) is error
    assert raised.value.code == code  # type: ignore[attr-defined]
    assert raised.value.message == body["message"]  # type: ignore[attr-defined]
    assert request.progress.sent == set()  # a definite answer: nothing to verify
    if status == 429:
        assert raised.value.retry_after == 30  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "error"), [(401, AuthError), (500, TransientError), (503, TransientError)]
)
def test_auth_and_server_errors(
    rsps: responses.RequestsMock, adapter: PinterestPublisher, status: int, error: type[Exception]
) -> None:
    rsps.post(f"{API}/pins", json={"code": 2, "message": "Authentication failed."}, status=status)
    with pytest.raises(error):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x", media=(JPEG,)))


def test_a_502_after_the_pin_request_is_an_unknown_outcome(
    rsps: responses.RequestsMock, adapter: PinterestPublisher
) -> None:
    rsps.post(f"{API}/pins", body="<html>Bad Gateway</html>", status=502)
    request = PublishRequest(target_id="t", text="x", media=(JPEG,))
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    assert request.progress.sent == {"0"}


def test_delete_a_pin_and_a_pin_already_gone(
    rsps: responses.RequestsMock, adapter: PinterestPublisher
) -> None:
    rsps.delete(f"{API}/pins/77", status=204, match=BEARER)
    adapter.delete(CREDS, "77")
    rsps.delete(f"{API}/pins/78", json={"code": 50, "message": "Pin not found."}, status=404)
    adapter.delete(CREDS, "78")
    assert len(rsps.calls) == 2
