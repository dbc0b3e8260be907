"""WeChat Official Account callback: URL check, plain and safe (AES) mode, XML message parsing.

Receiver side
* ``GET ?signature&timestamp&nonce&echostr``: answer ``echostr`` when the signature matches. A
  ``msg_signature`` with an encrypted ``echostr`` (WeCom style) is checked and decrypted.
* ``POST`` plain mode: ``signature`` in the query (it covers token, timestamp and nonce only, not the
  body -- WeChat's design; prefer safe mode). Safe mode: ``msg_signature`` over the ``Encrypt``
  element. When an EncodingAESKey is configured, plain-mode POSTs are refused, so a replayed
  ``signature`` cannot smuggle in a forged plaintext body.
* Both modes sign the ``timestamp``: a request further than ``tolerance`` (5 minutes) from now is
  refused, and :meth:`WeChatWebhook.replay_key` (timestamp + nonce) lets the receiver refuse a
  request seen before inside that window -- plain mode's ``signature`` does not cover the body, so
  without this a captured query string would carry any body for ever.
* ``ack`` answers ``success`` (WeChat retries three times otherwise).
* ``passive_reply`` answers a message in the callback's own response instead (WeChat's 被动回复, within
  its 5-second limit): the text reply XML to the person, encrypted and signed in safe mode. The receiver
  uses it where an inbox rule answers automatically (:mod:`chorus.inbox.passive`).

Ingest side: safe-mode bodies are decrypted (AppID checked) and the inner XML parsed. Messages
(text, image, voice, video, shortvideo, location, link) become DMs. Events (subscribe, SCAN,
LOCATION, CLICK, VIEW, ...) are ignored with the reason ``event:<name>``: none of them is something a
person wrote to answer, and a follow is counted by metrics, not shown in the inbox. Unknown message
types are ignored as ``unsupported:<type>``.

XML is parsed with the standard library's ``xml.etree.ElementTree`` after refusing any DOCTYPE or
ENTITY declaration (no external entities, no entity expansion bombs); defusedxml is not needed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chorus.inbox.normalized import InboundMedia, InboundMessage, MessageKind, ParseResult
from chorus.platforms.webhooks import (
    FORBIDDEN,
    NOT_CONFIGURED,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
    WebhookSecrets,
    check_window,
    from_epoch,
    require_secret,
)
from chorus.platforms.wechat.crypto import WeChatCrypto, WeChatCryptoError, check_signature

PLATFORM = "wechat"
SUCCESS = WebhookResponse(200, b"success")
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})


def parse_xml(body: bytes | str, field: str = "body") -> dict[str, str]:
    """The root element's children as ``{tag: text}``; refuses DTDs and entity declarations."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if _DECLARATION.search(raw):
        raise MalformedWebhook(f"{field}: DOCTYPE/ENTITY declarations are refused")
    try:
        root = ET.fromstring(raw)  # noqa: S314 -- DTDs refused above, so no entity can be declared
    except ET.ParseError as exc:
        raise MalformedWebhook(f"{field}: not well-formed XML ({exc})") from exc
    return {child.tag: (child.text or "").strip() for child in root}


