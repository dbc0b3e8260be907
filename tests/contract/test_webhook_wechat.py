"""Contract: WeChat Official Account callback (signatures, safe-mode AES, XML messages) against
wechatpy's tests and Tencent's WXBizMsgCrypt samples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.platforms.webhooks import (
    WEBHOOKS,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
    WebhookSecrets,
)
from chorus.platforms.wechat.crypto import WeChatCrypto, WeChatCryptoError, check_signature, sha1_signature
from chorus.platforms.wechat.webhook import WeChatWebhook, parse_message, parse_xml
from tests.support import fixture_json

WECHAT = WEBHOOKS["wechat"]


def at(v: dict[str, Any]) -> WeChatWebhook:
    """The spec with its clock at the vector's timestamp (the vectors were signed years ago)."""
    return WeChatWebhook(now=lambda: datetime.fromtimestamp(int(v["timestamp"]), tz=UTC))


VECTORS: list[dict[str, Any]] = fixture_json("webhooks/wechat/crypto_and_signature_vectors.json")["vectors"]
MESSAGES: list[dict[str, Any]] = fixture_json("webhooks/wechat/messages_and_events.json")


def by_id(name: str) -> dict[str, Any]:
    return next(v for v in VECTORS if v["id"] == name)


def secrets_for(v: dict[str, Any]) -> WebhookSecrets:
    return WebhookSecrets(
        wechat_token=v["token"],
        wechat_encoding_aes_key=v.get("encoding_aes_key"),
        wechat_app_id=v.get("receive_id"),
    )


def crypto_for(v: dict[str, Any]) -> WeChatCrypto:
    return WeChatCrypto(v["token"], v["encoding_aes_key"], v["receive_id"])


# --- every vector ----------------------------------------------------------------------------------


@pytest.mark.parametrize("v", [v for v in VECTORS if "signature" in v], ids=lambda v: v["id"])
def test_plain_signature_vectors_behave_as_listed(v: dict[str, Any]) -> None:
    assert check_signature(v["token"], v["timestamp"], v["nonce"], v["signature"]) is v["expected_valid"]


@pytest.mark.parametrize("v", [v for v in VECTORS if "signature" in v], ids=lambda v: v["id"])
def test_the_url_check_echoes_echostr_only_for_a_valid_signature(v: dict[str, Any]) -> None:
    query = {"signature": v["signature"], "timestamp": v["timestamp"], "nonce": v["nonce"], "echostr": "8127"}
    response = WECHAT.handshake(
        WebhookRequest("GET", "wechat", query, {}, b""), WebhookSecrets(wechat_token=v["token"])
    )
    assert response is not None
    if v["expected_valid"]:
        assert (response.status, response.body) == (200, b"8127")
    else:
        assert response.status == 403


@pytest.mark.parametrize("v", [v for v in VECTORS if "echostr" in v], ids=lambda v: v["id"])
def test_encrypted_echostr_vectors_behave_as_listed(v: dict[str, Any]) -> None:
    # Given a msg_signature-signed, AES-encrypted echostr (WeCom-style URL check)
    query = {
        "msg_signature": v["msg_signature"],
        "timestamp": v["timestamp"],
        "nonce": v["nonce"],
        "echostr": v["echostr"],
    }
    # When the handshake runs
    response = WECHAT.handshake(WebhookRequest("GET", "wechat", query, {}, b""), secrets_for(v))
    # Then the decrypted echostr is returned for the valid vector, 403 for the bad nonce
    assert response is not None
    if v["expected_valid"]:
        assert (response.status, response.body) == (200, v["decrypted_echostr_derived"].encode())
    else:
        assert response.status == 403


