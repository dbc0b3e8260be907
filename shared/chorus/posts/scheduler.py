"""The scheduler (every minute): hand each target due soon to the publish queue, delayed to its second.

It reads only the minute buckets of the sparse due index, one Query each, so its cost follows what
is due, not what is stored. **The hand-out writes nothing**: a target stays ``scheduled`` (what the
calendar shows) until the publisher's claim, and the scheduler's cursors are its memory. They are kept
in one item (``SchedulerStateItem``), read once and written once a run:

* ``watermark`` (to the millisecond): every target due up to it has been handed out. A run reads the
  DUE buckets from the watermark (exclusive) to ``now + lookahead`` (inclusive) by their sort keys
  (due time, then target id), so each target is read by one run only, and saves ``now + lookahead``
  as the watermark once the queue accepted the messages. An entry the queue refused, or a request
  that failed, is not skipped: the watermark stops just before the earliest of them, and the next run
  reads from there (the messages of later targets sent again are refused by the claim as ``stale``).
* ``swept``: lost messages were looked for up to it (see below).
* ``backlog``: set while an outage longer than ``MISSED_AFTER`` is caught up (below).
* ``overdue``: reminder publishing's MANUAL buckets before this minute were swept.

The message carries the target's ``queue_token`` (None for a target never handed out) and its due
time; the publisher's claim (``scheduled|queued -> publishing``, :func:`chorus.store.posts.start_publishing`)
is a conditional write on both, so of two messages for a target one wins and a rescheduled or edited
target's old message is ``stale``. Two concurrent runs (EventBridge delivers a schedule at least once)
may both send a target's message: one claim wins.

**Targets the scheduler cannot see in time are handed out by the API** (:func:`enqueue_imminent`): a
target written at ``t`` and due at ``d`` is read only by a run whose read of ``d``'s range comes after
``t``. The run that reads ``d`` is the first one at or after ``d - lookahead`` (each run reads up to its
own ``now + lookahead``, at least once a minute), so every target due after ``t + lookahead`` is read
after it was written; :func:`api_window` adds ``API_MARGIN`` (30 s) for the index's replication lag and
clocks: a target written (created, rescheduled, resumed, approved, edited, imported) due within
``lookahead + 30 s`` of its write is sent by the API itself. Of the two senders one may send twice (a
target near the edge of the window): the claim takes one. An edit of a target that may have a message
in flight writes a new ``queue_token`` when its new due time is inside the window (and the API sends
the new message), and removes it otherwise (the old message names the old due time, which no longer
holds): a ``scheduled`` target holds a token only while the API's message with it may be in flight.

**The lost-message sweep** (``swept``, ``LOST_AFTER`` = 3 min behind now, never past the watermark):
a target still ``scheduled`` in a DUE bucket 3 minutes after its due time had its message lost (the
API wrote the target and died before sending: the scheduler's own messages were accepted by the queue
before its watermark moved), and is sent again with its token; a target still ``queued``,
``verifying`` or ``processing`` in a QUEUED bucket (a retry, a parked target, a verify, a processing
step: the publisher's own follow-up messages) is sent again and moved to the current minute's QUEUED
bucket. The claim keeps either from ever publishing twice.

**Outages.** What can still be published (due up to ``MISSED_AFTER`` ago) is read first, every run; a
target more than ``MISSED_AFTER`` late is not published late: it fails with the reason ``missed its
time during an outage`` (``error_code`` ``missed_during_outage``) and a ``PublishFailed`` event (an
alert), and a person retries or reschedules it. Those lie in the backlog, from the old watermark to
``now - MISSED_AFTER``: the ``backlog`` cursor walks it at most ``BACKLOG_BUCKETS_PER_RUN`` buckets a
run, ``CHUNK_BUCKETS`` at a time, the cursors saved after each chunk. A run that stops (its time or
target budget spent, or a crash) leaves the cursors after its last finished chunk, and the next run
resumes there. The lost-message sweep walks its own cursor the same way, behind the backlog's. So
after an outage of 7 days (10,080 minutes) the backlog is read in 7 runs, and no run makes more than
:func:`max_queries_per_run` queries.

Reminder publishing's overdue sweep rides on the same run: a target awaiting a person sits in the
MANUAL bucket of the minute it becomes overdue, and the ``overdue`` cursor walks those buckets up to
now (less an ``OVERLAP`` of 2 minutes: making a target overdue is a conditional write, so a second
read of a bucket changes nothing) (:func:`chorus.posts.reminders.sweep_overdue`). An idle minute costs
one read and one write of state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from math import ceil

from chorus.events.envelope import DomainEvent, EventPublisher
from chorus.posts import reminders
from chorus.posts.lead import LEAD, SECOND, delay_for, settle_s
from chorus.posts.model import Attempt, Target, TargetState
from chorus.posts.queue import SQS_BATCH, PublishMessage, PublishQueue
from chorus.posts.timing import minutes
from chorus.store import keys
from chorus.store import posts as repo
from chorus.store.posts import DueRef

log = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
MILLI = timedelta(milliseconds=1)
OVERLAP = timedelta(minutes=2)  # MANUAL buckets before the overdue cursor read again (conditional writes)
FIRST_RUN_LOOKBACK = timedelta(minutes=15)
MAX_CATCH_UP = timedelta(days=35)  # a cursor older than this is moved up to it (and logged as an error)
LOST_AFTER = timedelta(minutes=3)
API_MARGIN = timedelta(seconds=30)  # the due index's replication lag, clocks, a run's own duration
ENQUEUE_WORKERS = 8
RESEND_KIND = {TargetState.QUEUED: "publish", TargetState.VERIFYING: "verify", TargetState.PROCESSING: "step"}
DUE_INDEXES = 2  # Queries a DUE bucket read takes: gsi3's keys, and gsi1's targets written before session 9

# A run's bounds. A day of minute buckets per cursor and run: a 7-day outage is caught up in 7 runs
# (7 minutes), each well inside the function's 60 s timeout (DynamoDB answers a Query of an empty
# bucket in a few ms, and a chunk's buckets are read in parallel).
BACKLOG_BUCKETS_PER_RUN = 1_440
CHUNK_BUCKETS = 60  # buckets read, then their targets handed out, then the cursor saved
TARGETS_PER_RUN = 3_000  # backlog walk stops after the chunk that reaches this many targets
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
    watermark: str = ""  # targets due up to this time are handed out
    swept: str = ""  # lost messages looked for up to this time
    behind: bool = False  # a cursor has buckets left for the next run
    overdue: int = 0  # reminder-published targets made overdue
    unsent: int = 0  # messages the queue refused or failed: read again by the next run


def max_queries_per_run(lookahead_s: int) -> int:
    """The most bucket reads one run makes: the live window (MISSED_AFTER back while catching up), then
    each cursor's backlog: the outage's DUE buckets, the sweep's DUE (gsi3 only) and QUEUED buckets,
    the MANUAL buckets. A bucket holding more than 1 MB of targets (thousands due in one minute) is read
    in more than one page."""
    live = ceil((MISSED_AFTER.total_seconds() + lookahead_s) / 60) + 1
    return DUE_INDEXES * live + (DUE_INDEXES + 3) * BACKLOG_BUCKETS_PER_RUN


def api_window(lookahead_s: int) -> timedelta:
    """How soon after its write a target must be due for the API to hand it out itself: the scheduler
    reads a due time at or after ``due - lookahead`` (module docstring), plus ``API_MARGIN``."""
    return timedelta(seconds=lookahead_s) + API_MARGIN


def handed_out_by_api(due: datetime | None, now: datetime, lookahead_s: int) -> bool:
    """Whether a target written at ``now`` and due at ``due`` is the API's to hand out (or may have a
    message from it in flight)."""
    return due is not None and due <= now + api_window(lookahead_s)


def message_for(target: Target | DueRef, kind: str = "publish") -> PublishMessage:
    """The message that asks the publisher to act on ``target`` at its due time, with its token."""
    due = keys.iso(target.due_at or datetime.now(UTC))
    return PublishMessage(
        kind, target.workspace_id, target.post_id, target.account_id, target.queue_token, due
    )


def enqueue(target: Target | DueRef, clock: Callable[[], datetime], queue: PublishQueue) -> bool:
    """Send ``target``'s message delayed to its due second (the delay counted from the moment it is
    sent: handing out 1,000 targets takes seconds). Nothing is written: the claim checks the token and
    the due time the message carries."""
    sent_at = clock()
    queue.send(message_for(target), delay_for(target.due_at or sent_at, sent_at))
    return True


def enqueue_all(
    targets: Sequence[DueRef],
    clock: Callable[[], datetime],
    queue: PublishQueue,
    pool: ThreadPoolExecutor,
    settle: Callable[[float], None] | None = None,
) -> list[DueRef]:
    """:func:`enqueue` for many targets (soonest first), in ``pool``; those whose messages were NOT
    accepted (refused by the queue, or their request failed: logged). Where the queue takes batches,
    SQS_BATCH messages go in one request (one SQS request for ten posts, not ten: docs/scaling.md),
    each delayed to its second as counted when the request goes out. ``settle`` (a sleep): first wait
    for the moment that makes the whole-second delays lose the least (:func:`chorus.posts.lead.settle_s`),
    so the messages arrive ``LEAD_S`` (to ``LEAD_S + SEND_S``) before their due second."""
    if settle is not None:  # only where a delay is taken: a late target goes at once anyway
        now = clock()
        ahead = next((t.due_at for t in targets if t.due_at - now > LEAD + SECOND), None)
        if ahead is not None:
            settle(settle_s(ahead, now))
    send_batch = getattr(queue, "send_batch", None)
    if send_batch is None:  # a queue without batches: one request a message
        chunks = [[t] for t in targets]
    else:
        chunks = [list(targets[i : i + SQS_BATCH]) for i in range(0, len(targets), SQS_BATCH)]

    def send(chunk: list[DueRef]) -> list[DueRef]:
        sent_at = clock()
        messages = [(message_for(t), delay_for(t.due_at, sent_at)) for t in chunk]
        try:
            if send_batch is None:
                queue.send(*messages[0])
                return []
            refused = set(send_batch(messages))
        except Exception:
            log.exception(
                "publish messages not sent: read again by the next run", extra={"count": len(chunk)}
            )
            return chunk
        if refused:
            log.warning("publish messages refused by the queue: read again", extra={"count": len(refused)})
        return [t for i, t in enumerate(chunk) if i in refused]

    return [t for unsent in pool.map(send, chunks) for t in unsent]


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
        settle: Callable[[float], None] | None = None,
    ) -> None:
        self.now, self.queue, self.clock, self.events, self.pool = now, queue, clock, events, pool
        self.settle = settle
        self.deadline = time.monotonic() + budget_s
        self.enqueued = self.caught_up = self.missed = self.resent = self.buckets = self.items = 0
        self.made_overdue = self.unsent = 0
        self.handed_out: set[str] = set()  # ids this run sent: not lost, whatever the sweep reads

    def spent(self) -> bool:
        return time.monotonic() >= self.deadline or self.enqueued + self.missed >= TARGETS_PER_RUN

    def read(
        self, prefix: str, buckets: Sequence[datetime], after: datetime | None, until: datetime
    ) -> list[Target]:
        """The targets of ``buckets`` of the due index due after ``after`` (None: the whole bucket) up
        to ``until``, the buckets read in parallel."""
        found = list(self.pool.map(lambda m: list(repo.due_targets(prefix, m, until, after)), buckets))
        self.buckets += len(buckets)
        targets = [t for page in found for t in page]
        self.items += len(targets)
        return targets

    def due(self, after: datetime, until: datetime) -> list[DueRef]:
        """The scheduled targets due after ``after`` up to ``until`` (their DUE buckets read in parallel)."""
        buckets = minutes(after, until)
        found = list(self.pool.map(lambda m: repo.due_refs(m, after, until), buckets))
        self.buckets += DUE_INDEXES * len(buckets)
        refs = [r for page in found for r in page]
        self.items += len(refs)
        return refs

    def hand_out(self, after: datetime, until: datetime) -> datetime:
        """Send the messages of the targets due after ``after`` up to ``until``, soonest first; the
        watermark to save: ``until``, or just before the earliest target whose message was not sent."""
        due = sorted(self.due(after, until), key=lambda r: r.due_at)
        unsent = enqueue_all(due, self.clock, self.queue, self.pool, self.settle)
        left = {r.id for r in unsent}
        for ref in due:
            if ref.id not in left:
                self.handed_out.add(ref.id)
                self.enqueued += 1
                if ref.due_at < self.now - timedelta(seconds=5):
                    self.caught_up += 1
        self.unsent += len(unsent)
        if not unsent:
            return until
        first = min(r.due_at for r in unsent)
        return max(after, keys.to_millis(first) - MILLI)

    def miss_all(self, buckets: Sequence[datetime], after: datetime, until: datetime) -> None:
        """Fail the targets still scheduled, due after ``after`` up to ``until`` (more than
        MISSED_AFTER ago), each with one ``PublishFailed`` alert."""
        refs = [r for page in self.pool.map(lambda m: repo.due_refs(m, after, until), buckets) for r in page]
        self.buckets += DUE_INDEXES * len(buckets)
        self.items += len(refs)
        late = [t for t in repo.current_targets(refs) if t.state is TargetState.SCHEDULED]
        events = [e for e in self.pool.map(lambda t: miss(t, self.now), late) if e is not None]
        self.missed += len(events)
        if events:
            log.warning("targets missed their time during an outage", extra={"count": len(events)})
            if self.events is not None:
                self.events.publish(events)

    def sweep(self, buckets: Sequence[datetime], after: datetime, until: datetime) -> None:
        """Send again the message of each target still scheduled in a DUE bucket, or still queued,
        verifying or processing in a QUEUED bucket, due after ``after`` up to ``until`` (it was lost)."""
        # gsi3 only: a target written before session 9 was written by an API that sent its own message
        found = self.pool.map(lambda m: repo.due_refs(m, after, until, legacy=False), buckets)
        refs = [r for page in found for r in page]
        self.buckets += len(buckets)
        self.items += len(refs)
        unsent = [r for r in refs if r.id not in self.handed_out]
        for target in repo.current_targets(unsent) if unsent else []:
            if target.state is TargetState.SCHEDULED and target.due_at and target.due_at <= until:
                self.queue.send(message_for(target), 0)
                self._resent(target)
        for target in self.read("QUEUED", buckets, after, until):
            kind = RESEND_KIND.get(target.state)
            if target.queue_token and kind:
                self.queue.send(message_for(target, kind), 0)
                repo.set_queued_bucket(target, self.now, target.queue_token)
                self._resent(target)

    def _resent(self, target: Target) -> None:
        self.resent += 1
        log.warning("resent a lost publish message", extra={"target": target.id})

    def walk(
        self,
        after: datetime,
        upto: datetime,
        step: Callable[[Sequence[datetime], datetime, datetime], None],
        save: Callable[[datetime], None],
        first: bool,
    ) -> datetime:
        """Walk the buckets after ``after`` up to ``upto``, ``CHUNK_BUCKETS`` at a time (at most
        ``BACKLOG_BUCKETS_PER_RUN``), ``step`` on each; before each chunk but the run's ``first``,
        ``save`` the cursor reached (the chunks before it are done). The cursor reached."""
        buckets = minutes(after, upto)[:BACKLOG_BUCKETS_PER_RUN]
        for i in range(0, len(buckets), CHUNK_BUCKETS):
            if not (first and i == 0):
                if self.spent():
                    break
                save(after)
            chunk = buckets[i : i + CHUNK_BUCKETS]
            end = min(chunk[-1] + MINUTE - MILLI, upto)
            step(chunk, after, end)
            after = end
        return after

    def overdue(self, cursor: datetime | None) -> datetime:
        """Reminder publishing: targets still awaiting a person past their ``overdue_at`` become
        overdue, each with one alert. Reads the MANUAL buckets from ``cursor`` (less ``OVERLAP``; a day
        of buckets a run at most) to now; the cursor to save."""
        start = _clamp((cursor - OVERLAP) if cursor else self.now - FIRST_RUN_LOOKBACK, self.now, "overdue")
        buckets = minutes(start, self.now)[:BACKLOG_BUCKETS_PER_RUN]
        self.made_overdue += reminders.sweep_overdue(
            self.read("MANUAL", buckets, None, self.now), self.now, self.events
        )
        return min(buckets[-1] + MINUTE, self.now.replace(second=0, microsecond=0))


def _clamp(start: datetime, now: datetime, name: str) -> datetime:
    """Where a cursor's next read starts: not before ``now - MAX_CATCH_UP``."""
    oldest = now - MAX_CATCH_UP
    if start < oldest:
        log.error(
            "scheduler cursor older than MAX_CATCH_UP: earlier buckets are not read",
            extra={"cursor": name, "at": keys.iso(start), "from": keys.iso(oldest)},
        )
        return oldest
    return start


