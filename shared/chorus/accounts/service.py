"""Connected social accounts: connect (direct token entry or OAuth), list, credentials for adapters,
token refresh ahead of expiry, and marking an account for re-authorisation.

An app password (Bluesky) and an instance app's client secret (Mastodon) live in the KMS-encrypted token
set, never in ``extra``: adapters find them, decrypted, as ``creds.extra["app_password"]`` /
``creds.extra["client_secret"]``. Accounts connected before that kept them in ``extra`` in plain text;
they are still read from there, and moved into the encrypted set (and out of ``extra``) the next time
the account's tokens are stored."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chorus.accounts import expiry, features
from chorus.accounts.tokens import TokenCipher, TokenSet, default_cipher
from chorus.auth.keys import Principal, new_id
from chorus.config import register_reset
from chorus.errors import NotFound, ValidationFailed
from chorus.metrics.service import follow_connected_account
from chorus.platforms.base import AccountCredentials, AuthError, PlatformError
from chorus.platforms.registry import PLATFORMS
from chorus.store import keys
from chorus.store.models import AccountItem, bind
from chorus.store.pages import Page, PageRequest, prefix_page

log = logging.getLogger(__name__)
REFRESH_AHEAD = timedelta(minutes=10)
APP_PASSWORD = "app_password"  # noqa: S105 - the key adapters read it under in creds.extra
CLIENT_SECRET = "client_secret"  # noqa: S105 - Mastodon: the refresher reads it in creds.extra
SEALED = (APP_PASSWORD, CLIENT_SECRET)  # credentials kept in the encrypted token set, never in extra


@dataclass(frozen=True)
class Account:
    id: str
    workspace_id: str
    platform: str
    platform_account_id: str
    handle: str | None
    display_name: str | None
    status: str
    status_reason: str | None
    base_url: str | None
    token_expires_at: datetime | None
    retry_after: datetime | None
    created_at: datetime
    extra: dict[str, str] = field(default_factory=dict)
    token_blob: str | None = field(default=None, repr=False)  # ciphertext only, never in public()
    grant_blob: str | None = field(default=None, repr=False)  # TikTok's business grant, sealed: never shown

    def public(self) -> dict[str, Any]:
        from chorus.accounts.grants import view

        shown: dict[str, Any] = {
            "id": self.id,
            "platform": self.platform,
            "platform_account_id": self.platform_account_id,
            "handle": self.handle,
            "display_name": self.display_name,
            "status": self.status,
            "status_reason": self.status_reason,
            "base_url": self.base_url,
            "token_expires_at": self.token_expires_at,
            "created_at": self.created_at,
        }
        comments = view(self.platform, self.extra)  # TikTok: the comments step (its business grant)
        if comments is not None:
            shown["comments"] = comments
        shown.update(features.view(self.platform, self.extra))  # Bluesky: direct messages, on or refused
        return shown


def _to_account(item: AccountItem) -> Account:
    return Account(
        id=item.account_id,
        workspace_id=item.workspace_id,
        platform=item.platform,
        platform_account_id=item.platform_account_id,
        handle=item.handle,
        display_name=item.display_name,
        status=item.status,
        status_reason=item.status_reason,
        base_url=item.base_url,
        token_expires_at=item.token_expires_at,
        retry_after=item.retry_after,
        created_at=item.created_at,
        extra=dict(item.extra or {}),
        token_blob=item.token_blob,
        grant_blob=item.grant_blob,
    )


def from_item(item: AccountItem) -> Account:
    return _to_account(item)


def from_image(image: Mapping[str, Any]) -> Account:
    """The account as a table stream record's image shows it (the plain values of its attributes)."""
    item = AccountItem()
    item.from_simple_dict(dict(image))
    return _to_account(item)


def _context(workspace_id: str, account_id: str) -> dict[str, str]:
    return {"workspace_id": workspace_id, "account_id": account_id}