@pytest.mark.parametrize("v", [v for v in VECTORS if "post_body" in v], ids=lambda v: v["id"])
def test_safe_mode_posts_verify_and_decrypt_to_the_expected_plaintext(v: dict[str, Any]) -> None:
    # Given a safe-mode POST (msg_signature in the query, Encrypt in the body)
    body = v["post_body"].encode()
    query = {
        "msg_signature": v["msg_signature"],
        "timestamp": v["timestamp"],
        "nonce": v["nonce"],
        "encrypt_type": "aes",
    }
    # When verified and decrypted
    at(v).verify(WebhookRequest("POST", "wechat", query, {}, body), secrets_for(v))
    plaintext = crypto_for(v).decrypt(parse_xml(body)["Encrypt"])
    # Then the plaintext is exactly the expected XML
    assert plaintext.decode() == v["expected_plaintext_derived"]


@pytest.mark.parametrize("v", [v for v in VECTORS if "post_body" in v], ids=lambda v: v["id"])
def test_a_safe_mode_post_with_a_wrong_nonce_is_refused(v: dict[str, Any]) -> None:
    query = {"msg_signature": v["msg_signature"], "timestamp": v["timestamp"], "nonce": v["nonce"] + "1"}
    with pytest.raises(SignatureError, match="msg_signature"):
        WECHAT.verify(WebhookRequest("POST", "wechat", query, {}, v["post_body"].encode()), secrets_for(v))


@pytest.mark.parametrize("v", [v for v in VECTORS if "expected_encrypt" in v], ids=lambda v: v["id"])
def test_encryption_with_a_fixed_random_matches_the_official_ciphertext(v: dict[str, Any]) -> None:
    crypto = crypto_for(v)
    encrypt = crypto.encrypt(v["plaintext"].encode(), v["random16"].encode())
    assert encrypt == v["expected_encrypt"]
    assert crypto.decrypt(encrypt).decode() == v["plaintext"]  # and it round-trips


def test_a_safe_mode_reply_envelope_matches_wechatpy_byte_for_byte() -> None:
    v = by_id("wechatpy_work_encrypt_fixed_random")
    reply = crypto_for(v).encrypt_reply(v["plaintext"], v["nonce"], v["timestamp"], v["random16"].encode())
    assert reply == v["expected_reply_xml"]
    assert (
        sha1_signature(v["token"], v["timestamp"], v["nonce"], v["expected_encrypt"])
        == v["expected_msg_signature"]
    )


# --- negatives beyond the vectors ------------------------------------------------------------------


def test_a_message_encrypted_for_another_app_id_is_refused() -> None:
    v = by_id("official_csharp_sample_decrypt")
    other = WeChatCrypto(v["token"], v["encoding_aes_key"], "wx0000000000000000")
    with pytest.raises(WeChatCryptoError, match="another app id"):
        other.decrypt(parse_xml(v["post_body"])["Encrypt"])


def test_garbage_ciphertext_is_refused_not_crashing() -> None:
    v = by_id("official_csharp_sample_decrypt")
    crypto = crypto_for(v)
    for bad in ("not base64!!", "AAAA", "QUJDREVGR0hJSktMTU5PUA=="):
        with pytest.raises(WeChatCryptoError):
            crypto.decrypt(bad)


def test_plain_mode_posts_are_refused_once_safe_mode_is_configured() -> None:
    v = by_id("wechatpy_check_signature_ok")
    query = {"signature": v["signature"], "timestamp": v["timestamp"], "nonce": v["nonce"]}
    body = MESSAGES[0]["xml"].encode()
    at(v).verify(WebhookRequest("POST", "wechat", query, {}, body), WebhookSecrets(wechat_token="test"))
    safe = WebhookSecrets(wechat_token="test", wechat_encoding_aes_key="k" * 43, wechat_app_id="wx")
    with pytest.raises(SignatureError, match="safe mode"):
        at(v).verify(WebhookRequest("POST", "wechat", query, {}, body), safe)
    with pytest.raises(SignatureError):
        at(v).verify(
            WebhookRequest("POST", "wechat", {**query, "signature": "0" * 40}, {}, body),
            WebhookSecrets(wechat_token="test"),
        )


