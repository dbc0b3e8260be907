"""Service levels of the inbox: first-response and resolution targets, counted in business hours.

A workspace sets its targets once (``PUT /inbox/sla``): minutes to the first response, minutes to
resolution, the business hours they run in (days of the week and a daily window, in the workspace's
time zone; none: around the clock), when a conversation counts as *nearing* its target (a share of the
target spent) and how long after a breach the admins are told as well.

The clocks start when a conversation's first message from a person lands (the resolution clock again
when a person writes into a closed conversation). Their due times are computed then and kept on the
conversation (``ConversationItem.sla``), so a later change of the targets never moves a running clock,
and a list of conversations needs no business-hours arithmetic to show each one's state.

Alerting without scanning: while a conversation has an alert to come, it sits in a sparse hour bucket of
GSI1 (``SLADUE#<UTC hour>``, sorted by the alert's time; :func:`place` sets or clears it each time the
conversation is written). :func:`sweep` (the scheduler, every minute) reads the buckets up to now; for
each entry it first *claims* the alert (one conditional write: the entry it read is still there and the
conversation's ``version`` has not moved; the alert joins ``alerted`` and the entry moves to the next
one), then publishes ``InboxSlaBreached``. Claim first, publish second: two sweeps never alert twice;
a crash between the two (milliseconds) loses that alert rather than repeating it, and the conversation
still shows as breached in the inbox. Level 1 tells the assignee (the admins when nobody is assigned),
level 2 (``escalate_after_minutes`` later, still unanswered) the admins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chorus.errors import ValidationFailed
from chorus.events.envelope import DomainEvent, EventPublisher
from chorus.inbox import keys as ik
from chorus.inbox.store import ConversationItem, SlaPolicyItem
from chorus.store import keys
from chorus.store.models import MainItem, bind
from chorus.store.notifications import Notification
from chorus.ttl import TtlCache

log = logging.getLogger(__name__)

FIRST, RESOLUTION = "first_response", "resolution"
TARGETS = (FIRST, RESOLUTION)
MAX_TARGET_MINUTES = 60 * 24 * 60  # 60 days
CATCH_UP_HOURS = 48  # on the hour, a sweep also reads the buckets of the two days before
DAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


@dataclass(frozen=True)
class BusinessHours:
    days: frozenset[int]  # ISO weekdays, 1 = Monday
    start: time
    end: time

    def windows(self, since: datetime, zone: ZoneInfo) -> Iterable[tuple[datetime, datetime]]:
        """The business windows (UTC) that end after ``since``, in order, for at most two years."""
        day = since.astimezone(zone).date() - timedelta(days=1)
        for _ in range(740):
            if day.isoweekday() in self.days:
                begin = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
                end = datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
                if end > since:
                    yield begin, end
            day += timedelta(days=1)


@dataclass(frozen=True)
class SlaPolicy:
    first_response_minutes: int | None
    resolution_minutes: int | None
    timezone: str = "UTC"
    hours: BusinessHours | None = None  # None: around the clock
    nearing_at: float = 0.8  # the share of a target spent when a conversation is "nearing" it
    escalate_after_minutes: int | None = None

    def minutes(self, target: str) -> int | None:
        return self.first_response_minutes if target == FIRST else self.resolution_minutes

    def add(self, start: datetime, minutes: float) -> datetime:
        """``minutes`` of business time after ``start``."""
        if self.hours is None:
            return start + timedelta(minutes=minutes)
        left = timedelta(minutes=minutes)
        for begin, end in self.hours.windows(start, ZoneInfo(self.timezone)):
            begin = max(begin, start)
            if begin + left <= end:
                return begin + left
            left -= end - begin
        raise ValidationFailed.on("business_hours", "no business time within two years", "range")

    def to_dict(self) -> dict[str, Any]:
        hours = None
        if self.hours is not None:
            names = {n: d for d, n in DAYS.items()}
            hours = {
                "days": [names[d] for d in sorted(self.hours.days)],
                "start": self.hours.start.strftime("%H:%M"),
                "end": self.hours.end.strftime("%H:%M"),
            }
        return {
            "first_response_minutes": self.first_response_minutes,
            "resolution_minutes": self.resolution_minutes,
            "timezone": self.timezone,
            "business_hours": hours,
            "nearing_at": self.nearing_at,
            "escalate_after_minutes": self.escalate_after_minutes,
        }


def policy_from(raw: dict[str, Any], timezone: str) -> SlaPolicy:
    """The policy a ``PUT /inbox/sla`` body describes (422 naming the field otherwise)."""
    targets: dict[str, int | None] = {}
    for name in ("first_response_minutes", "resolution_minutes", "escalate_after_minutes"):
        value = raw.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TARGET_MINUTES
        ):
            raise ValidationFailed.on(name, f"must be whole minutes from 1 to {MAX_TARGET_MINUTES}", "range")
        targets[name] = value
    nearing = raw.get("nearing_at", 0.8)
    if isinstance(nearing, bool) or not isinstance(nearing, int | float) or not 0 < nearing < 1:
        raise ValidationFailed.on("nearing_at", "must be a share of the target between 0 and 1", "range")
    hours = None
    if raw.get("business_hours") is not None:
        hours = _hours(raw["business_hours"])
    return SlaPolicy(
        targets["first_response_minutes"],
        targets["resolution_minutes"],
        timezone,
        hours,
        float(nearing),
        targets["escalate_after_minutes"],
    )


def _hours(raw: Any) -> BusinessHours:
    if not isinstance(raw, dict):
        raise ValidationFailed.on("business_hours", "must be an object with days, start and end", "type")
    days = raw.get("days")
    if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
        raise ValidationFailed.on("business_hours.days", f"must list days from {', '.join(DAYS)}", "enum")
    bounds: list[time] = []
    for name in ("start", "end"):
        try:
            bounds.append(time.fromisoformat(str(raw.get(name))))
        except ValueError:
            raise ValidationFailed.on(
                f"business_hours.{name}", "must be a time such as 09:00", "format"
            ) from None
    if bounds[0] >= bounds[1]:
        raise ValidationFailed.on("business_hours.end", "must be after start", "range")
    return BusinessHours(frozenset(DAYS[d] for d in days), bounds[0], bounds[1])


# ------------------------------------------------------------------------------ the workspace's policy
POLICY_TTL_S = 30.0
_current: TtlCache[str, SlaPolicy | None] = TtlCache(POLICY_TTL_S)


def get_policy(workspace_id: str) -> SlaPolicy | None:
    bind()
    try:
        item = SlaPolicyItem.get(keys.workspace_pk(workspace_id), ik.sla_sk())
    except DoesNotExist:
        return None
    return policy_from(item.policy or {}, item.timezone)


def current_policy(workspace_id: str) -> SlaPolicy | None:
    """The policy ingest applies: read at most every POLICY_TTL_S per process."""
    return _current.get(workspace_id, get_policy)


def set_policy(workspace_id: str, raw: dict[str, Any], timezone: str) -> SlaPolicy:
    policy = policy_from(raw, timezone)
    bind()
    SlaPolicyItem(
        keys.workspace_pk(workspace_id),
        ik.sla_sk(),
        workspace_id=workspace_id,
        timezone=timezone,
        policy=policy.to_dict(),
        updated_at=datetime.now(UTC),
    ).save()
    _current.forget(workspace_id)
    return policy


def clear_policy(workspace_id: str) -> None:
    bind()
    SlaPolicyItem(keys.workspace_pk(workspace_id), ik.sla_sk()).delete()
    _current.forget(workspace_id)


# ------------------------------------------------------------------------------ clocks of a conversation
def start(conv: ConversationItem, policy: SlaPolicy | None, at: datetime, reopened: bool) -> None:
    """Start the clocks a person's message at ``at`` starts: both on the conversation's first inbound
    message, the resolution clock again when it reopens a closed conversation."""
    if policy is None:
        return
    clocks: dict[str, Any] = dict(conv.sla or {})
    if reopened:
        names = [RESOLUTION]
    else:  # a conversation answered before the targets were set starts no first-response clock
        names = [t for t in TARGETS if t not in clocks and (t != FIRST or conv.first_response_at is None)]
    for target in names:
        minutes = policy.minutes(target)
        if minutes is None:
            continue
        clocks[target] = {
            "start": keys.iso(at),
            "due": keys.iso(policy.add(at, minutes)),
            "warn": keys.iso(policy.add(at, minutes * policy.nearing_at)),
        }
        clocks["alerted"] = [a for a in clocks.get("alerted", []) if not a.startswith(target)]
    if policy.escalate_after_minutes:
        clocks["escalate_s"] = policy.escalate_after_minutes * 60
    if names:
        conv.sla = clocks


def _running(conv: ConversationItem, target: str) -> bool:
    if conv.status == "closed":
        return False
    return target == RESOLUTION or conv.first_response_at is None


def next_alert(conv: ConversationItem) -> tuple[datetime, str] | None:
    """The conversation's next alert: when, and which (``first_response``, ``first_response.escalate``,
    ``resolution``, ``resolution.escalate``); None when none is to come."""
    clocks = conv.sla or {}
    alerted = set(clocks.get("alerted", []))
    found: list[tuple[datetime, str]] = []
    for target in TARGETS:
        clock = clocks.get(target)
        if not clock or not _running(conv, target):
            continue
        due = keys.parse_iso(clock["due"])
        if target not in alerted:
            found.append((due, target))
        elif clocks.get("escalate_s") and f"{target}.escalate" not in alerted:
            found.append((due + timedelta(seconds=clocks["escalate_s"]), f"{target}.escalate"))
    return min(found) if found else None


def bucket(at: datetime) -> str:
    return "SLADUE#" + at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def entry(conv: ConversationItem) -> tuple[str, str] | None:
    """The conversation's (gsi1pk, gsi1sk) in the alert index; None: out of it."""
    found = next_alert(conv)
    if found is None:
        return None
    at, stage = found
    return bucket(at), f"{keys.iso(at)}#{conv.workspace_id}#{conv.conversation_id}#{stage}"


