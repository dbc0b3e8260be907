"""The team's inbox on the embedded runtime: service levels flagged and alerted once (the assignee, then
the admins), people who have a conversation open seeing each other, a reply that crossed someone
else's answer warned about before it is sent, saved replies with variables, and each person's figures
in the report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chorus.events.envelope import InMemoryEventPublisher
from chorus.inbox import sla
from chorus.store.keys import iso
from chorus.store.pages import PageRequest
from tests.integration.harness import Chorus, eventually
from tests.integration.test_inbox import Listener, conversations, polled_account, polled_conversation


@pytest.fixture(scope="module")
def chorus() -> Iterator[Chorus]:
    c = Chorus()
    yield c
    c.close()


def second_key(chorus: Chorus, key: str, name: str) -> tuple[str, str]:
    """Another admin key of ``key``'s workspace: (its actor, the key)."""
    made = chorus.call("POST", "/keys", key, json={"name": name, "role": "admin"})
    assert made.status_code == 201, made.text
    return f"key:{made.json()['key_id']}", made.json()["key"]


def actor_of(chorus: Chorus, key: str) -> str:
    from chorus.auth.keys import parse_key

    parsed = parse_key(key)
    assert parsed is not None
    return f"key:{parsed.key_id}"


def sweep(at: datetime, workspace_id: str) -> list[dict[str, Any]]:
    """One scheduler run's SLA sweep at ``at``: the alerts it raised for ``workspace_id``."""
    events = InMemoryEventPublisher()
    sla.sweep(at, events)
    return [dict(e.data) for e in events.events if e.workspace_id == workspace_id]


def test_targets_are_validated_with_the_field_named(chorus: Chorus) -> None:
    ws, key = chorus.workspace()
    bad = chorus.call("PUT", "/inbox/sla", key, json={"first_response_minutes": 0})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "first_response_minutes"
    hours = {"days": ["mon", "funday"], "start": "09:00", "end": "17:00"}
    bad = chorus.call("PUT", "/inbox/sla", key, json={"business_hours": hours})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "business_hours.days"
    hours = {"days": ["mon"], "start": "17:00", "end": "09:00"}
    bad = chorus.call("PUT", "/inbox/sla", key, json={"business_hours": hours})
    assert bad.json()["errors"][0]["field"] == "business_hours.end"
    assert chorus.call("GET", "/inbox/sla", key).json() == {"sla": None}
    assert chorus.call("GET", "/inbox", key, params={"sla": "late"}).status_code == 422


