"""A person's notifications marked read many at once (``POST /notifications/read``): by ids, or all the
unread ones dated up to a time, in one request; only their own, in the workspace they call in; bad input
is a 422 naming the field. A list that changed (listed, read) is pushed to its owner's live connections,
and no one else's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from chorus.notifications import CHANGED, READ_IDS_MAX, notice, tell
from chorus.store import notifications as store
from chorus.store.notifications import Notification
from chorus.store.pages import PageRequest
from tests.integration.harness import Chorus, Person, eventually

T0 = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)  # stored to the microsecond, shown to the ms


@pytest.fixture(scope="module")
def ann(chorus: Chorus) -> dict[str, Any]:
    """A person with two workspaces of her own."""
    person: Person = chorus.person(f"ann-{uuid.uuid4().hex[:6]}@people.test")
    spaces = []
    for name in ("Brand", "Side project"):
        made = chorus.call("POST", "/workspaces", person.id_token, json={"name": name, "timezone": "UTC"})
        assert made.status_code == 201, made.text
        spaces.append(str(made.json()["id"]))
    return {"person": person, "ws": spaces[0], "other_ws": spaces[1]}


def call(chorus: Chorus, ann: dict[str, Any], method: str, path: str, **kw: Any) -> requests.Response:
    return chorus.call(method, path, ann["person"].id_token, workspace=ann["ws"], **kw)


def listed(ws: str, recipient: str, count: int, start: datetime = T0) -> list[Notification]:
    """``count`` notifications of ``recipient`` in ``ws``, a minute apart from ``start``."""
    tag = uuid.uuid4().hex[:8]
    notes = [
        notice(workspace_id=ws, recipient=recipient, topic="post_approved", about=f"{tag}#{n}",
               at=start + timedelta(minutes=n), subject=f"Post approved {n}", text="It goes out now.")
        for n in range(count)
    ]  # fmt: skip
    assert tell(notes) == count
    return notes


def unread_ids(ws: str, recipient: str) -> set[str]:
    return {n.id for n in store.page(ws, recipient, PageRequest(limit=100), unread_only=True).items}


def test_all_unread_up_to_a_time_are_read_in_one_request_and_only_the_callers(
    chorus: Chorus, ann: dict[str, Any]
) -> None:
    me = f"user:{ann['person'].user_id}"
    mine = listed(ann["ws"], me, 4)
    someone_elses = listed(ann["ws"], "user:someone-else", 2)
    other_workspace = listed(ann["other_ws"], me, 2)
    shown = call(chorus, ann, "GET", "/notifications?limit=10").json()["notifications"]
    assert [n["id"] for n in shown] == [n.id for n in reversed(mine)]
    # When the page marks all read up to the newest it shows (the 3rd: the 4th came in since)
    answer = call(chorus, ann, "POST", "/notifications/read",
                  json={"all": True, "before": shown[1]["created_at"]})  # fmt: skip
    # Then those 3 are read, and nothing of another person or of another workspace
    assert answer.status_code == 200, answer.text
    assert answer.json()["marked"] == 3
    assert answer.json()["more"] is False
    assert unread_ids(ann["ws"], me) == {mine[3].id}
    assert unread_ids(ann["ws"], "user:someone-else") == {n.id for n in someone_elses}
    assert unread_ids(ann["other_ws"], me) == {n.id for n in other_workspace}
    read = store.get(ann["ws"], me, mine[0].id)
    assert read.read_at is not None
    # marking again marks nothing and keeps the first time; without "before" it is up to now
    again = call(chorus, ann, "POST", "/notifications/read", json={"all": True})
    assert again.json()["marked"] == 1
    assert store.get(ann["ws"], me, mine[0].id).read_at == read.read_at
    assert unread_ids(ann["ws"], me) == set()


def test_named_ids_are_read_and_an_id_not_the_callers_marks_nothing(
    chorus: Chorus, ann: dict[str, Any]
) -> None:
    me = f"user:{ann['person'].user_id}"
    mine = listed(ann["ws"], me, 3, start=T0 + timedelta(days=1))
    theirs = listed(ann["ws"], "user:someone-else", 1)
    ids = [mine[0].id, mine[1].id, mine[1].id, theirs[0].id, "20261201T000000.000000Z-0000000000000000"]
    answer = call(chorus, ann, "POST", "/notifications/read", json={"ids": ids})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"marked": 2, "more": False, "before": None}
    assert mine[2].id in unread_ids(ann["ws"], me)
    assert not {mine[0].id, mine[1].id} & unread_ids(ann["ws"], me)
    assert theirs[0].id in unread_ids(ann["ws"], "user:someone-else")


def test_a_large_backlog_is_read_a_bounded_number_at_a_time(chorus: Chorus, ann: dict[str, Any]) -> None:
    recipient = f"key:{uuid.uuid4().hex[:8]}"
    listed(ann["ws"], recipient, 5)
    now = datetime.now(UTC)
    assert store.mark_all_read(ann["ws"], recipient, now, now, limit=2) == (2, True)
    assert store.mark_all_read(ann["ws"], recipient, now, now, limit=2) == (2, True)
    assert store.mark_all_read(ann["ws"], recipient, now, now, limit=2) == (1, False)
    assert unread_ids(ann["ws"], recipient) == set()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "ids"),
        ({"ids": ["a"], "all": True}, "ids"),
        ({"ids": []}, "ids"),
        ({"ids": ["x"] * (READ_IDS_MAX + 1)}, "ids"),
        ({"ids": [""]}, "ids.0"),
        ({"ids": "abc"}, "ids"),
        ({"ids": ["a"], "before": "2026-12-01T00:00:00Z"}, "before"),
        ({"all": True, "before": "yesterday"}, "before"),
        ({"all": True, "before": "2026-12-01T00:00:00"}, "before"),
        ({"all": "please"}, "all"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    chorus: Chorus, ann: dict[str, Any], payload: dict[str, Any], field: str
) -> None:
    answer = call(chorus, ann, "POST", "/notifications/read", json=payload)
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert field in [e["field"] for e in answer.json()["errors"]], answer.json()


def test_it_needs_a_caller(chorus: Chorus) -> None:
    assert chorus.call("POST", "/notifications/read", None, json={"all": True}).status_code == 401


def test_a_change_is_pushed_live_to_the_recipients_connections_only(chorus: Chorus) -> None:
    from tests.integration.test_inbox import Listener
    from tests.integration.test_roles import key_id

    # Given a workspace with two keys, each with a live connection (a browser's WebSocket)
    ws, owner = chorus.workspace("Live badge")
    made = chorus.call("POST", "/keys", owner, json={"name": "intern", "role": "viewer"})
    assert made.status_code == 201, made.text
    intern = made.json()["key"]
    mine, theirs = Listener(chorus, owner), Listener(chorus, intern)
    try:
        changed = {"type": CHANGED, "data": {}}
        # When a notification is listed for the owner's key
        listed(ws, f"key:{key_id(owner)}", 2)
        # Then its connection is told (once for the batch or once per record), the other one never
        eventually(lambda: changed in mine.received, timeout=30)
        # When it marks them read, it is told again
        told = len(mine.received)
        assert call_key(chorus, owner, {"all": True}).json()["marked"] == 2
        eventually(lambda: len(mine.received) > told, timeout=30)
        assert mine.received[-1] == changed
        assert theirs.received == []
    finally:
        mine.close()
        theirs.close()


def call_key(chorus: Chorus, key: str, payload: dict[str, Any]) -> requests.Response:
    return chorus.call("POST", "/notifications/read", key, json=payload)
