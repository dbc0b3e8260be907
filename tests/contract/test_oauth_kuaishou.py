"""Kuaishou OAuth against the documented requests and answers (fixtures/platform_api/china/kuaishou):
the authorize URL, the code exchange (GET with app_id/app_secret/code; the open_id of the answer is the
account), the rotating refresh, the connect flow with the app id kept, and the errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from chorus.accounts import oauth, ownership
from chorus.accounts import service as accounts
from chorus.accounts.apps import OAuthApps
from chorus.accounts.refreshers import refresher_for
from chorus.auth.keys import Principal
from chorus.auth.roles import Role
from chorus.errors import BadRequest, ValidationFailed
from chorus.platforms.base import AccountCredentials, AuthError
from chorus.platforms.kuaishou import oauth as kuaishou
from tests.support import fixture_json, main_table_in_moto

WS = "ws-kuaishou"
ADMIN = Principal(WS, "adminkey1", Role.ADMIN)
REDIRECT = "https://app.example/oauth/callback/kuaishou"
BASE = "https://open.kuaishou.com"
APPS = OAuthApps(kuaishou_client_id="ks-app", kuaishou_client_secret="ks-secret")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
EXCHANGE = {
    "app_id": "ks-app",
    "app_secret": "ks-secret",
    "code": "ks-code",
    "grant_type": "authorization_code",
}


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/china/kuaishou/{name}")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, "chorus-oauth-kuaishou"):
        yield


def test_the_authorize_url_asks_for_publishing_and_counts() -> None:
    parts = urlsplit(kuaishou.authorize_url("ks-app", REDIRECT, "st4te"))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://open.kuaishou.com/oauth2/authorize"
    assert parse_qs(parts.query) == {
        "app_id": ["ks-app"],
        "scope": ["user_info,user_video_publish,user_video_info"],
        "response_type": ["code"],
        "redirect_uri": [REDIRECT],
        "state": ["st4te"],
    }


def test_the_documented_exchange_gives_the_open_id_and_the_returned_lifetimes(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(f"{BASE}/oauth2/access_token", json=doc("oauth2_access_token_response_docs.json"),
             match=[matchers.query_param_matcher(EXCHANGE)])  # fmt: skip
    grant = kuaishou.exchange_code("ks-app", "ks-secret", "ks-code", now=NOW)
    assert grant.open_id == "xxxxx"
    assert (grant.tokens.access_token, grant.tokens.refresh_token) == ("xxxxxxx", "xxxxxx")
    assert grant.tokens.expires_at == NOW + timedelta(seconds=172800)
    assert grant.scopes == ("user_info",)


def test_a_refresh_rotates_the_refresh_token(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/oauth2/refresh_token", json=doc("oauth2_refresh_token_response_docs.json"),
             match=[matchers.query_param_matcher({"app_id": "ks-app", "app_secret": "ks-secret",
                                                  "refresh_token": "old", "grant_type": "refresh_token"})])  # fmt: skip
    fresh = kuaishou.refresh("ks-app", "ks-secret", "old", now=NOW)
    assert (fresh.access_token, fresh.refresh_token, fresh.expires_at) == (
        "xxxxxxx",
        "xxxxxx",
        NOW + timedelta(seconds=3600),
    )


def test_a_refused_refresh_means_authorise_again(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/oauth2/refresh_token", json={"result": 10000200, "error_msg": "refresh_token 已过期"})
    with pytest.raises(AuthError):
        kuaishou.refresh("ks-app", "ks-secret", "old")


def test_the_refresher_uses_the_deployments_app(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/oauth2/refresh_token", json=doc("oauth2_refresh_token_response_docs.json"))
    refresh = refresher_for("kuaishou", apps=APPS)
    assert refresh is not None
    creds = AccountCredentials("kuaishou", "xxxxx", "a", refresh_token="old", extra={"app_id": "ks-app"})
    fresh = refresh(creds)
    assert fresh is not None
    assert fresh.refresh_token == "xxxxxx"


def test_connect_stores_the_open_id_with_its_name_and_the_app_id(
    aws: None, rsps: responses.RequestsMock
) -> None:
    started = oauth.start_connect(ADMIN, "kuaishou", REDIRECT, apps=APPS)
    assert parse_qs(urlsplit(started.authorize_url).query)["app_id"] == ["ks-app"]
    rsps.get(f"{BASE}/oauth2/access_token", json=doc("oauth2_access_token_response_docs.json"),
             match=[matchers.query_param_matcher(EXCHANGE)])  # fmt: skip
    rsps.get(f"{BASE}/openapi/user_info", json={"result": 1, "user_info": {"name": "快手小店", "fan": 3}},
             match=[matchers.query_param_matcher({"app_id": "ks-app", "access_token": "xxxxxxx"})])  # fmt: skip
    (account,) = oauth.finish_connect("kuaishou", "ks-code", started.state, ADMIN, apps=APPS)
    assert (account.platform_account_id, account.display_name) == ("xxxxx", "快手小店")
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    assert (creds.access_token, creds.refresh_token, creds.extra["app_id"]) == ("xxxxxxx", "xxxxxx", "ks-app")


def test_a_refused_code_is_a_400_naming_the_code(aws: None, rsps: responses.RequestsMock) -> None:
    started = oauth.start_connect(ADMIN, "kuaishou", REDIRECT, apps=APPS)
    rsps.get(f"{BASE}/oauth2/access_token", json=doc("error_envelope_result_code_docs.json"))
    with pytest.raises(BadRequest) as refused:
        oauth.finish_connect("kuaishou", "ks-code", started.state, ADMIN, apps=APPS)
    assert refused.value.errors[0].field == "code"


def test_a_pasted_token_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        ownership.prove(ownership.Claim("kuaishou", "ks-x"), apps=APPS)
    assert refused.value.errors[0].field == "platform"


def test_a_transport_failure_names_no_secret(rsps: responses.RequestsMock) -> None:
    import requests

    from chorus.platforms.base import PlatformError

    rsps.get(f"{BASE}/oauth2/access_token", body=requests.ConnectionError(
        f"Connection aborted: {BASE}/oauth2/access_token?app_id=ks-app&app_secret=ks-secret&code=ks-code"))  # fmt: skip
    with pytest.raises(PlatformError) as failed:
        kuaishou.exchange_code("ks-app", "ks-secret", "ks-code")
    assert "ks-secret" not in failed.value.message
    assert "ks-code" not in failed.value.message
