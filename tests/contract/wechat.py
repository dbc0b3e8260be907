"""Helpers of the WeChat contract tests: the fixtures, an in-memory token store (the main table's
``DynamoAppTokens`` is exercised by the fault and integration tests) and app credentials on an account."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chorus.platforms.base import AccountCredentials
from chorus.platforms.wechat.token import AccessTokens, HeldToken
from tests.support import fixture_json

API = "https://api.weixin.qq.com"
STABLE = f"{API}/cgi-bin/stable_token"
APP = {"app_id": "APPID", "client_secret": "APPSECRET"}
CREDS = AccountCredentials(platform="wechat", account_id="gh_0123456789ab", access_token="stored-token")
APP_CREDS = replace(CREDS, extra=APP)


def china(name: str) -> Any:
    return fixture_json(f"platform_api/china/wechat/{name}")


class MemoryAppTokens:
    """``AppTokenStore`` in one process's memory, with the same lease rules as the table's."""

    def __init__(self) -> None:
        self.tokens: dict[str, HeldToken] = {}
        self.leases: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def held(self, app_id: str) -> HeldToken | None:
        return self.tokens.get(app_id)

    def lease(self, app_id: str, now: datetime, until: datetime) -> bool:
        with self._lock:
            current = self.leases.get(app_id)
            if current is not None and current >= now:
                return False
            self.leases[app_id] = until
            return True

    def keep(self, app_id: str, token: HeldToken) -> None:
        with self._lock:
            self.tokens[app_id] = token
            self.leases.pop(app_id, None)

    def release(self, app_id: str) -> None:
        self.leases.pop(app_id, None)

    def refused(self, app_id: str, token: str) -> None:
        held = self.tokens.get(app_id)
        if held is not None and held.token == token:
            self.tokens[app_id] = replace(held, refused=True)


def memory_tokens(now: list[datetime] | None = None) -> AccessTokens:
    """AccessTokens on a fresh in-memory store; ``now[0]`` is its clock when given."""
    clock = (lambda: now[0]) if now is not None else (lambda: datetime.now(UTC))
    return AccessTokens(store=MemoryAppTokens(), clock=clock, sleep=lambda s: None)
