"""X replies against recorded requests and answers (fixtures/platform_api/replies/x): a direct message goes
to ``POST /2/dm_conversations/with/{participant_id}/messages`` (201 ``data.dm_event_id``, also read without
the ``data`` wrapper of the docs example); a mention is answered with a reply post, never a DM."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from chorus.inbox import channels
from chorus.platforms.base import AccountCredentials, PermanentError
from chorus.platforms.replies import PublisherReplies
from chorus.platforms.x.dm import XDirectSender
from chorus.platforms.x.publish import XPublisher
from tests.contract.replying import (
    marks,
    replies_fixture,
    reply_request,
    rsps,
    sent_twice_after_a_lost_answer,
)

__all__ = ["rsps"]

API = "https://api.x.com"
PARTICIPANT = "1072250532645998596"
DM = f"{API}/2/dm_conversations/with/{PARTICIPANT}/messages"
CREDS = AccountCredentials(
    platform="x", account_id="750362064426721281", access_token="user-token", handle="chorus"
)


@pytest.fixture
def sender() -> XDirectSender:
    return XDirectSender(session=requests.Session(), base_url=API)


def test_a_direct_message_is_the_recorded_request_and_answer(
    rsps: responses.RequestsMock, sender: XDirectSender
) -> None:
    request_body = replies_fixture("x/dm_send_by_participant_request_tweepy.json")
    rsps.post(DM, status=201, json=replies_fixture("x/dm_send_by_participant_response_201_tweepy.json"))
    request = reply_request(request_body["text"], recipient=PARTICIPANT)
    result = sender.send(CREDS, request)
    sent = rsps.calls[0].request
    assert json.loads(sent.body or b"{}") == request_body
    assert sent.headers["Authorization"] == "Bearer user-token"
    assert result.platform_post_id == "1585800613253812228"
    assert marks(request) == [("sent", "0"), ("landed", "0", "1585800613253812228")]


def test_the_docs_answer_without_a_data_wrapper_is_read_too(
    rsps: responses.RequestsMock, sender: XDirectSender
) -> None:
    rsps.post(DM, status=201, json=replies_fixture("x/dm_send_response_docs_NO_DATA_ENVELOPE.json"))
    assert sender.send(CREDS, reply_request("Hi", recipient=PARTICIPANT)).platform_post_id == "128341038123"


def test_a_refused_direct_message_says_why(rsps: responses.RequestsMock, sender: XDirectSender) -> None:
    rsps.post(DM, status=403, json={"detail": "You cannot send messages to this user.", "type": "about:blank",
                                    "title": "Forbidden", "status": 403})  # fmt: skip
    request = reply_request("Hi", recipient=PARTICIPANT)
    with pytest.raises(PermanentError) as refused:
        sender.send(CREDS, request)
    assert "X refused the direct message" in refused.value.message
    assert "You cannot send messages to this user." in refused.value.message
    assert marks(request) == [("sent", "0"), ("unsent", "0")]


def test_a_lost_answer_is_never_sent_again(rsps: responses.RequestsMock, sender: XDirectSender) -> None:
    rsps.post(DM, body=requests.ReadTimeout("read timed out"))
    sent_twice_after_a_lost_answer(sender, CREDS, rsps, recipient=PARTICIPANT)
    assert sender.verifiable is False


def test_a_mention_is_answered_with_a_reply_post(rsps: responses.RequestsMock) -> None:
    # Given a mention conversation: its channel answers through the publishing adapter with reply_to
    channel = channels.get(channels.name_for("x", "mention"))
    rsps.post(f"{API}/2/tweets", status=201, json=replies_fixture("x/tweet_create_response_201_tweepy.json"))
    replier = PublisherReplies(XPublisher(session=requests.Session(), base_url=API))
    # When the reply is sent
    result = replier.send(CREDS, reply_request("Test Tweet", reply_to="1346889436626259968"))
    # Then it is a post whose reply.in_reply_to_tweet_id is the mention (the documented field placement)
    body = json.loads(rsps.calls[0].request.body or b"{}")
    documented = replies_fixture("x/tweet_create_reply_request_openapi_example.json")
    assert body["reply"]["in_reply_to_tweet_id"] == documented["reply"]["in_reply_to_tweet_id"]
    assert body["text"] == "Test Tweet"
    assert (channel.name, channel.sender) == ("x.post", channels.PUBLISHER)
    assert result.platform_post_id == "1456012973835788293"
