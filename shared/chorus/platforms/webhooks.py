"""Inbound webhooks: the shared request/response types, errors, helpers and the per-platform registry.

The HTTP receiver (``/webhooks/{platform}``) looks the platform up in :data:`WEBHOOKS` and calls, in
order: ``handshake`` (subscription checks such as Meta ``hub.challenge``, X CRC, WeChat ``echostr``;
``None`` when the request is not one), ``verify`` (signature, constant time; raises
:class:`SignatureError` or :class:`MalformedWebhook`) and ``ack`` (the answer the platform expects).
It enqueues the raw body; the ingest worker later calls ``parse``, which returns a
:class:`~chorus.inbox.normalized.ParseResult`.

Before any of that the receiver refuses a body over :func:`body_limit` (413), and after ``verify``
it claims ``replay_key`` (WeChat's timestamp+nonce, TikTok's t+s) through a :class:`ReplayGuard`: a
request seen before inside the platform's timestamp window is refused.

Everything here is pure: no AWS, no HTTP framework, no network. The registry imports a platform's
module only when that platform is first asked for, so a receiver serving Meta never imports the
WeChat AES code (cold starts, DESIGN.md decision 9).
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from chorus.inbox.normalized import ParseResult


class SignatureError(Exception):
    """Forged, missing or stale signature (or no secret configured): answer 401/403, log, store nothing."""


class MalformedWebhook(Exception):
    """The body cannot be understood: answer 400 and ingest nothing. The message names the field."""


@dataclass(frozen=True)
class WebhookRequest:
    method: str  # "GET" | "POST" (upper case)
    path_platform: str  # the {platform} URL segment
    query: Mapping[str, str]
    headers: Mapping[str, str]  # keys lower-cased by the receiver
    body: bytes  # the raw body, exactly as received (signatures cover these bytes)

    def header(self, name: str) -> str | None:
        """A header by name, tolerant of a receiver that forgot to lower-case the keys."""
        wanted = name.lower()
        if wanted in self.headers:
            return self.headers[wanted]
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: bytes
    content_type: str = "text/plain"


@dataclass(frozen=True)
class WebhookSecrets:
    """The app-level secrets the receiver and the ingest worker need (decrypted, in memory only).

    Every field is optional: a platform whose secret is missing refuses its requests
    (:class:`SignatureError` / a 503 handshake) rather than accepting them unchecked -- YouTube too:
    WebSub signs a push only when the subscription carried ``hub.secret``, so without one the
    subscription check is answered 503 and every push refused (an unsigned body could come from anyone).
    """

    meta_app_secret: str | None = None
    meta_verify_token: str | None = None
    threads_app_secret: str | None = None  # Threads apps have their own secret; same header scheme
    x_consumer_secret: str | None = None
    wechat_token: str | None = None
    wechat_encoding_aes_key: str | None = None
    wechat_app_id: str | None = None
    tiktok_client_secret: str | None = None
    linkedin_client_secret: str | None = None
    youtube_hub_secret: str | None = None


@runtime_checkable
class WebhookSpec(Protocol):
    @property
    def platform(self) -> str:
        """The ``/webhooks/{platform}`` URL segment."""
        ...

    def handshake(self, req: WebhookRequest, secrets: WebhookSecrets) -> WebhookResponse | None:
        """Answer a subscription check, or ``None`` when ``req`` is not one."""
        ...

    def verify(self, req: WebhookRequest, secrets: WebhookSecrets) -> None:
        """Raise :class:`SignatureError` / :class:`MalformedWebhook` unless ``req`` is authentic."""
        ...

    def ack(self, req: WebhookRequest) -> WebhookResponse:
        """What to answer after a verified POST."""
        ...

    def parse(self, body: bytes, headers: Mapping[str, str], secrets: WebhookSecrets) -> ParseResult:
        """Normalise a verified body (ingest side)."""
        ...

    def replay_key(self, req: WebhookRequest) -> str | None:
        """What identifies a verified request once inside its timestamp window (``None``: the platform
        signs no timestamp, so replays are left to the ingest worker's dedupe by message id)."""
        ...


class ReplayGuard(Protocol):
    """Seen-once markers for signed requests (DynamoDB conditional puts with a TTL in AWS)."""

    def claim(self, platform: str, key: str, ttl_s: int) -> bool:
        """``True`` the first time ``(platform, key)`` is claimed within ``ttl_s``; ``False`` after."""
        ...

    def release(self, platform: str, key: str) -> None:
        """Forget a claim (the request was not queued: the platform's retry must be accepted)."""
        ...


# ---------------------------------------------------------------------------------------------------
# Body limits (413 above them, checked before the signature so no HMAC runs over megabytes)
# ---------------------------------------------------------------------------------------------------

QUEUE_BODY_BYTES = 190_000
"""The largest body one ingest message carries: SQS takes 262,144 bytes a message; the body travels in
base64 (x4/3, 253,336 bytes) inside a small JSON envelope (platform, headers, timestamps)."""

MAX_BODY_BYTES: Mapping[str, int] = {
    # WhatsApp Cloud API, "Webhooks" overview: "Webhooks payloads can be up to 3MB"; the other Meta
    # products (Pages, Messenger, Instagram, Threads) post to the same endpoint and document no other cap.
    "meta": 3 * 1024 * 1024,
    # X Account Activity API documents no body size; a DM is at most 10,000 characters.
    "x": 1024 * 1024,
    # WeChat documents no callback body size; a text message's Content is limited to 2,048 bytes and
    # safe mode wraps one message (x4/3 base64 + envelope).
    "wechat": 64 * 1024,
    # TikTok documents no body size; its events are a small envelope with a JSON content string.
    "tiktok": 64 * 1024,
    # LinkedIn documents no body size; notifications arrive in batches.
    "linkedin": 1024 * 1024,
    # WebSub (W3C) sets no limit; YouTube's hub pushes one Atom entry per notification.
    "youtube": 64 * 1024,
}


def body_limit(platform: str) -> int:
    """The largest body accepted for ``platform``: its own cap, never more than a queue message holds."""
    return min(MAX_BODY_BYTES.get(platform, QUEUE_BODY_BYTES), QUEUE_BODY_BYTES)


# ---------------------------------------------------------------------------------------------------
# Helpers shared by the platform modules
# ---------------------------------------------------------------------------------------------------

OK = WebhookResponse(200, b"ok")
FORBIDDEN = WebhookResponse(403, b"forbidden")
NOT_CONFIGURED = WebhookResponse(503, b"webhook secret not configured")


def hmac_digest(secret: str, message: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode("utf-8"), message, getattr(hashlib, algorithm)).digest()


def same(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time equality of two signatures (str compared as UTF-8 bytes)."""
    left = a.encode("utf-8") if isinstance(a, str) else a
    right = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


def require_secret(value: str | None, name: str) -> str:
    if not value:
        raise SignatureError(f"{name} is not configured: refusing the request")
    return value


def check_window(timestamp: str, now: datetime, tolerance: timedelta, field: str) -> None:
    """:class:`SignatureError` unless ``timestamp`` (unix seconds) is within ``tolerance`` of ``now``."""
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError(f"{field}: not a unix timestamp")
    if abs(now.timestamp() - int(timestamp)) > tolerance.total_seconds():
        raise SignatureError(f"{field}: outside the {tolerance} tolerance (stale or replayed)")


def json_response(payload: Mapping[str, Any], status: int = 200) -> WebhookResponse:
    return WebhookResponse(status, json.dumps(payload).encode("utf-8"), "application/json")


def load_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or :class:`MalformedWebhook`."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedWebhook(f"body: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise MalformedWebhook("body: expected a JSON object")
    return data


def obj(value: Any, field: str) -> dict[str, Any]:
    """``value`` as a JSON object, or :class:`MalformedWebhook` naming ``field``."""
    if not isinstance(value, dict):
        raise MalformedWebhook(f"{field}: expected an object")
    return value


def opt_obj(value: Any, field: str) -> dict[str, Any]:
    """An optional JSON object: ``{}`` when absent/null, :class:`MalformedWebhook` when of the wrong type."""
    if value is None:
        return {}
    return obj(value, field)


def arr(value: Any, field: str) -> list[Any]:
    """An optional JSON array: ``[]`` when absent/null, :class:`MalformedWebhook` when of the wrong type."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedWebhook(f"{field}: expected an array")
    return value


def ident(value: Any) -> str | None:
    """A platform id as a string (some payloads send numbers), ``None`` when absent or empty."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value or None
    return None


def req_ident(value: Any, field: str) -> str:
    found = ident(value)
    if found is None:
        raise MalformedWebhook(f"{field}: missing id")
    return found


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def from_epoch(value: Any, field: str = "timestamp") -> datetime:
    """Seconds or milliseconds since the epoch (number or numeric string) as an aware UTC datetime."""
    if isinstance(value, bool):
        raise MalformedWebhook(f"{field}: not a timestamp ({value!r})")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise MalformedWebhook(f"{field}: not a timestamp ({_short(value)})") from exc
    if number > 100_000_000_000:  # milliseconds (year 5138 in seconds)
        number /= 1000.0
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:  # NaN, infinities, beyond year 1..9999
        raise MalformedWebhook(f"{field}: timestamp out of range ({_short(value)})") from exc


def _short(value: Any) -> str:
    """``repr`` of a value for an error message, cut short (a body may be megabytes)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_FRACTION = re.compile(r"\.(\d+)")
_NUMERIC_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def from_iso(value: Any, field: str = "timestamp") -> datetime:
    """An ISO-8601 string as an aware UTC datetime.

    Tolerates ``Z``, ``+0000`` offsets and fractions longer than microseconds (WebSub's nanoseconds);
    a naive value is taken as UTC.
    """
    if not isinstance(value, str) or not value:
        raise MalformedWebhook(f"{field}: not a timestamp ({_short(value)})")
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _NUMERIC_OFFSET.sub(r"\1:\2", text)
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedWebhook(f"{field}: not an ISO-8601 timestamp ({_short(value)})") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00-01:00 and the like
        raise MalformedWebhook(f"{field}: timestamp out of range ({_short(value)})") from exc


# ---------------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------------

_SPECS: dict[str, str] = {
    "meta": "chorus.platforms.meta.webhook:META",
    "x": "chorus.platforms.x.webhook:X",
    "wechat": "chorus.platforms.wechat.webhook:WECHAT",
    "tiktok": "chorus.platforms.tiktok.webhook:TIKTOK",
    "linkedin": "chorus.platforms.linkedin.webhook:LINKEDIN",
    "youtube": "chorus.platforms.youtube.webhook:YOUTUBE",
}


class _LazyRegistry(Mapping[str, WebhookSpec]):
    """``/webhooks/{platform}`` segment -> spec, importing a platform module on first use."""

    def __init__(self, targets: Mapping[str, str]) -> None:
        self._targets = dict(targets)
        self._loaded: dict[str, WebhookSpec] = {}

    def __getitem__(self, platform: str) -> WebhookSpec:
        if platform not in self._loaded:
            target = self._targets[platform]  # KeyError for an unknown platform, as a Mapping should
            module_name, _, attribute = target.partition(":")
            spec: WebhookSpec = getattr(importlib.import_module(module_name), attribute)
            self._loaded[platform] = spec
        return self._loaded[platform]

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)


WEBHOOKS: Mapping[str, WebhookSpec] = _LazyRegistry(_SPECS)
