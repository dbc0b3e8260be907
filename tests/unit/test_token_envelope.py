"""Envelope encryption of platform tokens against moto's KMS (#15): one data key per workspace seals many
token sets, each bound to its workspace and account; blobs sealed by ``kms.Encrypt`` before still open."""

from __future__ import annotations

import base64
import logging
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chorus.accounts.tokens import KmsTokenCipher, TokenSet

FIVE_MINUTES = 300.0  # the bounds the issue set (not read from the module: a changed bound fails here)
A_THOUSAND = 1000

CONTEXT = {"workspace_id": "ws-1", "account_id": "acc-1"}
TOKENS = TokenSet(
    "the-access-token",
    "the-refresh-token",
    datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
    scope="read write",
    app_password="the-app-password",
    client_secret="the-client-secret",
)


class Kms:
    """moto's KMS through a boto3 client whose calls are counted by operation (a botocore event hook)."""

    def __init__(self) -> None:
        import boto3

        self.client = boto3.client("kms", region_name="us-east-1")
        self.key_id = self.client.create_key()["KeyMetadata"]["KeyId"]
        self.calls: Counter[str] = Counter()
        self.data_keys: list[bytes] = []
        self.key_contexts: list[dict[str, str]] = []  # GenerateDataKey's and Decrypt's, in order
        self.client.meta.events.register("before-call.kms.*", self._count)
        self.client.meta.events.register("provide-client-params.kms.*", self._context)
        self.client.meta.events.register("after-call.kms.GenerateDataKey", self._keep)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _context(self, params: dict[str, Any], **_: Any) -> None:
        self.key_contexts.append(params.get("EncryptionContext", {}))

    def _keep(self, parsed: dict[str, Any], **_: Any) -> None:
        self.data_keys.append(parsed["Plaintext"])

    def cipher(self, clock: Any = None) -> KmsTokenCipher:
        """A fresh cipher: a new container (nothing cached)."""
        if clock is None:
            return KmsTokenCipher(self.client, self.key_id)
        return KmsTokenCipher(self.client, self.key_id, clock=clock)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def kms() -> Iterator[Kms]:
    from moto import mock_aws

    with mock_aws():
        yield Kms()


