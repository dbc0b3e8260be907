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
from chorus.platforms.budget import requests_budget

STEP_BUDGET = requests_budget(2)
"""The call budget the contract tests give an adapter (two requests of the default timeout, where the
deployed budget is ``CALL_REQUESTS``): a thread or an upload crosses step boundaries with few requests."""


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
