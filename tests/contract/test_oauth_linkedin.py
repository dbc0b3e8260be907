"""LinkedIn OAuth against the documented requests and answers (fixtures/platform_api/publishing/linkedin):
the 3-legged authorize URL, the code exchange (60-day token, no refresh token on self-serve apps), the
refresh of approved MDP apps, the connect flow through ``start_connect`` / ``finish_connect`` (what
``GET /accounts/connect/linkedin`` and ``/oauth/callback/linkedin`` run) with ownership proven: the
member by ``/v2/userinfo``, each page by ``organizationAcls``; and the errors."""

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
from chorus.accounts.tokens import TokenSet
from chorus.auth.keys import Principal
from chorus.auth.roles import Role
from chorus.errors import BadRequest, ValidationFailed
from chorus.platforms.base import AuthError
from chorus.platforms.linkedin import oauth as linkedin
from tests.support import fixture_json, main_table_in_moto

WS = "ws-linkedin"
ADMIN = Principal(WS, "adminkey1", Role.ADMIN)
REDIRECT = "https://app.example/oauth/callback/linkedin"
OAUTH = "https://www.linkedin.com/oauth/v2"
API = "https://api.linkedin.com"
APPS = OAuthApps(linkedin_client_id="li-app", linkedin_client_secret="li-secret")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ACCESS = "AQUvlL_DYEzvT2wz1QJiEPeLioeA"  # oauth_access_token_response.json
USERINFO = {"sub": "782bbtaQ", "name": "John Doe", "given_name": "John", "family_name": "Doe"}
ACLS = {"elements": [
    {"organization": "urn:li:organization:2414183", "role": "ADMINISTRATOR", "state": "APPROVED",
     "roleAssignee": "urn:li:person:782bbtaQ"},
    {"organization": "urn:li:organization:5515715", "role": "ADMINISTRATOR", "state": "APPROVED",
     "roleAssignee": "urn:li:person:782bbtaQ"},
]}  # fmt: skip
BEARER = matchers.header_matcher({"Authorization": f"Bearer {ACCESS}"})
VERSIONED = matchers.header_matcher(
    {"Authorization": f"Bearer {ACCESS}", "LinkedIn-Version": linkedin.API_VERSION,
     "X-Restli-Protocol-Version": "2.0.0"})  # fmt: skip


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/publishing/linkedin/{name}")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHORUS_LINKEDIN_CLIENT_ID", "li-app")
    monkeypatch.setenv("CHORUS_LINKEDIN_CLIENT_SECRET", "li-secret")
    with main_table_in_moto(monkeypatch, "chorus-oauth-linkedin"):
        yield


def token_exchange(rsps: responses.RequestsMock, answer: Any = None, code: str = "li-code") -> None:
    rsps.post(f"{OAUTH}/accessToken", json=answer or doc("oauth_access_token_response.json"),
              match=[matchers.urlencoded_params_matcher(
                  {"grant_type": "authorization_code", "code": code, "client_id": "li-app",
                   "client_secret": "li-secret", "redirect_uri": REDIRECT})])  # fmt: skip


def test_the_authorize_url_is_linkedins_3_legged_flow_with_space_separated_scopes() -> None:
    url = linkedin.authorize_url("li-app", REDIRECT, "st4te")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{OAUTH}/authorization"
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": ["li-app"],
        "redirect_uri": [REDIRECT],
        "state": ["st4te"],
        "scope": ["openid profile w_member_social w_organization_social r_organization_social "
                  "rw_organization_admin"],
    }  # fmt: skip


def test_the_code_exchange_reads_the_documented_60_day_token_without_refresh_token(
    rsps: responses.RequestsMock,
) -> None:
    token_exchange(rsps)
    granted = linkedin.exchange_code("li-app", "li-secret", REDIRECT, "li-code", now=NOW)
    assert (granted.access_token, granted.refresh_token) == (ACCESS, None)
    assert granted.expires_at == NOW + timedelta(days=60)  # expires_in 5184000


def test_an_mdp_apps_answer_keeps_its_refresh_token_and_reads_its_lifetimes(
    rsps: responses.RequestsMock,
) -> None:
    answer = doc("oauth_access_token_response_with_refresh_token.json")
    token_exchange(rsps, answer)
    granted = linkedin.exchange_code("li-app", "li-secret", REDIRECT, "li-code", now=NOW)
    assert granted.refresh_token == answer["refresh_token"]
    assert granted.expires_at == NOW + timedelta(seconds=answer["expires_in"])  # read, never assumed


def test_a_refresh_sends_the_documented_form_and_keeps_the_refresh_token(
    rsps: responses.RequestsMock,
) -> None:
    answer = doc("oauth_refresh_token_response.json")
    rsps.post(f"{OAUTH}/accessToken", json=answer, match=[matchers.urlencoded_params_matcher(
        {"grant_type": "refresh_token", "refresh_token": "r-1", "client_id": "li-app",
         "client_secret": "li-secret"})])  # fmt: skip
    fresh = linkedin.refresh("li-app", "li-secret", "r-1", now=NOW)
    assert (fresh.access_token, fresh.refresh_token) == (answer["access_token"], answer["refresh_token"])


def test_a_refused_refresh_token_means_the_member_must_authorise_again(rsps: responses.RequestsMock) -> None:
    # api_reference.json oauth_errors: 400 invalid_request "...invalid, expired or revoked"
    body = {"error": "invalid_request",
            "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked"}  # fmt: skip
    rsps.post(f"{OAUTH}/accessToken", json=body, status=400)
    with pytest.raises(AuthError, match="invalid, expired or revoked"):
        linkedin.refresh("li-app", "li-secret", "r-dead")