def test_a_breach_is_flagged_and_alerts_the_assignee_then_the_admins_once(chorus: Chorus) -> None:
    ws, key = chorus.workspace()
    # Given first-response and resolution targets, the admins told 2 hours after a breach
    policy = {"first_response_minutes": 60, "resolution_minutes": 600, "escalate_after_minutes": 120}
    put = chorus.call("PUT", "/inbox/sla", key, json=policy)
    assert put.status_code == 200, put.text
    assert put.json()["sla"]["business_hours"] is None
    handle = f"sla-{ws}"
    polled_account(chorus, key, handle)
    # And a comment written two hours ago, still unanswered, and a fresh one
    written = datetime.now(UTC) - timedelta(hours=2)
    late = polled_conversation(chorus, key, handle, "Still waiting", created_at=iso(written), post_id="p-old")
    fresh = polled_conversation(chorus, key, handle, "Hello there", post_id="p-new",
                                author={"id": "fan-2", "name": "Kim Lee"})  # fmt: skip
    # Then the late one is flagged as breached and the fresh one as on time
    assert late["sla"]["first_response"] == {"due_at": iso(written + timedelta(hours=1)), "state": "breached"}
    assert [c["id"] for c in conversations(chorus, key, sla="breached")] == [late["id"]]
    assert [c["id"] for c in conversations(chorus, key, sla="ok")] == [fresh["id"]]
    assert (
        chorus.call("POST", f"/inbox/{late['id']}/assign", key, json={"assignee": "user:sam"}).status_code
        == 200
    )
    # When the scheduler sweeps now, and again
    now = datetime.now(UTC)
    first, again = sweep(now, ws), sweep(now, ws)
    # Then the assignee was alerted once about the late conversation's first response
    assert [(a["conversation_id"], a["target"], a["level"], a["notify"], a["assignee"]) for a in first] == [
        (late["id"], "first_response", 1, "assignee", "user:sam")
    ]
    assert again == []
    # And two hours after the breach, still unanswered, the admins once (by then the fresh one, which
    # nobody is assigned, has passed its own target: the admins hear of it at once)
    later = written + timedelta(hours=3, minutes=1)
    escalated, repeated = sweep(later, ws), sweep(later, ws)
    assert sorted((a["conversation_id"], a["level"], a["notify"]) for a in escalated) == sorted(
        [(late["id"], 2, "admins"), (fresh["id"], 1, "admins")]
    )
    assert repeated == []
    # When someone answers it late
    assert chorus.call("POST", f"/inbox/{late['id']}/reply", key, json={"text": "Sorry!"}).status_code == 202

    def answered() -> dict[str, Any] | None:
        conv = chorus.call("GET", f"/inbox/{late['id']}", key).json()["conversation"]
        return conv if conv["first_response_at"] else None

    conv = eventually(answered, timeout=30)
    # Then its first response is missed, its resolution clock still runs, and it no longer shows as breached
    assert conv["sla"]["first_response"]["state"] == "missed"
    assert conv["sla"]["resolution"]["state"] == "ok"
    assert conversations(chorus, key, sla="breached") == []

    # And no further alert comes for it until its resolution target passes
    # (only the late one's: the fresh one's own escalation may come in a sweep that catches up on the hour)
    def of_late(alerts: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return [(a["target"], a["notify"]) for a in alerts if a["conversation_id"] == late["id"]]

    assert of_late(sweep(written + timedelta(hours=9), ws)) == []
    assert of_late(sweep(written + timedelta(hours=10, minutes=1), ws)) == [("resolution", "assignee")]


def test_business_hours_stop_the_clock_overnight(chorus: Chorus) -> None:
    ws, key = chorus.workspace(timezone="Asia/Shanghai")
    hours = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}
    put = chorus.call("PUT", "/inbox/sla", key, json={"first_response_minutes": 120, "business_hours": hours})
    assert put.json()["sla"]["timezone"] == "Asia/Shanghai"
    handle = f"bh-{ws}"
    polled_account(chorus, key, handle)
    # A comment at 17:30 on a Friday in Shanghai (09:30 UTC) is due at 10:30 on Monday (02:30 UTC)
    friday = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    conv = polled_conversation(chorus, key, handle, "Weekend question", created_at=iso(friday))
    assert conv["sla"]["first_response"]["due_at"] == iso(datetime(2026, 12, 7, 2, 30, tzinfo=UTC))


