"""YouTube comments against the Data API's documented requests and answers (fixtures/platform_api/replies/
youtube): a channel's threads polled with ``commentThreads.list`` (1 unit), a reply made with
``comments.insert`` (50 units) and looked for with ``comments.list`` (1 unit) after a lost answer, every
call charged to the day's budget first and never beyond it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
import responses

from chorus.inbox import channels
from chorus.inbox.normalized import MessageKind
from chorus.platforms.base import AccountCredentials, PermanentError, RateLimited
from chorus.platforms.youtube.comments import YouTubeCommentReplies, fetch_comments, parse_comments, top_level
from chorus.platforms.youtube.quota import UNITS, MemoryLedger, Quota, quota_day
from tests.contract.replying import (
    marks,
    replies_fixture,
    reply_request,
    rsps,
    sent_twice_after_a_lost_answer,
)

__all__ = ["rsps"]

API = "https://www.googleapis.com/youtube/v3"
CHANNEL = "UCa-vrCLQHviTOVnEKDOdetQ"
CREDS = AccountCredentials(platform="youtube", account_id=CHANNEL, access_token="ya29.token")
THREADS = replies_fixture("youtube/commentThreads_list_allThreadsRelatedToChannelId_response.json")
INSERT_BODY = replies_fixture("youtube/comments_insert_reply_request_ASSEMBLED.json")
INSERTED = replies_fixture("youtube/comments_insert_reply_response.json")
DENIED = replies_fixture("youtube/error_403_permission_denied.json")
COSTS = replies_fixture("youtube/quota_costs_docs.json")["costs"]
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def quota(limit: int = 10_000) -> Quota:
    return Quota(MemoryLedger(), clock=lambda: NOW, limits={UNITS: limit})


def spent(q: Quota) -> int:
    return q.ledger.used(UNITS, quota_day(NOW))


def test_a_first_poll_reads_the_newest_page_of_the_channels_threads(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/commentThreads", json=THREADS)
    q = quota()
    items, cursor = fetch_comments(requests.Session(), API, "ya29.token", CHANNEL, None, q)
    sent = rsps.calls[0].request
    assert sent.params == {"part": "snippet,replies", "allThreadsRelatedToChannelId": CHANNEL, "order": "time",
                           "maxResults": "100"}  # fmt: skip
    assert sent.headers["Authorization"] == "Bearer ya29.token"
    comments = [
        c
        for t in THREADS["items"]
        for c in [t["snippet"]["topLevelComment"], *t.get("replies", {}).get("comments", [])]
    ]
    assert sorted(i["comment"]["id"] for i in items) == sorted(c["id"] for c in comments)
    assert (
        cursor == max(c["snippet"]["publishedAt"] for c in comments).replace("Z", "").split(".")[0] + ".000Z"
    )
    assert spent(q) == COSTS["commentThreads.list"] == 1


def test_a_later_poll_keeps_only_what_is_newer_than_its_cursor(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/commentThreads", json=THREADS)
    items, cursor = fetch_comments(requests.Session(), API, "t", CHANNEL, "2019-12-01T03:36:10.000Z", quota())
    assert [i["comment"]["snippet"]["publishedAt"] for i in items] == ["2019-12-01T03:36:55.000Z"]
    assert cursor == "2019-12-01T03:36:55.000Z"
    assert len(rsps.calls) == 1  # a page with one new comment but no next page: done


def test_threads_become_conversations_and_the_channels_own_comments_its_replies() -> None:
    items = [i for t in THREADS["items"] for i in _items(t)]
    events = parse_comments(items, CHANNEL).events
    first = THREADS["items"][0]
    top = next(e for e in events if e.platform_message_id == first["id"])
    assert (top.kind, top.conversation_ref, top.post_ref, top.text, top.author_name) == (
        MessageKind.COMMENT, first["id"], "JE8xdDp5B8Q", "Hope to go next time. yah!", "kun liu",
    )  # fmt: skip
    assert top.created_at == datetime(2019, 12, 1, 3, 36, 55, tzinfo=UTC)
    assert not top.authored_by_account
    own = parse_comments([{"thread": "T", "video": "V", "comment": INSERTED}], CHANNEL).events[0]
    assert (own.kind, own.parent_ref, own.authored_by_account) == (MessageKind.REPLY, "T", True)
    assert channels.name_for("youtube", own.kind) == "youtube"
    assert parse_comments([{"thread": "T", "comment": {"id": 5}}], CHANNEL).ignored == ("malformed",)


def _items(thread: dict) -> list[dict]:  # type: ignore[type-arg]
    from chorus.platforms.youtube.comments import comments_of

    return comments_of(thread)


def test_a_reply_is_the_documented_comments_insert(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/comments", json=INSERTED)
    q = quota()
    sender = YouTubeCommentReplies(requests.Session(), API, q)
    request = reply_request("wow", reply_to=INSERT_BODY["snippet"]["parentId"])
    result = sender.send(CREDS, request)
    sent = rsps.calls[0].request
    assert sent.params == {"part": "snippet"}
    assert json.loads(sent.body) == INSERT_BODY
    assert result.platform_post_id == INSERTED["id"]
    assert marks(request) == [("sent", "0"), ("landed", "0", INSERTED["id"])]
    assert spent(q) == COSTS["comments.insert"] == 50


def test_a_reply_to_a_reply_goes_to_its_threads_top_level_comment() -> None:
    assert top_level(INSERTED["id"]) == INSERTED["snippet"]["parentId"]
    assert top_level("UgyWeTdgc4sc1xgmbld4AaABAg") == "UgyWeTdgc4sc1xgmbld4AaABAg"


def test_no_quota_left_no_request(rsps: responses.RequestsMock) -> None:
    q = quota(limit=49)
    with pytest.raises(RateLimited) as waited:
        YouTubeCommentReplies(requests.Session(), API, q).send(CREDS, reply_request("hi", reply_to="P"))
    assert "quota" in waited.value.message
    assert (waited.value.retry_after or 0) > 0
    assert len(rsps.calls) == 0
    with pytest.raises(RateLimited):
        fetch_comments(requests.Session(), API, "t", CHANNEL, None, quota(limit=0))
    assert len(rsps.calls) == 0


def test_a_lost_reply_is_looked_for_among_the_threads_replies(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/comments", json={"items": [INSERTED]})
    sender = YouTubeCommentReplies(requests.Session(), API, quota())
    request = reply_request("wow", reply_to="Ugy_CAftKrIUCyPr9GR4AaABAg")
    object.__setattr__(request, "not_before", datetime(2022, 11, 14, 10, 0, tzinfo=UTC))
    found = sender.find_sent(CREDS, request)
    assert found is not None
    assert found.platform_post_id == INSERTED["id"]
    assert rsps.calls[0].request.params == {"part": "snippet", "parentId": "Ugy_CAftKrIUCyPr9GR4AaABAg",
                                            "maxResults": "100", "textFormat": "plainText"}  # fmt: skip
    assert (
        sender.find_sent(CREDS, reply_request("wow", reply_to="Ugy_CAftKrIUCyPr9GR4AaABAg")) is None
    )  # too old


def test_an_unanswered_reply_is_never_sent_blind_again(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/comments", body=requests.ConnectionError("reset"))
    sent_twice_after_a_lost_answer(
        YouTubeCommentReplies(requests.Session(), API, quota()), CREDS, rsps, reply_to="P"
    )


def test_a_permission_refusal_is_permanent_with_googles_message(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/comments", status=403, json=DENIED)
    with pytest.raises(PermanentError) as refused:
        YouTubeCommentReplies(requests.Session(), API, quota()).send(CREDS, reply_request("x", reply_to="P"))
    assert "permission" in refused.value.message.lower()


def test_the_channel_declares_polling_and_replies() -> None:
    channel = channels.get("youtube")
    assert channel.can_reply
    assert channel.sender == "youtube.comments:YouTubeCommentReplies"
    assert channel.max_chars == 10_000
