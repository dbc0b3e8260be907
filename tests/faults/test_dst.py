"""Times that do not exist or exist twice: a local time in the hour skipped when clocks go forward
moves forward by the gap (02:30 -> 03:30 local); a local time in the hour repeated when they go back
is its first occurrence. Checked in Paris, New York and Sydney (southern hemisphere: forward in
October, back in April) for one-off schedules, recurrence expansion and queue slots, the three places
a local time becomes UTC (``chorus.posts.timing``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from chorus.posts.timing import Recurrence, Slot, next_free_slot, to_utc


@dataclass(frozen=True)
class Change:
    zone: str
    day: date  # the day the clocks change
    local: time  # a wall-clock time that day skipped (gap) or repeated (ambiguous)
    utc: datetime  # where Chorus puts it


GAPS = [
    # 02:30 does not exist: 02:00 CET -> 03:00 CEST; it is published at 03:30 CEST
    Change("Europe/Paris", date(2027, 3, 28), time(2, 30), datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    # 02:00 EST -> 03:00 EDT; 02:30 -> 03:30 EDT
    Change("America/New_York", date(2027, 3, 14), time(2, 30), datetime(2027, 3, 14, 7, 30, tzinfo=UTC)),
    # 02:00 AEST -> 03:00 AEDT on the first Sunday of October; 02:30 -> 03:30 AEDT
    Change("Australia/Sydney", date(2026, 10, 4), time(2, 30), datetime(2026, 10, 3, 16, 30, tzinfo=UTC)),
]
AMBIGUOUS = [
    # 03:00 CEST -> 02:00 CET: 02:30 happens twice; the first is 02:30 CEST
    Change("Europe/Paris", date(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    # 02:00 EDT -> 01:00 EST: 01:30 twice; the first is 01:30 EDT
    Change("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    # 03:00 AEDT -> 02:00 AEST on the first Sunday of April: 02:30 twice; the first is 02:30 AEDT
    Change("Australia/Sydney", date(2027, 4, 4), time(2, 30), datetime(2027, 4, 3, 15, 30, tzinfo=UTC)),
]


def ids(changes: list[Change]) -> list[str]:
    return [c.zone for c in changes]


def wall_clock(at: datetime, zone: str) -> tuple[date, time]:
    local = at.astimezone(ZoneInfo(zone))
    return local.date(), local.time()


@pytest.mark.parametrize("change", GAPS + AMBIGUOUS, ids=ids(GAPS + AMBIGUOUS))
def test_the_cases_are_real_clock_changes(change: Change) -> None:
    # Given each day of the table, the zone's offset differs at its start and at its end (so the
    # tests below are about a real transition, not a typo in a date)
    zone = ZoneInfo(change.zone)
    start = datetime.combine(change.day, time(0, 0), zone).utcoffset()
    end = datetime.combine(change.day, time(23, 0), zone).utcoffset()
    assert start is not None
    assert end is not None
    assert abs(end - start) == timedelta(hours=1)


@pytest.mark.parametrize("change", AMBIGUOUS, ids=ids(AMBIGUOUS))
def test_the_ambiguous_times_happen_twice(change: Change) -> None:
    zone = ZoneInfo(change.zone)
    local = datetime.combine(change.day, change.local)
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    assert second - first == timedelta(hours=1)


# ------------------------------------------------------------------------------------ one-off schedules
@pytest.mark.parametrize("change", GAPS, ids=ids(GAPS))
def test_a_one_off_post_at_a_skipped_time_moves_forward_by_the_gap(change: Change) -> None:
    # Given a post scheduled at 02:30 local on the spring-forward day (a time that never happens)
    # When it becomes UTC
    at = to_utc(datetime.combine(change.day, change.local), change.zone)
    # Then it is published an hour later on the wall clock (03:30), never earlier
    assert at == change.utc
    assert wall_clock(at, change.zone) == (change.day, change.local.replace(hour=change.local.hour + 1))


@pytest.mark.parametrize("change", AMBIGUOUS, ids=ids(AMBIGUOUS))
def test_a_one_off_post_at_a_repeated_time_takes_the_first_occurrence(change: Change) -> None:
    # Given a post scheduled at a wall-clock time that happens twice that night
    at = to_utc(datetime.combine(change.day, change.local), change.zone)
    # Then it is the first of the two, at that very wall-clock time
    assert at == change.utc
    assert wall_clock(at, change.zone) == (change.day, change.local)
    assert at.astimezone(ZoneInfo(change.zone)).fold == 0


@pytest.mark.parametrize("change", AMBIGUOUS, ids=ids(AMBIGUOUS))
def test_an_explicit_offset_chooses_the_second_occurrence(change: Change) -> None:
    # Given the same wall-clock time sent with the offset of its second occurrence
    offset = datetime.combine(change.day, change.local, ZoneInfo(change.zone)).replace(fold=1).utcoffset()
    assert offset is not None
    aware = datetime.combine(change.day, change.local, timezone(offset))
    # Then the offset decides, not the rule for naive times
    assert to_utc(aware, change.zone) == change.utc + timedelta(hours=1)


# ------------------------------------------------------------------------------------ recurrence
@pytest.mark.parametrize("change", GAPS, ids=ids(GAPS))
def test_a_daily_series_through_a_skipped_time_keeps_its_wall_clock_on_the_other_days(
    change: Change,
) -> None:
    # Given a daily post at the skipped time, from the day before the change for three days
    series = Recurrence(every=1, unit="day", count=3)
    first = datetime.combine(change.day - timedelta(days=1), change.local)
    # When it is expanded
    times = series.occurrences(first, change.zone)
    # Then the day of the change is moved forward by the gap, the days around it are not
    local = [wall_clock(t, change.zone) for t in times]
    assert local == [
        (change.day - timedelta(days=1), change.local),
        (change.day, change.local.replace(hour=change.local.hour + 1)),
        (change.day + timedelta(days=1), change.local),
    ]
    assert times[1] == change.utc


@pytest.mark.parametrize("change", AMBIGUOUS, ids=ids(AMBIGUOUS))
def test_a_weekly_series_through_a_repeated_time_posts_once_that_night(change: Change) -> None:
    # Given a weekly post at the repeated time, from a week before the change
    series = Recurrence(every=1, unit="week", count=3)
    times = series.occurrences(datetime.combine(change.day - timedelta(days=7), change.local), change.zone)
    # Then the night of the change has one occurrence, the first, and every one is at that wall clock
    assert times[1] == change.utc
    assert [wall_clock(t, change.zone)[1] for t in times] == [change.local] * 3
    assert len(set(times)) == 3


# ------------------------------------------------------------------------------------ queue slots
@pytest.mark.parametrize("change", GAPS, ids=ids(GAPS))
def test_a_queue_slot_in_a_skipped_hour_is_taken_after_the_gap(change: Change) -> None:
    # Given a weekly slot at the skipped time on the weekday of the change, asked the day before
    slots = [Slot(change.day.weekday(), change.local)]
    now = datetime.combine(change.day - timedelta(days=1), time(12, 0), ZoneInfo(change.zone))
    # When the next free slot is picked
    at = next_free_slot(slots, change.zone, now.astimezone(UTC), taken=set())
    # Then it is that day, an hour later on the wall clock
    assert at == change.utc


@pytest.mark.parametrize("change", AMBIGUOUS, ids=ids(AMBIGUOUS))
def test_a_queue_slot_in_a_repeated_hour_is_offered_once(change: Change) -> None:
    # Given a weekly slot at the repeated time, asked the day before the change
    slots = [Slot(change.day.weekday(), change.local)]
    now = datetime.combine(change.day - timedelta(days=1), time(12, 0), ZoneInfo(change.zone))
    first = next_free_slot(slots, change.zone, now.astimezone(UTC), taken=set())
    # When the first occurrence is taken
    second = next_free_slot(slots, change.zone, now.astimezone(UTC), taken={first})
    # Then the next post goes a week later, not an hour later the same night
    assert first == change.utc
    assert second == change.utc + timedelta(days=7, hours=1)  # a week later, in standard time
    assert wall_clock(second, change.zone) == (change.day + timedelta(days=7), change.local)
