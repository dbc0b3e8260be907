"""The scheduler (every minute): hand each target due soon to the publish queue, delayed to its second.

It reads only the minute buckets of the sparse due index, one Query each, so its cost follows what
is due, not what is stored. Two cursors, kept in one item (``SchedulerStateItem``), say how far it got:

* ``watermark``: every DUE bucket before this minute has been read and its targets handed out;
* ``swept``: every QUEUED bucket before this minute has been checked for lost messages (a crash
  between the state change and the send); a lost one is sent again, and the publisher's conditional
  transition keeps that from ever publishing twice.

Each run first hands out what is due from the watermark (less a 2-minute overlap), or from
``MISSED_AFTER`` ago when it is further behind, to ``now + lookahead``: a post due now is never kept
waiting by a catch-up, nor a late one that can still go out. Then it catches up the buckets between
the watermark and that window, at most ``BACKLOG_BUCKETS_PER_RUN`` of them, ``CHUNK_BUCKETS`` at a
time: each chunk's targets are handed out, then the watermark is saved. A run that stops (its time or
target budget spent, or a crash) leaves the watermark after its last finished chunk, and the next run
resumes there. The lost-message sweep walks its own cursor the same way. So after an outage of 7 days
(10,080 minutes) the backlog is read in 7 runs, and no run makes more than
:func:`max_queries_per_run` queries.

A target found more than ``MISSED_AFTER`` past its time is not published late: it fails with the
reason ``missed its time during an outage`` (``error_code`` ``missed_during_outage``) and a
``PublishFailed`` event (an alert), and a person retries or reschedules it. One less late is handed
to the queue at once and goes through the normal publish path.

Two concurrent runs (EventBridge delivers a schedule at least once) read the same buckets; the
conditional ``scheduled -> queued`` transition lets one of them hand out each target.

Reminder publishing's overdue sweep rides on the same run: a target awaiting a person sits in the
MANUAL bucket of the minute it becomes overdue, and a third cursor (``overdue``, in the same item) walks
those buckets up to now the same way (:func:`chorus.posts.reminders.sweep_overdue`). The three cursors
are read once and written once a run (more often only while catching up, after each chunk), so an idle
minute costs one read and one write of state.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from math import ceil, floor

from chorus.events.envelope import DomainEvent, EventPublisher
from chorus.posts import reminders
from chorus.posts.model import Attempt, Target, TargetState
from chorus.posts.queue import MAX_DELAY_S, SQS_BATCH, PublishMessage, PublishQueue
from chorus.posts.timing import minutes
from chorus.store import keys
from chorus.store import posts as repo

log = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
OVERLAP = timedelta(minutes=2)  # buckets before a cursor read again (a target written just after its read)
FIRST_RUN_LOOKBACK = timedelta(minutes=15)
MAX_CATCH_UP = timedelta(days=35)  # a cursor older than this is moved up to it (and logged as an error)
LOST_AFTER = timedelta(minutes=3)
ENQUEUE_WORKERS = 8
RESEND_KIND = {TargetState.QUEUED: "publish", TargetState.VERIFYING: "verify", TargetState.PROCESSING: "step"}

# A run's bounds. A day of minute buckets per cursor and run: a 7-day outage is caught up in 7 runs
# (7 minutes), each well inside the function's 60 s timeout (DynamoDB answers a Query of an empty
# bucket in a few ms, and a chunk's buckets are read in parallel).
BACKLOG_BUCKETS_PER_RUN = 1_440
CHUNK_BUCKETS = 60  # buckets read, then their targets handed out, then the cursor saved
TARGETS_PER_RUN = 3_000  # backlog hand-out stops after the chunk that reaches this many targets
RUN_BUDGET_S = 40.0  # no new chunk starts after this many seconds of a run

# The staleness rule (decision log, session 5): like SocialOomph's, and as Buffer and Hootsuite show a
# post they could not send as failed for a person to reschedule, a post more than two hours late is
# not published on its own: "Good morning", "doors open at 9" or "sale ends tonight" read wrong days
# later. Up to two hours late it still goes out, at once.
MISSED_AFTER = timedelta(hours=2)
MISSED_CODE = "missed_during_outage"


@dataclass(frozen=True)
class SchedulerReport:
    enqueued: int
    resent: int
    buckets_read: int
    items_read: int
    caught_up: int  # targets handed out after their due time had passed
    missed: int = 0  # targets failed: more than MISSED_AFTER late
    watermark: str = ""  # DUE buckets before this minute are done
    swept: str = ""  # QUEUED buckets before this minute are done
    behind: bool = False  # a cursor has buckets left for the next run
    overdue: int = 0  # reminder-published targets made overdue


def max_queries_per_run(lookahead_s: int) -> int:
    """The most bucket reads one run makes: the live window (MISSED_AFTER back while catching up,
    OVERLAP back otherwise), then each cursor's backlog (DUE, QUEUED, MANUAL). A bucket holding more
    than 1 MB of targets (thousands due in one minute) is read in more than one page."""
    live = ceil((MISSED_AFTER.total_seconds() + lookahead_s) / 60) + 1
    return live + 3 * BACKLOG_BUCKETS_PER_RUN


LEAD_S = 2  # the message arrives this early; the publisher prepares, then waits for the due second


def delay_for(due: datetime, now: datetime) -> int:
    """Whole seconds of SQS delay: the message arrives up to LEAD_S + 1 s before ``due`` (never after),
    which absorbs a cold start and the queue's polling; the publisher makes the call at ``due``."""
    return max(0, min(MAX_DELAY_S, floor((due - now).total_seconds()) - LEAD_S))


