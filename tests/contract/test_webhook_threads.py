"""Contract: Threads reply webhooks (delivered to the Meta endpoint) against the documented sample."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chorus.inbox.normalized import Deletion, InboundMessage, MessageKind
from chorus.platforms.webhooks import WEBHOOKS, MalformedWebhook, WebhookSecrets
from tests.support import fixture_bytes, fixture_json

META = WEBHOOKS["meta"]
SECRETS = WebhookSecrets(meta_app_secret="s")


def test_the_documented_reply_becomes_a_reply_on_the_root_post() -> None:
    # Given the docs' `replies` sample (flat envelope: app_id/topic/target_id/values)
    result = META.parse(fixture_bytes("webhooks/threads/replies_webhook.json"), {}, SECRETS)
    # Then one REPLY: parent = replied_to, conversation/post = root_post, account = target_id
    assert result.ignored == ()
    (message,) = result.events
    assert isinstance(message, InboundMessage)
    assert message.platform == "threads"
    assert message.kind is MessageKind.REPLY
    assert message.account_ref == "78901"
    assert message.platform_message_id == "8901234"
    assert message.text == "Reply"
    assert message.author_handle == message.author_id == "test_username"
    assert message.parent_ref == "567890"
    assert message.conversation_ref == message.post_ref == "123456"
    assert message.created_at == datetime(2024, 8, 7, 10, 33, 16, tzinfo=UTC)


def test_a_threads_mention_is_a_mention_and_a_delete_is_a_deletion() -> None:
    doc = fixture_json("webhooks/threads/replies_webhook.json")
    doc["values"]["field"] = "mentions"
    mention = META.parse(json.dumps(doc).encode(), {}, SECRETS).events[0]
    assert isinstance(mention, InboundMessage)
    assert mention.kind is MessageKind.MENTION
    doc["values"] = {"field": "delete", "value": {"id": "8901234"}}
    assert META.parse(json.dumps(doc).encode(), {}, SECRETS).events == (
        Deletion("threads", "78901", "8901234"),
    )


def test_a_threads_delivery_without_target_id_is_malformed() -> None:
    doc = fixture_json("webhooks/threads/replies_webhook.json")
    del doc["target_id"]
    with pytest.raises(MalformedWebhook, match="target_id"):
        META.parse(json.dumps(doc).encode(), {}, SECRETS)
