"""LinkedIn webhooks: endpoint validation, ``X-LI-Signature`` and organization social actions.

What LinkedIn's docs say (learn.microsoft.com/en-us/linkedin/shared/api-guide/webhook-validation):

* Validation: ``GET ?challengeCode=<uuid>`` (plus ``applicationId`` for parent/child apps) must be
  answered within 3 s with JSON ``{"challengeCode": ..., "challengeResponse":
  hex(HMAC-SHA256(key=clientSecret, msg=challengeCode))}``; LinkedIn re-validates every 2 hours.
* Deliveries: ``X-LI-Signature`` = hex HMAC-SHA256 keyed with the clientSecret over the string
  ``"hmacsha256=" + <raw JSON body>``. No test vector is published, and summaries of the page
  (and our brief) describe it as the HMAC of the body alone, so both forms are accepted; either
  one proves knowledge of the clientSecret. A ``hmacsha256=`` prefix on the header value is
  tolerated.

Payload (``ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS``, batches of up to 10, dedupe on
``notificationId``): COMMENT -> COMMENT, ADMIN_COMMENT -> COMMENT written by our page, SHARE_MENTION ->
MENTION, COMMENT_EDIT -> an edited COMMENT, COMMENT_DELETE -> Deletion; LIKE and SHARE (a reshare)
are ignored. Text and author are read from ``decoratedGeneratedActivity`` when present; otherwise
the ingest worker fetches them. No sample payload exists in the fixtures: the tests build one from
the documented field list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chorus.inbox.normalized import Deletion, InboundEvent, InboundMessage, MessageKind, ParseResult
from chorus.platforms.webhooks import (
    NOT_CONFIGURED,
    OK,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
    WebhookSecrets,
    arr,
    from_epoch,
    hmac_digest,
    ident,
    json_response,
    load_json_object,
    obj,
    req_ident,
    require_secret,
    same,
)

PLATFORM = "linkedin"
SIGNATURE_HEADER = "x-li-signature"
SIGNED_PREFIX = b"hmacsha256="

_ACTIONS = {
    "COMMENT": MessageKind.COMMENT,
    "ADMIN_COMMENT": MessageKind.COMMENT,
    "COMMENT_EDIT": MessageKind.COMMENT,
    "SHARE_MENTION": MessageKind.MENTION,
}


def challenge_response(client_secret: str, challenge_code: str) -> str:
    """hex(HMAC-SHA256(key=clientSecret, msg=challengeCode))."""
    return hmac_digest(client_secret, challenge_code.encode("utf-8")).hex()


def sign(client_secret: str, body: bytes) -> str:
    """The documented ``X-LI-Signature`` for ``body``."""
    return hmac_digest(client_secret, SIGNED_PREFIX + body).hex()


def _sign_body_only(client_secret: str, body: bytes) -> str:
    return hmac_digest(client_secret, body).hex()


class LinkedInWebhook:
    platform = "linkedin"

    def handshake(self, req: WebhookRequest, secrets: WebhookSecrets) -> WebhookResponse | None:
        if req.method.upper() != "GET" or "challengeCode" not in req.query:
            return None
        if not secrets.linkedin_client_secret:
            return NOT_CONFIGURED
        code = req.query["challengeCode"]
        return json_response(
            {
                "challengeCode": code,
                "challengeResponse": challenge_response(secrets.linkedin_client_secret, code),
            }
        )

    def verify(self, req: WebhookRequest, secrets: WebhookSecrets) -> None:
        secret = require_secret(secrets.linkedin_client_secret, "linkedin_client_secret")
        header = req.header(SIGNATURE_HEADER)
        if not header:
            raise SignatureError("X-LI-Signature: missing")
        sent = header.strip().lower().removeprefix("hmacsha256=")
        documented = same(sign(secret, req.body), sent)
        body_only = same(_sign_body_only(secret, req.body), sent)
        if not (documented or body_only):
            raise SignatureError("X-LI-Signature: does not match the body")

    def ack(self, req: WebhookRequest) -> WebhookResponse:
        return OK

    def replay_key(self, req: WebhookRequest) -> str | None:
        return None  # no signed timestamp: a replay is deduped by message id at ingest

    def parse(self, body: bytes, headers: Mapping[str, str], secrets: WebhookSecrets) -> ParseResult:
        return parse_notifications(body)


def _first_string(node: Any, keys: tuple[str, ...], depth: int = 0) -> str | None:
    """The first string found under one of ``keys`` in a decorated (nested) LinkedIn object."""
    if depth > 6 or not isinstance(node, dict):
        return None
    for key in keys:
        value = node.get(key)
        if isinstance(value, str) and value:
            return value
    for value in node.values():
        found = _first_string(value, keys, depth + 1)
        if found:
            return found
    return None


def parse_notifications(body: bytes) -> ParseResult:
    data = load_json_object(body)
    kind = data.get("type")
    if kind != "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS":
        return ParseResult(events=(), ignored=(f"type:{kind}",))  # e.g. LEAD_ACTION: not an inbox item
    events: list[InboundEvent] = []
    ignored: list[str] = []
    for i, raw in enumerate(arr(data.get("notifications"), "notifications")):
        where = f"notifications[{i}]"
        note = obj(raw, where)
        action = str(note.get("action") or "")
        account = req_ident(note.get("organizationalEntity"), f"{where}.organizationalEntity")
        activity = ident(note.get("generatedActivity"))
        message_id = activity or req_ident(note.get("notificationId"), f"{where}.notificationId")
        if action == "COMMENT_DELETE":
            events.append(Deletion(PLATFORM, account, message_id))
            continue
        if action not in _ACTIONS:
            ignored.append(action.lower() or "unknown")  # LIKE, SHARE (reshare without text)
            continue
        decorated = note.get("decoratedGeneratedActivity")
        source = ident(note.get("sourcePost"))
        author = _first_string(decorated, ("owner", "actor", "author")) or ""
        events.append(
            InboundMessage(
                platform=PLATFORM,
                account_ref=account,
                platform_message_id=message_id,
                kind=_ACTIONS[action],
                conversation_ref=(source if action != "SHARE_MENTION" else None) or message_id,
                text=_first_string(decorated, ("text", "commentary")) or "",
                created_at=from_epoch(note.get("lastModifiedAt"), f"{where}.lastModifiedAt"),
                author_id=author,
                parent_ref=source if action != "SHARE_MENTION" else None,
                post_ref=source if action != "SHARE_MENTION" else None,
                raw_type=f"linkedin.{action.lower()}",
                edited=action == "COMMENT_EDIT",
                authored_by_account=action == "ADMIN_COMMENT" or author == account,
            )
        )
    return ParseResult(events=tuple(events), ignored=tuple(ignored))


LINKEDIN = LinkedInWebhook()
