"""One way to make a person's notification (chorus.notifications.notice) and one id rule for all of
them, whoever produces it: the approval workflow, reminder publishing and the inbox's SLA breaches."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chorus.events.envelope import DomainEvent
from chorus.inbox import sla
from chorus.inbox.live import owned_by
from chorus.notifications import lists_changed, notice, notice_id
from chorus.posts import approvals, reminders
from chorus.posts.model import Content, Mode, Post, Target, TargetState

REPO = Path(__file__).resolve().parents[2]
AT = datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC)
ID_RULE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{16}$")


def a_post(**changes: Any) -> Post:
    post = Post(
        workspace_id="ws1",
        id="p1",
        content=Content(text="Our new shop opens on Friday", link="https://example.com/shop"),
        variants={},
        account_ids=("acc1",),
        mode=Mode.SCHEDULE,
        scheduled_at=AT + timedelta(days=1),
        timezone="Europe/Paris",
        created_by="user:author",
        created_at=AT - timedelta(hours=1),
        updated_at=AT,
        version=3,
    )
    return replace(post, **changes)


def a_target(due: datetime = AT) -> Target:
    return Target(
        "ws1",
        "p1",
        "acc1",
        "xiaohongshu",
        TargetState.AWAITING_MANUAL,
        due,
        overdue_at=due + timedelta(hours=24),
    )


def test_the_same_notice_of_the_same_thing_has_the_same_id_and_it_reads_its_time() -> None:
    first = notice_id("post_approved", "p1#v3", AT)
    assert first == notice_id("post_approved", "p1#v3", AT)  # a redelivery lists it once
    assert ID_RULE.match(first)
    assert first.startswith("20261207T093015.123456Z-")
    paris = AT.astimezone(ZoneInfo("Europe/Paris"))
    assert notice_id("post_approved", "p1#v3", paris) == first  # UTC whatever zone it is dated in


def test_two_notices_dated_the_same_microsecond_never_share_an_id() -> None:
    ids = {
        notice_id(topic, about, AT)
        for topic in ("post_approved", "post_rejected", "approval_requested", "manual_publish_due")
        for about in ("p1#v1", "p1#v2", "p2#v1", "p1.acc1", "p1.acc2")
    }
    assert len(ids) == 20


def test_ids_sort_by_time_to_the_microsecond_so_a_list_reads_newest_first() -> None:
    # the old rules cut to the millisecond or the second: notices within one could come out of order
    dated = [AT + timedelta(microseconds=n) for n in (0, 1, 999, 1000, 10**6)]
    ids = [notice_id("manual_publish_due", f"target{9 - n}", at) for n, at in enumerate(dated)]
    assert ids == sorted(ids)


def test_a_notice_keeps_its_fields_and_cuts_a_long_subject() -> None:
    note = notice(
        workspace_id="ws1", recipient="user:u1", topic="post_approved", about="p1#v3", at=AT,
        subject="s" * 400, text="body", links=["https://a.example"], post_id="p1",
    )  # fmt: skip
    assert note.id == notice_id("post_approved", "p1#v3", AT)
    assert (note.recipient, note.created_at, note.links, note.post_id) == (
        "user:u1",
        AT,
        ("https://a.example",),
        "p1",
    )
    assert len(note.subject) == 150
    assert note.read_at is None
    assert note.emailed_at is None


def test_an_approval_decision_is_made_by_the_one_rule() -> None:
    note = approvals.decision_notice(a_post(), True, "ed@example.com", "Nice", AT)
    assert note.id == notice_id(approvals.APPROVED, "p1#v3", AT)
    assert (note.recipient, note.topic, note.created_at) == ("user:author", "post_approved", AT)
    rejected = approvals.decision_notice(a_post(), False, "ed@example.com", None, AT)
    assert rejected.id != note.id
    assert ID_RULE.match(rejected.id)
    # a later version decided in the same microsecond is another notice
    assert approvals.decision_notice(a_post(version=4), True, "ed", None, AT).id != note.id


def test_a_reminder_and_its_overdue_notice_are_made_by_the_one_rule() -> None:
    deps = reminders.ReminderDeps(None, lambda key: f"https://media.example/{key}", lambda _w, _r: None)
    post, target = a_post(), a_target()
    due = reminders.reminder(post, target, "Shop", "Europe/Paris", deps)
    assert due.id == notice_id(reminders.DUE, target.id, AT)
    assert (due.created_at, due.account_id, due.platform) == (AT, "acc1", "xiaohongshu")
    assert due.links == ("https://example.com/shop",)
    # redelivered: the same id (the store's conditional put lists it once)
    assert reminders.reminder(post, target, "Shop", "Europe/Paris", deps).id == due.id
    overdue = reminders.overdue_notice(post, target)
    assert overdue.id == notice_id(reminders.OVERDUE, target.id, AT + timedelta(hours=24))
    assert ID_RULE.match(overdue.id)


def test_an_sla_breach_is_made_by_the_one_rule_and_sorts_by_its_time() -> None:
    event = DomainEvent(
        "InboxSlaBreached",
        "ws1",
        {
            "conversation_id": "c1",
            "account_id": "acc1",
            "platform": "mastodon",
            "target": "first_response",
            "level": 1,
            "due_at": "2026-12-07T09:00:00Z",
            "notify": "admins",
            "assignee": None,
            "preview": "hi",
        },
        time=AT,
    )
    notes = sla.notices(event, people=lambda _ws: ["user:a", "user:b"])
    assert [n.recipient for n in notes] == ["user:a", "user:b"]
    assert {n.id for n in notes} == {notice_id("inbox.sla_breached", "c1#first_response#1", AT)}
    # it used to be "sla-...": listed above every newer notice, whatever its time
    assert notes[0].id < notice_id("post_approved", "p1#v1", AT + timedelta(seconds=1))


def test_no_producer_builds_a_notification_of_its_own() -> None:
    """Only chorus.notifications.notice builds a new one; the store reads stored ones back."""
    builds = {
        str(path.relative_to(REPO))
        for root in ("shared", "chalice", "functions")
        for path in (REPO / root).rglob("*.py")
        if re.search(r"(?<![A-Za-z_])Notification\(", path.read_text(encoding="utf-8"))
    }
    assert builds == {"shared/chorus/notifications.py", "shared/chorus/store/notifications.py"}


def stored(recipient: str = "user:u1", **fields: Any) -> dict[str, Any]:
    """A notification's stream image, as the table's stream carries it."""
    return {"kind": "notification", "workspace_id": "ws1", "recipient": recipient, "topic": "t", **fields}


def test_a_list_changed_when_a_notification_is_listed_or_read_not_when_its_email_is_claimed() -> None:
    read = "2026-12-07T10:00:00.000000+0000"
    changes = [
        ("INSERT", stored("user:u1"), {}),
        ("MODIFY", stored("user:u2", read_at=read), stored("user:u2")),
        ("MODIFY", stored("user:u3", emailed_at=read), stored("user:u3")),  # e-mail claimed: no change
        ("MODIFY", stored("key:k1", read_at=read, emailed_at=read), stored("key:k1", read_at=read)),
        ("INSERT", {"kind": "account", "workspace_id": "ws1", "account_id": "a1"}, {}),
        ("INSERT", stored("user:u1"), {}),  # twice in a batch: told once
    ]
    assert lists_changed(changes) == {("ws1", "user:u1"), ("ws1", "user:u2")}


def test_the_stream_batch_tells_the_people_whose_lists_changed_once() -> None:
    from chorus.posts.published import on_table_changes

    told: list[set[tuple[str, str]]] = []
    handled = on_table_changes(
        [("INSERT", stored("user:u1"), {}), ("INSERT", stored("user:u1"), {})], tell_live=told.append
    )
    assert told == [{("ws1", "user:u1")}]
    assert handled == 1
    told.clear()
    on_table_changes([("MODIFY", stored(emailed_at="x"), stored())], tell_live=told.append)
    assert told == []


@dataclass
class Conn:
    user_id: str | None
    key_id: str | None


def test_a_persons_connections_are_theirs_signed_in_or_with_their_keys_a_workspace_key_its_own() -> None:
    conns = [Conn("u1", None), Conn("u1", "k1"), Conn("u2", "k2"), Conn(None, "k3"), Conn(None, None)]
    mine = [c for c in conns if owned_by("user:u1")(c)]  # type: ignore[arg-type]
    assert mine == [Conn("u1", None), Conn("u1", "k1")]
    assert [c for c in conns if owned_by("key:k3")(c)] == [Conn(None, "k3")]  # type: ignore[arg-type]
    assert [c for c in conns if owned_by("user:")(c)] == []  # type: ignore[arg-type]
