"""One WeChat access token per AppID, shared by every worker, fetched once per lifetime.

WeChat's ``access_token`` lasts 7200 s and "重复获取将导致上次获取的access_token失效" (a second fetch
invalidates the first, ``fixtures/platform_api/china/README.md``): workers that each fetched their own
would break one another's calls. So the token lives in ONE place, the main table
(:class:`~chorus.store.app_tokens.DynamoAppTokens`, encrypted with the stack's KMS key like account
tokens), and only the worker holding a lease on it fetches:

1. a worker reads the held token; before ``refresh_at`` (``EARLY_S`` before WeChat says it expires) it
   is used as it is, and kept in the process until then (one read and one decryption per lifetime);
2. past ``refresh_at`` (or none held), the worker takes the lease with a conditional write (no lease, or
   an expired one: a crashed refresher does not block the others for longer than ``LEASE_S``), reads
   again (another may have stored a fresh one meanwhile), fetches ``POST /cgi-bin/stable_token`` and
   stores the answer, which ends the lease;
3. a worker that finds the lease taken keeps using the held token while it is still valid (WeChat keeps
   an old token usable for 5 minutes after a new one is issued), else waits for the refresher's answer
   (every ``WAIT_STEP_S``, at most ``WAIT_S``: then a transient error, retried later).

The fetch is ``stable_token`` in normal mode (``force_refresh: false``): within a token's validity it
answers the same token, so even a fetch racing a lease that expired invalidates nobody's token.
``refused`` (WeChat answered 40001/40014/42001 to a call made with the held token) marks exactly that
token stale; the next ``get`` fetches again, in force mode (``force_refresh: true``, at most 20 a day)
only if normal mode answered the refused token again.

Replies (:mod:`chorus.platforms.wechat.messages`), publishing and metrics take their token here.
Which app: the account's own AppID (``extra["app_id"]``) and AppSecret (its encrypted
``client_secret``), else the deployment's ``CHORUS_WECHAT_APP_ID``/``CHORUS_WECHAT_APP_SECRET``; with
neither, the account's stored token is used as it is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import requests

from chorus.config import cached
from chorus.platforms.base import AccountCredentials, AuthError, TransientError
from chorus.platforms.http import call, json_body
from chorus.platforms.wechat.errors import StaleToken, errcode, raise_for_errcode

PLATFORM = "wechat"
EARLY_S = 300.0
"""A token is fetched again this long before it expires (WeChat itself renews 5 minutes early)."""
LEASE_S = 30.0
"""How long a refresher holds the lease: a worker that died holding it blocks no one for longer."""
LIFETIME_S = 7200.0
"""A token's documented lifetime, when an answer gives no ``expires_in``."""
WAIT_S = 15.0
WAIT_STEP_S = 0.1
APP_ID = "app_id"
APP_SECRET = "client_secret"  # noqa: S105 - the key of the account's sealed AppSecret in creds.extra
T = TypeVar("T")


@dataclass(frozen=True)
class HeldToken:
    token: str
    expires_at: datetime
    refresh_at: datetime
    refused: bool = False  # WeChat refused it (40001/40014/42001): never handed out again


class AppTokenStore(Protocol):
    """Where the one token per AppID is kept (encrypted) with its refresh lease."""

    def held(self, app_id: str) -> HeldToken | None:
        """The stored token (strongly consistent read), or None."""
        ...

    def lease(self, app_id: str, now: datetime, until: datetime) -> bool:
        """Take the refresh lease until ``until`` unless another holds one past ``now``."""
        ...

    def keep(self, app_id: str, token: HeldToken) -> None:
        """Store a fetched token and end the lease."""
        ...

    def release(self, app_id: str) -> None:
        """End the lease without a token (the fetch failed)."""
        ...

    def refused(self, app_id: str, token: str) -> None:
        """WeChat refused ``token``: if it is still the one held, it is due for a fetch now."""
        ...


def default_store() -> AppTokenStore:
    from chorus.store.app_tokens import DynamoAppTokens

    return DynamoAppTokens()


def api_url() -> str:
    from chorus.accounts.apps import get_apps

    return get_apps().wechat_api_url.rstrip("/")


def deployment_app() -> tuple[str, str] | None:
    """The deployment's (AppID, AppSecret), when both are configured."""
    from chorus.inbox.settings import inbox_settings

    settings = inbox_settings()
    if settings.wechat_app_id and settings.wechat_app_secret:
        return settings.wechat_app_id, settings.wechat_app_secret
    return None


