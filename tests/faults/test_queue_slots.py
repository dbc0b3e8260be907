"""The queue's free-slot finder reads a bounded part of the workspace: slot times are judged a week at a
time from the calendar index, never by reading a year of posts and their targets one query a post
(the real service and store on moto, ``bed``). The slot it picks is the one the old whole-year read
picked: the first slot no live queue post holds."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from chorus.auth.keys import Principal
from chorus.auth.roles import Role
from chorus.errors import ValidationFailed
from chorus.posts import service
from chorus.posts.model import Content, Mode, Post, Target, TargetState
from chorus.posts.timing import next_free_slot
from chorus.store import models
from chorus.store import posts as repo
from tests.faults.harness import PublisherBed

READS = ("Query", "Scan", "BatchGetItem")
DAILY = [{"weekday": d, "time": "10:30"} for d in range(7)]


def count_reads() -> Counter[str]:
    calls: Counter[str] = Counter()

    def seen(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    for operation in READS:
        models.connection().client.meta.events.register(f"before-call.dynamodb.{operation}", seen)
    return calls


def slot(now: datetime, day: int) -> datetime:
    """The daily 10:30 UTC slot ``day`` days after the first one after ``now``."""
    first = now.replace(hour=10, minute=30, second=0, microsecond=0)
    return (first if first > now else first + timedelta(days=1)) + timedelta(days=day)


def planted(ws: str, account: str, at: datetime, mode: Mode, state: TargetState) -> Post:
    pid = uuid.uuid4().hex
    return Post(
        workspace_id=ws,
        id=pid,
        content=Content(text=f"planted {mode.value} at {at:%Y-%m-%d %H:%M}"),
        variants={},
        account_ids=(account,),
        mode=mode,
        scheduled_at=at,
        timezone="UTC",
        created_by="faults",
        created_at=at - timedelta(days=400),
        updated_at=at - timedelta(days=400),
        targets=(Target(ws, pid, account, "sandbox", state, at),),
    )


def queue_post(bed: PublisherBed, account: str, now: datetime) -> Post:
    compose = service.Compose(
        accounts=(account,), content=Content(text="queued"), mode=Mode.QUEUE, timezone="UTC"
    )
    [post] = service.create_post(bed.editor(), compose, bed.queue, now=now)
    return post


def whole_year_rule(ws: str, now: datetime) -> datetime:
    """The old finder, kept here as the oracle: every post of the next 366 days and its targets."""
    planned = repo.calendar(ws, now, now + timedelta(days=366))
    taken = {
        p.scheduled_at for p in planned if p.mode is Mode.QUEUE and p.scheduled_at and p.status != "cancelled"
    }
    return next_free_slot(service.queue_slots(ws), "UTC", now, taken)


def test_a_queue_post_reads_the_same_few_times_whatever_the_workspace_plans(bed: PublisherBed) -> None:
    ws, account = bed.workspace(), bed.account()
    service.set_queue_slots(bed.editor(), DAILY)
    now = bed.now()
    # Given a queue holding its first 3 slots, and a small workspace: the reads of one queue post
    repo.bulk_load_posts(
        [planted(ws, account, slot(now, d), Mode.QUEUE, TargetState.SCHEDULED) for d in range(3)]
    )
    calls = count_reads()
    small = queue_post(bed, account, now)
    small_reads = sum(calls.values())
    # When the workspace then plans 600 more posts over the year (scheduled ones, many on slot times)
    repo.bulk_load_posts(
        [planted(ws, account, slot(now, d % 360) + timedelta(minutes=d % 3), Mode.SCHEDULE, TargetState.SCHEDULED)
         for d in range(600)]
    )  # fmt: skip
    calls.clear()
    big = queue_post(bed, account, now)
    big_reads = sum(calls.values())
    # Then the next queue post reads no more than the first did, a handful in all (the calendar
    # index once, the created post back once), and takes the next slot
    assert (small.scheduled_at, big.scheduled_at) == (slot(now, 3), slot(now, 4))
    assert big_reads == small_reads, (small_reads, big_reads, calls)
    assert big_reads <= 3, calls


def test_the_first_slot_no_live_queue_post_holds_is_taken_as_before(bed: PublisherBed) -> None:
    ws, account = bed.workspace(), bed.account()
    service.set_queue_slots(bed.editor(), DAILY)
    now = bed.now()
    # Given queue posts on the first 12 slots (past the first week), a scheduled (not queued) post
    # on slot 12, and queue posts on slots 13-20
    held = [planted(ws, account, slot(now, d), Mode.QUEUE, TargetState.SCHEDULED) for d in range(12)]
    repo.bulk_load_posts(
        held
        + [planted(ws, account, slot(now, 12), Mode.SCHEDULE, TargetState.SCHEDULED)]
        + [planted(ws, account, slot(now, d), Mode.QUEUE, TargetState.SCHEDULED) for d in range(13, 21)]
    )
    # And the queue post of slot 9 is cancelled
    service.cancel_post(Principal(ws, "faults", Role.EDITOR), held[9].id)
    # When two posts are queued (each judged against the whole-year read as well)
    expected_first = whole_year_rule(ws, now)
    first = queue_post(bed, account, now)
    expected_second = whole_year_rule(ws, now)
    second = queue_post(bed, account, now)
    # Then the first takes the cancelled post's slot, the second the slot only a scheduled post holds,
    # as the whole-year read decides
    assert (first.scheduled_at, second.scheduled_at) == (slot(now, 9), slot(now, 12))
    assert (first.scheduled_at, second.scheduled_at) == (expected_first, expected_second)


def test_a_queue_full_for_a_year_is_a_422_on_mode_after_a_bounded_walk(bed: PublisherBed) -> None:
    ws, account = bed.workspace(), bed.account()
    service.set_queue_slots(bed.editor(), [{"weekday": 2, "time": "10:30"}])
    now = bed.now()
    # Given every Wednesday 10:30 of the next year already holds a queue post
    wednesdays = [at for at in (slot(now, d) for d in range(366)) if at.weekday() == 2]
    repo.bulk_load_posts([planted(ws, account, at, Mode.QUEUE, TargetState.SCHEDULED) for at in wednesdays])
    calls = count_reads()
    # When a post is queued
    with pytest.raises(ValidationFailed) as refused:
        queue_post(bed, account, now)
    # Then it is refused naming mode, after one index read and one batch read of the holders' targets
    # a week of the year (53 weeks at most), never a read per post
    assert [(e.field, e.rule) for e in refused.value.errors] == [("mode", "queue_full")]
    assert calls["Query"] <= 53, calls
    assert calls["BatchGetItem"] <= 53, calls
    assert not calls["Scan"], calls


def test_the_calendar_reads_its_posts_targets_in_batches_and_answers_as_before(bed: PublisherBed) -> None:
    ws = bed.workspace()
    accounts = (bed.account(platform_account_id="acct-b"), bed.account(platform_account_id="acct-a"))
    now = bed.now()
    # Given 60 posts in a month, each on two accounts, one of them cancelled
    posts = [planted(ws, accounts[0], slot(now, d % 30) + timedelta(minutes=d), Mode.SCHEDULE, TargetState.SCHEDULED)
             for d in range(60)]  # fmt: skip
    posts = [
        replace(p, account_ids=accounts, targets=(*p.targets, replace(p.targets[0], account_id=accounts[1])))
        for p in posts
    ]
    repo.bulk_load_posts(posts)
    service.cancel_post(Principal(ws, "faults", Role.EDITOR), posts[7].id)
    # When the month's calendar is read
    calls = count_reads()
    found = repo.calendar(ws, now, now + timedelta(days=31))
    # Then it took one index read and two batch reads (120 targets, 100 a call), not a query a post
    assert calls == Counter({"Query": 1, "BatchGetItem": 2}), calls
    # And every post comes with its targets, in the order a read of each post gives them
    assert len(found) == 60
    assert found == [repo.get_post(ws, p.id) for p in found]
    assert {p.status for p in found} == {"scheduled", "cancelled"}
