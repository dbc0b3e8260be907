"""TikTok business comments against the shapes TikTok API for Business documents (how far each is verified:
chorus.platforms.tiktok.comments). The sample answers below are the ones the python-tiktok SDK's usage
docs quote for ``business/comment/list``, ``business/comment/reply/list`` and ``comment/reply/create``
(sns-sdks/python-tiktok docs/usage/business_account/comment.md), kept as data; the fixtures folder holds
only an UNVERIFIED endpoint summary (replies/tiktok/_endpoints_UNVERIFIED.json), which these tests check
the paths and parameter names against. Polled: the newest videos, each one's newest comments, the newest
create_time as cursor; answered once through ``comment/reply/create`` (a lost answer looked for among the
comment's replies, never sent again blind); the envelope's error codes mapped to retry / defer /
permanent / re-authorise."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.inbox import channels
from chorus.inbox.normalized import MessageKind
from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    PermanentError,
    Progress,
    PublishResult,
    RateLimited,
    TransientError,
)
from chorus.platforms.tiktok.comments import (
    LIST_SCOPE,
    MANAGE_SCOPE,
    TikTokCommentReplies,
    capability,
    fetch_comments,
    message_id,
    parse_comments,
)
from tests.contract.replying import (
    SENT_AT,
    marks,
    replies_fixture,
    reply_request,
    rsps,
    sent_twice_after_a_lost_answer,
)

__all__ = ["rsps"]

BASE = "https://business-api.tiktok.com/open_api/v1.3"
BUSINESS_ID = "-000Vd1h0s0Yf6kOwRMy1OLmmpWAXmJ5ND5Q"
CREDS = AccountCredentials(platform="tiktok", account_id=BUSINESS_ID, access_token="act.business",
                           extra={"scopes": f"user.info.basic,video.list,{LIST_SCOPE},{MANAGE_SCOPE}"})  # fmt: skip
TOKEN = [matchers.header_matcher({"Access-Token": "act.business"})]
VIDEO = "7109065174526479622"
ENDPOINTS = replies_fixture("tiktok/_endpoints_UNVERIFIED.json")

LISTED: dict[str, Any] = {  # business/comment/list, as the SDK's docs quote it
    "code": 0, "message": "OK", "request_id": "20220701072655010002007637004005006003006134680EF",
    "data": {"has_more": False, "cursor": 2, "comments": [
        {"video_id": VIDEO, "liked": False, "pinned": False,
         "user_id": "367b786990e8dcebcf493e035b820f5be4834422511c851b3bd0010f9690adbc", "text": "nice",
         "replies": 11, "username": "phoenix202312121", "status": "PUBLIC", "likes": 0, "create_time": "1655461098",
         "owner": False, "comment_id": "7110150495453840130"},
        {"video_id": VIDEO, "liked": False, "pinned": False,
         "user_id": "6faa870ee45c1f68a2d98d50e09f222a04069380c1032f1919f3ffe25be1f085", "text": "xxxxxxxx",
         "replies": 0, "username": "klein_kunkun", "status": "PUBLIC", "likes": 0, "create_time": "1655870005",
         "owner": False, "comment_id": "7111907185164763905"},
    ]},
}  # fmt: skip
FIRST, SECOND = LISTED["data"]["comments"]
CREATED = {"code": 0, "message": "Ok", "request_id": "20210817034316010245031056097316BA",
           "data": {"comment_id": "6990565363377392901", "video_id": VIDEO, "create_time": 1627617835,
                    "text": "this is a comment"}}  # fmt: skip
ANSWERED = message_id(VIDEO, SECOND["comment_id"])


def envelope(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": "2022070107", "data": {}}


def videos(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/business/video/list/", json={"code": 0, "message": "OK", "request_id": "r",
             "data": {"videos": [{"item_id": VIDEO, "create_time": 1655000000}], "cursor": 1, "has_more": False}},
             match=[*TOKEN, matchers.query_param_matcher({"business_id": BUSINESS_ID, "max_count": "10",
                                                          "fields": json.dumps(["item_id", "create_time"])})])  # fmt: skip


def comments(rsps: responses.RequestsMock, answer: Any = LISTED) -> None:
    rsps.get(f"{BASE}/business/comment/list/", json=answer,
             match=[*TOKEN, matchers.query_param_matcher({"business_id": BUSINESS_ID, "video_id": VIDEO,
                                                          "sort_field": "create_time", "sort_order": "desc",
                                                          "max_count": "30"})])  # fmt: skip


def test_the_paths_and_parameters_are_the_ones_the_endpoint_summary_lists() -> None:
    assert ENDPOINTS["list_comments"]["url"] == f"{BASE}/business/comment/list/"
    assert {"business_id", "video_id", "max_count"} <= set(ENDPOINTS["list_comments"]["query"])
    assert ENDPOINTS["reply"]["url"] == f"{BASE}/business/comment/reply/create/"
    assert set(ENDPOINTS["reply"]["body"]) == {"business_id", "video_id", "comment_id", "text"}
    assert set(ENDPOINTS["reply"]["headers"]) == {"Access-Token", "Content-Type"}


def test_a_first_poll_reads_the_newest_videos_comments_oldest_first(rsps: responses.RequestsMock) -> None:
    videos(rsps)
    comments(rsps, {**LISTED, "data": {**LISTED["data"], "comments": [SECOND, FIRST]}})  # newest first
    items, cursor = fetch_comments(requests.Session(), CREDS, None, BASE)
    assert [i["comment_id"] for i in items] == [FIRST["comment_id"], SECOND["comment_id"]]
    assert cursor == SECOND["create_time"]
    # the token travels in Access-Token, never as a Bearer header nor in the URL
    for c in rsps.calls:
        assert "Authorization" not in c.request.headers
        assert "act.business" not in (c.request.url or "")


def test_a_later_poll_keeps_only_comments_from_the_cursor_on(rsps: responses.RequestsMock) -> None:
    videos(rsps)
    comments(rsps)
    items, cursor = fetch_comments(requests.Session(), CREDS, SECOND["create_time"], BASE)
    assert [i["comment_id"] for i in items] == [SECOND["comment_id"]]
    assert cursor == SECOND["create_time"]


def test_an_account_without_the_comment_scope_is_not_asked_and_says_why(rsps: responses.RequestsMock) -> None:
    creds = AccountCredentials("tiktok", BUSINESS_ID, "act.1", extra={"scopes": "user.info.basic,video.list"})
    assert fetch_comments(requests.Session(), creds, "17", BASE) == ([], "17")
    assert len(rsps.calls) == 0
    why = capability(creds)
    assert why is not None
    assert "comment.list" in why
    assert "business authorisation" in why
    assert "Enable comments" in why
    assert capability(CREDS) is None
    assert capability(CREDS, MANAGE_SCOPE) is None


def test_a_comment_becomes_an_inbox_comment_on_our_video() -> None:
    owned = {**FIRST, "comment_id": "7110150495453840999", "owner": True}
    first, mine = parse_comments([FIRST, owned], BUSINESS_ID).events
    assert (first.platform, first.kind, first.platform_message_id) == (
        "tiktok",
        MessageKind.COMMENT,
        message_id(VIDEO, FIRST["comment_id"]),
    )
    assert (first.conversation_ref, first.post_ref, first.parent_ref) == (VIDEO, VIDEO, VIDEO)
    assert (first.text, first.author_id, first.author_name) == ("nice", FIRST["user_id"], "phoenix202312121")
    assert first.created_at.timestamp() == 1655461098
    assert (first.authored_by_account, mine.authored_by_account) == (False, True)


def test_a_reply_is_the_documented_request_answered_with_the_new_comment_id(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(f"{BASE}/business/comment/reply/create/", json=CREATED,
              match=[*TOKEN, matchers.json_params_matcher({"business_id": BUSINESS_ID, "video_id": VIDEO,
                                                           "comment_id": SECOND["comment_id"],
                                                           "text": "Thanks!"})])  # fmt: skip
    request = reply_request("Thanks!", reply_to=ANSWERED)
    result = TikTokCommentReplies(requests.Session(), BASE).send(CREDS, request)
    new_id = message_id(VIDEO, "6990565363377392901")
    assert result == PublishResult(platform_post_id=new_id)
    assert marks(request) == [("sent", "0"), ("landed", "0", new_id)]


def test_a_lost_reply_answer_is_never_sent_again_blind(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{BASE}/business/comment/reply/create/", body=requests.ReadTimeout("read timed out"))
    sent_twice_after_a_lost_answer(
        TikTokCommentReplies(requests.Session(), BASE), CREDS, rsps, reply_to=ANSWERED
    )


def test_a_lost_reply_is_found_among_the_comments_replies(rsps: responses.RequestsMock) -> None:
    made = int(SENT_AT.timestamp()) + 5
    reply = {"video_id": VIDEO, "comment_id": "7115302925501563650", "parent_comment_id": SECOND["comment_id"],
             "text": "Thanks!", "owner": True, "create_time": str(made), "username": "chorus", "status": "PUBLIC"}  # fmt: skip
    replies = [
        {**reply, "comment_id": "1", "owner": False},  # someone else saying the same
        {**reply, "comment_id": "2", "create_time": "1656660622"},  # ours, but from 2022
        reply,
    ]
    rsps.get(f"{BASE}/business/comment/reply/list/",
             json={"code": 0, "message": "OK", "request_id": "r", "data": {"has_more": False, "cursor": 3,
                                                                             "comments": replies}},
             match=[*TOKEN, matchers.query_param_matcher({"business_id": BUSINESS_ID, "video_id": VIDEO,
                                                          "comment_id": SECOND["comment_id"],
                                                          "sort_field": "create_time", "sort_order": "desc",
                                                          "max_count": "30"})])  # fmt: skip
    found = TikTokCommentReplies(requests.Session(), BASE).find_sent(
        CREDS, reply_request("Thanks!", reply_to=ANSWERED, progress=Progress("k", SENT_AT))
    )
    assert found == PublishResult(platform_post_id=message_id(VIDEO, "7115302925501563650"))


@pytest.mark.parametrize(
    ("code", "error", "wait"),
    [
        (40100, RateLimited, 60.0),  # too frequent: deferred a minute
        (40105, AuthError, None),  # token incorrect or revoked: re-authorise
        (40001, AuthError, None),  # no permission for the scope
        (50002, TransientError, None),  # TikTok busy: retried
        (40002, PermanentError, None),  # a bad parameter: refused for good
    ],
)
def test_the_envelopes_error_codes_are_mapped(
    rsps: responses.RequestsMock, code: int, error: type[Exception], wait: float | None
) -> None:
    rsps.post(f"{BASE}/business/comment/reply/create/", json=envelope(code, "TikTok says no"))
    with pytest.raises(error) as raised:
        TikTokCommentReplies(requests.Session(), BASE).send(CREDS, reply_request("x", reply_to=ANSWERED))
    assert type(raised.value) is error
    assert "TikTok says no" in str(raised.value)
    assert str(code) in str(raised.value)
    if wait is not None:
        assert isinstance(raised.value, RateLimited)
        assert raised.value.retry_after == wait


def test_a_reply_without_the_manage_scope_or_a_comment_is_refused_before_the_network(
    rsps: responses.RequestsMock,
) -> None:
    reader = AccountCredentials("tiktok", BUSINESS_ID, "act.1", extra={"scopes": LIST_SCOPE})
    with pytest.raises(PermanentError, match=r"comment\.list\.manage"):
        TikTokCommentReplies(requests.Session(), BASE).send(reader, reply_request("x", reply_to=ANSWERED))
    with pytest.raises(PermanentError, match="names no comment"):
        TikTokCommentReplies(requests.Session(), BASE).send(CREDS, reply_request("x", reply_to=VIDEO))
    assert len(rsps.calls) == 0


def test_the_tiktok_channel_answers_through_the_comment_replies_within_150_characters() -> None:
    channel = channels.CHANNELS["tiktok"]
    assert (channel.platform, channel.can_reply, channel.max_chars) == ("tiktok", True, 150)
    assert channel.sender == "tiktok.comments:TikTokCommentReplies"


def test_a_later_poll_pages_a_videos_comments_while_they_are_newer_than_the_cursor(
    rsps: responses.RequestsMock,
) -> None:
    def answer(comments: list[dict[str, Any]], cursor: int, more: bool) -> dict[str, Any]:
        return {**LISTED, "data": {"comments": comments, "cursor": cursor, "has_more": more}}

    def at(comment_id: str, created: int) -> dict[str, Any]:
        return {**FIRST, "comment_id": comment_id, "create_time": str(created)}

    base = {"business_id": BUSINESS_ID, "video_id": VIDEO, "sort_field": "create_time", "sort_order": "desc",
            "max_count": "30"}  # fmt: skip
    videos(rsps)
    rsps.get(f"{BASE}/business/comment/list/", json=answer([at("c4", 1004), at("c3", 1003)], 2, True),
             match=[*TOKEN, matchers.query_param_matcher(base)])  # fmt: skip
    rsps.get(f"{BASE}/business/comment/list/", json=answer([at("c2", 1002), at("c1", 999)], 4, True),
             match=[*TOKEN, matchers.query_param_matcher({**base, "cursor": "2"})])  # fmt: skip
    items, cursor = fetch_comments(requests.Session(), CREDS, "1000", BASE)
    # the second page reached back past the cursor: no third page, the older comment left out
    assert [i["comment_id"] for i in items] == ["c2", "c3", "c4"]
    assert cursor == "1004"
    assert len(rsps.calls) == 3


def test_a_first_poll_reads_only_each_videos_newest_page(rsps: responses.RequestsMock) -> None:
    videos(rsps)
    comments(rsps, {**LISTED, "data": {**LISTED["data"], "has_more": True, "cursor": 2}})
    items, _ = fetch_comments(requests.Session(), CREDS, None, BASE)
    assert len(items) == 2
    assert len(rsps.calls) == 2
