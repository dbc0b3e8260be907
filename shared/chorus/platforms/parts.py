"""What each part of a publish is: its text, the part it answers, and since when it can exist.

Parts are named as in :mod:`chorus.platforms.base` (``ROOT``, thread parts ``"1"``.., ``COMMENT``).
A thread part replies to the part before it (part ``"1"`` to the root); the first comment answers the
root. Adapters use these both to create a part and to look for it after an unknown outcome, so the
two always agree.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from functools import partial

from chorus.platforms.base import (
    COMMENT,
    ROOT,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
    thread_part,
)
from chorus.platforms.budget import CallBudget, Timeout
from chorus.platforms.http import DEFAULT_TIMEOUT

CLOCK_SKEW = timedelta(minutes=2)
"""A platform's clock may run behind ours: a post is looked for from this long before it could exist."""


def followup_text(request: PublishRequest, part: str) -> str:
    """The text of follow-up ``part`` (a thread part or the first comment)."""
    if part == COMMENT:
        return request.first_comment or ""
    return request.thread[int(part) - 1]


def parent_part(part: str) -> str:
    """The part that follow-up ``part`` answers."""
    if part == COMMENT or part == thread_part(1):
        return ROOT
    return thread_part(int(part) - 1)


def parent_id(request: PublishRequest, part: str) -> str | None:
    """The platform id of the post ``part`` answers, once it exists."""
    return request.progress.done(parent_part(part))


def not_before(request: PublishRequest) -> datetime:
    """The earliest time any part of ``request`` can exist, less the clock skew allowed: ``not_before``
    when the publisher gave one, else when the target started publishing (persisted)."""
    return (request.not_before or request.progress.started_at) - CLOCK_SKEW


def unanswered(request: PublishRequest, part: str) -> bool:
    """``part``'s request went out without a known answer (to be verified before anything is sent
    for it again), as opposed to not sent at all. A part the publisher's claim marked sent in its own
    write (``Progress.claimed``, where the Progress has it) has not gone out yet."""
    progress = request.progress
    return part in progress.sent and part != getattr(progress, "claimed", None)


def create_missing(
    request: PublishRequest,
    budget: CallBudget,
    create: Callable[[str], str | tuple[str, str | None]],
    *,
    timeout: Timeout = DEFAULT_TIMEOUT,
    idempotent: bool = False,
) -> None:
    """Create every part of ``request`` that has not landed, in order, each through ``Progress.step``
    (``create(part)`` returns its id or ``(id, url)``), spending one request of ``budget`` before each
    send. A part sent before without a known answer raises ``UnknownOutcome`` at once (unless
    ``idempotent``), sending nothing; ``OutOfBudget`` ends the call before a part is marked sent."""
    progress = request.progress
    for part in request.parts:
        if progress.done(part) is not None:
            continue
        if idempotent or part not in progress.sent:
            budget.spend(timeout)
        progress.step(part, partial(create, part), idempotent=idempotent)


def published(request: PublishRequest, url: str | None = None) -> PublishResult:
    """The result once every part landed: the root, its URL (``url`` or the one recorded), the others."""
    landed = request.progress.landed
    return PublishResult(
        platform_post_id=landed[ROOT],
        url=url or request.progress.root_url,
        part_ids=tuple(landed[p] for p in request.parts if p != ROOT),
    )


def resumed_state(step: PendingStep, steps: Collection[str], platform: str, label: str) -> dict[str, str]:
    """A copy of the state ``step`` carries, to advance in ``continue_publish``; a step that is not one of
    the adapter's ``steps`` is a PermanentError (``label`` names the platform to a reader)."""
    if step.step not in steps:
        raise PermanentError(f"{label} has no pending step {step.step!r}", platform=platform)
    return dict(step.state)