def test_people_see_each_other_and_a_crossed_reply_is_warned_before_sending(chorus: Chorus) -> None:
    ws, key_a = chorus.workspace()
    actor_a = actor_of(chorus, key_a)
    actor_b, key_b = second_key(chorus, key_a, "agent b")
    handle = f"col-{ws}"
    polled_account(chorus, key_a, handle)
    conv = polled_conversation(chorus, key_a, handle, "Anyone there?")
    cid = conv["id"]
    browser_a = Listener(chorus, key_a)
    try:
        # When A opens the conversation and B starts typing in it
        seen = chorus.call("POST", f"/inbox/{cid}/presence", key_a, json={"state": "viewing"})
        assert [v["user"] for v in seen.json()["viewers"]] == [actor_a]
        both = chorus.call("POST", f"/inbox/{cid}/presence", key_b, json={"state": "typing"}).json()
        # Then each sees the other: B's answer, A's browser live, and the thread
        assert [(v["user"], v["state"]) for v in both["viewers"]] == [
            (actor_a, "viewing"),
            (actor_b, "typing"),
        ]
        pushed = eventually(
            lambda: [
                f
                for f in browser_a.received
                if f["type"] == "conversation.presence" and len(f["data"]["viewers"]) == 2
            ],
            timeout=15,
        )
        assert pushed[0]["data"]["conversation_id"] == cid
        assert [v["user"] for v in chorus.call("GET", f"/inbox/{cid}", key_a).json()["viewers"]] == [
            actor_a,
            actor_b,
        ]
        # And A's renewal (now typing) keeps when A arrived: the viewers stay in arrival order
        again = chorus.call("POST", f"/inbox/{cid}/presence", key_a, json={"state": "typing"}).json()
        first = seen.json()["viewers"][0]
        assert [(v["user"], v["state"]) for v in again["viewers"]] == [
            (actor_a, "typing"),
            (actor_b, "typing"),
        ]
        assert again["viewers"][0]["since"] == first["since"]
    finally:
        browser_a.close()
    drafted = datetime.now(UTC) - timedelta(seconds=1)
    # When A sends a reply while B was writing theirs
    assert chorus.call("POST", f"/inbox/{cid}/reply", key_a, json={"text": "Yes, A here"}).status_code == 202
    crossing = {"text": "B here!", "drafted_at": iso(drafted)}
    refused = chorus.call("POST", f"/inbox/{cid}/reply", key_b, json=crossing)
    # Then B's reply is refused with A's answer, and nothing of B's is sent
    assert refused.status_code == 409, refused.text
    assert [(c["by"], c["text"]) for c in refused.json()["crossed"]] == [(actor_a, "Yes, A here")]
    assert "drafted_at" in refused.json()["detail"]
    # And A's own later reply drafted at the same time is not a collision with itself
    own = chorus.call(
        "POST", f"/inbox/{cid}/reply", key_a, json={"text": "And more", "drafted_at": iso(drafted)}
    )
    assert own.status_code == 202, own.text
    # And B may send it anyway once they have read A's
    sent = chorus.call("POST", f"/inbox/{cid}/reply", key_b, json={**crossing, "confirm": True})
    assert sent.status_code == 202, sent.text
    chorus.rt.wait_idle()
    texts = eventually(
        lambda: (
            (t := sorted(p["text"] for p in chorus.platform_posts() if p["account"] == handle))
            and len(t) == 3
            and t
        ),
        timeout=30,
    )
    assert texts == ["And more", "B here!", "Yes, A here"]
    # When B leaves, A is alone again
    left = chorus.call("POST", f"/inbox/{cid}/presence", key_b, json={"state": "left"}).json()
    assert [v["user"] for v in left["viewers"]] == [actor_a]
    assert chorus.call("POST", f"/inbox/{cid}/presence", key_b, json={"state": "dancing"}).status_code == 422


def test_saved_replies_fill_their_variables_from_the_conversation(chorus: Chorus) -> None:
    ws, key = chorus.workspace()
    handle = f"sv-{ws}"
    polled_account(chorus, key, handle)
    conv = polled_conversation(chorus, key, handle, "Help?", author={"id": "fan-9", "name": "Ana Souza"})
    unknown = chorus.call("POST", "/saved_replies", key, json={"title": "x", "text": "Hi {nickname}"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "text"
    assert "nickname" in unknown.json()["detail"]
    saved = chorus.call(
        "POST",
        "/saved_replies",
        key,
        json={"title": "thanks", "text": "Hi {first_name}, thanks for writing to {account}!"},
    ).json()
    sent = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"saved_reply_id": saved["id"]})
    assert sent.status_code == 202, sent.text
    assert sent.json()["text"] == f"Hi Ana, thanks for writing to {handle}!"