def enqueue(target: Target, clock: Callable[[], datetime], queue: PublishQueue) -> bool:
    """scheduled -> queued with a fresh token, then send the message delayed to the due second (the
    delay counted from the moment it is sent: handing out 1,000 targets takes seconds)."""
    moved = _to_queued(target, clock)
    if moved is None:
        return False  # edited, cancelled or already queued by a concurrent run
    _send_one(moved, clock, queue)
    return True


def enqueue_all(
    targets: Sequence[Target], clock: Callable[[], datetime], queue: PublishQueue, pool: ThreadPoolExecutor
) -> list[Target]:
    """:func:`enqueue` for many targets (soonest first), in ``pool``; the targets handed out. Where the
    queue takes batches, SQS_BATCH targets at a time are moved ``scheduled -> queued`` and their
    messages sent in one request (one SQS request for ten posts, not ten: docs/scaling.md), each delayed
    to its second as counted when the request goes out. A message not sent puts its target back
    (``scheduled``, for the next run); a request that failed puts its whole batch back and raises. A
    target whose put-back failed too stays queued with no message: the lost-message sweep sends it."""
    send_batch = getattr(queue, "send_batch", None)
    if send_batch is None:  # a queue without batches: one request a message
        handed = list(pool.map(lambda t: enqueue(t, clock, queue), targets))
        return [t for t, ok in zip(targets, handed, strict=True) if ok]
    chunks = [targets[i : i + SQS_BATCH] for i in range(0, len(targets), SQS_BATCH)]
    return [t for handed in pool.map(lambda c: _hand_out(c, clock, send_batch), chunks) for t in handed]


Moved = tuple[Target, PublishMessage]


def _to_queued(target: Target, clock: Callable[[], datetime]) -> Moved | None:
    """``scheduled -> queued`` with a fresh token, and the message that hands it out; None if the
    target changed (edited, cancelled, or queued by a concurrent run)."""
    token = uuid.uuid4().hex
    due = target.due_at or clock()
    if not repo.transition(target, TargetState.QUEUED, expect=[TargetState.SCHEDULED], new_token=token):
        return None
    message = PublishMessage(
        "publish", target.workspace_id, target.post_id, target.account_id, token, keys.iso(due)
    )
    return replace(target, state=TargetState.QUEUED, queue_token=token, due_at=due), message


def _send_one(moved: Moved, clock: Callable[[], datetime], queue: PublishQueue) -> bool:
    target, message = moved
    sent_at = clock()
    try:
        queue.send(message, delay_for(target.due_at or sent_at, sent_at))
    except Exception:
        _put_back([moved])  # the next run (or the lost-message sweep) hands it out again
        raise
    _sent([moved], sent_at)
    return True


def _hand_out(
    targets: Sequence[Target], clock: Callable[[], datetime], send_batch: Callable[..., list[int]]
) -> list[Target]:
    """Up to SQS_BATCH targets queued and their messages sent in one request."""
    moved = [m for m in (_to_queued(t, clock) for t in targets) if m is not None]
    if not moved:
        return []
    sent_at = clock()
    try:
        refused = set(send_batch([(m, delay_for(t.due_at or sent_at, sent_at)) for t, m in moved]))
    except Exception:
        _put_back(moved)
        raise
    if refused:
        log.warning("publish messages refused by the queue: put back", extra={"count": len(refused)})
        _put_back([m for i, m in enumerate(moved) if i in refused])
    handed = [m for i, m in enumerate(moved) if i not in refused]
    _sent(handed, sent_at)
    return [t for t, _ in handed]


def _put_back(moved: Sequence[Moved]) -> None:
    for target, message in moved:
        repo.transition(
            target, TargetState.SCHEDULED, expect=[TargetState.QUEUED], token=message.token, new_token=None
        )


def _sent(moved: Sequence[Moved], sent_at: datetime) -> None:
    """Handed out late (a catch-up): the message is expected now, not at the due minute, which the
    lost-message sweep would otherwise take for a message lost long ago and send again."""
    for target, message in moved:
        if target.due_at and target.due_at < sent_at - MINUTE:
            repo.set_queued_bucket(target, sent_at, message.token)


