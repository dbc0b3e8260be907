"""TikTok for Developers webhooks: ``TikTok-Signature`` check and event parsing.

``TikTok-Signature: t=<unix seconds>,s=<hex HMAC-SHA256(client_secret, t + "." + raw body)>``.
Requests whose ``t`` is further than ``tolerance`` (default 5 minutes) from now are refused as
replays. TikTok has no GET handshake. The body is an envelope (``client_key``, ``event``,
``create_time``, ``user_openid``) whose ``content`` is a JSON *string* (parsed a second time).

``authorization.removed`` -> :class:`Revocation`; every other event (``video.publish.completed``,
``post.publish.*``, ``portability.*``, ...) is not an inbox message and is ignored with the reason
``event:<name>``; :func:`parse_event` gives the publisher the decoded envelope when it needs one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chorus.inbox.normalized import ParseResult, Revocation
from chorus.platforms.webhooks import (
    OK,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
    WebhookSecrets,
    check_window,
    from_epoch,
    hmac_digest,
    load_json_object,
    req_ident,
    require_secret,
    same,
)

PLATFORM = "tiktok"
SIGNATURE_HEADER = "tiktok-signature"

# developers.tiktok.com/doc/webhooks-events: authorization.removed content.reason
REMOVAL_REASONS = {
    0: "unknown",
    1: "user disconnected the app in TikTok",
    2: "user deleted their account",
    3: "user's age changed",
    4: "user's account was banned",
    5: "developer revoked the authorization",
}


def sign(client_secret: str, timestamp: str, body: bytes) -> str:
    """The hex signature TikTok sends for ``body`` at ``timestamp``."""
    return hmac_digest(client_secret, timestamp.encode("ascii") + b"." + body).hex()


def parse_signature_header(value: str) -> tuple[str, str]:
    """``"t=..,s=.."`` -> ``(t, s)``; :class:`SignatureError` when either part is missing."""
    parts: dict[str, str] = {}
    for element in value.split(","):
        key, sep, item = element.strip().partition("=")
        if sep:
            parts[key.strip()] = item.strip()
    if not parts.get("t") or not parts.get("s"):
        raise SignatureError("TikTok-Signature: expected t=<timestamp>,s=<signature>")
    return parts["t"], parts["s"]


@dataclass(frozen=True)
class TikTokEvent:
    event: str
    client_key: str
    user_openid: str
    create_time: datetime
    content: Mapping[str, Any]


def parse_event(body: bytes) -> TikTokEvent:
    data = load_json_object(body)
    event = data.get("event")
    if not isinstance(event, str) or not event:
        raise MalformedWebhook("event: missing")
    raw_content = data.get("content")
    content: Any = {}
    if isinstance(raw_content, str) and raw_content.strip():
        try:
            content = json.loads(raw_content)
        except ValueError as exc:
            raise MalformedWebhook(f"content: not a JSON string ({exc})") from exc
    elif isinstance(raw_content, dict):
        content = raw_content
    if not isinstance(content, dict):
        raise MalformedWebhook("content: expected a JSON object")
    return TikTokEvent(
        event=event,
        client_key=str(data.get("client_key") or ""),
        user_openid=req_ident(data.get("user_openid"), "user_openid"),
        create_time=from_epoch(data.get("create_time"), "create_time"),
        content=content,
    )


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TikTokWebhook:
    tolerance: timedelta = timedelta(minutes=5)
    now: Callable[[], datetime] = field(default=_now)
    platform: str = "tiktok"

    def handshake(self, req: WebhookRequest, secrets: WebhookSecrets) -> WebhookResponse | None:
        return None  # TikTok verifies a callback URL with a test delivery, not a GET challenge

    def verify(self, req: WebhookRequest, secrets: WebhookSecrets) -> None:
        secret = require_secret(secrets.tiktok_client_secret, "tiktok_client_secret")
        header = req.header(SIGNATURE_HEADER)
        if not header:
            raise SignatureError("TikTok-Signature: missing")
        timestamp, signature = parse_signature_header(header)
        if not timestamp.isdigit():
            raise SignatureError("TikTok-Signature: t is not a unix timestamp")
        if not same(sign(secret, timestamp, req.body), signature.lower()):
            raise SignatureError("TikTok-Signature: does not match the body")
        check_window(timestamp, self.now(), self.tolerance, "TikTok-Signature: t")

    def replay_key(self, req: WebhookRequest) -> str | None:
        """The signed ``t`` and ``s``: the same delivery twice inside the tolerance is a replay."""
        timestamp, signature = parse_signature_header(req.header(SIGNATURE_HEADER) or "")
        return f"{timestamp}:{signature.lower()}"

    def ack(self, req: WebhookRequest) -> WebhookResponse:
        return OK

    def parse(self, body: bytes, headers: Mapping[str, str], secrets: WebhookSecrets) -> ParseResult:
        event = parse_event(body)
        if event.event != "authorization.removed":
            return ParseResult(events=(), ignored=(f"event:{event.event}",))
        code = event.content.get("reason")
        label = REMOVAL_REASONS.get(code, f"reason {code}") if isinstance(code, int) else "unknown"
        revocation = Revocation(PLATFORM, event.user_openid, f"authorization.removed: {label}")
        return ParseResult(events=(revocation,))


TIKTOK = TikTokWebhook()
