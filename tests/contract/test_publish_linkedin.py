"""LinkedIn posts against the documented requests and answers (fixtures/platform_api/publishing/linkedin):
every request's URL, method, headers and body (text, article, image, multi-image, video through the
Images/Videos upload flows), the post id read from ``x-restli-id`` only, verification by the author's
posts, and the errors each answer maps to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
from chorus.platforms.linkedin import publish as lipublish
from chorus.platforms.linkedin.oauth import API_VERSION
from chorus.platforms.linkedin.publish import LinkedInPublisher, little_text, plain_text
from tests.support import fixture_bytes, fixture_json

REST = "https://api.linkedin.com/rest"
ORG = "urn:li:organization:5515715"
CREDS = AccountCredentials(platform="linkedin", account_id=ORG, access_token="li-token")
MEMBER = AccountCredentials(platform="linkedin", account_id="urn:li:person:782bbtaQ", access_token="li-token")
HEADERS = {
    "Authorization": "Bearer li-token",
    "LinkedIn-Version": API_VERSION,
    "X-Restli-Protocol-Version": "2.0.0",
}
VERSIONED = [matchers.header_matcher(HEADERS)]
SHARE = "urn:li:share:6844785523593134080"  # posts_create_response_201.http
UPLOAD = (
    "https://www.linkedin.com/dms-uploads/C4E10AQFoyyAjHPMQuQ/uploadedImage"  # elided ("...") in the docs
)
JPEG = MediaItem(url="https://cdn.example/a.jpg", mime_type="image/jpeg", alt_text="A lemon tart")
PNG = MediaItem(url="https://cdn.example/b.png", mime_type="image/png")
MP4 = MediaItem(url="https://cdn.example/clip.mp4", mime_type="video/mp4")


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/publishing/linkedin/{name}")


def created_header() -> dict[str, str]:
    """The documented 201: the id only in ``x-restli-id`` (posts_create_response_201.http)."""
    lines = (
        fixture_bytes("platform_api/publishing/linkedin/posts_create_response_201.http").decode().splitlines()
    )
    assert "HTTP/1.1 201 Created" in lines
    name, value = next(line for line in lines if line.lower().startswith("x-restli-id")).split(": ", 1)
    return {name: value}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def adapter() -> LinkedInPublisher:
    return LinkedInPublisher(session=requests.Session())


def expect_post(rsps: responses.RequestsMock, body: dict[str, Any], status: int = 201, **kw: Any) -> None:
    rsps.post(f"{REST}/posts", status=status, headers=kw.pop("headers", created_header()), body=b"",
              match=[*VERSIONED, matchers.json_params_matcher(body)], **kw)  # fmt: skip


def documented(name: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = doc(name)
    body.update(changes)
    return body


def test_a_text_post_is_the_documented_body_and_its_id_comes_from_x_restli_id(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    # Given the documented text-post body (posts_create_request_text.json) and the 201 with x-restli-id
    expect_post(rsps, doc("posts_create_request_text.json"))
    request = PublishRequest(target_id="t", text="Sample text Post")
    # When it is published
    result = adapter.publish(CREDS, request)
    # Then one POST /rest/posts with the versioned headers, and the id read from the header only
    assert result == PublishResult(SHARE, f"https://www.linkedin.com/feed/update/{SHARE}/")
    assert request.progress.landed == {"0": SHARE}
    assert rsps.calls[0].request.headers["Content-Type"] == "application/json"
    assert len(rsps.calls) == 1


def test_a_members_post_is_authored_by_the_person(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    expect_post(rsps, documented("posts_create_request_text.json", author=MEMBER.account_id))
    result = adapter.publish(MEMBER, PublishRequest(target_id="t", text="Sample text Post"))
    assert isinstance(result, PublishResult)
    assert result.platform_post_id == SHARE


def test_reserved_little_text_characters_are_escaped_hashtags_templated_and_both_read_back() -> None:
    text = "Launch (beta) #news @team [1] {x} <y> *a* _b_ ~c~ | back\\slash #tag_2 C# ##x"
    escaped = little_text(text)
    assert escaped == (
        "Launch \\(beta\\) {hashtag|\\#|news} \\@team \\[1\\] \\{x\\} \\<y\\> \\*a\\* \\_b\\_ \\~c\\~ \\| "
        "back\\\\slash \\#tag\\_2 C\\# \\#\\#x"
    )
    assert plain_text(escaped) == text


def test_a_link_without_media_is_an_article(rsps: responses.RequestsMock, adapter: LinkedInPublisher) -> None:
    # Given the article shape (posts_create_request_article_assembled.json: content.article.source/title)
    shape = doc("posts_create_request_article_assembled.json")
    body = documented("posts_create_request_article_assembled.json", commentary="Read this",
                      content={"article": {"source": "https://example.com/a", "title": "example.com/a"}})  # fmt: skip
    assert set(body["content"]["article"]) <= set(shape["content"]["article"])
    expect_post(rsps, body)
    # When a text with a link is published, the link is the article's, not in the commentary
    adapter.publish(CREDS, PublishRequest(target_id="t", text="Read this", link="https://example.com/a"))
    assert len(rsps.calls) == 1


def image_upload(rsps: responses.RequestsMock, urn: str, url: str, data: bytes) -> None:
    answer = doc("images_initialize_upload_response_partial.json")
    answer["value"].update(uploadUrl=url, image=urn)
    rsps.post(f"{REST}/images", json=answer, match=[*VERSIONED, matchers.query_param_matcher(
        {"action": "initializeUpload"}), matchers.json_params_matcher(
        {"initializeUploadRequest": {"owner": ORG}})])  # fmt: skip
    rsps.put(url, status=201, match=[matchers.header_matcher({"Content-Type": "application/octet-stream"})])


def test_an_image_is_initialized_uploaded_then_posted_as_content_media(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    # Given the documented initializeUpload request/answer (owner = the page) and the image bytes
    documented_request = doc("images_initialize_upload_request.json")
    assert set(documented_request["initializeUploadRequest"]) == {"owner"}
    rsps.get(JPEG.url, body=b"\xff\xd8jpeg", content_type="image/jpeg")
    image_upload(rsps, "urn:li:image:C4E10AQFoyyAjHPMQuQ", UPLOAD, b"\xff\xd8jpeg")
    expect_post(rsps, documented("posts_create_request_image_assembled.json", commentary="Tart",
                                 content={"media": {"id": "urn:li:image:C4E10AQFoyyAjHPMQuQ", "altText": "A lemon tart"}}))  # fmt: skip
    request = PublishRequest(target_id="t", text="Tart", media=(JPEG,))
    # When it is published
    result = adapter.publish(CREDS, request)
    # Then the image was initialized, its bytes PUT to the upload URL, and the post names its URN
    assert isinstance(result, PublishResult)
    assert rsps.calls[2].request.body == b"\xff\xd8jpeg"
    assert rsps.calls[2].request.headers["Authorization"] == "Bearer li-token"  # a www.linkedin.com URL
    assert request.progress.landed == {"image:0": "urn:li:image:C4E10AQFoyyAjHPMQuQ", "0": SHARE}


def test_several_images_are_a_multi_image_post_with_alt_texts(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    # Given two images (posts_create_request_multiimage.json: content.multiImage.images[{id, altText}])
    shape = doc("posts_create_request_multiimage.json")["content"]["multiImage"]["images"][0]
    rsps.get(JPEG.url, body=b"one", content_type="image/jpeg")
    rsps.get(PNG.url, body=b"two", content_type="image/png")
    image_upload(rsps, "urn:li:image:C4D22AQFttWMAaIqHaa", f"{UPLOAD}/1", b"one")
    image_upload(rsps, "urn:li:image:C4D22AQG7uz0yPJh588", f"{UPLOAD}/2", b"two")
    images = [{"id": "urn:li:image:C4D22AQFttWMAaIqHaa", "altText": "A lemon tart"},
              {"id": "urn:li:image:C4D22AQG7uz0yPJh588"}]  # fmt: skip
    assert set(images[0]) == set(shape)
    expect_post(rsps, documented("posts_create_request_text.json", commentary="Two",
                                 content={"multiImage": {"images": images}}))  # fmt: skip
    request = PublishRequest(target_id="t", text="Two", media=(JPEG, PNG))
    assert isinstance(adapter.publish(CREDS, request), PublishResult)
    assert set(request.progress.landed) == {"image:0", "image:1", "0"}


def video_flow(rsps: responses.RequestsMock, data: bytes) -> dict[str, Any]:
    """initializeUpload answered with two byte ranges (videos_initialize_upload_response_partial.json
    shape; the docs elide the URLs), each PUT answered with an ETag, and the finalize."""
    answer = doc("videos_initialize_upload_response_partial.json")
    value = answer["value"]
    first = value["uploadInstructions"][0]
    value["uploadInstructions"] = [
        {"uploadUrl": "https://www.linkedin.com/dms-uploads/C5505AQH-oV1qvnFtKA/part0", "firstByte": 0, "lastByte": 3},
        {"uploadUrl": "https://www.linkedin.com/dms-uploads/C5505AQH-oV1qvnFtKA/part1", "firstByte": 4,
         "lastByte": len(data) - 1},
    ]  # fmt: skip
    assert set(value["uploadInstructions"][0]) == set(first)
    init = documented("videos_initialize_upload_request.json")
    init["initializeUploadRequest"].update(owner=ORG, fileSizeBytes=len(data))
    rsps.post(f"{REST}/videos", json=answer, match=[*VERSIONED, matchers.query_param_matcher(
        {"action": "initializeUpload"}), matchers.json_params_matcher(init)])  # fmt: skip
    for index, instruction in enumerate(value["uploadInstructions"]):
        rsps.put(instruction["uploadUrl"], status=200, headers={"ETag": f"/ambry-video/signedId/part{index}.bin"},
                 match=[matchers.header_matcher({"Content-Type": "application/octet-stream"})])  # fmt: skip
    finalize = doc("videos_finalize_upload_request.json")
    finalize["finalizeUploadRequest"].update(
        video=value["video"], uploadToken="",
        uploadedPartIds=["/ambry-video/signedId/part0.bin", "/ambry-video/signedId/part1.bin"])  # fmt: skip
    rsps.post(f"{REST}/videos", status=200, match=[*VERSIONED, matchers.query_param_matcher(
        {"action": "finalizeUpload"}), matchers.json_params_matcher(finalize)])  # fmt: skip
    made: dict[str, Any] = value
    return made


def test_a_video_is_initialized_uploaded_in_its_byte_ranges_finalized_waited_for_then_posted(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    # Given a 10-byte video, uploaded in the two ranges initializeUpload answers
    data = b"0123456789"
    rsps.get(MP4.url, body=data, content_type="video/mp4")
    value = video_flow(rsps, data)
    urn = value["video"]
    status_url = f"{REST}/videos/urn%3Ali%3Avideo%3AC5505AQH-oV1qvnFtKA"
    rsps.get(status_url, json={"id": urn, "status": "PROCESSING"}, match=VERSIONED)
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    # When it is published: initialized, both parts uploaded, finalized; still processing -> a step
    step = adapter.publish(CREDS, request)
    assert step == PendingStep("poll_video", {"video": urn, "polls": "1"}, delay_seconds=10)
    puts = [c.request for c in rsps.calls if c.request.method == "PUT"]
    assert [p.body for p in puts] == [b"0123", b"456789"]
    assert all("Authorization" not in p.headers for p in puts)  # signed URLs: no token sent there
    landed = request.progress.landed
    assert json.loads(landed["video:init"])["video"] == urn
    assert (landed["video:0"], landed["video:1"], landed["video"]) == (
        "/ambry-video/signedId/part0.bin", "/ambry-video/signedId/part1.bin", urn)  # fmt: skip
    # When the step comes back and the video is AVAILABLE, the post is made with it
    rsps.get(status_url, json={"id": urn, "status": "AVAILABLE"}, match=VERSIONED)
    expect_post(rsps, documented("posts_create_request_video.json", commentary="Clip",
                                 author=ORG, content={"media": {"id": urn}}))  # fmt: skip
    result = adapter.continue_publish(CREDS, request, step)
    # Then nothing was initialized or uploaded again
    assert isinstance(result, PublishResult)
    assert sum(1 for c in rsps.calls if c.request.method == "PUT") == 2
    assert sum(1 for c in rsps.calls if "initializeUpload" in (c.request.url or "")) == 1


def test_a_video_linkedin_could_not_process_fails_the_target(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    rsps.get(
        f"{REST}/videos/urn%3Ali%3Avideo%3AC5505AQH", json={"status": "PROCESSING_FAILED"}, match=VERSIONED
    )
    request = PublishRequest(target_id="t", text="Clip", media=(MP4,))
    request.progress.landed["video"] = "urn:li:video:C5505AQH"
    with pytest.raises(PermanentError, match="PROCESSING_FAILED"):
        adapter.publish(CREDS, request)


def test_a_201_without_x_restli_id_is_an_unknown_outcome_to_verify(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    expect_post(rsps, doc("posts_create_request_text.json"), headers={})
    request = PublishRequest(target_id="t", text="Sample text Post")
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    assert request.progress.sent == {"0"}  # kept marked sent: verified before anything is sent again


def test_a_lost_answer_is_found_among_the_authors_posts_by_its_commentary(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    # Given the author's posts (the Posts API's find-by-author), newest first
    started = datetime.now(UTC)
    now_ms = int(started.timestamp() * 1000)
    listing = {"elements": [
        {"id": "urn:li:share:2", "author": ORG, "commentary": "Other", "createdAt": now_ms},
        {"id": "urn:li:share:1", "author": ORG, "commentary": "Launch \\(beta\\)", "createdAt": now_ms},
        {"id": "urn:li:share:0", "author": ORG, "commentary": "Launch \\(beta\\)",
         "createdAt": now_ms - 3_600_000},
    ], "paging": {"start": 0, "count": 20}}  # fmt: skip
    rsps.get(f"{REST}/posts", json=listing, match=[*VERSIONED, matchers.query_string_matcher(
        "author=urn%3Ali%3Aorganization%3A5515715&q=author&count=20&sortBy=LAST_MODIFIED")])  # fmt: skip
    request = PublishRequest(target_id="t", text="Launch (beta)", not_before=started)
    # When it is verified, the post made since the target started with the same commentary is found
    found = adapter.find_published(CREDS, request)
    assert found == PublishResult("urn:li:share:1", "https://www.linkedin.com/feed/update/urn:li:share:1/")
    # And a text no post has is not found
    rsps.get(f"{REST}/posts", json=listing)
    assert (
        adapter.find_published(CREDS, PublishRequest(target_id="t", text="Nope", not_before=started)) is None
    )


def test_the_documented_401_empty_token_needs_reauthorisation(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    expect_post(rsps, doc("posts_create_request_text.json"), status=401, headers={},
                json=doc("error_401_empty_token.json"))  # fmt: skip
    request = PublishRequest(target_id="t", text="Sample text Post")
    with pytest.raises(AuthError, match="Empty oauth2_access_token") as refused:
        adapter.publish(CREDS, request)
    assert (refused.value.status, refused.value.code) == (401, "401")
    assert request.progress.sent == set()  # refused: the post was not made


def test_the_documented_403_is_permanent_with_linkedins_message(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    rsps.get(MP4.url, body=b"0123456789", content_type="video/mp4")
    rsps.post(f"{REST}/videos", status=403, json=doc("videos_error_403_forbidden.json"))
    with pytest.raises(PermanentError, match="Accessing this video resource is forbidden") as refused:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="Clip", media=(MP4,)))
    assert not isinstance(refused.value, AuthError)


def test_a_429_waits_its_retry_after_or_else_the_daily_reset_at_midnight_utc(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    throttled = {
        "message": "Resource level throttle limit for calls to this resource is reached.",
        "status": 429,
    }
    expect_post(rsps, doc("posts_create_request_text.json"), status=429, headers={"Retry-After": "120"},
                json=throttled)  # fmt: skip
    with pytest.raises(RateLimited) as limited:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="Sample text Post"))
    assert limited.value.retry_after == 120
    expect_post(rsps, doc("posts_create_request_text.json"), status=429, headers={}, json=throttled)
    with pytest.raises(RateLimited, match="throttle limit") as daily:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="Sample text Post"))
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert daily.value.retry_after == pytest.approx((midnight - now).total_seconds(), abs=5)


def test_5xx_is_retried_and_a_gateway_timeout_after_the_post_is_verified(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    expect_post(rsps, doc("posts_create_request_text.json"), status=500, headers={}, json={"status": 500})
    with pytest.raises(TransientError) as failed:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="Sample text Post"))
    assert not isinstance(failed.value, UnknownOutcome)
    expect_post(rsps, doc("posts_create_request_text.json"), status=504, headers={}, json={"status": 504})
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="Sample text Post"))


def test_replies_threads_and_first_comments_are_refused_before_any_call(adapter: LinkedInPublisher) -> None:
    for request in (
        PublishRequest(target_id="t", text="a", thread=("b",)),
        PublishRequest(target_id="t", text="a", first_comment="b"),
        PublishRequest(target_id="t", text="a", reply_to="urn:li:share:1"),
        PublishRequest(target_id="t", text="a", media=(MP4, JPEG)),
    ):
        with pytest.raises(PermanentError):
            adapter.publish(CREDS, request)


def test_delete_sends_the_restli_delete_and_a_post_already_gone_counts_as_deleted(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    url = f"{REST}/posts/urn%3Ali%3Ashare%3A6844785523593134080"
    rsps.delete(url, status=204, match=[*VERSIONED, matchers.header_matcher({"X-RestLi-Method": "DELETE"})])
    adapter.delete(CREDS, SHARE)
    rsps.delete(url, status=404, json={"message": "Not found", "status": 404})
    adapter.delete(CREDS, SHARE)


def test_the_adapter_is_the_registrys_linkedin_publisher() -> None:
    from chorus.platforms import registry

    assert (
        registry.adapter_class(registry.PLATFORMS["linkedin"].publisher or "") is lipublish.LinkedInPublisher
    )


def test_the_token_never_goes_to_an_upload_url_off_linkedins_hosts(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    rsps.get(JPEG.url, body=b"\xff\xd8jpeg", content_type="image/jpeg")
    image_upload(rsps, "urn:li:image:C4E10AQFoyyAjHPMQuQ", "https://uploads.example.net/x", b"\xff\xd8jpeg")
    expect_post(rsps, documented("posts_create_request_image_assembled.json", commentary="Tart",
                                 content={"media": {"id": "urn:li:image:C4E10AQFoyyAjHPMQuQ", "altText": "A lemon tart"}}))  # fmt: skip
    adapter.publish(CREDS, PublishRequest(target_id="t", text="Tart", media=(JPEG,)))
    assert "Authorization" not in rsps.calls[2].request.headers


def test_a_video_is_read_range_by_range_where_its_server_honours_range(
    rsps: responses.RequestsMock, adapter: LinkedInPublisher
) -> None:
    # Given a media server that answers Range reads with 206 and Content-Range
    data = b"0123456789"

    def ranged(request: Any) -> tuple[int, dict[str, str], bytes]:
        first, last = (int(n) for n in request.headers["Range"].removeprefix("bytes=").split("-"))
        return 206, {"Content-Range": f"bytes {first}-{last}/{len(data)}"}, data[first : last + 1]

    rsps.add_callback(responses.GET, MP4.url, callback=ranged)
    video_flow(rsps, data)
    rsps.get(f"{REST}/videos/urn%3Ali%3Avideo%3AC5505AQH-oV1qvnFtKA", json={"status": "PROCESSING"})
    # When the video is prepared
    adapter.publish(CREDS, PublishRequest(target_id="t", text="Clip", media=(MP4,)))
    # Then the size came from a one-byte probe and each part read only its own range
    reads = [c.request.headers["Range"] for c in rsps.calls if c.request.url == MP4.url]
    assert reads == ["bytes=0-0", "bytes=0-3", "bytes=4-9"]
    assert [c.request.body for c in rsps.calls if c.request.method == "PUT"] == [b"0123", b"456789"]
