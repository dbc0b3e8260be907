"""Mastodon OAuth (per instance): app registration, authorisation code, token and refresh.

- ``register_app``: ``POST /api/v1/apps`` gives the client id and secret for one instance.
- ``authorize_url``: ``{instance}/oauth/authorize`` (``code_challenge`` optional, PKCE S256).
- ``exchange_code`` / ``refresh``: ``POST {instance}/oauth/token`` (form). Mastodon tokens usually do
  not expire and come without a refresh token; when an instance does send ``refresh_token`` /
  ``expires_in`` they are kept, and a refresh that omits the refresh token keeps the stored one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from chorus.net.fetch import guarded_session
from chorus.platforms.http import call, json_body
from chorus.platforms.oauth2 import RFC6749_ORDER, Consent, TokenSet, pkce, token_answer, token_set
from chorus.platforms.whoami import Owner, get_json, named, text

__all__ = ["AppRegistration", "TokenSet", "authorize_url", "exchange_code", "refresh", "register_app"]

PLATFORM = "mastodon"
DEFAULT_SCOPES = ("read", "write")
CONSENT = Consent("/oauth/authorize", DEFAULT_SCOPES, order=RFC6749_ORDER)
"""The consent page's path on the instance."""


@dataclass(frozen=True)
class AppRegistration:
    client_id: str
    client_secret: str


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def register_app(
    base_url: str,
    client_name: str,
    redirect_uris: Sequence[str],
    scopes: Sequence[str] = DEFAULT_SCOPES,
    *,
    website: str | None = None,
    session: requests.Session | None = None,
) -> AppRegistration:
    data: dict[str, str] = {
        "client_name": client_name,
        "redirect_uris": "\n".join(redirect_uris),
        "scopes": " ".join(scopes),
    }
    if website:
        data["website"] = website
    resp = call(session or guarded_session(), "POST", f"{_base(base_url)}/api/v1/apps", PLATFORM, data=data)
    body = json_body(resp, PLATFORM)
    return AppRegistration(client_id=str(body["client_id"]), client_secret=str(body["client_secret"]))


def authorize_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    *,
    base_url: str,
    code_verifier: str | None = None,
) -> str:
    return CONSENT.authorize_url(client_id, redirect_uri, state, scopes, dialog_url=_base(base_url) + CONSENT.url,
                                 extra=pkce(code_verifier) if code_verifier else None)  # fmt: skip


def _token(base_url: str, data: dict[str, str], session: requests.Session | None) -> dict[str, Any]:
    return token_answer(session or guarded_session(), f"{_base(base_url)}/oauth/token", PLATFORM, data)


def exchange_code(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    *,
    base_url: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    code_verifier: str | None = None,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> TokenSet:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
    }
    if code_verifier:
        data["code_verifier"] = code_verifier
    return token_set(_token(base_url, data, session), now=now)


def refresh(
    client_id: str,
    client_secret: str,
    refresh_token: str,
    *,
    base_url: str,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> TokenSet:
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return token_set(_token(base_url, data, session), previous_refresh=refresh_token, now=now)


def whoami(access_token: str, *, base_url: str, session: requests.Session | None = None) -> Owner:
    """``GET {instance}/api/v1/accounts/verify_credentials``: the account the token acts for; its
    handle as ``user@instance``."""
    me = get_json(
        session, f"{_base(base_url)}/api/v1/accounts/verify_credentials", PLATFORM, token=access_token
    )
    acct = text(me.get("acct")) or text(me.get("username")) or ""
    host = urlsplit(base_url).netloc
    return Owner(
        named(me.get("id"), PLATFORM),
        handle=(acct if "@" in acct else f"{acct}@{host}") if acct else None,
        display_name=text(me.get("display_name")),
    )
