"""Weibo comments polled into the inbox, against the documented cursored list
(``comments_list_cursored_springsocialweibo.json``): ``comments/to_me`` and ``comments/mentions`` each with
its ``since_id`` (one cursor string per account), pages read until one is short, ids from ``idstr`` (else
``id``), and the comments normalised as COMMENT / REPLY / MENTION on the status's conversation."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.inbox import channels
from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.platforms.base import RateLimited
from chorus.platforms.weibo.comments import COUNT, fetch_comments, parse_comments, read_cursor, write_cursor
from tests.contract.weibo import API, AUTH, TOKEN, doc

TO_ME = f"{API}/2/comments/to_me.json"
MENTIONS = f"{API}/2/comments/mentions.json"
LISTED = doc("comments_list_cursored_springsocialweibo.json")
OWNER = "1404376560"  # zaku: the account whose status ("求关注。") was commented on
STATUS = LISTED["comments"][0]["status"]["mid"]
EMPTY = {"comments": [], "previous_cursor": 0, "next_cursor": 0, "total_number": 0}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def page(params: dict[str, str], body: Any, url: str = TO_ME) -> dict[str, Any]:
    return {
        "url": url,
        "json": body,
        "match": [matchers.header_matcher(AUTH), matchers.query_param_matcher(params)],
    }


def comments(first: int, count: int) -> dict[str, Any]:
    """A page of ``count`` comments numbered down from ``first`` (the documented comment, renumbered)."""
    made = []
    for n in range(first, first - count, -1):
        comment = copy.deepcopy(LISTED["comments"][0])
        comment["id"], comment["idstr"] = n, str(n)
        made.append(comment)
    return {**LISTED, "comments": made}


def test_the_first_poll_reads_the_newest_page_of_each_feed_and_keeps_both_cursors(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(**page({"count": str(COUNT), "page": "1"}, LISTED))
    rsps.get(**page({"count": str(COUNT), "page": "1"}, EMPTY, MENTIONS))
    items, cursor = fetch_comments(requests.Session(), TOKEN, None, base_url=API)
    # Oldest first, each with its feed; the to_me cursor at the newest id, mentions not started
    assert [(i["feed"], i["comment"]["id"]) for i in items] == [
        ("to_me", 12438492183),
        ("to_me", 12438492184),
    ]
    assert cursor == "12438492184|"
    assert read_cursor(cursor) == {"to_me": "12438492184", "mentions": None}


def test_the_next_poll_asks_for_what_is_newer_and_keeps_the_cursor_when_nothing_is(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(**page({"count": str(COUNT), "page": "1", "since_id": "12438492184"}, LISTED))
    rsps.get(**page({"count": str(COUNT), "page": "1", "since_id": "77"}, EMPTY, MENTIONS))
    items, cursor = fetch_comments(requests.Session(), TOKEN, "12438492184|77", base_url=API)
    assert items == []
    assert cursor == "12438492184|77"


def test_a_full_page_is_followed_by_the_next_until_one_is_short(rsps: responses.RequestsMock) -> None:
    rsps.get(**page({"count": str(COUNT), "page": "1", "since_id": "100"}, comments(1000, COUNT)))
    rsps.get(**page({"count": str(COUNT), "page": "2", "since_id": "100"}, comments(950, 3)))
    rsps.get(**page({"count": str(COUNT), "page": "1", "since_id": "100"}, comments(500, 1), MENTIONS))
    items, cursor = fetch_comments(requests.Session(), TOKEN, "100|100", base_url=API)
    assert len(items) == COUNT + 4
    assert [i["comment"]["idstr"] for i in items][:2] == ["500", "948"]
    assert cursor == "1000|500"


def test_a_rate_limited_poll_raises_and_moves_no_cursor(rsps: responses.RequestsMock) -> None:
    rsps.get(TO_ME, json={"error": "User requests out of rate limit!", "error_code": 10023}, status=403)
    rsps.get(
        f"{API}/2/account/rate_limit_status.json",
        json=doc("account_rate_limit_status_springsocialweibo.json"),
    )
    with pytest.raises(RateLimited) as limited:
        fetch_comments(requests.Session(), TOKEN, "5|6", base_url=API)
    assert limited.value.retry_after == 2295


def test_cursors_round_trip() -> None:
    assert write_cursor({"to_me": None, "mentions": None}) is None
    assert read_cursor(write_cursor({"to_me": "1", "mentions": "2"})) == {"to_me": "1", "mentions": "2"}
    assert read_cursor("garbage") == {"to_me": None, "mentions": None}


def test_documented_comments_become_comments_on_the_statuss_conversation() -> None:
    items = [{"feed": "to_me", "comment": c} for c in LISTED["comments"]]
    result = parse_comments(items, OWNER)
    first = result.events[0]
    assert isinstance(first, InboundMessage)
    assert first.platform_message_id == f"{STATUS}_12438492184"
    assert (first.kind, first.conversation_ref, first.post_ref, first.parent_ref) == (
        MessageKind.COMMENT, STATUS, STATUS, STATUS)  # fmt: skip
    assert (first.text, first.author_id, first.author_name, first.author_handle) == (
        "我喜欢你做的",
        OWNER,
        "zaku",
        "zaku",
    )
    assert first.created_at == datetime(2011, 5, 31, 16, 50, 25, tzinfo=UTC)
    assert first.authored_by_account is True  # zaku commented on his own status
    second = result.events[1]
    assert isinstance(second, InboundMessage)
    assert (second.author_name, second.authored_by_account) == ("John Rambo", False)
    assert channels.name_for("weibo", second.kind) == "weibo"
    assert channels.get("weibo").can_reply


def test_a_reply_to_a_comment_and_a_mention_are_told_apart() -> None:
    reply = copy.deepcopy(LISTED["comments"][1])
    reply["reply_comment"] = LISTED["comments"][0]
    mention = copy.deepcopy(LISTED["comments"][1])
    result = parse_comments([{"feed": "to_me", "comment": reply}, {"feed": "mentions", "comment": mention},
                             {"feed": "elsewhere", "comment": {}}], "42")  # fmt: skip
    answered, mentioned = result.events
    assert isinstance(answered, InboundMessage)
    assert isinstance(mentioned, InboundMessage)
    assert answered.kind is MessageKind.REPLY
    assert answered.parent_ref == f"{STATUS}_12438492184"
    assert answered.post_ref is None  # the status is not the account's
    assert (mentioned.kind, mentioned.conversation_ref) == (MessageKind.MENTION, STATUS)
    assert result.ignored == ("feed_elsewhere",)
