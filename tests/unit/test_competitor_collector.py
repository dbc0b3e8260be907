"""The competitor collector on moto with an in-memory timeline: the first round reaches back
``backfill_days``, later rounds read the newest posts down to the last round's newest minus
``refresh_days`` (counts refreshed, nothing stored twice), a round cut by ``max_pages``, the daily
allowance or a crash continues where it stopped, and what each platform spent is recorded per day."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from chorus.competitors import store
from chorus.competitors.collector import collect_all
from chorus.competitors.model import Competitor, CompetitorPost, ContentType, Profile
from chorus.competitors.timelines import CompetitorSettings, TimelinePage
from tests.support import main_table_in_moto

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
WS = "ws-collect"


class Crash(BaseException):
    """The function dies mid-run (nothing in the collector catches a BaseException)."""


@dataclass
class FakeTimeline:
    platform: str = "x"
    posts: list[CompetitorPost] = field(default_factory=list)  # newest first
    page_size: int = 2
    followers: int = 100
    crash_on_page_call: int | None = None
    page_calls: list[str | None] = field(default_factory=list)
    lookups: int = 0

    def cost(self, what: str) -> int:
        return 1

    def lookup(self, handle: str, host: str | None, extra: Mapping[str, str] | None = None) -> Profile:
        self.lookups += 1
        return Profile("u1", handle, "Rival", None, self.followers)

    def page(self, profile_id: str, extra: Mapping[str, str], token: str | None) -> TimelinePage:
        self.page_calls.append(token)
        if self.crash_on_page_call == len(self.page_calls):
            raise Crash
        start = int(token or 0)
        chunk = self.posts[start : start + self.page_size]
        more = start + self.page_size < len(self.posts)
        return TimelinePage(tuple(chunk), str(start + self.page_size) if more else None)


def post(n: int, hours_ago: float, likes: int = 1) -> CompetitorPost:
    return CompetitorPost(f"t{n}", NOW - timedelta(hours=hours_ago), ContentType.TEXT, likes=likes)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, "test-competitor-collector"):
        store.save_competitor(Competitor("cmp1", WS, "x", "rival", "u1", "Rival", None, NOW))
        yield


def settings(**kw: int) -> CompetitorSettings:
    return CompetitorSettings(
        **{"x_daily": 1000, "max_pages": 10, "backfill_days": 30, "refresh_days": 7, **kw}
    )


def stored() -> dict[str, CompetitorPost]:
    found = store.posts_between(WS, "cmp1", NOW - timedelta(days=400), NOW + timedelta(days=2))
    return {p.platform_post_id: p for p in found}


def test_the_first_round_reaches_back_the_backfill_and_later_rounds_refresh_recent_counts(
    table: None,
) -> None:
    fake = FakeTimeline(posts=[post(5, 1), post(4, 30), post(3, 24 * 10), post(2, 24 * 29), post(1, 24 * 31)])
    report = collect_all({"x": fake}, settings(), lambda: NOW)
    # posts t2..t5 are within 30 days; t1 (31 days old) ends the round
    assert set(stored()) == {"t2", "t3", "t4", "t5"}
    assert (report.new_posts, report.follower_points, report.errors) == (4, 1, 0)
    assert store.follower_points(WS, "cmp1", NOW.date(), NOW.date())[0].followers == 100
    # Later: one new post, t5's likes grew; the round stops 7 days below the newest post seen (t5)
    fake.posts = [post(6, 0.5), replace(post(5, 1), likes=9), *fake.posts[1:]]
    fake.page_calls.clear()
    again = collect_all({"x": fake}, settings(), lambda: NOW + timedelta(hours=1))
    assert again.new_posts == 1
    assert stored()["t5"].likes == 9  # refreshed in place, not stored twice
    assert len(stored()) == 5
    assert fake.page_calls == [None, "2"]  # t3 (10 days old) is below the floor: no further page
    assert fake.lookups == 1  # followers are read once a UTC day


def test_a_round_cut_by_max_pages_continues_next_run_without_gaps_or_duplicates(table: None) -> None:
    fake = FakeTimeline(posts=[post(n, 10 * (7 - n)) for n in range(6, 0, -1)])  # 6 posts, 3 pages
    first = collect_all({"x": fake}, settings(max_pages=1), lambda: NOW)
    assert (first.pages, first.new_posts) == (1, 2)
    assert store.load_cursor(WS, "cmp1")["resume"] == "2"
    second = collect_all({"x": fake}, settings(max_pages=1), lambda: NOW)
    third = collect_all({"x": fake}, settings(max_pages=1), lambda: NOW)
    assert (second.new_posts, third.new_posts) == (2, 2)
    assert fake.page_calls == [None, "2", "4"]
    assert sorted(stored()) == ["t1", "t2", "t3", "t4", "t5", "t6"]
    assert store.load_cursor(WS, "cmp1")["resume"] is None


def test_the_daily_allowance_is_spent_before_each_call_recorded_and_the_round_resumes_tomorrow(
    table: None,
) -> None:
    fake = FakeTimeline(posts=[post(n, 10 * (7 - n)) for n in range(6, 0, -1)])
    # 3 units a day: the lookup and two pages
    report = collect_all({"x": fake}, settings(x_daily=3), lambda: NOW)
    assert report.out_of_quota == ["x"]
    assert store.spent("x", NOW.date()) == 3
    assert len(fake.page_calls) == 2
    assert len(stored()) == 4
    # the same day nothing more is called
    collect_all({"x": fake}, settings(x_daily=3), lambda: NOW + timedelta(hours=1))
    assert len(fake.page_calls) == 2
    # the next day the round continues where it stopped
    tomorrow = NOW + timedelta(days=1)
    collect_all({"x": fake}, settings(x_daily=3), lambda: tomorrow)
    assert fake.page_calls == [None, "2", "4"]
    assert len(stored()) == 6
    assert store.spent("x", tomorrow.date()) == 2  # the day's follower lookup and one page


def test_a_crash_between_pages_reads_at_most_that_page_again(table: None) -> None:
    fake = FakeTimeline(posts=[post(n, 10 * (7 - n)) for n in range(6, 0, -1)], crash_on_page_call=2)
    with pytest.raises(Crash):
        collect_all({"x": fake}, settings(), lambda: NOW)
    assert sorted(stored()) == ["t5", "t6"]
    assert store.load_cursor(WS, "cmp1")["resume"] == "2"  # persisted after the first page
    fake.crash_on_page_call = None
    report = collect_all({"x": fake}, settings(), lambda: NOW)
    assert report.new_posts == 4
    assert fake.page_calls == [None, "2", "2", "4"]
    assert len(stored()) == 6


def test_a_platform_error_is_counted_and_the_other_competitors_go_on(table: None) -> None:
    from chorus.platforms.base import TransientError

    store.save_competitor(Competitor("cmp2", WS, "x", "other", "u2", "Other", None, NOW))

    class Flaky(FakeTimeline):
        def page(self, profile_id: str, extra: Mapping[str, str], token: str | None) -> TimelinePage:
            if profile_id == "u1":
                raise TransientError("x is down", platform="x", status=503)
            return super().page(profile_id, extra, token)

    fake = Flaky(posts=[post(1, 1)])
    report = collect_all({"x": fake}, settings(), lambda: NOW)
    assert (report.competitors, report.errors) == (2, 1)
    assert len(store.posts_between(WS, "cmp2", NOW - timedelta(days=1), NOW + timedelta(days=1))) == 1


def test_an_answer_not_in_the_documented_shape_is_counted_and_the_run_goes_on(table: None) -> None:
    from chorus.platforms.webhooks import MalformedWebhook

    class Garbled(FakeTimeline):
        def page(self, profile_id: str, extra: Mapping[str, str], token: str | None) -> TimelinePage:
            raise MalformedWebhook("data[].id: missing id")

    report = collect_all({"x": Garbled()}, settings(), lambda: NOW)
    assert (report.competitors, report.errors, report.follower_points) == (1, 1, 1)


def test_a_rate_limited_platform_is_left_alone_for_the_rest_of_the_run(table: None) -> None:
    from chorus.platforms.base import RateLimited

    store.save_competitor(Competitor("cmp2", WS, "x", "other", "u2", "Other", None, NOW))

    class Limited(FakeTimeline):
        def page(self, profile_id: str, extra: Mapping[str, str], token: str | None) -> TimelinePage:
            self.page_calls.append(token)
            raise RateLimited("Too Many Requests", platform="x", status=429, retry_after=600)

    fake = Limited(posts=[post(1, 1)])
    report = collect_all({"x": fake}, settings(), lambda: NOW)
    assert (report.competitors, report.errors, report.rate_limited) == (2, 1, ["x"])
    assert len(fake.page_calls) == 1  # the second competitor was not asked
    assert store.spent("x", NOW.date()) == 2  # one lookup and the refused page


def test_removing_a_competitor_forgets_its_posts_followers_and_cursor(table: None) -> None:
    collect_all({"x": FakeTimeline(posts=[post(2, 1), post(1, 2)])}, settings(), lambda: NOW)
    assert stored()
    assert store.load_cursor(WS, "cmp1")
    assert store.delete_competitor(WS, "cmp1") is True
    assert stored() == {}
    assert store.follower_points(WS, "cmp1", NOW.date(), NOW.date()) == []
    assert store.load_cursor(WS, "cmp1") == {}
    assert store.delete_competitor(WS, "cmp1") is False
