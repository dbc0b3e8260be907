"""Douyin comments (enterprise accounts) against the SKIT samples (fixtures/platform_api/china/douyin):
the video list and each video's comment list polled with the newest create_time as cursor, comments
normalised for the inbox, and replies through ``item/comment/reply`` exactly once (persisted progress; a
lost answer verified on ``item/comment/reply/list``, never sent again blind)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.inbox import channels
from chorus.inbox.normalized import MessageKind
from chorus.platforms.base import AccountCredentials, PermanentError, Progress, PublishResult
from chorus.platforms.douyin.comments import DouyinCommentReplies, fetch_comments, message_id, parse_comments
from tests.contract.replying import SENT_AT, marks, reply_request, sent_twice_after_a_lost_answer
from tests.support import fixture_json

BASE = "https://open.douyin.com"
OPEN_ID = "aaa-bbb-ccc"
CREDS = AccountCredentials(platform="douyin", account_id=OPEN_ID, access_token="act.1",
                           extra={"scopes": "user_info,video.create.bind,item.comment"})  # fmt: skip
TOKEN = [matchers.header_matcher({"access-token": "act.1"})]
ITEM = "@9VwU1/6eU81pLGf2dN8sVs783WLuOfuHMpF2rQOnJ1IabPL160zdRmYqig357zEBKyL9WocdMdrCOprI6YdFZg=="


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/china/douyin/{name}")


LISTED = doc("item_comment_list_response_skit.json")
COMMENT = LISTED["data"]["list"][0]
ANSWERED = message_id(ITEM, COMMENT["comment_id"])


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def videos(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/douyin/v1/video/video_list/",
             json={"data": {"list": [{"item_id": ITEM}], "has_more": False, "cursor": 0}, "extra": {"error_code": 0}},
             match=[*TOKEN, matchers.query_param_matcher({"open_id": OPEN_ID, "cursor": "0", "count": "10"})])  # fmt: skip


def comments(rsps: responses.RequestsMock, answer: Any = LISTED) -> None:
    rsps.get(f"{BASE}/item/comment/list/", json=answer,
             match=[*TOKEN, matchers.query_param_matcher({"open_id": OPEN_ID, "item_id": ITEM, "cursor": "0",
                                                          "count": "20", "sort_type": "time"})])  # fmt: skip


def test_a_first_poll_reads_the_newest_comments_and_keeps_their_time_as_the_cursor(
    rsps: responses.RequestsMock,
) -> None:
    videos(rsps)
    comments(rsps)
    items, cursor = fetch_comments(requests.Session(), CREDS, None)
    assert items == [{"item_id": ITEM, "comment": COMMENT}]
    assert cursor == str(COMMENT["create_time"])
    # the item id travelled URL-encoded
    asked = next(c.request.url for c in rsps.calls if "/item/comment/list/" in (c.request.url or ""))
    assert "item_id=%409VwU1%2F6eU81" in (asked or "")


def test_a_later_poll_keeps_only_comments_from_the_cursor_on(rsps: responses.RequestsMock) -> None:
    videos(rsps)
    older = {**COMMENT, "comment_id": "@old", "create_time": COMMENT["create_time"] - 60}
    comments(rsps, {**LISTED, "data": {**LISTED["data"], "list": [COMMENT, older]}})
    items, cursor = fetch_comments(requests.Session(), CREDS, str(COMMENT["create_time"]))
    assert [i["comment"]["comment_id"] for i in items] == [COMMENT["comment_id"]]
    assert cursor == str(COMMENT["create_time"])


def test_an_account_without_the_comment_scope_is_not_asked(rsps: responses.RequestsMock) -> None:
    creds = AccountCredentials("douyin", OPEN_ID, "act.1", extra={"scopes": "user_info,video.create.bind"})
    assert fetch_comments(requests.Session(), creds, "17") == ([], "17")


def test_a_comment_becomes_an_inbox_comment_on_our_video() -> None:
    (event,) = parse_comments([{"item_id": ITEM, "comment": COMMENT}], OPEN_ID).events
    assert (event.platform, event.kind, event.platform_message_id) == (
        "douyin",
        MessageKind.COMMENT,
        ANSWERED,
    )
    assert (event.conversation_ref, event.post_ref, event.parent_ref) == (ITEM, ITEM, ITEM)
    assert (event.text, event.author_id, event.author_name) == (
        "评论",
        COMMENT["comment_user_id"],
        "xiaoming",
    )
    assert event.created_at.timestamp() == COMMENT["create_time"]


def test_a_reply_is_the_documented_request_answered_with_the_new_comment_id(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(f"{BASE}/item/comment/reply/", json=doc("item_comment_reply_response_skit.json"),
              match=[*TOKEN, matchers.query_param_matcher({"open_id": OPEN_ID}), matchers.json_params_matcher(
                  {"item_id": ITEM, "comment_id": COMMENT["comment_id"], "content": "谢谢支持"})])  # fmt: skip
    request = reply_request("谢谢支持", reply_to=ANSWERED)
    result = DouyinCommentReplies(requests.Session()).send(CREDS, request)
    assert result == PublishResult(platform_post_id=message_id(ITEM, "11"))
    assert marks(request) == [("sent", "0"), ("landed", "0", message_id(ITEM, "11"))]


def test_a_lost_reply_answer_is_never_sent_again_blind(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{BASE}/item/comment/reply/", body=requests.ReadTimeout("read timed out"))
    sent_twice_after_a_lost_answer(DouyinCommentReplies(requests.Session()), CREDS, rsps, reply_to=ANSWERED)


def test_a_lost_reply_is_found_among_the_comments_replies(rsps: responses.RequestsMock) -> None:
    sample = doc("item_comment_reply_list_response_skit.json")
    made = int((SENT_AT + timedelta(seconds=5)).timestamp())
    replies = [
        {**sample["data"]["list"][0], "comment_id": "@r1", "content": "谢谢支持", "create_time": made},
        {**sample["data"]["list"][0], "comment_id": "@old", "content": "谢谢支持"},
    ]  # 2020: before
    rsps.get(f"{BASE}/item/comment/reply/list/", json={**sample, "data": {**sample["data"], "list": replies}},
             match=[*TOKEN, matchers.query_param_matcher({"open_id": OPEN_ID, "item_id": ITEM, "comment_id": COMMENT["comment_id"],
                                                          "cursor": "0", "count": "20", "sort_type": "time"})])  # fmt: skip
    found = DouyinCommentReplies(requests.Session()).find_sent(
        CREDS, reply_request("谢谢支持", reply_to=ANSWERED, progress=Progress("k", SENT_AT))
    )
    assert found == PublishResult(platform_post_id=message_id(ITEM, "@r1"))


def test_a_reply_to_something_that_is_not_a_comment_is_refused() -> None:
    with pytest.raises(PermanentError):
        DouyinCommentReplies(requests.Session()).send(CREDS, reply_request("x", reply_to=ITEM))


def test_the_douyin_channel_answers_through_the_comment_replies() -> None:
    channel = channels.CHANNELS["douyin"]
    assert (channel.platform, channel.can_reply) == ("douyin", True)
