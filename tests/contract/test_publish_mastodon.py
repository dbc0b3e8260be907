"""Mastodon adapter against the documented REST API (statuses, media, Idempotency-Key)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MediaItem,
    PermanentError,
    PublishRequest,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.mastodon.publish import MastodonPublisher
from tests.support import fixture_json

BASE = "https://mastodon.example"
STATUSES = f"{BASE}/api/v1/statuses"
CREDS = AccountCredentials(platform="mastodon", account_id="14715", access_token="tok-m", base_url=BASE)
AUTH = {"Authorization": "Bearer tok-m"}
STATUS = fixture_json("metrics/mastodon_status_counts.json")  # the docs' Status example


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def adapter(sleeps: list[float]) -> MastodonPublisher:
    return MastodonPublisher(session=requests.Session(), sleep=sleeps.append)


def status(id_: str) -> dict[str, object]:
    return {**STATUS, "id": id_, "url": f"{BASE}/@me/{id_}"}


def test_publish_posts_the_status_with_the_target_id_as_idempotency_key(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    # Given an instance that accepts the status (answering with the documented Status entity)
    rsps.post(
        STATUSES,
        json=STATUS,
        match=[
            matchers.header_matcher({**AUTH, "Idempotency-Key": "tgt-1"}),
            matchers.json_params_matcher({"status": "Hello fediverse"}),
        ],
    )
    # When the target is published
    result = adapter.publish(CREDS, PublishRequest(target_id="tgt-1", text="Hello fediverse"))
    # Then the platform id and URL come from the Status
    assert result.platform_post_id == "103270115826048975"
    assert result.url == "https://mastodon.social/@Gargron/103270115826048975"


def test_a_retry_sends_the_same_idempotency_key(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    rsps.post(STATUSES, json=STATUS, match=[matchers.header_matcher({"Idempotency-Key": "tgt-1"})])
    rsps.post(STATUSES, json=STATUS, match=[matchers.header_matcher({"Idempotency-Key": "tgt-1"})])
    request = PublishRequest(target_id="tgt-1", text="Hello")
    first = adapter.publish(CREDS, request)
    second = adapter.publish(CREDS, request)
    assert first.platform_post_id == second.platform_post_id  # type: ignore[union-attr]
    assert len(rsps.calls) == 2


def test_link_is_appended_to_the_text(rsps: responses.RequestsMock, adapter: MastodonPublisher) -> None:
    rsps.post(
        STATUSES, json=STATUS, match=[matchers.json_params_matcher({"status": "Read\n\nhttps://a.io/x"})]
    )
    adapter.publish(CREDS, PublishRequest(target_id="t", text="Read", link="https://a.io/x"))


def test_media_is_uploaded_polled_until_processed_then_attached(
    rsps: responses.RequestsMock, adapter: MastodonPublisher, sleeps: list[float]
) -> None:
    # Given an image the instance processes asynchronously (202, then 206, then 200)
    rsps.get("https://cdn.example/pic.jpg", body=b"\xff\xd8jpeg-bytes")
    rsps.post(
        f"{BASE}/api/v2/media",
        status=202,
        json={"id": "22348641", "url": None},
        match=[matchers.header_matcher(AUTH)],
    )
    rsps.get(f"{BASE}/api/v1/media/22348641", status=206, json={"id": "22348641", "url": None})
    rsps.get(
        f"{BASE}/api/v1/media/22348641", status=200, json={"id": "22348641", "url": "https://files/x.jpg"}
    )
    rsps.post(
        STATUSES,
        json=STATUS,
        match=[matchers.json_params_matcher({"status": "Look", "media_ids": ["22348641"]})],
    )
    # When published with the image
    media = (MediaItem(url="https://cdn.example/pic.jpg", mime_type="image/jpeg", alt_text="A cat"),)
    adapter.publish(CREDS, PublishRequest(target_id="t", text="Look", media=media))
    # Then the upload carried the file and the description, and the adapter waited once between polls
    upload = rsps.calls[1].request
    assert b"jpeg-bytes" in upload.body  # type: ignore[operator]
    assert b'name="description"' in upload.body
    assert b"A cat" in upload.body
    assert sleeps == [1.0]


def test_media_still_processing_at_the_deadline_is_transient(rsps: responses.RequestsMock) -> None:
    ticks = iter([0.0, 100.0])
    adapter = MastodonPublisher(sleep=lambda s: None, clock=lambda: next(ticks), media_deadline=60)
    rsps.get("https://cdn.example/v.mp4", body=b"mp4")
    rsps.post(f"{BASE}/api/v2/media", status=202, json={"id": "9", "url": None})
    rsps.get(f"{BASE}/api/v1/media/9", status=206, json={"id": "9", "url": None})
    media = (MediaItem(url="https://cdn.example/v.mp4", mime_type="video/mp4"),)
    with pytest.raises(TransientError):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="v", media=media))


def test_thread_parts_and_first_comment_reply_with_derived_keys(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    rsps.post(STATUSES, json=status("1"), match=[matchers.header_matcher({"Idempotency-Key": "t9"})])
    rsps.post(
        STATUSES,
        json=status("2"),
        match=[
            matchers.header_matcher({"Idempotency-Key": "t9:part:1"}),
            matchers.json_params_matcher({"status": "two", "in_reply_to_id": "1"}),
        ],
    )
    rsps.post(
        STATUSES,
        json=status("3"),
        match=[
            matchers.header_matcher({"Idempotency-Key": "t9:comment"}),
            matchers.json_params_matcher({"status": "note", "in_reply_to_id": "1"}),
        ],
    )
    result = adapter.publish(
        CREDS, PublishRequest(target_id="t9", text="one", thread=("two",), first_comment="note")
    )
    assert result.platform_post_id == "1"  # type: ignore[union-attr]
    assert result.part_ids == ("2", "3")  # type: ignore[union-attr]


def test_reply_to_an_inbox_message_sets_in_reply_to_id(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    rsps.post(
        STATUSES,
        json=STATUS,
        match=[matchers.json_params_matcher({"status": "thanks", "in_reply_to_id": "117"})],
    )
    adapter.publish(CREDS, PublishRequest(target_id="r", text="thanks", reply_to="117"))


def test_a_validation_error_is_permanent_with_mastodons_message(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    rsps.post(STATUSES, status=422, json={"error": "Validation failed: Text character limit of 500 exceeded"})
    with pytest.raises(PermanentError) as caught:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))
    assert caught.value.message == "Validation failed: Text character limit of 500 exceeded"
    assert not isinstance(caught.value, AuthError)


def test_an_invalid_token_is_an_auth_error(rsps: responses.RequestsMock, adapter: MastodonPublisher) -> None:
    rsps.post(STATUSES, status=401, json={"error": "The access token is invalid"})
    with pytest.raises(AuthError, match="The access token is invalid"):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_429_is_rate_limited_until_the_reset_time(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    reset = datetime.fromtimestamp(datetime.now(UTC).timestamp() + 300, UTC).isoformat()
    rsps.post(STATUSES, status=429, json={"error": "Too many requests"}, headers={"X-RateLimit-Reset": reset})
    with pytest.raises(RateLimited) as caught:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))
    assert caught.value.retry_after is not None
    assert 250 < caught.value.retry_after <= 300


def test_503_is_transient(rsps: responses.RequestsMock, adapter: MastodonPublisher) -> None:
    rsps.post(STATUSES, status=503, body="<html>maintenance</html>")
    with pytest.raises(TransientError):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_a_read_timeout_after_sending_is_an_unknown_outcome(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    rsps.post(STATUSES, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_a_connect_timeout_is_transient_not_unknown(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    rsps.post(STATUSES, body=requests.ConnectTimeout("connect timed out"))
    with pytest.raises(TransientError):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_find_published_matches_the_html_status_by_text_and_time(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    # Given the account's statuses include the docs' example (HTML with a shortened link rendering)
    rsps.get(
        f"{BASE}/api/v1/accounts/14715/statuses",
        json=[status("99") | {"content": "<p>other</p>"}, STATUS],
        match=[
            matchers.query_param_matcher({"limit": "40", "exclude_reblogs": "true"}),
            matchers.header_matcher(AUTH),
        ],
    )
    text = '"I lost my inheritance with one wrong digit on my sort code"'
    link = "https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"
    request = PublishRequest(
        target_id="t", text=text, link=link, not_before=datetime(2019, 12, 8, 3, 48, tzinfo=UTC)
    )
    # When the publisher verifies
    found = adapter.find_published(CREDS, request)
    # Then it finds that status
    assert found is not None
    assert found.platform_post_id == "103270115826048975"


def test_find_published_ignores_a_matching_status_older_than_not_before(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    rsps.get(f"{BASE}/api/v1/accounts/14715/statuses", json=[STATUS])
    text = '"I lost my inheritance with one wrong digit on my sort code" https://www.theguardian.com/x'
    request = PublishRequest(target_id="t", text=text, not_before=datetime(2020, 1, 1, tzinfo=UTC))
    assert adapter.find_published(CREDS, request) is None


def test_delete_removes_the_status_and_tolerates_an_already_deleted_one(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    rsps.delete(f"{STATUSES}/1", json=STATUS, match=[matchers.header_matcher(AUTH)])
    rsps.delete(f"{STATUSES}/2", status=404, json={"error": "Record not found"})
    adapter.delete(CREDS, "1")
    adapter.delete(CREDS, "2")
    assert [c.request.method for c in rsps.calls] == ["DELETE", "DELETE"]


def test_an_account_without_instance_url_is_refused() -> None:
    creds = AccountCredentials(platform="mastodon", account_id="1", access_token="t")
    with pytest.raises(PermanentError, match="instance"):
        MastodonPublisher().publish(creds, PublishRequest(target_id="t", text="x"))
