"""Meta's ``X-Hub-Signature-256`` check.

``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>``, compared in constant time.
The legacy ``X-Hub-Signature: sha1=...`` header is never accepted on its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from chorus.platforms.webhooks import SignatureError, hmac_digest, same

HEADER = "x-hub-signature-256"
PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value Meta sends for ``body`` (used by tests and the local sandbox)."""
    return PREFIX + hmac_digest(secret, body).hex()


def check_signature(body: bytes, header_value: str | None, secrets: Iterable[str]) -> None:
    """Raise :class:`SignatureError` unless ``header_value`` signs ``body`` with one of ``secrets``.

    Several secrets are allowed because the same endpoint receives Threads deliveries, signed with
    the Threads app secret. Every candidate is compared (no early exit on the first mismatch).
    """
    if not header_value:
        raise SignatureError("X-Hub-Signature-256: missing")
    if not header_value.startswith(PREFIX):
        raise SignatureError("X-Hub-Signature-256: not a sha256= signature")
    candidates = [secret for secret in secrets if secret]
    if not candidates:
        raise SignatureError("meta_app_secret is not configured: refusing the request")
    matched = False
    for secret in candidates:
        matched |= same(sign(secret, body), header_value.strip().lower())
    if not matched:
        raise SignatureError("X-Hub-Signature-256: does not match the body")
