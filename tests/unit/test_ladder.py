"""The collection age ladder: hourly for a day, 6-hourly to 7 days, daily to 30, weekly to 90, then never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from chorus.metrics.ladder import (
    account_is_due,
    next_account_collection,
    next_post_collection,
    post_band,
    post_is_due,
)

PUBLISHED = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
TICK = timedelta(microseconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def at(age: timedelta) -> datetime:
    return PUBLISHED + age


@pytest.mark.parametrize(
    ("last_age", "expected_next_age"),
    [
        pytest.param(timedelta(0), HOUR, id="collected-at-publish-then-hourly"),
        pytest.param(23 * HOUR, 24 * HOUR, id="last-hour-of-day-one-still-hourly"),
        pytest.param(DAY - TICK, DAY + HOUR - TICK, id="just-before-1-day-hourly"),
        pytest.param(DAY, DAY + 6 * HOUR, id="at-1-day-six-hourly"),
        pytest.param(7 * DAY - TICK, 7 * DAY + 6 * HOUR - TICK, id="just-before-7-days-six-hourly"),
        pytest.param(7 * DAY, 8 * DAY, id="at-7-days-daily"),
        pytest.param(30 * DAY - TICK, 31 * DAY - TICK, id="just-before-30-days-daily"),
        pytest.param(30 * DAY, 37 * DAY, id="at-30-days-weekly"),
        pytest.param(83 * DAY, 90 * DAY, id="weekly-step-landing-on-90-days"),
        pytest.param(86 * DAY, 90 * DAY, id="weekly-step-clamped-to-final-reading-at-90-days"),
        pytest.param(90 * DAY - TICK, 90 * DAY, id="just-before-90-days-final-reading-due-at-90"),
    ],
)
def test_next_post_collection_uses_the_band_of_the_last_collection(
    last_age: timedelta, expected_next_age: timedelta
) -> None:
    # Given a post last collected at `last_age` after publishing
    # When the next collection is computed
    due = next_post_collection(PUBLISHED, at(last_age), now=at(last_age))
    # Then it is one interval of that band later, never past the 90-day mark
    assert due == at(expected_next_age)


@pytest.mark.parametrize("last_age", [90 * DAY, 90 * DAY + TICK, 400 * DAY])
def test_no_collection_is_due_once_a_reading_at_or_after_90_days_exists(last_age: timedelta) -> None:
    # Given a post whose last reading is at or beyond 90 days
    # When asked for the next collection, at any later time
    # Then the ladder is finished
    assert next_post_collection(PUBLISHED, at(last_age), now=at(last_age + 30 * DAY)) is None
    assert not post_is_due(PUBLISHED, at(last_age), now=at(last_age + 30 * DAY))


def test_a_post_never_collected_is_first_due_one_hour_after_publishing() -> None:
    # Given a published post with no collection yet
    # When asked at publish time and at the one-hour mark
    # Then it is due exactly one hour after publishing, not before
    assert next_post_collection(PUBLISHED, None, now=PUBLISHED) == at(HOUR)
    assert not post_is_due(PUBLISHED, None, now=at(HOUR - TICK))
    assert post_is_due(PUBLISHED, None, now=at(HOUR))


def test_an_old_post_never_collected_gets_one_reading_then_stops() -> None:
    # Given a post published 200 days ago that was never collected (an imported post)
    now = at(200 * DAY)
    # When the ladder is asked, then after that reading is taken
    # Then it is due now once, and never again
    assert post_is_due(PUBLISHED, None, now=now)
    assert next_post_collection(PUBLISHED, now, now=now) is None


@pytest.mark.parametrize(
    ("last_age", "interval"),
    [(2 * HOUR, HOUR), (3 * DAY, 6 * HOUR), (10 * DAY, DAY), (40 * DAY, 7 * DAY)],
)
def test_post_is_due_exactly_at_the_next_collection_time(last_age: timedelta, interval: timedelta) -> None:
    # Given a post collected at `last_age`
    last = at(last_age)
    # When asked one tick before, exactly at, and after the interval
    # Then it becomes due exactly when the interval has passed
    assert not post_is_due(PUBLISHED, last, now=last + interval - TICK)
    assert post_is_due(PUBLISHED, last, now=last + interval)
    assert post_is_due(PUBLISHED, last, now=last + interval + 3 * DAY)  # overdue stays due


def test_a_collection_stamped_before_publishing_counts_as_age_zero() -> None:
    # Given a last collection a minute before the publish time (clock skew between machines)
    last = PUBLISHED - timedelta(minutes=1)
    # When the next collection is computed
    # Then the hourly band applies
    assert next_post_collection(PUBLISHED, last, now=PUBLISHED) == last + HOUR


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (-TICK, "not_published"),
        (timedelta(0), "hourly"),
        (DAY - TICK, "hourly"),
        (DAY, "six_hourly"),
        (7 * DAY - TICK, "six_hourly"),
        (7 * DAY, "daily"),
        (30 * DAY - TICK, "daily"),
        (30 * DAY, "weekly"),
        (90 * DAY - TICK, "weekly"),
        (90 * DAY, "done"),
    ],
)
def test_post_band_names_the_band_at_every_edge(age: timedelta, band: str) -> None:
    # Given a post of a given age
    # When its band is asked for logging
    # Then the band's name changes exactly at 1, 7, 30 and 90 days
    assert post_band(PUBLISHED, at(age)) == band


def test_an_account_never_collected_is_due() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    # Given no collection yet, when asked, then it is due now
    assert account_is_due(None, now)
    assert next_account_collection(None, now) == now


@pytest.mark.parametrize(
    ("last", "now", "due"),
    [
        pytest.param(
            datetime(2026, 11, 23, 0, 0, 1, tzinfo=UTC),
            datetime(2026, 11, 23, 23, 59, 59, tzinfo=UTC),
            False,
            id="same-utc-day-not-due",
        ),
        pytest.param(
            datetime(2026, 11, 22, 23, 59, tzinfo=UTC),
            datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
            True,
            id="next-utc-day-due-at-midnight",
        ),
        pytest.param(
            datetime(2026, 11, 22, 23, 59, tzinfo=UTC),
            datetime(2026, 11, 22, 23, 59, 59, 999999, tzinfo=UTC),
            False,
            id="one-tick-before-midnight-not-due",
        ),
        pytest.param(
            datetime(2026, 11, 23, 7, 0, tzinfo=timezone(timedelta(hours=8))),  # 2026-11-22T23:00Z
            datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
            True,
            id="days-are-utc-days-whatever-the-offset",
        ),
    ],
)
def test_account_metrics_are_due_once_per_utc_day(last: datetime, now: datetime, due: bool) -> None:
    # Given an account last collected at `last`
    # When asked at `now`
    # Then it is due once the UTC day has changed
    assert account_is_due(last, now) is due


def test_next_account_collection_is_the_next_utc_midnight() -> None:
    last = datetime(2026, 11, 22, 18, 45, tzinfo=UTC)
    assert next_account_collection(last, last) == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    # Given a naive datetime, when the ladder is asked, then it refuses rather than guess a zone
    with pytest.raises(ValueError, match="timezone-aware"):
        post_is_due(datetime(2026, 1, 1), None, now=PUBLISHED)
    with pytest.raises(ValueError, match="timezone-aware"):
        account_is_due(datetime(2026, 1, 1), now=PUBLISHED)
