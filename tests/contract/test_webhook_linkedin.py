"""Contract: LinkedIn webhook validation, X-LI-Signature and organization social action notifications.

LinkedIn publishes no vector and no concrete notification sample: expected values are computed here
with ``hmac`` from the documented formula, and notifications are built from the documented fields
(type, notifications[].notificationId/organizationalEntity/action/sourcePost/generatedActivity/
decoratedGeneratedActivity/lastModifiedAt).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.inbox.normalized import Deletion, InboundMessage, MessageKind
from chorus.platforms.linkedin.webhook import SIGNATURE_HEADER
from chorus.platforms.webhooks import (
    WEBHOOKS,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
    WebhookSecrets,
)
from tests.support import fixture_json

LINKEDIN = WEBHOOKS["linkedin"]
SECRETS = WebhookSecrets(linkedin_client_secret="li-secret")
ORG = "urn:li:organization:2414183"


def test_the_validation_challenge_is_answered_with_the_hmac_of_the_code() -> None:
    doc = fixture_json("webhooks/linkedin/webhook_validation.json")
    assert "challengeCode" in doc["validation_get"]
    code = "890e4b9e-6a2e-4f56-9d0f-3c0ff0f7b0a1"
    response = LINKEDIN.handshake(
        WebhookRequest("GET", "linkedin", {"challengeCode": code}, {}, b""), SECRETS
    )
    assert response is not None
    assert (response.status, response.content_type) == (200, "application/json")
    expected = hmac.new(b"li-secret", code.encode(), hashlib.sha256).hexdigest()
    assert json.loads(response.body) == {"challengeCode": code, "challengeResponse": expected}


def test_the_documented_signature_header_is_checked() -> None:
    doc = fixture_json("webhooks/linkedin/webhook_validation.json")
    assert doc["post_signature"]["header"].lower() == SIGNATURE_HEADER


def post(body: bytes, signature: str | None) -> WebhookRequest:
    return WebhookRequest("POST", "linkedin", {}, {SIGNATURE_HEADER: signature} if signature else {}, body)


def test_a_delivery_signed_as_documented_or_over_the_bare_body_verifies() -> None:
    body = b'{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[]}'
    documented = hmac.new(b"li-secret", b"hmacsha256=" + body, hashlib.sha256).hexdigest()
    bare = hmac.new(b"li-secret", body, hashlib.sha256).hexdigest()
    LINKEDIN.verify(post(body, documented), SECRETS)
    LINKEDIN.verify(post(body, bare), SECRETS)
    LINKEDIN.verify(post(body, "hmacsha256=" + documented), SECRETS)


def test_a_forged_or_missing_signature_is_refused() -> None:
    body = b'{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[]}'
    forged = hmac.new(b"wrong", b"hmacsha256=" + body, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureError):
        LINKEDIN.verify(post(body, forged), SECRETS)
    with pytest.raises(SignatureError, match="missing"):
        LINKEDIN.verify(post(body, None), SECRETS)


def notification(action: str, **extra: Any) -> dict[str, Any]:
    return {
        "notificationId": 1000 + len(action),
        "organizationalEntity": ORG,
        "action": action,
        "sourcePost": "urn:li:share:6790291455474655232",
        "generatedActivity": "urn:li:comment:(urn:li:activity:6790291457664094208,6790299180463722496)",
        "lastModifiedAt": 1619025487000,
        **extra,
    }


def parse(*notes: dict[str, Any]) -> Any:
    body = {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": list(notes)}
    return LINKEDIN.parse(json.dumps(body).encode(), {}, SECRETS)


def test_a_comment_notification_is_a_comment_on_our_post() -> None:
    decorated = {"comment": {"owner": "urn:li:person:abc", "text": "Congrats!"}}
    (message,) = parse(notification("COMMENT", decoratedGeneratedActivity=decorated)).events
    assert isinstance(message, InboundMessage)
    assert message.kind is MessageKind.COMMENT
    assert message.account_ref == ORG
    assert message.platform_message_id.startswith("urn:li:comment:(")
    assert message.conversation_ref == message.post_ref == "urn:li:share:6790291455474655232"
    assert (message.text, message.author_id) == ("Congrats!", "urn:li:person:abc")
    assert message.created_at == datetime(2021, 4, 21, 17, 18, 7, tzinfo=UTC)


def test_mentions_edits_deletes_and_likes_are_told_apart() -> None:
    result = parse(
        notification(
            "SHARE_MENTION",
            generatedActivity="urn:li:share:1",
            decoratedGeneratedActivity={"share": {"text": "hi @us"}},
        ),
        notification("COMMENT_EDIT"),
        notification("COMMENT_DELETE"),
        notification("LIKE"),
        notification("ADMIN_COMMENT"),
    )
    mention, edit, deletion, admin = result.events
    assert isinstance(mention, InboundMessage)
    assert (mention.kind, mention.text, mention.conversation_ref, mention.post_ref) == (
        MessageKind.MENTION,
        "hi @us",
        "urn:li:share:1",
        None,
    )
    assert isinstance(edit, InboundMessage)
    assert edit.edited is True
    assert isinstance(deletion, Deletion)
    assert deletion.platform_message_id.startswith("urn:li:comment:(")
    assert isinstance(admin, InboundMessage)
    assert admin.authored_by_account is True
    assert result.ignored == ("like",)


def test_other_notification_types_are_ignored_and_a_missing_organization_is_malformed() -> None:
    assert LINKEDIN.parse(b'{"type": "LEAD_ACTION"}', {}, SECRETS).ignored == ("type:LEAD_ACTION",)
    with pytest.raises(MalformedWebhook, match=r"notifications\[0\]\.organizationalEntity"):
        parse(notification("COMMENT", organizationalEntity=None))
