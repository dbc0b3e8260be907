"""How early a publish message arrives: the lead, and the moment a hand-out sends its messages.

A message is sent to the publish queue with an SQS delay (whole seconds, at most ``MAX_DELAY_S``) so
that it becomes visible **at least** ``LEAD_S`` before its due second; the publisher, invoked with it,
gets everything ready and makes the platform call at the due second. The lead absorbs what stands
between the message becoming visible and the call: the poller's batching window (the publish
mapping's ``MaximumBatchingWindowInSeconds``: 1 s), a cold start, the reads of the target, post,
account and workspace. While the publisher waits it is billed by the GB-second, so the lead is also
the largest part of what a published post costs (docs/scaling.md).

A whole-second delay counted from an arbitrary moment lands anywhere in the second before
``due - LEAD_S``: a message sent when ``due - now - LEAD_S`` is 41.9 s waits 41 s and arrives 0.9 s
earlier than needed. The scheduler therefore sends at a chosen moment (:func:`settle_s`): it first
waits, less than a second once a run, until that remainder is ``SEND_S``, so the messages it sends
in the next ``SEND_S`` arrive between ``LEAD_S`` and ``LEAD_S + SEND_S`` before their due second
instead of between ``LEAD_S`` and ``LEAD_S + 1`` (one sent later than that arrives up to a second
earlier, as before: never late). The API's own hand-out (a post due within the scheduler's window)
sends at once: a person waits for that answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chorus.posts.queue import MAX_DELAY_S

LEAD_S = 1.2  # a message becomes visible at least this long before its due second
SEND_S = 0.3  # a settled hand-out's requests that go out this soon arrive at most LEAD_S + SEND_S early


SECOND = timedelta(seconds=1)
LEAD = timedelta(seconds=LEAD_S)  # the arithmetic below is in whole microseconds, never in floats


def delay_for(due: datetime, now: datetime) -> int:
    """Whole seconds of SQS delay for a message sent at ``now``: it becomes visible at least ``LEAD_S``
    before ``due`` (never after), and less than ``LEAD_S + 1`` s before it unless ``due`` is too near
    (no delay) or too far (``MAX_DELAY_S``)."""
    return max(0, min(MAX_DELAY_S, (due - now - LEAD) // SECOND))


def settle_s(due: datetime, now: datetime) -> float:
    """Seconds to wait (less than one) before sending ``due``'s message so that the whole-second delay
    then taken (:func:`delay_for`) leaves a remainder of ``SEND_S``: a message sent in the ``SEND_S``
    after that becomes visible between ``LEAD_S`` and ``LEAD_S + SEND_S`` before ``due``. Targets due on
    whole seconds (the usual case) share the remainder, so one wait serves a whole hand-out."""
    remainder = (due - now - LEAD) % SECOND
    return ((remainder - timedelta(seconds=SEND_S)) % SECOND).total_seconds()
