"""Drive an adapter through its steps as the publisher does (publish, then continue each step)."""

from __future__ import annotations

import responses

from chorus.platforms.base import (
    AccountCredentials,
    PendingStep,
    PublishingAdapter,
    PublishRequest,
    PublishResult,
)


def drive(
    adapter: PublishingAdapter,
    creds: AccountCredentials,
    request: PublishRequest,
    rsps: responses.RequestsMock,
) -> tuple[PublishResult, list[PendingStep], list[int]]:
    """Publish, then continue every step: the result, the steps on the way and how many requests each
    call sent (a call's budget allows ``request_budget_s`` worth)."""
    steps: list[PendingStep] = []
    per_call: list[int] = []
    sent = len(rsps.calls)
    outcome = adapter.publish(creds, request)
    while True:
        per_call.append(len(rsps.calls) - sent)
        sent = len(rsps.calls)
        if isinstance(outcome, PublishResult):
            return outcome, steps, per_call
        steps.append(outcome)
        assert len(steps) < 200, "the steps never end"
        outcome = adapter.continue_publish(creds, request, outcome)
