"""WeChat callback signatures and the "safe mode" message encryption (Tencent's WXBizMsgCrypt scheme).

* URL check / plain mode: ``signature = sha1(''.join(sorted([token, timestamp, nonce])))`` (hex).
* Safe mode: ``msg_signature = sha1(''.join(sorted([token, timestamp, nonce, Encrypt])))``.
* ``Encrypt`` = base64(AES-256-CBC(key, iv=key[:16], PKCS#7 padded to 32-byte blocks of
  ``random(16) + uint32_be(len(msg)) + msg + app_id``)), key = base64decode(EncodingAESKey + "=").

WeCom (企业微信) uses the same algorithm with the CorpID in place of the AppID.
Uses the ``cryptography`` package (AES) and the standard library for the rest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from chorus.platforms.webhooks import SignatureError, same

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16


class WeChatCryptoError(SignatureError):
    """The ciphertext does not decrypt to a message for this app (wrong key, forged or corrupted)."""


def sha1_signature(*parts: str) -> str:
    """``sha1`` of the sorted, concatenated parts, as lower-case hex."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()  # noqa: S324 -- WeChat's scheme


def check_signature(token: str, timestamp: str, nonce: str, signature: str) -> bool:
    """The plain-mode / URL-check signature, compared in constant time."""
    return same(sha1_signature(token, timestamp, nonce), signature.lower())


def _pkcs7_pad(data: bytes) -> bytes:
    size = BLOCK - len(data) % BLOCK
    return data + bytes([size]) * size


def _pkcs7_unpad(data: bytes) -> bytes:
    if not data:
        raise WeChatCryptoError("Encrypt: empty plaintext")
    size = data[-1]
    if size < 1 or size > BLOCK or data[-size:] != bytes([size]) * size:
        raise WeChatCryptoError("Encrypt: bad padding")
    return data[:-size]


class WeChatCrypto:
    """One app's (token, EncodingAESKey, AppID) and the operations of safe mode."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        if len(encoding_aes_key) != 43:
            raise ValueError("wechat_encoding_aes_key must be 43 characters")
        try:
            self._key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as exc:
            raise ValueError("wechat_encoding_aes_key is not base64") from exc
        if len(self._key) != 32:
            raise ValueError("wechat_encoding_aes_key must decode to 32 bytes")
        self.token = token
        self.app_id = app_id

    def signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return sha1_signature(self.token, timestamp, nonce, encrypt)

    def check_msg_signature(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> bool:
        return same(self.signature(timestamp, nonce, encrypt), msg_signature.lower())

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def decrypt(self, encrypt: str) -> bytes:
        """The plaintext message of an ``Encrypt`` value; raises :class:`WeChatCryptoError` unless it
        decrypts cleanly and names this app's AppID."""
        try:
            ciphertext = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise WeChatCryptoError("Encrypt: not base64") from exc
        if not ciphertext or len(ciphertext) % 16:
            raise WeChatCryptoError("Encrypt: not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        plain = _pkcs7_unpad(decryptor.update(ciphertext) + decryptor.finalize())
        if len(plain) < 20:
            raise WeChatCryptoError("Encrypt: too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length:
            raise WeChatCryptoError("Encrypt: declared length exceeds the message")
        if receive_id.decode("utf-8", "replace") != self.app_id:
            raise WeChatCryptoError("Encrypt: message is for another app id")
        return message

    def encrypt(self, message: bytes, random16: bytes | None = None) -> str:
        """``Encrypt`` for ``message`` (``random16`` is fixed only in tests)."""
        prefix = random16 if random16 is not None else os.urandom(16)
        if len(prefix) != 16:
            raise ValueError("random16 must be 16 bytes")
        plain = prefix + struct.pack(">I", len(message)) + message + self.app_id.encode("utf-8")
        encryptor = self._cipher().encryptor()
        ciphertext = encryptor.update(_pkcs7_pad(plain)) + encryptor.finalize()
        return base64.b64encode(ciphertext).decode("ascii")

    def encrypt_reply(self, reply_xml: str, nonce: str, timestamp: str, random16: bytes | None = None) -> str:
        """A passive reply in safe mode: the ``<xml><Encrypt/><MsgSignature/>...`` envelope."""
        encrypt = self.encrypt(reply_xml.encode("utf-8"), random16)
        return (
            f"<xml>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n"
            f"<MsgSignature><![CDATA[{self.signature(timestamp, nonce, encrypt)}]]></MsgSignature>\n"
            f"<TimeStamp>{timestamp}</TimeStamp>\n<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>"
        )