def _sealed(tokens: TokenSet, extra: dict[str, str] | None) -> tuple[TokenSet, dict[str, str]]:
    """An app password found in ``extra`` moves into the token set (to be encrypted); ``extra`` comes
    back without it. A password already in the token set wins over the one in ``extra``."""
    plain = dict(extra or {})
    password, secret = plain.pop(APP_PASSWORD, None), plain.pop(CLIENT_SECRET, None)
    tokens = replace(
        tokens,
        app_password=tokens.app_password or password or None,
        client_secret=tokens.client_secret or secret or None,
    )
    return tokens, plain


def _account_item(
    workspace_id: str,
    account_id: str,
    platform: str,
    platform_account_id: str,
    handle: str | None,
    display_name: str | None,
    base_url: str | None,
    **fields: Any,
) -> AccountItem:
    """A new account's item, found again by its platform id (GSI2)."""
    return AccountItem(
        keys.workspace_pk(workspace_id),
        keys.account_sk(account_id),
        workspace_id=workspace_id,
        account_id=account_id,
        platform=platform,
        platform_account_id=platform_account_id,
        handle=handle,
        display_name=display_name,
        base_url=base_url,
        created_at=datetime.now(UTC),
        gsi2pk=keys.platform_account_pk(platform, platform_account_id),
        gsi2sk=f"{workspace_id}#{account_id}",
        **fields,
    )


def connect_account(  # the storage step: callers prove ownership first (connect_or_reconnect)
    workspace_id: str,
    platform: str,
    platform_account_id: str,
    tokens: TokenSet,
    *,
    handle: str | None = None,
    display_name: str | None = None,
    base_url: str | None = None,
    extra: dict[str, str] | None = None,
    cipher: TokenCipher | None = None,
) -> Account:
    if platform not in PLATFORMS:
        raise ValidationFailed.on("platform", f"unknown platform {platform!r}; known: {', '.join(PLATFORMS)}")
    if not platform_account_id.strip():
        raise ValidationFailed.on("platform_account_id", "must not be empty", "required")
    if not tokens.access_token:
        raise ValidationFailed.on("access_token", "must not be empty", "required")
    bind()
    tokens, extra = _sealed(tokens, extra)
    account_id = new_id("acc", 5)
    warning = expiry.entry(tokens, workspace_id, account_id)  # a token that will need a new connection
    blob = (cipher or default_cipher()).encrypt(tokens, _context(workspace_id, account_id))
    item = _account_item(
        workspace_id, account_id, platform, platform_account_id, handle, display_name, base_url,
        token_blob=blob, token_expires_at=tokens.expires_at, extra=extra,
        gsi1pk=warning[0] if warning else None, gsi1sk=warning[1] if warning else None,
    )  # fmt: skip
    item.save()
    follow_connected_account(workspace_id, account_id, platform, item.created_at)
    return _to_account(item)


def connect_by_hand(
    workspace_id: str,
    platform: str,
    profile_url: str,
    *,
    handle: str | None = None,
    display_name: str | None = None,
) -> Account:
    """An account of a platform apps cannot publish to (reminder publishing: Xiaohongshu, Zhihu), added
    with its profile URL and no token: Chorus never calls the platform for it. The workspace's own
    account of that profile is answered again rather than added twice."""
    from chorus.platforms.registry import platform_url_problem

    info = PLATFORMS.get(platform)
    if info is None or info.publishing != "manual":
        raise ValidationFailed.on(
            "platform", f"{platform} accounts are connected with a token", "manual_only"
        )
    problem = platform_url_problem(platform, profile_url)
    if problem:
        raise ValidationFailed.on("profile_url", problem, "url")
    url = profile_url.strip().split("#")[0].split("?")[0].rstrip("/")
    existing = [a for a in accounts_by_platform_id(platform, url) if a.workspace_id == workspace_id]
    if existing:
        return existing[0]
    bind()
    account_id = new_id("acc", 5)
    item = _account_item(workspace_id, account_id, platform, url, handle, display_name, url)
    item.save()
    return _to_account(item)