def refused(call: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == "InvalidCiphertextException"
    return caught.value


def test_a_sealed_token_set_opens_to_the_same_tokens(kms: Kms) -> None:
    blob = kms.cipher().encrypt(TOKENS, CONTEXT)
    assert blob.startswith("v2.")
    assert "the-access-token" not in blob
    assert kms.cipher().decrypt(blob, CONTEXT) == TOKENS
    assert kms.calls == {"GenerateDataKey": 1, "Decrypt": 1}


def test_the_data_key_is_bound_to_the_workspace_and_its_purpose(kms: Kms) -> None:
    blob = kms.cipher().encrypt(TOKENS, CONTEXT)
    kms.cipher().decrypt(blob, CONTEXT)
    assert kms.key_contexts == [{"workspace_id": "ws-1", "purpose": "platform-tokens"}] * 2


def test_an_app_token_is_sealed_under_a_data_key_of_its_app(kms: Kms) -> None:
    """chorus.store.app_tokens binds a WeChat app's token to its platform and app id (no workspace)."""
    app = {"platform": "wechat", "app_id": "wx-1"}
    cipher = kms.cipher()
    blob = cipher.encrypt(TokenSet("app-token"), app)
    assert kms.cipher().decrypt(blob, app) == TokenSet("app-token")
    assert kms.key_contexts == [{**app, "purpose": "platform-tokens"}] * 2
    refused(lambda: cipher.decrypt(blob, {**app, "app_id": "wx-2"}))
    refused(lambda: kms.cipher().decrypt(blob, {**app, "app_id": "wx-2"}))


def test_a_blob_sealed_by_kms_encrypt_still_opens(kms: Kms) -> None:
    cipher = kms.cipher()
    old = kms.client.encrypt(
        KeyId=kms.key_id,
        Plaintext=b'{"a": "the-access-token", "r": "ref", "e": null, "p": "pw"}',
        EncryptionContext=CONTEXT,
    )["CiphertextBlob"]
    blob = base64.b64encode(old).decode()
    assert cipher.decrypt(blob, CONTEXT) == TokenSet("the-access-token", "ref", None, app_password="pw")
    refused(lambda: cipher.decrypt(blob, {**CONTEXT, "account_id": "acc-2"}))
    # sealed again (at the next store) the new way, opening to the same tokens
    again = cipher.encrypt(cipher.decrypt(blob, CONTEXT), CONTEXT)
    assert again.startswith("v2.")
    assert cipher.decrypt(again, CONTEXT) == cipher.decrypt(blob, CONTEXT)


@pytest.mark.parametrize(
    "other",
    [{"workspace_id": "ws-1", "account_id": "acc-2"}, {"workspace_id": "ws-2", "account_id": "acc-1"}],
    ids=["another account", "another workspace"],
)
def test_a_blob_does_not_open_for_another_account_or_workspace(kms: Kms, other: dict[str, str]) -> None:
    sealing = kms.cipher()
    blob = sealing.encrypt(TOKENS, CONTEXT)
    refused(lambda: sealing.decrypt(blob, other))  # the container holding the data key
    refused(lambda: kms.cipher().decrypt(blob, other))  # another container (KMS decides for the workspace)


def test_a_tampered_blob_does_not_open(kms: Kms) -> None:
    cipher = kms.cipher()
    blob = cipher.encrypt(TOKENS, CONTEXT)
    prefix, key, sealed = blob.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sealed + "=="))
    for at in (0, 11, 12, len(raw) // 2, len(raw) - 1):  # the nonce, the ciphertext, the tag
        flipped = bytearray(raw)
        flipped[at] ^= 0x01
        tampered = f"{prefix}.{key}.{base64.urlsafe_b64encode(bytes(flipped)).decode().rstrip('=')}"
        refused(lambda tampered=tampered: cipher.decrypt(tampered, CONTEXT))
        refused(lambda tampered=tampered: kms.cipher().decrypt(tampered, CONTEXT))
    encrypted_key = bytearray(base64.urlsafe_b64decode(key + "=="))
    encrypted_key[len(encrypted_key) // 2] ^= 0x01
    bad_key = base64.urlsafe_b64encode(bytes(encrypted_key)).decode().rstrip("=")
    refused(lambda: kms.cipher().decrypt(f"{prefix}.{bad_key}.{sealed}", CONTEXT))
    for broken in (
        f"{prefix}.{key}",
        f"{prefix}.{key}.{sealed}.x",
        f"{prefix}.{key}.AAAA",
        f"{prefix}..{sealed}",
    ):
        refused(lambda broken=broken: cipher.decrypt(broken, CONTEXT))


def test_a_blob_under_another_data_key_does_not_open(kms: Kms) -> None:
    """The encrypted data key of one blob put in front of the ciphertext of another: the wrong key."""
    clock = Clock()
    cipher = kms.cipher(clock)
    first = cipher.encrypt(TOKENS, CONTEXT)
    clock.now += FIVE_MINUTES
    second = cipher.encrypt(TOKENS, CONTEXT)
    assert kms.calls["GenerateDataKey"] == 2
    swapped = ".".join([*first.split(".")[:2], second.split(".")[2]])
    refused(lambda: cipher.decrypt(swapped, CONTEXT))
    refused(lambda: kms.cipher().decrypt(swapped, CONTEXT))


def test_one_data_key_call_per_workspace_and_container(kms: Kms) -> None:
    sealing = kms.cipher()
    accounts = [{"workspace_id": "ws-1", "account_id": f"acc-{n}"} for n in range(50)]
    blobs = [sealing.encrypt(TOKENS, context) for context in accounts]
    assert [sealing.decrypt(blob, context) for blob, context in zip(blobs, accounts, strict=True)] == [
        TOKENS
    ] * 50
    assert kms.calls == {"GenerateDataKey": 1}  # the container that sealed opens without KMS
    assert len(set(blobs)) == 50  # a fresh nonce each time

    kms.calls.clear()
    opening = kms.cipher()  # a second container
    assert [opening.decrypt(blob, context) for blob, context in zip(blobs, accounts, strict=True)] == [
        TOKENS
    ] * 50
    assert kms.calls == {"Decrypt": 1}

    kms.calls.clear()
    sealing.encrypt(TOKENS, {"workspace_id": "ws-2", "account_id": "acc-1"})
    assert kms.calls == {"GenerateDataKey": 1}  # each workspace its own data key


def test_the_data_key_is_renewed_after_five_minutes(kms: Kms) -> None:
    clock = Clock()
    cipher = kms.cipher(clock)
    first = cipher.encrypt(TOKENS, CONTEXT)
    clock.now += FIVE_MINUTES - 1
    assert cipher.encrypt(TOKENS, CONTEXT).split(".")[1] == first.split(".")[1]
    clock.now += 1
    renewed = cipher.encrypt(TOKENS, CONTEXT)
    assert renewed.split(".")[1] != first.split(".")[1]
    assert kms.calls["GenerateDataKey"] == 2
    assert len(cipher._opening) == 1  # the old data key is not kept past its time
    assert cipher.decrypt(renewed, CONTEXT) == TOKENS
    assert "Decrypt" not in kms.calls
    assert cipher.decrypt(first, CONTEXT) == TOKENS  # an older blob opens (its key unwrapped again)
    assert kms.calls["Decrypt"] == 1


def test_a_decrypted_data_key_is_kept_five_minutes(kms: Kms) -> None:
    blob = kms.cipher().encrypt(TOKENS, CONTEXT)
    clock = Clock()
    opening = kms.cipher(clock)
    kms.calls.clear()
    opening.decrypt(blob, CONTEXT)
    clock.now += FIVE_MINUTES - 1
    opening.decrypt(blob, CONTEXT)
    assert kms.calls == {"Decrypt": 1}
    clock.now += 1
    assert opening.decrypt(blob, CONTEXT) == TOKENS
    assert kms.calls == {"Decrypt": 2}


def test_the_data_key_is_renewed_after_a_thousand_seals(kms: Kms) -> None:
    cipher = kms.cipher(Clock())
    keys = [cipher.encrypt(TOKENS, CONTEXT).split(".")[1] for _ in range(A_THOUSAND + 1)]
    assert len(set(keys[:A_THOUSAND])) == 1
    assert keys[A_THOUSAND] != keys[0]
    assert kms.calls["GenerateDataKey"] == 2


def test_no_token_and_no_key_in_a_log_or_an_error(kms: Kms, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="chorus")
    caplog.set_level(logging.INFO)
    blob = kms.cipher().encrypt(TOKENS, CONTEXT)
    kms.cipher().decrypt(blob, CONTEXT)
    errors = [
        str(refused(lambda: kms.cipher().decrypt(blob, {**CONTEXT, "account_id": "acc-2"}))),
        str(refused(lambda: kms.cipher().decrypt(blob[:-4] + "AAAA", CONTEXT))),
    ]
    (data_key,) = kms.data_keys
    secrets = [
        "the-access-token",
        "the-refresh-token",
        "the-app-password",
        "the-client-secret",
        data_key.hex(),
        base64.b64encode(data_key).decode(),
        base64.urlsafe_b64encode(data_key).decode().rstrip("="),
    ]
    shown = caplog.text + "".join(repr(r.__dict__) for r in caplog.records) + "".join(errors)
    assert not [secret for secret in secrets if secret in shown]
    assert all(secret not in blob for secret in secrets)
    assert "InvalidCiphertextException" in errors[0]


def test_the_container_keeps_one_cipher(monkeypatch: pytest.MonkeyPatch) -> None:
    from chorus.accounts.tokens import default_cipher
    from chorus.config import reset_caches

    monkeypatch.setenv("CHORUS_KMS_KEY_ID", "key-1")
    reset_caches()
    try:
        first = default_cipher()
        assert default_cipher() is first
        reset_caches()
        assert default_cipher() is not first
    finally:
        monkeypatch.delenv("CHORUS_KMS_KEY_ID")
        reset_caches()


def test_threads_of_one_container_share_the_data_key(kms: Kms) -> None:
    """A batch worked on several threads: one data key, every seal counted, every blob opens."""
    from concurrent.futures import ThreadPoolExecutor

    cipher = kms.cipher(Clock())
    with ThreadPoolExecutor(8) as pool:
        blobs = list(pool.map(lambda n: cipher.encrypt(TOKENS, CONTEXT), range(A_THOUSAND)))
        assert set(pool.map(lambda blob: cipher.decrypt(blob, CONTEXT), blobs)) == {TOKENS}
    assert kms.calls == {"GenerateDataKey": 1}
    assert len({blob.split(".")[1] for blob in blobs}) == 1
    cipher.encrypt(TOKENS, CONTEXT)  # the 1,001st seal: a new data key
    assert kms.calls == {"GenerateDataKey": 2}
