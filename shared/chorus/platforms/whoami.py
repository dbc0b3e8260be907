"""Whose token is it: the account a platform says a token belongs to.

Each platform's ``oauth`` module has a ``whoami`` that asks the platform (``/me``, ``getSession``,
``verify_credentials``, ``users/me``...) and answers an :class:`Owner`. Connecting an account stores the
id found here, never one the caller typed (:mod:`chorus.accounts.ownership`).

Tokens travel in the ``Authorization`` header wherever the platform accepts it, never in a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from chorus.platforms.base import PermanentError
from chorus.platforms.http import bearer, call, json_body


@dataclass(frozen=True)
class Owner:
    """The account a token belongs to, as the platform names it."""

    account_id: str
    handle: str | None = None
    display_name: str | None = None
    access_token: str | None = None  # a better token for the account than the one given (a Page's own)
    extra: Mapping[str, str] = field(default_factory=dict)


def get_json(
    session: requests.Session | None,
    url: str,
    platform: str,
    *,
    token: str | None = None,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """GET ``url`` with the token as a bearer header; the JSON object answered (platform errors raised)."""
    resp = call(
        session or requests.Session(),
        "GET",
        url,
        platform,
        headers=bearer(token) if token else {},
        params=dict(params or {}),
    )
    body = json_body(resp, platform)
    if not isinstance(body, dict):
        raise PermanentError("the answer is not a JSON object", platform=platform)
    return body


def named(value: Any, platform: str, what: str = "account id") -> str:
    """A non-empty id from an answer, or a PermanentError saying the platform named none."""
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value)
    raise PermanentError(f"the answer names no {what}", platform=platform)


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def obj(value: Any) -> dict[str, Any]:
    """``value`` when the answer has an object there, else an empty one."""
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[Any]:
    """``value`` when the answer has an array there, else an empty one."""
    return value if isinstance(value, list) else []