def acls_and_member(rsps: responses.RequestsMock, acls: Any = ACLS, status: int = 200) -> None:
    rsps.get(f"{API}/v2/userinfo", json=USERINFO, match=[BEARER])
    rsps.get(f"{API}/rest/organizationAcls", json=acls, status=status, match=[VERSIONED,
             matchers.query_param_matcher({"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"})])  # fmt: skip


def test_connect_adds_the_member_and_each_page_it_administers_with_their_expiry(
    aws: None, rsps: responses.RequestsMock
) -> None:
    # Given a connection started for LinkedIn
    started = oauth.start_connect(ADMIN, "linkedin", REDIRECT, apps=APPS)
    assert parse_qs(urlsplit(started.authorize_url).query)["client_id"] == ["li-app"]
    token_exchange(rsps)
    acls_and_member(rsps)
    # When LinkedIn sends the member back with a code
    connected = oauth.finish_connect("linkedin", "li-code", started.state, ADMIN, apps=APPS)
    # Then the member (its person URN, the author of its posts) and both pages are accounts
    assert [(a.platform, a.platform_account_id) for a in connected] == [
        ("linkedin", "urn:li:person:782bbtaQ"),
        ("linkedin", "urn:li:organization:2414183"),
        ("linkedin", "urn:li:organization:5515715"),
    ]
    assert connected[0].display_name == "John Doe"
    assert connected[1].extra["member"] == "urn:li:person:782bbtaQ"
    for account in connected:
        creds = accounts.credentials(accounts.get_account(WS, account.id))
        assert (creds.access_token, creds.refresh_token) == (ACCESS, None)
        assert account.token_expires_at is not None
        assert account.token_expires_at - datetime.now(UTC) > timedelta(days=59)


def test_a_token_without_the_organization_scopes_connects_the_member_alone(
    aws: None, rsps: responses.RequestsMock
) -> None:
    started = oauth.start_connect(ADMIN, "linkedin", REDIRECT, apps=APPS)
    token_exchange(rsps)
    acls_and_member(
        rsps, {"message": "Not enough permissions to access: organizationAcls", "status": 403}, 403
    )
    (account,) = oauth.finish_connect("linkedin", "li-code", started.state, ADMIN, apps=APPS)
    assert account.platform_account_id == "urn:li:person:782bbtaQ"


def test_a_refused_code_is_a_400_naming_the_code(aws: None, rsps: responses.RequestsMock) -> None:
    started = oauth.start_connect(ADMIN, "linkedin", REDIRECT, apps=APPS)
    rsps.post(f"{OAUTH}/accessToken", status=400, json={
        "error": "invalid_request", "error_description": "Unable to retrieve access token: authorization code not found"})  # fmt: skip
    with pytest.raises(BadRequest) as refused:
        oauth.finish_connect("linkedin", "bad", started.state, ADMIN, apps=APPS)
    assert refused.value.errors[0].field == "code"
    assert "authorization code not found" in refused.value.detail


def test_an_expired_token_at_connect_is_a_400_naming_the_code(
    aws: None, rsps: responses.RequestsMock
) -> None:
    started = oauth.start_connect(ADMIN, "linkedin", REDIRECT, apps=APPS)
    token_exchange(rsps)
    rsps.get(f"{API}/v2/userinfo", status=401, json=doc("error_401_empty_token.json"))
    with pytest.raises(BadRequest) as refused:
        oauth.finish_connect("linkedin", "li-code", started.state, ADMIN, apps=APPS)
    assert "Empty oauth2_access_token" in refused.value.detail


def test_connecting_linkedin_without_the_app_configured_is_a_422_naming_the_platform(aws: None) -> None:
    with pytest.raises(ValidationFailed) as refused:
        oauth.start_connect(ADMIN, "linkedin", REDIRECT, apps=OAuthApps(linkedin_client_id=""))
    assert refused.value.errors[0].field == "platform"
    assert "CHORUS_LINKEDIN_CLIENT_ID" in refused.value.errors[0].message


def test_a_pasted_token_proves_the_member_or_a_page_it_administers(
    aws: None, rsps: responses.RequestsMock
) -> None:
    acls_and_member(rsps)
    member = ownership.connect_with_token(
        WS, ownership.Claim("linkedin", ACCESS), TokenSet(ACCESS), apps=APPS
    )
    assert member.platform_account_id == "urn:li:person:782bbtaQ"
    page = ownership.connect_with_token(
        WS, ownership.Claim("linkedin", ACCESS, platform_account_id="5515715"), TokenSet(ACCESS), apps=APPS
    )
    assert page.platform_account_id == "urn:li:organization:5515715"
    rsps.get(f"{API}/rest/organizationAcls", json=ACLS)
    with pytest.raises(BadRequest):
        ownership.prove(ownership.Claim("linkedin", ACCESS, platform_account_id="1"), apps=APPS)


def test_an_mdp_token_is_refreshed_ahead_of_expiry(aws: None, rsps: responses.RequestsMock) -> None:
    account = accounts.connect_or_reconnect(
        WS, "linkedin", "urn:li:organization:5515715",
        TokenSet("old", "r-1", datetime.now(UTC) + timedelta(minutes=5)),
    )  # fmt: skip
    answer = doc("oauth_refresh_token_response.json")
    rsps.post(f"{OAUTH}/accessToken", json=answer)
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    assert (creds.access_token, creds.refresh_token) == (answer["access_token"], answer["refresh_token"])
