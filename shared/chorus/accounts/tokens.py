"""Platform tokens are encrypted at rest with KMS, bound to their workspace and account by the
encryption context, and decrypted only in memory, only where a platform call needs them.

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
from datetime import datetime
from typing import Any, Protocol

from chorus.platforms.oauth2 import TokenSet

__all__ = ["KmsTokenCipher", "TokenCipher", "TokenSet", "default_cipher"]


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


class KmsTokenCipher:
    """Adapter: KMS Encrypt/Decrypt with an encryption context (tokens are far below the 4 KB limit)."""

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    def encrypt(self, tokens: TokenSet, context: dict[str, str]) -> str:
        out = self._client.encrypt(KeyId=self._key_id, Plaintext=_dump(tokens), EncryptionContext=context)
        return base64.b64encode(out["CiphertextBlob"]).decode()

    def decrypt(self, blob: str, context: dict[str, str]) -> TokenSet:
        out = self._client.decrypt(CiphertextBlob=base64.b64decode(blob), EncryptionContext=context)
        return _load(out["Plaintext"])


def default_cipher() -> KmsTokenCipher:
    from chorus.aws import client
    from chorus.config import get_settings

    return KmsTokenCipher(client("kms"), get_settings().kms_key_id)
