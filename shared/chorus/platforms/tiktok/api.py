"""TikTok API v2's answer envelope and error vocabulary (``fixtures/platform_api/publishing/tiktok``).

Every v2 answer is ``{data, error: {code, message, log_id}}``, ``error.code`` ``"ok"`` on success —
even when the HTTP status is 200 and the thing asked about failed (status fetch). Errors
(``content_posting_reference.json``, ``video_init_error_codes`` / ``v2_error_codes``):

- ``access_token_invalid``, ``scope_not_authorized`` (401) -> :class:`AuthError` (re-authorise);
- ``rate_limit_exceeded`` (429) -> :class:`RateLimited` (``Retry-After`` when sent, else a minute: the
  documented limits are per minute);
- ``spam_risk_too_many_posts`` (the creator's daily cap through the API), ``reached_active_user_cap``
  (the client's daily cap of publishing users), ``spam_risk_too_many_pending_share`` -> deferrals:
  :class:`RateLimited` for ``DAILY_CAP_WAIT_S`` with TikTok's reason;
- ``internal_error`` and 5xx -> retry; every other code -> :class:`PermanentError` with TikTok's message.
"""

from __future__ import annotations

from typing import Any

import requests

from chorus.platforms.base import AuthError, PermanentError, RateLimited, TransientError
from chorus.platforms.http import bearer, call, json_body

PLATFORM = "tiktok"
API_URL = "https://open.tiktokapis.com"
AUTH_CODES = frozenset({"access_token_invalid", "scope_not_authorized"})
DAILY_CAPS = frozenset(
    {"spam_risk_too_many_posts", "reached_active_user_cap", "spam_risk_too_many_pending_share"}
)
DAILY_CAP_WAIT_S = 3600.0
"""A daily cap is a rolling 24 hours TikTok does not say the end of: the post is tried again each hour."""
RATE_LIMIT_WAIT_S = 60.0


def checked(body: Any, status: int = 200) -> dict[str, Any]:
    """The ``data`` of an answer whose ``error.code`` is ``ok``; any other code raised as its class."""
    if not isinstance(body, dict):
        raise TransientError("TikTok answered something that is not a JSON object", platform=PLATFORM)
    error = body.get("error")
    code = str(error.get("code") or "ok") if isinstance(error, dict) else "ok"
    if code != "ok":
        message = str(error.get("message") or code) if isinstance(error, dict) else code
        raise refused(code, message, status)
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def refused(code: str, message: str, status: int | None, retry_after: float | None = None) -> Exception:
    """The error class of TikTok's ``code``."""
    kw: dict[str, Any] = {"platform": PLATFORM, "code": code, "status": status}
    if code in AUTH_CODES:
        return AuthError(message, **kw)
    if code in DAILY_CAPS:
        return RateLimited(f"{message} ({code}: tried again in an hour)", retry_after=retry_after or DAILY_CAP_WAIT_S,
                           **kw)  # fmt: skip
    if code == "rate_limit_exceeded":
        return RateLimited(message, retry_after=retry_after or RATE_LIMIT_WAIT_S, **kw)
    if code == "internal_error" or (status is not None and status >= 500):
        return TransientError(message, retry_after=retry_after, **kw)
    return PermanentError(message, **kw)


def v2(
    session: requests.Session,
    base_url: str,
    path: str,
    token: str,
    body: dict[str, Any],
    *,
    params: dict[str, str] | None = None,
    idempotent: bool = True,
) -> dict[str, Any]:
    """POST a JSON body to ``{base_url}/v2/{path}`` and return its checked ``data``."""
    try:
        resp = call(session, "POST", f"{base_url.rstrip('/')}/v2/{path}", PLATFORM, params=params or {},
                    json=body, idempotent=idempotent,
                    headers={**bearer(token), "Content-Type": "application/json; charset=UTF-8"})  # fmt: skip
    except (PermanentError, TransientError) as exc:
        if exc.code is None or isinstance(exc, AuthError):
            raise
        retry_after = exc.retry_after if isinstance(exc, TransientError) else None
        raise refused(exc.code, exc.message, exc.status, retry_after) from None
    return checked(json_body(resp, PLATFORM), resp.status_code)