def test_xml_with_a_doctype_or_entity_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>'
    with pytest.raises(MalformedWebhook, match="DOCTYPE"):
        WECHAT.parse(bomb, {}, WebhookSecrets())
    with pytest.raises(MalformedWebhook, match="not well-formed"):
        WECHAT.parse(b"<xml><unclosed></xml>", {}, WebhookSecrets())


def test_the_receiver_acknowledges_with_success() -> None:
    assert WECHAT.ack(WebhookRequest("POST", "wechat", {}, {}, b"")).body == b"success"


# --- message parsing -------------------------------------------------------------------------------

EXPECTED: dict[str, tuple[str, tuple[str, ...]] | str] = {
    "test_parse_text_message": ("this is a test", ()),
    "test_parse_image_message": ("", ("image",)),
    "test_parse_voice_message": ("", ("audio",)),
    "test_parse_video_message": ("", ("video",)),
    "test_parse_location_message": ("位置信息", ("location",)),
    "test_parse_link_message": ("公众平台官网链接\n公众平台官网链接\nurl", ()),
    "test_parse_subscribe_event": "event:subscribe",
    "test_parse_subscribe_event_with_last_trade_no": "event:subscribe",
    "test_parse_subscribe_scan_event": "event:subscribe_scan",
    "test_parse_scan_event": "event:scan",
    "test_parse_location_event": "event:location",
    "test_parse_click_event": "event:click",
    "test_parse_view_event": "event:view",
    "test_parse_unknown_message": "unsupported:notsure",
}


def test_the_expectation_table_covers_every_sample() -> None:
    assert {m["test"] for m in MESSAGES} == set(EXPECTED)


@pytest.mark.parametrize("sample", MESSAGES, ids=lambda m: m["test"])
def test_each_sample_is_a_dm_or_rightly_ignored(sample: dict[str, Any]) -> None:
    # Given a plaintext callback body
    result = WECHAT.parse(sample["xml"].encode(), {}, WebhookSecrets())
    expected = EXPECTED[sample["test"]]
    if isinstance(expected, str):
        # Then events and unknown types are ignored with a reason, never crash
        assert (result.events, result.ignored) == ((), (expected,))
        return
    # Then messages are DMs from the follower's OpenID to our account
    (message,) = result.events
    assert isinstance(message, InboundMessage)
    assert message.kind is MessageKind.DM
    assert message.platform_message_id == "1234567890123456"
    assert message.account_ref == "toUser"
    assert message.conversation_ref == message.author_id == "fromUser"
    assert (message.text, tuple(m.type for m in message.media)) == expected
    assert message.raw_type == f"wechat.{sample['wechatpy_asserts'][0]['expected']}"


def test_an_image_keeps_its_url_and_media_id_and_the_time_is_utc() -> None:
    sample = next(m for m in MESSAGES if m["test"] == "test_parse_image_message")
    (message,) = WECHAT.parse(sample["xml"].encode(), {}, WebhookSecrets()).events
    assert isinstance(message, InboundMessage)
    assert (message.media[0].url, message.media[0].platform_media_id) == ("this is a url", "media_id")
    assert message.created_at == datetime(2012, 9, 28, 11, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    "v",
    [
        "wechatpy_work_decrypt",
        "official_mp_python_sample_decrypt",
        "official_mp_cpp_sample_decrypt",
        "official_csharp_sample_decrypt",
    ],
)
def test_an_encrypted_body_is_decrypted_and_parsed_on_the_ingest_side(v: str) -> None:
    vector = by_id(v)
    result = WECHAT.parse(vector["post_body"].encode(), {}, secrets_for(vector))
    (message,) = result.events
    assert isinstance(message, InboundMessage)
    inner = parse_xml(vector["expected_plaintext_derived"])
    assert (message.text, message.author_id, message.platform_message_id) == (
        inner["Content"],
        inner["FromUserName"],
        inner["MsgId"],
    )