def place(conv: ConversationItem) -> None:
    """Put the conversation in the alert index where its next alert is due (or take it out)."""
    found = entry(conv)
    conv.gsi1pk, conv.gsi1sk = found if found else (None, None)


def view(conv: ConversationItem, now: datetime | None = None) -> dict[str, Any] | None:
    """Each target's due time and state: ``ok``, ``nearing``, ``breached`` while running; ``met`` or
    ``missed`` once done (first response given, conversation closed)."""
    clocks = conv.sla or {}
    if not any(t in clocks for t in TARGETS):
        return None
    now = now or datetime.now(UTC)
    found: dict[str, Any] = {}
    for target in TARGETS:
        clock = clocks.get(target)
        if not clock:
            continue
        due = keys.parse_iso(clock["due"])
        done = (
            conv.first_response_at
            if target == FIRST
            else (conv.closed_at if conv.status == "closed" else None)
        )
        if done is not None:
            state = "met" if done <= due else "missed"
        elif now >= due:
            state = "breached"
        elif now >= keys.parse_iso(clock["warn"]):
            state = "nearing"
        else:
            state = "ok"
        found[target] = {"due_at": clock["due"], "state": state}
    return found


def met(conv: ConversationItem, target: str) -> bool | None:
    """Whether ``target`` was met (None: no clock for it, or not done yet)."""
    state = (view(conv) or {}).get(target, {}).get("state")
    return None if state not in ("met", "missed") else state == "met"


