"""What the Weibo contract tests share: the documented payloads (fixtures/platform_api/china/weibo), the
deployment's Weibo settings (safe domain, reported IP) and the account's credentials."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from chorus.accounts.apps import get_apps
from chorus.platforms.base import AccountCredentials
from tests.support import fixture_bytes, fixture_json

API = "https://api.weibo.com"
UID = "1902538057"
TOKEN = "weibo-token"
CREDS = AccountCredentials(platform="weibo", account_id=UID, access_token=TOKEN)
AUTH = {"Authorization": f"OAuth2 {TOKEN}"}
SAFE_DOMAIN = "chorus-cafe.example"
RIP = "211.156.0.1"


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/china/weibo/{name}")


def doc_text(name: str) -> str:
    return fixture_bytes(f"platform_api/china/weibo/{name}").decode("utf-8")


def jsonc(name: str) -> Any:
    """A ``.jsonc`` docs sample with its ``//`` comments dropped."""
    import json

    return json.loads(re.sub(r"//[^\n]*", "", doc_text(name)))


@pytest.fixture
def weibo_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The deployment's Weibo app: its safe domain and the IP reported as ``rip``."""
    monkeypatch.setenv("CHORUS_WEIBO_SAFE_DOMAIN", SAFE_DOMAIN)
    monkeypatch.setenv("CHORUS_WEIBO_RIP", RIP)
    get_apps.cache_clear()  # type: ignore[attr-defined]
    yield
    monkeypatch.undo()
    get_apps.cache_clear()  # type: ignore[attr-defined]
