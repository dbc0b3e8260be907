"""Platform tokens are encrypted at rest under KMS, bound to their workspace and account, and decrypted
only in memory, only where a platform call needs them.

Envelope encryption (#15: one KMS call per account and container was most of the KMS bill): a token set
is sealed with AES-256-GCM under a data key from ``kms.GenerateDataKey`` (encryption context
``{workspace_id, purpose: platform-tokens}``), a fresh 96-bit nonce each time, and the whole encryption
context (workspace AND account, canonical JSON) as associated data: a blob copied to another account or
workspace does not open. A container seals with one data key per workspace for at most
``DATA_KEY_TTL_S`` and ``DATA_KEY_MAX_SEALS`` seals, and keeps a decrypted data key for
``DATA_KEY_TTL_S``. The blob is ``v2.`` + base64url(encrypted data key) + ``.`` + base64url(nonce +
ciphertext); a blob without the prefix (base64 of a KMS ciphertext: never a ``.`` in it) was sealed by
``kms.Encrypt`` before and opens as before; it is sealed the new way the next time its tokens are stored.

The token set is ``chorus.platforms.oauth2.TokenSet`` (re-exported here): the platforms answer it and
this module seals it, with no conversion between the two. The encrypted token set also holds the
account's app password where the platform has one (Bluesky) and the instance's app secret (Mastodon):
they are credentials like the tokens, so they are never stored in plain text.

The sealed JSON keeps its one-letter field names (``a`` access token, ``r`` refresh token, ``e`` expiry,
``p`` app password, ``c`` app secret; ``s`` the granted scope, written only when there is one), so every
blob stored before reads the same."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chorus.config import register_reset
from chorus.platforms.oauth2 import TokenSet

__all__ = [
    "DATA_KEY_MAX_SEALS",
    "DATA_KEY_TTL_S",
    "KmsTokenCipher",
    "TokenCipher",
    "TokenSet",
    "default_cipher",
]

DATA_KEY_TTL_S = 300.0
"""How long a container seals with one data key, and keeps a decrypted one."""
DATA_KEY_MAX_SEALS = 1000
"""How many token sets one data key seals at most."""
PURPOSE = "platform-tokens"
PREFIX = "v2."
NONCE_BYTES = 12
DECRYPTED_KEYS_MAX = 1000  # decrypted data keys held per container (the oldest half goes beyond)


class TokenCipher(Protocol):
    def encrypt(self, tokens: TokenSet, context: dict[str, str]) -> str: ...

    def decrypt(self, blob: str, context: dict[str, str]) -> TokenSet: ...


def _dump(tokens: TokenSet) -> bytes:
    raw: dict[str, str | None] = {
        "a": tokens.access_token,
        "r": tokens.refresh_token,
        "e": tokens.expires_at.isoformat() if tokens.expires_at else None,
    }
    if tokens.scope:
        raw["s"] = tokens.scope
    if tokens.app_password:
        raw["p"] = tokens.app_password
    if tokens.client_secret:
        raw["c"] = tokens.client_secret
    return json.dumps(raw).encode()


def _load(data: bytes) -> TokenSet:
    raw = json.loads(data)
    return TokenSet(
        raw["a"],
        raw.get("r"),
        datetime.fromisoformat(raw["e"]) if raw.get("e") else None,
        scope=raw.get("s") or None,
        app_password=raw.get("p") or None,
        client_secret=raw.get("c") or None,
    )


@dataclass
class _DataKey:
    encrypted: bytes
    aead: Any  # AESGCM of the plaintext key: the key itself is never kept elsewhere
    born: float
    seals: int = 0


def _aad(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


def _key_context(context: dict[str, str]) -> dict[str, str]:
    """The data key's encryption context: the blob's without the account (an account's tokens:
    ``{workspace_id, purpose}``, one data key per workspace; an app's token, bound to its platform and
    app id by :mod:`chorus.store.app_tokens`: one per app)."""
    return {**{k: v for k, v in context.items() if k != "account_id"}, "purpose": PURPOSE}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _refused() -> Exception:
    """What KMS answers a ciphertext that does not open under the context given (a copied, tampered or
    foreign blob): callers handle one error whichever way the blob was sealed. Names nothing secret."""
    from botocore.exceptions import ClientError

    message = "the token blob does not open under this encryption context"
    return ClientError({"Error": {"Code": "InvalidCiphertextException", "Message": message}}, "Decrypt")


class KmsTokenCipher:
    """Adapter: envelope encryption under a KMS key (module docstring); blobs sealed by ``kms.Encrypt``
    before still open. One instance holds one container's data keys (:func:`default_cipher`)."""

    def __init__(self, client: Any, key_id: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._key_id = key_id
        self._clock = clock
        self._lock = threading.Lock()
        # keyed by the data key's encryption context (canonical JSON): per workspace for accounts
        self._sealing: dict[bytes, _DataKey] = {}  # the data key each seals with now
        self._opening: dict[tuple[bytes, bytes], tuple[float, Any]] = {}  # and the encrypted key

    def encrypt(self, tokens: TokenSet, context: dict[str, str]) -> str:
        key = self._sealing_key(context)
        nonce = os.urandom(NONCE_BYTES)
        sealed = key.aead.encrypt(nonce, _dump(tokens), _aad(context))
        return f"{PREFIX}{_b64(key.encrypted)}.{_b64(nonce + sealed)}"

    def decrypt(self, blob: str, context: dict[str, str]) -> TokenSet:
        if not blob.startswith(PREFIX):
            out = self._client.decrypt(CiphertextBlob=base64.b64decode(blob), EncryptionContext=context)
            return _load(out["Plaintext"])
        from cryptography.exceptions import InvalidTag

        try:
            encrypted, sealed = (_unb64(part) for part in blob.removeprefix(PREFIX).split("."))
        except (ValueError, TypeError):  # not two parts, or not base64url
            raise _refused() from None
        if not encrypted or len(sealed) <= NONCE_BYTES:
            raise _refused()
        aead = self._opening_key(encrypted, context)
        try:
            plaintext = aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(context))
        except InvalidTag:
            raise _refused() from None
        return _load(plaintext)

    def _sealing_key(self, context: dict[str, str]) -> _DataKey:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key_context = _key_context(context)
        scope = _aad(key_context)
        with self._lock:
            key = self._sealing.get(scope)
            now = self._clock()
            if key is None or now - key.born >= DATA_KEY_TTL_S or key.seals >= DATA_KEY_MAX_SEALS:
                out = self._client.generate_data_key(
                    KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=key_context
                )
                key = _DataKey(out["CiphertextBlob"], AESGCM(out["Plaintext"]), now)
                self._sealing[scope] = key
                self._remember(scope, key.encrypted, key.aead, now)
            key.seals += 1
            return key

    def _opening_key(self, encrypted: bytes, context: dict[str, str]) -> Any:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key_context = _key_context(context)
        scope = _aad(key_context)
        with self._lock:
            hit = self._opening.get((scope, encrypted))
            if hit is not None and self._clock() - hit[0] < DATA_KEY_TTL_S:
                return hit[1]
        out = self._client.decrypt(CiphertextBlob=encrypted, EncryptionContext=key_context)
        if len(out["Plaintext"]) != 32:
            raise _refused()
        aead = AESGCM(out["Plaintext"])
        with self._lock:
            self._remember(scope, encrypted, aead, self._clock())
        return aead

    def _remember(self, scope: bytes, encrypted: bytes, aead: Any, now: float) -> None:
        """Under the lock: keep a decrypted data key (the one this container seals with opens without KMS),
        forgetting those past their time (and the oldest half beyond ``DECRYPTED_KEYS_MAX``)."""
        for held, (born, _) in list(self._opening.items()):
            if now - born >= DATA_KEY_TTL_S:
                del self._opening[held]
        if len(self._opening) >= DECRYPTED_KEYS_MAX:
            for held in list(self._opening)[: DECRYPTED_KEYS_MAX // 2]:
                del self._opening[held]
        self._opening[(scope, encrypted)] = (now, aead)


_DEFAULT: dict[str, KmsTokenCipher] = {}
_DEFAULT_LOCK = threading.Lock()
register_reset(_DEFAULT.clear)


def default_cipher() -> KmsTokenCipher:
    """The container's cipher (its data keys live as long as the container, within their bounds)."""
    from chorus.aws import client
    from chorus.config import get_settings

    key_id = get_settings().kms_key_id
    with _DEFAULT_LOCK:
        if key_id not in _DEFAULT:
            _DEFAULT[key_id] = KmsTokenCipher(client("kms"), key_id)
        return _DEFAULT[key_id]