def flagged(conv: ConversationItem, wanted: str, now: datetime | None = None) -> bool:
    """The inbox filter ``sla=``: ``breached`` or ``nearing`` (either target), ``ok``."""
    states = {v["state"] for v in (view(conv, now) or {}).values()}
    if wanted == "ok":
        return bool(states) and not states & {"breached", "nearing"}
    return wanted in states


# ------------------------------------------------------------------------------ alerts
def due(now: datetime) -> list[ConversationItem]:
    """Conversations whose next alert is due by ``now`` (this hour's bucket and the last one's; on the
    hour also the ``CATCH_UP_HOURS`` before, so an outage is caught up)."""
    bind()
    back = CATCH_UP_HOURS if now.minute == 0 else 1
    found: list[ConversationItem] = []
    for hours in range(back, -1, -1):
        hour = bucket(now - timedelta(hours=hours))
        for item in MainItem.due_index.query(hour, MainItem.gsi1sk <= keys.iso(now) + "~"):
            if isinstance(item, ConversationItem):
                found.append(item)
    return found


def _claim(conv: ConversationItem, stage: str, now: datetime) -> bool:
    """Record ``stage`` as alerted and move the conversation to its next entry, if nobody did."""
    read_sk, read_version = conv.gsi1sk, int(conv.version or 0)
    clocks = dict(conv.sla or {})
    clocks["alerted"] = [*clocks.get("alerted", []), stage]
    conv.sla = clocks
    place(conv)
    actions: list[Action] = [
        ConversationItem.sla.set(clocks),
        ConversationItem.version.set(read_version + 1),
        ConversationItem.updated_at.set(now),
    ]
    actions += (
        [ConversationItem.gsi1pk.set(conv.gsi1pk), ConversationItem.gsi1sk.set(conv.gsi1sk)]
        if conv.gsi1pk
        else [ConversationItem.gsi1pk.remove(), ConversationItem.gsi1sk.remove()]
    )
    try:
        conv.update(
            actions=actions,
            condition=(ConversationItem.gsi1sk == read_sk) & (ConversationItem.version == read_version),
        )
    except UpdateError:
        return False  # another sweep claimed it, or the conversation moved (its next write re-places it)
    return True


