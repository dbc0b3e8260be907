"""Turn ``requests`` answers and failures into the platform error classes of :mod:`chorus.platforms.base`.

Every adapter (publishing, metrics, inbox, polling) sends its HTTP through :func:`call` or checks a
response with :func:`raise_for_platform`, so the domain sees one vocabulary whatever the platform:

* 429, Meta throttling codes (4, 17, 32, 613, 80000-80014), YouTube quota reasons -> :class:`RateLimited`
  with ``retry_after`` from ``Retry-After``, the ``*RateLimit-Reset`` headers (X, Mastodon, Bluesky) or
  Meta's ``X-Business-Use-Case-Usage`` ``estimated_time_to_regain_access``;
* 5xx, Meta ``is_transient`` / codes 1 and 2, connection failures -> :class:`TransientError`;
* 401, Meta ``OAuthException`` code 190 (or 102), atproto ``ExpiredToken``/``InvalidToken`` ->
  :class:`AuthError`;
* any other 4xx -> :class:`PermanentError` carrying the platform's own message.

**Unknown means verify** (issue 13). After a request that is not safe to repeat (POST, PATCH, unless
the caller says ``idempotent=True``) was sent, these raise :class:`UnknownOutcome`, because the platform
may have acted: the publisher verifies before any retry.

* a read timeout, a connection reset or dropped mid-answer, a server that closed without answering;
* **502 Bad Gateway and 504 Gateway Timeout**: a proxy or load balancer answered for the platform, so
  the request may have reached the application and be running (or done) behind it.

Other 5xx after a POST stay :class:`TransientError`: 503 is the platform refusing to take work on,
and 500 is its application's own answer that the request failed (every platform Chorus speaks to
documents both as "retry"). Nothing was sent, so everything stays transient, when the connection was
refused, the name did not resolve, or the connect timed out. Idempotent requests are repeated
whatever happened.

Timeouts are injectable: a call that names none takes :func:`default_timeout`, whose read timeout
``CHORUS_HTTP_READ_TIMEOUT_S`` overrides (fault tests: 3 s, while their fake holds a lost answer).

**No secret in a message** (issue 14). Error messages are built from redacted text
(:func:`chorus.net.redact.redact`): a transport error names the URL it failed on, and Graph reads
carry ``access_token`` in the query; a platform may echo the request in its error body. Transport
errors are raised ``from None`` so the unredacted ``requests`` exception is not chained into a
traceback that a log line would print.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from chorus.net.redact import redact
from chorus.platforms.base import (
    AuthError,
    PermanentError,
    PlatformError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 10.0)
"""(connect, read) seconds: connect just above a TCP retransmit window, read generous for slow APIs."""


def default_timeout() -> tuple[float, float]:
    """The (connect, read) timeout of a call that names none: ``DEFAULT_TIMEOUT``, or the read timeout
    the settings give (``CHORUS_HTTP_READ_TIMEOUT_S``: fault tests make a held answer time out in 3 s)."""
    from chorus.config import get_settings

    read = get_settings().http_read_timeout_s
    return (DEFAULT_TIMEOUT[0], read) if read else DEFAULT_TIMEOUT


META_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
"""Graph API throttling: app (4), user (17), page (32), custom/other (613), Business Use Case (800xx)."""
META_AUTH_CODES = frozenset({102, 190})
META_TRANSIENT_CODES = frozenset({1, 2})
GOOGLE_RATE_LIMIT_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}
)
XRPC_AUTH_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired"})
"""Bluesky/atproto answers a bad or expired session token with HTTP 400 and one of these error names."""
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
GATEWAY_STATUSES = frozenset({502, 504})
"""A gateway answered for the platform: a non-idempotent request behind it may have taken effect."""
RESET_HEADERS = ("x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset")
"""Absolute reset times: X (epoch seconds), Bluesky (epoch seconds), Mastodon (ISO 8601)."""

_MAX_MESSAGE = 500


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date (RFC 9110 10.2.3).

    Returns ``None`` when absent or unreadable, never a negative number.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def parse_rate_limit_reset(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds until an absolute reset time: epoch seconds (X, Bluesky) or ISO 8601 (Mastodon)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    current = now or datetime.now(UTC)
    try:
        seconds = float(text) - current.timestamp()
    except ValueError:
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - current).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def meta_usage_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds until access returns according to ``X-Business-Use-Case-Usage`` (minutes in the header).

    ``X-App-Usage`` / ``X-Page-Usage`` only report percentages, so they give no wait time.
    """
    raw = headers.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes: list[float] = []
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else []:
                value = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
                if isinstance(value, int | float) and value > 0:
                    minutes.append(float(value))
    return max(minutes) * 60.0 if minutes else None


def retry_after_from(resp: requests.Response, now: datetime | None = None) -> float | None:
    """The longest wait any of the response's rate-limit headers asks for, or ``None``."""
    headers = resp.headers
    waits = [parse_retry_after(headers.get("Retry-After"), now), meta_usage_retry_after(headers)]
    waits.extend(parse_rate_limit_reset(headers.get(name), now) for name in RESET_HEADERS)
    known = [w for w in waits if w is not None]
    return max(known) if known else None


