"""Threads replies from the inbox against Meta's documented requests and answers
(fixtures/platform_api/publishing/threads): a TEXT container with ``reply_to_id``, its status, then
``threads_publish`` through the reply's persisted progress; a container not ready is tried again later, an
ERROR container fails with Threads' reason, a lost publish answer is never sent again blind and is looked
for among the answered post's replies (by the account, same text, since the reply was queued)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.inbox import channels
from chorus.platforms.base import PermanentError, Progress, PublishResult, TransientError, UnknownOutcome
from chorus.platforms.threads.publish import POLL_DELAY_SECONDS, ThreadsPublisher
from chorus.platforms.threads.replies import ThreadsReplies
from tests.contract.replying import SENT_AT, marks, reply_request, rsps
from tests.contract.test_publish_threads import API, CREDS, TOKEN, USER, doc

__all__ = ["rsps"]

ANSWERED = "18050206876707110"  # the reply (or mention) the inbox answers


def sender() -> ThreadsReplies:
    return ThreadsReplies(ThreadsPublisher(session=requests.Session()))


def container(rsps: responses.RequestsMock, text: str, status: dict[str, Any]) -> str:
    made = doc("container_create_response.json")["id"]
    rsps.post(f"{API}/{USER}/threads", json={"id": made},
              match=[matchers.urlencoded_params_matcher({"media_type": "TEXT", "text": text,
                                                         "reply_to_id": ANSWERED, **TOKEN})])  # fmt: skip
    rsps.get(f"{API}/{made}", json={**status, "id": made},
             match=[matchers.query_param_matcher({"fields": "status,error_message", **TOKEN})])  # fmt: skip
    return str(made)


def test_a_reply_is_a_text_container_answering_the_post_then_published(rsps: responses.RequestsMock) -> None:
    made = container(rsps, "Thanks for the kind words!", doc("container_status_finished.json"))
    rsps.post(f"{API}/{USER}/threads_publish", json={"id": "18060000000000001"},
              match=[matchers.urlencoded_params_matcher({"creation_id": made, **TOKEN})])  # fmt: skip
    request = reply_request("Thanks for the kind words!", reply_to=ANSWERED)
    result = sender().send(CREDS, request)
    assert result == PublishResult(platform_post_id="18060000000000001")
    # only the publish is a part: the container is invisible until published, safe to make again
    assert marks(request) == [("sent", "0"), ("landed", "0", "18060000000000001")]


def test_a_container_still_in_progress_is_tried_again_later_with_nothing_published(
    rsps: responses.RequestsMock,
) -> None:
    container(rsps, "Soon", {"status": "IN_PROGRESS"})
    request = reply_request("Soon", reply_to=ANSWERED)
    with pytest.raises(TransientError) as raised:
        sender().send(CREDS, request)
    assert raised.value.retry_after == POLL_DELAY_SECONDS
    assert marks(request) == []


def test_an_error_container_fails_the_reply_with_threads_reason(rsps: responses.RequestsMock) -> None:
    container(rsps, "Broken", doc("container_status_error.json"))
    with pytest.raises(PermanentError, match="FAILED_DOWNLOADING_VIDEO"):
        sender().send(CREDS, reply_request("Broken", reply_to=ANSWERED))


def test_a_lost_publish_answer_is_never_sent_again_blind(rsps: responses.RequestsMock) -> None:
    container(rsps, "Once", doc("container_status_finished.json"))
    rsps.post(f"{API}/{USER}/threads_publish", body=requests.ReadTimeout("read timed out"))
    progress = Progress("idem-key-1", SENT_AT)
    for _ in range(2):
        with pytest.raises(UnknownOutcome):
            sender().send(CREDS, reply_request("Once", reply_to=ANSWERED, progress=progress))
    # one container, one publish: the second attempt made nothing
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "POST"]


def test_a_lost_publish_is_found_among_the_answered_posts_replies(rsps: responses.RequestsMock) -> None:
    stamp = SENT_AT.strftime("%Y-%m-%dT%H:%M:%S+0000")
    rsps.get(f"{API}/{ANSWERED}/replies", json={"data": [
        {"id": "r0", "text": "We are on it", "username": "someone", "timestamp": stamp},
        {"id": "r1", "text": "We are on it", "username": "chorus", "timestamp": "2020-01-01T00:00:00+0000"},
        {"id": "r2", "text": "We are on it", "username": "chorus", "timestamp": stamp,
         "permalink": "https://www.threads.net/@chorus/post/r2"},
    ]}, match=[matchers.query_param_matcher({"fields": "id,text,username,permalink,timestamp", **TOKEN})])  # fmt: skip
    found = sender().find_sent(CREDS, reply_request("We are on it", reply_to=ANSWERED))
    assert found == PublishResult(platform_post_id="r2", url="https://www.threads.net/@chorus/post/r2")


def test_a_reply_naming_nothing_to_answer_is_refused_before_the_network(rsps: responses.RequestsMock) -> None:
    with pytest.raises(PermanentError, match="names no post"):
        sender().send(CREDS, reply_request("x"))
    assert len(rsps.calls) == 0


def test_the_threads_channel_replies_within_500_characters() -> None:
    channel = channels.CHANNELS["threads"]
    assert (channel.can_reply, channel.max_chars, channel.sender) == (
        True,
        500,
        "threads.replies:ThreadsReplies",
    )
