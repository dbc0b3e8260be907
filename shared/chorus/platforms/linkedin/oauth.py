"""LinkedIn: whose token is it.

Chorus's LinkedIn inbox is an organization's (webhooks name ``urn:li:organization:{id}``), so the
account a token proves is an organization it administers: ``GET /rest/organizationAcls
?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED``. Without an organization named, the member
itself (``GET /v2/userinfo``, OpenID ``sub``).
"""

from __future__ import annotations

import requests

from chorus.platforms.base import PermanentError
from chorus.platforms.whoami import Owner, get_json, listed, named, text

PLATFORM = "linkedin"
API_URL = "https://api.linkedin.com"
API_VERSION = "202411"
ORGANIZATION = "urn:li:organization:"


def organization_urn(value: str) -> str:
    """``urn:li:organization:{id}`` for an organization id or URN."""
    return value if value.startswith("urn:") else ORGANIZATION + value


def whoami(
    access_token: str,
    *,
    organization: str | None = None,
    session: requests.Session | None = None,
    api_url: str = API_URL,
) -> Owner:
    base = api_url.rstrip("/")
    if organization is None:
        me = get_json(session, f"{base}/v2/userinfo", PLATFORM, token=access_token)
        return Owner(named(me.get("sub"), PLATFORM), display_name=text(me.get("name")))
    wanted = organization_urn(organization)
    params = {"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"}
    session = session or requests.Session()
    session.headers.update({"LinkedIn-Version": API_VERSION, "X-Restli-Protocol-Version": "2.0.0"})
    body = get_json(session, f"{base}/rest/organizationAcls", PLATFORM, token=access_token, params=params)
    for acl in listed(body.get("elements")):
        if isinstance(acl, dict) and acl.get("organization") == wanted:
            return Owner(wanted)
    raise PermanentError(f"the token does not administer {wanted}", platform=PLATFORM)
