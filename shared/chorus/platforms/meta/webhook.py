"""The ``/webhooks/meta`` spec: GET verification, ``X-Hub-Signature-256`` and the parsers."""

from __future__ import annotations

from collections.abc import Mapping

from chorus.inbox.normalized import ParseResult
from chorus.platforms.meta.parse import parse_meta
from chorus.platforms.meta.signature import HEADER, check_signature
from chorus.platforms.webhooks import (
    FORBIDDEN,
    NOT_CONFIGURED,
    OK,
    WebhookRequest,
    WebhookResponse,
    WebhookSecrets,
    same,
)


class MetaWebhook:
    """Facebook Pages, Messenger, Instagram, WhatsApp Cloud API and Threads share this endpoint."""

    platform = "meta"

    def handshake(self, req: WebhookRequest, secrets: WebhookSecrets) -> WebhookResponse | None:
        """``GET ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..``: echo the challenge only
        when the verify token matches (403 otherwise, the convention of Meta's sample app)."""
        if req.method.upper() != "GET" or "hub.mode" not in req.query:
            return None
        if not secrets.meta_verify_token:
            return NOT_CONFIGURED
        token = req.query.get("hub.verify_token", "")
        challenge = req.query.get("hub.challenge", "")
        if req.query.get("hub.mode") != "subscribe" or not same(token, secrets.meta_verify_token):
            return FORBIDDEN
        return WebhookResponse(200, challenge.encode("utf-8"))

    def verify(self, req: WebhookRequest, secrets: WebhookSecrets) -> None:
        candidates = [s for s in (secrets.meta_app_secret, secrets.threads_app_secret) if s]
        check_signature(req.body, req.header(HEADER), candidates)

    def ack(self, req: WebhookRequest) -> WebhookResponse:
        return OK

    def replay_key(self, req: WebhookRequest) -> str | None:
        return None  # no signed timestamp: a replay is deduped by message id at ingest

    def parse(self, body: bytes, headers: Mapping[str, str], secrets: WebhookSecrets) -> ParseResult:
        return parse_meta(body)


META = MetaWebhook()
