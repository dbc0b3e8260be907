"""TikTok API for Business: a TikTok account holder authorises the deployment's *business* developer app
(the second, optional connect step "Enable comments"; Login Kit, which connects the account for
publishing, never grants ``comment.list`` / ``comment.list.manage``).

- ``authorize_url``: the authorisation page of the business app, ``https://business-api.tiktok.com/
  portal/auth?app_id=&state=&redirect_uri=`` (the portal also shows the app's own "Authorization URL"
  under My Apps > App Detail > Basic Information: set ``CHORUS_TIKTOK_BUSINESS_AUTHORIZE_URL`` to its
  address without the query when it differs). The account holder is sent back to the app's "TikTok
  account holder redirect URL" with the code (``auth_code``, or ``code``) and ``state``.
- ``exchange_code``: ``POST {business api}/tt_user/oauth2/token/`` with a JSON body ``{client_id,
  client_secret, grant_type: "authorization_code", auth_code, redirect_uri}``, answered in the business
  envelope ``{code, message, request_id, data: {access_token, expires_in, open_id, refresh_token,
  refresh_token_expires_in, scope, token_type}}``: an access token for 24 hours (86400 s), a refresh
  token for a year (31536000 s), the account's ``open_id`` (the ``business_id`` of every business call)
  and the scopes granted, comma-separated. ``refresh_token_expires_in`` (seconds left) is when the grant
  ends for good (:attr:`BusinessGrant.refresh_expires_at`): the owner is warned a week before
  (``chorus.accounts.expiry``) and the comments step must be authorised again after it.
- ``refresh``: ``POST tt_user/oauth2/refresh_token/`` ``{client_id, client_secret, grant_type:
  "refresh_token", refresh_token}``, answered like the token request (the refresh token may come back
  new: it replaces the stored one). A refused refresh means the grant is dead (``AuthError`` with code
  ``GRANT``: the comments step must be authorised again; publishing is not touched).
- ``revoke``: ``POST tt_user/oauth2/revoke/`` ``{client_id, client_secret, access_token}``, answered
  ``{code: 0, message: "OK", data: {}}``: the account holder's authorisation of the business app ends
  (the account is removed from Chorus). The URL is configurable (``CHORUS_TIKTOK_BUSINESS_REVOKE_URL``;
  by default ``tt_user/oauth2/revoke/`` under the business API URL).
- ``token_info``: ``POST tt_user/token_info/get/`` ``{app_id, access_token}`` answers ``{app_id,
  creator_id, scope}``: whose token it is (``creator_id`` = the ``open_id``) and what it may do.

**How far this is verified.** TikTok's portal pages are not in the stored documentation (only
``fixtures/platform_api/replies/tiktok/_endpoints_UNVERIFIED.json``). The paths, the request bodies and
the answers' fields agree with the python-tiktok SDK (sns-sdks/python-tiktok, ``BusinessAccountApi``:
``generate_access_token``, ``refresh_access_token``, ``get_token_info``, and its recorded answers
``testsdata/business/access_token/*.json``; ``revoke_access_token`` and ``revoke_resp.json`` for the
revoke) and with several public integrations read through the search
tools (the same three paths under ``open_api/v1.3``, the same JSON bodies, the portal's ``/portal/auth``
page with ``app_id``, ``state`` and ``redirect_uri`` coming back with ``auth_code``; the revoke's path
and body in a Go and a Rust client and in integrations that revoke on disconnect). NOT verified: the
error codes of the token endpoints (any non-zero ``code`` of a refresh that is not a retry or a rate
limit is taken as a refused grant), whether the revoke takes an expired access token (Chorus revokes
the freshest it holds), and the authorisation page's parameters for account holders (hence the
configurable URLs, and both ``auth_code`` and ``code`` read back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import requests

from chorus.platforms.base import AuthError, PermanentError
from chorus.platforms.granted import grant_of, scopes_of
from chorus.platforms.oauth2 import Consent, TokenSet, expiry
from chorus.platforms.tiktok.api import PLATFORM
from chorus.platforms.tiktok.comments import GRANT, business
from chorus.platforms.whoami import named

AUTHORIZE_URL = "https://business-api.tiktok.com/portal/auth"
TOKEN_PATH = "tt_user/oauth2/token/"  # noqa: S105 (a path, not a secret)
REFRESH_PATH = "tt_user/oauth2/refresh_token/"
TOKEN_INFO_PATH = "tt_user/token_info/get/"  # noqa: S105 (a path, not a secret)
REVOKE_PATH = "tt_user/oauth2/revoke/"


@dataclass(frozen=True)
class BusinessGrant:
    """What the account holder granted the business app: whose it is, its tokens, its scopes, and when
    its refresh token (so the grant) ends."""

    open_id: str
    tokens: TokenSet
    scopes: tuple[str, ...]
    refresh_expires_at: datetime | None = None


CONSENT = Consent(AUTHORIZE_URL, client="app_id", order=("app_id", "state", "redirect_uri"))
"""The authorisation page's query: the business app, the state and the redirect URI (no scope: the app's own)."""
authorize_url = CONSENT.authorize_url


def _grant(data: dict[str, object], previous_refresh: str | None, now: datetime | None) -> BusinessGrant:
    grant = grant_of(data, PLATFORM, "TikTok", previous_refresh=previous_refresh, now=now)
    return BusinessGrant(
        grant.open_id, grant.tokens, grant.scopes, expiry(data.get("refresh_token_expires_in"), now)
    )


def exchange_code(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    auth_code: str,
    *,
    api_url: str,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> BusinessGrant:
    body = {"client_id": client_id, "client_secret": client_secret, "grant_type": "authorization_code",
            "auth_code": auth_code, "redirect_uri": redirect_uri}  # fmt: skip
    data = business(session or requests.Session(), "POST", TOKEN_PATH, None, base_url=api_url, body=body)
    return _grant(data, None, now)


def refresh(
    client_id: str,
    client_secret: str,
    refresh_token: str,
    *,
    api_url: str,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> BusinessGrant:
    """New tokens for the grant; a refused refresh token is an ``AuthError`` (code ``GRANT``)."""
    body = {"client_id": client_id, "client_secret": client_secret, "grant_type": "refresh_token",
            "refresh_token": refresh_token}  # fmt: skip
    try:
        data = business(
            session or requests.Session(), "POST", REFRESH_PATH, None, base_url=api_url, body=body
        )
    except PermanentError as exc:
        raise AuthError(exc.message, platform=PLATFORM, code=GRANT, status=exc.status) from exc
    return _grant(data, refresh_token, now)


def token_info(
    app_id: str, access_token: str, *, api_url: str, session: requests.Session | None = None
) -> tuple[str, tuple[str, ...]]:
    """(creator_id, scopes) of a business access token, as TikTok reads it."""
    body = {"app_id": app_id, "access_token": access_token}
    data = business(session or requests.Session(), "POST", TOKEN_INFO_PATH, None, base_url=api_url, body=body)
    return named(data.get("creator_id"), PLATFORM, "creator_id"), scopes_of(data.get("scope"))


def revoke_url(api_url: str) -> str:
    """Where the revoke goes unless the deployment names another URL."""
    return f"{api_url.rstrip('/')}/{REVOKE_PATH}"


def revoke(
    client_id: str,
    client_secret: str,
    access_token: str,
    *,
    url: str,
    session: requests.Session | None = None,
    timeout: tuple[float, float] | None = None,
) -> None:
    """End the account holder's authorisation of the business app (``url``: :func:`revoke_url` or the
    configured one). Raises the platform's error when TikTok does not answer code 0."""
    body = {"client_id": client_id, "client_secret": client_secret, "access_token": access_token}
    # ``url`` is the whole endpoint: the envelope helper appends the (empty) path to it
    business(session or requests.Session(), "POST", "", None, base_url=url, body=body, timeout=timeout)