def account_app(creds: AccountCredentials) -> tuple[str, str] | None:
    """The account's own (AppID, AppSecret), else the deployment's, else None."""
    app_id, secret = creds.extra.get(APP_ID), creds.extra.get(APP_SECRET)
    if app_id and secret:
        return app_id, secret
    return deployment_app()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AccessTokens:
    """The shared token of each AppID (see the module's docstring). Thread-safe; one per process."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        store: AppTokenStore | None = None,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session or requests.Session()
        self._store = store
        self.clock = clock
        self.sleep = sleep
        self._held: dict[str, HeldToken] = {}  # this process's copy, until its refresh_at
        self._lock = threading.Lock()

    @property
    def store(self) -> AppTokenStore:
        if self._store is None:
            self._store = default_store()
        return self._store

    def token(self, base_url: str, creds: AccountCredentials) -> tuple[str, str | None]:
        """(token, the AppID it belongs to; None: the account's stored token, used as it is)."""
        app = account_app(creds)
        if app is None:
            return creds.access_token, None
        return self.get(base_url, *app), app[0]

    def _remember(self, app_id: str, held: HeldToken) -> str:
        with self._lock:
            self._held[app_id] = held
        return held.token

    def get(self, base_url: str, app_id: str, secret: str) -> str:
        with self._lock:
            kept = self._held.get(app_id)
        if kept is not None and self.clock() < kept.refresh_at:
            return kept.token  # no read, no decryption: the table is read once per lifetime per process
        deadline = time.monotonic() + WAIT_S
        while True:
            now = self.clock()
            held = self.store.held(app_id)
            if held is not None and not held.refused and now < held.refresh_at:
                return self._remember(app_id, held)
            if self.store.lease(app_id, now, now + timedelta(seconds=LEASE_S)):
                return self._refresh(base_url, app_id, secret)
            if held is not None and not held.refused and now < held.expires_at:
                return held.token  # another worker is fetching its successor; this one still works
            if time.monotonic() >= deadline:
                raise TransientError(
                    "another worker is fetching the WeChat access token; try again", platform=PLATFORM
                )
            self.sleep(WAIT_STEP_S)

    def _refresh(self, base_url: str, app_id: str, secret: str) -> str:
        try:
            held = self.store.held(app_id)  # stored by another worker between our read and our lease?
            if held is not None and not held.refused and self.clock() < held.refresh_at:
                self.store.release(app_id)
                return self._remember(app_id, held)
            token, lifetime = self._fetch(base_url, app_id, secret, force=False)
            if held is not None and held.refused and token == held.token:  # normal mode kept the refused one
                token, lifetime = self._fetch(base_url, app_id, secret, force=True)
        except BaseException:
            self.store.release(app_id)
            raise
        now = self.clock()
        expires = now + timedelta(seconds=lifetime)
        refresh = now + timedelta(seconds=max(lifetime - EARLY_S, lifetime / 2))
        fresh = HeldToken(token, expires, refresh)
        self.store.keep(app_id, fresh)
        return self._remember(app_id, fresh)

    def _fetch(self, base_url: str, app_id: str, secret: str, *, force: bool) -> tuple[str, float]:
        body: dict[str, Any] = {"grant_type": "client_credential", "appid": app_id, "secret": secret,
                                "force_refresh": force}  # fmt: skip
        resp = call(
            self.session, "POST", f"{base_url}/cgi-bin/stable_token", PLATFORM, idempotent=True, json=body
        )
        answer = json_body(resp, PLATFORM)
        raise_for_errcode(answer, "the access token")
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise AuthError(f"WeChat gave no access token (errcode {errcode(answer)})", platform=PLATFORM)
        try:
            lifetime = float(answer.get("expires_in") or LIFETIME_S)
        except (TypeError, ValueError):
            lifetime = LIFETIME_S
        return str(answer["access_token"]), lifetime

    def refused(self, app_id: str, token: str) -> None:
        """WeChat refused ``token`` as invalid or expired: the next ``get`` fetches another."""
        with self._lock:
            if (kept := self._held.get(app_id)) is not None and kept.token == token:
                del self._held[app_id]
        self.store.refused(app_id, token)


@cached
def shared_tokens() -> AccessTokens:
    """This process's :class:`AccessTokens` on the main table (replies, publishing and metrics)."""
    return AccessTokens()


class SharedTokenUser:
    """What a WeChat adapter holds to reach the shared token: the ``AccessTokens`` given (tests), else
    this process's (:func:`shared_tokens`), taken on first use."""

    _tokens: AccessTokens | None = None

    @property
    def tokens(self) -> AccessTokens:
        if self._tokens is None:
            self._tokens = shared_tokens()
        return self._tokens


def with_token(tokens: AccessTokens, base_url: str, creds: AccountCredentials, send: Callable[[str], T]) -> T:
    """``send(token)`` with the account's token; when WeChat refuses it as stale (:class:`StaleToken`:
    it did nothing), the token is marked refused, the current one fetched and ``send`` repeated once.
    With the account's own stored token (no app) the refusal is an AuthError: nothing to fetch with."""
    token, app_id = tokens.token(base_url, creds)
    try:
        return send(token)
    except StaleToken:
        app = account_app(creds)
        if app_id is None or app is None:
            raise
        tokens.refused(app_id, token)
        return send(tokens.get(base_url, *app))
