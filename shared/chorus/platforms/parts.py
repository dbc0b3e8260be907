"""What each part of a publish is: its text, the part it answers, and since when it can exist.

Parts are named as in :mod:`chorus.platforms.base` (``ROOT``, thread parts ``"1"``.., ``COMMENT``).
A thread part replies to the part before it (part ``"1"`` to the root); the first comment answers the
root. Adapters use these both to create a part and to look for it after an unknown outcome, so the
two always agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chorus.platforms.base import COMMENT, ROOT, PublishRequest, thread_part

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
