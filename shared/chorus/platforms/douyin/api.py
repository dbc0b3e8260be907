"""Douyin open platform (抖音开放平台): its two answer envelopes, its error codes in one table, and the
one way adapters call it.

Base ``https://open.douyin.com``. Answers come in two envelopes (``fixtures/platform_api/china/README.md``):

- legacy ``{data: {error_code, description, ...}, extra: {error_code, description, sub_error_code,
  logid, now}}`` (OAuth, video upload/create/data, comments; ``error_code`` printed as ``0`` or ``"0"``);
- ``/api/douyin/v1`` ``{err_no, err_msg, log_id, data}``.

Success is code 0 in either. Every other code is looked up in :data:`ERRORS`, which says what Chorus
does about it: retry (``TransientError``), defer (``RateLimited``: the target waits), give up
(``PermanentError``) or ask the owner to authorise again (``AuthError``). A code the table does not know
is permanent, with Douyin's own description. The access token travels in the ``access-token`` header
(never in a URL), the account's ``open_id`` in the query.
"""

from __future__ import annotations

from typing import Any

import requests

from chorus.platforms.base import PermanentError, TransientError
from chorus.platforms.budget import Timeout
from chorus.platforms.codes import Action, ErrorTable, mapped_error, numeric
from chorus.platforms.http import call, json_body
from chorus.platforms.whoami import obj

PLATFORM = "douyin"
API_URL = "https://open.douyin.com"


ERRORS: ErrorTable = {
    # (what Chorus does, seconds to wait when deferred); codes and wording: error_codes_selected_docs.json
    2100004: (Action.RETRY, None),  # 系统繁忙 (busy: try again later)
    2118110: (Action.DEFER, 1.0),  # 请求过于频繁 (QPS above 100)
    10020: (Action.DEFER, 300.0),  # > 500 token calls in 5 minutes
    2100005: (Action.PERMANENT, None),  # 参数不合法
    10002: (Action.PERMANENT, None),  # 参数错误
    10003: (Action.PERMANENT, None),  # client_key 不存在
    10013: (Action.PERMANENT, None),  # client_key 或者 client_secret 报错
    28001016: (Action.PERMANENT, None),  # 当前应用已被封禁或下线
    28001018: (Action.PERMANENT, None),  # 应用未获得该能力 (the app lacks the scope)
    10008: (Action.REAUTH, None),  # access_token expired
    2190008: (Action.REAUTH, None),  # access_token expired
    10010: (Action.REAUTH, None),  # refresh_token expired: authorise again
    28001003: (Action.REAUTH, None),  # access_token无效
    28001008: (Action.REAUTH, None),  # access_token过期 (expired: refresh or authorise again)
}


def status_of(body: Any) -> tuple[int, str]:
    """(code, description) of an answer in either envelope; (0, "") when it reports none."""
    if not isinstance(body, dict):
        return 0, ""
    if "err_no" in body:
        return numeric(body.get("err_no")) or 0, str(body.get("err_msg") or "")
    data, extra = obj(body.get("data")), obj(body.get("extra"))
    code = numeric(data.get("error_code"))
    if not code:
        code = numeric(extra.get("error_code"))
    message = data.get("description") or extra.get("description") or extra.get("sub_description")
    return code or 0, str(message or "")


def error_for(code: int, message: str) -> PermanentError | TransientError:
    """The platform error for a non-zero Douyin code, as :data:`ERRORS` maps it."""
    return mapped_error(ERRORS, code, message, PLATFORM, "Douyin")


def checked(body: Any) -> dict[str, Any]:
    """The ``data`` of a successful answer; the mapped error for any other."""
    code, message = status_of(body)
    if code != 0:
        raise error_for(code, message)
    return obj(body.get("data")) if isinstance(body, dict) else {}


def request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    token: str | None = None,
    timeout: Timeout | None = None,
    idempotent: bool | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """Send one request (``chorus.platforms.http.call``: transport errors, HTTP statuses, unknown
    outcomes) and answer the ``data`` of Douyin's envelope, its error code mapped."""
    headers = {**({"access-token": token} if token else {}), **kw.pop("headers", {})}
    resp = call(session, method, url, PLATFORM, headers=headers, timeout=timeout, idempotent=idempotent, **kw)
    return checked(json_body(resp, PLATFORM))