def _body(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _error_details(body: Any) -> tuple[str | None, str | None, dict[str, Any]]:
    """(message, code, meta_error) from the error bodies of the platforms Chorus speaks to."""
    if not isinstance(body, dict):
        return None, None, {}
    error = body.get("error")
    if isinstance(error, dict):  # Meta Graph, Google APIs
        message = error.get("error_user_msg") or error.get("message")
        code = error.get("code")
        reasons = [e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)]
        reason = next((r for r in reasons if r), None)
        return (
            str(message) if message else None,
            str(reason or code) if (reason or code) is not None else None,
            error,
        )
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):  # X v1.1 / v2 request errors
        first = errors[0]
        message = first.get("message") or first.get("detail")
        code = first.get("code") or first.get("type")
        return (str(message) if message else None, str(code) if code is not None else None, {})
    # Bluesky XRPC {error, message}; Mastodon {error, error_description};
    # LinkedIn {message, serviceErrorCode}; X v2 problem {title, detail, type}; Pinterest {code, message};
    # Threads' token endpoint {error_type, code, error_message}; Weibo {error, error_code, request}
    message = (
        body.get("message")
        or body.get("error_description")
        or body.get("detail")
        or body.get("title")
        or body.get("error_message")
    )
    if not message and isinstance(error, str):
        message = error
    code = (
        body.get("serviceErrorCode")
        or body.get("error_code")  # Weibo {error, error_code, request}: the number names the error
        or (error if isinstance(error, str) else None)
        or body.get("type")
        or body.get("code")
    )
    return (str(message) if message else None, str(code) if code is not None else None, {})


def raise_for_platform(resp: requests.Response, platform: str, now: datetime | None = None) -> None:
    """Raise the matching :class:`PlatformError` subclass for a failed response; return for 1xx-3xx."""
    status = resp.status_code
    if status < 400:
        return
    message, code, meta = _error_details(_body(resp))
    text = redact(message or resp.reason or f"HTTP {status}")[:_MAX_MESSAGE]
    kw: dict[str, Any] = {"platform": platform, "code": code, "status": status}
    meta_code = meta.get("code") if isinstance(meta.get("code"), int) else None

    if status == 429 or meta_code in META_RATE_LIMIT_CODES or code in GOOGLE_RATE_LIMIT_REASONS:
        raise RateLimited(text, retry_after=retry_after_from(resp, now), **kw)
    if status == 401 or meta_code in META_AUTH_CODES or code in XRPC_AUTH_ERRORS:
        raise AuthError(text, **kw)
    if status >= 500 or meta.get("is_transient") is True or meta_code in META_TRANSIENT_CODES:
        # Only Retry-After here: Mastodon sends X-RateLimit-Reset on every answer, not only when limited.
        raise TransientError(text, retry_after=parse_retry_after(resp.headers.get("Retry-After"), now), **kw)
    raise PermanentError(text, **kw)


def json_body(resp: requests.Response, platform: str) -> Any:
    """The decoded JSON of a successful response; a 2xx that is not JSON (a proxy page) is transient."""
    raise_for_platform(resp, platform)
    try:
        return resp.json()
    except ValueError as exc:
        raise TransientError(
            f"response is not JSON (HTTP {resp.status_code})", platform=platform, status=resp.status_code
        ) from exc


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header for an OAuth 2.0 bearer token (kept out of URLs and access logs)."""
    return {"Authorization": f"Bearer {token}"}


def batched(items: Sequence[str], size: int) -> Iterator[list[str]]:
    """Consecutive slices of at most ``size`` items (an API's ids-per-request limit), order kept."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _transport_message(exc: requests.RequestException) -> str:
    """What went wrong on the wire, with the URL's secrets redacted (``requests`` names the URL)."""
    return redact(f"{type(exc).__name__}: {exc}")[:_MAX_MESSAGE]


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request surely did not reach the server (DNS, refused, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def call(
    session: requests.Session,
    method: str,
    url: str,
    platform: str,
    *,
    timeout: float | tuple[float, float] | None = None,
    idempotent: bool | None = None,
    **kw: Any,
) -> requests.Response:
    """Send one request and return the successful response, or raise a :class:`PlatformError`.

    ``idempotent`` defaults from the method; when False, a timeout or a dropped connection after the
    request may have been sent raises :class:`UnknownOutcome` instead of :class:`TransientError`.
    ``kw`` goes to :meth:`requests.Session.request` (params, json, data, headers, files...);
    ``timeout`` defaults to :func:`default_timeout`.
    """
    verb = method.upper()
    safe_to_repeat = verb in IDEMPOTENT_METHODS if idempotent is None else idempotent
    try:
        resp = session.request(verb, url, timeout=timeout or default_timeout(), **kw)
    except requests.RequestException as exc:
        text = _transport_message(exc)
        if isinstance(exc, requests.Timeout | requests.ConnectionError):
            if safe_to_repeat or _never_sent(exc):
                raise TransientError(text, platform=platform) from None
            raise UnknownOutcome(text, platform=platform) from None
        raise PermanentError(text, platform=platform) from None
    try:
        try:
            raise_for_platform(resp, platform)
        except TransientError as exc:
            if safe_to_repeat or resp.status_code not in GATEWAY_STATUSES or isinstance(exc, RateLimited):
                raise
            raise UnknownOutcome(
                f"{exc.message} (HTTP {resp.status_code} after {verb}: the platform may have acted)",
                platform=platform,
                code=exc.code,
                status=exc.status,
            ) from None
    except PlatformError as exc:
        logger.info(
            "platform_error",
            extra={
                "platform": platform,
                "status": exc.status,
                "code": exc.code,
                "error_class": type(exc).__name__,
                "method": verb,
            },
        )
        raise
    return resp
