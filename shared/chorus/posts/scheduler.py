"""The scheduler (every minute): hand each target due soon to the publish queue, delayed to its second.

It reads only the minute buckets of the sparse due index between its watermark and now + lookahead,
so its cost follows what is due, not what is stored. Buckets are read again with a small overlap, and
an outage is caught up from the stored watermark. A second sweep over the QUEUED buckets finds
targets whose message was lost (a crash between the state change and the send) and sends it again:
the publisher's conditional transition keeps that from ever publishing twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import floor

from chorus.posts.model import Target, TargetState
from chorus.posts.queue import MAX_DELAY_S, PublishMessage, PublishQueue
from chorus.posts.timing import minutes
from chorus.store import keys
from chorus.store import posts as repo

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=2)
FIRST_RUN_LOOKBACK = timedelta(minutes=15)
MAX_CATCH_UP = timedelta(days=7)
LOST_AFTER = timedelta(minutes=3)
ENQUEUE_WORKERS = 8
RESEND_KIND = {TargetState.QUEUED: "publish", TargetState.VERIFYING: "verify", TargetState.PROCESSING: "step"}


@dataclass(frozen=True)
class SchedulerReport:
    enqueued: int
    resent: int
    buckets_read: int
    items_read: int
    caught_up: int  # targets handed out after their due time had passed


LEAD_S = 2  # the message arrives this early; the publisher prepares, then waits for the due second


def delay_for(due: datetime, now: datetime) -> int:
    """Whole seconds of SQS delay: the message arrives up to LEAD_S + 1 s before ``due`` (never after),
    which absorbs a cold start and the queue's polling; the publisher makes the call at ``due``."""
    return max(0, min(MAX_DELAY_S, floor((due - now).total_seconds()) - LEAD_S))


def enqueue(target: Target, clock: Callable[[], datetime], queue: PublishQueue) -> bool:
    """scheduled -> queued with a fresh token, then send the message delayed to the due second (the
    delay counted from the moment it is sent: handing out 1,000 targets takes seconds)."""
    token = uuid.uuid4().hex
    due = target.due_at or clock()
    if not repo.transition(target, TargetState.QUEUED, expect=[TargetState.SCHEDULED], new_token=token):
        return False  # edited, cancelled or already queued by a concurrent run
    message = PublishMessage(
        "publish", target.workspace_id, target.post_id, target.account_id, token, keys.iso(due)
    )
    try:
        queue.send(message, delay_for(due, clock()))
    except Exception:
        # Put it back so the next run (or the lost-message sweep) hands it out again.
        repo.transition(
            target, TargetState.SCHEDULED, expect=[TargetState.QUEUED], token=token, new_token=None
        )
        raise
    return True


def run(
    now: datetime,
    queue: PublishQueue,
    lookahead_s: int = 90,
    clock: Callable[[], datetime] | None = None,
) -> SchedulerReport:
    """Hand out what is due by ``now + lookahead_s``; ``clock`` tells the time as the run goes on
    (default: ``now`` plus the time elapsed since the run started)."""
    watermark, swept = repo.scheduler_state()
    start = max((watermark or now - FIRST_RUN_LOOKBACK) - OVERLAP, now - MAX_CATCH_UP)
    until = now + timedelta(seconds=lookahead_s)
    enqueued = caught_up = buckets = items = 0
    due: list[Target] = []
    for minute in minutes(start, until):
        buckets += 1
        due.extend(repo.due_targets("DUE", minute, until))
    items += len(due)
    # Hand out the soonest first, a few at a time: 1,000 targets due in one minute must all be queued
    # well before their second.
    due.sort(key=lambda t: t.due_at or now)
    started = time.monotonic()

    def elapsed() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    current = clock or elapsed
    with ThreadPoolExecutor(max_workers=ENQUEUE_WORKERS) as pool:
        handed = list(pool.map(lambda t: enqueue(t, current, queue), due))
    for target, ok in zip(due, handed, strict=True):
        if ok:
            enqueued += 1
            if target.due_at and target.due_at < now - timedelta(seconds=5):
                caught_up += 1
    resent = 0
    sweep_until = now - LOST_AFTER
    sweep_start = max((swept or sweep_until - FIRST_RUN_LOOKBACK) - OVERLAP, now - MAX_CATCH_UP)
    for minute in minutes(sweep_start, sweep_until):
        buckets += 1
        for target in repo.due_targets("QUEUED", minute, sweep_until):
            items += 1
            kind = RESEND_KIND.get(target.state)
            if target.queue_token and kind:
                due_iso = keys.iso(target.due_at or now)
                queue.send(
                    PublishMessage(kind, target.workspace_id, target.post_id, target.account_id,
                                   target.queue_token, due_iso),
                    0,
                )  # fmt: skip
                repo.set_queued_bucket(target, now, target.queue_token)
                resent += 1
                log.warning("resent a lost publish message", extra={"target": target.id})
    repo.save_scheduler_state(
        until.replace(second=0, microsecond=0), sweep_until.replace(second=0, microsecond=0)
    )
    return SchedulerReport(enqueued, resent, buckets, items, caught_up)


def utcnow() -> datetime:
    return datetime.now(UTC)
