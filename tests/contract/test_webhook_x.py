"""Contract: X Account Activity API (CRC, signature, event parsing) against documented objects.

X publishes no concrete ``tweet_create_events`` payload (the docs show ``<Tweet Object>``), so those
tests build v1.1 Tweet objects from the documented field list, inside the documented envelope.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.inbox.normalized import Deletion, InboundMessage, MessageKind, Revocation
from chorus.platforms.webhooks import (
    WEBHOOKS,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
    WebhookSecrets,
)
from chorus.platforms.x.webhook import SIGNATURE_HEADER
from tests.support import fixture_bytes, fixture_json

X = WEBHOOKS["x"]
CRC: list[dict[str, Any]] = fixture_json("webhooks/x_twitter/crc_vectors.json")
SECRETS = WebhookSecrets(x_consumer_secret="consumer-secret")
OUR_USER = "2244994945"  # for_user_id of the documented tweet_create_events envelope


@pytest.mark.parametrize("vector", [v for v in CRC if "crc_token" in v], ids=lambda v: v["id"])
def test_the_crc_challenge_is_answered_with_the_expected_response_token(vector: dict[str, Any]) -> None:
    # Given a CRC GET and the consumer secret of the vector
    request = WebhookRequest("GET", "x", {"crc_token": vector["crc_token"]}, {}, b"")
    # When the handshake runs
    response = X.handshake(request, WebhookSecrets(x_consumer_secret=vector["consumer_secret"]))
    # Then the JSON body is exactly the expected response token
    assert response is not None
    assert (response.status, response.content_type) == (200, "application/json")
    assert json.loads(response.body) == vector["expected_response_json"]


def test_the_crc_is_not_answered_without_a_consumer_secret() -> None:
    response = X.handshake(WebhookRequest("GET", "x", {"crc_token": "t"}, {}, b""), WebhookSecrets())
    assert response is not None
    assert response.status >= 400


def signed(body: bytes, secret: str = "consumer-secret") -> WebhookRequest:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return WebhookRequest("POST", "x", {}, {SIGNATURE_HEADER: "sha256=" + digest}, body)


def test_the_post_signature_scheme_is_the_documented_header() -> None:
    scheme = next(v for v in CRC if v["id"] == "post_signature_scheme")
    assert scheme["header"] == SIGNATURE_HEADER


def test_a_correctly_signed_delivery_verifies_and_a_tampered_one_is_refused() -> None:
    body = fixture_bytes("webhooks/x_twitter/aaa_direct_message_events.json")
    X.verify(signed(body), SECRETS)
    request = signed(body)
    tampered = WebhookRequest(
        "POST", "x", {}, request.headers, body.replace(b"Hello World!", b"Hello World?")
    )
    with pytest.raises(SignatureError):
        X.verify(tampered, SECRETS)
    with pytest.raises(SignatureError):
        X.verify(signed(body, secret="wrong"), SECRETS)
    with pytest.raises(SignatureError, match="missing"):
        X.verify(WebhookRequest("POST", "x", {}, {}, body), SECRETS)


def test_an_inbound_dm_is_a_dm_from_the_sender_with_the_users_profile() -> None:
    result = X.parse(fixture_bytes("webhooks/x_twitter/aaa_direct_message_events.json"), {}, SECRETS)
    assert result.ignored == ()
    (message,) = result.events
    assert isinstance(message, InboundMessage)
    assert message.platform == "x"
    assert message.kind is MessageKind.DM
    assert message.account_ref == "4337869213"
    assert message.platform_message_id == "954491830116155396"
    assert message.conversation_ref == message.author_id == "3001969357"
    assert message.text == "Hello World!"
    assert (message.author_name, message.author_handle) == ("Jordan Brinks", "furiouscamper")
    assert message.created_at == datetime(2018, 1, 19, 23, 12, 40, 557000, tzinfo=UTC)


def test_our_own_dm_echo_is_ignored() -> None:
    doc = fixture_json("webhooks/x_twitter/aaa_direct_message_events.json")
    doc["direct_message_events"][0]["message_create"]["sender_id"] = doc["for_user_id"]
    result = X.parse(json.dumps(doc).encode(), {}, SECRETS)
    assert (result.events, result.ignored) == ((), ("echo",))


def test_typing_indicators_are_ignored() -> None:
    result = X.parse(
        fixture_bytes("webhooks/x_twitter/aaa_direct_message_indicate_typing_events.json"), {}, SECRETS
    )
    assert (result.events, result.ignored) == ((), ("typing",))


def test_a_tweet_delete_event_is_a_deletion() -> None:
    result = X.parse(fixture_bytes("webhooks/x_twitter/aaa_tweet_delete_events.json"), {}, SECRETS)
    assert result.events == (Deletion("x", "930524282358325248", "1045405559317569537"),)


def test_a_revoke_user_event_is_a_revocation_of_the_source_user() -> None:
    result = X.parse(fixture_bytes("webhooks/x_twitter/aaa_user_event_revoke.json"), {}, SECRETS)
    assert result.events == (Revocation("x", "63046977", "user_event.revoke"),)


def tweet(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "id": 1050118621198921728,
        "id_str": "1050118621198921728",
        "text": "@TwitterDev thanks!",
        "user": {"id": 6253282, "id_str": "6253282", "name": "Twitter API", "screen_name": "TwitterAPI"},
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id_str": None,
        "entities": {"hashtags": [], "urls": [], "user_mentions": [{"id_str": OUR_USER}]},
        "timestamp_ms": "1539202764000",
    }
    base.update(overrides)
    return base


def envelope(*tweets: dict[str, Any], blocked: str = "false") -> bytes:
    return json.dumps(
        {"for_user_id": OUR_USER, "user_has_blocked": blocked, "tweet_create_events": list(tweets)}
    ).encode()


def test_a_reply_to_our_tweet_is_a_reply_and_a_plain_mention_is_a_mention() -> None:
    reply = tweet(in_reply_to_status_id_str="1049000000000000000", in_reply_to_user_id_str=OUR_USER)
    mention = tweet(id_str="1050118621198921729")
    result = X.parse(envelope(reply, mention), {}, SECRETS)
    first, second = result.events
    assert isinstance(first, InboundMessage)
    assert isinstance(second, InboundMessage)
    assert (first.kind, first.parent_ref, first.post_ref) == (
        MessageKind.REPLY,
        "1049000000000000000",
        "1049000000000000000",
    )
    assert first.conversation_ref == "1049000000000000000"
    assert (first.author_id, first.author_handle, first.text) == (
        "6253282",
        "TwitterAPI",
        "@TwitterDev thanks!",
    )
    assert first.created_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    assert (second.kind, second.conversation_ref, second.parent_ref) == (
        MessageKind.MENTION,
        "1050118621198921729",
        None,
    )


def test_our_own_tweets_retweets_and_tweets_from_blocked_users_are_ignored() -> None:
    own = tweet(user={"id_str": OUR_USER, "name": "Us", "screen_name": "us"})
    retweet = tweet(retweeted_status={"id_str": "1"})
    assert X.parse(envelope(own, retweet), {}, SECRETS).ignored == ("own_tweet", "retweet")
    assert X.parse(envelope(tweet(), blocked="true"), {}, SECRETS).ignored == ("blocked_user",)


def test_a_quote_of_our_tweet_is_a_mention_linked_to_our_post_and_full_text_is_preferred() -> None:
    quote = tweet(
        quoted_status_id_str="1040000000000000000",
        quoted_status={"id_str": "1040000000000000000", "user": {"id_str": OUR_USER}},
        extended_tweet={"full_text": "a long quote " * 30},
        timestamp_ms=None,
    )
    (message,) = X.parse(envelope(quote), {}, SECRETS).events
    assert isinstance(message, InboundMessage)
    assert (message.kind, message.post_ref, message.raw_type) == (
        MessageKind.MENTION,
        "1040000000000000000",
        "x.tweet.quote",
    )
    assert message.text == "a long quote " * 30
    assert message.created_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)  # from created_at


def test_tweet_events_without_for_user_id_or_user_are_malformed() -> None:
    with pytest.raises(MalformedWebhook, match="for_user_id"):
        X.parse(json.dumps({"tweet_create_events": [tweet()]}).encode(), {}, SECRETS)
    with pytest.raises(MalformedWebhook, match=r"tweet_create_events\[0\]\.user"):
        X.parse(envelope(tweet(user=None)), {}, SECRETS)


def test_the_documented_envelope_keys_are_the_ones_the_parser_reads() -> None:
    template = fixture_bytes("webhooks/x_twitter/aaa_tweet_create_events_templates.txt").decode()
    for key in ('"for_user_id"', '"user_has_blocked": "false"', '"tweet_create_events"'):
        assert key in template
