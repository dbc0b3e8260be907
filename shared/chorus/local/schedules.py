"""EventBridge schedule expressions: ``rate(...)``, ``cron(...)`` (six fields) and ``at(...)``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).rstrip("s")]


def _field_matches(spec: str, value: int, lo: int) -> bool:
    if spec in {"*", "?"}:
        return True
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in {"*", ""}:
            start, end = lo, 10_000
        elif "-" in part:
            a, b = part.split("-")
            start, end = int(a), int(b)
        else:
            start = int(part)
            end = start if step == 1 else 10_000
        if start <= value <= end and (value - start) % step == 0:
            return True
    return False


_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def _dow(spec: str) -> str:
    for name, num in _DAYS.items():
        spec = spec.replace(name, str(num))
    return spec


def cron_next(expression: str, after: datetime) -> datetime:
    """Next minute strictly after ``after`` matching an EventBridge cron (min hour dom month dow year)."""
    inner = expression.strip()[len("cron(") : -1].split()
    if len(inner) != 6:
        raise ValueError(f"cron needs six fields: {expression}")
    minute, hour, dom, month, dow, year = inner
    dow = _dow(dow.upper())
    at = after.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(366 * 24 * 60):
        if (
            _field_matches(minute, at.minute, 0)
            and _field_matches(hour, at.hour, 0)
            and _field_matches(dom, at.day, 1)
            and _field_matches(month, at.month, 1)
            and _field_matches(dow, (at.isoweekday() % 7) + 1, 1)
            and _field_matches(year, at.year, 1970)
        ):
            return at
        at += timedelta(minutes=1)
    raise ValueError(f"cron never fires within a year: {expression}")


def next_fire(expression: str, after: datetime) -> datetime | None:
    seconds = rate_seconds(expression)
    if seconds is not None:
        return after + timedelta(seconds=seconds)
    if expression.startswith("cron("):
        return cron_next(expression, after)
    if expression.startswith("at("):
        at = datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC)
        return at if at > after else None
    raise ValueError(f"unsupported schedule expression {expression!r}")
