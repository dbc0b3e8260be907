"""Posts made outside Chorus: read from the account's timeline by the collection run, followed as
``external`` posts (no Chorus post id) on the same ladder, never twice, never a Chorus post (moto)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from chorus.metrics.registry import CollectionRegistry
from chorus.metrics.service import CollectMessage, collect, follow_connected_account, follow_published
from chorus.metrics.store import MetricsStore, PostInfo
from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    PermanentError,
    RateLimited,
    TimelinePost,
    TimelineReader,
    newest_first,
)
from tests.unit.test_collection_service import (  # noqa: F401 (dynamo: the moto fixture)
    ACCT,
    PUBLISHED,
    WS,
    FakeAccounts,
    FakeCollector,
    dynamo,
    published,
)

AT = PUBLISHED + timedelta(hours=5)  # the account's first collection run after connect


class TimelineCollector(FakeCollector):
    """The fake collector, with an account timeline as the platform would list it."""

    def __init__(self, timeline: list[TimelinePost], error: Exception | None = None) -> None:
        super().__init__()
        self.timeline = timeline
        self.timeline_error = error
        self.reads: list[datetime] = []

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        self.reads.append(since)
        if self.timeline_error:
            raise self.timeline_error
        return newest_first(self.timeline, since)


def post(platform_post_id: str, age: timedelta, at: datetime = AT) -> TimelinePost:
    return TimelinePost(
        platform_post_id, at - age, f"text of {platform_post_id}", f"https://x.example/{platform_post_id}"
    )


def run(collector: TimelineCollector, at: datetime, links: dict[str, str] | None = None) -> Any:
    return collect(
        CollectMessage(WS, ACCT, at),
        registry=CollectionRegistry(),
        recorder=MetricsStore(),
        accounts=FakeAccounts(),
        collectors=lambda platform: collector,
        linked=lambda ws, acct, pid: (links or {}).get(pid),
    )


def connect() -> CollectionRegistry:
    registry = CollectionRegistry()
    follow_connected_account(WS, ACCT, "x", PUBLISHED, registry)
    return registry


def followed(registry: CollectionRegistry) -> dict[str, str | None]:
    return {p.info.platform_post_id: p.info.post_id for p in registry.followed_posts(WS, ACCT)}


def test_the_fake_is_a_timeline_reader() -> None:
    assert isinstance(TimelineCollector([]), TimelineReader)


@pytest.mark.usefixtures("dynamo")
def test_first_run_follows_posts_made_elsewhere_and_nothing_chorus_made() -> None:
    registry, store = connect(), MetricsStore()
    # Given a post Chorus published (followed from its event), and the account followed at connect
    follow_published(
        WS, published("chorus-1", AT - timedelta(hours=3)), "ours", registry=registry, recorder=store
    )
    collector = TimelineCollector(
        [
            post("chorus-1", timedelta(hours=3)),  # followed already
            post("chorus-2", timedelta(hours=2)),  # linked to a Chorus post, its event not handled yet
            post("phone-1", timedelta(hours=2)),  # made on the phone
            post("phone-2", timedelta(days=40)),  # older, still on the ladder
            post("fresh", timedelta(minutes=20)),  # too young: maybe Chorus's, not linked yet
            post("ancient", timedelta(days=91)),  # past the ladder
        ]
    )
    # When the first collection runs
    result = run(collector, AT, links={"chorus-2": "post-2"})
    # Then the timeline was read back to the ladder's end (90 days)
    assert collector.reads == [AT - timedelta(days=90)]
    # And only the posts made elsewhere, settled and on the ladder, are followed, as external
    assert followed(registry) == {"chorus-1": "post-1", "phone-1": None, "phone-2": None}
    # And they were collected in the same run, beside Chorus's post
    assert sorted(collector.post_calls[0]) == ["chorus-1", "phone-1", "phone-2"]
    assert result.posts == 3
    # And the report's store counts them with their metrics, with no Chorus post id
    records = {
        r.info.platform_post_id: r for r in store.get_posts(WS, [(ACCT, "phone-1"), (ACCT, "phone-2")])
    }
    assert records["phone-1"].info.post_id is None
    assert records["phone-1"].latest == {"likes": 10}
    assert records["phone-1"].info.text == "text of phone-1"
    assert records["phone-1"].info.url == "https://x.example/phone-1"
    # And the rollups know the origin of each post and count the external ones beside all posts
    found = store.read_account_range(WS, ACCT, (AT - timedelta(days=90)).date(), AT.date())
    assert (found.posts_published, found.posts_external) == (3, 2)
    assert found.external == {"phone-1", "phone-2"}
    assert {s.platform_post_id for s in found.posts} == {"chorus-1", "phone-1", "phone-2"}


@pytest.mark.usefixtures("dynamo")
def test_the_timeline_is_read_daily_with_the_account_metrics_and_never_follows_twice() -> None:
    registry = connect()
    collector = TimelineCollector([post("phone-1", timedelta(hours=2)), post("fresh", timedelta(minutes=20))])
    run(collector, AT)
    assert followed(registry) == {"phone-1": None}
    # When the next hourly run comes the same day: the timeline is not read again
    run(collector, AT + timedelta(hours=1))
    assert len(collector.reads) == 1
    # When the next day's run comes: read again, the once-fresh post is followed now, phone-1 not twice
    next_day = AT + timedelta(days=1)
    run(collector, next_day)
    assert len(collector.reads) == 2
    assert followed(registry) == {"phone-1": None, "fresh": None}
    found = MetricsStore().read_account_range(WS, ACCT, AT.date(), next_day.date())
    assert (found.posts_published, found.posts_external) == (2, 2)
    assert found.external == {"phone-1", "fresh"}


@pytest.mark.usefixtures("dynamo")
def test_a_refused_timeline_does_not_stop_the_metrics() -> None:
    connect()
    collector = TimelineCollector([], error=PermanentError("missing permission", platform="x"))
    result = run(collector, AT)
    assert result.status == "collected"
    assert result.account_collected
    assert followed(CollectionRegistry()) == {}


@pytest.mark.usefixtures("dynamo")
def test_a_revoked_token_on_the_timeline_marks_the_account() -> None:
    connect()
    collector = TimelineCollector([], error=AuthError("token revoked", platform="x"))
    accounts = FakeAccounts()
    result = collect(
        CollectMessage(WS, ACCT, AT),
        registry=CollectionRegistry(),
        recorder=MetricsStore(),
        accounts=accounts,
        collectors=lambda platform: collector,
        linked=lambda ws, acct, pid: None,
    )
    assert result.status == "needs_reauth"
    assert accounts.reauth == ["token revoked"]


@pytest.mark.usefixtures("dynamo")
def test_a_spent_quota_skips_the_read_until_the_quota_day_with_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    connect()
    reason = (
        "YouTube's daily API quota (10,000 units) is used up for 2026-12-07: waiting for the next quota day"
    )
    collector = TimelineCollector([post("phone-1", timedelta(hours=2))],
                                  error=RateLimited(reason, retry_after=7200, platform="youtube"))  # fmt: skip
    with caplog.at_level("WARNING", logger="chorus.metrics.service"):
        result = run(collector, AT)
    # Then nothing is followed or collected, the account waits until the quota day, and the log says why
    assert result.status == "rate_limited"
    assert followed(CollectionRegistry()) == {}
    assert collector.post_calls == []
    entry = CollectionRegistry().entry(WS, ACCT)
    assert entry is not None
    assert entry.parked_until == AT + timedelta(hours=2)
    assert entry.account_last_collected_at is None  # the timeline is read on the next run, after the wait
    (record,) = [r for r in caplog.records if r.getMessage() == "collection_rate_limited"]
    assert (record.reason, record.retry_after_s) == (reason, 7200)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("dynamo")
def test_an_external_post_not_collected_yet_counts_as_external() -> None:
    store = MetricsStore()
    info = PostInfo("phone-9", "x", AT - timedelta(hours=2), "from the phone", None, post_id=None)
    ours = PostInfo("chorus-9", "x", AT - timedelta(hours=2), "ours", None, post_id="post-9")
    store.note_published(WS, ACCT, info)
    store.note_published(WS, ACCT, ours)
    found = store.read_account_range(WS, ACCT, AT.date(), AT.date())
    assert (found.posts_published, found.posts_external) == (2, 1)
    assert found.external == {"phone-9"}


def test_docs_name_every_platform_whose_posts_made_elsewhere_are_measured() -> None:
    from pathlib import Path

    from chorus.platforms.registry import PLATFORMS, collector

    doc = (Path(__file__).resolve().parents[2] / "docs" / "platforms.md").read_text()
    paragraph = doc[doc.index("**Posts made elsewhere are measured too** on: ") :]
    listed = paragraph.split(": ", 1)[1].split(". ", 1)[0].replace("\n", " ")
    readers = [
        info.label
        for name, info in PLATFORMS.items()
        if info.collector and isinstance(collector(name), TimelineReader)
    ]
    assert [label.strip() for label in listed.split(",")] == readers
