"""Week summaries: what a report needs of a whole week of one account's posts, kept beside its scores.

A week item (``M#<ws>#<acct>`` / ``W#<Monday>``, see :mod:`chorus.metrics.store`) holds ``scores``, the
compact score of every post published that UTC ISO week. A year's report over 20 busy accounts would
decode and rate ~146,000 of them for three things: the top and bottom posts, the best-times heatmap and
nothing else (the sums come from the day/month rollups). Both are mergeable, so the writer keeps, in the
same update that rewrites ``scores``, one more string attribute ``summary`` (JSON):

* ``k``, ``c``: the **candidates**, the encoded scores of the ``k`` best and ``k`` worst posts of the week
  in each of two groups: posts rated over impressions or reach (their rate is fixed once collected),
  ranked as the report ranks (rate, then engagements, then id), and posts with neither (rated over the
  account's followers at the *end of the report's period*, unknown when writing: for one account that
  divides every post by the same number, so their order is by engagements, then id, whatever it is).
  A post among the report's top (bottom) ``n <= k`` is among the top (bottom) ``k`` of its own group in
  its own week, so the merged candidates of the weeks rank exactly like all the posts.
* ``q``, ``n``, ``p``, ``s``: the **heatmap** contributions of the rated-over-impressions/reach posts by UTC
  quarter hour of the week (0..671; every zone offset is a multiple of 15 minutes, so a quarter hour
  falls in one local weekday/hour whatever the report's zone): the quarter, the posts in it and the
  *exact* sum of their rates as ``p`` non-overlapping floats (Shewchuk's partials, as :func:`math.fsum`
  keeps them), all quarters' partials in one flat list ``s``. A report adds the partials of every week into its 168 local cells and takes :func:`math.fsum`:
  the correctly rounded sum of the posts' rates, the same number whichever weeks come summarised and
  which per post (:mod:`.besttimes` sums per post with :func:`math.fsum` too).
* ``fq``, ``fn``, ``fe``: the quarters, posts and (flat) engagements of the posts without impressions
  or reach, divided by the account's followers when the report knows them (as it rates them per post).

Every list is flat (numbers only): a year's report decodes ~1,000 summaries, and nested lists would
be ~130,000 more container objects for the garbage collector to walk in a process that holds many
(measured: 0.9 s instead of 0.05 s of decoding on the embedded runtime).

A report uses the summary of the weeks wholly inside its UTC range and reads the edge weeks (and any
week written before summaries existed, or summarised for fewer than the report's ``n``) per post.
Size: a week of 140 posts summarises in ~5 KB (~127 quarters), far under DynamoDB's 400 KB item limit
even for 1,000 posts a week (672 quarters at most).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

SUMMARY = "summary"  # the week item's attribute
SUMMARY_VERSION = 1
SUMMARY_K = 5  # candidates kept per group and end: the report's top/bottom list length
QUARTER = 900
QUARTERS = 7 * 24 * 4
WEEK = 7 * 86_400
_FIRST_MONDAY = 4 * 86_400  # 1970-01-05, a Monday (Unix time 0 is a Thursday)


def msum(values: Iterable[float]) -> list[float]:
    """Shewchuk's non-overlapping partials of ``values``: their exact sum is the exact sum of the values
    (the algorithm :func:`math.fsum` uses; here the partials themselves are kept, to merge later)."""
    partials: list[float] = []
    for x in values:
        i = 0
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo:
                partials[i] = lo
                i += 1
            x = hi
        partials[i:] = [x]
    return [p for p in partials if p] or [0.0]


@dataclass
class WeekSummary:
    """A decoded ``summary`` of one week item (see the module docstring)."""

    monday: date
    k: int
    quarters: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)  # posts in each quarter
    partials: list[int] = field(default_factory=list)  # how many of ``sums`` each quarter has
    sums: list[float] = field(default_factory=list)  # the quarters' partials, one after the other
    follower_quarters: list[int] = field(default_factory=list)
    follower_counts: list[int] = field(default_factory=list)  # posts in each quarter
    follower_engagements: list[int] = field(default_factory=list)  # theirs, one quarter after the other
    candidates: dict[str, str] = field(default_factory=dict)  # platform post id -> encoded score

    @property
    def monday_ts(self) -> int:
        return (self.monday - date(1970, 1, 1)).days * 86_400


def _parts(encoded: str) -> tuple[int, int, int | None, int | None]:
    published, engagements, impressions, reach = encoded.split("|")
    return (
        int(published),
        int(engagements),
        int(impressions) if impressions else None,
        int(reach) if reach else None,
    )


def summarise(monday: date, scores: Mapping[str, str], k: int = SUMMARY_K) -> str:
    """The ``summary`` attribute of the week starting ``monday`` holding ``scores`` (post id -> encoded
    :class:`chorus.metrics.store.PostScore`)."""
    monday_ts = (monday - date(1970, 1, 1)).days * 86_400
    rated: list[tuple[float, int, str]] = []
    by_followers: list[tuple[int, str]] = []
    heat: dict[int, list[float]] = {}
    follower_heat: dict[int, list[int]] = {}
    for post_id, encoded in scores.items():
        published, engagements, impressions, reach = _parts(encoded)
        quarter = min(max((published - monday_ts) // QUARTER, 0), QUARTERS - 1)
        denominator = impressions or reach
        if denominator:
            rate = engagements / denominator
            rated.append((-rate, -engagements, post_id))
            heat.setdefault(quarter, []).append(rate)
        else:
            by_followers.append((-engagements, post_id))
            follower_heat.setdefault(quarter, []).append(engagements)
    chosen = {e[2] for e in heapq.nsmallest(k, rated)} | {e[2] for e in heapq.nlargest(k, rated)}
    chosen |= {e[1] for e in heapq.nsmallest(k, by_followers)} | {
        e[1] for e in heapq.nlargest(k, by_followers)
    }
    quarters = sorted(heat)
    follower_quarters = sorted(follower_heat)
    partials = [msum(heat[q]) for q in quarters]
    body: dict[str, Any] = {
        "v": SUMMARY_VERSION,
        "k": k,
        "q": quarters,
        "n": [len(heat[q]) for q in quarters],
        "p": [len(p) for p in partials],
        "s": [x for p in partials for x in p],
        "fq": follower_quarters,
        "fn": [len(follower_heat[q]) for q in follower_quarters],
        "fe": [e for q in follower_quarters for e in follower_heat[q]],
        "c": {post_id: scores[post_id] for post_id in sorted(chosen)},
    }
    return json.dumps(body, separators=(",", ":"))


def decode(monday: date, text: str | None) -> WeekSummary | None:
    """The summary held in ``text`` (``None``: absent, or written in another format version)."""
    if not text:
        return None
    body: dict[str, Any] = json.loads(text)
    if body.get("v") != SUMMARY_VERSION:
        return None
    return WeekSummary(
        monday=monday,
        k=int(body["k"]),
        quarters=body["q"],
        counts=body["n"],
        partials=body["p"],
        sums=body["s"],
        follower_quarters=body["fq"],
        follower_counts=body["fn"],
        follower_engagements=body["fe"],
        candidates=body["c"],
    )


# ------------------------------------------------------------------ local cells of UTC quarter hours


def week_monday_ts(ts: int) -> int:
    """The Unix time of 00:00 UTC on the Monday of the UTC week holding ``ts``."""
    return ts - (ts - _FIRST_MONDAY) % WEEK


@lru_cache(maxsize=4096)
def local_cells(monday_ts: int, tz: str) -> tuple[int, ...]:
    """The local weekday x hour cell (``weekday * 24 + hour`` in ``tz``) of each UTC quarter hour of the
    week starting at ``monday_ts``. A UTC day whose offset is the same at its first and last quarter
    is shifted by that offset; a day with a change is converted quarter by quarter (exact over DST)."""
    zone = ZoneInfo(tz)

    def offset(ts: int) -> int:
        found = datetime.fromtimestamp(ts, zone).utcoffset() or timedelta(0)
        return int(found.total_seconds())

    cells: list[int] = []
    for day in range(7):
        day_ts = monday_ts + day * 86_400
        first, last = offset(day_ts), offset(day_ts + 86_400 - QUARTER)
        for q in range(96):
            ts = day_ts + q * QUARTER
            local = ts + (first if first == last else offset(ts))
            cells.append(((local // 86_400 + 3) % 7) * 24 + local % 86_400 // 3600)
    return tuple(cells)
