"""Dates a person types (query strings, bodies, CSV cells): inside the years Chorus works with.

Python's dates end at years 1 and 9999, and every range Chorus derives from one (the day before, the
previous period, the Monday of its week, a five-minute window) would overflow near either end: a date
outside ``EARLIEST``..``LATEST`` is refused where it is read, naming its field (a 422, never a 500)."""

from __future__ import annotations

from datetime import date, datetime

from chorus.errors import ValidationFailed

EARLIEST = date(1970, 1, 1)
LATEST = date(2999, 12, 31)


def within_years(value: date | datetime, field: str) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValidationFailed.on(field, f"must be between {EARLIEST} and {LATEST}", "range")
