"""The one token set: what the platforms answer is what is sealed under KMS, and blobs sealed before the
two classes became one (and before envelope encryption) still decrypt to the same tokens."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chorus.accounts import tokens as sealed
from chorus.platforms import oauth2
from chorus.platforms.oauth2 import TokenSet

CONTEXT = {"workspace_id": "ws-1", "account_id": "acc-1"}
EXPIRES = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


class FakeKms:
    """KMS as the cipher uses it: the plaintext is kept behind the blob, bound to its context."""

    def __init__(self) -> None:
        self.sealed: dict[bytes, tuple[bytes, dict[str, str]]] = {}

    def encrypt(self, KeyId: str, Plaintext: bytes, EncryptionContext: dict[str, str]) -> dict[str, Any]:
        blob = f"blob-{len(self.sealed)}".encode()
        self.sealed[blob] = (Plaintext, dict(EncryptionContext))
        return {"CiphertextBlob": blob}

    def generate_data_key(
        self, KeyId: str, KeySpec: str, EncryptionContext: dict[str, str]
    ) -> dict[str, Any]:
        assert KeySpec == "AES_256"
        key = AESGCM.generate_key(bit_length=256)
        return {"Plaintext": key, **self.encrypt(KeyId, key, EncryptionContext)}

    def decrypt(self, CiphertextBlob: bytes, EncryptionContext: dict[str, str]) -> dict[str, Any]:
        plaintext, context = self.sealed[CiphertextBlob]
        if context != EncryptionContext:
            raise PermissionError("InvalidCiphertextException")
        return {"Plaintext": plaintext}

    def plaintext(self, blob: str) -> dict[str, Any]:
        """What a ``v2.`` blob holds, opened here by its documented format (not by the cipher)."""
        version, key, sealed = blob.split(".")
        assert version == "v2"
        data_key, _ = self.sealed[base64.urlsafe_b64decode(key + "==")]
        raw = base64.urlsafe_b64decode(sealed + "==")
        aad = json.dumps(CONTEXT, sort_keys=True, separators=(",", ":")).encode()
        loaded: dict[str, Any] = json.loads(AESGCM(data_key).decrypt(raw[:12], raw[12:], aad))
        return loaded

    def written(self, plaintext: dict[str, Any]) -> str:
        """A blob as an earlier release sealed it (its JSON given here, not written by this one)."""
        blob = f"old-{len(self.sealed)}".encode()
        self.sealed[blob] = (json.dumps(plaintext).encode(), dict(CONTEXT))
        return base64.b64encode(blob).decode()


@pytest.fixture
def kms() -> FakeKms:
    return FakeKms()


def test_one_class_for_both_layers() -> None:
    assert sealed.TokenSet is oauth2.TokenSet


def test_a_blob_written_the_old_way_still_loads(kms: FakeKms) -> None:
    cipher = sealed.KmsTokenCipher(kms, "key-1")
    blob = kms.written({"a": "acc", "r": "ref", "e": EXPIRES.isoformat(), "p": "app-pass", "c": "app-secret"})
    assert cipher.decrypt(blob, CONTEXT) == TokenSet(
        "acc", "ref", EXPIRES, app_password="app-pass", client_secret="app-secret"
    )
    bare = kms.written({"a": "acc", "r": None, "e": None})
    assert cipher.decrypt(bare, CONTEXT) == TokenSet("acc")


def test_a_platform_answer_is_sealed_as_it_is(kms: FakeKms) -> None:
    cipher = sealed.KmsTokenCipher(kms, "key-1")
    answer = oauth2.token_set(
        {"access_token": "acc", "refresh_token": "ref", "expires_in": 3600, "scope": "read write"},
        now=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
    )
    blob = cipher.encrypt(answer, CONTEXT)
    assert cipher.decrypt(blob, CONTEXT) == answer
    assert kms.plaintext(blob) == {"a": "acc", "r": "ref", "e": EXPIRES.isoformat(), "s": "read write"}


def test_the_old_field_names_are_written(kms: FakeKms) -> None:
    """The sealed JSON is the one earlier releases wrote (only the envelope around it changed)."""
    cipher = sealed.KmsTokenCipher(kms, "key-1")
    blob = cipher.encrypt(TokenSet("acc", None, None, app_password="pw"), CONTEXT)
    assert kms.plaintext(blob) == {"a": "acc", "r": None, "e": None, "p": "pw"}


def test_merging_a_refresh_keeps_what_it_does_not_answer() -> None:
    stored = TokenSet("old", "ref", EXPIRES, "read", app_password="pw", client_secret="sec")
    fresh = TokenSet("new", None, None)
    assert stored.merged_with(fresh) == TokenSet(
        "new", "ref", None, "read", app_password="pw", client_secret="sec"
    )


def test_credentials_stay_out_of_the_repr() -> None:
    shown = repr(TokenSet("acc", app_password="the-password", client_secret="the-secret"))
    assert "the-password" not in shown
    assert "the-secret" not in shown
