"""Weibo open API v2 (``https://api.weibo.com/2/...``): one client, one error table, and the small
readers of Weibo's JSON that every Weibo module shares (fixtures/platform_api/china/weibo).

**Ids** are read from ``idstr`` (``mid`` for a status, then ``id``): in the documented share answer the
numeric ``id`` (3504803600500000) already differs from ``idstr`` (3504803600502730), a 64-bit number
read as a float. :func:`id_of` is the one place that reads them.

**Tokens** travel in the ``Authorization: OAuth2 <token>`` header (Weibo's second documented way to
pass ``access_token``), never in a URL.

**Errors** are ``{error, error_code, request}`` (``error_code`` a string in the docs, a number on the
wire). :data:`ERRORS` is the one table of what each code means to Chorus (the shared vocabulary of
:mod:`chorus.platforms.codes`: retry / defer / permanent / re-auth):

* rate limits (10022 IP, 10023 user, 10024 user per endpoint) -> :class:`RateLimited`, waiting until
  the reset ``GET 2/account/rate_limit_status.json`` answers (``reset_time_in_seconds``) where it can
  be read;
* Weibo's own failures (10001 system error, 10002 service unavailable, 10003 remote service error,
  10009 too many pending tasks) -> :class:`TransientError`;
* an expired, used or invalid token (21314-21317, 21327 ``expired_token``, 21332) or a refused grant
  (21325 ``invalid_grant``) -> :class:`AuthError` (the account is connected again);
* 20019 repeated content -> :class:`RepeatContent`: Weibo already has a status with this text, which
  after a lost answer is ours (the publisher verifies it rather than resending);
* everything else (10006 no appkey, 10014 insufficient app permissions, 10017 invalid parameter such as
  a status without the app's safe-domain URL, ...) -> :class:`PermanentError` with Weibo's message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from chorus.platforms.base import (
    AuthError,
    PermanentError,
    PlatformError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.codes import Action, ErrorTable, numeric
from chorus.platforms.http import call, json_body

logger = logging.getLogger(__name__)

PLATFORM = "weibo"
API_URL = "https://api.weibo.com"
TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # "Wed Oct 24 23:49:17 +0800 2012"


class RepeatContent(PermanentError):
    """20019: Weibo has a status with this text already (after a lost answer: ours)."""


REPEAT = 20019
ERRORS: ErrorTable = {
    10001: (Action.RETRY, None),  # System error
    10002: (Action.RETRY, None),  # Service unavailable
    10003: (Action.RETRY, None),  # Remote service error
    10009: (Action.RETRY, None),  # Too many pending tasks, system is busy
    10022: (Action.DEFER, None),  # IP requests out of rate limit
    10023: (Action.DEFER, None),  # User requests out of rate limit
    10024: (Action.DEFER, None),  # User requests for (%s) out of rate limit
    10006: (Action.PERMANENT, None),  # Source paramter (appkey) is missing
    10014: (Action.PERMANENT, None),  # Insufficient app permissions (statuses/update for ordinary apps)
    10017: (Action.PERMANENT, None),  # Parameter value invalid (a status without the app's safe-domain URL)
    21314: (Action.REAUTH, None),  # Token used
    21315: (Action.REAUTH, None),  # Token expired
    21316: (Action.REAUTH, None),  # Token revoked
    21317: (Action.REAUTH, None),  # Token rejected
    21325: (Action.REAUTH, None),  # invalid_grant
    21327: (Action.REAUTH, None),  # expired_token
    21332: (Action.REAUTH, None),  # invalid_access_token
}
"""What each Weibo ``error_code`` means to Chorus (error_codes_selected_docs.json and the Error_code
wiki page; :mod:`chorus.platforms.codes`); 20019 (``REPEAT``) is :class:`RepeatContent`; a code not
listed keeps the meaning of its HTTP status (4xx permanent, 5xx transient). A deferral waits for the
reset ``account/rate_limit_status`` gives (:meth:`WeiboApi.reset_in`)."""


def classify(exc: PlatformError, retry_after: float | None = None) -> PlatformError:
    """``exc`` as the error class :data:`ERRORS` gives its Weibo code (``exc`` itself when not listed)."""
    code = numeric(exc.code)
    kw: dict[str, Any] = {"platform": PLATFORM, "code": exc.code, "status": exc.status}
    if code == REPEAT:
        return RepeatContent(exc.message, **kw)
    action = ERRORS[code][0] if code is not None and code in ERRORS else None
    if action is Action.DEFER:
        wait = retry_after if retry_after is not None else getattr(exc, "retry_after", None)
        return RateLimited(exc.message, retry_after=wait, **kw)
    if action is Action.RETRY:
        return TransientError(exc.message, **kw)
    if action is Action.REAUTH:
        return AuthError(exc.message, **kw)
    if action is Action.PERMANENT and not isinstance(exc, PermanentError):
        return PermanentError(exc.message, **kw)
    return exc


def id_of(item: Mapping[str, Any], *, status: bool = False) -> str | None:
    """A Weibo object's id: ``idstr`` (a status's ``mid`` next), else ``id`` when it is a whole number."""
    names = ("idstr", "mid", "id") if status else ("idstr", "id")
    for name in names:
        value = item.get(name)
        if isinstance(value, str) and value.strip().isdigit():
            return value.strip()
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def parse_time(value: Any) -> datetime | None:
    """Weibo's ``created_at`` (``Wed Oct 24 23:49:17 +0800 2012``) in UTC; None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), TIME_FORMAT).astimezone(UTC)
    except ValueError:
        return None


