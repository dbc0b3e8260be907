"""``/webhooks/{platform}``: verify (constant time), enqueue the raw body, answer in milliseconds.

Public by design (the platforms cannot hold an API key): authenticity is the signature. Hot path:
no Tracer, no idempotency utility, the SQS client created on the first queued webhook only, and the
DynamoDB replay markers (PynamoDB) imported on the first WeChat/TikTok request only, and the inbox rules
(an automatic answer in WeChat's callback response) on the first WeChat message only.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.inbox.queue import default_ingest_queue
from chorus.inbox.receiver import problem, receive
from chorus.inbox.settings import webhook_secrets
from chorus.observability import logger, metrics


class _LazyQueue:
    def send(self, message: Any) -> None:
        default_ingest_queue().send(message)


class _LazyReplays:
    def claim(self, platform: str, key: str, ttl_s: int) -> bool:
        from chorus.store.nonces import DynamoReplayGuard

        return DynamoReplayGuard().claim(platform, key, ttl_s)

    def release(self, platform: str, key: str) -> None:
        from chorus.store.nonces import DynamoReplayGuard

        DynamoReplayGuard().release(platform, key)


def _rule_reply(platform: str, message: Any) -> str | None:
    """An inbox rule's automatic answer, given in the callback's response (WeChat's passive reply)."""
    from chorus.inbox.passive import rule_reply

    return rule_reply(platform, message)


_queue = _LazyQueue()
_replays = _LazyReplays()


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    raw = event.get("body") or ""
    try:
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError):
        answer = problem(400, "Bad request", "body: flagged base64 but not base64")
    else:
        answer = receive(
            platform=(event.get("pathParameters") or {}).get("platform", ""),
            method=event.get("httpMethod", "POST"),
            query=event.get("queryStringParameters") or {},
            headers=event.get("headers") or {},
            body=body,
            secrets=webhook_secrets(),
            queue=_queue,
            replays=_replays,
            auto_reply=_rule_reply,
        )
    if answer.status >= 400:
        logger.info("webhook answered", status=answer.status)
    if answer.status >= 500:  # WebhookServerErrorsAlarm (template.yaml): a platform is retrying
        metrics.add_metric(name="WebhookServerError", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
    return {
        "statusCode": answer.status,
        "headers": {"Content-Type": answer.content_type},
        "body": answer.body.decode("utf-8", errors="replace"),
    }