def miss(target: Target, now: datetime) -> DomainEvent | None:
    """scheduled -> failed, with the reason, for a target found more than MISSED_AFTER late; the
    ``PublishFailed`` event to publish (None when the target changed meanwhile)."""
    due = target.due_at or now
    late_h = (now - due).total_seconds() / 3600
    reason = (
        f"missed its time during an outage: due {keys.iso(due)}, found {late_h:.1f} h late (a post "
        f"more than {MISSED_AFTER.total_seconds() / 3600:g} h late is not published on its own; "
        "retry or reschedule it)"
    )
    if not repo.transition(
        target, TargetState.FAILED, expect=[TargetState.SCHEDULED], error=reason, error_code=MISSED_CODE,
        attempt=Attempt(now, "failed", reason),
    ):  # fmt: skip
        return None
    facts = {"post_id": target.post_id, "account_id": target.account_id, "platform": target.platform}
    return DomainEvent(
        "PublishFailed",
        target.workspace_id,
        {**facts, "error": reason, "error_code": MISSED_CODE, "attempts": 0, "due_at": keys.iso(due)},
        correlation_id=target.id,
    )


class _Run:
    """One run's counters, clock and budgets."""

    def __init__(
        self,
        now: datetime,
        queue: PublishQueue,
        clock: Callable[[], datetime],
        events: EventPublisher | None,
        budget_s: float,
        pool: ThreadPoolExecutor,
    ) -> None:
        self.now, self.queue, self.clock, self.events, self.pool = now, queue, clock, events, pool
        self.deadline = time.monotonic() + budget_s
        self.enqueued = self.caught_up = self.missed = self.resent = self.buckets = self.items = 0
        self.made_overdue = 0

    def spent(self) -> bool:
        return time.monotonic() >= self.deadline or self.enqueued + self.missed >= TARGETS_PER_RUN

    def read(self, prefix: str, buckets: Sequence[datetime], until: datetime) -> list[Target]:
        """The targets of ``buckets`` (sort key up to ``until``), the buckets read in parallel."""
        found = list(self.pool.map(lambda m: list(repo.due_targets(prefix, m, until)), buckets))
        self.buckets += len(buckets)
        targets = [t for page in found for t in page]
        self.items += len(targets)
        return targets

    def hand_out(self, buckets: Sequence[datetime], until: datetime) -> None:
        """Queue the due targets of ``buckets``, soonest first; fail those more than MISSED_AFTER late."""
        due = sorted(self.read("DUE", buckets, until), key=lambda t: t.due_at or self.now)
        stale = self.now - MISSED_AFTER
        missed = [t for t in due if t.due_at and t.due_at < stale]
        timely = [t for t in due if not (t.due_at and t.due_at < stale)]
        for target in enqueue_all(timely, self.clock, self.queue, self.pool):
            self.enqueued += 1
            if target.due_at and target.due_at < self.now - timedelta(seconds=5):
                self.caught_up += 1
        events = [e for e in self.pool.map(lambda t: miss(t, self.now), missed) if e is not None]
        self.missed += len(events)
        if events:
            log.warning("targets missed their time during an outage", extra={"count": len(events)})
            if self.events is not None:
                self.events.publish(events)

    def sweep(self, buckets: Sequence[datetime], until: datetime) -> None:
        """Send again the message of each target still queued in ``buckets`` (it was lost)."""
        for target in self.read("QUEUED", buckets, until):
            kind = RESEND_KIND.get(target.state)
            if target.queue_token and kind:
                due_iso = keys.iso(target.due_at or self.now)
                self.queue.send(
                    PublishMessage(kind, target.workspace_id, target.post_id, target.account_id,
                                   target.queue_token, due_iso),
                    0,
                )  # fmt: skip
                repo.set_queued_bucket(target, self.now, target.queue_token)
                self.resent += 1
                log.warning("resent a lost publish message", extra={"target": target.id})

    def overdue(self, cursor: datetime | None) -> datetime:
        """Reminder publishing: targets still awaiting a person past their ``overdue_at`` become
        overdue, each with one alert. Reads the MANUAL buckets from ``cursor`` (less ``OVERLAP``; a day
        of buckets a run at most) to now; the cursor to save."""
        start = _cursor_start(cursor, self.now - FIRST_RUN_LOOKBACK, self.now, "overdue")
        buckets = minutes(start, self.now)[:BACKLOG_BUCKETS_PER_RUN]
        self.made_overdue += reminders.sweep_overdue(
            self.read("MANUAL", buckets, self.now), self.now, self.events
        )
        return _after(buckets[-1], self.now)