def status_url(uid: str, status_id: str) -> str:
    """The web address of a status (weibo.com/{uid}/{id} resolves the numeric id)."""
    return f"https://weibo.com/{uid}/{status_id}"


def authorization(token: str) -> dict[str, str]:
    return {"Authorization": f"OAuth2 {token}"}


class WeiboApi:
    """``GET`` / ``POST`` on ``{base}/2/{path}.json`` as one account, errors classified by :data:`ERRORS`.

    ``base_url`` None: ``CHORUS_WEIBO_API_URL`` (:mod:`chorus.accounts.apps`), read at each call."""

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.session = session or requests.Session()
        self.base_url = base_url

    @property
    def base(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        from chorus.accounts.apps import get_apps

        return get_apps().weibo_api_url.rstrip("/")

    def url(self, path: str) -> str:
        return f"{self.base}/2/{path}.json"

    def get(self, token: str, path: str, **params: str) -> Any:
        return self._send(token, "GET", path, params=params)

    def post(self, token: str, path: str, **kw: Any) -> Any:
        return self._send(token, "POST", path, **kw)

    def _send(self, token: str, method: str, path: str, **kw: Any) -> Any:
        try:
            resp = call(self.session, method, self.url(path), PLATFORM, headers=authorization(token), **kw)
            body = json_body(resp, PLATFORM)
        except UnknownOutcome:
            raise
        except PlatformError as exc:
            raise self._classified(token, exc) from None
        if isinstance(body, dict) and numeric(body.get("error_code")) is not None:  # an error answered 200
            found = PermanentError(str(body.get("error") or "Weibo error"), platform=PLATFORM,
                                   code=str(body["error_code"]), status=resp.status_code)  # fmt: skip
            raise self._classified(token, found)
        return body

    def _classified(self, token: str, exc: PlatformError) -> PlatformError:
        code = numeric(exc.code)
        deferred = code is not None and code in ERRORS and ERRORS[code][0] is Action.DEFER
        wait = self.reset_in(token) if deferred else None
        return classify(exc, wait)

    def reset_in(self, token: str) -> float | None:
        """Seconds until the account's limits reset (``account/rate_limit_status``: the limit hit named
        no time); None when Weibo does not say (the status read itself failed)."""
        try:
            resp = call(self.session, "GET", self.url("account/rate_limit_status"), PLATFORM,
                        headers=authorization(token))  # fmt: skip
            body = json_body(resp, PLATFORM)
        except PlatformError as exc:
            logger.info("weibo_rate_limit_status_unread", extra={"error": exc.message})
            return None
        seconds = body.get("reset_time_in_seconds") if isinstance(body, dict) else None
        if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0:
            return float(seconds)
        return None
