"""LinkedIn: connecting a member and the organization pages it administers, its tokens, whose token it is.

- ``authorize_url``: ``https://www.linkedin.com/oauth/v2/authorization`` (3-legged OAuth 2.0:
  ``response_type=code``, space-separated ``scope``, ``state``).
- ``exchange_code``: ``POST https://www.linkedin.com/oauth/v2/accessToken`` (form: ``grant_type=
  authorization_code``, the code, client id and secret, the redirect URI;
  ``fixtures/platform_api/publishing/linkedin/oauth_access_token_response.json``): an access token for
  60 days (``expires_in`` 5184000) and, on self-serve apps, **no refresh token**: the account must be
  connected again before the token expires (its owner is warned, ``chorus.accounts.expiry``).
- ``refresh``: ``grant_type=refresh_token`` on the same endpoint, only for approved Marketing Developer
  Platform apps (``oauth_refresh_token_response.json``). The refresh token's own lifetime is fixed at
  the first authorization, so an answer's refresh token replaces the stored one and its lifetime is read,
  never assumed. A refused refresh token (``invalid_request``: "...invalid, expired or revoked") means
  the member must authorise again: ``AuthError``.
- ``whoami``: which account a token proves. Chorus's LinkedIn accounts are named by URN: an
  organization it administers (``GET /rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR
  &state=APPROVED``; webhooks name ``urn:li:organization:{id}``), or the member itself
  (``GET /v2/userinfo``, OpenID ``sub``: ``urn:li:person:{sub}``, the author of the member's posts).
- ``administered``: every organization of those ACLs, so a connect adds each page the member administers.

Every ``/rest/*`` call carries ``LinkedIn-Version`` (``API_VERSION``: versions are sunset about a year
after release) and ``X-Restli-Protocol-Version: 2.0.0`` (``rest_headers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import requests

from chorus.platforms.base import PermanentError
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.oauth2 import Consent, TokenSet, secret_grant
from chorus.platforms.whoami import Owner, get_json, listed, named, text

__all__ = ["TokenSet", "administered", "authorize_url", "exchange_code", "refresh", "whoami"]

PLATFORM = "linkedin"
API_URL = "https://api.linkedin.com"
OAUTH_URL = "https://www.linkedin.com/oauth/v2"
API_VERSION = "202609"
"""``LinkedIn-Version`` (YYYYMM). Versions are sunset on a rolling basis, about a year after release."""
ORGANIZATION = "urn:li:organization:"
PERSON = "urn:li:person:"
DEFAULT_SCOPES = (
    "openid",
    "profile",
    "w_member_social",
    "w_organization_social",
    "r_organization_social",
    "rw_organization_admin",
)
CONSENT = Consent(f"{OAUTH_URL}/authorization", DEFAULT_SCOPES,
                  order=("response_type", "client_id", "redirect_uri", "state", "scope"))  # fmt: skip


def rest_headers(version: str = API_VERSION) -> dict[str, str]:
    """The headers every versioned ``/rest/*`` call needs (api_reference.json)."""
    return {"LinkedIn-Version": version, "X-Restli-Protocol-Version": "2.0.0"}


def organization_urn(value: str) -> str:
    """``urn:li:organization:{id}`` for an organization id or URN (any other URN is kept as it is)."""
    return value if value.startswith("urn:") else ORGANIZATION + value


def is_organization(account_id: str) -> bool:
    """An organization page (a URN of one, or the bare numeric id older accounts hold), not a member."""
    return account_id.startswith(ORGANIZATION) or account_id.isdigit()


def authorize_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    *,
    oauth_url: str = OAUTH_URL,
) -> str:
    return CONSENT.authorize_url(client_id, redirect_uri, state, scopes,
                                 dialog_url=f"{oauth_url.rstrip('/')}/authorization")  # fmt: skip


def _token_url(oauth_url: str) -> str:
    return f"{oauth_url.rstrip('/')}/accessToken"


def exchange_code(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    *,
    session: requests.Session | None = None,
    oauth_url: str = OAUTH_URL,
    now: datetime | None = None,
) -> TokenSet:
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    return secret_grant(
        _token_url(oauth_url), PLATFORM, (client_id, client_secret), grant, session=session, now=now
    )


def refresh(
    client_id: str,
    client_secret: str,
    refresh_token: str,
    *,
    session: requests.Session | None = None,
    oauth_url: str = OAUTH_URL,
    now: datetime | None = None,
) -> TokenSet:
    grant = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return secret_grant(
        _token_url(oauth_url), PLATFORM, (client_id, client_secret), grant, session=session, now=now
    )


def member(access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL) -> Owner:
    """``GET /v2/userinfo``: the member the token acts for, as ``urn:li:person:{sub}``."""
    me = get_json(session, f"{api_url.rstrip('/')}/v2/userinfo", PLATFORM, token=access_token)
    return Owner(PERSON + named(me.get("sub"), PLATFORM), display_name=text(me.get("name")))


def administered(
    access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL
) -> list[str]:
    """The organizations (URNs) the token's member administers (approved ADMINISTRATOR ACLs)."""
    params = {"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"}
    http = session or requests.Session()
    resp = call(
        http,
        "GET",
        f"{api_url.rstrip('/')}/rest/organizationAcls",
        PLATFORM,
        headers={**bearer(access_token), **rest_headers()},
        params=params,
    )
    body = json_body(resp, PLATFORM)
    found: list[str] = []
    for acl in listed(body.get("elements") if isinstance(body, dict) else None):
        org = acl.get("organization") if isinstance(acl, dict) else None
        if isinstance(org, str) and org.startswith(ORGANIZATION) and org not in found:
            found.append(org)
    return found


def whoami(
    access_token: str,
    *,
    organization: str | None = None,
    session: requests.Session | None = None,
    api_url: str = API_URL,
) -> Owner:
    """The account ``access_token`` proves: the named organization when the token administers it,
    else (no organization named, or a member URN named) the member itself."""
    if organization is None or organization.startswith(PERSON):
        return member(access_token, session=session, api_url=api_url)
    wanted = organization_urn(organization)
    if wanted in administered(access_token, session=session, api_url=api_url):
        return Owner(wanted)
    raise PermanentError(f"the token does not administer {wanted}", platform=PLATFORM)
