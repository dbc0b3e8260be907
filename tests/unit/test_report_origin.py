"""Reports tell posts published through Chorus from posts made on the platform (``external``) and
filter by origin: the posts lists, the heatmap and the post counts, in every format (moto).

Data (UTC; period Mar 8..14 2026, previous Mar 1..7), one X account:
  c1 Chorus post, Mar 9 10:00: likes 30 of 1000 impressions (rate 0.03)
  e1 external,    Mar 10 10:00: likes 50 of 1000 impressions (rate 0.05)
  e2 external,    Mar 11 10:00: noted, not collected yet (an unfolded post: counted, not ranked)
  c0 Chorus post, Mar 2 10:00 (previous period); e0 external, Mar 3 10:00 (previous period)
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from chorus.errors import ValidationFailed
from chorus.metrics.store import MetricsStore, PostInfo
from chorus.platforms.base import MetricPoint, MetricScope
from chorus.reports.builder import build_report
from chorus.reports.model import AccountRef, Period, Report
from chorus.reports.render import ReportFormat, render
from chorus.reports.service import ReportQuery, parse_query
from tests.unit.test_collection_service import dynamo  # noqa: F401 (the moto fixture)

WS = "ws-1"
X = AccountRef("acc-x", "x", "Acme X", "@acme")
PERIOD = Period(date(2026, 3, 8), date(2026, 3, 14), "UTC")
GENERATED = datetime(2026, 3, 15, 6, 0, tzinfo=UTC)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def store(dynamo: Any) -> MetricsStore:  # noqa: F811 (dynamo: the moto fixture, imported)
    metrics = MetricsStore()
    for pid, day, likes, chorus_id in (
        ("c1", 9, 30, "post-1"),
        ("e1", 10, 50, None),
        ("c0", 2, 5, "post-0"),
        ("e0", 3, 7, None),
    ):
        info = PostInfo(pid, "x", at(day), f"text {pid}", f"https://x.com/i/web/status/{pid}", chorus_id)
        metrics.note_published(WS, X.account_id, info)
        seen = at(day, 11)
        points = [
            MetricPoint(MetricScope.POST, pid, "likes", likes, seen),
            MetricPoint(MetricScope.POST, pid, "impressions", 1000, seen),
        ]
        metrics.record_post_points(WS, X.account_id, info, points)
    metrics.note_published(WS, X.account_id, PostInfo("e2", "x", at(11), "text e2", None, None))
    return metrics


def report(store: MetricsStore, origin: str | None) -> Report:
    return build_report(
        WS,
        PERIOD,
        [X.account_id],
        "UTC",
        accounts_info={X.account_id: X},
        store=store,
        clock=lambda: GENERATED,
        origin=origin,
        max_workers=1,
    )


def test_every_post_row_says_its_origin(store: MetricsStore) -> None:
    found = report(store, None)
    assert [(p.post_id, p.origin) for p in found.top_posts] == [
        ("e1", "external"),
        ("post-1", "chorus"),
    ]
    assert found.overall.posts_published.current == 3
    assert found.overall.posts_published.previous == 2
    assert found.origin is None


def test_the_origin_filter_keeps_the_posts_and_counts_of_that_origin(store: MetricsStore) -> None:
    external = report(store, "external")
    assert [p.post_id for p in external.top_posts + external.bottom_posts] == ["e1"]  # e2 has no rate yet
    assert {p.origin for p in external.top_posts} == {"external"}
    assert (external.overall.posts_published.current, external.overall.posts_published.previous) == (2, 1)
    assert external.origin == "external"
    chorus = report(store, "chorus")
    assert [p.post_id for p in chorus.top_posts + chorus.bottom_posts] == ["post-1"]
    assert (chorus.overall.posts_published.current, chorus.overall.posts_published.previous) == (1, 1)
    # the heatmap is the filtered posts' only (one rated Chorus post: Monday 10h)
    assert [(c.weekday, c.hour, c.posts) for c in chorus.heatmap if c.posts] == [(0, 10, 1)]


def test_every_format_shows_the_origin_and_the_filter(store: MetricsStore) -> None:
    external = report(store, "external")
    as_json = json.loads(render(external, ReportFormat.JSON)[0])
    assert as_json["origin"] == "external"
    assert [p["origin"] for p in as_json["top_posts"]] == ["external"]
    rows = list(csv.reader(io.StringIO(render(external, ReportFormat.CSV)[0].decode("utf-8-sig"))))
    header = next(r for r in rows if "Origin" in r)
    origin_at = header.index("Origin")
    assert [
        r[origin_at]
        for r in rows[rows.index(header) + 1 :]
        if len(r) > origin_at and r[origin_at] in ("chorus", "external")
    ] == ["external"]
    html = render(external, ReportFormat.HTML)[0].decode()
    assert "external posts only" in html
    assert ">Origin</th>" in html
    pdf = render(external, ReportFormat.PDF)[0]
    assert pdf.startswith(b"%PDF")


def test_a_report_of_all_posts_says_nothing_of_origin_in_its_subtitle(store: MetricsStore) -> None:
    html = render(report(store, None), ReportFormat.HTML)[0].decode()
    assert "posts only" not in html


def test_the_origin_parameter_is_validated_and_kept() -> None:
    now = datetime(2026, 3, 15, tzinfo=UTC)
    assert parse_query({"origin": "External"}, "UTC", now).origin == "external"
    assert parse_query({}, "UTC", now).origin is None
    with pytest.raises(ValidationFailed) as raised:
        parse_query({"origin": "mine"}, "UTC", now)
    assert raised.value.status == 422
    assert raised.value.detail.startswith("origin:")
    assert "origin" in json.dumps(raised.value.problem())
    query = parse_query({"origin": "chorus"}, "UTC", now)
    assert ReportQuery.from_dict(query.to_dict()) == query


def test_the_builder_refuses_an_unknown_origin(store: Any) -> None:
    with pytest.raises(ValueError, match="origin"):
        report(store, "mine")
