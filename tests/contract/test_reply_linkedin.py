"""LinkedIn replies against the Comments API as documented (fixtures/platform_api/replies/linkedin): the
docs publish the endpoint, headers and body fields but no sample body, so requests are checked against
that field list and answers are built from it (201 with the comment's URN in ``x-restli-id``)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import requests
import responses

from chorus.inbox import channels
from chorus.platforms.base import AccountCredentials, PermanentError, UnknownOutcome
from chorus.platforms.linkedin.oauth import API_VERSION
from chorus.platforms.linkedin.replies import LinkedInCommentReplies, addressed
from tests.contract.replying import (
    SENT_AT,
    marks,
    replies_fixture,
    reply_request,
    rsps,
    sent_twice_after_a_lost_answer,
)

__all__ = ["rsps"]

API = "https://api.linkedin.com"
ORG_ID = "2414183"
ORG = f"urn:li:organization:{ORG_ID}"
CREDS = AccountCredentials(platform="linkedin", account_id=ORG, access_token="li-token")
POST = "urn:li:activity:7123456789012345678"
COMMENT = f"urn:li:comment:({POST},7123999999999999999)"
DOCS = replies_fixture("linkedin/_endpoints_docs_only.json")
COMMENTS_OF_COMMENT = f"{API}/rest/socialActions/{quote(COMMENT, safe='')}/comments"
NEW = f"urn:li:comment:({POST},7124000000000000001)"


@pytest.fixture
def sender() -> LinkedInCommentReplies:
    return LinkedInCommentReplies(session=requests.Session(), base_url=API)


def test_the_documented_endpoint_headers_and_fields() -> None:
    create = DOCS["create_comment"]
    assert (create["method"], create["url"]) == (
        "POST", "https://api.linkedin.com/rest/socialActions/{shareUrn|ugcPostUrn|commentUrn}/comments",
    )  # fmt: skip
    assert {f.split(" ")[0] for f in create["body_fields"]} == {
        "actor",
        "object",
        "message.text",
        "parentComment",
    }
    assert set(DOCS["list_comments"]["headers"]) == {
        "Authorization",
        "LinkedIn-Version",
        "X-Restli-Protocol-Version",
    }
    assert "x-restli-id" in create["success"]


def test_a_reply_to_a_comment_is_nested_under_it_on_its_post(
    rsps: responses.RequestsMock, sender: LinkedInCommentReplies
) -> None:
    rsps.post(COMMENTS_OF_COMMENT, status=201, headers={"x-restli-id": NEW})
    request = reply_request("Thanks for the kind words!", reply_to=COMMENT)
    result = sender.send(CREDS, request)
    sent = rsps.calls[0].request
    assert json.loads(sent.body) == {
        "actor": ORG,
        "object": POST,
        "message": {"text": "Thanks for the kind words!"},
        "parentComment": COMMENT,
    }
    assert sent.headers["LinkedIn-Version"] == API_VERSION
    assert sent.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert sent.headers["Authorization"] == "Bearer li-token"
    assert result.platform_post_id == NEW
    assert marks(request) == [("sent", "0"), ("landed", "0", NEW)]


def test_a_reply_to_a_post_comments_on_the_post() -> None:
    assert addressed(POST) == (POST, POST, None)
    assert addressed(COMMENT) == (COMMENT, POST, COMMENT)
    with pytest.raises(PermanentError):
        addressed("12345")


def test_a_201_without_the_id_is_an_unknown_outcome_and_never_sent_blind_again(
    rsps: responses.RequestsMock, sender: LinkedInCommentReplies
) -> None:
    rsps.post(COMMENTS_OF_COMMENT, status=201)
    sent_twice_after_a_lost_answer(sender, CREDS, rsps, reply_to=COMMENT)
    with pytest.raises(UnknownOutcome):
        sender.send(CREDS, reply_request("x", reply_to=COMMENT))


def test_a_lost_reply_is_found_among_the_comments_by_actor_text_and_time(
    rsps: responses.RequestsMock, sender: LinkedInCommentReplies
) -> None:
    ms = int(SENT_AT.timestamp() * 1000)
    rsps.get(COMMENTS_OF_COMMENT, json={"elements": [
        {"actor": ORG, "commentUrn": "urn:li:comment:(x,old)", "message": {"text": "Once"}, "created": {"time": ms - 3_600_000}},
        {"actor": "urn:li:person:someone", "commentUrn": "urn:li:comment:(x,theirs)", "message": {"text": "Once"}, "created": {"time": ms + 1000}},
        {"actor": ORG, "commentUrn": NEW, "message": {"text": "Once"}, "created": {"time": ms + 2000}},
    ]})  # fmt: skip
    found = sender.find_sent(CREDS, reply_request("Once", reply_to=COMMENT))
    assert found is not None
    assert found.platform_post_id == NEW
    rsps.replace(responses.GET, COMMENTS_OF_COMMENT, json={"elements": []})
    assert sender.find_sent(CREDS, reply_request("Once", reply_to=COMMENT)) is None


def test_linkedin_errors_are_refusals_with_the_reason(
    rsps: responses.RequestsMock, sender: LinkedInCommentReplies
) -> None:
    rsps.post(COMMENTS_OF_COMMENT, status=403, json={"message": "Not enough permissions to access: partnerApiSocialActions.CREATE", "serviceErrorCode": 100, "status": 403})  # fmt: skip
    with pytest.raises(PermanentError) as refused:
        sender.send(CREDS, reply_request("Hi", reply_to=COMMENT))
    assert "Not enough permissions" in refused.value.message


def test_the_channel_replies_through_this_sender() -> None:
    channel = channels.get("linkedin")
    assert channel.can_reply
    assert channel.sender == "linkedin.replies:LinkedInCommentReplies"
