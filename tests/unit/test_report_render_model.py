"""The report data model: engagement rate rules, comparisons, and a lossless dict round trip."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from chorus.reports.model import (
    GoalRow,
    HeatmapCell,
    KpiValue,
    Period,
    RateBasis,
    Report,
    SentimentShare,
    best_slots,
    change_pct,
    engagement_rate,
    engagements_total,
    share_of_voice,
)
from chorus.reports.render.sample import sample_report


def test_engagements_add_likes_comments_shares_quotes_saves_and_clicks() -> None:
    # Given one of each interaction count
    # When they are totalled
    total = engagements_total(likes=1, comments=2, shares=4, quotes=8, saves=16, clicks=32)
    # Then every kind counts once
    assert total == 63


def test_engagement_rate_is_per_impression_when_impressions_exist() -> None:
    rate, basis = engagement_rate(50, impressions=1_000, reach=500, followers=100)
    assert rate == pytest.approx(0.05)
    assert basis is RateBasis.IMPRESSIONS


def test_engagement_rate_falls_back_to_reach_then_followers_and_says_which() -> None:
    # Given a platform without impressions (None or 0)
    # When the rate is computed
    by_reach = engagement_rate(50, impressions=0, reach=500, followers=100)
    by_followers = engagement_rate(50, impressions=None, reach=None, followers=100)
    nothing = engagement_rate(50)
    # Then the next denominator is used and labelled, and with none the rate is unknown, not 0
    assert by_reach == (pytest.approx(0.1), RateBasis.REACH)
    assert by_followers == (pytest.approx(0.5), RateBasis.FOLLOWERS)
    assert nothing == (None, None)


def test_change_is_relative_percent_and_undefined_from_zero_or_missing() -> None:
    assert change_pct(120, 100) == pytest.approx(20.0)
    assert change_pct(80, 100) == pytest.approx(-20.0)
    assert change_pct(5, 0) is None
    assert change_pct(None, 3) is None
    assert KpiValue.of(0.03, 0.027).change_pct == pytest.approx(11.111, rel=1e-3)


def test_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    # Given a 14-day period
    period = Period(date(2026, 3, 1), date(2026, 3, 14), "Asia/Shanghai")
    # When its previous period is taken
    previous = period.previous()
    # Then it is the 14 days before, in the same time zone
    assert (previous.start, previous.end, previous.days) == (date(2026, 2, 15), date(2026, 2, 28), 14)
    assert previous.timezone == "Asia/Shanghai"


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 3, 2), date(2026, 3, 1))


def test_heatmap_cells_outside_the_week_or_day_are_rejected() -> None:
    with pytest.raises(ValueError, match="out of range"):
        HeatmapCell(weekday=7, hour=0, avg_engagement_rate=0.1)
    with pytest.raises(ValueError, match="out of range"):
        HeatmapCell(weekday=0, hour=24, avg_engagement_rate=0.1)


def test_best_slots_rank_by_rate_and_skip_empty_cells() -> None:
    cells = (
        HeatmapCell(0, 9, 0.02, 3),
        HeatmapCell(2, 19, 0.08, 2),
        HeatmapCell(4, 12, None, 0),
        HeatmapCell(5, 10, 0.05, 1),
    )
    assert [(c.weekday, c.hour) for c in best_slots(cells, limit=2)] == [(2, 19), (5, 10)]


def test_share_of_voice_rows_are_largest_first_and_sum_to_one() -> None:
    rows = share_of_voice({"Them": 30, "Us": 50, "Others": 20}, own="Us")
    assert [r.monitor for r in rows] == ["Us", "Them", "Others"]
    assert sum(r.share for r in rows) == pytest.approx(1.0)
    assert rows[0].is_own
    assert not rows[1].is_own
    assert all(r.share == 0.0 for r in share_of_voice({"Us": 0}))


def test_sentiment_shares_and_goal_progress() -> None:
    sentiment = SentimentShare(positive=6, negative=2, neutral=1, unknown=1, overridden=3)
    assert sentiment.total == 10
    assert sentiment.shares()["positive"] == pytest.approx(0.6)
    assert SentimentShare().shares()["negative"] is None
    assert GoalRow("Followers gained", 1_000, 1_250).pct_reached == pytest.approx(125.0)
    assert GoalRow("Anything", 0, 5).pct_reached is None


def test_report_dict_is_plain_json_and_reads_back_to_an_equal_report() -> None:
    # Given a report with every section
    report = sample_report()
    # When it goes to a dict, through JSON text, and back
    data = json.loads(json.dumps(report.to_dict()))
    again = Report.from_dict(data)
    # Then nothing is lost and dates are ISO strings
    assert again == report
    assert data["period"] == {"from": "2026-03-01", "to": "2026-03-14", "timezone": "Asia/Shanghai"}
    assert data["top_posts"][0]["published_at"] == "2026-03-04T11:30:00+00:00"
    assert data["platforms"][2]["rate_basis"] == "reach"


def test_absent_optional_sections_are_null_or_empty_in_the_dict() -> None:
    report = replace(sample_report(), inbox=None, share_of_voice=(), goals=(), heatmap=())
    data = report.to_dict()
    assert data["inbox"] is None
    assert data["share_of_voice"] == []
    assert data["goals"] == []
    assert data["heatmap"] == []
    assert data["best_slots"] == []
