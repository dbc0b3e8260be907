"""A small, fixed, hand-made report with every section filled: for tests, benchmarks and demos.

It carries the awkward cases on purpose: Chinese and Korean text, an emoji, a post whose text is an
HTML ``<script>`` tag, one that starts with ``=`` (a spreadsheet formula), a platform without
impressions (rates over reach), empty heatmap cells and a goal over 100 %.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from chorus.reports.model import (
    AccountRef,
    DailyValue,
    FollowerGrowth,
    GoalRow,
    HeatmapCell,
    InboxSummary,
    KpiValue,
    Period,
    PlatformMetrics,
    PostRow,
    RateBasis,
    Report,
    SentimentShare,
    share_of_voice,
)

CHINESE_POST = "新品上市\uff01春季限定樱花拿铁今天开售\uff0c欢迎来店品尝 \u2615"
SCRIPT_POST = "<script>alert('pwned')</script> & \"quotes\" matter"
FORMULA_POST = '=HYPERLINK("http://evil.example","click")'


def _growth(account: AccountRef, start: int, daily_gain: int, days: int, first: date) -> FollowerGrowth:
    series = tuple(
        DailyValue(first + timedelta(days=i), start + daily_gain * i + (i % 3)) for i in range(days)
    )
    return FollowerGrowth(
        account_id=account.account_id,
        platform=account.platform,
        account_name=account.name,
        start=start,
        end=int(series[-1].value),
        daily=series,
    )


def _heatmap() -> tuple[HeatmapCell, ...]:
    cells = []
    for weekday in range(7):
        for hour in range(24):
            if hour < 6:
                cells.append(HeatmapCell(weekday, hour, None, 0))
                continue
            rate = 0.01 + 0.002 * ((weekday * 7 + hour * 5) % 13)
            if (weekday, hour) == (2, 19):
                rate = 0.081
            cells.append(HeatmapCell(weekday, hour, round(rate, 4), 1 + (hour + weekday) % 4))
    return tuple(cells)


def sample_report() -> Report:
    period = Period(date(2026, 3, 1), date(2026, 3, 14), "Asia/Shanghai")
    x = AccountRef("acc-x", "x", "Acme Coffee", "@acmecoffee")
    ig = AccountRef("acc-ig", "instagram", "Acme 咖啡", "acme.coffee")
    bsky = AccountRef("acc-bsky", "bluesky", "Acme Coffee", "acme.bsky.social")
    followers = (
        _growth(x, 12_000, 25, period.days, period.start),
        _growth(ig, 8_400, 40, period.days, period.start),
        _growth(bsky, 950, 6, period.days, period.start),
    )
    platforms = (
        PlatformMetrics(
            platform="x",
            posts_published=KpiValue.of(12, 10),
            impressions=KpiValue.of(48_200, 41_000),
            reach=KpiValue.of(30_100, 28_000),
            engagements=KpiValue.of(1_446, 1_107),
            engagement_rate=KpiValue.of(0.03, 0.027),
        ),
        PlatformMetrics(
            platform="instagram",
            posts_published=KpiValue.of(9, 9),
            impressions=KpiValue.of(61_500, 66_000),
            reach=KpiValue.of(40_300, 43_000),
            engagements=KpiValue.of(3_075, 3_300),
            engagement_rate=KpiValue.of(0.05, 0.05),
        ),
        PlatformMetrics(
            platform="bluesky",
            posts_published=KpiValue.of(7, 0),
            impressions=KpiValue.of(None, None),
            reach=KpiValue.of(2_100, None),
            engagements=KpiValue.of(126, 0),
            engagement_rate=KpiValue.of(0.06, None),
            rate_basis=RateBasis.REACH,
        ),
    )
    overall = PlatformMetrics(
        platform="all",
        posts_published=KpiValue.of(28, 19),
        impressions=KpiValue.of(109_700, 107_000),
        reach=KpiValue.of(72_500, 71_000),
        engagements=KpiValue.of(4_647, 4_407),
        engagement_rate=KpiValue.of(0.0412, 0.0412),
    )
    at = datetime(2026, 3, 4, 11, 30, tzinfo=UTC)
    top = (
        PostRow(
            "p1",
            "instagram",
            ig.name,
            CHINESE_POST,
            at,
            "https://www.instagram.com/p/abc/",
            9_800,
            812,
            0.0829,
        ),
        PostRow(
            "p2",
            "x",
            x.name,
            SCRIPT_POST,
            at + timedelta(days=2),
            "https://x.com/acme/status/1",
            7_400,
            420,
            0.0568,
        ),
        PostRow(
            "p3",
            "bluesky",
            bsky.name,
            "Spring menu is live",
            at + timedelta(days=3),
            "https://bsky.app/profile/acme.bsky.social/post/3k",
            None,
            61,
            0.029,
            RateBasis.REACH,
        ),
    )
    bottom = (
        PostRow(
            "p9", "x", x.name, FORMULA_POST, at + timedelta(days=5), "javascript:alert(1)", 1_200, 6, 0.005
        ),
        PostRow(
            "p8", "x", x.name, "안녕하세요 Seoul friends", at + timedelta(days=6), None, 1_500, 12, 0.008
        ),
    )
    inbox = InboxSummary(
        volume=KpiValue.of(342, 298),
        sentiment=SentimentShare(positive=180, negative=41, neutral=96, unknown=25, overridden=7),
        median_first_response_seconds=KpiValue.of(1_260, 1_980),
    )
    return Report(
        workspace_id="ws-1",
        workspace_name="Acme 咖啡",
        generated_at=datetime(2026, 3, 15, 1, 0, tzinfo=UTC),
        period=period,
        previous_period=period.previous(),
        accounts=(x, ig, bsky),
        overall=overall,
        platforms=platforms,
        followers=followers,
        top_posts=top,
        bottom_posts=bottom,
        heatmap=_heatmap(),
        inbox=inbox,
        share_of_voice=tuple(
            replace(row, role="brand" if row.is_own else "competitor", positive=pos, negative=neg)
            for row, (pos, neg) in zip(
                share_of_voice({"Acme": 540, "Bean There": 410, "Daily Grind": 250}, own="Acme"),
                ((210, 40), (150, 61), (70, 33)),
                strict=True,
            )
        ),
        goals=(GoalRow("Followers gained", 1_000, 1_012), GoalRow("Engagement rate (%)", 5.0, 4.12)),
        sentiment_overrides=7,
    )


def minimal_report() -> Report:
    """The sample with every optional section absent."""
    return replace(
        sample_report(),
        followers=(),
        platforms=(),
        top_posts=(),
        bottom_posts=(),
        heatmap=(),
        inbox=None,
        share_of_voice=(),
        goals=(),
        sentiment_overrides=None,
    )
