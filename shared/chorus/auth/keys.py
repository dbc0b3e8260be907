"""API keys: ``chk_<workspace>_<key id>_<secret>``; only a SHA-256 of the secret is stored.

The workspace id inside the key makes lookup one GetItem on the workspace's own partition, and the
comparison of hashes is constant time. Keys carry 256 bits of randomness, so a fast hash is the right
tool (as for GitHub tokens); a password hash would only add latency to every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from chorus.auth.roles import Role, Scope
from chorus.errors import Forbidden

_KEY = re.compile(r"^chk_(ws[0-9a-z]{10,40})_([0-9a-z]{8,40})_([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True)
class Principal:
    """Who calls, in which workspace, with what rights: a member signed in with a Cognito token
    (``user_id``, no ``key_id``), a member's API key (both), or a workspace key of the CLI (``key_id``).

    ``role`` is already the lesser of the key's and its member's; ``scopes`` None means every scope of
    the role, ``accounts`` None every connected account of the workspace."""

    workspace_id: str
    key_id: str | None
    role: Role
    user_id: str | None = None
    scopes: frozenset[Scope] | None = None
    accounts: frozenset[str] | None = None

    @property
    def actor(self) -> str:
        """The caller as the audit log, approvals and notes name it: ``user:<id>`` or ``key:<id>``."""
        if self.key_id is None:
            return f"user:{self.user_id}"
        return f"key:{self.key_id}"

    def sees_account(self, account_id: str) -> bool:
        return self.accounts is None or account_id in self.accounts

    def visible(self, account_ids: Iterable[str]) -> list[str]:
        """``account_ids`` this caller may see, in their order."""
        return [a for a in account_ids if self.sees_account(a)]

    def require_accounts(self, account_ids: Iterable[str], field: str = "accounts") -> None:
        """Forbidden (naming ``field``) when any of ``account_ids`` is outside the member's accounts."""
        hidden = [a for a in account_ids if not self.sees_account(a)]
        if hidden:
            raise Forbidden.on(field, f"not among the accounts you may use: {', '.join(hidden)}", "account")


@dataclass(frozen=True)
class IssuedKey:
    plaintext: str  # shown once, never stored
    key_id: str
    secret_hash: str


@dataclass(frozen=True)
class ParsedKey:
    workspace_id: str
    key_id: str
    secret: str


def new_id(prefix: str = "", nbytes: int = 8) -> str:
    """Short, URL-safe, lower-case random id."""
    return prefix + secrets.token_hex(nbytes)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(workspace_id: str) -> IssuedKey:
    key_id = new_id(nbytes=6)
    secret = secrets.token_urlsafe(32)
    return IssuedKey(f"chk_{workspace_id}_{key_id}_{secret}", key_id, hash_secret(secret))


def parse_key(token: str) -> ParsedKey | None:
    match = _KEY.match(token.strip())
    if not match:
        return None
    return ParsedKey(match.group(1), match.group(2), match.group(3))


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
