"""The scheduler's catch-up finishes: after a 7-day outage, one run after another (a minute apart, as
EventBridge fires them) publishes or fails every missed target exactly once, each run within a bound
of DynamoDB queries, the cursors saved as they go, a stopped run resumed where it stopped.

The scheduler's domain function runs on in-process moto with an injected clock: the 7 days take
seconds, not a week, and no sleep."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from chorus.events.envelope import InMemoryEventPublisher
from chorus.posts import scheduler
from chorus.posts.model import Target, TargetState
from chorus.posts.queue import InMemoryPublishQueue, PublishMessage
from chorus.store import keys, models
from chorus.store import posts as repo
from tests.support import main_table_in_moto

WS, ACCOUNT = "ws-outage", "acc-1"
LOOKAHEAD_S = 90
LAST_RUN = datetime(2026, 11, 2, 9, 0, 30, tzinfo=UTC)  # the last run before the outage


@dataclass
class Outage:
    """Targets due during the outage, the queue and bus the runs use, and what each run did."""

    due: dict[str, datetime]  # target id -> due time
    back: datetime  # the first run after the outage
    queue: InMemoryPublishQueue = field(default_factory=InMemoryPublishQueue)
    events: InMemoryEventPublisher = field(default_factory=InMemoryEventPublisher)
    queries: list[int] = field(default_factory=list)  # DynamoDB Query calls of each run
    delivered: int = 0
    claims: Counter[str] = field(default_factory=Counter)  # target id -> claims won

    def deliver(self) -> None:
        """What the publisher does with each new message, as far as the target's state goes: the
        claim (``scheduled|queued -> publishing``, conditional on the message's token and due time),
        then ``published``. A message whose claim fails is stale."""
        for message, _ in self.queue.sent[self.delivered :]:
            target = target_of(message)
            due = keys.parse_iso(message.due_at)
            if repo.start_publishing(target, message.token, due, due) is not None:
                self.claims[target.id] += 1
                assert repo.transition(target, TargetState.PUBLISHED, expect=[TargetState.PUBLISHING])
        self.delivered = len(self.queue.sent)


def target_of(message: PublishMessage) -> Target:
    [target] = repo.targets_of(message.workspace_id, message.post_id, consistent=True)
    return target


def plant(due_times: list[datetime]) -> dict[str, datetime]:
    """Scheduled targets due at ``due_times`` (only the targets: the scheduler reads nothing else, and
    moto's index queries cost more with every item in the table)."""
    due = {}
    for i, at in enumerate(due_times):
        target = Target(WS, f"p{i:04d}", ACCOUNT, "sandbox", TargetState.SCHEDULED, at)
        repo.target_item(target).save()
        due[target.id] = at
    return due


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, "faults-catch-up"):
        yield


def outage_of(length: timedelta, targets: int, recent: int = 0) -> Outage:
    """The scheduler's last run at LAST_RUN, then ``length`` without a run; ``targets`` due at random
    times over the outage and 5 minutes after it, and ``recent`` more in its last 2 hours (late, not
    missed); none within 10 minutes of the 2-hour staleness line (so which side each falls on does
    not depend on which run finds it)."""
    back = LAST_RUN + length
    line = back - scheduler.MISSED_AFTER
    rng = random.Random(13)
    times: list[datetime] = []
    for count, first in ((targets, LAST_RUN + timedelta(minutes=1)), (recent, line)):
        span = (back + timedelta(minutes=5) - first).total_seconds()
        group: list[datetime] = []
        while len(group) < count:
            at = first + timedelta(seconds=rng.uniform(0, span))
            if abs(at - line) > timedelta(minutes=10):
                group.append(at.replace(microsecond=0))
        times += group
    due = plant(times)
    repo.save_scheduler_state(
        repo.SchedulerState(LAST_RUN + timedelta(seconds=LOOKAHEAD_S), LAST_RUN - scheduler.LOST_AFTER)
    )
    return Outage(due, back)


def count_queries() -> Counter[str]:
    calls: Counter[str] = Counter()

    def seen(**_: Any) -> None:
        calls["Query"] += 1

    models.connection().client.meta.events.register("before-call.dynamodb.Query", seen)
    return calls


def run_once(outage: Outage, now: datetime, **kw: Any) -> scheduler.SchedulerReport:
    calls = count_queries()
    before = calls["Query"]
    report = scheduler.run(now, outage.queue, LOOKAHEAD_S, clock=lambda: now, events=outage.events, **kw)
    outage.queries.append(calls["Query"] - before)
    return report


def final_states(outage: Outage) -> dict[str, Target]:
    found: dict[str, Target] = {}
    for tid in outage.due:
        [target] = repo.targets_of(WS, tid.split(".")[0], consistent=True)
        found[tid] = target
    return found


def catch_up(outage: Outage, first: datetime, **kw: Any) -> list[scheduler.SchedulerReport]:
    """Runs a minute apart from ``first``, each followed by the deliveries of its messages, until one
    reports nothing left behind and every target has come due (at most 20)."""
    reports: list[scheduler.SchedulerReport] = []
    now = first
    while len(reports) < 20:
        reports.append(run_once(outage, now, **kw))
        outage.deliver()
        if not reports[-1].behind and now > max(outage.due.values()):
            break
        now += timedelta(minutes=1)
    return reports


def assert_each_target_once(outage: Outage, one_message: bool = True) -> set[str]:
    """Every target ended published (through the normal path: one claim) or failed as missed, none
    twice, none left behind; the missed ones. ``one_message``: and none was sent two messages."""
    states = final_states(outage)
    messages = Counter(f"{m.post_id}.{m.account_id}" for m, _ in outage.queue.sent)
    failed = {tid for tid, t in states.items() if t.state is TargetState.FAILED}
    published = {tid for tid, t in states.items() if t.state is TargetState.PUBLISHED}
    assert failed | published == set(outage.due)
    assert set(messages) == published
    assert set(outage.claims) == published
    assert set(outage.claims.values()) == {1}
    if one_message:
        assert set(messages.values()) == {1}
    for tid in failed:
        assert states[tid].error_code == scheduler.MISSED_CODE
        assert (states[tid].error or "").startswith("missed its time during an outage")
    # each missed one raised exactly one PublishFailed alert
    alerts = Counter(f"{e.data['post_id']}.{e.data['account_id']}" for e in outage.events.events)
    assert set(alerts) == failed
    assert set(alerts.values()) <= {1}
    return failed


def test_a_seven_day_outage_is_caught_up_run_by_run_each_target_once(table: None) -> None:
    # Given 7 days without a scheduler run, 50 targets due at random times over them and 10 in their
    # last 2 hours
    outage = outage_of(timedelta(days=7), targets=50, recent=10)
    # When the scheduler runs again, once a minute, until it reports nothing left behind
    watermarks: list[datetime] = []

    def stored_watermark(report: scheduler.SchedulerReport) -> None:
        stored = repo.scheduler_state().watermark
        assert stored is not None
        assert keys.iso(stored) == report.watermark  # the watermark it reports is the one stored
        watermarks.append(stored)

    reports: list[scheduler.SchedulerReport] = []
    now = outage.back
    while len(reports) < 20:
        reports.append(run_once(outage, now))
        stored_watermark(reports[-1])
        if len(reports) == 1:
            first_run = {f"{m.post_id}.{m.account_id}" for m, _ in outage.queue.sent}
        outage.deliver()
        if not reports[-1].behind and now > max(outage.due.values()):
            break
        now += timedelta(minutes=1)
    # Then it caught up within minutes: what could still go out in the first run, then a day of the
    # backlog per run (the sweep's cursor follows the backlog's)
    assert [r.behind for r in reports] == [True] * 7 + [False] * (len(reports) - 7)
    assert len(reports) <= 9
    # The watermark moved forward on every run, never back, and ends past the last run's time
    assert all(b > a for a, b in pairwise(watermarks))
    assert watermarks[-1] >= now
    # Every run kept within its bound of queries (one per minute bucket read: no pagination here)
    assert max(outage.queries) <= scheduler.max_queries_per_run(LOOKAHEAD_S)
    assert outage.queries == [r.buckets_read for r in reports]
    # Every target ended published or failed as missed, exactly those more than 2 hours late
    missed = assert_each_target_once(outage)
    assert missed == {tid for tid, due in outage.due.items() if due < outage.back - scheduler.MISSED_AFTER}
    assert 0 < len(missed) < len(outage.due)
    # and each one that could still go out was handed out by the first run after the outage
    first_until = outage.back + timedelta(seconds=LOOKAHEAD_S)
    assert first_run == {t for t, due in outage.due.items() if t not in missed and due <= first_until}
    assert sum(r.missed for r in reports) == len(missed)
    assert sum(r.enqueued for r in reports) == len(outage.due) - len(missed)
    # No run resent a message (none was lost): the catch-up's late messages are not taken for lost ones
    assert sum(r.resent for r in reports) == 0
    print(f"runs={len(reports)} queries per run={outage.queries} missed={len(missed)}")


def test_a_run_stopped_midway_is_resumed_where_it_stopped(
    table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = outage_of(timedelta(hours=8), targets=20)
    read: list[list[tuple[datetime, datetime]]] = []
    real = repo.due_refs

    def recording(
        minute: datetime, after: datetime, until: datetime, legacy: bool = True
    ) -> list[repo.DueRef]:
        read[-1].append((minute, after))
        return real(minute, after, until, legacy)

    monkeypatch.setattr(repo, "due_refs", recording)
    # Given a first run after the outage whose time budget is spent after its first chunk of buckets
    read.append([])
    first = run_once(outage, outage.back, budget_s=0)
    stored = repo.scheduler_state()
    assert stored.backlog is not None
    assert stored.watermark is not None
    # Then it saved the backlog's cursor after that chunk, and the watermark after the live window
    line = outage.back - scheduler.MISSED_AFTER
    backlog_read = sorted(m for m, _ in read[0] if m < line.replace(second=0))
    assert len(backlog_read) == scheduler.CHUNK_BUCKETS
    assert stored.backlog == backlog_read[-1] + timedelta(minutes=1) - scheduler.MILLI
    assert stored.watermark == outage.back + timedelta(seconds=LOOKAHEAD_S)
    assert first.behind
    # When the next run comes, with its full budget
    read.append([])
    run_once(outage, outage.back + timedelta(minutes=1))
    # Then it starts where the first stopped (no bucket read twice), not at the outage's start, and
    # reads the live window from the watermark on (what the first run handed out is not read again)
    backlog_next = [m for m, after in read[1] if m < line and after >= stored.backlog]
    assert min(backlog_next) == backlog_read[-1]
    assert (backlog_read[-1], stored.backlog) in read[1]
    assert not set(backlog_read[:-1]) & set(backlog_next)
    assert (stored.watermark.replace(second=0), stored.watermark) in read[1]


class Crash(Exception):
    pass


class CrashingQueue(InMemoryPublishQueue):
    """Fails every send after the first ``allowed`` (SQS stops answering mid-run) until ``healed``."""

    def __init__(self, allowed: int) -> None:
        super().__init__()
        self.allowed = allowed
        self.healed = False
        self.lock = threading.Lock()  # the scheduler sends from several threads

    def send(self, message: PublishMessage, delay_s: int) -> None:
        with self.lock:
            if not self.healed and len(self.sent) >= self.allowed:
                raise Crash("SQS unreachable")
            super().send(message, delay_s)


def test_a_run_that_crashes_mid_catch_up_loses_nothing_and_sends_nothing_twice(table: None) -> None:
    # Given a 3-hour outage with 40 targets due over it, most within the last 2 hours (published late)
    outage = outage_of(timedelta(hours=3), targets=40)
    # and a first run after it during which SQS stops answering after 5 messages
    crashing = CrashingQueue(allowed=5)
    outage.queue = crashing
    report = run_once(outage, outage.back)
    outage.deliver()
    assert len(crashing.sent) == 5
    assert report.unsent > 0
    assert report.enqueued == 5
    # its watermark stopped before the first target whose message was not sent
    stored = repo.scheduler_state().watermark
    assert stored is not None
    assert stored < outage.back
    # When the runs go on with SQS back
    crashing.healed = True
    reports = catch_up(outage, outage.back + timedelta(minutes=1))
    # Then every target ended published (one claim) or failed as missed: the messages sent again from
    # the watermark on (those sent after the first one refused) were refused by the claim as stale
    missed = assert_each_target_once(outage, one_message=False)
    assert len(outage.due) - len(missed) > 5
    assert not reports[-1].behind


def test_a_run_in_steady_state_reads_only_the_minutes_around_now(table: None) -> None:
    # Given a scheduler that ran a minute ago (no outage) and a target due in 40 s
    outage = outage_of(timedelta(minutes=1), targets=0)
    due = plant([outage.back + timedelta(seconds=40)])
    run_once(outage, outage.back - timedelta(minutes=1))
    puts: list[str] = []
    models.connection().client.meta.events.register(
        "before-call.dynamodb.PutItem", lambda **_: puts.append("PutItem")
    )
    # When it runs again
    report = run_once(outage, outage.back)
    # Then it read a handful of minute buckets (the live window's 2, each in gsi3 and gsi1's DUE; the
    # sweep's 2, each in gsi3 and gsi1's QUEUED; the overdue sweep's 4), not the 2 hours a catch-up
    # looks back, handed the target out, and is not behind
    assert outage.queries[-1] <= 2 * 2 + 2 * 2 + 4
    # and it wrote its three cursors once, in one item (an idle minute's only write)
    assert puts == ["PutItem"]
    assert [f"{m.post_id}.{m.account_id}" for m, _ in outage.queue.sent] == list(due)
    assert not report.behind
