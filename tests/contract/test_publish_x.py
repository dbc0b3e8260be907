"""X adapter against API v2 (tweets, v2 media upload, threads, rate limits)."""

from __future__ import annotations

import time
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
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.x import publish as xpublish
from chorus.platforms.x.publish import XPublisher
from tests.contract.stepping import STEP_BUDGET, drive
from tests.support import fixture_json

API = "https://api.x.com"
TWEETS = f"{API}/2/tweets"
CREDS = AccountCredentials(platform="x", account_id="2244994945", access_token="user-token", handle="chorus")
AUTH = {"Authorization": "Bearer user-token"}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def adapter() -> XPublisher:
    adapter = XPublisher(session=requests.Session())
    adapter.request_budget_s = STEP_BUDGET  # steps after two requests (see tests.contract.stepping)
    return adapter


def created(tweet_id: str, text: str = "") -> dict[str, object]:
    return {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}}


def test_publish_posts_the_text_with_the_user_token(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    rsps.post(
        TWEETS,
        status=201,
        json=created("1445880548472328192", "Hello X"),
        match=[matchers.header_matcher(AUTH), matchers.json_params_matcher({"text": "Hello X"})],
    )
    result = adapter.publish(CREDS, PublishRequest(target_id="t", text="Hello X"))
    assert result == PublishResult(
        platform_post_id="1445880548472328192", url="https://x.com/chorus/status/1445880548472328192"
    )


def test_an_image_is_uploaded_then_attached(rsps: responses.RequestsMock, adapter: XPublisher) -> None:
    rsps.get("https://cdn.example/a.png", body=b"PNGDATA")
    rsps.post(
        f"{API}/2/media/upload",
        json={"data": {"id": "1880028106020515840", "media_key": "3_1880028106020515840"}},
        match=[matchers.header_matcher(AUTH)],
    )
    rsps.post(
        f"{API}/2/media/metadata",
        json={"data": {"associated_metadata": True}},
        match=[
            matchers.json_params_matcher(
                {"id": "1880028106020515840", "metadata": {"alt_text": {"text": "A chart"}}}
            )
        ],
    )
    rsps.post(
        TWEETS,
        status=201,
        json=created("9"),
        match=[
            matchers.json_params_matcher({"text": "Chart", "media": {"media_ids": ["1880028106020515840"]}})
        ],
    )
    media = (MediaItem(url="https://cdn.example/a.png", mime_type="image/png", alt_text="A chart"),)
    result, _, per_call = drive(
        adapter, CREDS, PublishRequest(target_id="t", text="Chart", media=media), rsps
    )
    assert result.platform_post_id == "9"
    assert per_call == [2, 2]  # (download, upload), (alt text, post): two requests a call
    upload = rsps.calls[1].request.body
    assert b"PNGDATA" in upload  # type: ignore[operator]
    assert b"tweet_image" in upload  # type: ignore[operator]


def test_a_video_is_uploaded_in_chunks_as_steps_within_the_call_budget(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    # Given a 30-byte video (size known) that X processes for a while after FINALIZE
    rsps.get(
        "https://cdn.example/v.mp4",
        status=206,
        body=b"MP4" * 10,
        headers={"Content-Range": "bytes 0-29/30"},
        match=[matchers.header_matcher({"Range": f"bytes=0-{4 * 1024 * 1024 - 1}"})],
    )
    rsps.post(
        f"{API}/2/media/upload/initialize",
        json={"data": {"id": "77", "media_key": "7_77", "expires_after_secs": 86400}},
        match=[
            matchers.json_params_matcher(
                {"media_type": "video/mp4", "total_bytes": 30, "media_category": "tweet_video"}
            )
        ],
    )
    rsps.post(f"{API}/2/media/upload/77/append", json={})
    rsps.post(
        f"{API}/2/media/upload/77/finalize",
        json={"data": {"id": "77", "processing_info": {"state": "pending", "check_after_secs": 2}}},
    )
    rsps.get(
        f"{API}/2/media/upload",
        json={"data": {"id": "77", "processing_info": {"state": "succeeded", "progress_percent": 100}}},
        match=[matchers.query_param_matcher({"command": "STATUS", "media_id": "77"})],
    )
    rsps.post(
        TWEETS,
        status=201,
        json=created("10"),
        match=[matchers.json_params_matcher({"text": "Clip", "media": {"media_ids": ["77"]}})],
    )
    media = (MediaItem(url="https://cdn.example/v.mp4", mime_type="video/mp4", size=30),)
    # When it is published step by step
    result, steps, per_call = drive(
        adapter, CREDS, PublishRequest(target_id="t", text="Clip", media=media), rsps
    )
    # Then the post carries the media, no call sent more than its budget allows, and the processing
    # wait is a step X's check_after_secs later (no sleep inside a call)
    assert result.platform_post_id == "10"
    assert max(per_call) <= 2
    assert adapter.request_budget_s == 26.1  # the tests' STEP_BUDGET
    assert [s.step for s in steps] == ["media", "media", "media"]
    assert steps[-1].delay_seconds == 2
    assert steps[-1].state["phase"] == "status"
    append = next(c for c in rsps.calls if c.request.url.endswith("/append"))
    assert b'name="segment_index"' in append.request.body  # type: ignore[operator]


def test_media_processing_polls_are_bounded_and_fail_with_xs_last_state(
    rsps: responses.RequestsMock, adapter: XPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given X keeps answering STATUS "in_progress"
    monkeypatch.setattr(xpublish, "MAX_STATUS_POLLS", 3)
    rsps.get(
        f"{API}/2/media/upload",
        json={"data": {"id": "77", "processing_info": {"state": "in_progress", "check_after_secs": 5}}},
    )
    request = PublishRequest(
        target_id="t", text="Clip", media=(MediaItem(url="https://cdn.example/v.mp4", mime_type="video/mp4"),)
    )
    step = PendingStep("media", {"upload": "77", "phase": "status", "polls": "0"})
    # When the status step is continued
    for _ in range(2):
        step = adapter.continue_publish(CREDS, request, step)  # type: ignore[assignment]
        assert step.state["polls"] in {"1", "2"}
    step = adapter.continue_publish(CREDS, request, step)  # type: ignore[assignment]
    with pytest.raises(PermanentError, match=r"after 3 checks \(last state: in_progress\)"):
        adapter.continue_publish(CREDS, request, step)
    # Then it looked exactly three times, and never posted
    assert len(rsps.calls) == 3


def test_failed_video_processing_is_permanent(rsps: responses.RequestsMock, adapter: XPublisher) -> None:
    rsps.get("https://cdn.example/v.mp4", body=b"MP4")  # a server that ignores Range sends it whole
    rsps.post(f"{API}/2/media/upload/initialize", json={"data": {"id": "78"}})
    rsps.post(f"{API}/2/media/upload/78/append", json={})
    rsps.post(
        f"{API}/2/media/upload/78/finalize",
        json={
            "data": {
                "id": "78",
                "processing_info": {"state": "failed", "error": {"message": "Unsupported codec"}},
            }
        },
    )
    media = (MediaItem(url="https://cdn.example/v.mp4", mime_type="video/mp4"),)
    with pytest.raises(PermanentError, match="Unsupported codec"):
        drive(adapter, CREDS, PublishRequest(target_id="t", text="Clip", media=media), rsps)
    assert not [c for c in rsps.calls if c.request.url == TWEETS]


def test_thread_parts_reply_to_the_previous_part_and_the_comment_to_the_first(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    rsps.post(TWEETS, status=201, json=created("1"), match=[matchers.json_params_matcher({"text": "1/3"})])
    rsps.post(
        TWEETS,
        status=201,
        json=created("2"),
        match=[matchers.json_params_matcher({"text": "2/3", "reply": {"in_reply_to_tweet_id": "1"}})],
    )
    rsps.post(
        TWEETS,
        status=201,
        json=created("3"),
        match=[matchers.json_params_matcher({"text": "3/3", "reply": {"in_reply_to_tweet_id": "2"}})],
    )
    rsps.post(
        TWEETS,
        status=201,
        json=created("4"),
        match=[matchers.json_params_matcher({"text": "link below", "reply": {"in_reply_to_tweet_id": "1"}})],
    )
    request = PublishRequest(target_id="t", text="1/3", thread=("2/3", "3/3"), first_comment="link below")
    result, steps, per_call = drive(adapter, CREDS, request, rsps)
    assert result.part_ids == ("2", "3", "4")
    assert request.progress.landed == {"0": "1", "1": "2", "2": "3", "comment": "4"}
    # two posts per call (the call budget), the rest continues as a step
    assert per_call == [2, 2]
    assert [s.step for s in steps] == ["continue"]


def test_a_part_that_times_out_is_verified_by_find_part_then_the_thread_resumes_after_it(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    # Given the first post succeeds and the second part times out (it did go through)
    rsps.post(TWEETS, status=201, json=created("1"))
    rsps.post(TWEETS, body=requests.ReadTimeout("slow"))
    request = PublishRequest(
        target_id="t", text="1/3", thread=("2/3", "3/3"), not_before=datetime(2025, 5, 1, 9, tzinfo=UTC)
    )
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    assert request.progress.landed == {"0": "1"}
    assert request.progress.sent == {"1"}
    # When publishing again before the part is verified, nothing is sent
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    assert len(rsps.calls) == 2
    # When find_part looks: the account's reply to the root with that text is the part
    rsps.get(
        f"{API}/2/users/2244994945/tweets",
        json={
            "data": [
                {"id": "8", "text": "2/3", "referenced_tweets": [{"type": "replied_to", "id": "999"}]},
                {"id": "2", "text": "2/3", "referenced_tweets": [{"type": "replied_to", "id": "1"}]},
            ]
        },
        match=[
            matchers.query_param_matcher(
                {
                    "max_results": "100",
                    "tweet.fields": "created_at,referenced_tweets",
                    "start_time": "2025-05-01T08:58:00Z",
                }
            )
        ],
    )
    assert adapter.find_part(CREDS, request, "1") == "2"
    request.progress.record("1", "2")
    # Then publishing resumes with 3/3 only, replying to the found part
    rsps.post(
        TWEETS,
        status=201,
        json=created("3"),
        match=[matchers.json_params_matcher({"text": "3/3", "reply": {"in_reply_to_tweet_id": "2"}})],
    )
    result = adapter.publish(CREDS, request)
    assert result == PublishResult(
        platform_post_id="1", url="https://x.com/chorus/status/1", part_ids=("2", "3")
    )
    assert [c.request.method for c in rsps.calls] == ["POST", "POST", "GET", "POST"]


def test_find_part_is_none_until_the_parent_exists_and_for_a_reply_elsewhere(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    request = PublishRequest(target_id="t", text="root", first_comment="more at example.com")
    assert adapter.find_part(CREDS, request, "comment") is None  # no root yet: nothing to look under
    request.progress.record("0", "100")
    rsps.get(
        f"{API}/2/users/2244994945/tweets",
        json={
            "data": [
                {
                    "id": "7",
                    "text": "more at example.com",
                    "referenced_tweets": [{"type": "quoted", "id": "100"}],
                }
            ]
        },
    )
    assert adapter.find_part(CREDS, request, "comment") is None


def test_a_later_part_refused_for_good_is_raised_with_the_landed_parts_kept(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    # Given X refuses part 2 as duplicate content
    rsps.post(TWEETS, status=201, json=created("1"))
    rsps.post(
        TWEETS,
        status=403,
        json=fixture_json("platform_api/replies/x/error_403_duplicate_content_observed.json"),
    )
    request = PublishRequest(target_id="t", text="1/2", thread=("2/2",))
    # Then the refusal is raised (not skipped in silence) and the root stays landed, part 2 unsent
    with pytest.raises(PermanentError, match="duplicate content"):
        adapter.publish(CREDS, request)
    assert request.progress.landed == {"0": "1"}
    assert request.progress.sent == set()


def test_duplicate_content_is_permanent_with_xs_message(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    rsps.post(
        TWEETS,
        status=403,
        json={
            "detail": "You are not allowed to create a Tweet with duplicate content.",
            "type": "about:blank",
            "title": "Forbidden",
            "status": 403,
        },
    )
    with pytest.raises(PermanentError) as caught:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="again"))
    assert caught.value.message == "You are not allowed to create a Tweet with duplicate content."


def test_a_400_carries_the_first_error_message(rsps: responses.RequestsMock, adapter: XPublisher) -> None:
    body = {
        "errors": [{"parameters": {"text": [""]}, "message": "Tweet text is too long."}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    rsps.post(TWEETS, status=400, json=body)
    with pytest.raises(PermanentError, match="Tweet text is too long"):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_401_is_an_auth_error(rsps: responses.RequestsMock, adapter: XPublisher) -> None:
    rsps.post(
        TWEETS,
        status=401,
        json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    )
    with pytest.raises(AuthError):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_429_is_rate_limited_until_x_rate_limit_reset(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    reset = int(time.time()) + 900
    rsps.post(
        TWEETS,
        status=429,
        json={
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        headers={
            "x-rate-limit-limit": "200",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    with pytest.raises(RateLimited) as caught:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))
    assert caught.value.retry_after is not None
    assert 880 < caught.value.retry_after <= 900


def test_503_is_transient_and_a_read_timeout_unknown(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    rsps.post(TWEETS, status=503, json={"title": "Service Unavailable", "detail": "Service Unavailable"})
    with pytest.raises(TransientError):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))
    rsps.post(TWEETS, body=requests.ReadTimeout("slow"))
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x"))


def test_find_published_matches_text_despite_tco_links_and_escaping(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    due = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    rsps.get(
        f"{API}/2/users/2244994945/tweets",
        json={
            "data": [
                {
                    "id": "5",
                    "text": "Fish &amp; chips today! https://t.co/AbCdEf",
                    "created_at": "2025-05-01T09:00:01.000Z",
                }
            ],
            "meta": {"result_count": 1},
        },
        match=[
            matchers.header_matcher(AUTH),
            matchers.query_param_matcher(
                {
                    "max_results": "100",
                    "tweet.fields": "created_at,referenced_tweets",
                    "start_time": "2025-05-01T08:58:00Z",
                }
            ),
        ],
    )
    request = PublishRequest(
        target_id="t", text="Fish & chips today!", link="https://example.com/menu", not_before=due
    )
    assert adapter.find_published(CREDS, request) == PublishResult(
        platform_post_id="5", url="https://x.com/chorus/status/5"
    )


def test_find_published_is_none_for_an_empty_timeline(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    rsps.get(f"{API}/2/users/2244994945/tweets", json={"meta": {"result_count": 0}})
    assert adapter.find_published(CREDS, PublishRequest(target_id="t", text="x")) is None


def test_find_published_reads_a_documented_tweet_object(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    # Given the timeline returns the documented v2 Tweet object (python-twitter test data)
    tweet = fixture_json("metrics/x_v2_tweet_public_metrics.json")
    tweet = tweet.get("data", tweet)
    rsps.get(f"{API}/2/users/2244994945/tweets", json={"data": [tweet]})
    since = datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))
    found = adapter.find_published(CREDS, PublishRequest(target_id="t", text=tweet["text"], not_before=since))
    assert found is not None
    assert found.platform_post_id == tweet["id"]


def test_delete_removes_the_post_and_tolerates_404(rsps: responses.RequestsMock, adapter: XPublisher) -> None:
    rsps.delete(f"{TWEETS}/1", json={"data": {"deleted": True}}, match=[matchers.header_matcher(AUTH)])
    rsps.delete(
        f"{TWEETS}/2", status=404, json={"title": "Not Found Error", "detail": "Could not find tweet"}
    )
    adapter.delete(CREDS, "1")
    adapter.delete(CREDS, "2")
    assert [c.request.method for c in rsps.calls] == ["DELETE", "DELETE"]
    rsps.delete(f"{TWEETS}/3", status=403, json={"title": "Forbidden", "detail": "not yours"})
    with pytest.raises(PermanentError, match="not yours"):
        adapter.delete(CREDS, "3")


def test_find_published_for_a_reply_wants_a_reply_to_that_tweet(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    # Given the same text posted on its own and as a reply to another tweet
    rsps.get(
        f"{API}/2/users/2244994945/tweets",
        json={
            "data": [
                {"id": "31", "text": "Thanks!"},
                {"id": "32", "text": "Thanks!", "referenced_tweets": [{"type": "replied_to", "id": "777"}]},
            ]
        },
    )
    # Then a reply to 777 is found as the reply, not as the tweet with the same text
    found = adapter.find_published(CREDS, PublishRequest(target_id="t", text="Thanks!", reply_to="777"))
    assert found == PublishResult(platform_post_id="32", url="https://x.com/chorus/status/32")


def test_find_published_recognises_a_media_tweet_by_its_text_before_the_media_link(
    rsps: responses.RequestsMock, adapter: XPublisher
) -> None:
    # X's text of a media tweet ends with the media's t.co link (as in the docs' "Live now! https://t.co/...")
    rsps.get(
        f"{API}/2/users/2244994945/tweets",
        json={"data": [{"id": "41", "text": "Live now! https://t.co/9BbWekeWq2"}]},
    )
    media = (MediaItem(url="https://cdn.example/v.mp4", mime_type="video/mp4"),)
    found = adapter.find_published(CREDS, PublishRequest(target_id="t", text="Live now!", media=media))
    assert found is not None
    assert found.platform_post_id == "41"