def connect_or_reconnect(
    workspace_id: str,
    platform: str,
    platform_account_id: str,
    tokens: TokenSet,
    *,
    handle: str | None = None,
    display_name: str | None = None,
    base_url: str | None = None,
    extra: dict[str, str] | None = None,
) -> Account:
    """Connect an account whose ownership the caller proved (:mod:`chorus.accounts.ownership`, an
    OAuth grant, a Bluesky login); the workspace's own connection of it is re-authorised instead."""
    existing = [
        a for a in accounts_by_platform_id(platform, platform_account_id) if a.workspace_id == workspace_id
    ]
    if existing:
        return reconnect_account(existing[0], tokens, handle=handle, display_name=display_name, extra=extra)
    return connect_account(
        workspace_id,
        platform,
        platform_account_id,
        tokens,
        handle=handle,
        display_name=display_name,
        base_url=base_url,
        extra=extra,
    )


def get_account(workspace_id: str, account_id: str) -> Account:
    bind()
    try:
        return _to_account(AccountItem.get(keys.workspace_pk(workspace_id), keys.account_sk(account_id)))
    except DoesNotExist as exc:
        raise NotFound(f"account {account_id} not found") from exc


def list_accounts(workspace_id: str) -> list[Account]:
    bind()
    return [
        _to_account(i)
        for i in AccountItem.query(
            keys.workspace_pk(workspace_id), AccountItem.sk.startswith(keys.account_sk(""))
        )
    ]


def accounts_page(workspace_id: str, page: PageRequest, seen_by: Principal | None = None) -> Page[Account]:
    """One page of the workspace's accounts (GET /accounts); only those ``seen_by`` may see, if given."""
    bind()
    keep = (lambda i: seen_by.sees_account(i.account_id)) if seen_by is not None else None
    found = prefix_page(AccountItem, keys.workspace_pk(workspace_id), keys.account_sk(""), page, keep=keep)
    return Page([_to_account(i) for i in found.items], found.next_cursor)


def visible_account(principal: Principal, account_id: str) -> Account:
    """An account the caller may see; NotFound for one outside a member's accounts, as if absent."""
    if not principal.sees_account(account_id):
        raise NotFound(f"account {account_id} not found")
    return get_account(principal.workspace_id, account_id)


def accounts_by_platform_id(platform: str, platform_account_id: str) -> list[Account]:
    """Which workspaces connected this platform account (webhook routing)."""
    bind()
    return [
        _to_account(i)
        for i in AccountItem.calendar_index.query(keys.platform_account_pk(platform, platform_account_id))
        if isinstance(i, AccountItem)
    ]


def remove_account(workspace_id: str, account_id: str) -> None:
    """Remove the account and its grant's expiry warning. What it holds at its platform is revoked from the
    table's stream, by a function that may decrypt tokens (the API never does):
    :func:`chorus.accounts.revocation.on_account_removed`."""
    from chorus.accounts import grants

    get_account(workspace_id, account_id)
    AccountItem(keys.workspace_pk(workspace_id), keys.account_sk(account_id)).delete()
    grants.forget(workspace_id, account_id)


def mark_needs_reauth(workspace_id: str, account_id: str, reason: str) -> None:
    bind()
    AccountItem(keys.workspace_pk(workspace_id), keys.account_sk(account_id)).update(
        actions=[AccountItem.status.set("needs_reauth"), AccountItem.status_reason.set(reason[:500])]
    )


def set_retry_after(workspace_id: str, account_id: str, until: datetime | None) -> None:
    bind()
    item = AccountItem(keys.workspace_pk(workspace_id), keys.account_sk(account_id))
    item.update(actions=[AccountItem.retry_after.set(until) if until else AccountItem.retry_after.remove()])