def breached_event(conv: ConversationItem, stage: str) -> DomainEvent:
    target, _, escalation = stage.partition(".")
    clock = (conv.sla or {}).get(target, {})
    notify = "admins" if escalation or not conv.assignee else "assignee"
    return DomainEvent(
        "InboxSlaBreached",
        conv.workspace_id,
        {
            "conversation_id": conv.conversation_id,
            "account_id": conv.account_id,
            "platform": conv.platform,
            "target": target,
            "level": 2 if escalation else 1,
            "due_at": clock.get("due"),
            "notify": notify,
            "assignee": conv.assignee,
            "preview": conv.preview,
        },
    )


def admins(workspace_id: str) -> list[str]:
    """The workspace's owners and admins, as actors (``user:<id>``)."""
    from chorus.auth.members import members_of
    from chorus.auth.roles import Role

    return [f"user:{m.user_id}" for m in members_of(workspace_id) if m.role in (Role.OWNER, Role.ADMIN)]


def notices(event: DomainEvent, people: Callable[[str], list[str]] = admins) -> list[Notification]:
    """The breach in the notification lists of the people it is for: the assignee, or the admins."""
    from chorus.notifications import notice, render

    data = event.data
    recipients = [str(data["assignee"])] if data["notify"] == "assignee" else people(event.workspace_id)
    subject, text = render(event)
    return [
        notice(
            workspace_id=event.workspace_id,
            recipient=person,
            topic="inbox.sla_breached",
            about=f"{data['conversation_id']}#{data['target']}#{data['level']}",
            at=event.time,
            subject=subject,
            text=text,
            account_id=str(data["account_id"]),
            platform=str(data["platform"]),
        )
        for person in recipients
    ]


def sweep(now: datetime, events: EventPublisher, people: Callable[[str], list[str]] = admins) -> list[str]:
    """Alert every breach due by ``now`` once, on the alerts topic and in the notification lists of the
    people it is for; the stages alerted, as ``<conversation>:<stage>``."""
    from chorus.notifications import tell

    alerted: list[str] = []
    for conv in due(now):
        stage = (conv.gsi1sk or "").rsplit("#", 1)[-1]
        if not stage or not _claim(conv, stage, now):
            continue
        event = breached_event(conv, stage)
        events.publish([event])
        tell(notices(event, people))
        alerted.append(f"{conv.conversation_id}:{stage}")
        log.info("sla breached", extra={"conversation_id": conv.conversation_id, "stage": stage})
    return alerted
