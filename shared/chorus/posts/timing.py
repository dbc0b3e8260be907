"""Time: local wall-clock times in IANA zones (DST-safe), weekly queue slots, recurrence."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chorus.dates import within_years
from chorus.errors import ValidationFailed

MAX_OCCURRENCES = 100


def to_utc(value: datetime, timezone: str) -> datetime:
    """A naive value is a wall-clock time in ``timezone``; an aware one keeps its own offset.

    Two kinds of local times need a rule (see "Scheduling" in the README):

    * A time that does not exist (the hour skipped when clocks go forward) moves forward by the
      gap, as calendars do: 02:30 on Paris's spring-forward day is published at 03:30 local
      (01:30 UTC), never at 01:30 local.
    * An ambiguous time (the hour repeated when clocks go back) is its first occurrence: 02:30 on
      Paris's fall-back day is 02:30 summer time (00:30 UTC), not an hour later.

    Both follow from PEP 495's ``fold=0``: for a skipped time it applies the offset in force before
    the transition, which lands after the gap; for a repeated time it picks the earlier one."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return value.replace(tzinfo=ZoneInfo(timezone), fold=0).astimezone(UTC)


def parse_time(text: str, field: str = "scheduled_at") -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationFailed.on(field, f"not an ISO-8601 date-time: {text!r}", "datetime") from exc
    within_years(value, field)
    return value


@dataclass(frozen=True)
class Slot:
    weekday: int  # 0 = Monday
    at: time

    def to_dict(self) -> dict[str, object]:
        return {"weekday": self.weekday, "time": self.at.strftime("%H:%M")}


def parse_slots(raw: Iterable[dict[str, object]]) -> list[Slot]:
    slots = []
    for i, entry in enumerate(raw):
        try:
            weekday = int(str(entry["weekday"]))
            hh, mm = str(entry["time"]).split(":")
            slot = Slot(weekday, time(int(hh), int(mm)))
        except (KeyError, ValueError) as exc:
            raise ValidationFailed.on(f"slots[{i}]", "needs weekday 0-6 and time HH:MM", "slot") from exc
        if not 0 <= slot.weekday <= 6:
            raise ValidationFailed.on(f"slots[{i}].weekday", "must be 0 (Monday) to 6 (Sunday)", "range")
        slots.append(slot)
    return sorted(set(slots), key=lambda s: (s.weekday, s.at))


QUEUE_DAYS = 7 * 52  # how far ahead (local days) the queue looks for a free slot


def slot_times(slots: list[Slot], timezone: str, after: datetime) -> Iterator[datetime]:
    """Every slot time after ``after`` (UTC, in time order) over the next :data:`QUEUE_DAYS` local
    days of ``timezone``. A slot in the hour skipped when clocks go forward is taken after the gap
    (02:30 -> 03:30); in the hour repeated when they go back, at its first occurrence only (see
    :func:`to_utc`)."""
    if not slots:
        raise ValidationFailed.on(
            "mode", "the workspace has no queue time slots (PUT /queue/slots)", "no_slots"
        )
    local_now = after.astimezone(ZoneInfo(timezone))
    for day in range(QUEUE_DAYS):
        current = local_now.date() + timedelta(days=day)
        for slot in slots:
            if slot.weekday != current.weekday():
                continue
            at = to_utc(datetime.combine(current, slot.at), timezone)
            if at > after:
                yield at


def queue_full() -> ValidationFailed:
    return ValidationFailed.on("mode", "no free queue slot in the next year", "queue_full")


def next_free_slot(slots: list[Slot], timezone: str, now: datetime, taken: set[datetime]) -> datetime:
    """The first slot time after ``now`` (in the workspace's zone) that no queued post holds
    (:func:`slot_times`)."""
    for at in slot_times(slots, timezone, now):
        if at not in taken:
            return at
    raise queue_full()


@dataclass(frozen=True)
class Recurrence:
    every: int
    unit: str  # day | week
    until: date | None = None
    count: int | None = None

    def occurrences(self, first_local: datetime, timezone: str) -> list[datetime]:
        """UTC times of each occurrence, keeping the local wall-clock time across DST changes (by the
        rules of :func:`to_utc` on the days a time is skipped or repeated)."""
        if self.every < 1:
            raise ValidationFailed.on("recurrence.every", "must be at least 1", "range")
        if self.unit not in {"day", "week"}:
            raise ValidationFailed.on("recurrence.unit", "must be day or week", "enum")
        if self.until is None and self.count is None:
            raise ValidationFailed.on("recurrence", "needs until or count", "required")
        limit = min(self.count or MAX_OCCURRENCES, MAX_OCCURRENCES)
        step = timedelta(days=self.every * (7 if self.unit == "week" else 1))
        local = (
            first_local.replace(tzinfo=None)
            if first_local.tzinfo is None
            else first_local.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
        )
        out: list[datetime] = []
        while len(out) < limit:
            if self.until and local.date() > self.until:
                break
            # The first keeps an explicit offset it was given; the others keep its wall-clock time
            # (a skipped one moves forward, a repeated one is its first occurrence: see to_utc).
            out.append(to_utc(first_local if not out else local, timezone))
            local += step
        return out


def minutes(start: datetime, end: datetime) -> list[datetime]:
    """Every UTC minute from ``start``'s minute to ``end``'s minute, inclusive."""
    current = start.astimezone(UTC).replace(second=0, microsecond=0)
    last = end.astimezone(UTC).replace(second=0, microsecond=0)
    out = []
    while current <= last:
        out.append(current)
        current += timedelta(minutes=1)
    return out
