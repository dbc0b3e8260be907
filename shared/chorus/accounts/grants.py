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
- **Ends** when its refresh token expires (a year: ``refresh_token_expires_in``, recorded in the clear as
  ``tiktok_business.refresh_expires_at`` and shown as the comments step's ``expires_at``). The owner is
  warned ``chorus.accounts.expiry.WARN_AHEAD`` (7 days) before, once, by the scheduler's hourly run and
  the same ``AccountTokenExpiring`` alert as a token that cannot be refreshed (:func:`store_grant` puts
  the grant in the warning index when its end is new). Once it has passed the grant counts as
  ``needs_reauth`` (shown so at once, marked so by the next use); publishing is not touched.
- **Revoked at TikTok** once the account is removed (:func:`revoke_grant`, ``tt_user/oauth2/revoke/``
  with the removed item's access token, refreshed in memory when it has expired), from the table's
  stream: a refusal or a timeout is logged and the stream's batch goes on (``chorus.accounts.revocation``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests

from chorus.accounts import expiry
from chorus.accounts.apps import OAuthApps, get_apps
from chorus.accounts.tokens import TokenCipher, TokenSet, default_cipher
from chorus.platforms.base import AccountCredentials, AuthError, PermanentError, PlatformError
from chorus.platforms.tiktok.comments import GRANT, SCOPES
from chorus.store import keys
from chorus.store.models import AccountItem, bind

if TYPE_CHECKING:
    from chorus.accounts.service import Account

log = logging.getLogger(__name__)

SCOPES_KEY = f"{GRANT}.scopes"
STATUS_KEY = f"{GRANT}.status"
REASON_KEY = f"{GRANT}.reason"
ENDS_KEY = f"{GRANT}.refresh_expires_at"
ACTIVE = "active"
NEEDS_REAUTH = "needs_reauth"
SAME_END = timedelta(days=1)
"""Two ends of the grant closer than this are the same refresh token's (a refresh answers the seconds
left, so the same end computed twice differs by the answer's latency): not a new warning."""


def _context(workspace_id: str, account_id: str) -> dict[str, str]:
    return {"workspace_id": workspace_id, "account_id": account_id, "grant": GRANT}


def _item(workspace_id: str, account_id: str) -> AccountItem:
    return AccountItem(keys.workspace_pk(workspace_id), keys.account_sk(account_id))


def ends_at(extra: dict[str, str]) -> datetime | None:
    """When the grant's refresh token expires (None: TikTok did not say, or no grant)."""
    value = extra.get(ENDS_KEY)
    return keys.parse_iso(value) if value else None


def _ended_reason(ends: datetime) -> str:
    return f"TikTok's business authorisation ended on {keys.iso(ends)}: enable comments again"


def active(extra: dict[str, str], now: datetime | None = None) -> bool:
    """Whether the grant can be used: marked active and its refresh token not expired."""
    ends = ends_at(extra)
    return extra.get(STATUS_KEY) == ACTIVE and (ends is None or ends > (now or datetime.now(UTC)))


def granted_scopes(extra: dict[str, str]) -> set[str]:
    """The scopes of the account's business grant while it is active (an empty set otherwise)."""
    if not active(extra):
        return set()
    return {s.strip() for s in (extra.get(SCOPES_KEY) or "").split(",") if s.strip()}


def view(platform: str, extra: dict[str, str], now: datetime | None = None) -> dict[str, Any] | None:
    """What ``GET /accounts`` shows of a TikTok account's comments step (None for other platforms):
    ``status`` ``off`` (never enabled), ``active`` or ``needs_reauth`` (also once the grant has ended,
    before anything marked it), the scopes, the reason, and ``expires_at``: when the grant ends."""
    if platform != "tiktok":
        return None
    status = extra.get(STATUS_KEY) or "off"
    reason = extra.get(REASON_KEY) if status == NEEDS_REAUTH else None
    ends = ends_at(extra)
    if status == ACTIVE and not active(extra, now) and ends is not None:
        status, reason = NEEDS_REAUTH, _ended_reason(ends)
    scopes = sorted({s.strip() for s in (extra.get(SCOPES_KEY) or "").split(",") if s.strip()})
    return {
        "status": status,
        "scopes": scopes,
        "reason": reason,
        "expires_at": keys.iso(ends) if ends and status != "off" else None,
    }


def store_grant(
    workspace_id: str,
    account_id: str,
    tokens: TokenSet,
    scopes: str,
    *,
    cipher: TokenCipher | None = None,
    extra: dict[str, str] | None = None,
    ends: datetime | None = None,
) -> None:
    """Seal and store the grant's tokens and record its scopes (active again). ``extra``: the account's
    as read (the other keys are kept). ``ends``: when the refresh token expires, as the token answer
    said (None: the recorded end stays); a new end (not within ``SAME_END`` of the recorded one) puts
    the grant in the expiry-warning index for its own warning."""
    bind()
    blob = (cipher or default_cipher()).encrypt(tokens, _context(workspace_id, account_id))
    kept = {k: v for k, v in (extra or {}).items() if k != REASON_KEY}
    before = ends_at(kept)
    renewed = ends is not None and (before is None or abs(ends - before) >= SAME_END)
    if renewed and ends is not None:
        kept[ENDS_KEY] = keys.iso(ends)
    _item(workspace_id, account_id).update(
        actions=[
            AccountItem.grant_blob.set(blob),
            AccountItem.extra.set({**kept, SCOPES_KEY: scopes, STATUS_KEY: ACTIVE}),
        ]
    )
    if renewed:
        expiry.grant_warning(workspace_id, account_id, GRANT, ends)


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

    extra = {
        k: v for k, v in account.extra.items() if k not in (SCOPES_KEY, STATUS_KEY, REASON_KEY, ENDS_KEY)
    }
    none = _credentials(account, "", extra, None)
    now = now or datetime.now(UTC)
    ends = ends_at(account.extra)
    if account.extra.get(STATUS_KEY) == ACTIVE and ends is not None and ends <= now:
        mark_needs_reauth(account.workspace_id, account.id, _ended_reason(ends))
        return none
    if not granted_scopes(account.extra):
        return none
    cipher = cipher or default_cipher()
    blob = _stored_blob(account)
    if not blob:
        return none
    tokens = cipher.decrypt(blob, _context(account.workspace_id, account.id))
    scopes = account.extra.get(SCOPES_KEY) or ""
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
    merged, scopes, ends = _refreshed(tokens, scopes, apps, session)
    if merged is tokens:
        return tokens, scopes
    store_grant(
        account.workspace_id, account.id, merged, scopes, cipher=cipher, extra=account.extra, ends=ends
    )
    log.info("business token refreshed", extra={"account_id": account.id, "grant": GRANT})
    return merged, scopes


def _refreshed(
    tokens: TokenSet, scopes: str, apps: OAuthApps, session: requests.Session | None
) -> tuple[TokenSet, str, datetime | None]:
    """The grant's tokens refreshed at TikTok, in memory (the same ``tokens`` when the app is not
    configured or there is no refresh token); its scopes and when the new refresh token ends."""
    from chorus.platforms.tiktok import business_auth

    app = apps.app(GRANT)
    if app is None or app.client_secret is None or not tokens.refresh_token:
        return tokens, scopes, None
    fresh = business_auth.refresh(app.client_id, app.client_secret, tokens.refresh_token,
                                  api_url=apps.tiktok_business_api_url, session=session)  # fmt: skip
    return tokens.merged_with(fresh.tokens), ",".join(fresh.scopes) or scopes, fresh.refresh_expires_at


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


def revoke_grant(
    account: Account,
    *,
    cipher: TokenCipher | None = None,
    apps: OAuthApps | None = None,
    session: requests.Session | None = None,
    timeout: tuple[float, float] | None = None,
    now: datetime | None = None,
) -> bool:
    """End the account holder's authorisation of the business app at TikTok (the account was removed):
    ``tt_user/oauth2/revoke/`` with the access token of ``account.grant_blob`` (the removed item's), refreshed
    first in memory when it has expired; nothing is written (the account is gone). False when the account
    held no grant; raises the platform's error when TikTok does not confirm (or the business app is not
    configured)."""
    from chorus.accounts.service import REFRESH_AHEAD
    from chorus.platforms.tiktok import business_auth

    if not account.grant_blob:
        return False
    apps = apps or get_apps()
    app = apps.app(GRANT)
    if app is None or app.client_secret is None:
        raise PermanentError(
            "the TikTok API for Business app is not configured (CHORUS_TIKTOK_BUSINESS_CLIENT_ID / _SECRET)",
            platform=account.platform,
        )
    cipher = cipher or default_cipher()
    tokens = cipher.decrypt(account.grant_blob, _context(account.workspace_id, account.id))
    now = now or datetime.now(UTC)
    if tokens.expires_at and tokens.refresh_token and tokens.expires_at - now < REFRESH_AHEAD:
        tokens, _, _ = _refreshed(tokens, "", apps, session)
    url = apps.tiktok_business_revoke_url or business_auth.revoke_url(apps.tiktok_business_api_url)
    business_auth.revoke(app.client_id, app.client_secret, tokens.access_token, url=url, session=session,
                         timeout=timeout)  # fmt: skip
    return True


def forget(workspace_id: str, account_id: str) -> None:
    """The account is gone: its grant leaves the expiry-warning index."""
    expiry.grant_warning(workspace_id, account_id, GRANT, None)
