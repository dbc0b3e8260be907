"""A second authorisation on a connected account, beside (never instead of) its own token set: TikTok API
for Business (``GRANT``), which a TikTok account connected through Login Kit adds with the optional
"Enable comments" step (``chorus.accounts.oauth``): Login Kit never grants ``comment.list`` /
``comment.list.manage``, the business app's authorisation does.

- **Sealed** like the account's tokens (:mod:`chorus.accounts.tokens`, KMS with an encryption context
  naming the workspace, the account *and the grant*: a blob cannot be passed off as the other), in
  ``AccountItem.grant_blob``; never in ``extra``, a log or an answer.
- **Recorded** in ``extra`` in the clear, for the inbox to decide without decrypting anything: the scopes
  granted (``tiktok_business.scopes``), the grant's state (``tiktok_business.status``: ``active`` or
  ``needs_reauth``) and why (``tiktok_business.reason``). ``GET /accounts`` shows them (``comments``).
- **Used** by the comments poller and the replier: :func:`grant_credentials` answers the account's
  credentials with the grant's access token and scopes (``extra["scopes"]``, which
  ``chorus.platforms.tiktok.comments.capability`` reads), refreshed first when the 24-hour access token
  expires within ``REFRESH_AHEAD`` (``tt_user/oauth2/refresh_token/`` with the business app; the new
  refresh token replaces the stored one).
- **Revoked** (a refused refresh, TikTok's 4010x codes: an ``AuthError`` with code ``GRANT``): only the
  grant is marked ``needs_reauth`` (:func:`on_auth_error`); the account stays active and publishing
  goes on with its Login Kit token. Enabling comments again makes the grant active again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests

from chorus.accounts.apps import OAuthApps, get_apps
from chorus.accounts.tokens import TokenCipher, TokenSet, default_cipher
from chorus.platforms.base import AccountCredentials, AuthError, PlatformError
from chorus.platforms.tiktok.comments import GRANT, SCOPES
from chorus.store import keys
from chorus.store.models import AccountItem, bind

if TYPE_CHECKING:
    from chorus.accounts.service import Account

log = logging.getLogger(__name__)

SCOPES_KEY = f"{GRANT}.scopes"
STATUS_KEY = f"{GRANT}.status"
REASON_KEY = f"{GRANT}.reason"
ACTIVE = "active"
NEEDS_REAUTH = "needs_reauth"


def _context(workspace_id: str, account_id: str) -> dict[str, str]:
    return {"workspace_id": workspace_id, "account_id": account_id, "grant": GRANT}


def _item(workspace_id: str, account_id: str) -> AccountItem:
    return AccountItem(keys.workspace_pk(workspace_id), keys.account_sk(account_id))


def granted_scopes(extra: dict[str, str]) -> set[str]:
    """The scopes of the account's business grant while it is active (an empty set otherwise)."""
    if extra.get(STATUS_KEY) != ACTIVE:
        return set()
    return {s.strip() for s in (extra.get(SCOPES_KEY) or "").split(",") if s.strip()}


def view(platform: str, extra: dict[str, str]) -> dict[str, Any] | None:
    """What ``GET /accounts`` shows of a TikTok account's comments step (None for other platforms):
    ``status`` ``off`` (never enabled), ``active`` or ``needs_reauth``, the scopes, the reason."""
    if platform != "tiktok":
        return None
    status = extra.get(STATUS_KEY) or "off"
    scopes = sorted({s.strip() for s in (extra.get(SCOPES_KEY) or "").split(",") if s.strip()})
    return {
        "status": status,
        "scopes": scopes,
        "reason": extra.get(REASON_KEY) if status == NEEDS_REAUTH else None,
    }


def store_grant(
    workspace_id: str,
    account_id: str,
    tokens: TokenSet,
    scopes: str,
    *,
    cipher: TokenCipher | None = None,
    extra: dict[str, str] | None = None,
) -> None:
    """Seal and store the grant's tokens and record its scopes (active again). ``extra``: the account's
    as read (the other keys are kept)."""
    bind()
    blob = (cipher or default_cipher()).encrypt(tokens, _context(workspace_id, account_id))
    kept = {k: v for k, v in (extra or {}).items() if k != REASON_KEY}
    _item(workspace_id, account_id).update(
        actions=[
            AccountItem.grant_blob.set(blob),
            AccountItem.extra.set({**kept, SCOPES_KEY: scopes, STATUS_KEY: ACTIVE}),
        ]
    )


