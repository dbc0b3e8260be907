"""Platforms that answer errors as codes inside a 200 (Douyin, Kuaishou): one table per platform says
what Chorus does about each code, and :func:`mapped_error` turns a code into the platform error the
domain understands (``chorus.platforms.base``)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from chorus.platforms.base import AuthError, PermanentError, RateLimited, TransientError


class Action(StrEnum):
    RETRY = "retry"  # the platform failed for now: try again (TransientError)
    DEFER = "defer"  # throttled or over a quota: the target waits (RateLimited)
    PERMANENT = "permanent"  # refused for good (PermanentError)
    REAUTH = "reauth"  # the token is dead: the owner must authorise again (AuthError)


ErrorTable = Mapping[int, tuple[Action, float | None]]
"""code -> (what Chorus does, seconds to wait when deferred, None: the publisher's own back-off)."""


def mapped_error(
    table: ErrorTable, code: int, message: str, platform: str, label: str
) -> PermanentError | TransientError:
    """The error for ``code`` as ``table`` maps it; a code it does not know is permanent. ``label`` names
    the platform to a reader ("Douyin refused the request (error_code 2100005)")."""
    action, wait = table.get(code, (Action.PERMANENT, None))
    text = f"{message or f'{label} refused the request'} (error_code {code})"
    if action is Action.RETRY:
        return TransientError(text, platform=platform, code=str(code))
    if action is Action.DEFER:
        return RateLimited(text, retry_after=wait, platform=platform, code=str(code))
    if action is Action.REAUTH:
        return AuthError(text, platform=platform, code=str(code))
    return PermanentError(text, platform=platform, code=str(code))


def numeric(value: object) -> int | None:
    """A code or count printed as a number or a string of digits (Douyin prints both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None
