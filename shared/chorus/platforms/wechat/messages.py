"""Replies on WeChat Official Accounts: customer-service messages (fixtures/platform_api/replies/wechat).

``POST /cgi-bin/message/custom/send?access_token=T`` with ``{"touser": <openid>, "msgtype": "text",
"text": {"content": ...}}``, allowed within 48 hours of the person's last message (the window is applied
before the call, :mod:`chorus.inbox.channels`), at most 5 messages per message of theirs. WeChat answers
HTTP 200 whatever happened: ``errcode`` 0 is success (``errmsg`` may be "ok" or ""), 45015 is "out of
time limit or unsubscribed", 45047 "out of response count limit", 40001/42001 a token WeChat no longer
takes. Match on ``errcode`` only: ``errmsg`` carries a per-request `` rid: ...`` suffix.

**The access token, once per lifetime for every worker.** With the deployment's AppID and AppSecret
(``CHORUS_WECHAT_APP_ID`` / ``CHORUS_WECHAT_APP_SECRET``) the token comes from ``POST /cgi-bin/stable_token``
in its normal mode (``force_refresh: false``): WeChat documents that within a token's validity this call
returns the same token and its remaining ``expires_in`` without renewing it, so every worker that asks
gets the one current token, none invalidates another's, and WeChat issues a new one once per lifetime
(2 hours). Each process keeps it until shortly before ``expires_in`` runs out (:class:`StableTokens`).
(``GET /cgi-bin/token`` would invalidate the previous token at each call: one worker's refresh would
break the others'.) Without app credentials the account's own stored token is used as it is.

WeChat returns no id for a customer-service message and documents no read of one: the sender is not
``verifiable`` (a lost answer is never sent again) and the reply's id is its idempotency key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    AuthError,
    PermanentError,
    PublishResult,
    TransientError,
)
from chorus.platforms.http import call, json_body
from chorus.platforms.replies import MessagingSender, ReplyRequest

PLATFORM = "wechat"
EARLY_S = 60.0
"""A cached token is asked for again this long before WeChat says it expires."""
STALE_TOKEN_CODES = frozenset({40001, 42001})
OUT_OF_WINDOW = 45015
OUT_OF_QUOTA = 45047


def api_url() -> str:
    from chorus.accounts.apps import get_apps

    return get_apps().wechat_api_url.rstrip("/")


def app_credentials() -> tuple[str, str] | None:
    """The deployment's (AppID, AppSecret), when both are configured."""
    from chorus.inbox.settings import inbox_settings

    settings = inbox_settings()
    if settings.wechat_app_id and settings.wechat_app_secret:
        return settings.wechat_app_id, settings.wechat_app_secret
    return None


def _errcode(body: Any) -> int:
    code = body.get("errcode", 0) if isinstance(body, dict) else 0
    return code if isinstance(code, int) else int(str(code))


class StableTokens:
    """The current stable access token per AppID, kept until ``EARLY_S`` before it expires."""

    def __init__(self, session: requests.Session, clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}  # app id -> (token, ask again after)

    def get(self, base_url: str, app_id: str, secret: str) -> str:
        with self._lock:
            held = self._tokens.get(app_id)
            if held is not None and self.clock() < held[1]:
                return held[0]
            resp = call(self.session, "POST", f"{base_url}/cgi-bin/stable_token", PLATFORM, idempotent=True,
                        json={"grant_type": "client_credential", "appid": app_id, "secret": secret,
                              "force_refresh": False})  # fmt: skip
            body = json_body(resp, PLATFORM)
            code = _errcode(body)
            if code != 0 or not body.get("access_token"):
                raise AuthError(
                    f"WeChat gave no access token (errcode {code})", platform=PLATFORM, code=str(code)
                )
            lifetime = float(body.get("expires_in") or 0)
            self._tokens[app_id] = (str(body["access_token"]), self.clock() + max(lifetime - EARLY_S, 5.0))
            return str(body["access_token"])

    def forget(self, app_id: str) -> None:
        with self._lock:
            self._tokens.pop(app_id, None)


class WeChatSender(MessagingSender):
    label = "WeChat"

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        app: Callable[[], tuple[str, str] | None] = app_credentials,
    ) -> None:
        super().__init__(session, base_url)
        self.app = app
        self.tokens = StableTokens(self.session)

    def _token(self, base: str, creds: AccountCredentials) -> tuple[str, str | None]:
        """(token, app id it came from; None: the account's own token)."""
        app = self.app()
        if app is None:
            return creds.access_token, None
        return self.tokens.get(base, *app), app[0]

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        if not request.recipient:
            raise PermanentError("WeChat: the conversation names no OpenID", platform=PLATFORM)
        base = (self.base_url or api_url()).rstrip("/")
        token, app_id = self._token(base, creds)
        body = {"touser": request.recipient, "msgtype": "text", "text": {"content": request.text}}

        def create() -> str:
            resp = call(self.session, "POST", f"{base}/cgi-bin/message/custom/send", PLATFORM,
                        params={"access_token": token}, json=body)  # fmt: skip
            answer = json_body(resp, PLATFORM)
            code = _errcode(answer)
            if code == 0:
                return f"wechat:{request.progress.idempotency_key()}"  # WeChat gives no message id
            message = str(answer.get("errmsg") or "")
            if code in STALE_TOKEN_CODES:
                if app_id is None:
                    raise AuthError(
                        f"WeChat refused the token (errcode {code})", platform=PLATFORM, code=str(code)
                    )
                self.tokens.forget(app_id)  # the next attempt asks for the current one
                raise TransientError(f"WeChat refused a stale token (errcode {code})", platform=PLATFORM)
            if code == OUT_OF_WINDOW:
                reason = (
                    "WeChat refused the reply: more than 48 hours since the person's last message, or they "
                    f"unfollowed the account (errcode 45015: {message})"
                )
            elif code == OUT_OF_QUOTA:
                reason = (
                    "WeChat refused the reply: the customer-service messages allowed for the person's last "
                    f"message are used up (errcode 45047: {message}); they can be answered when they write again"
                )
            else:
                reason = f"WeChat refused the reply (errcode {code}: {message})"
            raise PermanentError(reason, platform=PLATFORM, code=str(code))

        return PublishResult(platform_post_id=request.progress.step(ROOT, create))
