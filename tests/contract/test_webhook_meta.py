"""Contract: Meta webhooks (Pages, Messenger, Instagram) against the documented payloads and vectors.

WhatsApp and Threads, which share the endpoint, have their own test modules.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.inbox.normalized import Deletion, InboundMedia, InboundMessage, MessageKind, ParseResult
from chorus.platforms.meta.signature import check_signature
from chorus.platforms.webhooks import (
    WEBHOOKS,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
    WebhookSecrets,
)
from tests.support import fixture_bytes, fixture_json

META = WEBHOOKS["meta"]
SECRETS = WebhookSecrets(meta_app_secret="heldout-meta-app-secret", meta_verify_token="meatyhamhock")
VECTORS: list[dict[str, Any]] = fixture_json("webhooks/meta/signature_vectors.json")


def post(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    return WebhookRequest("POST", "meta", {}, headers, body)


def parse_file(name: str) -> ParseResult:
    return META.parse(fixture_bytes(f"webhooks/meta/{name}"), {}, SECRETS)


def only_message(result: ParseResult) -> InboundMessage:
    assert result.ignored == ()
    assert len(result.events) == 1
    message = result.events[0]
    assert isinstance(message, InboundMessage)
    return message


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- signature -------------------------------------------------------------------------------------


def vector_body(vector: dict[str, Any]) -> bytes:
    if "body_file" in vector:
        body = fixture_bytes(f"webhooks/meta/{vector['body_file']}")
        assert hashlib.sha256(body).hexdigest() == vector["body_sha256"]
        return body
    return str(vector["body_utf8"]).encode("utf-8")


@pytest.mark.parametrize("vector", [v for v in VECTORS if "expected_header" in v], ids=lambda v: v["id"])
def test_every_positive_signature_vector_verifies(vector: dict[str, Any]) -> None:
    # Given a published or derived vector: secret, exact body bytes, expected header
    secrets = WebhookSecrets(meta_app_secret=vector["secret"])
    # When the receiver verifies the request / Then nothing is raised
    META.verify(post(vector_body(vector), vector["expected_header"]), secrets)


@pytest.mark.parametrize("vector", [v for v in VECTORS if "header_sent" in v], ids=lambda v: v["id"])
def test_every_negative_signature_vector_is_refused(vector: dict[str, Any]) -> None:
    # Given a tampered body or a legacy sha1= value in the -256 header
    secrets = WebhookSecrets(meta_app_secret=vector["secret"])
    # When verified / Then it is refused as a forgery
    with pytest.raises(SignatureError):
        META.verify(post(vector_body(vector), vector["header_sent"]), secrets)


@pytest.mark.parametrize("vector", [v for v in VECTORS if "body_file" in v], ids=lambda v: v["id"])
def test_a_payload_file_with_one_byte_changed_is_refused(vector: dict[str, Any]) -> None:
    # Given the exact payload bytes with one byte altered, sent with the original signature
    body = bytearray(vector_body(vector))
    body[len(body) // 2] ^= 0x01
    # When verified / Then refused
    with pytest.raises(SignatureError, match="does not match"):
        META.verify(post(bytes(body), vector["expected_header"]), SECRETS)


def test_a_request_without_the_signature_header_is_refused() -> None:
    with pytest.raises(SignatureError, match="missing"):
        META.verify(post(b"{}", None), SECRETS)


def test_the_legacy_sha1_header_alone_is_refused_even_when_correct() -> None:
    # Given only X-Hub-Signature: sha1=<correct HMAC-SHA1>
    body = b'{"object":"page","entry":[]}'
    sha1 = "sha1=" + hmac.new(b"heldout-meta-app-secret", body, hashlib.sha1).hexdigest()
    request = WebhookRequest("POST", "meta", {}, {"x-hub-signature": sha1}, body)
    # When verified / Then refused: only the -256 header counts
    with pytest.raises(SignatureError):
        META.verify(request, SECRETS)


def test_without_a_configured_app_secret_every_post_is_refused() -> None:
    body = b"{}"
    signature = "sha256=" + hmac.new(b"", body, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureError, match="not configured"):
        META.verify(post(body, signature), WebhookSecrets())


def test_a_threads_delivery_signed_with_the_threads_app_secret_verifies() -> None:
    # Given a body signed with the Threads app secret (Threads apps have their own secret)
    body = fixture_bytes("webhooks/threads/replies_webhook.json")
    signature = "sha256=" + hmac.new(b"threads-secret", body, hashlib.sha256).hexdigest()
    secrets = WebhookSecrets(meta_app_secret="other", threads_app_secret="threads-secret")
    # When verified / Then accepted; and refused when only the page app secret is configured
    META.verify(post(body, signature), secrets)
    with pytest.raises(SignatureError):
        META.verify(post(body, signature), WebhookSecrets(meta_app_secret="other"))


def test_check_signature_accepts_an_upper_case_hex_digest() -> None:
    body = b"Hello, World!"
    digest = hmac.new(b"It's a Secret to Everybody", body, hashlib.sha256).hexdigest().upper()
    check_signature(body, "sha256=" + digest, ["It's a Secret to Everybody"])


# --- GET verification ------------------------------------------------------------------------------


def test_the_documented_verification_request_is_answered_with_the_challenge() -> None:
    # Given the documented GET and the configured verify token
    doc = fixture_json("webhooks/meta/verification_request.json")
    request = WebhookRequest("GET", "meta", doc["query"], {}, b"")
    secrets = WebhookSecrets(meta_verify_token=doc["configured_verify_token"])
    # When the handshake runs
    response = META.handshake(request, secrets)
    # Then the challenge is echoed
    assert response is not None
    assert response.status == doc["expected_response"]["status"]
    assert response.body == doc["expected_response"]["body"].encode()


def test_a_verification_request_with_the_wrong_token_is_forbidden() -> None:
    doc = fixture_json("webhooks/meta/verification_request.json")
    request = WebhookRequest("GET", "meta", doc["negative_case"]["query"], {}, b"")
    response = META.handshake(request, WebhookSecrets(meta_verify_token=doc["configured_verify_token"]))
    assert response is not None
    assert response.status == doc["negative_case"]["expected_status"]
    assert b"1158201444" not in response.body


def test_a_verification_request_is_forbidden_when_no_token_is_configured() -> None:
    doc = fixture_json("webhooks/meta/verification_request.json")
    response = META.handshake(WebhookRequest("GET", "meta", doc["query"], {}, b""), WebhookSecrets())
    assert response is not None
    assert response.status >= 400


def test_a_post_is_not_a_handshake_and_is_acknowledged_with_200() -> None:
    request = post(b"{}", None)
    assert META.handshake(request, SECRETS) is None
    assert META.ack(request).status == 200


# --- Facebook Page feed and mentions ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["page_feed_comment_add.json", "page_feed_comment_add_legacy_v2_5.json"], ids=["v2.11+", "v2.5"]
)
def test_a_new_page_comment_becomes_a_comment_on_its_post_in_both_payload_shapes(name: str) -> None:
    # Given a feed comment whose parent is the post (current shape with from{}, legacy with sender_*)
    # When parsed
    message = only_message(parse_file(name))
    # Then it is a COMMENT threaded on the post, authored by "Tester"
    assert message.platform == "facebook"
    assert message.account_ref == "1234567890321"
    assert message.platform_message_id == "901097836652708_903438993085259"
    assert message.kind is MessageKind.COMMENT
    assert message.conversation_ref == message.post_ref == "1234567890321_901097836652708"
    assert message.parent_ref == "1234567890321_901097836652708"
    assert message.text == "and the next one"
    assert (message.author_id, message.author_name) == ("1234567890321", "Tester")
    assert message.created_at == utc(2015, 12, 3, 9, 30, 3)
    assert message.raw_type == "page.feed.comment.add"
    # and, the author being the page itself, it is flagged as ours (the thread needs it, no alert)
    assert message.authored_by_account is True


def test_a_page_comment_with_a_photo_carries_the_image() -> None:
    message = only_message(parse_file("page_feed_comment_add_with_photo.json"))
    assert message.kind is MessageKind.COMMENT
    assert message.text == "and the next one"
    assert len(message.media) == 1
    assert message.media[0].type == "image"
    assert message.media[0].url.startswith("https://scontent-fra3-1.xx.fbcdn.net/v/t31.0-8/16715996_")


def test_a_post_added_by_the_page_itself_is_ignored_not_taken_for_a_comment() -> None:
    result = parse_file("page_feed_post_add.json")
    assert result.events == ()
    assert result.ignored == ("own_post",)


def test_a_reaction_creates_no_inbox_message() -> None:
    result = parse_file("page_feed_reaction_add.json")
    assert result.events == ()
    assert result.ignored == ("reaction",)


def test_a_page_mention_in_a_comment_becomes_a_mention() -> None:
    message = only_message(parse_file("page_mention_comment_add.json"))
    assert message.kind is MessageKind.MENTION
    assert message.platform_message_id == "7363534231324_3754798971271444"
    assert message.conversation_ref == "1234567890321_7363534231324"
    assert message.text == "Just a test message"
    assert message.created_at == utc(2021, 2, 26, 12, 1, 2)
    assert message.author_id == ""  # not in the payload: the ingest worker looks it up


def feed_change(value: dict[str, Any], field: str = "feed") -> bytes:
    body = {
        "object": "page",
        "entry": [{"id": "111", "time": 1700000000, "changes": [{"field": field, "value": value}]}],
    }
    return json.dumps(body).encode()


def test_a_comment_whose_parent_is_another_comment_is_a_reply() -> None:
    # Given a comment on comment 222_9 under post 111_222, written by a visitor
    body = feed_change(
        {
            "item": "comment",
            "verb": "add",
            "comment_id": "222_10",
            "post_id": "111_222",
            "parent_id": "222_9",
            "from": {"id": "999", "name": "Visitor"},
            "created_time": 1700000001,
            "message": "I agree",
        }
    )
    message = only_message(META.parse(body, {}, SECRETS))
    assert message.kind is MessageKind.REPLY
    assert message.parent_ref == "222_9"
    assert message.conversation_ref == "111_222"
    assert message.authored_by_account is False


def test_an_edited_comment_is_an_update_and_a_removed_one_a_deletion() -> None:
    base = {"item": "comment", "comment_id": "222_10", "post_id": "111_222", "message": "edited text"}
    edited = only_message(META.parse(feed_change({**base, "verb": "edited"}), {}, SECRETS))
    assert edited.edited is True
    assert edited.text == "edited text"
    assert edited.created_at == utc(2023, 11, 14, 22, 13, 20)  # falls back to entry.time
    removed = META.parse(feed_change({**base, "verb": "remove"}), {}, SECRETS)
    assert removed.events == (Deletion("facebook", "111", "222_10"),)


def test_a_visitor_post_on_the_page_is_a_mention_and_hiding_a_comment_is_ignored() -> None:
    visitor = {"item": "status", "verb": "add", "post_id": "111_5", "from": {"id": "42"}, "message": "hi"}
    message = only_message(META.parse(feed_change(visitor), {}, SECRETS))
    assert (message.kind, message.author_id, message.text) == (MessageKind.MENTION, "42", "hi")
    hidden = {"item": "comment", "verb": "hide", "comment_id": "1_2", "post_id": "111_1"}
    assert META.parse(feed_change(hidden), {}, SECRETS).ignored == ("comment.hide",)


def test_a_page_rating_with_text_is_a_review() -> None:
    rating = {
        "item": "rating",
        "verb": "add",
        "open_graph_story_id": "777",
        "review_text": "Great service",
        "reviewer_id": "55",
        "reviewer_name": "Ann",
        "created_time": 1700000000,
    }
    message = only_message(META.parse(feed_change(rating, field="ratings"), {}, SECRETS))
    assert (message.kind, message.text, message.author_name) == (MessageKind.REVIEW, "Great service", "Ann")


def test_a_comment_without_its_id_is_malformed_and_the_error_names_the_field() -> None:
    body = feed_change({"item": "comment", "verb": "add", "post_id": "111_1"})
    with pytest.raises(MalformedWebhook, match=r"entry\[0\]\.changes\[0\]\.value\.comment_id"):
        META.parse(body, {}, SECRETS)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[]", "body"),
        (b'{"entry": []}', "object"),
        (b'{"object": "page", "entry": {}}', "entry"),
        (b'{"object": "page", "entry": [{"changes": []}]}', r"entry\[0\]\.id"),
        (b'{"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed"}]}]}', "value"),
    ],
)
def test_structurally_wrong_bodies_are_refused_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(MalformedWebhook, match=field):
        META.parse(body, {}, SECRETS)


# --- Instagram comments and mentions ---------------------------------------------------------------


def test_an_instagram_comment_answering_another_comment_is_a_reply_on_the_media() -> None:
    # Given the 2021 shape: from{id,username}, parent_id (a comment), media{id}
    message = only_message(parse_file("instagram_comments.json"))
    assert message.platform == "instagram"
    assert message.account_ref == "0"
    assert message.platform_message_id == "123456789"
    # parent_id is only present on replies to a comment; media.id is the post
    assert message.kind is MessageKind.REPLY
    assert message.parent_ref == "987654321"
    assert message.conversation_ref == message.post_ref == "76543987"
    assert message.text == "This is an example."
    assert (message.author_id, message.author_handle) == ("1234536447", "testuser")
    assert message.created_at == utc(2018, 2, 23, 15, 21, 47)


def test_a_top_level_instagram_comment_is_a_comment_on_the_media() -> None:
    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": "17841400000000000",
                    "time": 1700000000,
                    "changes": [
                        {
                            "field": "comments",
                            "value": {
                                "id": "1799",
                                "text": "nice",
                                "from": {"id": "55", "username": "fan"},
                                "media": {"id": "1790", "media_product_type": "FEED"},
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    message = only_message(META.parse(body, {}, SECRETS))
    assert (message.kind, message.post_ref, message.parent_ref) == (MessageKind.COMMENT, "1790", "1790")


def test_an_old_shape_instagram_comment_without_author_or_media_does_not_crash() -> None:
    message = only_message(parse_file("instagram_comments_minimal.json"))
    assert message.kind is MessageKind.COMMENT
    assert message.text == "This is an example."
    assert message.author_id == ""
    assert message.post_ref is None
    assert message.conversation_ref == "123456789"


def test_an_instagram_mention_is_a_mention_whose_text_must_be_fetched() -> None:
    message = only_message(parse_file("instagram_mentions.json"))
    assert message.kind is MessageKind.MENTION
    assert message.platform_message_id == "17887498072083520"
    assert message.conversation_ref == "17887498072083520"
    assert message.text == ""
    assert message.raw_type == "instagram.mentions.comment"


# --- Messenger and Instagram messaging -------------------------------------------------------------


def test_a_messenger_text_message_is_a_dm_in_the_senders_conversation() -> None:
    message = only_message(parse_file("messenger_message_text.json"))
    assert message.platform == "facebook"
    assert message.kind is MessageKind.DM
    assert message.platform_message_id == "mid.1457764197618:41d102a3e1ae206a38"
    assert message.account_ref == "12345654332"  # recipient: our page
    assert message.conversation_ref == message.author_id == "987654321432"  # numeric ids become strings
    assert message.text == "hello, world!"
    assert message.created_at == datetime(2016, 3, 12, 6, 29, 57, 627000, tzinfo=UTC)
    assert message.parent_ref is None


def test_a_messenger_reply_points_at_the_message_it_answers() -> None:
    message = only_message(parse_file("messenger_message_reply.json"))
    assert message.parent_ref == "very_long_id_representing_the_original_message"
    assert message.text == "hello, world!"


def test_an_echo_of_our_own_message_is_ignored() -> None:
    result = parse_file("messenger_message_echo.json")
    assert (result.events, result.ignored) == ((), ("echo",))


def test_a_postback_becomes_a_dm_carrying_the_payload_when_no_title_is_sent() -> None:
    message = only_message(parse_file("messenger_postback.json"))
    assert message.kind is MessageKind.DM
    assert message.text == "USER_DEFINED_PAYLOAD"
    assert message.platform_message_id == "postback.987654321432.1458692752478"
    assert message.raw_type == "messenger.postback"


def test_an_instagram_dm_attachment_keeps_its_url_as_other_media() -> None:
    message = only_message(parse_file("instagram_messaging_attachment.json"))
    assert message.platform == "instagram"
    assert message.account_ref == "17841452691600098"
    assert message.conversation_ref == message.author_id == "5614879045272581"
    assert message.text == ""
    assert message.media[0].type == "other"
    assert message.media[0].url.startswith(
        "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17997515821557846"
    )
    assert message.created_at == datetime(2022, 11, 9, 19, 32, 13, 735000, tzinfo=UTC)


def test_an_instagram_read_receipt_is_not_a_message() -> None:
    result = parse_file("instagram_messaging_read.json")
    assert (result.events, result.ignored) == ((), ("read",))


def messaging(event: dict[str, Any], obj: str = "instagram") -> bytes:
    base = {"sender": {"id": "USER"}, "recipient": {"id": "OURS"}, "timestamp": 1700000000000}
    return json.dumps(
        {"object": obj, "entry": [{"id": "OURS", "time": 1, "messaging": [{**base, **event}]}]}
    ).encode()


def test_instagram_text_dms_edits_unsends_and_deliveries_are_told_apart() -> None:
    text = only_message(META.parse(messaging({"message": {"mid": "m1", "text": "hello"}}), {}, SECRETS))
    assert (text.kind, text.text, text.account_ref, text.conversation_ref) == (
        MessageKind.DM,
        "hello",
        "OURS",
        "USER",
    )
    edit = only_message(META.parse(messaging({"message_edit": {"mid": "m1", "text": "hullo"}}), {}, SECRETS))
    assert (edit.platform_message_id, edit.text, edit.edited) == ("m1", "hullo", True)
    unsent = META.parse(messaging({"message": {"mid": "m1", "is_deleted": True}}), {}, SECRETS)
    assert unsent.events == (Deletion("instagram", "OURS", "m1"),)
    delivered = META.parse(messaging({"delivery": {"mids": ["m1"]}}, obj="page"), {}, SECRETS)
    assert delivered.ignored == ("delivery",)


def test_messenger_image_attachments_and_titled_postbacks() -> None:
    image = {
        "message": {"mid": "m2", "attachments": [{"type": "image", "payload": {"url": "https://x/y.jpg"}}]}
    }
    message = only_message(META.parse(messaging(image, obj="page"), {}, SECRETS))
    assert message.media == (InboundMedia(url="https://x/y.jpg", type="image"),)
    postback = {"postback": {"mid": "m3", "title": "Get Started", "payload": "GET_STARTED"}}
    started = only_message(META.parse(messaging(postback, obj="page"), {}, SECRETS))
    assert (started.platform_message_id, started.text) == ("m3", "Get Started")


def test_a_message_without_a_sender_is_malformed() -> None:
    body = json.dumps(
        {
            "object": "page",
            "entry": [{"id": "1", "messaging": [{"recipient": {"id": "1"}, "message": {"mid": "x"}}]}],
        }
    ).encode()
    with pytest.raises(MalformedWebhook, match=r"messaging\[0\]\.sender\.id"):
        META.parse(body, {}, SECRETS)


def test_an_unsubscribed_object_type_is_ignored_not_refused() -> None:
    result = META.parse(b'{"object": "user", "entry": []}', {}, SECRETS)
    assert (result.events, result.ignored) == ((), ("object:user",))
