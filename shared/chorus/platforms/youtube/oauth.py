"""YouTube: connecting a channel through Google OAuth 2.0, its tokens, and whose token it is.

- ``authorize_url``: ``https://accounts.google.com/o/oauth2/v2/auth`` with ``access_type=offline`` (a
  refresh token comes only then), ``prompt=consent`` (so a channel connected again gets one again),
  ``include_granted_scopes=true``, space-separated ``scope`` (upload, read, and the channel's
  analytics-free statistics through ``youtube.readonly``) and ``state``.
- ``exchange_code``: ``POST https://oauth2.googleapis.com/token`` (form: ``grant_type=
  authorization_code``, the code, client id and secret, the redirect URI;
  ``fixtures/platform_api/publishing/youtube/oauth_token_response_google_docs.json``): an access token for
  about an hour and the refresh token.
- ``refresh``: ``grant_type=refresh_token`` on the same endpoint; Google answers no new refresh token,
  so the stored one is kept. ``invalid_grant`` (revoked, or unused for six months) means the owner
  must authorise again: ``AuthError``.
- ``whoami``: the channel of the token (``GET /youtube/v3/channels?part=snippet&mine=true``), which is
  the account connected: ownership is proven by Google, not asserted.
"""

from __future__ import annotations

from datetime import datetime

import requests

from chorus.platforms.base import PermanentError
from chorus.platforms.oauth2 import Consent, TokenSet, secret_grant
from chorus.platforms.whoami import Owner, get_json, listed, named, obj, text

__all__ = ["TokenSet", "authorize_url", "exchange_code", "refresh", "whoami"]

PLATFORM = "youtube"
API_URL = "https://www.googleapis.com/youtube/v3"
AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (an endpoint, not a secret)
DEFAULT_SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
    "https://www.googleapis.com/auth/youtube.force-ssl",
)
CONSENT = Consent(
    AUTHORIZE_URL,
    DEFAULT_SCOPES,
    order=("client_id", "redirect_uri", "response_type", "scope", "access_type", "include_granted_scopes",
           "prompt", "state"),
    fixed={"access_type": "offline", "include_granted_scopes": "true", "prompt": "consent"},
)  # fmt: skip
authorize_url = CONSENT.authorize_url


def exchange_code(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    *,
    session: requests.Session | None = None,
    token_url: str = TOKEN_URL,
    now: datetime | None = None,
) -> TokenSet:
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    return secret_grant(token_url, PLATFORM, (client_id, client_secret), grant, session=session, now=now)


def refresh(
    client_id: str,
    client_secret: str,
    refresh_token: str,
    *,
    session: requests.Session | None = None,
    token_url: str = TOKEN_URL,
    now: datetime | None = None,
) -> TokenSet:
    grant = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return secret_grant(token_url, PLATFORM, (client_id, client_secret), grant, session=session, now=now)


def whoami(
    access_token: str,
    *,
    channel_id: str | None = None,
    session: requests.Session | None = None,
    api_url: str = API_URL,
) -> Owner:
    """The channel the token manages (``channel_id`` among them when the user has several; else the
    first, which the caller then finds is not the one asserted)."""
    body = get_json(
        session,
        f"{api_url.rstrip('/')}/channels",
        PLATFORM,
        token=access_token,
        params={"part": "snippet", "mine": "true"},
    )
    channels = [item for item in listed(body.get("items")) if isinstance(item, dict)]
    if not channels:
        raise PermanentError("the token manages no YouTube channel", platform=PLATFORM)
    chosen = next((c for c in channels if c.get("id") == channel_id), channels[0])
    snippet = obj(chosen.get("snippet"))
    return Owner(
        named(chosen.get("id"), PLATFORM, "channel id"),
        handle=text(snippet.get("customUrl")),
        display_name=text(snippet.get("title")),
    )
