"""The hand-out writes nothing (issue 15's cost): a target stays ``scheduled`` until the publisher's
claim, which is conditional on the message's token and due time. A rescheduled or edited target's old
message is stale, a message the API lost is sent again by the sweep, two scheduler runs publish once
(the real service, scheduler, publisher and store on moto; a sandbox platform on 127.0.0.1)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chorus.posts import scheduler, service
from chorus.posts.model import Content, Mode, Target, TargetState
from chorus.store import keys
from chorus.store import posts as repo
from chorus.store.models import TargetItem
from tests.faults.harness import FakePlatform, PublisherBed
from tests.faults.sandbox_fake import sandbox_routes

LOOKAHEAD_S = 90


def compose(account: str, text: str, at: datetime) -> service.Compose:
    return service.Compose(
        accounts=(account,),
        content=Content(text=text),
        mode=Mode.SCHEDULE,
        scheduled_at=at.replace(tzinfo=None),
        timezone="UTC",
    )


def schedule(bed: PublisherBed, account: str, text: str, at: datetime) -> str:
    [post] = service.create_post(bed.editor(), compose(account, text, at), bed.queue, now=bed.now())
    return post.id


def tick(bed: PublisherBed, now: datetime) -> scheduler.SchedulerReport:
    """One scheduler run at ``now`` (the bed's clock moved there; the run's clock stays at ``now``)."""
    bed.clock.move_to(now)
    return scheduler.run(now, bed.queue, LOOKAHEAD_S, clock=lambda: now)


@pytest.fixture
def account(bed: PublisherBed, platform: FakePlatform) -> str:
    """A sandbox account on the fake platform."""
    sandbox_routes(platform)
    return bed.account()


def results(bed: PublisherBed) -> list[str]:
    return [o.result for o in bed.run_until_settled()]


def published_once(bed: PublisherBed, platform: FakePlatform, post: str, account: str, text: str) -> None:
    """The platform holds one post, with ``text``, and the target is published."""
    assert [r["text"] for r in platform.records["post"]] == [text]
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_a_message_for_a_rescheduled_target_is_stale(
    bed: PublisherBed, platform: FakePlatform, account: str
) -> None:
    due = (bed.now() + timedelta(minutes=10)).replace(microsecond=0)
    post = schedule(bed, account, "hello", due)
    assert not bed.queue.sent  # not due within the API's window: the scheduler's to hand out
    # Given the scheduler handed it out (its message for `due`)
    assert tick(bed, due - timedelta(seconds=60)).enqueued == 1
    # When a person moves it 10 minutes later before the message arrives
    later = due + timedelta(minutes=10)
    service.edit_post(bed.editor(), post, compose(account, "hello", later), None, bed.queue)
    # Then the old message is stale: nothing is published at the old time
    assert results(bed) == ["stale"]
    assert not platform.records.get("post")
    assert bed.target(post, account).state is TargetState.SCHEDULED
    # and the scheduler hands it out for the new time, published once
    assert tick(bed, later - timedelta(seconds=60)).enqueued == 1
    assert results(bed) == ["published"]
    published_once(bed, platform, post, account, "hello")


def test_the_claim_is_conditional_on_the_due_time_of_a_scheduled_target(bed: PublisherBed) -> None:
    # Given a scheduled target due at `due` (read by a worker), then rescheduled
    account = bed.account()
    due = (bed.now() + timedelta(minutes=5)).replace(microsecond=0)
    target = Target(bed.workspace(), "p-claim", account, "sandbox", TargetState.SCHEDULED, due)
    repo.target_item(target).save()
    moved = due + timedelta(minutes=1)
    assert repo.transition(target, TargetState.SCHEDULED, expect=[TargetState.SCHEDULED], due_at=moved)
    # When the old message's claim comes (the worker read the target before the reschedule)
    # Then it is refused; the claim for the new time wins once, and a second one is refused
    assert repo.start_publishing(target, None, due, due) is None
    assert repo.start_publishing(target, "a-token", moved, moved) is None
    claimed = repo.start_publishing(target, None, moved + timedelta(microseconds=400), moved)
    assert claimed is not None
    assert claimed.state is TargetState.PUBLISHING
    assert repo.start_publishing(target, None, moved, moved) is None


def test_an_edit_of_a_target_in_flight_makes_its_old_message_stale(
    bed: PublisherBed, platform: FakePlatform, account: str
) -> None:
    # Given a target due in a minute: the API handed it out itself (the scheduler read past it)
    due = (bed.now() + timedelta(seconds=60)).replace(microsecond=0)
    post = schedule(bed, account, "first text", due)
    [(first, _)] = bed.queue.sent
    assert first.token is None
    # When its text is edited before the message arrives (same time)
    service.edit_post(bed.editor(), post, compose(account, "second text", due), None, bed.queue)
    # Then the edit wrote a new token and sent a new message with it
    target = bed.target(post, account)
    assert (target.state, target.due_at) == (TargetState.SCHEDULED, due)
    assert target.queue_token is not None
    assert [m.token for m, _ in bed.queue.sent] == [None, target.queue_token]
    # and the old message is stale, the new one publishes the new text once
    assert sorted(results(bed)) == ["published", "stale"]
    published_once(bed, platform, post, account, "second text")


def test_an_edit_that_moves_a_target_in_flight_out_of_the_window_leaves_it_to_the_scheduler(
    bed: PublisherBed, platform: FakePlatform, account: str
) -> None:
    due = (bed.now() + timedelta(seconds=60)).replace(microsecond=0)
    post = schedule(bed, account, "soon", due)
    later = due + timedelta(minutes=30)
    service.edit_post(bed.editor(), post, compose(account, "later", later), None, bed.queue)
    # The target holds no token (the old message names the old time), and no new message went out
    assert bed.target(post, account).queue_token is None
    assert len(bed.queue.sent) == 1
    assert results(bed) == ["stale"]
    assert tick(bed, later - timedelta(seconds=60)).enqueued == 1
    assert results(bed) == ["published"]
    published_once(bed, platform, post, account, "later")


def test_a_message_the_api_lost_is_sent_by_the_sweep_and_published_once(
    bed: PublisherBed, platform: FakePlatform, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = bed.now()
    # Given a scheduler that already read past the next minutes
    assert tick(bed, start).watermark
    # and an API that wrote a target due in a minute, then died before sending its message
    due = (start + timedelta(seconds=60)).replace(microsecond=0)

    def died(*_: object) -> bool:
        raise SystemExit("the API's function was killed")

    monkeypatch.setattr(service, "enqueue", died)
    with pytest.raises(SystemExit):
        schedule(bed, account, "lost once", due)
    monkeypatch.undo()
    [post] = [p.id for p in repo.list_posts(bed.workspace())]
    assert not bed.queue.sent
    # When the scheduler runs every minute: nothing is sent again before LOST_AFTER has passed
    resent = [tick(bed, start + timedelta(minutes=m)).resent for m in range(1, 7)]
    assert resent == [0, 0, 0, 1, 0, 0]
    [(message, delay)] = bed.queue.sent
    assert (message.token, delay) == (None, 0)
    # Then the message the sweep sent publishes it once
    assert results(bed) == ["published"]
    published_once(bed, platform, post, account, "lost once")


def test_two_scheduler_runs_that_both_hand_a_target_out_publish_it_once(
    bed: PublisherBed, platform: FakePlatform, account: str
) -> None:
    due = (bed.now() + timedelta(minutes=10)).replace(microsecond=0)
    post = schedule(bed, account, "once", due)
    # Given two runs of the same tick (EventBridge delivered the schedule twice), both reading the
    # cursors before either saved them
    before = repo.scheduler_state()
    now = due - timedelta(seconds=60)
    assert tick(bed, now).enqueued == 1
    repo.save_scheduler_state(before)
    assert tick(bed, now).enqueued == 1
    assert len(bed.queue.sent) == 2
    # When both messages are delivered, one claim wins and the other message is stale
    assert sorted(results(bed)) == ["published", "stale"]
    assert len(platform.records["post"]) == 1
    assert bed.target(post, account).attempts == 1


def test_a_target_scheduled_before_the_due_keys_index_is_published_once(
    bed: PublisherBed, platform: FakePlatform, account: str
) -> None:
    # Given a target written before session 9: in gsi1's DUE bucket, no gsi3 key
    due = (bed.now() + timedelta(minutes=10)).replace(microsecond=0)
    target = Target(bed.workspace(), "p-upgraded", account, "sandbox", TargetState.SCHEDULED, due)
    post = service.build_posts(
        bed.editor(), compose(account, "written the old way", due), {account: "sandbox"}, "UTC", bed.now(),
        post_id_of=lambda _: target.post_id,
    )[0]  # fmt: skip
    repo.create_posts([post])
    item = TargetItem.get(keys.workspace_pk(target.workspace_id), keys.target_sk(target.post_id, account))
    item.update(
        actions=[
            TargetItem.gsi1pk.set(keys.due_bucket(due)),
            TargetItem.gsi1sk.set(keys.due_sort_key(due, target.id)),
            TargetItem.gsi3pk.remove(),
            TargetItem.gsi3sk.remove(),
        ]
    )
    # When the scheduler reaches its due time (twice: a second run reading the same minutes)
    before = repo.scheduler_state()
    assert tick(bed, due - timedelta(seconds=60)).enqueued == 1
    repo.save_scheduler_state(before)
    assert tick(bed, due - timedelta(seconds=60)).enqueued == 1
    # Then it is published once, and its claim took it out of gsi1
    assert sorted(results(bed)) == ["published", "stale"]
    published_once(bed, platform, target.post_id, account, "written the old way")
    stored = TargetItem.get(item.pk, item.sk, consistent_read=True)
    assert (stored.gsi1pk, stored.gsi3pk) == (None, None)


def test_the_claim_and_the_published_write_leave_the_due_key_and_a_cancel_removes_it(
    bed: PublisherBed, platform: FakePlatform, account: str
) -> None:
    due = (bed.now() + timedelta(minutes=10)).replace(microsecond=0)
    kept, cancelled = (schedule(bed, account, text, due) for text in ("kept", "cancelled"))

    def due_key(post_id: str) -> str | None:
        item = TargetItem.get(
            keys.workspace_pk(bed.workspace()),
            keys.target_sk(post_id, account),
            consistent_read=True,
        )
        return item.gsi3pk

    assert due_key(kept) == due_key(cancelled) == keys.due_bucket(due)
    service.cancel_post(bed.editor(), cancelled)
    assert due_key(cancelled) is None
    assert tick(bed, due - timedelta(seconds=60)).enqueued == 1
    assert results(bed) == ["published"]
    assert due_key(kept) == keys.due_bucket(due)
    # and a second read of that minute (a run that read it twice) sends a message the claim refuses
    repo.save_scheduler_state(repo.SchedulerState(watermark=due - timedelta(seconds=30)))
    assert tick(bed, due + timedelta(seconds=30)).enqueued == 1
    assert results(bed) == ["stale"]
    assert len(platform.records["post"]) == 1
