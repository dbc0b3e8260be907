"""Revoking an account's authorisations at its platform once the account is removed from Chorus, so the
app leaves the account holder's connected apps instead of keeping a live grant nobody uses.

- **TikTok**: the business grant first (TikTok API for Business, the "Enable comments" step:
  :func:`chorus.accounts.grants.revoke_grant`, ``tt_user/oauth2/revoke/``), then the Login Kit token
  (``POST /v2/oauth/revoke/``, :func:`chorus.platforms.tiktok.oauth.revoke`), each with the freshest
  access token the account held (refreshed first, in memory only, when it has expired).
- Other platforms: nothing is revoked (no revoke wired yet).

The revoke runs from the table's stream (:func:`on_account_removed`, the account item's REMOVE record and
its old image with the sealed tokens), in a function allowed to decrypt tokens: the API that removes the
account only ever seals them (docs/security.md). Nothing is written back: the account is gone, and a
store would bring its item back.

A revoke never fails the stream's batch: a refusal, a 5xx, a timeout, an app that is not configured or a
token that cannot be unsealed is logged (the account, the platform, which authorisation and the error's
message: never a token) and the next step goes on. Each revoke waits at most ``READ_TIMEOUT_S`` for its
answer, and no step starts once ``BUDGET_S`` has passed (a refresh before a revoke takes the ordinary
timeout). A batch delivered again revokes again: TikTok refuses a revoked token, which is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import requests

from chorus.accounts.apps import OAuthApps, get_apps
from chorus.accounts.tokens import TokenCipher
from chorus.platforms.base import PermanentError, PlatformError
from chorus.platforms.http import default_timeout
from chorus.platforms.tiktok.comments import GRANT

if TYPE_CHECKING:
    from chorus.accounts.service import Account

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 5.0  # the longest wait for one revoke's answer (a shorter configured one wins)
BUDGET_S = 15.0
LOGIN = "login"  # the account's own authorisation (the token it publishes with)

Revoke = Callable[["Account", OAuthApps, requests.Session, "TokenCipher | None"], bool]


def _tiktok_business(
    account: Account, apps: OAuthApps, http: requests.Session, cipher: TokenCipher | None
) -> bool:
    from chorus.accounts.grants import revoke_grant

    return revoke_grant(account, cipher=cipher, apps=apps, session=http, timeout=_timeout())


def _tiktok_login(
    account: Account, apps: OAuthApps, http: requests.Session, cipher: TokenCipher | None
) -> bool:
    from chorus.accounts.service import credentials
    from chorus.platforms.tiktok import oauth

    app = apps.app("tiktok")
    if app is None or app.client_secret is None:
        raise PermanentError(
            "the TikTok app is not configured (CHORUS_TIKTOK_CLIENT_ID / _SECRET)", platform=account.platform
        )
    token = credentials(account, cipher, store=False).access_token
    if not token:
        return False
    oauth.revoke(app.client_id, app.client_secret, token, session=http, api_url=apps.tiktok_api_url,
                 timeout=_timeout())  # fmt: skip
    return True


def _timeout() -> tuple[float, float]:
    connect, read = default_timeout()
    return connect, min(read, READ_TIMEOUT_S)


REVOKERS: dict[str, tuple[tuple[str, Revoke], ...]] = {
    "tiktok": ((GRANT, _tiktok_business), (LOGIN, _tiktok_login)),
}
"""Per platform, in order: (which authorisation, how it is revoked: False when there is none to revoke)."""


def revoke_all(
    account: Account,
    *,
    apps: OAuthApps | None = None,
    session: requests.Session | None = None,
    cipher: TokenCipher | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """Revoke what ``account`` holds at its platform; the authorisations TikTok confirmed revoked. Never
    raises a platform's error: each failure is logged and the next step goes on."""
    steps = REVOKERS.get(account.platform, ())
    if not steps:
        return []
    apps = apps or get_apps()
    http = session or requests.Session()  # the deployment's TikTok endpoints, never a user's URL
    started = clock()
    revoked: list[str] = []
    for which, revoke in steps:
        context = {"account_id": account.id, "platform": account.platform, "authorisation": which}
        if clock() - started > BUDGET_S:
            log.warning("authorisation not revoked: no time left", extra=context)
            continue
        try:
            if revoke(account, apps, http, cipher):
                revoked.append(which)
                log.info("authorisation revoked", extra=context)
        except PlatformError as error:
            log.warning("authorisation not revoked", extra={**context, "error": error.message})
        except Exception as error:
            log.warning("authorisation not revoked", extra={**context, "error": type(error).__name__})
    return revoked


def on_account_removed(old_image: Mapping[str, Any], **options: Any) -> list[str]:
    """An account item's REMOVE stream record: revoke what the removed account held (its old image carries
    the sealed tokens); the authorisations TikTok confirmed revoked. Never raises."""
    from chorus.accounts.service import from_image

    if old_image.get("platform") not in REVOKERS:
        return []
    try:
        account = from_image(old_image)
    except (KeyError, TypeError, ValueError) as error:
        log.warning("authorisations not revoked: unreadable account image", extra={
            "account_id": old_image.get("account_id"), "error": type(error).__name__})  # fmt: skip
        return []
    return revoke_all(account, **options)
