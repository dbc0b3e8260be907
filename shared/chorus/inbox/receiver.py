"""The webhook receiver's domain: handshake, verify (constant time), check the body parses, enqueue
the raw bytes, answer. Pure apart from the injected queue; the Lambda handler only translates API
Gateway events to and from it.

* Unknown platform -> 404 problem JSON.
* A body over the platform's limit (:func:`~chorus.platforms.webhooks.body_limit`) -> 413, before
  any signature work: the platform stops retrying a body that can never be queued.
* Bad or missing signature (or no secret configured) -> 401, logged with the reason only: the body
  is neither stored nor logged.
* A signed request seen before inside its timestamp window (``spec.replay_key`` claimed through the
  :class:`~chorus.platforms.webhooks.ReplayGuard`) -> 401, logged as a replay.
* The queue refusing the body -> 503 (the platform retries; the replay claim is released first).
* A body that does not parse -> 400: nothing is queued, so nothing is half-ingested.
* A verified body with nothing an inbox needs (reactions, read receipts, statuses) -> acknowledged
  without queueing.
* A queued message an inbox rule answers automatically (``auto_reply``), on a platform whose callback
  response can carry a reply (``spec.passive_reply``: WeChat) -> that reply instead of the bare
  acknowledgement; a failing ``answer`` is logged and the acknowledgement sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from chorus.inbox.normalized import InboundMessage, ParseResult
from chorus.inbox.queue import IngestMessage, IngestQueue, headers_for_parse
from chorus.platforms.webhooks import (
    WEBHOOKS,
    MalformedWebhook,
    ReplayGuard,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
    WebhookSecrets,
    body_limit,
)
from chorus.store.keys import iso

log = logging.getLogger(__name__)

REPLAY_TTL_S = 15 * 60
"""How long a replay key is remembered: longer than any platform's timestamp window (5 minutes either
side), after which the window alone refuses the request."""


def problem(status: int, title: str, detail: str) -> WebhookResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return WebhookResponse(status, json.dumps(body).encode("utf-8"), "application/problem+json")


def receive(
    platform: str,
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    secrets: WebhookSecrets,
    queue: IngestQueue,
    now: datetime | None = None,
    *,
    replays: ReplayGuard,
    auto_reply: Callable[[str, InboundMessage], str | None] | None = None,
) -> WebhookResponse:
    if platform not in WEBHOOKS:
        return problem(404, "Not found", f"no webhook receiver for platform {platform!r}")
    limit = body_limit(platform)
    if len(body) > limit:
        log.warning("webhook too large", extra={"platform": platform, "bytes": len(body), "limit": limit})
        return problem(
            413, "Payload too large", f"body: {len(body)} bytes; {platform} webhooks are capped at {limit}"
        )
    spec = WEBHOOKS[platform]
    lowered = {k.lower(): v for k, v in headers.items()}
    req = WebhookRequest(method.upper(), platform, dict(query), lowered, body)
    answer = spec.handshake(req, secrets)
    if answer is not None:
        return answer
    if req.method != "POST":
        return problem(405, "Method not allowed", "webhooks are delivered with POST")
    try:
        spec.verify(req, secrets)
    except SignatureError as error:
        log.warning("webhook refused", extra={"platform": platform, "reason": str(error), "bytes": len(body)})
        return problem(401, "Unauthorized", "signature missing or invalid")
    except MalformedWebhook as error:
        log.warning("webhook malformed", extra={"platform": platform, "reason": str(error)})
        return problem(400, "Bad request", str(error))
    try:
        parsed = spec.parse(body, lowered, secrets)
    except MalformedWebhook as error:
        log.warning("webhook malformed", extra={"platform": platform, "reason": str(error)})
        return problem(400, "Bad request", str(error))
    except SignatureError as error:  # a signed envelope whose ciphertext is not this app's (WeChat)
        log.warning("webhook refused", extra={"platform": platform, "reason": str(error), "bytes": len(body)})
        return problem(401, "Unauthorized", "signature missing or invalid")
    key = spec.replay_key(req)
    try:
        first = key is None or replays.claim(platform, key, REPLAY_TTL_S)
    except Exception:
        log.exception("webhook replay check failed", extra={"platform": platform})
        return problem(503, "Service unavailable", "the webhook could not be checked; retry later")
    if not first:
        log.warning("webhook replayed", extra={"platform": platform, "bytes": len(body)})
        return problem(401, "Unauthorized", "request already received (replayed timestamp and nonce)")
    if parsed.events:
        message = IngestMessage(
            platform=platform,
            received_at=iso(now or datetime.now(UTC)),
            body=body,
            headers=headers_for_parse(lowered),
        )
        try:
            queue.send(message)
        except Exception:
            log.exception("webhook not queued", extra={"platform": platform, "bytes": len(body)})
            if key is not None:
                _release(replays, platform, key)
            return problem(503, "Service unavailable", "the webhook could not be queued; retry later")
    else:
        log.info("webhook ignored", extra={"platform": platform, "ignored": list(parsed.ignored)})
    if auto_reply is not None and parsed.events:
        replied = _passive_reply(spec, req, parsed, secrets, auto_reply)
        if replied is not None:
            return replied
    return spec.ack(req)


def _passive_reply(
    spec: object,
    req: WebhookRequest,
    parsed: ParseResult,
    secrets: WebhookSecrets,
    answer: Callable[[str, InboundMessage], str | None],
) -> WebhookResponse | None:
    """The platform's passive reply when one message came and a rule answers it; else None."""
    reply_with = getattr(spec, "passive_reply", None)
    messages = [e for e in parsed.events if isinstance(e, InboundMessage)]
    if reply_with is None or len(messages) != 1:
        return None
    try:
        text = answer(req.path_platform, messages[0])
        if text is None:
            return None
        replied: WebhookResponse = reply_with(req, messages[0], text, secrets)
    except Exception:
        log.exception("passive reply not given", extra={"platform": req.path_platform})
        return None
    return replied


def _release(replays: ReplayGuard, platform: str, key: str) -> None:
    """Forget a claim so the platform's retry is accepted; failing that, the retry is refused as a
    replay until the claim expires (logged: an operator can replay the body from the platform)."""
    try:
        replays.release(platform, key)
    except Exception:
        log.exception("webhook replay claim not released", extra={"platform": platform})
