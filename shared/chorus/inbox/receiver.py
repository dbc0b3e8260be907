"""The webhook receiver's domain: handshake, verify (constant time), check the body parses, enqueue
the raw bytes, answer. Pure apart from the injected queue; the Lambda handler only translates API
Gateway events to and from it.

* Unknown platform -> 404 problem JSON.
* Bad or missing signature (or no secret configured) -> 401, logged with the reason only: the body
  is neither stored nor logged.
* A body that does not parse -> 400: nothing is queued, so nothing is half-ingested.
* A verified body with nothing an inbox needs (reactions, read receipts, statuses) -> acknowledged
  without queueing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from chorus.inbox.queue import IngestMessage, IngestQueue, headers_for_parse
from chorus.platforms.webhooks import (
    WEBHOOKS,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
    WebhookSecrets,
)
from chorus.store.keys import iso

log = logging.getLogger(__name__)


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
) -> WebhookResponse:
    if platform not in WEBHOOKS:
        return problem(404, "Not found", f"no webhook receiver for platform {platform!r}")
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
    if parsed.events:
        queue.send(
            IngestMessage(
                platform=platform,
                received_at=iso(now or datetime.now(UTC)),
                body=body,
                headers=headers_for_parse(lowered),
            )
        )
    else:
        log.info("webhook ignored", extra={"platform": platform, "ignored": list(parsed.ignored)})
    return spec.ack(req)
