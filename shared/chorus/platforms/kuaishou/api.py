"""Kuaishou open platform (快手开放平台): its answer envelope, its error codes in one table, and the one
way adapters call it.

Base ``https://open.kuaishou.com``. Answers are flat JSON with an integer ``result``: ``1`` is success
(``fixtures/platform_api/china/kuaishou``); anything else carries ``error_msg`` and is looked up in
:data:`ERRORS` (retry / defer / permanent / re-authorise, ``chorus.platforms.codes``); a code the table
does not know is permanent, with Kuaishou's own message. The open API takes ``app_id`` and
``access_token`` as query parameters (as documented); error messages are redacted
(``chorus.platforms.base.PlatformError``), so neither is ever logged.
"""

from __future__ import annotations

from typing import Any

import requests

from chorus.platforms.base import PermanentError, TransientError
from chorus.platforms.budget import Timeout
from chorus.platforms.codes import Action, ErrorTable, mapped_error, numeric
from chorus.platforms.http import call, json_body

PLATFORM = "kuaishou"
API_URL = "https://open.kuaishou.com"
SUCCESS = 1
APP_ID = "app_id"
"""The account's ``extra`` key holding the Kuaishou app id it was connected through."""

ERRORS: ErrorTable = {
    # error_codes_quoted in kuaishou/_endpoints.json (highLightUploadInterface docs)
    10000200: (Action.PERMANENT, None),  # 参数错误 (bad parameter, e.g. 文件包含敏感内容)
    100200102: (Action.REAUTH, None),  # 无效的 access_token
}


def error_for(code: int, message: str) -> PermanentError | TransientError:
    return mapped_error(ERRORS, code, message, PLATFORM, "Kuaishou")


def checked(body: Any) -> dict[str, Any]:
    """A successful answer (``result == 1``); the mapped error for any other."""
    if not isinstance(body, dict):
        raise PermanentError("Kuaishou answered something that is not a JSON object", platform=PLATFORM)
    code = numeric(body.get("result"))
    if code != SUCCESS:
        raise error_for(code if code is not None else 0, str(body.get("error_msg") or ""))
    return body


def request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: Timeout | None = None,
    idempotent: bool | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """Send one request (``chorus.platforms.http.call``) and answer Kuaishou's body, its code mapped."""
    resp = call(session, method, url, PLATFORM, timeout=timeout, idempotent=idempotent, **kw)
    return checked(json_body(resp, PLATFORM))
