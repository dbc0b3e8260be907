"""Best days and hours: average engagement rate of posts by local publish weekday and hour."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chorus.metrics.store import PostScore
from chorus.reports.besttimes import PostSample, best_times, best_times_of_epochs, samples_from_scores
from chorus.reports.model import HeatmapCell, best_slots

# 2026-03-02 is a Monday.
MONDAY_10_UTC = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def cell(cells: tuple[HeatmapCell, ...], weekday: int, hour: int) -> HeatmapCell:
    return next(c for c in cells if c.weekday == weekday and c.hour == hour)


def test_heatmap_has_every_weekday_and_hour() -> None:
    cells = best_times([], "UTC")
    assert [(c.weekday, c.hour) for c in cells] == [(w, h) for w in range(7) for h in range(24)]
    assert all(c.avg_engagement_rate is None and c.posts == 0 for c in cells)


def test_cell_averages_the_rates_of_its_posts() -> None:
    # Given two Monday 10:00 posts at 2 % and 4 %
    samples = [PostSample(MONDAY_10_UTC, 0.02), PostSample(MONDAY_10_UTC.replace(minute=45), 0.04)]
    # Then Monday 10h averages 3 % over 2 posts
    found = cell(best_times(samples, "UTC"), 0, 10)
    assert (found.posts, found.avg_engagement_rate) == (2, pytest.approx(0.03))


def test_posts_are_placed_by_local_time_of_the_report_zone() -> None:
    # Given a post at Monday 20:00 UTC, When the heatmap is in Shanghai (UTC+8)
    cells = best_times([PostSample(MONDAY_10_UTC.replace(hour=20), 0.05)], "Asia/Shanghai")
    # Then it sits on Tuesday 04h local
    assert cell(cells, 1, 4).posts == 1
    assert cell(cells, 0, 20).posts == 0


def test_half_hour_zones_split_posts_of_one_utc_hour_correctly() -> None:
    # Given posts at 10:15 and 10:45 UTC, When the heatmap is in Kolkata (UTC+5:30)
    cells = best_times_of_epochs(
        [
            (int(MONDAY_10_UTC.replace(minute=15).timestamp()), 0.01),
            (int(MONDAY_10_UTC.replace(minute=45).timestamp()), 0.03),
        ],
        "Asia/Kolkata",
    )
    # Then they sit at 15:45 and 16:15 local: two different hours
    assert (cell(cells, 0, 15).avg_engagement_rate, cell(cells, 0, 16).avg_engagement_rate) == (
        pytest.approx(0.01),
        pytest.approx(0.03),
    )


def test_daylight_saving_moves_the_local_hour() -> None:
    # Given 10:00 UTC on a winter and a summer Monday, When the heatmap is in Berlin
    winter = int(datetime(2026, 1, 5, 10, 0, tzinfo=UTC).timestamp())
    summer = int(datetime(2026, 7, 6, 10, 0, tzinfo=UTC).timestamp())
    cells = best_times_of_epochs([(winter, 0.02), (summer, 0.04)], "Europe/Berlin")
    # Then they land on 11h (CET) and 12h (CEST)
    assert (cell(cells, 0, 11).posts, cell(cells, 0, 12).posts) == (1, 1)


def test_posts_without_a_rate_are_left_out_not_counted_as_zero() -> None:
    cells = best_times([PostSample(MONDAY_10_UTC, None), PostSample(MONDAY_10_UTC, 0.06)], "UTC")
    found = cell(cells, 0, 10)
    assert (found.posts, found.avg_engagement_rate) == (1, pytest.approx(0.06))


def test_best_slot_is_the_cell_with_the_highest_average() -> None:
    samples = [
        PostSample(MONDAY_10_UTC, 0.01),
        PostSample(datetime(2026, 3, 4, 19, 0, tzinfo=UTC), 0.08),  # Wednesday 19h
    ]
    (best,) = best_slots(best_times(samples, "UTC"), limit=1)
    assert (best.weekday, best.hour) == (2, 19)


def test_scores_give_rates_over_impressions_else_reach_else_followers() -> None:
    # Given three stored scores with 10 engagements each
    scores = [
        PostScore.of("a", "p1", MONDAY_10_UTC, 10, 200, 100),  # impressions: 5 %
        PostScore.of("a", "p2", MONDAY_10_UTC, 10, None, 100),  # reach: 10 %
        PostScore.of("b", "p3", MONDAY_10_UTC, 10, None, None),  # followers of b (500): 2 %
    ]
    rates = [s.engagement_rate for s in samples_from_scores(scores, {"b": 500})]
    assert rates == [pytest.approx(0.05), pytest.approx(0.1), pytest.approx(0.02)]


def test_naive_publish_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        best_times([PostSample(datetime(2026, 3, 2, 10, 0), 0.01)], "UTC")
