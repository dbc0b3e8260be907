"""Contract: WhatsApp Cloud API deliveries (through the Meta endpoint) against pywa's recorded payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.inbox.normalized import (
    DeliveryConfirmed,
    DeliveryFailed,
    InboundMessage,
    MessageKind,
    ParseResult,
)
from chorus.platforms.webhooks import WEBHOOKS, MalformedWebhook, WebhookRequest, WebhookSecrets
from tests.support import fixture_json

META = WEBHOOKS["meta"]
SECRETS = WebhookSecrets(meta_app_secret="wa-secret")
MESSAGES: dict[str, Any] = fixture_json("webhooks/whatsapp/pywa_updates_message.json")
STATUSES: dict[str, Any] = fixture_json("webhooks/whatsapp/pywa_updates_message_status.json")

# case -> (text, media types, parent_ref) for every inbound payload that is a DM
EXPECTED_DMS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "text": ("Body Text", (), None),
    "image": ("", ("image",), None),
    "media_with_url": ("", ("image",), None),
    "video": ("caption", ("video",), None),
    "document": ("caption", ("file",), None),
    "audio": ("", ("audio",), None),
    "voice": ("", ("audio",), None),
    "static_sticker": ("", ("sticker",), None),
    "animated_sticker": ("", ("sticker",), None),
    "current_location": ("", ("location",), None),
    "chosen_location": ("Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025", ("location",), None),
    "contacts": (
        "Chandler Bing (+1 555-555-5555); Monica (+1 666-666-6666); Rachel Green (+1 777-777-7777)",
        (),
        None,
    ),
    "order": ("3 x HAMBURGER\n2 x FRENCH_FRIES\n2 x SODA", (), None),
    "unsupported": ("", (), None),
    "unsupported_with_type": ("", (), None),
    "reply": ("replied text", (), "wamid.xyzxyz=="),
    "forwarded": ("forwarded text", (), None),
    "forwarded_many_times": ("text forwarded many times", (), None),
    "interactive_message_with_err": ("", (), "wamid.gvwegfretge=="),
    "referral": ("BODY", (), None),
}
IGNORED_REACTIONS = {"reaction", "unreaction_empty", "unreaction_no_emoji"}


def parse(payload: dict[str, Any]) -> ParseResult:
    # the fixture holds decoded JSON; re-encode exactly as a delivery would carry it
    return META.parse(json.dumps(payload).encode(), {}, SECRETS)


def test_the_expectation_table_covers_every_recorded_message_payload() -> None:
    assert set(EXPECTED_DMS) | IGNORED_REACTIONS == set(MESSAGES)


@pytest.mark.parametrize("case", sorted(EXPECTED_DMS))
def test_each_inbound_message_type_becomes_a_dm_from_the_customer(case: str) -> None:
    # Given a recorded Cloud API `messages` delivery
    result = parse(MESSAGES[case])
    # When parsed / Then one DM from the customer's wa_id to our phone number id
    assert result.ignored == ()
    assert len(result.events) == 1
    message = result.events[0]
    assert isinstance(message, InboundMessage)
    text, media_types, parent = EXPECTED_DMS[case]
    raw = MESSAGES[case]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message.platform == "whatsapp"
    assert message.kind is MessageKind.DM
    assert message.account_ref == "1122334455667"
    assert message.platform_message_id == raw["id"]
    assert message.conversation_ref == message.author_id == "972987654321"
    assert message.author_name == "Test Name"
    assert message.text == text
    assert tuple(m.type for m in message.media) == media_types
    assert message.parent_ref == parent
    assert message.created_at == datetime.fromtimestamp(int(raw["timestamp"]), tz=UTC)
    assert message.raw_type == f"whatsapp.{raw['type']}"


def test_media_without_a_url_keeps_the_media_id_to_download_and_with_a_url_keeps_both() -> None:
    image = parse(MESSAGES["image"]).events[0]
    with_url = parse(MESSAGES["media_with_url"]).events[0]
    assert isinstance(image, InboundMessage)
    assert isinstance(with_url, InboundMessage)
    assert (image.media[0].url, image.media[0].platform_media_id) == ("", "65463453")
    assert with_url.media[0].url.startswith("https://lookaside.fbsbx.com/whatsapp_business/attachments/")
    assert with_url.media[0].platform_media_id == "65463453"


def test_a_location_is_kept_as_a_geo_uri() -> None:
    message = parse(MESSAGES["chosen_location"]).events[0]
    assert isinstance(message, InboundMessage)
    assert message.media[0].url == "geo:37.4611978,-122.2164385"


@pytest.mark.parametrize("case", sorted(IGNORED_REACTIONS))
def test_reactions_and_their_removal_are_not_messages(case: str) -> None:
    result = parse(MESSAGES[case])
    assert (result.events, result.ignored) == ((), ("reaction",))


@pytest.mark.parametrize("case", sorted(set(STATUSES) - {"failed"}))
def test_statuses_of_our_own_messages_are_never_inbound(case: str) -> None:
    # Given sent/delivered/read/played statuses (including a group read receipt)
    result = parse(STATUSES[case])
    # Then nothing is ingested
    assert (result.events, result.ignored) == ((), ("status",))


def test_a_failed_status_of_our_message_is_a_delivery_failure_with_whatsapps_reason() -> None:
    # Given the documented failed status (pywa's fixture: 130472, with its title and details)
    result = parse(STATUSES["failed"])
    # Then it is no inbound message but the failure of the message we sent, with the reason
    assert result.events == (
        DeliveryFailed(
            platform="whatsapp", account_ref="1122334455667", platform_message_id="wamid.xyzxyz",
            reason="WhatsApp did not deliver the message: User's number is part of an experiment (130472): "
            "Failed to send message because this user's phone number is part of an experiment",
        ),
    )  # fmt: skip
    assert result.ignored == ()


def test_131047_after_an_accepted_send_says_a_template_is_needed() -> None:
    # Given a failed status carrying the re-engagement error (pywa's error object)
    failed = json.loads(json.dumps(STATUSES["failed"]))
    status = failed["entry"][0]["changes"][0]["value"]["statuses"][0]
    status["errors"] = [fixture_json("platform_api/replies/whatsapp/error_131047_reengagement_pywa.json")]
    (event,) = parse(failed).events
    assert isinstance(event, DeliveryFailed)
    assert "Re-engagement message (131047)" in event.reason
    assert event.reason.endswith("the 24-hour customer-service window had closed: send an approved template")


def test_a_whatsapp_delivery_is_verified_with_the_meta_signature_scheme() -> None:
    body = json.dumps(MESSAGES["text"]).encode()
    signature = "sha256=" + hmac.new(b"wa-secret", body, hashlib.sha256).hexdigest()
    META.verify(WebhookRequest("POST", "meta", {}, {"x-hub-signature-256": signature}, body), SECRETS)


def test_other_whatsapp_fields_are_ignored_and_a_message_without_sender_is_malformed() -> None:
    template = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "message_template_status_update", "value": {}}]}],
    }
    assert parse(template).ignored == ("whatsapp.message_template_status_update",)
    broken = json.loads(json.dumps(MESSAGES["text"]))
    del broken["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    with pytest.raises(MalformedWebhook, match=r"messages\[0\]\.from"):
        parse(broken)


def test_a_sent_status_echoing_a_replys_reference_confirms_it() -> None:
    # Given the documented status with a tracker, carrying the reference Chorus gave a reply
    tracked = json.loads(json.dumps(STATUSES["with_tracker"]))
    status = tracked["entry"][0]["changes"][0]["value"]["statuses"][0]
    status["biz_opaque_callback_data"] = "chorus-reply:rp_1:key-1"
    # Then it is the confirmation of that message (another app's tracker, "some data", stays ignored)
    assert parse(tracked).events == (
        DeliveryConfirmed("whatsapp", "1122334455667", "wamid.xyzxyz", "chorus-reply:rp_1:key-1"),
    )
