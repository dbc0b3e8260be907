"""Facebook replies against Meta's documented requests and answers (fixtures/platform_api/replies/facebook):
a Messenger conversation is answered through the Send API inside its 24-hour window (HUMAN_AGENT only when
configured), a comment with a reply comment; the platform's refusals become clear reasons."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.errors import ValidationFailed
from chorus.inbox import channels
from chorus.platforms.base import AccountCredentials, PermanentError
from chorus.platforms.facebook.publish import FacebookPublisher
from chorus.platforms.meta.messaging import FacebookPrivateReplies, MessengerSender
from chorus.platforms.replies import PublisherReplies
from tests.contract.replying import (
    SENT_AT,
    hours_after,
    marks,
    replies_fixture,
    reply_request,
    rsps,
    sent_twice_after_a_lost_answer,
)

__all__ = ["rsps"]

GRAPH = "https://graph.facebook.com/v21.0"
PAGE = "104000000000001"
PSID = "<PSID>"  # the fixtures' placeholder, sent as it is
CREDS = AccountCredentials(platform="facebook", account_id=PAGE, access_token="page-token")
SEND_API = f"{GRAPH}/{PAGE}/messages"
TOKEN = [matchers.query_param_matcher({"access_token": "page-token"})]
MESSENGER = channels.get("messenger")


@pytest.fixture
def sender() -> MessengerSender:
    return MessengerSender(session=requests.Session(), base_url=GRAPH)


def sent_body(rsps: responses.RequestsMock) -> Any:
    return json.loads(rsps.calls[-1].request.body or b"{}")


def test_a_messenger_reply_is_the_documented_send_api_request(
    rsps: responses.RequestsMock, sender: MessengerSender
) -> None:
    # Given the Send API answers as documented
    rsps.post(SEND_API, json=replies_fixture("facebook/messenger_send_text_response.json"), match=TOKEN)
    request = reply_request("Hello, world!", recipient=PSID)
    # When the reply is sent
    result = sender.send(CREDS, request)
    # Then the body is the documented RESPONSE message to the PSID, the token in the query
    assert sent_body(rsps) == replies_fixture("facebook/messenger_send_text_request.json")
    assert rsps.calls[-1].request.headers["Content-Type"] == "application/json"
    # And the answer's message_id is the reply's platform id, persisted as landed
    assert result.platform_post_id == "AG5Hz2U..."
    assert marks(request) == [("sent", "0"), ("landed", "0", "AG5Hz2U...")]


def test_outside_the_window_a_configured_human_agent_sends_the_tagged_message(
    rsps: responses.RequestsMock, sender: MessengerSender
) -> None:
    # Given the person wrote 30 hours ago and the deployment may use the HUMAN_AGENT tag
    plan = channels.plan_reply(MESSENGER, SENT_AT, hours_after(30), text="hello, world", human_agent=True)
    rsps.post(SEND_API, json={"recipient_id": "1", "message_id": "m_2"}, match=TOKEN)
    # When the reply goes out with the plan's tag
    sender.send(CREDS, reply_request("hello, world", recipient="{PSID}", tag=plan.tag))
    # Then it is the MESSAGE_TAG / HUMAN_AGENT send of the Send API reference
    assert plan.tag == "HUMAN_AGENT"
    assert sent_body(rsps) == replies_fixture("facebook/messenger_send_human_agent_request_ASSEMBLED.json")


@pytest.mark.parametrize(
    ("hours", "human_agent", "why"),
    [
        (24.5, False, "the human-agent tag is not configured"),
        (24 * 7 + 1, True, "the human-agent window has closed too"),
    ],
)
def test_a_messenger_reply_outside_its_window_is_refused_before_the_network(
    hours: float, human_agent: bool, why: str
) -> None:
    # When an agent answers after the window (and the tag cannot help)
    with pytest.raises(ValidationFailed) as refused:
        channels.plan_reply(MESSENGER, SENT_AT, hours_after(hours), text="Sorry!", human_agent=human_agent)
    # Then the refusal names the window, when it closed and why the tag does not apply
    error = refused.value.errors[0]
    assert (refused.value.status, error.field, error.rule) == (422, "text", "reply_window")
    assert "within 24 h of the person's last message" in error.message
    assert "2026-12-07T12:00:00Z" in error.message
    assert why in error.message


def test_inside_the_window_the_reply_is_a_plain_response() -> None:
    assert channels.plan_reply(MESSENGER, SENT_AT, hours_after(23.9), text="Hi") == channels.ReplyPlan()


def test_a_messenger_text_over_2000_characters_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        channels.plan_reply(MESSENGER, SENT_AT, hours_after(1), text="x" * 2001)
    assert refused.value.errors[0].rule == "max_length"


@pytest.mark.parametrize(
    "fixture",
    [
        "facebook/messenger_send_window_error_ASSEMBLED.json",
        "facebook/messenger_send_window_error_observed_wire.json",
    ],
)
def test_the_platforms_window_refusal_is_a_clear_permanent_reason(
    rsps: responses.RequestsMock, sender: MessengerSender, fixture: str
) -> None:
    # Given the Send API refuses the message as outside the allowed window (code 10 / 2018278)
    rsps.post(SEND_API, status=400, json=replies_fixture(fixture))
    request = reply_request("Late answer", recipient=PSID)
    # When the reply is sent
    with pytest.raises(PermanentError) as refused:
        sender.send(CREDS, request)
    # Then the reason says the window, with Meta's own words; the sent mark is cleared (nothing went out)
    assert "outside the allowed messaging window" in refused.value.message
    assert "This message is sent outside of allowed window" in refused.value.message
    assert marks(request) == [("sent", "0"), ("unsent", "0")]


def test_a_person_who_cannot_receive_is_a_permanent_refusal(
    rsps: responses.RequestsMock, sender: MessengerSender
) -> None:
    row = next(
        r for r in replies_fixture("facebook/messenger_error_codes_docs.json")["rows"] if r["code"] == 551
    )
    rsps.post(SEND_API, status=400, json={"error": {"message": row["message"], "type": "OAuthException",
                                                    "code": 551, "fbtrace_id": "F"}})  # fmt: skip
    with pytest.raises(PermanentError) as refused:
        sender.send(CREDS, reply_request("Hi", recipient=PSID))
    assert refused.value.message == f"Messenger refused the reply: {row['message']}"


def test_a_lost_answer_is_unknown_and_never_sent_again(
    rsps: responses.RequestsMock, sender: MessengerSender
) -> None:
    # Given the Send API takes the message but the answer is lost
    rsps.post(SEND_API, body=requests.ConnectionError("Connection reset by peer"))
    # When it is tried again with the same (persisted) progress, then no second request leaves: the
    # Send API has no lookup, so the reply is not sent blind
    sent_twice_after_a_lost_answer(sender, CREDS, rsps, recipient=PSID)
    assert sender.verifiable is False


def test_a_comment_is_answered_with_a_reply_comment_not_a_message(rsps: responses.RequestsMock) -> None:
    # Given a comment conversation: its channel answers through the Page's publishing adapter
    comment = channels.get("facebook.comment")
    created = replies_fixture("facebook/comment_create_response_with_fields_pyfacebook.json")
    rsps.post(f"{GRAPH}/{created['id']}/comments", json={"id": "245778718206154_229887283291836"},
              match=[matchers.urlencoded_params_matcher({"message": "Thanks!", "access_token": "page-token"})])  # fmt: skip
    replier = PublisherReplies(FacebookPublisher(session=requests.Session(), base_url=GRAPH))
    # When the reply is sent
    result = replier.send(CREDS, reply_request("Thanks!", reply_to=created["id"]))
    # Then it is one POST /{comment-id}/comments: never the Send API
    assert comment.sender == channels.PUBLISHER
    assert "/{comment-id}/comments" in (comment.reply_via or "")
    assert result.platform_post_id == "245778718206154_229887283291836"
    assert [c.request.url.split("?")[0] for c in rsps.calls] == [f"{GRAPH}/{created['id']}/comments"]


def test_a_private_reply_to_a_commenter_is_a_send_api_message_to_the_comment(
    rsps: responses.RequestsMock,
) -> None:
    # Given the documented private-reply shape (recipient names the comment, no messaging_type)
    documented = replies_fixture("facebook/private_reply_post_request_docs.json")
    rsps.post(SEND_API, json={"recipient_id": "PSID", "message_id": "m_private"}, match=TOKEN)
    sender = FacebookPrivateReplies(session=requests.Session(), base_url=GRAPH)
    # When a private reply answers comment 245778718206154_229887283291835
    result = sender.send(
        CREDS, reply_request("Of course, what is your budget?", reply_to="245778718206154_229887283291835")
    )
    # Then the body names the comment as recipient and carries the text
    body = sent_body(rsps)
    assert set(body) == set(documented) == {"recipient", "message"}
    assert body == {"recipient": {"comment_id": "245778718206154_229887283291835"},
                    "message": {"text": "Of course, what is your budget?"}}  # fmt: skip
    assert result.platform_post_id == "m_private"


def test_a_comment_invalid_for_a_private_reply_is_a_clear_refusal(rsps: responses.RequestsMock) -> None:
    row = next(
        r
        for r in replies_fixture("facebook/messenger_error_codes_docs.json")["rows"]
        if r["subcode"] == 2534025
    )
    rsps.post(SEND_API, status=400, json={"error": {"message": row["message"], "type": "OAuthException",
                                                    "code": 100, "error_subcode": 2534025, "fbtrace_id": "F"}})  # fmt: skip
    sender = FacebookPrivateReplies(session=requests.Session(), base_url=GRAPH)
    with pytest.raises(PermanentError) as refused:
        sender.send(CREDS, reply_request("Hi", reply_to="1_2"))
    assert (
        refused.value.message
        == "Facebook private replies refused the reply: The comment is invalid for a private reply"
    )


@pytest.mark.parametrize(("days", "allowed"), [(6.9, True), (7.1, False)])
def test_a_private_reply_is_allowed_within_7_days_of_the_comment(days: float, allowed: bool) -> None:
    comment = channels.get("facebook.comment")
    if allowed:
        channels.plan_private(comment, SENT_AT, hours_after(24 * days))
        return
    with pytest.raises(ValidationFailed) as refused:
        channels.plan_private(comment, SENT_AT, hours_after(24 * days))
    assert (refused.value.errors[0].field, refused.value.errors[0].rule) == ("private", "reply_window")
    assert "within 7 days of the comment" in refused.value.errors[0].message


def test_messenger_has_no_private_replies_of_its_own() -> None:
    with pytest.raises(ValidationFailed) as refused:
        channels.plan_private(MESSENGER, SENT_AT, hours_after(1))
    assert refused.value.errors[0].rule == "not_supported"