def _cdata(text: str) -> str:
    """``text`` as CDATA (a ``]]>`` inside it split across two sections)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _crypto(secrets: WebhookSecrets) -> WeChatCrypto:
    token = require_secret(secrets.wechat_token, "wechat_token")
    key = require_secret(secrets.wechat_encoding_aes_key, "wechat_encoding_aes_key")
    app_id = require_secret(secrets.wechat_app_id, "wechat_app_id")
    try:
        return WeChatCrypto(token, key, app_id)
    except ValueError as exc:
        raise SignatureError(str(exc)) from exc


def _encrypted_echo(
    msg_signature: str, timestamp: str, nonce: str, echostr: str, secrets: WebhookSecrets
) -> WebhookResponse:
    """WeCom-style URL check: the echostr is encrypted and signed with ``msg_signature``."""
    try:
        crypto = _crypto(secrets)
    except SignatureError:
        return NOT_CONFIGURED
    if not crypto.check_msg_signature(msg_signature, timestamp, nonce, echostr):
        return FORBIDDEN
    try:
        return WebhookResponse(200, crypto.decrypt(echostr))
    except WeChatCryptoError:
        return FORBIDDEN


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WeChatWebhook:
    tolerance: timedelta = timedelta(minutes=5)
    now: Callable[[], datetime] = field(default=_now)
    platform: str = "wechat"

    def handshake(self, req: WebhookRequest, secrets: WebhookSecrets) -> WebhookResponse | None:
        if req.method.upper() != "GET" or "echostr" not in req.query:
            return None
        if not secrets.wechat_token:
            return NOT_CONFIGURED
        q = req.query
        timestamp, nonce, echostr = q.get("timestamp", ""), q.get("nonce", ""), q["echostr"]
        if "msg_signature" in q:
            return _encrypted_echo(q["msg_signature"], timestamp, nonce, echostr, secrets)
        if not check_signature(secrets.wechat_token, timestamp, nonce, q.get("signature", "")):
            return FORBIDDEN
        return WebhookResponse(200, echostr.encode("utf-8"))

    def verify(self, req: WebhookRequest, secrets: WebhookSecrets) -> None:
        token = require_secret(secrets.wechat_token, "wechat_token")
        q = req.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        if "msg_signature" in q:
            encrypt = parse_xml(req.body).get("Encrypt")
            if not encrypt:
                raise MalformedWebhook("Encrypt: missing from a safe-mode body")
            if not _crypto(secrets).check_msg_signature(q["msg_signature"], timestamp, nonce, encrypt):
                raise SignatureError("msg_signature: does not match")
        elif secrets.wechat_encoding_aes_key:
            raise SignatureError("msg_signature: missing (safe mode is configured; plain mode refused)")
        elif not check_signature(token, timestamp, nonce, q.get("signature", "")):
            raise SignatureError("signature: missing or does not match")
        if not nonce or len(nonce) > 64:
            raise SignatureError("nonce: missing or longer than 64 characters")
        check_window(timestamp, self.now(), self.tolerance, "timestamp")

    def replay_key(self, req: WebhookRequest) -> str | None:
        """The signed timestamp and nonce: the same pair twice inside the window is a replay."""
        return f"{req.query.get('timestamp', '')}:{req.query.get('nonce', '')}"

    def ack(self, req: WebhookRequest) -> WebhookResponse:
        return SUCCESS

    def passive_reply(
        self, req: WebhookRequest, message: InboundMessage, text: str, secrets: WebhookSecrets
    ) -> WebhookResponse:
        """``text`` to the message's sender, as the callback's answer (safe mode: encrypted, signed)."""
        now = str(int(self.now().timestamp()))
        reply = (
            f"<xml><ToUserName>{_cdata(message.author_id or message.conversation_ref)}</ToUserName>"
            f"<FromUserName>{_cdata(message.account_ref)}</FromUserName><CreateTime>{now}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content>{_cdata(text)}</Content></xml>"
        )
        if "msg_signature" in req.query:
            nonce = req.query.get("nonce", "")
            reply = _crypto(secrets).encrypt_reply(reply, nonce, now)
        return WebhookResponse(200, reply.encode("utf-8"), "application/xml")

    def parse(self, body: bytes, headers: Mapping[str, str], secrets: WebhookSecrets) -> ParseResult:
        fields = parse_xml(body)
        if "Encrypt" in fields:
            fields = parse_xml(_crypto(secrets).decrypt(fields["Encrypt"]), "Encrypt")
        return parse_message(fields)


def parse_message(fields: Mapping[str, str]) -> ParseResult:
    """One decrypted WeChat message/event (``{tag: text}``) as a :class:`ParseResult`."""
    msg_type = fields.get("MsgType", "")
    if not msg_type:
        raise MalformedWebhook("MsgType: missing")
    if msg_type == "event":
        event = fields.get("Event", "").lower() or "unknown"
        if event == "subscribe" and fields.get("EventKey", "").startswith("qrscene_"):
            event = "subscribe_scan"  # followed by scanning a parametric QR code
        return ParseResult(events=(), ignored=(f"event:{event}",))
    if msg_type not in _MESSAGE_TYPES:
        return ParseResult(events=(), ignored=(f"unsupported:{msg_type}",))
    for required in ("ToUserName", "FromUserName", "CreateTime"):
        if not fields.get(required):
            raise MalformedWebhook(f"{required}: missing")
    msg_id = fields.get("MsgId") or fields.get("MsgID")
    if not msg_id:
        raise MalformedWebhook("MsgId: missing")
    text, media = _content(msg_type, fields)
    sender = fields["FromUserName"]
    message = InboundMessage(
        platform=PLATFORM,
        account_ref=fields["ToUserName"],
        platform_message_id=msg_id,
        kind=MessageKind.DM,
        conversation_ref=sender,
        text=text,
        created_at=from_epoch(fields["CreateTime"], "CreateTime"),
        author_id=sender,
        media=media,
        raw_type=f"wechat.{msg_type}",
    )
    return ParseResult(events=(message,))


def _content(msg_type: str, f: Mapping[str, str]) -> tuple[str, tuple[InboundMedia, ...]]:
    media_id = f.get("MediaId") or None
    if msg_type == "text":
        return f.get("Content", ""), ()
    if msg_type == "image":
        return "", (InboundMedia(url=f.get("PicUrl", ""), type="image", platform_media_id=media_id),)
    if msg_type == "voice":  # Recognition: WeChat's transcript, when speech recognition is enabled
        return f.get("Recognition", ""), (InboundMedia(url="", type="audio", platform_media_id=media_id),)
    if msg_type in ("video", "shortvideo"):
        return "", (InboundMedia(url="", type="video", platform_media_id=media_id),)
    if msg_type == "location":
        geo = f"geo:{f.get('Location_X', '')},{f.get('Location_Y', '')}"
        return f.get("Label", ""), (InboundMedia(url=geo, type="location"),)
    # link
    return "\n".join(p for p in (f.get("Title", ""), f.get("Description", ""), f.get("Url", "")) if p), ()


WECHAT = WeChatWebhook()
