"""Mastodon adapter against the documented REST API (statuses, media, Idempotency-Key)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import (
    COMMENT,
    ROOT,
    AccountCredentials,
    AuthError,
    MediaItem,
    PendingStep,
    PermanentError,
    Progress,
    PublishRequest,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.budget import CALL_REQUESTS, requests_budget
from chorus.platforms.mastodon.publish import (
    KEY_TRUST,
    MAX_MEDIA_POLLS,
    MEDIA_STEP,
    RESUME_STEP,
    MastodonPublisher,
)
from tests.contract.stepping import STEP_BUDGET, drive
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
def adapter() -> MastodonPublisher:
    adapter = MastodonPublisher(session=requests.Session())
    adapter.request_budget_s = STEP_BUDGET  # steps after two requests (see tests.contract.stepping)
    return adapter


MEDIA = f"{BASE}/api/v2/media"
PIC = (MediaItem(url="https://cdn.example/pic.jpg", mime_type="image/jpeg", alt_text="A cat"),)


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


def test_a_retry_after_a_lost_answer_sends_the_same_idempotency_key(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    # Given the first attempt's answer was lost (the instance may have made the status)
    rsps.post(STATUSES, body=requests.ReadTimeout("read timed out"))
    rsps.post(STATUSES, json=STATUS, match=[matchers.header_matcher({"Idempotency-Key": "tgt-1"})])
    request = PublishRequest(target_id="tgt-1", text="Hello")
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    # When it is retried
    result = adapter.publish(CREDS, request)
    # Then the retry carries the same key (the instance answers with the status it made), and a later
    # retry sends nothing: the root has landed
    assert [c.request.headers["Idempotency-Key"] for c in rsps.calls] == ["tgt-1", "tgt-1"]
    assert adapter.publish(CREDS, request) == result
    assert len(rsps.calls) == 2


def test_link_is_appended_to_the_text(rsps: responses.RequestsMock, adapter: MastodonPublisher) -> None:
    rsps.post(
        STATUSES, json=STATUS, match=[matchers.json_params_matcher({"status": "Read\n\nhttps://a.io/x"})]
    )
    adapter.publish(CREDS, PublishRequest(target_id="t", text="Read", link="https://a.io/x"))


def test_media_processing_is_polled_in_steps_then_attached_without_uploading_again(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    # Given an image the instance processes asynchronously (202, then 206, then 200)
    rsps.get("https://cdn.example/pic.jpg", body=b"\xff\xd8jpeg-bytes")
    rsps.post(MEDIA, status=202, json={"id": "22348641", "url": None}, match=[matchers.header_matcher(AUTH)])
    rsps.get(f"{BASE}/api/v1/media/22348641", status=206, json={"id": "22348641", "url": None})
    rsps.get(
        f"{BASE}/api/v1/media/22348641", status=200, json={"id": "22348641", "url": "https://files/x.jpg"}
    )
    rsps.post(
        STATUSES,
        json=STATUS,
        match=[matchers.json_params_matcher({"status": "Look", "media_ids": ["22348641"]})],
    )
    request = PublishRequest(target_id="t", text="Look", media=PIC)
    # When published: the call uploads and hands the wait to a step (nothing waits in-call)
    first = adapter.publish(CREDS, request)
    assert isinstance(first, PendingStep)
    assert first.step == MEDIA_STEP
    assert first.state["media_ids"] == "22348641"
    second = adapter.continue_publish(CREDS, request, first)
    assert isinstance(second, PendingStep)
    assert (second.step, second.state["polls"]) == (MEDIA_STEP, "1")
    result = adapter.continue_publish(CREDS, request, second)
    # Then the upload carried the file and the description, was made once, and the status attaches it
    assert result.platform_post_id == "103270115826048975"  # type: ignore[union-attr]
    upload = rsps.calls[1].request
    assert b"jpeg-bytes" in upload.body  # type: ignore[operator]
    assert b'name="description"' in upload.body
    assert b"A cat" in upload.body
    assert [c.request.url for c in rsps.calls].count(MEDIA) == 1


def test_an_attachment_processed_at_once_is_posted_in_the_next_step(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    # Given an image processed synchronously (200 with its url)
    rsps.get("https://cdn.example/pic.jpg", body=b"jpeg")
    rsps.post(MEDIA, json={"id": "5", "url": "https://files/5.jpg"})
    rsps.post(
        STATUSES, json=STATUS, match=[matchers.json_params_matcher({"status": "x", "media_ids": ["5"]})]
    )
    # When published: download and upload take the call's budget, the status is the next call
    result, steps, per_call = drive(adapter, CREDS, PublishRequest(target_id="t", text="x", media=PIC), rsps)
    # Then one resume step, no poll, one upload
    assert [s.step for s in steps] == [RESUME_STEP]
    assert per_call == [2, 1]
    assert result.platform_post_id == "103270115826048975"
    assert [c.request.method for c in rsps.calls] == ["GET", "POST", "POST"]


def test_attachments_are_uploaded_one_call_each_and_never_again(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    # Given two images the instance processes at once
    for name in ("a", "b"):
        rsps.get(f"https://cdn.example/{name}.jpg", body=name.encode())
    rsps.post(MEDIA, json={"id": "1", "url": "https://files/1.jpg"})
    rsps.post(MEDIA, json={"id": "2", "url": "https://files/2.jpg"})
    rsps.post(
        STATUSES,
        json=STATUS,
        match=[matchers.json_params_matcher({"status": "two", "media_ids": ["1", "2"]})],
    )
    media = tuple(MediaItem(url=f"https://cdn.example/{n}.jpg", mime_type="image/jpeg") for n in ("a", "b"))
    # When published step by step
    _, steps, per_call = drive(adapter, CREDS, PublishRequest(target_id="t", text="two", media=media), rsps)
    # Then each call took one download and upload, the ids rode in the step state, the status came last
    assert [s.state["media_ids"] for s in steps] == ["1", "1,2"]
    assert per_call == [2, 2, 1]
    assert [c.request.url for c in rsps.calls].count(MEDIA) == 2


def test_media_still_processing_after_the_last_poll_fails_with_the_instances_last_answer(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    # Given a video the instance never finishes processing
    rsps.get(f"{BASE}/api/v1/media/9", status=206, json={"id": "9", "url": None})
    request = PublishRequest(
        target_id="t", text="v", media=(MediaItem(url="https://cdn.example/v.mp4", mime_type="video/mp4"),)
    )
    step = PendingStep(MEDIA_STEP, {"media_ids": "9", "processing": "9", "polls": str(MAX_MEDIA_POLLS - 2)})
    # When the step before the last polls: another step
    again = adapter.continue_publish(CREDS, request, step)
    assert isinstance(again, PendingStep)
    # And the last poll still sees 206
    with pytest.raises(PermanentError) as caught:
        adapter.continue_publish(CREDS, request, again)
    # Then the target fails with that answer, and no status was posted
    assert caught.value.status == 206
    assert "still processing" in caught.value.message
    assert all(c.request.method == "GET" for c in rsps.calls)


def test_a_failed_processing_is_permanent_with_the_instances_message(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    rsps.get(f"{BASE}/api/v1/media/9", status=422, json={"error": "Error processing thumbnail"})
    request = PublishRequest(target_id="t", text="v", media=PIC)
    step = PendingStep(MEDIA_STEP, {"media_ids": "9", "processing": "9", "polls": "0"})
    with pytest.raises(PermanentError, match="Error processing thumbnail"):
        adapter.continue_publish(CREDS, request, step)


def test_a_media_url_pointing_inside_the_network_is_refused_before_anything_is_sent(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    # Given an attachment whose URL names the instance metadata service
    item = MediaItem(url="https://169.254.169.254/latest/meta-data/iam", mime_type="image/jpeg")
    # When published, the guarded fetcher refuses it (a permanent error naming the field)
    with pytest.raises(PermanentError, match="media"):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x", media=(item,)))
    # Then no request left at all
    assert len(rsps.calls) == 0


def test_thread_parts_and_first_comment_reply_with_keys_from_the_persisted_progress(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    rsps.post(STATUSES, json=status("1"), match=[matchers.header_matcher({"Idempotency-Key": "t9"})])
    rsps.post(
        STATUSES,
        json=status("2"),
        match=[
            matchers.header_matcher({"Idempotency-Key": "t9:1"}),
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
    request = PublishRequest(target_id="t9", text="one", thread=("two",), first_comment="note")
    result, steps, per_call = drive(adapter, CREDS, request, rsps)
    assert [s.step for s in steps] == [RESUME_STEP]
    assert per_call == [2, 1]  # two statuses a call
    assert result.platform_post_id == "1"
    assert result.url == f"{BASE}/@me/1"
    assert result.part_ids == ("2", "3")
    assert request.progress.landed == {ROOT: "1", "1": "2", COMMENT: "3"}


def test_a_resumed_thread_answers_the_landed_parent_and_skips_landed_parts(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    # Given the root and part 1 landed in an earlier call
    progress = Progress(key="k", started_at=datetime.now(UTC), landed={ROOT: "10", "1": "11"}, root_url="u")
    rsps.post(
        STATUSES,
        json=status("12"),
        match=[
            matchers.header_matcher({"Idempotency-Key": "k:2"}),
            matchers.json_params_matcher({"status": "three", "in_reply_to_id": "11"}),
        ],
    )
    request = PublishRequest(target_id="t", text="one", thread=("two", "three"), progress=progress)
    # When publishing again
    result = adapter.publish(CREDS, request)
    # Then only part 2 is posted, in reply to part 1
    assert result.part_ids == ("11", "12")  # type: ignore[union-attr]
    assert (result.platform_post_id, result.url) == ("10", "u")  # type: ignore[union-attr]
    assert len(rsps.calls) == 1


def test_a_part_sent_without_answer_is_resent_under_its_key_while_the_instance_remembers_it(
    rsps: responses.RequestsMock,
) -> None:
    # Given part 1 went out 20 minutes after the target started, and its answer was lost
    started = datetime(2026, 1, 1, 12, tzinfo=UTC)
    progress = Progress(key="k", started_at=started, landed={ROOT: "10"}, sent={"1"})
    request = PublishRequest(target_id="t", text="one", thread=("two",), progress=progress)
    rsps.post(STATUSES, json=status("11"), match=[matchers.header_matcher({"Idempotency-Key": "k:1"})])
    # When retried within the key's memory, it is sent again with the same key (the instance dedupes)
    soon = MastodonPublisher(now=lambda: started + KEY_TRUST - timedelta(seconds=1))
    assert soon.publish(CREDS, request).part_ids == ("11",)  # type: ignore[union-attr]
    # But past it, nothing is sent: the part is verified first
    progress.landed.pop("1")
    progress.sent.add("1")
    late = MastodonPublisher(now=lambda: started + KEY_TRUST)
    with pytest.raises(UnknownOutcome):
        late.publish(CREDS, request)
    assert len(rsps.calls) == 1


def test_find_part_finds_our_reply_to_the_landed_parent_in_its_context(
    rsps: responses.RequestsMock, adapter: MastodonPublisher
) -> None:
    # Given part 1 of a thread whose root is 10; the context holds a stranger's reply with the same text,
    # the first comment (same text, already landed) and ours
    progress = Progress(key="k", started_at=datetime.now(UTC), landed={ROOT: "10", COMMENT: "12"})
    request = PublishRequest(target_id="t", text="one", thread=("same",), first_comment="same",
                             progress=progress)  # fmt: skip
    me = {"id": "14715"}
    rsps.get(
        f"{BASE}/api/v1/statuses/10/context",
        json={
            "ancestors": [],
            "descendants": [
                status("11") | {"in_reply_to_id": "10", "account": {"id": "999"}, "content": "<p>same</p>"},
                status("12") | {"in_reply_to_id": "10", "account": me, "content": "<p>same</p>"},
                status("13") | {"in_reply_to_id": "10", "account": me, "content": "<p>same</p>"},
            ],
        },
        match=[matchers.header_matcher(AUTH)],
    )
    # When the publisher verifies part 1
    # Then it is ours, answering the root, not yet landed as another part
    assert adapter.find_part(CREDS, request, "1") == "13"
    # And a part whose parent has not landed cannot exist
    assert adapter.find_part(CREDS, PublishRequest(target_id="t", text="a", thread=("b", "c")), "2") is None


def test_the_request_budget_is_call_requests_of_the_default_timeout() -> None:
    assert MastodonPublisher.request_budget_s == requests_budget(CALL_REQUESTS)


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
