"""How long one adapter call may take, as a budget of request timeouts (issue 13: no call outlives its function).

An adapter declares ``request_budget_s``: the sum of the timeouts of the sequential requests one
``publish`` / ``continue_publish`` call may send. The call spends that budget request by request,
*before* each request goes out; when the next request would not fit, :class:`OutOfBudget` ends the call
and the adapter returns a ``PendingStep`` that continues where it stopped (parts already created are in
``request.progress``, anything else in the step state). The template check compares each adapter's
``request_budget_s`` with the timeout of the function that runs it.

Spend the budget outside ``Progress.step``: a part whose request never went out must not be marked sent.
"""

from __future__ import annotations

from chorus.platforms.http import DEFAULT_TIMEOUT

Timeout = float | tuple[float, float]

CALL_REQUESTS = 8
"""Sequential requests of default timeout one publishing call may send (the budget every adapter
declares): a text post with a thread of a few parts, or an image post, goes out in the one call that
starts at its due second; longer threads and uploads continue in steps. The publisher's and replier's
function Timeout in template.yaml covers it (``infra/lint/check_template.py``)."""


def timeout_seconds(timeout: Timeout) -> float:
    """The longest one request with this ``requests`` timeout can wait (connect + read)."""
    return float(sum(timeout)) if isinstance(timeout, tuple) else float(timeout)


def requests_budget(count: int, timeout: Timeout = DEFAULT_TIMEOUT) -> float:
    """The budget of ``count`` sequential requests with ``timeout`` each."""
    return round(count * timeout_seconds(timeout), 3)


class OutOfBudget(Exception):
    """The next request would not fit in this call: continue in a later step."""


class CallBudget:
    """The request time one adapter call may still spend."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds

    def spend(self, *timeouts: Timeout) -> None:
        """Take the time of the requests about to be sent together, or raise :class:`OutOfBudget`."""
        cost = sum(timeout_seconds(t) for t in timeouts)
        if cost > self.left + 1e-6:
            raise OutOfBudget(f"{cost:.2f} s of requests do not fit in the {self.left:.2f} s left")
        self.left -= cost
