"""TikTok API for Business's authorisation of a TikTok account holder (the "Enable comments" step of a
TikTok account) against the shapes chorus.platforms.tiktok.business_auth documents and says how far it
verified: the authorisation page, ``tt_user/oauth2/token/``, ``tt_user/oauth2/refresh_token/`` and
``tt_user/token_info/get/`` (JSON bodies; answers in the ``{code, message, request_id, data}`` envelope,
the data as the python-tiktok SDK recorded it), the error envelope, and the step end to end through
``start_connect`` / ``finish_connect`` on moto: the grant sealed beside the Login Kit tokens, its scopes
recorded, its owner proven (another open_id is refused), refreshed ahead of expiry, and a dead grant
marked without touching the account's publishing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from chorus.accounts import grants, oauth, revocation
from chorus.accounts import service as accounts
from chorus.accounts.apps import OAuthApps
from chorus.accounts.tokens import TokenSet
from chorus.auth.keys import Principal
from chorus.auth.roles import Role
from chorus.errors import BadRequest, Forbidden, ValidationFailed
from chorus.inbox import channels
from chorus.platforms.base import AuthError, PermanentError
from chorus.platforms.tiktok import business_auth
from chorus.platforms.tiktok.comments import GRANT, LIST_SCOPE, MANAGE_SCOPE, SCOPES
from chorus.store import keys
from chorus.store.models import AccountItem
from tests.contract.replying import rsps
from tests.support import main_table_in_moto

__all__ = ["rsps"]

BASE = "https://business-api.tiktok.com/open_api/v1.3"
WS = "ws-tiktok-business"
ADMIN = Principal(WS, "adminkey1", Role.ADMIN)
REDIRECT = "https://app.example/accounts"
OPEN_ID = "-000Vd1h0s0Yf6kOwRMy1OLmmpWAXmJ5ND5Q"
APPS = OAuthApps(tiktok_business_client_id="biz-app", tiktok_business_client_secret="biz-secret")
GRANTED = (
    "video.publish,comment.list.manage,video.insights,video.list,user.insights,user.info.basic,"
    "user.info.username,comment.list,user.account.type,user.info.stats"
)  # the scope string of the SDK's recorded token answer


def envelope(data: dict[str, Any], code: int = 0, message: str = "OK") -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "request_id": "202403040357439E497F7E6668D60F2700",
        "data": data,
    }


def token_answer(open_id: str = OPEN_ID, access: str = "act.biz", refresh: str = "rft.biz") -> dict[str, Any]:
    return envelope({"access_token": access, "expires_in": 86400, "open_id": open_id, "refresh_token": refresh,
                     "refresh_token_expires_in": 31536000, "scope": GRANTED, "token_type": "Bearer"})  # fmt: skip


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, "chorus-tiktok-business"):
        yield


def exchange(rsps: responses.RequestsMock, answer: dict[str, Any], code: str = "biz-code") -> None:
    rsps.post(f"{BASE}/tt_user/oauth2/token/", json=answer, match=[matchers.json_params_matcher({
        "client_id": "biz-app", "client_secret": "biz-secret", "grant_type": "authorization_code",
        "auth_code": code, "redirect_uri": REDIRECT})])  # fmt: skip


def info(rsps: responses.RequestsMock, creator: str = OPEN_ID, access: str = "act.biz") -> None:
    rsps.post(f"{BASE}/tt_user/token_info/get/", json=envelope({"app_id": "biz-app", "creator_id": creator,
              "scope": GRANTED}), match=[matchers.json_params_matcher({"app_id": "biz-app", "access_token": access})])  # fmt: skip


def login_kit_account() -> accounts.Account:
    return accounts.connect_account(WS, "tiktok", OPEN_ID, TokenSet("act.login", "rft.login", None),
                                    handle="chorus_cafe", extra={"scopes": "user.info.basic,video.publish"})  # fmt: skip


def enabled(rsps: responses.RequestsMock) -> accounts.Account:
    account = login_kit_account()
    started = oauth.start_connect(ADMIN, "tiktok_business", REDIRECT, account_id=account.id, apps=APPS)
    exchange(rsps, token_answer())
    info(rsps)
    (done,) = oauth.finish_connect("tiktok_business", "biz-code", started.state, ADMIN, apps=APPS)
    return done


def test_the_authorisation_page_names_the_business_app_the_state_and_the_redirect() -> None:
    parts = urlsplit(business_auth.authorize_url("biz-app", REDIRECT, "st4te"))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://business-api.tiktok.com/portal/auth"
    assert parse_qs(parts.query) == {"app_id": ["biz-app"], "state": ["st4te"], "redirect_uri": [REDIRECT]}


def test_the_code_exchange_posts_json_and_reads_the_documented_answer(rsps: responses.RequestsMock) -> None:
    exchange(rsps, token_answer())
    now = datetime(2026, 12, 7, tzinfo=UTC)
    grant = business_auth.exchange_code("biz-app", "biz-secret", REDIRECT, "biz-code", api_url=BASE, now=now)
    assert grant.open_id == OPEN_ID
    assert (grant.tokens.access_token, grant.tokens.refresh_token) == ("act.biz", "rft.biz")
    assert grant.tokens.expires_at == now + timedelta(days=1)
    assert {LIST_SCOPE, MANAGE_SCOPE} <= set(grant.scopes)
    assert "Access-Token" not in rsps.calls[0].request.headers  # the token endpoints take no token


def test_a_refresh_rotates_the_refresh_token_and_a_refused_one_is_the_grants_auth_error(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(f"{BASE}/tt_user/oauth2/refresh_token/", json=token_answer(access="act.new", refresh="rft.new"),
              match=[matchers.json_params_matcher({"client_id": "biz-app", "client_secret": "biz-secret",
                                                   "grant_type": "refresh_token", "refresh_token": "rft.biz"})])  # fmt: skip
    fresh = business_auth.refresh("biz-app", "biz-secret", "rft.biz", api_url=BASE)
    assert (fresh.tokens.access_token, fresh.tokens.refresh_token) == ("act.new", "rft.new")
    rsps.post(
        f"{BASE}/tt_user/oauth2/refresh_token/", json=envelope({}, 40105, "The refresh token is invalid.")
    )
    with pytest.raises(AuthError) as dead:
        business_auth.refresh("biz-app", "biz-secret", "rft.dead", api_url=BASE)
    assert dead.value.code == GRANT
    assert "40105" in dead.value.message


def test_token_info_names_the_creator_and_its_scopes(rsps: responses.RequestsMock) -> None:
    info(rsps)
    creator, scopes = business_auth.token_info("biz-app", "act.biz", api_url=BASE)
    assert creator == OPEN_ID
    assert MANAGE_SCOPE in scopes


def test_the_error_envelope_is_refused_with_tiktoks_message(rsps: responses.RequestsMock) -> None:
    exchange(rsps, envelope({}, 40002, "auth_code is invalid"), code="bad")
    with pytest.raises(PermanentError) as refused:
        business_auth.exchange_code("biz-app", "biz-secret", REDIRECT, "bad", api_url=BASE)
    assert not isinstance(refused.value, AuthError)
    assert "auth_code is invalid (error_code 40002)" in refused.value.message


def test_enabling_comments_seals_the_grant_beside_the_login_kit_tokens(
    aws: None, rsps: responses.RequestsMock
) -> None:
    before = datetime.now(UTC)
    account = enabled(rsps)
    shown = account.public()["comments"]
    assert (shown["status"], shown["scopes"], shown["reason"]) == ("active", sorted(GRANTED.split(",")), None)
    # the grant ends with its refresh token: refresh_token_expires_in (a year) from the token answer
    ends = keys.parse_iso(shown["expires_at"])
    assert before + timedelta(seconds=31536000) <= ends <= datetime.now(UTC) + timedelta(seconds=31536000)
    assert account.extra["scopes"] == "user.info.basic,video.publish"  # Login Kit's scopes untouched
    item = AccountItem.get(keys.workspace_pk(WS), keys.account_sk(account.id))
    assert item.grant_blob
    assert "act.biz" not in item.grant_blob
    assert "act.biz" not in str(item.extra)
    # the account publishes with Login Kit's token, the comments are read with the business one
    assert accounts.credentials(account).access_token == "act.login"
    creds = grants.grant_credentials(account)
    assert creds.access_token == "act.biz"
    assert {LIST_SCOPE, MANAGE_SCOPE} <= set(creds.extra[SCOPES].split(","))
    assert channels.account_refusal(channels.get("tiktok"), account.extra) is None


def test_the_step_refuses_a_token_of_another_tiktok_account(aws: None, rsps: responses.RequestsMock) -> None:
    account = login_kit_account()
    started = oauth.start_connect(ADMIN, "tiktok_business", REDIRECT, account_id=account.id, apps=APPS)
    exchange(rsps, token_answer(open_id="someone-else"))
    info(rsps, creator="someone-else")
    with pytest.raises(Forbidden) as refused:
        oauth.finish_connect("tiktok_business", "biz-code", started.state, ADMIN, apps=APPS)
    assert refused.value.errors[0].field == "code"
    again = accounts.get_account(WS, account.id)
    assert "comments" in again.public()
    assert again.public()["comments"]["status"] == "off"
    assert AccountItem.get(keys.workspace_pk(WS), keys.account_sk(account.id)).grant_blob is None
    assert grants.grant_credentials(again).access_token == ""
    refusal = channels.account_refusal(channels.get("tiktok"), again.extra)
    assert refusal is not None
    assert "enable comments" in refusal


def test_the_step_names_a_tiktok_account_of_the_workspace(aws: None) -> None:
    with pytest.raises(ValidationFailed) as missing:
        oauth.start_connect(ADMIN, "tiktok_business", REDIRECT, apps=APPS)
    assert missing.value.errors[0].field == "account_id"
    other = accounts.connect_account(WS, "mastodon", "109", TokenSet("t"), base_url="https://m.example")
    with pytest.raises(ValidationFailed) as wrong:
        oauth.start_connect(ADMIN, "tiktok_business", REDIRECT, account_id=other.id, apps=APPS)
    assert wrong.value.errors[0].field == "account_id"
    with pytest.raises(ValidationFailed) as unconfigured:
        oauth.start_connect(ADMIN, "tiktok_business", REDIRECT, account_id=login_kit_account().id,
                            apps=OAuthApps())  # fmt: skip
    assert "CHORUS_TIKTOK_BUSINESS_CLIENT_ID" in unconfigured.value.errors[0].message


def test_a_refused_code_is_a_400_naming_the_code(aws: None, rsps: responses.RequestsMock) -> None:
    account = login_kit_account()
    started = oauth.start_connect(ADMIN, "tiktok_business", REDIRECT, account_id=account.id, apps=APPS)
    exchange(rsps, envelope({}, 40002, "auth_code is invalid"), code="bad")
    with pytest.raises(BadRequest) as refused:
        oauth.finish_connect("tiktok_business", "bad", started.state, ADMIN, apps=APPS)
    assert refused.value.errors[0].field == "code"


def test_the_grant_is_refreshed_ahead_of_expiry_and_a_dead_one_stops_comments_not_publishing(
    aws: None, rsps: responses.RequestsMock
) -> None:
    account = enabled(rsps)
    later = datetime.now(UTC) + timedelta(hours=23, minutes=55)  # the 24-hour token ends within 10 min
    rsps.post(f"{BASE}/tt_user/oauth2/refresh_token/", json=token_answer(access="act.new", refresh="rft.new"),
              match=[matchers.json_params_matcher({"client_id": "biz-app", "client_secret": "biz-secret",
                                                   "grant_type": "refresh_token", "refresh_token": "rft.biz"})])  # fmt: skip
    assert grants.grant_credentials(account, apps=APPS, now=later).access_token == "act.new"
    account = accounts.get_account(WS, account.id)
    assert grants.grant_credentials(account, apps=APPS).refresh_token == "rft.new"  # stored, rotated
    # TikTok refuses the refresh token: the grant is marked, the account keeps publishing
    rsps.post(
        f"{BASE}/tt_user/oauth2/refresh_token/", json=envelope({}, 40105, "The refresh token is revoked.")
    )
    later = later + timedelta(days=1)
    assert grants.grant_credentials(account, apps=APPS, now=later).access_token == ""
    account = accounts.get_account(WS, account.id)
    assert account.status == "active"
    assert account.public()["comments"]["status"] == "needs_reauth"
    assert "40105" in account.public()["comments"]["reason"]
    assert accounts.credentials(account).access_token == "act.login"


def test_an_auth_error_of_the_grant_marks_only_the_grant(aws: None, rsps: responses.RequestsMock) -> None:
    account = enabled(rsps)
    grants.on_auth_error(
        WS, account.id, AuthError("revoked (error_code 40105)", platform="tiktok", code=GRANT)
    )
    after = accounts.get_account(WS, account.id)
    assert (after.status, after.public()["comments"]["status"]) == ("active", "needs_reauth")
    grants.on_auth_error(WS, account.id, AuthError("Login Kit token revoked", platform="tiktok"))
    assert accounts.get_account(WS, account.id).status == "needs_reauth"


def test_a_refresh_refused_because_another_worker_refreshed_first_uses_its_tokens(
    aws: None, rsps: responses.RequestsMock
) -> None:
    account = enabled(rsps)
    later = datetime.now(UTC) + timedelta(hours=23, minutes=55)

    def raced(request: Any) -> tuple[int, dict[str, str], str]:
        # the replier refreshed with the same refresh token a moment earlier (TikTok rotated it)
        grants.store_grant(WS, account.id, TokenSet("act.by-replier", "rft.by-replier", later + timedelta(days=1)),
                           GRANTED, extra=account.extra)  # fmt: skip
        return 200, {}, json.dumps(envelope({}, 40105, "The refresh token is invalid."))

    rsps.add_callback(responses.POST, f"{BASE}/tt_user/oauth2/refresh_token/", callback=raced)
    creds = grants.grant_credentials(account, apps=APPS, now=later)
    assert (creds.access_token, creds.refresh_token) == ("act.by-replier", "rft.by-replier")
    assert accounts.get_account(WS, account.id).public()["comments"]["status"] == "active"


def test_the_grant_is_revoked_with_the_sdks_body_at_the_configured_url(rsps: responses.RequestsMock) -> None:
    body = {"client_id": "biz-app", "client_secret": "biz-secret", "access_token": "act.biz"}
    rsps.post(f"{BASE}/tt_user/oauth2/revoke/", json=envelope({}), match=[matchers.json_params_matcher(body)])
    business_auth.revoke("biz-app", "biz-secret", "act.biz", url=business_auth.revoke_url(BASE))
    assert "Access-Token" not in rsps.calls[0].request.headers
    elsewhere = "https://business-api.example/open_api/v1.3/tt_user/oauth2/revoke/"
    rsps.post(elsewhere, json=envelope({}, 40105, "The access token is invalid."))
    with pytest.raises(AuthError) as refused:
        business_auth.revoke("biz-app", "biz-secret", "act.biz", url=elsewhere)
    assert refused.value.code == GRANT
    assert "act.biz" not in refused.value.message


def test_removing_the_account_revokes_the_grant_at_the_configured_url(
    aws: None, rsps: responses.RequestsMock
) -> None:
    account = enabled(rsps)
    url = "https://tiktok-revoke.example/tt_user/oauth2/revoke/"
    rsps.post(url, json=envelope({}), match=[matchers.json_params_matcher(
        {"client_id": "biz-app", "client_secret": "biz-secret", "access_token": "act.biz"})])  # fmt: skip
    apps = OAuthApps(tiktok_business_client_id="biz-app", tiktok_business_client_secret="biz-secret",
                     tiktok_business_revoke_url=url)  # fmt: skip
    assert revocation.revoke_all(account, apps=apps) == [GRANT]  # no Login Kit app here: logged, skipped
    assert [c.request.url for c in rsps.calls][-1] == url
