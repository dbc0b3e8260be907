"""Service-level arithmetic (business hours, time zones, DST), the alert index entry of a conversation,
and saved-reply variables."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from chorus.errors import ValidationFailed
from chorus.inbox import saved, sla
from chorus.inbox.store import ConversationItem
from chorus.store.keys import iso

WEEKDAYS_9_TO_5 = sla.BusinessHours(frozenset({1, 2, 3, 4, 5}), time(9), time(17))


def policy(minutes: int, hours: sla.BusinessHours | None = WEEKDAYS_9_TO_5, tz: str = "UTC") -> sla.SlaPolicy:
    return sla.SlaPolicy(minutes, None, tz, hours)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_around_the_clock_adds_plain_minutes() -> None:
    assert policy(90, None).add(at("2026-12-05T23:00:00+00:00"), 90) == at("2026-12-06T00:30:00+00:00")


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        ("2026-12-07T10:00:00+00:00", 60, "2026-12-07T11:00:00+00:00"),  # within the day
        ("2026-12-07T16:30:00+00:00", 60, "2026-12-08T09:30:00+00:00"),  # over the night
        ("2026-12-04T16:00:00+00:00", 120, "2026-12-07T10:00:00+00:00"),  # Friday to Monday
        ("2026-12-05T12:00:00+00:00", 30, "2026-12-07T09:30:00+00:00"),  # written on a Saturday
        ("2026-12-07T07:00:00+00:00", 30, "2026-12-07T09:30:00+00:00"),  # before opening
        ("2026-12-07T17:00:00+00:00", 8 * 60, "2026-12-08T17:00:00+00:00"),  # a whole business day
    ],
)
def test_business_minutes_skip_nights_and_weekends(start: str, minutes: int, due: str) -> None:
    assert policy(minutes).add(at(start), minutes) == at(due)


def test_business_hours_are_the_workspaces_local_hours_across_a_dst_change() -> None:
    # New York leaves daylight time on Sunday 2026-11-01: 09:00 is 13:00 UTC on Friday, 14:00 UTC on Monday
    p = policy(60, tz="America/New_York")
    friday_end = at("2026-10-30T16:30:00-04:00")
    assert p.add(friday_end, 60) == at("2026-11-02T09:30:00-05:00")
    assert p.add(friday_end, 60) == datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def test_asia_shanghai_crosses_the_utc_day() -> None:
    p = policy(30, tz="Asia/Shanghai")
    # 16:50 UTC Monday is 00:50 Tuesday in Shanghai: the clock starts at 09:00 Tuesday local (01:00 UTC)
    assert p.add(at("2026-12-07T16:50:00+00:00"), 30) == at("2026-12-08T01:30:00+00:00")


def test_a_policy_is_validated_field_by_field() -> None:
    with pytest.raises(ValidationFailed) as bad:
        sla.policy_from({"resolution_minutes": True}, "UTC")
    assert bad.value.errors[0].field == "resolution_minutes"
    with pytest.raises(ValidationFailed) as bad:
        sla.policy_from({"nearing_at": 1.5}, "UTC")
    assert bad.value.errors[0].field == "nearing_at"
    with pytest.raises(ValidationFailed) as bad:
        sla.policy_from({"business_hours": {"days": ["mon"], "start": "9am", "end": "17:00"}}, "UTC")
    assert bad.value.errors[0].field == "business_hours.start"
    good = sla.policy_from(
        {
            "first_response_minutes": 30,
            "business_hours": {"days": ["sat", "mon"], "start": "08:00", "end": "12:00"},
        },
        "Europe/Paris",
    )
    assert good.to_dict()["business_hours"] == {"days": ["mon", "sat"], "start": "08:00", "end": "12:00"}
    assert sla.policy_from(good.to_dict(), "Europe/Paris") == good


def conversation(**fields: object) -> ConversationItem:
    return ConversationItem("WS#w", "CONV#c", workspace_id="w", conversation_id="c", status="open", **fields)


def test_the_alert_entry_follows_the_next_alert_and_leaves_when_none_is_to_come() -> None:
    start = at("2026-12-07T10:00:00+00:00")
    conv = conversation()
    sla.start(conv, sla.SlaPolicy(60, 240, escalate_after_minutes=30), start, reopened=False)
    sla.place(conv)
    assert conv.gsi1pk == "SLADUE#2026-12-07T11"
    assert conv.gsi1sk == f"{iso(at('2026-12-07T11:00:00+00:00'))}#w#c#first_response"
    conv.sla = {**conv.sla, "alerted": ["first_response"]}
    assert sla.next_alert(conv) == (at("2026-12-07T11:30:00+00:00"), "first_response.escalate")
    conv.first_response_at = at("2026-12-07T11:10:00+00:00")
    assert sla.next_alert(conv) == (at("2026-12-07T14:00:00+00:00"), "resolution")
    assert sla.view(conv, at("2026-12-07T13:20:00+00:00")) == {
        "first_response": {"due_at": iso(at("2026-12-07T11:00:00+00:00")), "state": "missed"},
        "resolution": {"due_at": iso(at("2026-12-07T14:00:00+00:00")), "state": "nearing"},
    }
    conv.status, conv.closed_at = "closed", at("2026-12-07T13:30:00+00:00")
    sla.place(conv)
    assert (conv.gsi1pk, conv.gsi1sk) == (None, None)
    assert sla.met(conv, sla.RESOLUTION) is True
    # a person writing into the closed conversation starts its resolution clock again, not the first one
    sla.start(conv, sla.SlaPolicy(60, 240), at("2026-12-08T09:00:00+00:00"), reopened=True)
    assert conv.sla["resolution"]["start"] == iso(at("2026-12-08T09:00:00+00:00"))
    assert conv.sla["first_response"]["start"] == iso(start)


def test_no_policy_no_clock() -> None:
    conv = conversation()
    sla.start(conv, None, at("2026-12-07T10:00:00+00:00"), reopened=False)
    assert conv.sla is None
    assert sla.view(conv) is None
    assert not sla.flagged(conv, "breached")


def test_saved_reply_variables() -> None:
    values = saved.values_for("Ana Souza", "ana", "Acme", "x")
    assert saved.fill("Hi {first_name} ({handle}), {account} on {platform} here", values) == (
        "Hi Ana (@ana), Acme on x here"
    )
    assert saved.values_for(None, "@bo", "Acme", "mastodon")["first_name"] == "bo"
    with pytest.raises(ValidationFailed) as missing:
        saved.fill("Hi {name}", saved.values_for(None, None, "Acme", "wechat"))
    assert missing.value.errors[0].field == "saved_reply_id"
    assert saved.unknown("{first_name} {nick} {nick} {x}") == ["nick", "x"]
    assert saved.fill("no variables {at all", {}) == "no variables {at all"
