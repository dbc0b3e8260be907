"""Platform tokens are encrypted at rest with KMS, bound to their workspace and account by the
encryption context, and decrypted only in memory, only where a platform call needs them.

The encrypted token set also holds the account's app password where the platform has one (Bluesky): it
is a credential like the tokens, so it is never stored in plain text."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    app_password: str | None = field(default=None, repr=False)  # Bluesky: opens a new session
    client_secret: str | None = field(default=None, repr=False)  # Mastodon: the instance's app secret

    def merged_with(self, newer: TokenSet) -> TokenSet:
        """A refresh answer replaces the access token; an empty refresh token or app password never
        erases the stored one."""
        return TokenSet(
            access_token=newer.access_token or self.access_token,
            refresh_token=newer.refresh_token or self.refresh_token,
            expires_at=newer.expires_at,
            app_password=newer.app_password or self.app_password,
            client_secret=newer.client_secret or self.client_secret,
        )


class TokenCipher(Protocol):
    def encrypt(self, tokens: TokenSet, context: dict[str, str]) -> str: ...

    def decrypt(self, blob: str, context: dict[str, str]) -> TokenSet: ...


def _dump(tokens: TokenSet) -> bytes:
    raw: dict[str, str | None] = {
        "a": tokens.access_token,
        "r": tokens.refresh_token,
        "e": tokens.expires_at.isoformat() if tokens.expires_at else None,
    }
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
