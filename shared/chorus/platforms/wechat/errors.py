"""WeChat's ``errcode`` answers, in one table: what each means for Chorus (retry, refresh the token,
re-authorise, wait for a quota, or give up) and the reason shown on the target.

WeChat answers HTTP 200 whatever happened; ``errcode`` 0 (or no ``errcode``) is success. ``errmsg``
carries per-request `` rid: …`` / `` hint: [..]`` suffixes, so only ``errcode`` is matched
(``fixtures/platform_api/china/wechat/errcode_*.json``, ``errcode_table_selected_docs.json``):

* stale token (40001, 40014, 42001): the token is fetched again and the call repeated once
  (:class:`StaleToken`, an :class:`~chorus.platforms.base.AuthError` when it escapes);
* re-authorise (40013 AppID, 40125 AppSecret, 40243 AppSecret frozen, 40164/61004 IP not in the
  whitelist, 50004 token API forbidden, 50007 account frozen): the account cannot work until its
  owner fixes the app (:class:`~chorus.platforms.base.AuthError`: the account is marked);
* deferral (45009 daily quota: until the quotas reset at midnight Beijing time; 45011 minute quota;
  89503/89506/89507 the administrator's confirmation of the calling IP): the target waits, its reason
  shown (:class:`~chorus.platforms.base.RateLimited` with ``retry_after``);
* retry (-1 system busy): :class:`~chorus.platforms.base.TransientError`;
* permanent (48001 unverified account or unauthorised API, 44003 empty article, 40007 media id,
  53503-53505 draft refused, and every code not listed): :class:`~chorus.platforms.base.PermanentError`
  with the meaning and WeChat's own ``errmsg``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from chorus.platforms.base import AuthError, PermanentError, RateLimited, TransientError

PLATFORM = "wechat"
QUOTA_ZONE = ZoneInfo("Asia/Shanghai")
"""WeChat's daily quotas reset at midnight Beijing time."""


class Action(StrEnum):
    STALE_TOKEN = "stale_token"  # noqa: S105 - an action name, not a secret
    REAUTH = "reauth"
    DEFER = "defer"
    RETRY = "retry"
    PERMANENT = "permanent"


class StaleToken(AuthError):
    """WeChat no longer takes the token used: fetch the current one and repeat the call once."""


DAILY = -1.0
"""A deferral until the daily quotas reset (midnight Asia/Shanghai)."""

ERRCODES: Mapping[int, tuple[Action, str, float | None]] = {
    -1: (Action.RETRY, "WeChat is busy (system error)", None),
    40001: (Action.STALE_TOKEN, "the access token is invalid or not the latest", None),
    40014: (Action.STALE_TOKEN, "the access token is invalid", None),
    42001: (Action.STALE_TOKEN, "the access token expired", None),
    40013: (Action.REAUTH, "the AppID is not valid", None),
    40125: (Action.REAUTH, "the AppSecret is not valid", None),
    40243: (Action.REAUTH, "the AppSecret is frozen; unfreeze it in the WeChat Official Accounts Platform", None),
    40164: (Action.REAUTH, "the calling IP is not in the app's IP whitelist", None),
    61004: (Action.REAUTH, "the calling IP is not in the app's IP whitelist", None),
    50004: (Action.REAUTH, "the app may not use the token API", None),
    50007: (Action.REAUTH, "the official account is frozen", None),
    45009: (Action.DEFER, "the daily API quota is used up; it resets at midnight Beijing time", DAILY),
    45011: (Action.DEFER, "too many calls this minute", 60.0),
    89503: (Action.DEFER, "the account's administrator must confirm this call", 3600.0),
    89506: (Action.DEFER, "the administrator refused calls from this IP for 24 hours", 24 * 3600.0),
    89507: (Action.DEFER, "the administrator refused calls from this IP for 1 hour", 3600.0),
    48001: (Action.PERMANENT, "account not verified: WeChat lets only verified (认证) accounts use this API", None),
    44003: (Action.PERMANENT, "the article is empty", None),
    40007: (Action.PERMANENT, "the media id is not valid", None),
    40004: (Action.PERMANENT, "the media type is not valid", None),
    40005: (Action.PERMANENT, "the file type is not valid", None),
    40009: (Action.PERMANENT, "the image is too large", None),
    53503: (Action.PERMANENT, "the draft did not pass WeChat's publishing check", None),
    53504: (Action.PERMANENT, "the draft must be published from the WeChat Official Accounts Platform", None),
    53505: (Action.PERMANENT, "the draft must be saved by hand in the WeChat Official Accounts Platform first", None),
}  # fmt: skip


def errcode(body: Any) -> int:
    """The answer's ``errcode`` (0 when absent: success); a non-numeric one counts as -1 (unknown)."""
    code = body.get("errcode", 0) if isinstance(body, Mapping) else 0
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    try:
        return int(str(code))
    except ValueError:
        return -1


def until_quota_reset(now: datetime | None = None) -> float:
    """Seconds until WeChat's daily quotas reset (the next midnight in Asia/Shanghai)."""
    local = (now or datetime.now(UTC)).astimezone(QUOTA_ZONE)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - local).total_seconds()


def action(code: int) -> Action:
    return ERRCODES.get(code, (Action.PERMANENT, "", None))[0]


def raise_for_errcode(body: Any, what: str, now: datetime | None = None) -> None:
    """Raise the error the table maps ``body``'s non-zero ``errcode`` to; return on success.
    ``what`` names the call for the reason ("the draft", "publishing")."""
    code = errcode(body)
    if code == 0:
        return
    kind, meaning, wait = ERRCODES.get(code, (Action.PERMANENT, "", None))
    errmsg = str(body.get("errmsg") or "") if isinstance(body, Mapping) else ""
    reason = f"WeChat refused {what}: {meaning or errmsg or 'unknown error'} (errcode {code}" + (
        f": {errmsg})" if errmsg and meaning else ")"
    )
    kw: dict[str, Any] = {"platform": PLATFORM, "code": str(code)}
    if kind is Action.STALE_TOKEN:
        raise StaleToken(reason, **kw)
    if kind is Action.REAUTH:
        raise AuthError(reason, **kw)
    if kind is Action.DEFER:
        raise RateLimited(reason, retry_after=until_quota_reset(now) if wait == DAILY else wait, **kw)
    if kind is Action.RETRY:
        raise TransientError(reason, **kw)
    raise PermanentError(reason, **kw)