def mark_needs_reauth(workspace_id: str, account_id: str, reason: str) -> None:
    """The grant is dead: comments stop until the step is authorised again; the account stays as it is."""
    bind()
    item = AccountItem.get(keys.workspace_pk(workspace_id), keys.account_sk(account_id), consistent_read=True)
    extra = dict(item.extra or {})
    if STATUS_KEY not in extra:
        return
    extra.update({STATUS_KEY: NEEDS_REAUTH, REASON_KEY: reason[:500]})
    _item(workspace_id, account_id).update(actions=[AccountItem.extra.set(extra)])
    log.info("business grant needs re-authorisation", extra={"account_id": account_id, "grant": GRANT})


def on_auth_error(workspace_id: str, account_id: str, error: AuthError) -> None:
    """Mark what the refused token belongs to: the business grant (code ``GRANT``) or the account."""
    if error.code == GRANT:
        mark_needs_reauth(workspace_id, account_id, error.message)
        return
    from chorus.accounts.service import mark_needs_reauth as account_needs_reauth

    account_needs_reauth(workspace_id, account_id, error.message)


def grant_credentials(
    account: Account,
    *,
    cipher: TokenCipher | None = None,
    apps: OAuthApps | None = None,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> AccountCredentials:
    """The account as its business grant acts: the grant's access token and scopes (``extra["scopes"]``).
    Without an active grant: no token and no scopes, so the comments calls refuse before the network with
    the reason. A grant refused at refresh is marked ``needs_reauth`` and answered as none, unless another
    worker (the poller, the replier) refreshed it meanwhile with the same refresh token: then the tokens
    it stored are used."""
    from chorus.accounts.service import REFRESH_AHEAD

    extra = {k: v for k, v in account.extra.items() if k not in (SCOPES_KEY, STATUS_KEY, REASON_KEY)}
    none = _credentials(account, "", extra, None)
    if not granted_scopes(account.extra):
        return none
    cipher = cipher or default_cipher()
    blob = _stored_blob(account)
    if not blob:
        return none
    tokens = cipher.decrypt(blob, _context(account.workspace_id, account.id))
    scopes = account.extra.get(SCOPES_KEY) or ""
    now = now or datetime.now(UTC)
    if tokens.expires_at and tokens.refresh_token and tokens.expires_at - now < REFRESH_AHEAD:
        try:
            tokens, scopes = _refresh(account, tokens, scopes, cipher, apps or get_apps(), session)
        except AuthError as error:
            current = _stored_blob(account)
            if not current or current == blob:
                mark_needs_reauth(account.workspace_id, account.id, error.message)
                return none
            tokens = cipher.decrypt(current, _context(account.workspace_id, account.id))
        except PlatformError as error:  # the current token may still work: the call will tell
            log.warning(
                "business token refresh failed", extra={"account_id": account.id, "error": error.message}
            )
    return _credentials(account, tokens.access_token, {**extra, SCOPES: scopes}, tokens)


def _stored_blob(account: Account) -> str | None:
    bind()
    blob: str | None = AccountItem.get(
        keys.workspace_pk(account.workspace_id), keys.account_sk(account.id), consistent_read=True
    ).grant_blob
    return blob


def _refresh(
    account: Account,
    tokens: TokenSet,
    scopes: str,
    cipher: TokenCipher,
    apps: OAuthApps,
    session: requests.Session | None,
) -> tuple[TokenSet, str]:
    from chorus.platforms.tiktok import business_auth

    app = apps.app(GRANT)
    if app is None or app.client_secret is None or not tokens.refresh_token:
        return tokens, scopes
    fresh = business_auth.refresh(app.client_id, app.client_secret, tokens.refresh_token,
                                  api_url=apps.tiktok_business_api_url, session=session)  # fmt: skip
    merged = tokens.merged_with(fresh.tokens)
    scopes = ",".join(fresh.scopes) or scopes
    store_grant(account.workspace_id, account.id, merged, scopes, cipher=cipher, extra=account.extra)
    log.info("business token refreshed", extra={"account_id": account.id, "grant": GRANT})
    return merged, scopes


def _credentials(
    account: Account, token: str, extra: dict[str, str], tokens: TokenSet | None
) -> AccountCredentials:
    return AccountCredentials(
        platform=account.platform,
        account_id=account.platform_account_id,
        access_token=token,
        refresh_token=tokens.refresh_token if tokens else None,
        expires_at=tokens.expires_at if tokens else None,
        handle=account.handle,
        base_url=account.base_url,
        extra=extra,
    )
