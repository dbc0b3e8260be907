"""Douyin OAuth against the documented answers (fixtures/platform_api/china/douyin): the authorize URL,
the code exchange (the open_id of the answer is the account; numbers printed as strings), refresh and
renew_refresh_token, the connect flow through start_connect / finish_connect with the scopes kept, a
pasted token refused, and the errors."""

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
from chorus.platforms.base import AuthError, PermanentError
from chorus.platforms.douyin import oauth as douyin
from chorus.platforms.douyin.publish import DouyinPublisher
from tests.support import fixture_json, main_table_in_moto

WS = "ws-douyin"
ADMIN = Principal(WS, "adminkey1", Role.ADMIN)
REDIRECT = "https://app.example/oauth/callback/douyin"
BASE = "https://open.douyin.com"
APPS = OAuthApps(douyin_client_id="tt10abc", douyin_client_secret="dy-secret")
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/china/douyin/{name}")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, "chorus-oauth-douyin"):
        yield


def exchange(rsps: responses.RequestsMock, answer: Any, code: str = "dy-code") -> None:
    rsps.post(f"{BASE}/oauth/access_token/", json=answer, match=[matchers.urlencoded_params_matcher(
        {"client_key": "tt10abc", "client_secret": "dy-secret", "code": code, "grant_type": "authorization_code"})])  # fmt: skip


def test_the_authorize_url_asks_for_publishing_data_comments_and_renewal() -> None:
    parts = urlsplit(douyin.authorize_url("tt10abc", REDIRECT, "st4te"))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://open.douyin.com/platform/oauth/connect/"
    assert parse_qs(parts.query) == {
        "client_key": ["tt10abc"],
        "response_type": ["code"],
        "scope": ["user_info,video.create.bind,video.data.bind,item.comment,renew_refresh_token"],
        "redirect_uri": [REDIRECT],
        "state": ["st4te"],
    }


@pytest.mark.parametrize(
    "name", ["oauth_access_token_response_docs.json", "oauth_access_token_response_skit.json"]
)
def test_the_code_exchange_reads_the_open_id_the_scopes_and_the_string_expiry(
    rsps: responses.RequestsMock, name: str
) -> None:
    exchange(rsps, doc(name))
    grant = douyin.exchange_code("tt10abc", "dy-secret", "dy-code", now=NOW)
    assert grant.open_id == "aaa-bbb-ccc"
    assert (grant.tokens.access_token, grant.tokens.refresh_token) == ("access_token", "refresh_token")
    assert grant.tokens.expires_at == NOW + timedelta(seconds=86400)
    assert grant.scopes == ("user_info",)
    assert not douyin.can_publish(grant.scopes)


def test_a_refused_code_is_the_documented_2100005(rsps: responses.RequestsMock) -> None:
    exchange(rsps, doc("oauth_access_token_error_2100005_docs.json"))
    with pytest.raises(PermanentError) as refused:
        douyin.exchange_code("tt10abc", "dy-secret", "dy-code")
    assert (refused.value.code, refused.value.message) == ("2100005", "Parameter error (error_code 2100005)")


@pytest.mark.parametrize(
    "name", ["oauth_refresh_token_response_docs.json", "oauth_refresh_token_response_skit.json"]
)
def test_a_refresh_answers_a_new_access_token(rsps: responses.RequestsMock, name: str) -> None:
    rsps.post(f"{BASE}/oauth/refresh_token/", json=doc(name), match=[matchers.urlencoded_params_matcher(
        {"client_key": "tt10abc", "grant_type": "refresh_token", "refresh_token": "rft.1"})])  # fmt: skip
    grant = douyin.refresh("tt10abc", "rft.1", now=NOW)
    assert grant.tokens.access_token == "access_token"
    assert grant.tokens.expires_at == NOW + timedelta(seconds=86400)


def test_the_refresher_refreshes_then_renews_the_refresh_token(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{BASE}/oauth/refresh_token/", json=doc("oauth_refresh_token_response_docs.json"),
              match=[matchers.urlencoded_params_matcher(
                  {"client_key": "tt10abc", "grant_type": "refresh_token", "refresh_token": "rft.old"})])  # fmt: skip
    renewed = doc("oauth_renew_refresh_token_response_skit.json")
    renewed["data"]["refresh_token"] = "rft.renewed"
    rsps.post(f"{BASE}/oauth/renew_refresh_token/", json=renewed, match=[matchers.urlencoded_params_matcher(
        {"client_key": "tt10abc", "refresh_token": "refresh_token"})])  # fmt: skip
    fresh = douyin.refreshed("tt10abc", "rft.old")
    assert (fresh.access_token, fresh.refresh_token) == ("access_token", "rft.renewed")


