"""Connecting a Bluesky account: app passwords, not OAuth redirects.

- ``login``: ``com.atproto.server.createSession`` (handle or DID + app password) gives the DID, the
  handle and a ``TokenSet`` (accessJwt, refreshJwt, expiry read from the JWT's ``exp``). A wrong or
  revoked app password raises ``AuthError``.
- ``refresh``: ``com.atproto.server.refreshSession`` with the refresh JWT as bearer token; an expired or
  revoked refresh token raises ``AuthError`` (log in again with the app password).

Store the app password (encrypted) as ``extra["app_password"]`` so the publisher can open a new session
on its own when both tokens have expired.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from chorus.net.fetch import guarded_session
from chorus.platforms.base import PermanentError
from chorus.platforms.http import call, json_body
from chorus.platforms.oauth2 import TokenSet, must_authorise
from chorus.platforms.whoami import Owner, get_json, named, text

__all__ = ["BlueskyLogin", "TokenSet", "login", "refresh"]

PLATFORM = "bluesky"
DEFAULT_PDS = "https://bsky.social"


@dataclass(frozen=True)
class BlueskyLogin:
    did: str
    handle: str
    tokens: TokenSet


def jwt_expiry(token: str) -> datetime | None:
    """The ``exp`` claim of a JWT (unverified: the PDS checks signatures, this only schedules refreshes)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(float(claims["exp"]), UTC)
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def _session_call(url: str, session: requests.Session | None, **kw: Any) -> dict[str, Any]:
    try:
        resp = call(session or guarded_session(), "POST", url, PLATFORM, idempotent=True, **kw)
    except PermanentError as exc:
        raise must_authorise(exc, PLATFORM) from exc
    body: dict[str, Any] = json_body(resp, PLATFORM)
    return body


def _tokens(body: dict[str, Any], previous_refresh: str | None = None) -> TokenSet:
    access = str(body["accessJwt"])
    return TokenSet(
        access_token=access,
        refresh_token=body.get("refreshJwt") or previous_refresh,
        expires_at=jwt_expiry(access),
    )


def login(
    identifier: str,
    app_password: str,
    *,
    base_url: str = DEFAULT_PDS,
    session: requests.Session | None = None,
) -> BlueskyLogin:
    body = _session_call(
        f"{base_url.rstrip('/')}/xrpc/com.atproto.server.createSession",
        session,
        json={"identifier": identifier, "password": app_password},
    )
    return BlueskyLogin(
        did=str(body["did"]), handle=str(body.get("handle", identifier)), tokens=_tokens(body)
    )


def refresh(
    refresh_token: str, *, base_url: str = DEFAULT_PDS, session: requests.Session | None = None
) -> TokenSet:
    body = _session_call(
        f"{base_url.rstrip('/')}/xrpc/com.atproto.server.refreshSession",
        session,
        headers={"Authorization": f"Bearer {refresh_token}"},
    )
    return _tokens(body, previous_refresh=refresh_token)


def whoami(
    access_token: str, *, base_url: str = DEFAULT_PDS, session: requests.Session | None = None
) -> Owner:
    """``GET com.atproto.server.getSession`` on the account's PDS: the DID (and handle) of the session."""
    body = get_json(
        session, f"{base_url.rstrip('/')}/xrpc/com.atproto.server.getSession", PLATFORM, token=access_token
    )
    return Owner(named(body.get("did"), PLATFORM, "DID"), handle=text(body.get("handle")))
