"""The collection job: due posts by the age ladder, the account once a day, points to the recorder."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto import mock_aws

from chorus.config import reset_caches
from chorus.metrics import keys
from chorus.metrics.collect import AccountJob, PublishedPost, collect_account, due_posts
from chorus.metrics.store import MetricsStore, PostInfo, RecordResult
from chorus.platforms.base import AccountCredentials, MetricPoint, MetricScope, RateLimited
from tests.unit.test_metrics_store import TABLE, create_metrics_table

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CREDS = AccountCredentials(platform="x", account_id="u-1", access_token="t")


class FakeCollector:
    """Answers every post asked with likes = 10 (unless told the post is gone) and followers = 500."""

    name = "x"

    def __init__(self, gone: Iterable[str] = (), fail_account: bool = False) -> None:
        self.gone = set(gone)
        self.fail_account = fail_account
        self.post_calls: list[list[str]] = []
        self.account_calls = 0

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        self.post_calls.append(list(platform_post_ids))
        return [
            MetricPoint(MetricScope.POST, pid, "likes", 10, NOW)
            for pid in platform_post_ids
            if pid not in self.gone
        ]

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        self.account_calls += 1
        if self.fail_account:
            raise RateLimited("slow down", platform="x", retry_after=60)
        return [MetricPoint(MetricScope.ACCOUNT, creds.account_id, "followers", 500, NOW)]


class FakeRecorder:
    def __init__(self) -> None:
        self.posts: dict[str, list[MetricPoint]] = {}
        self.account: list[MetricPoint] = []

    def record_post_points(
        self,
        workspace_id: str,
        account_id: str,
        post: PostInfo,
        points: Iterable[MetricPoint],
        *,
        collected_at: datetime | None = None,
    ) -> RecordResult:
        listed = list(points)
        self.posts[post.platform_post_id] = listed
        return RecordResult(written=len(listed))

    def record_account_points(
        self, workspace_id: str, account_id: str, points: Iterable[MetricPoint]
    ) -> RecordResult:
        self.account = list(points)
        return RecordResult(written=len(self.account))


def post(pid: str, age: timedelta, last_ago: timedelta | None) -> PublishedPost:
    info = PostInfo(pid, "x", NOW - age, f"text of {pid}")
    return PublishedPost(info, None if last_ago is None else NOW - last_ago)


def job(*posts: PublishedPost, account_last: datetime | None = None) -> AccountJob:
    return AccountJob("ws-1", "acc-1", CREDS, posts, account_last)


def test_only_posts_the_ladder_says_are_due_are_asked_for_in_one_call() -> None:
    # Given a 3-hour-old post last read 2 h ago (hourly: due), a 3-day-old one read 1 h ago
    # (six-hourly: not due) and a 40-minute-old one never read (first reading at 1 h: not due)
    posts = (
        post("due", timedelta(hours=3), timedelta(hours=2)),
        post("fresh", timedelta(days=3), timedelta(hours=1)),
        post("young", timedelta(minutes=40), None),
    )
    collector, recorder = FakeCollector(), FakeRecorder()
    # When the job runs
    outcome = collect_account(job(*posts, account_last=NOW), collector, recorder, clock=lambda: NOW)
    # Then one post_metrics call asked for "due" only, and its points were recorded
    assert collector.post_calls == [["due"]]
    assert outcome.posts_collected == ("due",)
    assert [p.value for p in recorder.posts["due"]] == [10]


def test_post_older_than_the_ladder_is_never_collected() -> None:
    # Given a post 100 days old whose last reading was at 90 days
    old = post("old", timedelta(days=100), timedelta(days=10))
    # Then it is not due
    assert due_posts([old], NOW) == []


def test_account_metrics_are_collected_once_per_utc_day() -> None:
    # Given the account was collected yesterday, When the job runs today
    collector, recorder = FakeCollector(), FakeRecorder()
    outcome = collect_account(
        job(account_last=NOW - timedelta(days=1)), collector, recorder, clock=lambda: NOW
    )
    # Then the account was collected and its followers recorded
    assert outcome.account_collected
    assert [(p.metric, p.value) for p in recorder.account] == [("followers", 500)]


def test_account_already_collected_today_is_not_asked_again() -> None:
    collector = FakeCollector()
    outcome = collect_account(
        job(account_last=NOW - timedelta(hours=3)), collector, FakeRecorder(), clock=lambda: NOW
    )
    assert (outcome.account_collected, collector.account_calls) == (False, 0)


def test_post_the_platform_no_longer_returns_is_reported_missing_and_still_recorded() -> None:
    # Given a due post the platform does not return (deleted)
    collector, recorder = FakeCollector(gone=["deleted"]), FakeRecorder()
    outcome = collect_account(
        job(post("deleted", timedelta(hours=5), timedelta(hours=2)), account_last=NOW),
        collector,
        recorder,
        clock=lambda: NOW,
    )
    # Then it is missing, and recorded with no points (it still counts as published)
    assert outcome.posts_missing == ("deleted",)
    assert recorder.posts["deleted"] == []


def test_next_due_is_the_earliest_of_posts_and_account() -> None:
    # Given a post read now in its hourly band and the account read now
    outcome = collect_account(
        job(post("p", timedelta(hours=3), timedelta(hours=2))),
        FakeCollector(),
        FakeRecorder(),
        clock=lambda: NOW,
    )
    # Then the next run is due in one hour (the post), before tomorrow's account run
    assert outcome.next_due == NOW + timedelta(hours=1)


def test_rate_limit_propagates_after_posts_were_recorded() -> None:
    # Given a platform that rate-limits the account call
    recorder = FakeRecorder()
    # When the job runs, Then the rate limit reaches the caller (which parks the account)
    with pytest.raises(RateLimited):
        collect_account(
            job(post("p", timedelta(hours=3), timedelta(hours=2))),
            FakeCollector(fail_account=True),
            recorder,
            clock=lambda: NOW,
        )
    # And the post's points were recorded before it
    assert "p" in recorder.posts


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("CHORUS_METRICS_TABLE", TABLE)
    with mock_aws():
        reset_caches()
        yield create_metrics_table()
    reset_caches()


def test_rerun_against_the_store_records_nothing_twice(dynamo: Any) -> None:
    # Given the real store, and a job run twice with the same answers (a redelivered message)
    store = MetricsStore()
    the_job = job(post("p", timedelta(hours=3), timedelta(hours=2)))
    first = collect_account(the_job, FakeCollector(), store, clock=lambda: NOW)
    second = collect_account(the_job, FakeCollector(), store, clock=lambda: NOW)
    # Then the second run wrote nothing and the day's likes are counted once
    assert (first.recorded.written, second.recorded.written, second.recorded.duplicates) == (2, 0, 2)
    day = dynamo.get_item(
        TableName=TABLE,
        Key={"pk": {"S": keys.rollup_pk("ws-1", "acc-1")}, "sk": {"S": keys.day_sk(NOW.date())}},
    )["Item"]
    assert day["s_likes"] == {"N": "10"}