def run(
    now: datetime,
    queue: PublishQueue,
    lookahead_s: int = 90,
    clock: Callable[[], datetime] | None = None,
    events: EventPublisher | None = None,
    budget_s: float = RUN_BUDGET_S,
    settle: Callable[[float], None] | None = None,
) -> SchedulerReport:
    """Hand out what is due by ``now + lookahead_s``, then walk an outage's backlog and the lost-message
    sweep within the run's bounds.

    ``clock`` tells the time as the run goes on (default: ``now`` plus the time elapsed since the run
    started); ``events`` gets a ``PublishFailed`` for each missed target; no new chunk of buckets starts
    after ``budget_s`` seconds; ``settle`` (a sleep, on the wall clock) lets the hand-out wait, less than
    a second, for the moment its messages' delays lose the least (:mod:`chorus.posts.lead`)."""
    started = time.monotonic()

    def elapsed() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    state = repo.scheduler_state()
    until = now + timedelta(seconds=lookahead_s)
    line = now - MISSED_AFTER
    start = _clamp(state.watermark or now - FIRST_RUN_LOOKBACK, now, "watermark")
    behind_from = [c for c in (state.backlog, start if start < line else None) if c is not None]
    backlog = _clamp(min(behind_from), now, "backlog") if behind_from else None
    swept = _clamp(state.swept or now - LOST_AFTER - FIRST_RUN_LOOKBACK, now, "swept")
    with ThreadPoolExecutor(max_workers=ENQUEUE_WORKERS) as pool:
        work = _Run(now, queue, clock or elapsed, events, budget_s, pool, settle)
        # 1. What is due now and soon, and what is late but not missed, first: a catch-up never delays
        # a post due on time, and never lets a late one pass MISSED_AFTER while older ones are read.
        watermark = work.hand_out(max(start, line), until)
        current = replace(state, watermark=watermark, backlog=backlog, swept=swept)

        def save(**cursors: datetime | None) -> None:
            nonlocal current
            current = replace(current, **cursors)
            repo.save_scheduler_state(current)

        # 2. An outage's backlog behind it (targets more than MISSED_AFTER late), chunk by chunk.
        if backlog is not None:
            backlog = work.walk(backlog, line, work.miss_all, lambda c: save(backlog=c), first=True)
            current = replace(current, backlog=None if backlog >= line else backlog)
        # 3. The lost-message sweep, the same way, never past what was handed out.
        sweep_until = min(now - LOST_AFTER, watermark, *([current.backlog] if current.backlog else []))
        if swept < sweep_until:
            swept = work.walk(swept, sweep_until, work.sweep, lambda c: save(swept=c), first=backlog is None)
        # 4. Reminder publishing's overdue targets, up to now.
        save(swept=swept, overdue=work.overdue(state.overdue))
    behind = (
        current.backlog is not None
        or swept < sweep_until
        or (current.overdue or now) < now.replace(second=0, microsecond=0)
    )
    if behind:
        log.info("scheduler catching up", extra={"watermark": keys.iso(watermark), "swept": keys.iso(swept)})
    return SchedulerReport(
        work.enqueued, work.resent, work.buckets, work.items, work.caught_up, work.missed,
        keys.iso(watermark), keys.iso(swept), behind, work.made_overdue, work.unsent,
    )  # fmt: skip


def utcnow() -> datetime:
    return datetime.now(UTC)