def _cursor_start(cursor: datetime | None, default: datetime, now: datetime, name: str) -> datetime:
    """Where a cursor's next read starts: ``OVERLAP`` before it, not before ``now - MAX_CATCH_UP``."""
    start = cursor - OVERLAP if cursor else default
    oldest = now - MAX_CATCH_UP
    if start < oldest:
        log.error(
            "scheduler cursor older than MAX_CATCH_UP: earlier buckets are not read",
            extra={"cursor": name, "at": keys.iso(start), "from": keys.iso(oldest)},
        )
        return oldest
    return start


def _after(bucket: datetime, until: datetime) -> datetime:
    """The cursor once ``bucket`` is read: the next minute, or ``until``'s own minute when the bucket
    was read only up to ``until`` (its later targets were not yet due)."""
    return min(bucket + MINUTE, until.replace(second=0, microsecond=0))


def run(
    now: datetime,
    queue: PublishQueue,
    lookahead_s: int = 90,
    clock: Callable[[], datetime] | None = None,
    events: EventPublisher | None = None,
    budget_s: float = RUN_BUDGET_S,
) -> SchedulerReport:
    """Hand out what is due by ``now + lookahead_s``, then catch up and sweep within the run's bounds.

    ``clock`` tells the time as the run goes on (default: ``now`` plus the time elapsed since the run
    started); ``events`` gets a ``PublishFailed`` for each missed target; no new chunk of buckets starts
    after ``budget_s`` seconds."""
    started = time.monotonic()

    def elapsed() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    watermark, swept, overdue_at = repo.scheduler_state()
    until = now + timedelta(seconds=lookahead_s)
    sweep_until = now - LOST_AFTER
    due_start = _cursor_start(watermark, now - FIRST_RUN_LOOKBACK, now, "watermark")
    sweep_start = _cursor_start(swept, sweep_until - FIRST_RUN_LOOKBACK, now, "swept")
    # What can still be published (due up to MISSED_AFTER ago) is read first, every run; only targets
    # more than MISSED_AFTER late lie behind it, in the backlog.
    live = minutes(min(max(due_start, now - MISSED_AFTER), now - OVERLAP), until)
    backlog = [m for m in minutes(due_start, live[0]) if m < live[0]]
    to_sweep = minutes(sweep_start, sweep_until)
    with ThreadPoolExecutor(max_workers=ENQUEUE_WORKERS) as pool:
        work = _Run(now, queue, clock or elapsed, events, budget_s, pool)
        # 1. What is due now and soon, and what is late but not missed, first: a catch-up never delays
        # a post due on time, and never lets a late one pass MISSED_AFTER while older ones are read.
        work.hand_out(live, until)
        # 2. The DUE backlog behind it, chunk by chunk, the watermark saved after each.
        new_watermark = watermark or live[0]
        if not backlog:
            new_watermark = _after(live[-1], until)
        for i, chunk in enumerate(_chunks(backlog[:BACKLOG_BUCKETS_PER_RUN])):
            if i and work.spent():
                break
            if i:  # the chunks before it are done (the last one's is saved at the end of the run)
                repo.save_scheduler_state(new_watermark, swept, overdue_at)
            work.hand_out(chunk, until)
            new_watermark = chunk[-1] + MINUTE
            if new_watermark >= live[0]:
                new_watermark = _after(live[-1], until)  # the backlog is done: the live window counts
        # 3. The lost-message sweep, the same way.
        new_swept = swept or sweep_start
        for i, chunk in enumerate(_chunks(to_sweep[:BACKLOG_BUCKETS_PER_RUN])):
            if (i or backlog) and work.spent():
                break
            if i or backlog:
                repo.save_scheduler_state(new_watermark, new_swept, overdue_at)
            work.sweep(chunk, sweep_until)
            new_swept = _after(chunk[-1], sweep_until)
        # 4. Reminder publishing's overdue targets, up to now.
        new_overdue = work.overdue(overdue_at)
        repo.save_scheduler_state(new_watermark, new_swept, new_overdue)
    this_minute = now.replace(second=0, microsecond=0)
    behind = (
        new_watermark < live[0]
        or new_swept < sweep_until.replace(second=0, microsecond=0)
        or new_overdue < this_minute
    )
    if behind:
        log.info(
            "scheduler catching up",
            extra={"watermark": keys.iso(new_watermark), "swept": keys.iso(new_swept)},
        )
    return SchedulerReport(
        work.enqueued, work.resent, work.buckets, work.items, work.caught_up, work.missed,
        keys.iso(new_watermark), keys.iso(new_swept), behind, work.made_overdue,
    )  # fmt: skip


def _chunks(buckets: list[datetime]) -> list[list[datetime]]:
    return [buckets[i : i + CHUNK_BUCKETS] for i in range(0, len(buckets), CHUNK_BUCKETS)]


def utcnow() -> datetime:
    return datetime.now(UTC)