def test_a_message_without_its_msgid_or_type_is_malformed() -> None:
    with pytest.raises(MalformedWebhook, match="MsgId"):
        parse_message({"MsgType": "text", "ToUserName": "a", "FromUserName": "b", "CreateTime": "1"})
    with pytest.raises(MalformedWebhook, match="MsgType"):
        parse_message({"ToUserName": "a"})


def test_a_plain_mode_post_outside_the_timestamp_window_is_refused() -> None:
    # Given a correctly signed plain-mode POST
    v = by_id("wechatpy_check_signature_ok")
    query = {"signature": v["signature"], "timestamp": v["timestamp"], "nonce": v["nonce"]}
    req = WebhookRequest("POST", "wechat", query, {}, MESSAGES[0]["xml"].encode())
    sent = int(v["timestamp"])
    # When it arrives 4 minutes late it is accepted; 6 minutes late (or early) it is refused
    WeChatWebhook(now=lambda: datetime.fromtimestamp(sent + 240, tz=UTC)).verify(
        req, WebhookSecrets(wechat_token="test")
    )
    for skew in (360, -360):
        late = WeChatWebhook(now=lambda skew=skew: datetime.fromtimestamp(sent + skew, tz=UTC))
        with pytest.raises(SignatureError, match="timestamp: outside"):
            late.verify(req, WebhookSecrets(wechat_token="test"))
    # and the replay key is the signed timestamp and nonce
    assert WECHAT.replay_key(req) == f"{v['timestamp']}:{v['nonce']}"


# --- passive replies (被动回复): a rule's answer in the callback's own response --------------------


def text_message(v: dict[str, Any]) -> InboundMessage:
    fields = parse_xml(
        "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]>"
        "</FromUserName><CreateTime>1411525903</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[营业时间?]]></Content><MsgId>6054768590064713728</MsgId></xml>"
    )
    (message,) = parse_message(fields).events
    assert isinstance(message, InboundMessage)
    return message


def test_a_passive_reply_in_plain_mode_is_the_text_reply_xml_to_the_sender() -> None:
    v = by_id("wechatpy_work_encrypt_fixed_random")
    req = WebhookRequest(
        "POST", "wechat", {"signature": "s", "timestamp": v["timestamp"], "nonce": v["nonce"]}, {}, b""
    )
    answer = at(v).passive_reply(req, text_message(v), "每天 9:00-21:00 营业 ]]> 欢迎", WebhookSecrets())
    assert (answer.status, answer.content_type) == (200, "application/xml")
    reply = parse_xml(answer.body)
    assert reply == {
        "ToUserName": "oV5CrjpxgaGXNHIQigzNlgLTnwic", "FromUserName": "gh_4d00ed8d6399",
        "CreateTime": v["timestamp"], "MsgType": "text", "Content": "每天 9:00-21:00 营业 ]]> 欢迎",
    }  # fmt: skip


def test_a_passive_reply_in_safe_mode_is_encrypted_and_signed_for_the_request_nonce() -> None:
    v = by_id("wechatpy_work_encrypt_fixed_random")
    query = {"msg_signature": "m", "timestamp": v["timestamp"], "nonce": v["nonce"], "encrypt_type": "aes"}
    req = WebhookRequest("POST", "wechat", query, {}, b"")
    answer = at(v).passive_reply(req, text_message(v), "欢迎光临", secrets_for(v))
    envelope = parse_xml(answer.body)
    assert set(envelope) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    assert envelope["Nonce"] == v["nonce"]
    assert envelope["MsgSignature"] == sha1_signature(
        v["token"], envelope["TimeStamp"], v["nonce"], envelope["Encrypt"]
    )
    inner = parse_xml(crypto_for(v).decrypt(envelope["Encrypt"]))
    assert (inner["ToUserName"], inner["MsgType"], inner["Content"]) == (
        "oV5CrjpxgaGXNHIQigzNlgLTnwic",
        "text",
        "欢迎光临",
    )
