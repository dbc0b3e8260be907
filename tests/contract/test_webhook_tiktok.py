"""Contract: TikTok webhooks (TikTok-Signature with replay window, authorization.removed).

TikTok publishes no signature vector; expected signatures are computed here with ``hmac`` directly,
following the documented scheme in ``signature_scheme.json``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from chorus.inbox.normalized import Revocation
from chorus.platforms.tiktok.webhook import TikTokWebhook, parse_event, parse_signature_header
from chorus.platforms.webhooks import (
    WEBHOOKS,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
    WebhookSecrets,
)
from tests.support import fixture_bytes, fixture_json

SECRETS = WebhookSecrets(tiktok_client_secret="tt-secret")
BODY = fixture_bytes("webhooks/tiktok/webhook_authorization_removed.json")
SENT_AT = 1615338615


def request(body: bytes, t: int = SENT_AT, secret: str = "tt-secret") -> WebhookRequest:
    s = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return WebhookRequest("POST", "tiktok", {}, {"tiktok-signature": f"t={t},s={s}"}, body)


def at(seconds: float) -> TikTokWebhook:
    return TikTokWebhook(now=lambda: datetime.fromtimestamp(seconds, tz=UTC))


def test_the_registered_spec_is_a_tiktok_webhook_with_a_five_minute_window() -> None:
    spec = WEBHOOKS["tiktok"]
    assert isinstance(spec, TikTokWebhook)
    assert spec.tolerance == timedelta(minutes=5)


def test_a_fresh_correctly_signed_delivery_verifies() -> None:
    at(SENT_AT + 30).verify(request(BODY), SECRETS)


@pytest.mark.parametrize("skew", [301, -301, 86400])
def test_a_stale_or_future_timestamp_is_refused_as_a_replay(skew: int) -> None:
    with pytest.raises(SignatureError, match="tolerance"):
        at(SENT_AT + skew).verify(request(BODY), SECRETS)


def test_the_tolerance_is_a_parameter() -> None:
    TikTokWebhook(
        tolerance=timedelta(hours=1), now=lambda: datetime.fromtimestamp(SENT_AT + 3000, tz=UTC)
    ).verify(request(BODY), SECRETS)


def test_a_tampered_body_a_wrong_secret_or_a_missing_header_is_refused() -> None:
    spec = at(SENT_AT)
    good = request(BODY)
    with pytest.raises(SignatureError, match="does not match"):
        spec.verify(WebhookRequest("POST", "tiktok", {}, good.headers, BODY.replace(b"1 }", b"2 }")), SECRETS)
    with pytest.raises(SignatureError):
        spec.verify(request(BODY, secret="other"), SECRETS)
    with pytest.raises(SignatureError, match="missing"):
        spec.verify(WebhookRequest("POST", "tiktok", {}, {}, BODY), SECRETS)
    with pytest.raises(SignatureError, match="not configured"):
        spec.verify(good, WebhookSecrets())


def test_the_documented_header_example_parses_into_timestamp_and_signature() -> None:
    scheme = fixture_json("webhooks/tiktok/signature_scheme.json")
    t, s = parse_signature_header(scheme["documented_header_example"])
    assert (t, s) == ("1633174587", "18494715036ac4416a1d0a673871a2edbcfc94d94bd88ccd2c5ec9b3425afe66")
    with pytest.raises(SignatureError):
        parse_signature_header("s=abc")


def test_authorization_removed_is_a_revocation_of_the_user_with_the_reason() -> None:
    result = WEBHOOKS["tiktok"].parse(BODY, {}, SECRETS)
    assert result.events == (
        Revocation(
            "tiktok",
            "act.example12345Example12345Example",
            "authorization.removed: user disconnected the app in TikTok",
        ),
    )


def test_the_content_string_is_parsed_a_second_time() -> None:
    event = parse_event(BODY)
    assert event.content == {"reason": 1}
    assert event.create_time == datetime(2021, 3, 10, 1, 10, 10, tzinfo=UTC)
    assert event.client_key == "bwo2m45353a6k85"


def test_other_events_are_ignored_and_broken_envelopes_are_malformed() -> None:
    doc = json.loads(BODY)
    doc.update(event="post.publish.complete", content='{"publish_id": "v_pub_1"}')
    assert WEBHOOKS["tiktok"].parse(json.dumps(doc).encode(), {}, SECRETS).ignored == (
        "event:post.publish.complete",
    )
    with pytest.raises(MalformedWebhook, match="content"):
        parse_event(json.dumps({**doc, "content": "{not json"}).encode())
    with pytest.raises(MalformedWebhook, match="user_openid"):
        parse_event(json.dumps({**doc, "user_openid": None}).encode())


def test_tiktok_has_no_get_handshake() -> None:
    assert WEBHOOKS["tiktok"].handshake(WebhookRequest("GET", "tiktok", {}, {}, b""), SECRETS) is None
