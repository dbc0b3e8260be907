"""Instagram replies against Meta's documented requests and answers (fixtures/platform_api/replies/instagram):
a comment is answered with ``POST /{ig-comment-id}/replies`` (``message`` as a parameter, not JSON) and looked
for in ``GET /{ig-comment-id}/replies`` after a lost answer; a direct message goes through the linked Page's
messaging endpoint within 24 hours, at most 1000 bytes."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from responses import matchers

from chorus.errors import ValidationFailed
from chorus.inbox import channels
from chorus.platforms.base import AccountCredentials, PermanentError
from chorus.platforms.instagram.replies import InstagramCommentReplies
from chorus.platforms.meta.messaging import InstagramDirectSender, InstagramPrivateReplies
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
IG_USER = "17841400008460056"
PAGE = "104000000000001"
CREDS = AccountCredentials(platform="instagram", account_id=IG_USER, access_token="page-token",
                           extra={"page_id": PAGE})  # fmt: skip
WRAPPED = replies_fixture("instagram/ig_comment_reply_request_docs_WRAPPED.json")
COMMENT = WRAPPED["path"].split("/")[1]  # 17870913679156914
REPLIES = f"{GRAPH}/{COMMENT}/replies"


@pytest.fixture
def comments() -> InstagramCommentReplies:
    return InstagramCommentReplies(session=requests.Session(), base_url=GRAPH)


@pytest.fixture
def direct() -> InstagramDirectSender:
    return InstagramDirectSender(session=requests.Session(), base_url=GRAPH)


def test_a_comment_reply_is_the_documented_replies_request(
    rsps: responses.RequestsMock, comments: InstagramCommentReplies
) -> None:
    # Given the replies edge answers as documented
    rsps.post(REPLIES, json=replies_fixture("instagram/ig_comment_reply_response_docs.json"),
              match=[matchers.urlencoded_params_matcher({**WRAPPED["query"], "access_token": "page-token"})])  # fmt: skip
    request = reply_request(WRAPPED["query"]["message"], reply_to=COMMENT)
    # When the reply is sent
    result = comments.send(CREDS, request)
    # Then it was POST /{ig-comment-id}/replies with message=*sniff*, and the new reply's id came back
    assert result.platform_post_id == "17873440459141021"
    assert marks(request) == [("sent", "0"), ("landed", "0", "17873440459141021")]


def test_a_comment_reply_whose_answer_was_lost_is_found_among_the_replies(
    rsps: responses.RequestsMock, comments: InstagramCommentReplies
) -> None:
    # Given the recorded listing of a comment's replies (pyfacebook's fixture), one of them ours
    listing = replies_fixture("instagram/ig_comment_replies_list_response_pyfacebook.json")
    ours = listing["data"][0]
    rsps.get(REPLIES, json=listing)
    request = reply_request(ours["text"], reply_to=COMMENT)
    object.__setattr__(request, "not_before", SENT_AT.replace(year=2020, month=8, day=7, hour=3, minute=29))
    # When the replier looks for it
    found = comments.find_sent(CREDS, request)
    # Then the reply with that text, made since the reply was queued, is the one
    assert found is not None
    assert found.platform_post_id == ours["id"]
    assert rsps.calls[0].request.params["fields"] == "id,text,timestamp"


def test_an_older_reply_with_the_same_text_is_not_taken_for_ours(
    rsps: responses.RequestsMock, comments: InstagramCommentReplies
) -> None:
    listing = replies_fixture("instagram/ig_comment_replies_list_response_pyfacebook.json")
    rsps.get(REPLIES, json=listing)
    assert comments.find_sent(CREDS, reply_request(listing["data"][0]["text"], reply_to=COMMENT)) is None


def test_a_comment_reply_timed_out_is_verified_not_resent(
    rsps: responses.RequestsMock, comments: InstagramCommentReplies
) -> None:
    rsps.post(REPLIES, body=requests.ReadTimeout("read timed out"))
    sent_twice_after_a_lost_answer(comments, CREDS, rsps, reply_to=COMMENT)
    assert comments.verifiable is True


def test_a_direct_message_is_the_documented_messaging_request_on_the_linked_page(
    rsps: responses.RequestsMock, direct: InstagramDirectSender
) -> None:
    documented = replies_fixture("instagram/messaging_send_text_request_docs.json")
    rsps.post(f"{GRAPH}/{PAGE}/messages", json=replies_fixture("instagram/messaging_send_response_docs.json"),
              match=[matchers.query_param_matcher({"access_token": "page-token"})])  # fmt: skip
    result = direct.send(
        CREDS, reply_request(documented["message"]["text"], recipient=documented["recipient"]["id"])
    )
    assert json.loads(rsps.calls[0].request.body or b"{}") == documented
    assert result.platform_post_id == "MESSAGE-ID"


def test_a_tagged_direct_message_has_the_tag_and_no_messaging_type(
    rsps: responses.RequestsMock, direct: InstagramDirectSender
) -> None:
    documented = replies_fixture("instagram/messaging_send_human_agent_request_postman.json")
    rsps.post(f"{GRAPH}/{PAGE}/messages", json={"recipient_id": "1", "message_id": "m"})
    direct.send(CREDS, reply_request(documented["message"]["text"], recipient=documented["recipient"]["id"],
                                     tag="HUMAN_AGENT"))  # fmt: skip
    assert json.loads(rsps.calls[0].request.body or b"{}") == documented


def test_the_platforms_window_refusal_is_a_clear_reason(
    rsps: responses.RequestsMock, direct: InstagramDirectSender
) -> None:
    rsps.post(f"{GRAPH}/{PAGE}/messages", status=400,
              json=replies_fixture("instagram/messaging_window_error_ASSEMBLED.json"))  # fmt: skip
    with pytest.raises(PermanentError) as refused:
        direct.send(CREDS, reply_request("Late", recipient="IGSID"))
    assert refused.value.message.startswith("Instagram messaging refused the reply: outside the allowed")


def test_instagram_dm_rules_window_and_bytes_are_refused_before_the_network() -> None:
    dm = channels.get("instagram.dm")
    with pytest.raises(ValidationFailed) as late:
        channels.plan_reply(dm, SENT_AT, hours_after(25), text="Hi")
    with pytest.raises(ValidationFailed) as long:
        channels.plan_reply(dm, SENT_AT, hours_after(1), text="é" * 501)  # 1002 bytes, 501 characters
    assert late.value.errors[0].rule == "reply_window"
    assert long.value.errors[0].rule == "max_length"
    assert "1000 bytes" in long.value.errors[0].message
    assert channels.plan_reply(dm, SENT_AT, hours_after(1), text="é" * 500) == channels.ReplyPlan()


def test_a_mention_says_before_anyone_types_that_it_cannot_be_answered() -> None:
    mention = channels.get(channels.name_for("instagram", "mention"))
    with pytest.raises(ValidationFailed) as refused:
        channels.plan_reply(mention, SENT_AT, hours_after(1), text="Thanks!")
    assert mention.reply_via is None
    assert refused.value.errors[0].rule == "reply_unsupported"


def test_a_private_reply_is_the_documented_request_on_the_accounts_own_id(
    rsps: responses.RequestsMock,
) -> None:
    documented = replies_fixture("instagram/private_reply_request_docs.json")
    rsps.post(f"{GRAPH}/{IG_USER}/messages", json=replies_fixture("instagram/private_reply_response_docs.json"),
              match=[matchers.query_param_matcher({"access_token": "page-token"})])  # fmt: skip
    sender = InstagramPrivateReplies(session=requests.Session(), base_url=GRAPH)
    result = sender.send(
        CREDS, reply_request(documented["message"]["text"], reply_to=documented["recipient"]["comment_id"])
    )
    assert json.loads(rsps.calls[0].request.body or b"{}") == documented
    assert result.platform_post_id == "aWdfZ..."