def test_a_renewal_refused_keeps_the_refresh_token_that_just_worked(rsps: responses.RequestsMock) -> None:
    answer = doc("oauth_refresh_token_response_skit.json")
    answer["data"]["refresh_token"] = ""  # an answer without one: the stored one is kept
    rsps.post(f"{BASE}/oauth/refresh_token/", json=answer)
    rsps.post(f"{BASE}/oauth/renew_refresh_token/", json={"data": {"error_code": 28001018, "description": "应用未获得该能力"}},
              match=[matchers.urlencoded_params_matcher({"client_key": "tt10abc", "refresh_token": "rft.old"})])  # fmt: skip
    fresh = douyin.refreshed("tt10abc", "rft.old")
    assert (fresh.access_token, fresh.refresh_token) == ("access_token", "rft.old")


def test_an_expired_refresh_token_means_authorise_again(rsps: responses.RequestsMock) -> None:
    expired = {"data": {"error_code": 10010, "description": "refresh_token 已过期"}}
    rsps.post(f"{BASE}/oauth/refresh_token/", json=expired)
    with pytest.raises(AuthError) as dead:
        douyin.refreshed("tt10abc", "rft.old")
    assert dead.value.code == "10010"


def test_connect_stores_the_open_id_as_the_account_with_its_scopes(
    aws: None, rsps: responses.RequestsMock
) -> None:
    started = oauth.start_connect(ADMIN, "douyin", REDIRECT, apps=APPS)
    assert parse_qs(urlsplit(started.authorize_url).query)["client_key"] == ["tt10abc"]
    answer = doc("oauth_access_token_response_skit.json")
    answer["data"]["scope"] = "user_info,video.create.bind,video.data.bind"
    exchange(rsps, answer)
    (account,) = oauth.finish_connect("douyin", "dy-code", started.state, ADMIN, apps=APPS)
    assert (account.platform, account.platform_account_id) == ("douyin", "aaa-bbb-ccc")
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    assert (creds.access_token, creds.refresh_token) == ("access_token", "refresh_token")
    assert creds.extra["scopes"] == "user_info,video.create.bind,video.data.bind"
    # and the refresher of the deployment's app is the Douyin one
    assert refresher_for("douyin", apps=APPS) is not None


def test_an_account_connected_without_the_create_scope_cannot_publish(
    aws: None, rsps: responses.RequestsMock
) -> None:
    started = oauth.start_connect(ADMIN, "douyin", REDIRECT, apps=APPS)
    exchange(rsps, doc("oauth_access_token_response_docs.json"))  # scope: user_info
    (account,) = oauth.finish_connect("douyin", "dy-code", started.state, ADMIN, apps=APPS)
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    from chorus.platforms.base import MediaItem, PublishRequest

    video = MediaItem(url="https://cdn.example/clip.mp4", mime_type="video/mp4")
    with pytest.raises(PermanentError) as refused:
        DouyinPublisher().publish(creds, PublishRequest("t", "x", media=(video,)))
    assert refused.value.code == "scope_missing"


def test_a_refused_code_is_a_400_naming_the_code(aws: None, rsps: responses.RequestsMock) -> None:
    started = oauth.start_connect(ADMIN, "douyin", REDIRECT, apps=APPS)
    exchange(rsps, doc("oauth_access_token_error_2100005_docs.json"), code="bad")
    with pytest.raises(BadRequest) as refused:
        oauth.finish_connect("douyin", "bad", started.state, ADMIN, apps=APPS)
    assert refused.value.errors[0].field == "code"


def test_without_the_app_configured_connecting_is_a_422_naming_the_setting(aws: None) -> None:
    with pytest.raises(ValidationFailed) as refused:
        oauth.start_connect(ADMIN, "douyin", REDIRECT, apps=OAuthApps())
    assert "CHORUS_DOUYIN_CLIENT_ID" in refused.value.errors[0].message


def test_a_pasted_token_cannot_be_proven_and_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        ownership.prove(ownership.Claim("douyin", "act.x", platform_account_id="aaa-bbb-ccc"), apps=APPS)
    assert refused.value.errors[0].field == "platform"
    assert "OAuth" in refused.value.errors[0].message