def test_each_persons_figures_are_in_the_report(chorus: Chorus) -> None:
    ws, key_a = chorus.workspace()
    actor_b, key_b = second_key(chorus, key_a, "agent b")
    assert chorus.call("PUT", "/inbox/sla", key_a, json={"first_response_minutes": 60}).status_code == 200
    handle = f"team-{ws}"
    polled_account(chorus, key_a, handle)
    # Given A answers a fresh conversation in time and closes it
    fresh = polled_conversation(chorus, key_a, handle, "Quick one", post_id="p-1")
    # And B answers one written two hours ago (late) and leaves it open
    written = datetime.now(UTC) - timedelta(hours=2)
    late = polled_conversation(chorus, key_a, handle, "Old one", post_id="p-2", created_at=iso(written))
    assert chorus.call("POST", f"/inbox/{fresh['id']}/reply", key_a, json={"text": "Done"}).status_code == 202
    assert chorus.call("POST", f"/inbox/{late['id']}/reply", key_b, json={"text": "Sorry"}).status_code == 202

    def answered() -> list[dict[str, Any]] | None:
        convs = conversations(chorus, key_a)
        return convs if all(c["first_response_at"] for c in convs) and len(convs) == 2 else None

    convs = {c["id"]: c for c in eventually(answered, timeout=30)}
    closed = chorus.call("POST", f"/inbox/{fresh['id']}/status", key_a, json={"status": "closed"})
    assert closed.status_code == 200
    # When the whole workspace's report of today is asked for
    today = datetime.now(UTC).date().isoformat()
    answer = chorus.call("GET", "/reports", key_a, params={"from": today, "to": today, "format": "json"})
    assert answer.status_code == 200, answer.text
    team = {r["name"]: r for r in answer.json()["inbox"]["team"]}
    # Then each person's figures are theirs, checked by hand
    a_first = convs[fresh["id"]]["first_response_s"]
    b_first = convs[late["id"]]["first_response_s"]
    assert b_first > 7000  # answered about two hours after it was written
    assert team["API key agent b"] == {
        "person": actor_b, "name": "API key agent b", "handled": 0, "replies": 1,
        "median_first_response_seconds": float(round(b_first)), "sla_met": 0.0,
    }  # fmt: skip
    (a_row,) = [r for n, r in team.items() if n != "API key agent b"]
    assert (a_row["handled"], a_row["replies"], a_row["sla_met"]) == (1, 1, 1.0)
    assert a_row["median_first_response_seconds"] == float(round(a_first))
    # And the CSV has the same rows
    text = chorus.call("GET", "/reports", key_a, params={"from": today, "to": today, "format": "csv"}).text
    rows = list(csv.reader(io.StringIO(text)))
    assert any(r[:3] == ["API key agent b", "0", "1"] for r in rows), rows


def test_the_scheduler_alerts_a_breach_in_the_assignees_notifications_once(chorus: Chorus) -> None:
    from chorus.store import notifications

    ws, key = chorus.workspace()
    assert chorus.call("PUT", "/inbox/sla", key, json={"first_response_minutes": 30}).status_code == 200
    handle = f"tick-{ws}"
    polled_account(chorus, key, handle)
    written = datetime.now(UTC) - timedelta(hours=1)
    conv = polled_conversation(chorus, key, handle, "Hello?", created_at=iso(written))
    chorus.call("POST", f"/inbox/{conv['id']}/assign", key, json={"assignee": "user:robin"})
    # When the scheduler runs twice on the runtime (EventBridge's every-minute rule)
    first = chorus.rt.tick("SchedulerFunction")
    chorus.rt.tick("SchedulerFunction")
    assert first["sla_alerts"] >= 1
    chorus.rt.wait_idle()
    # Then the assignee's notification list holds the breach once
    listed = notifications.page(ws, "user:robin", PageRequest(limit=50)).items
    assert [(n.topic, n.account_id) for n in listed] == [("inbox.sla_breached", conv["account_id"])]
    assert "first response" in listed[0].subject
