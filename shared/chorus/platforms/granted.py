"""What a code (or a refresh token) is traded for where the token answer itself names the account: its
``open_id`` (the account connected: ownership proven by the platform, never typed), its tokens, and the
scopes the person granted (Douyin, Kuaishou).

- ``Grant``: the ``open_id``, the ``TokenSet`` (its ``scope`` the granted scopes, comma-separated) and the
  scopes granted.
- ``scopes_of``: the granted scopes, written as a comma-separated string (Douyin's ``scope``) or a list
  (Kuaishou's ``scopes``).
- ``granted_tokens``: the tokens of an answer that must hold an ``access_token`` (a PermanentError naming
  the platform otherwise); ``expires_in`` a number or a string of digits; an answer without a refresh
  token keeps the one refreshed with.
- ``grant_of``: the ``Grant`` of a code's answer (its ``open_id`` required).

Each platform keeps what is its own: its endpoints, how it sends the request (Douyin a form in its
envelope, Kuaishou a query) and where it writes the scopes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chorus.platforms.base import PermanentError
from chorus.platforms.oauth2 import TokenSet, token_set
from chorus.platforms.whoami import named


@dataclass(frozen=True)
class Grant:
    open_id: str
    tokens: TokenSet
    scopes: tuple[str, ...]


def scopes_of(value: Any) -> tuple[str, ...]:
    """The granted scopes of a token answer (a comma-separated string, or a list)."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return tuple(s.strip() for s in items if isinstance(s, str) and s.strip())


def granted_tokens(
    body: dict[str, Any],
    platform: str,
    label: str,
    *,
    previous_refresh: str | None = None,
    now: datetime | None = None,
) -> TokenSet:
    """The tokens of ``body``, which must hold an ``access_token`` (``label``: the platform's name in the
    error)."""
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise PermanentError(f"{label}'s token answer holds no access_token", platform=platform)
    return token_set(body, previous_refresh, now)


def grant_of(
    body: dict[str, Any],
    platform: str,
    label: str,
    *,
    scopes_key: str = "scope",
    previous_refresh: str | None = None,
    now: datetime | None = None,
) -> Grant:
    """The account (``open_id``), tokens and scopes (under ``scopes_key``) of a token answer."""
    tokens = granted_tokens(body, platform, label, previous_refresh=previous_refresh, now=now)
    scopes = scopes_of(body.get(scopes_key))
    return Grant(named(body.get("open_id"), platform, "open_id"), replace(tokens, scope=",".join(scopes) or None),
                 scopes)  # fmt: skip