def credentials(
    account: Account, cipher: TokenCipher | None = None, now: datetime | None = None, *, store: bool = True
) -> AccountCredentials:
    """Decrypted credentials for one call; refreshes the token first when it expires soon (``store=False``:
    the refreshed token is kept in memory only, for an account that is gone and must not be written again).

    A refresh ahead of expiry that fails leaves the current token in use: the call itself shows whether
    it still works (and the publisher refreshes once more on an AuthError before giving up)."""
    bind()
    cipher = cipher or default_cipher()
    blob = account.token_blob
    if blob is None:
        blob = _stored_blob(account)
    tokens = _decrypted(account, blob or "", cipher)
    now = now or datetime.now(UTC)
    if tokens.expires_at and tokens.expires_at - now < REFRESH_AHEAD and tokens.refresh_token:
        try:
            tokens = refresh_tokens(account, tokens, cipher, blob=blob, store=store)
        except PlatformError as error:
            log.warning(
                "token refresh ahead of expiry failed",
                extra={"account_id": account.id, "platform": account.platform, "error": error.message},
            )
    return _as_credentials(account, tokens)


def _as_credentials(account: Account, tokens: TokenSet) -> AccountCredentials:
    """The adapters' view: the app password (decrypted, or from a not yet migrated ``extra``) under
    ``extra["app_password"]``, in memory only."""
    tokens, extra = _sealed(tokens, account.extra)
    if tokens.app_password:
        extra[APP_PASSWORD] = tokens.app_password
    if tokens.client_secret:
        extra[CLIENT_SECRET] = tokens.client_secret
    return AccountCredentials(
        platform=account.platform,
        account_id=account.platform_account_id,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=tokens.expires_at,
        handle=account.handle,
        base_url=account.base_url,
        extra=extra,
    )


def _stored_blob(account: Account) -> str | None:
    blob: str | None = AccountItem.get(
        keys.workspace_pk(account.workspace_id), keys.account_sk(account.id), consistent_read=True
    ).token_blob
    return blob


_DECRYPTED: dict[tuple[str, str], tuple[float, TokenSet]] = {}
DECRYPTED_TTL_S = 300.0
register_reset(_DECRYPTED.clear)


def _decrypted(account: Account, blob: str, cipher: TokenCipher) -> TokenSet:
    """Decrypt once per blob per warm container for a few minutes: a refreshed token is a new blob."""
    import time

    key = (account.id, hashlib.sha256(blob.encode()).hexdigest())
    hit = _DECRYPTED.get(key)
    if hit and time.monotonic() - hit[0] < DECRYPTED_TTL_S:
        return hit[1]
    tokens = cipher.decrypt(blob, _context(account.workspace_id, account.id))
    if len(_DECRYPTED) > 1000:
        _DECRYPTED.clear()
    _DECRYPTED[key] = (time.monotonic(), tokens)
    return tokens


def refresh_tokens(
    account: Account, tokens: TokenSet, cipher: TokenCipher, *, blob: str | None = None, store: bool = True
) -> TokenSet:
    """Ask the platform for a new access token and store it (keeping the old refresh token if none came;
    ``store=False``: kept in memory only).

    Raises the platform's error when the refresh is refused, unless another worker refreshed the
    account meanwhile (a rotated refresh token is spent once): then the tokens it stored are used."""
    from chorus.platforms.registry import refresher

    refresh = refresher(account.platform)
    if refresh is None:
        return tokens
    try:
        fresh = refresh(_as_credentials(account, tokens))
    except AuthError:
        current = _stored_blob(account) if store else None
        if blob is not None and current and current != blob:
            return _decrypted(account, current, cipher)
        raise
    if fresh is None:
        return tokens
    merged = tokens.merged_with(fresh)
    if not store:
        return merged
    store_tokens(account, merged, cipher)
    log.info("token refreshed", extra={"account_id": account.id, "platform": account.platform})
    return merged


