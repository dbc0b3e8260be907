"""The embedded runtime scales an SQS mapping's concurrent batches as Lambda does: five when messages
arrive, up to five more a second while full batches keep coming, capped, and back to five when idle."""

from __future__ import annotations

from chorus.local.sources import Scaling


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def busy(scaling: Scaling) -> int:
    """Take every slot there is; how many that was."""
    taken = 0
    while scaling.acquire(timeout=0):
        taken += 1
    return taken


def test_five_batches_at_first_then_five_more_a_second_while_batches_are_full() -> None:
    clock = Clock()
    scaling = Scaling(50, clock)
    assert busy(scaling) == 5
    scaling.received(10, 10)  # a backlog: full batches from now on
    clock.now = 1.0
    scaling.received(10, 10)
    assert busy(scaling) == 5  # five more after one second of full batches
    clock.now = 1.1
    scaling.received(10, 10)
    assert busy(scaling) == 0  # not yet the next one
    clock.now = 3.0
    scaling.received(10, 10)
    assert scaling.allowed == 20


def test_never_above_the_maximum_concurrency() -> None:
    clock = Clock()
    scaling = Scaling(8, clock)
    scaling.received(10, 10)
    clock.now = 60.0
    scaling.received(10, 10)
    assert scaling.allowed == 8
    assert busy(scaling) == 8
    assert Scaling(2, clock).allowed == 2


def test_a_queue_that_keeps_up_earns_no_growth_and_an_idle_one_goes_back_to_five() -> None:
    clock = Clock()
    scaling = Scaling(50, clock)
    for second in range(1, 5):
        clock.now = float(second)
        scaling.received(3, 10)  # partial batches: the workers keep up
    assert scaling.allowed == 5
    clock.now = 10.0
    scaling.received(10, 10)  # the credit starts with the first full batch
    clock.now = 12.0
    scaling.received(10, 10)
    assert scaling.allowed == 15
    scaling.received(0, 10)
    assert scaling.allowed == 5


def test_a_released_slot_can_be_taken_again() -> None:
    scaling = Scaling(50, Clock())
    assert busy(scaling) == 5
    scaling.release()
    assert busy(scaling) == 1
