"""The publish message's lead: it becomes visible at least LEAD_S before its due second, and a settled
hand-out makes it visible at most SEND_S earlier than that (not up to a whole second)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from chorus.posts.lead import LEAD_S, SEND_S, delay_for, settle_s
from chorus.posts.queue import MAX_DELAY_S

DUE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ahead = st.floats(min_value=LEAD_S + 1.0, max_value=MAX_DELAY_S, allow_nan=False)


def visible_lead(due: datetime, sent: datetime) -> float:
    """How long before ``due`` a message sent at ``sent`` becomes visible."""
    return (due - (sent + timedelta(seconds=delay_for(due, sent)))).total_seconds()


@given(ahead)
@example(8.2)  # 8.2 - 1.2 is 6.999999999999999 in floats: the delay is counted in microseconds
def test_a_message_is_never_visible_later_than_the_lead(seconds_ahead: float) -> None:
    sent = DUE - timedelta(seconds=seconds_ahead)
    lead = visible_lead(DUE, sent)
    assert LEAD_S - 1e-6 <= lead < LEAD_S + 1.0


@given(ahead, st.floats(min_value=0.0, max_value=SEND_S, allow_nan=False))
def test_a_settled_hand_out_arrives_within_the_aligned_margin(seconds_ahead: float, sending: float) -> None:
    # Given a hand-out that starts at an arbitrary moment and settles first
    start = DUE - timedelta(seconds=seconds_ahead)
    wait = settle_s(DUE, start)
    assert 0.0 <= wait < 1.0
    # When its requests go out up to SEND_S after the settled moment
    sent = start + timedelta(seconds=wait + sending)
    # Then each message is visible at least LEAD_S, and at most LEAD_S + SEND_S, before due
    lead = visible_lead(DUE, sent)
    assert LEAD_S - 1e-6 <= lead <= LEAD_S + SEND_S + 1e-6


def test_settling_waits_the_remainder_down_to_the_sending_margin() -> None:
    # 41.9 s of delay after the lead: 0.9 s would be lost; waiting 0.6 s leaves SEND_S
    assert abs(settle_s(DUE, DUE - timedelta(seconds=41.9 + LEAD_S)) - (0.9 - SEND_S)) < 1e-6
    # 41.1 s: too little left for the requests to go out before the second turns: wait past it
    assert abs(settle_s(DUE, DUE - timedelta(seconds=41.1 + LEAD_S)) - (1.1 - SEND_S)) < 1e-6


def test_a_message_due_too_soon_goes_at_once_and_one_too_far_waits_the_most_sqs_allows() -> None:
    assert delay_for(DUE, DUE - timedelta(seconds=1)) == 0
    assert delay_for(DUE, DUE - timedelta(hours=1)) == MAX_DELAY_S


def test_a_hand_out_settles_once_then_each_message_arrives_within_the_sending_margin() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from chorus.posts.queue import InMemoryPublishQueue
    from chorus.posts.scheduler import enqueue_all
    from chorus.store.posts import DueRef

    # Given 25 targets due on whole seconds over the next minute, and a run whose clock reads x.83 s
    now = [DUE - timedelta(seconds=60) + timedelta(milliseconds=830)]
    targets = [DueRef("ws", f"p{i}", "acct", DUE + timedelta(seconds=2 * i)) for i in range(25)]
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the settle moves the run's clock, as time.sleep would
        waits.append(seconds)
        now[0] += timedelta(seconds=seconds)

    queue = InMemoryPublishQueue()
    # When they are handed out with a settle
    with ThreadPoolExecutor(4) as pool:
        unsent = enqueue_all(targets, lambda: now[0], queue, pool, settle=sleep)
    # Then the run waited once, less than a second, and every message arrives LEAD_S to LEAD_S + SEND_S
    # before its due second (not anywhere in the second before that)
    assert unsent == []
    assert len(waits) == 1
    assert 0.0 <= waits[0] < 1.0
    for message, delay in queue.sent:
        due = datetime.fromisoformat(message.due_at.replace("Z", "+00:00"))
        arrival_lead = (due - (now[0] + timedelta(seconds=delay))).total_seconds()
        assert LEAD_S - 1e-6 <= arrival_lead <= LEAD_S + SEND_S + 1e-6