def refreshed_credentials(
    account: Account, creds: AccountCredentials, cipher: TokenCipher | None = None
) -> AccountCredentials | None:
    """Credentials with a token newer than ``creds`` after the platform refused them: the one another
    worker stored meanwhile, else a refresh now. None when the account has nothing to refresh with;
    raises the platform's error (``AuthError``: the grant is dead) when the refresh is refused."""
    from chorus.platforms.registry import refresher

    if refresher(account.platform) is None:
        return None
    bind()
    cipher = cipher or default_cipher()
    blob = _stored_blob(account)
    stored = _decrypted(account, blob or "", cipher)
    if stored.access_token != creds.access_token:
        return _as_credentials(account, stored)
    fresh = refresh_tokens(account, stored, cipher, blob=blob)
    if fresh == stored:
        return None
    return _as_credentials(account, fresh)


def remember_tokens(
    account: Account, creds: AccountCredentials, tokens: TokenSet | None, cipher: TokenCipher | None = None
) -> bool:
    """Store tokens an adapter obtained on its own (a Bluesky session refresh) when they differ from
    ``creds``; a missing refresh token never erases the stored one. True when something was stored."""
    if tokens is None or not tokens.access_token or tokens.access_token == creds.access_token:
        return False
    held = TokenSet(
        creds.access_token,
        creds.refresh_token,
        creds.expires_at,
        app_password=creds.extra.get(APP_PASSWORD),
        client_secret=creds.extra.get(CLIENT_SECRET),
    )
    store_tokens(account, held.merged_with(tokens), cipher)
    return True


def reconnect_account(
    account: Account,
    tokens: TokenSet,
    *,
    handle: str | None = None,
    display_name: str | None = None,
    extra: dict[str, str] | None = None,
    cipher: TokenCipher | None = None,
) -> Account:
    """The same platform account authorised again: new tokens (active again), fresher profile fields,
    ``extra`` merged over the stored one (an app password in it goes into the encrypted tokens), and
    what the old authorisation was refused forgotten (:mod:`chorus.accounts.features`: asked again)."""
    tokens, extra = _sealed(tokens, extra)
    store_tokens(account, tokens, cipher)
    actions: list[Any] = []
    if handle:
        actions.append(AccountItem.handle.set(handle))
    if display_name:
        actions.append(AccountItem.display_name.set(display_name))
    _, kept = _sealed(tokens, account.extra)  # store_tokens moved a plain app password already
    if extra or features.forget(kept) != kept:
        actions.append(AccountItem.extra.set({**features.forget(kept), **extra}))
    if actions:
        AccountItem(keys.workspace_pk(account.workspace_id), keys.account_sk(account.id)).update(
            actions=actions
        )
    return get_account(account.workspace_id, account.id)


def store_tokens(account: Account, tokens: TokenSet, cipher: TokenCipher | None = None) -> None:
    """Encrypt and store ``tokens`` (the account is active again). An app password the account still
    holds in plain text in ``extra`` is stored encrypted with them and removed from ``extra``."""
    bind()
    tokens, plain = _sealed(tokens, account.extra)
    blob = (cipher or default_cipher()).encrypt(tokens, _context(account.workspace_id, account.id))
    AccountItem(keys.workspace_pk(account.workspace_id), keys.account_sk(account.id)).update(
        actions=[
            AccountItem.token_blob.set(blob),
            AccountItem.token_expires_at.set(tokens.expires_at)
            if tokens.expires_at
            else AccountItem.token_expires_at.remove(),
            AccountItem.status.set("active"),
            AccountItem.status_reason.remove(),
            *expiry.index_actions(tokens, account.workspace_id, account.id),
        ]
    )
    if any(name in account.extra for name in SEALED):
        _forget_plain_password(account, plain)


def _forget_plain_password(account: Account, plain: dict[str, str]) -> None:
    """Remove plain credentials from ``extra`` (they are in the encrypted tokens now), unless
    ``extra`` changed since ``account`` was read: then the next store of tokens tries again."""
    try:
        AccountItem(keys.workspace_pk(account.workspace_id), keys.account_sk(account.id)).update(
            actions=[AccountItem.extra.set(plain)],
            condition=AccountItem.extra == account.extra,
        )
    except UpdateError:
        log.info("plain app password left for the next token store", extra={"account_id": account.id})
        return
    log.info("app password moved into the encrypted tokens", extra={"account_id": account.id})
