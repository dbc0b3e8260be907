"""The report builder against a small data set whose every figure is worked out by hand below.

Data set (all times UTC; 2026-03-02 is a Monday). Period Mar 8..14, previous period Mar 1..7.

Accounts: acc-x (X, "Acme X") and acc-m (Mastodon, "Acme Masto": no impressions, no reach).

Followers
  acc-x readings: Mar 5 1000, Mar 8 1010, Mar 11 1030, Mar 14 1025
    series Mar 8..14 = 1010 1010 1010 1030 1030 1030 1025 -> start 1010, end 1025, change +15
  acc-m readings: Mar 7 200, Mar 10 205
    series Mar 8..14 = 200 (carried from Mar 7) 200 205 205 205 205 205 -> start 200, end 205, change +5
  total: 1230 now vs 1210 at the start -> +1.6529 %

X posts
  x1 published Mar 2 10:00 (previous period): Mar 2 11:00 likes 10 impr 1000; Mar 9 12:00 likes 16 impr 1400
      -> previous period gains likes 10, impr 1000; this period gains likes 6, impr 400
  x2 published Mar 9 15:00: Mar 9 16:00 likes 20 comments 5 impr 2000;
                            Mar 10 16:00 likes 30 comments 5 shares 5 impr 3000
      -> this period gains likes 30, comments 5, shares 5, impr 3000; lifetime rate 40/3000 = 0.013333
  x3 published Mar 12 09:00: Mar 12 10:00 likes 2 impr 1000 -> lifetime rate 2/1000 = 0.002
  X now:  posts 2 (x2, x3), impressions 400+3000+1000 = 4400, engagements 6+30+5+5+2 = 48,
          rate 48/4400 = 0.0109091 (impressions)
  X then: posts 1 (x1), impressions 1000, engagements 10, rate 10/1000 = 0.01
          -> rate change (0.0109091 - 0.01) / 0.01 = +9.0909 %; engagements 48 vs 10 -> +380 %

Mastodon posts
  m0 published Mar 3 09:00: Mar 3 10:00 likes 4                     -> previous period gains 4
  m1 published Mar 10 08:00: Mar 10 09:00 likes 8 shares 2 comments 1;
                             Mar 11 09:00 likes 12 shares 3 comments 1
      -> this period gains 16; lifetime 16 over followers 205 = 0.0780488 (no impressions, no reach)
  Mastodon now:  posts 1, engagements 16, rate 16/205 = 0.0780488 (followers at the end, 205)
  Mastodon then: posts 1, engagements 4, rate 4/200 = 0.02 (followers at the end of the previous period)
          -> rate change +290.2439 %

Overall: posts 3 vs 2 (+50 %), impressions 4400 vs 1000 (+340 %), reach absent, engagements 64 vs 14;
  rate over the platforms with impressions only (X): 48/4400 = 0.0109091 vs 10/1000 = 0.01.

Top 2 of the posts published in the period (x2, x3, m1) by rate: m1 0.0780 (of followers), x2 0.01333;
bottom: x3 0.002. Heatmap (posts published in the period): x2 Mon 15h 40/3000, m1 Tue 08h 16/205,
x3 Thu 09h 2/1000; x1 and m0 (previous period) are not in it.
Goals: followers gained 15 + 5 = 20 (target 20: 100 %), engagements 64 (target 80: 80 %).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from moto import mock_aws

from chorus.config import reset_caches
from chorus.metrics.store import MetricsStore, PostInfo
from chorus.platforms.base import MetricPoint, MetricScope
from chorus.reports.builder import (
    Goal,
    InboxStats,
    InMemoryGoals,
    InMemoryInboxStats,
    ListeningStats,
    build_report,
)
from chorus.reports.model import AccountRef, Period, RateBasis, Report, SentimentShare
from chorus.reports.render import render, render_json
from tests.unit.test_metrics_store import TABLE, create_metrics_table

WS = "ws-1"
X = AccountRef("acc-x", "x", "Acme X", "@acme")
M = AccountRef("acc-m", "mastodon", "Acme Masto", "@acme@mastodon.social")
INFO = {X.account_id: X, M.account_id: M}
PERIOD = Period(date(2026, 3, 8), date(2026, 3, 14), "UTC")
GENERATED = datetime(2026, 3, 15, 6, 0, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


def followers(store: MetricsStore, account: str, object_id: str, readings: list[tuple[int, int]]) -> None:
    for day, value in readings:
        store.record_account_points(
            WS, account, [MetricPoint(MetricScope.ACCOUNT, object_id, "followers", value, at(day, 0))]
        )


def post(
    store: MetricsStore, account: str, pid: str, platform: str, published: datetime, readings: list[Any]
) -> None:
    info = PostInfo(pid, platform, published, f"text of {pid}", f"https://example.com/{pid}", f"chorus-{pid}")
    for when, values in readings:
        points = [MetricPoint(MetricScope.POST, pid, m, v, when) for m, v in values.items()]
        store.record_post_points(WS, account, info, points)


def load(store: MetricsStore) -> None:
    followers(store, "acc-x", "x-user", [(5, 1000), (8, 1010), (11, 1030), (14, 1025)])
    followers(store, "acc-m", "m-user", [(7, 200), (10, 205)])
    post(
        store,
        "acc-x",
        "x1",
        "x",
        at(2, 10),
        [(at(2, 11), {"likes": 10, "impressions": 1000}), (at(9, 12), {"likes": 16, "impressions": 1400})],
    )
    post(
        store,
        "acc-x",
        "x2",
        "x",
        at(9, 15),
        [
            (at(9, 16), {"likes": 20, "comments": 5, "impressions": 2000}),
            (at(10, 16), {"likes": 30, "comments": 5, "shares": 5, "impressions": 3000}),
        ],
    )
    post(store, "acc-x", "x3", "x", at(12, 9), [(at(12, 10), {"likes": 2, "impressions": 1000})])
    post(store, "acc-m", "m0", "mastodon", at(3, 9), [(at(3, 10), {"likes": 4})])
    post(
        store,
        "acc-m",
        "m1",
        "mastodon",
        at(10, 8),
        [
            (at(10, 9), {"likes": 8, "shares": 2, "comments": 1}),
            (at(11, 9), {"likes": 12, "shares": 3, "comments": 1}),
        ],
    )


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[MetricsStore]:
    monkeypatch.setenv("CHORUS_METRICS_TABLE", TABLE)
    with mock_aws():
        reset_caches()
        create_metrics_table()
        found = MetricsStore()
        load(found)
        found.reset_items_read()
        yield found
    reset_caches()


INBOX = InboxStats(
    volume=30,
    sentiment=SentimentShare(positive=10, negative=5, neutral=15, overridden=1),
    median_first_response_seconds=600,
    previous_volume=20,
    previous_median_first_response_seconds=900,
)


@pytest.fixture
def report(store: MetricsStore) -> Report:
    return build_report(
        WS,
        PERIOD,
        ["acc-x", "acc-m"],
        "UTC",
        inbox=INBOX,
        goals=[Goal("followers_gained", 20), Goal("engagements", 80)],
        accounts_info=INFO,
        store=store,
        workspace_name="Acme",
        top_n=2,
        clock=lambda: GENERATED,
    )


def platform(report: Report, name: str) -> Any:
    return next(p for p in report.platforms if p.platform == name)


def test_followers_start_end_and_change_per_account(report: Report) -> None:
    x, m = report.followers
    assert (x.account_id, x.start, x.end, x.change) == ("acc-x", 1010, 1025, 15)
    assert (m.account_id, m.start, m.end, m.change) == ("acc-m", 200, 205, 5)


def test_follower_series_carries_the_last_reading_over_days_without_one(report: Report) -> None:
    x, m = report.followers
    assert [d.value for d in x.daily] == [1010, 1010, 1010, 1030, 1030, 1030, 1025]
    assert [d.value for d in m.daily] == [200, 200, 205, 205, 205, 205, 205]


def test_followers_total_compares_end_with_start(report: Report) -> None:
    total = report.followers_total
    assert (total.current, total.previous) == (1230, 1210)
    assert total.change_pct == pytest.approx(1.6529, abs=1e-4)


def test_x_gains_count_only_deltas_inside_the_period(report: Report) -> None:
    x = platform(report, "x")
    assert (x.impressions.current, x.impressions.previous) == (4400, 1000)
    assert (x.engagements.current, x.engagements.previous) == (48, 10)
    assert (x.posts_published.current, x.posts_published.previous) == (2, 1)


def test_x_engagement_rate_is_over_impressions_with_change(report: Report) -> None:
    x = platform(report, "x")
    assert x.rate_basis is RateBasis.IMPRESSIONS
    assert x.engagement_rate.current == pytest.approx(48 / 4400)
    assert x.engagement_rate.previous == pytest.approx(0.01)
    assert x.engagement_rate.change_pct == pytest.approx(9.0909, abs=1e-4)


def test_mastodon_rate_falls_back_to_followers_and_has_no_impressions(report: Report) -> None:
    m = platform(report, "mastodon")
    assert (m.impressions.current, m.reach.current) == (None, None)
    assert m.rate_basis is RateBasis.FOLLOWERS
    assert (m.engagements.current, m.engagements.previous) == (16, 4)
    assert m.engagement_rate.current == pytest.approx(16 / 205)
    assert m.engagement_rate.previous == pytest.approx(4 / 200)
    assert m.engagement_rate.change_pct == pytest.approx(290.2439, abs=1e-4)


def test_overall_sums_platforms_and_rates_over_those_with_impressions(report: Report) -> None:
    overall = report.overall
    assert (overall.posts_published.current, overall.posts_published.previous) == (3, 2)
    assert overall.posts_published.change_pct == pytest.approx(50.0)
    assert (overall.impressions.current, overall.impressions.previous) == (4400, 1000)
    assert overall.reach.current is None
    assert (overall.engagements.current, overall.engagements.previous) == (64, 14)
    assert overall.engagement_rate.current == pytest.approx(48 / 4400)
    assert overall.engagement_rate.previous == pytest.approx(0.01)


def test_top_posts_are_the_best_rated_published_in_the_period(report: Report) -> None:
    first, second = report.top_posts
    assert (first.post_id, first.rate_basis, first.engagements) == ("chorus-m1", RateBasis.FOLLOWERS, 16)
    assert first.engagement_rate == pytest.approx(16 / 205)
    assert (second.post_id, second.impressions, second.engagements) == ("chorus-x2", 3000, 40)
    assert second.engagement_rate == pytest.approx(40 / 3000)


def test_top_post_rows_carry_the_stored_metadata(report: Report) -> None:
    first = report.top_posts[0]
    assert (first.platform, first.account_name, first.text_excerpt, first.url) == (
        "mastodon",
        "Acme Masto",
        "text of m1",
        "https://example.com/m1",
    )
    assert first.published_at == at(10, 8)


def test_bottom_posts_are_the_worst_rated_not_already_on_top(report: Report) -> None:
    (only,) = report.bottom_posts
    assert (only.post_id, only.engagement_rate) == ("chorus-x3", pytest.approx(0.002))


def test_heatmap_places_posts_by_weekday_and_hour(report: Report) -> None:
    cells = {(c.weekday, c.hour): c for c in report.heatmap}
    assert len(cells) == 168
    assert (cells[(0, 15)].posts, cells[(0, 15)].avg_engagement_rate) == (1, pytest.approx(40 / 3000))
    assert cells[(1, 8)].avg_engagement_rate == pytest.approx(16 / 205)
    assert cells[(3, 9)].avg_engagement_rate == pytest.approx(0.002)
    assert cells[(0, 10)].posts == 0  # x1 was published in the previous period


def test_inbox_section_compares_with_the_previous_period(report: Report) -> None:
    assert report.inbox is not None
    assert report.inbox.volume.change_pct == pytest.approx(50.0)
    assert report.inbox.median_first_response_seconds.change_pct == pytest.approx(-33.3333, abs=1e-4)
    assert report.inbox.sentiment.total == 30


def test_goals_show_actuals_against_targets(report: Report) -> None:
    followers_goal, engagements_goal = report.goals
    assert (followers_goal.actual, followers_goal.pct_reached) == (20, pytest.approx(100.0))
    assert (engagements_goal.actual, engagements_goal.pct_reached) == (64, pytest.approx(80.0))


def test_report_reads_at_most_days_times_accounts_plus_shown_posts(store: MetricsStore) -> None:
    # When the report is built
    build_report(WS, PERIOD, ["acc-x", "acc-m"], "UTC", accounts_info=INFO, store=store, top_n=2)
    # Then it read at most 7 days x 2 accounts x 2 periods, 2 week items x 2 accounts and 3 post items
    assert 0 < store.items_read <= 7 * 2 * 2 + 2 * 2 + 3


def test_accounts_read_on_threads_give_the_same_report(store: MetricsStore, report: Report) -> None:
    # When the same report is built reading one account at a time
    sequential = build_report(
        WS,
        PERIOD,
        ["acc-x", "acc-m"],
        "UTC",
        inbox=INBOX,
        goals=[Goal("followers_gained", 20), Goal("engagements", 80)],
        accounts_info=INFO,
        store=store,
        workspace_name="Acme",
        top_n=2,
        max_workers=1,
        clock=lambda: GENERATED,
    )
    # Then it equals the one read on threads
    assert sequential == report


def test_report_renders_as_json(report: Report) -> None:
    body = render_json(report)
    assert Report.from_dict(json.loads(body)).overall == report.overall


def test_inbox_and_goals_come_from_their_ports_when_not_given(store: MetricsStore) -> None:
    # Given in-memory inbox stats and goals for the workspace
    inbox = InMemoryInboxStats({(WS, PERIOD.start, PERIOD.end): INBOX})
    goals = InMemoryGoals({WS: [Goal("posts_published", 6)]})
    # When the report is built without inbox or goals
    report = build_report(
        WS, PERIOD, ["acc-x"], "UTC", accounts_info=INFO, store=store, inbox_source=inbox, goals_source=goals
    )
    # Then both sections are filled from the ports
    assert report.inbox is not None
    assert report.inbox.volume.current == 30
    assert [(g.metric, g.actual) for g in report.goals] == [("Posts published", 2)]


def test_report_without_inbox_or_goals_omits_those_sections(store: MetricsStore) -> None:
    report = build_report(WS, PERIOD, ["acc-x"], "UTC", accounts_info=INFO, store=store)
    assert (report.inbox, report.goals) == (None, ())


def test_unknown_goal_metric_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown goal metric"):
        Goal("likes_per_minute", 3)


@dataclass(frozen=True)
class Voice:
    name: str
    role: str
    mentions: int
    positive: int
    negative: int
    share: float


class FakeListening:
    def __init__(self) -> None:
        self.asked: list[tuple[str, date, date]] = []

    def listening_stats(self, workspace_id: str, period: Period) -> ListeningStats:
        self.asked.append((workspace_id, period.start, period.end))
        return ListeningStats(
            shares=[Voice("Acme", "brand", 30, 12, 3, 0.75), Voice("Globex", "competitor", 10, 1, 4, 0.25)],
            overrides=2,
        )


def test_share_of_voice_and_overrides_come_from_listening_in_every_format(store: MetricsStore) -> None:
    # Given listening heard a brand and a competitor, and people overrode two labels in the period
    listening = FakeListening()
    # When the report is built (on threads and without)
    built = [
        build_report(
            WS, PERIOD, ["acc-x", "acc-m"], "UTC", accounts_info=INFO, store=store,
            listening_source=listening, max_workers=workers,
        )
        for workers in (1, 8)
    ]  # fmt: skip
    # Then listening was asked for the report's period, and its rows and count are in the report
    assert listening.asked == [(WS, PERIOD.start, PERIOD.end)] * 2
    for report in built:
        rows = [
            (r.monitor, r.role, r.mentions, r.positive, r.negative, r.share, r.is_own)
            for r in report.share_of_voice
        ]
        assert rows == [
            ("Acme", "brand", 30, 12, 3, 0.75, True),
            ("Globex", "competitor", 10, 1, 4, 0.25, False),
        ]
        assert report.sentiment_overrides == 2
    # And every format carries them
    data = json.loads(render_json(built[0]))
    assert data["sentiment_overrides"] == 2
    assert data["share_of_voice"][1] == {
        "monitor": "Globex", "role": "competitor", "mentions": 10, "positive": 1, "negative": 4,
        "share": 0.25, "is_own": False,
    }  # fmt: skip
    assert Report.from_dict(data).share_of_voice == built[0].share_of_voice
    csv_text = render(built[0], "csv")[0].decode()
    assert "Monitor,Role,Mentions,Positive,Negative,Share (%)" in csv_text
    assert "Acme (us),Brand,30,12,3,75.0" in csv_text
    assert "Sentiment labels changed by people,2" in csv_text
    page = render(built[0], "html")[0].decode()
    assert "Globex" in page
    assert "Sentiment labels changed by people" in page


def test_a_report_without_listening_has_no_share_of_voice_nor_override_count(store: MetricsStore) -> None:
    report = build_report(WS, PERIOD, ["acc-x"], "UTC", accounts_info=INFO, store=store)
    assert (report.share_of_voice, report.sentiment_overrides) == ((), None)
    assert "Share of voice" not in render(report, "csv")[0].decode()


def test_a_post_followed_but_not_collected_yet_is_counted_and_shown_with_its_text(
    store: MetricsStore,
) -> None:
    # Given a Mastodon post published in the period and followed, with no collection yet
    store.note_published(
        WS, "acc-m", PostInfo("m9", "mastodon", at(13, 20), "just out", "https://example.com/m9", "chorus-m9")
    )
    # When the report is built
    report = build_report(WS, PERIOD, ["acc-x", "acc-m"], "UTC", accounts_info=INFO, store=store, top_n=2)
    # Then it counts as published, and as the worst rated (no engagement yet) it is shown with its text
    assert report.overall.posts_published.current == 4
    assert ("chorus-m9", "just out", 0) in [
        (p.post_id, p.text_excerpt, p.engagements) for p in report.bottom_posts
    ]
