"""The inbox list (``list_conversations``): each filter on a small hand-made set of conversations,
filters combined, newest activity first, cursor pagination without repeats or gaps, and the
workspace boundary. Storage is moto in-process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto import mock_aws

from chorus.config import reset_caches
from chorus.errors import BadRequest, ValidationFailed
from chorus.inbox import keys as ik
from chorus.inbox.service import InboxFilter, list_conversations
from chorus.inbox.store import ConversationItem, index_fields
from chorus.store import keys

TABLE = "chorus-inbox-filters-test"
WS, OTHER_WS = "ws-inbox", "ws-elsewhere"
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

# id, minutes after T0 of the last activity, and the fields that differ from the defaults below
DATA: list[tuple[str, int, dict[str, Any]]] = [
    ("c1", 10, {"preview": "Where is my REFUND?", "last_author": "Ann", "tags": ["billing"]}),
    ("c2", 20, {"platform": "bluesky", "account_id": "acc-b", "conv_kind": "mention", "sentiment": "positive",
                "preview": "love the new app", "last_author": "bob.bsky.social"}),
    ("c3", 30, {"status": "pending", "assignee": "alice", "tags": ["billing", "vip"],
                "sentiment": "negative", "preview": "still waiting on the invoice", "last_author": "Cy"}),
    ("c4", 40, {"status": "closed", "conv_kind": "dm", "assignee": "bob", "sentiment": "neutral",
                "preview": "thanks, solved", "last_author": "Dee"}),
    ("c5", 50, {"platform": "bluesky", "account_id": "acc-b", "conv_kind": "reply", "tags": ["vip"],
                "sentiment": "negative", "preview": "app crashed again", "last_author": "Refund Ranger"}),
    ("c6", 60, {"assignee": "alice", "conv_kind": "review", "preview": "", "last_author": None}),
]  # fmt: skip
DEFAULTS: dict[str, Any] = {
    "platform": "mastodon",
    "account_id": "acc-m",
    "conv_kind": "comment",
    "status": "open",
    "assignee": None,
    "tags": [],
    "sentiment": None,
}


def save_conversation(workspace_id: str, conversation_id: str, minutes: int, **fields: Any) -> None:
    last = T0 + timedelta(minutes=minutes)
    values = {**DEFAULTS, **fields}
    ConversationItem(
        keys.workspace_pk(workspace_id),
        ik.conversation_sk(conversation_id),
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        conversation_ref=f"ref-{conversation_id}",
        last_message_at=last,
        created_at=T0,
        updated_at=last,
        **values,
        **index_fields(workspace_id, conversation_id, last),
    ).save()


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHORUS_TABLE", TABLE)
    with mock_aws():
        reset_caches()
        from chorus.store.models import MainItem, bind

        bind()
        MainItem.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        for conversation_id, minutes, fields in DATA:
            save_conversation(WS, conversation_id, minutes, **fields)
        # another workspace's conversation: newest of all, matches every filter used below
        save_conversation(OTHER_WS, "x1", 99, preview="refund refund", tags=["billing", "vip"])
        yield
    reset_caches()


def listed(limit: int = 25, cursor: str | None = None, **query: str) -> list[str]:
    page = list_conversations(WS, InboxFilter.from_query(query), limit=limit, cursor=cursor)
    return [c["id"] for c in page["conversations"]]


def test_without_filters_every_conversation_of_the_workspace_is_listed_newest_first(inbox: None) -> None:
    assert listed() == ["c6", "c5", "c4", "c3", "c2", "c1"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "open"}, ["c6", "c5", "c2", "c1"]),
        ({"status": "pending"}, ["c3"]),
        ({"status": "closed"}, ["c4"]),
        ({"platform": "bluesky"}, ["c5", "c2"]),
        ({"platform": "facebook"}, []),
        ({"account": "acc-m"}, ["c6", "c4", "c3", "c1"]),
        ({"kind": "dm"}, ["c4"]),
        ({"kind": "comment"}, ["c3", "c1"]),
        ({"sentiment": "negative"}, ["c5", "c3"]),
        ({"sentiment": "positive"}, ["c2"]),
        ({"assignee": "alice"}, ["c6", "c3"]),
        ({"assignee": "none"}, ["c5", "c2", "c1"]),
        ({"tag": "vip"}, ["c5", "c3"]),
        ({"tag": "billing"}, ["c3", "c1"]),
        ({"tag": "bill"}, []),  # a tag matches whole, not by prefix
    ],
)
def test_each_filter_keeps_only_the_conversations_it_names(
    inbox: None, query: dict[str, str], expected: list[str]
) -> None:
    assert listed(**query) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("refund", ["c5", "c1"]),  # any case; the preview or the last author's name
        ("APP", ["c5", "c2"]),
        ("bsky.social", ["c2"]),  # the author's handle
        ("waiting on", ["c3"]),  # a phrase
        ("nobody says this", []),
    ],
)
def test_the_text_filter_searches_preview_and_author_case_insensitively(
    inbox: None, text: str, expected: list[str]
) -> None:
    assert listed(text=text) == expected


def test_filters_combine_as_and(inbox: None) -> None:
    assert listed(platform="bluesky", sentiment="negative") == ["c5"]
    assert listed(tag="billing", assignee="alice", status="pending") == ["c3"]
    assert listed(tag="billing", status="closed") == []


def test_empty_query_values_do_not_filter(inbox: None) -> None:
    assert listed(status="", platform="", tag="", text="") == ["c6", "c5", "c4", "c3", "c2", "c1"]


def test_an_unknown_status_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        InboxFilter.from_query({"status": "archived"})
    assert caught.value.errors[0].field == "status"


@pytest.mark.parametrize("limit", [0, 101])
def test_a_limit_out_of_range_is_refused_naming_the_field(inbox: None, limit: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        list_conversations(WS, InboxFilter(), limit=limit)
    assert caught.value.errors[0].field == "limit"


def test_pages_follow_each_other_without_repeats_or_gaps(inbox: None) -> None:
    # Given pages of two, each continuing from the previous page's cursor
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(10):
        page = list_conversations(WS, InboxFilter(), limit=2, cursor=cursor)
        pages.append([c["id"] for c in page["conversations"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Then together they list every conversation once, newest first, and the last page says so
    flat = [c for p in pages for c in p]
    assert flat == ["c6", "c5", "c4", "c3", "c2", "c1"]
    assert all(len(p) <= 2 for p in pages)


def test_a_filtered_page_continues_after_the_last_match(inbox: None) -> None:
    # Given the open conversations one at a time
    first = list_conversations(WS, InboxFilter(status="open"), limit=1)
    second = list_conversations(WS, InboxFilter(status="open"), limit=3, cursor=first["next_cursor"])
    # Then the second page starts right after the first page's match and ends the list
    assert [c["id"] for c in first["conversations"]] == ["c6"]
    assert [c["id"] for c in second["conversations"]] == ["c5", "c2", "c1"]


def test_the_last_page_has_no_cursor(inbox: None) -> None:
    page = list_conversations(WS, InboxFilter(kind="dm"), limit=5)
    assert [c["id"] for c in page["conversations"]] == ["c4"]
    assert page["next_cursor"] is None


def test_new_activity_moves_a_conversation_to_the_top(inbox: None) -> None:
    # Given c1 gets a new message (its index key follows its last activity)
    save_conversation(WS, "c1", 70, **DATA[0][2])
    # Then it is listed first, once
    assert listed() == ["c1", "c6", "c5", "c4", "c3", "c2"]


def test_a_cursor_that_was_not_given_out_is_refused(inbox: None) -> None:
    with pytest.raises(BadRequest):
        list_conversations(WS, InboxFilter(), cursor="%%%not-base64%%%")


def test_the_view_carries_what_the_filters_looked_at(inbox: None) -> None:
    [view] = list_conversations(WS, InboxFilter(tag="vip", platform="mastodon"))["conversations"]
    assert {k: view[k] for k in ("id", "platform", "account_id", "kind", "status", "assignee", "tags")} == {
        "id": "c3",
        "platform": "mastodon",
        "account_id": "acc-m",
        "kind": "comment",
        "status": "pending",
        "assignee": "alice",
        "tags": ["billing", "vip"],
    }
    assert view["last_message_at"] == T0 + timedelta(minutes=30)


def test_another_workspaces_conversations_are_never_listed(inbox: None) -> None:
    assert "x1" not in listed(text="refund", tag="billing")
    assert [c["id"] for c in list_conversations(OTHER_WS, InboxFilter())["conversations"]] == ["x1"]
