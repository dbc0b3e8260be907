"""WeChat Official Accounts: whether a token works.

WeChat has no call that names the official account (``gh_…``, the ``ToUserName`` of its messages) a
token belongs to. ``GET /cgi-bin/get_api_domain_ip`` answers any valid access token (``errcode``
40001/42001 otherwise): Chorus checks the token works, and refuses an account id another workspace
already connected (:mod:`chorus.accounts.ownership`).
"""

from __future__ import annotations

import requests

from chorus.platforms.base import AuthError
from chorus.platforms.whoami import get_json

PLATFORM = "wechat"
API_URL = "https://api.weixin.qq.com"


def token_works(
    access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL
) -> None:
    """Raise AuthError unless WeChat accepts the token (WeChat takes it only in the query string)."""
    body = get_json(
        session,
        f"{api_url.rstrip('/')}/cgi-bin/get_api_domain_ip",
        PLATFORM,
        params={"access_token": access_token},
    )
    code = body.get("errcode")
    if isinstance(code, int) and code != 0:
        raise AuthError(f"WeChat refused the token (errcode {code})", platform=PLATFORM, code=str(code))
