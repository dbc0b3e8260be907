"""The scheduler's hand-out in batches (issue 15's cost): ten messages sent in one SendMessageBatch,
each delayed to its own second, and no write of a target; what the queue refuses or fails is read
again by the next run (the watermark stops before it) and published once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest

from chorus.posts import lead, scheduler
from chorus.posts.model import TargetState
from chorus.posts.queue import InMemoryPublishQueue, PublishMessage, SqsPublishQueue
from chorus.store import keys, models
from chorus.store import posts as repo
from tests.faults.test_catch_up import LAST_RUN, Outage, final_states, plant, run_once
from tests.support import main_table_in_moto


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, "faults-hand-out"):
        yield


class BatchingQueue(InMemoryPublishQueue):
    """A queue that takes batches (as SqsPublishQueue): each request recorded; ``refuse`` the positions
    of the next request's entries it refuses, ``fail`` raises on the next request."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[list[tuple[PublishMessage, int]]] = []
        self.refuse: set[int] = set()
        self.fail = False

    def send(self, message: PublishMessage, delay_s: int) -> None:
        raise AssertionError("a queue that takes batches is sent batches")

    def send_batch(self, messages: Sequence[tuple[PublishMessage, int]]) -> list[int]:
        if self.fail:
            self.fail = False
            raise ConnectionError("SQS did not answer")
        refused, self.refuse = sorted(self.refuse), set()
        self.requests.append(list(messages))
        self.sent.extend(m for i, m in enumerate(messages) if i not in refused)
        return refused


def outage(due_in: list[int]) -> tuple[Outage, BatchingQueue]:
    now = LAST_RUN + timedelta(minutes=1)
    queue = BatchingQueue()
    return Outage(plant([now + timedelta(seconds=s) for s in due_in]), now, queue=queue), queue


def test_ten_targets_are_one_request_each_message_delayed_to_its_own_second(table: None) -> None:
    # Given 25 targets due over the next 50 s
    due_in = [20 + 2 * i for i in range(25)]
    found, queue = outage(due_in)
    writes: list[str] = []
    for operation in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"):
        models.connection().client.meta.events.register(
            f"before-call.dynamodb.{operation}", lambda model, **_: writes.append(model.name)
        )
    # When the scheduler runs
    report = run_once(found, found.back)
    # Then it sent three requests (10, 10, 5), soonest first, each message delayed to arrive LEAD_S
    # (to LEAD_S + 1) s before its due second, with the token the target holds (none) and its due time
    # (the run's clock stands still here: each delay is counted from found.back)
    assert report.enqueued == 25
    requests = sorted(queue.requests, key=lambda r: r[0][0].due_at)  # sent in parallel
    assert [len(r) for r in requests] == [10, 10, 5]
    in_order = [m.due_at for r in requests for m, _ in r]
    assert in_order == sorted(in_order)
    for message, delay in (pair for request in queue.requests for pair in request):
        due = keys.parse_iso(message.due_at)
        assert lead.LEAD_S <= (due - found.back).total_seconds() - delay < lead.LEAD_S + 1
    states = final_states(found)
    assert {m.token for m, _ in queue.sent} == {None}
    assert {m.due_at for m, _ in queue.sent} == {keys.iso(t.due_at) for t in states.values()}
    # and wrote no target: they stay scheduled until the claim; its cursors are its only write
    assert {t.state for t in states.values()} == {TargetState.SCHEDULED}
    assert writes == ["PutItem"]
    assert repo.scheduler_state().watermark == found.back + timedelta(seconds=90)
    found.deliver()
    assert {t.state for t in final_states(found).values()} == {TargetState.PUBLISHED}


def test_an_entry_the_queue_refuses_is_read_again_by_the_next_run_and_published_once(table: None) -> None:
    found, queue = outage([30 + i for i in range(10)])
    queue.refuse = {3}
    first = run_once(found, found.back)
    assert (first.enqueued, first.unsent) == (9, 1)
    refused = queue.requests[0][3][0]
    assert keys.parse_iso(refused.due_at) == found.back + timedelta(seconds=33)
    # the watermark stopped just before it
    assert repo.scheduler_state().watermark == found.back + timedelta(seconds=33) - scheduler.MILLI
    found.deliver()
    back = final_states(found)[f"{refused.post_id}.{refused.account_id}"]
    assert (back.state, back.queue_token) == (TargetState.SCHEDULED, None)
    # the next run sends it (and, where the due index still names them, the six after it again), and
    # each target is published once: the claim of a published target's second message is refused
    sent_before = len(queue.sent)
    second = run_once(found, found.back + timedelta(seconds=5))
    assert second.unsent == 0
    assert (refused.post_id, refused.account_id) in {
        (m.post_id, m.account_id) for m, _ in queue.sent[sent_before:]
    }
    found.deliver()
    assert set(found.claims) == set(found.due)
    assert set(found.claims.values()) == {1}
    assert {t.state for t in final_states(found).values()} == {TargetState.PUBLISHED}


def test_a_request_that_fails_is_read_again_by_the_next_run_and_nothing_goes_twice(table: None) -> None:
    found, queue = outage([30 + i for i in range(10)])
    queue.fail = True
    assert run_once(found, found.back).unsent == 10
    assert repo.scheduler_state().watermark == found.back + timedelta(seconds=30) - scheduler.MILLI
    assert {(t.state, t.queue_token) for t in final_states(found).values()} == {(TargetState.SCHEDULED, None)}
    assert run_once(found, found.back + timedelta(seconds=5)).enqueued == 10
    found.deliver()
    assert sorted(f"{m.post_id}.{m.account_id}" for m, _ in queue.sent) == sorted(found.due)
    assert {t.state for t in final_states(found).values()} == {TargetState.PUBLISHED}


def test_the_sqs_queue_sends_a_batch_in_one_request_and_names_what_it_refused() -> None:
    calls: list[dict[str, object]] = []

    class Client:
        def send_message_batch(self, **kw: object) -> dict[str, object]:
            calls.append(kw)
            return {"Successful": [{"Id": "0"}], "Failed": [{"Id": "1", "Code": "InternalError"}]}

    queue = SqsPublishQueue(Client(), "https://sqs.local/publish")
    message = PublishMessage("publish", "ws", "p", "a", "tok", "2026-12-07T06:00:00Z")
    assert queue.send_batch([(message, 12), (message, 901)]) == [1]
    [call] = calls
    assert [e["DelaySeconds"] for e in call["Entries"]] == [12, 900]  # type: ignore[index, attr-defined]
    with pytest.raises(ValueError, match="at most 10"):
        queue.send_batch([(message, 0)] * 11)
