"""YouTube (Google OAuth 2.0, offline access) and TikTok (Login Kit) connections against the documented
requests and answers (fixtures/platform_api/publishing/{youtube,tiktok}): the authorize URLs, the code
exchanges, refreshes (Google's keeps the refresh token; TikTok's may rotate it), the connect flow through
``start_connect`` / ``finish_connect`` with the account proven by the platform (the token's channel, the
creator's open_id) and TikTok's creator info kept, and the errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from chorus.accounts import oauth
from chorus.accounts import service as accounts
from chorus.accounts.apps import OAuthApps
from chorus.accounts.refreshers import refresher_for
from chorus.auth.keys import Principal
from chorus.auth.roles import Role
from chorus.errors import BadRequest
from chorus.platforms.base import AuthError, PermanentError
from chorus.platforms.tiktok import oauth as tiktok
from chorus.platforms.youtube import oauth as youtube
from tests.support import fixture_json, main_table_in_moto

WS = "ws-video"
ADMIN = Principal(WS, "adminkey1", Role.ADMIN)
REDIRECT = "https://app.example/oauth/callback"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
YT_API = "https://www.googleapis.com/youtube/v3"
TT = "https://open.tiktokapis.com/v2"
APPS = OAuthApps(youtube_client_id="g-client", youtube_client_secret="g-secret", tiktok_client_id="tt-key",
                 tiktok_client_secret="tt-secret")  # fmt: skip
NOW = datetime(2026, 12, 1, tzinfo=UTC)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CHANNEL = {"items": [{"id": "UC_x5XG1OV2P6uZZ5FSM9Ttw", "snippet": {"title": "Google Developers",
                                                                    "customUrl": "@googledevelopers"}}]}  # fmt: skip


def doc(platform: str, name: str) -> Any:
    return fixture_json(f"platform_api/publishing/{platform}/{name}")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, "chorus-oauth-video"):
        yield


def google_exchange(rsps: responses.RequestsMock, code: str = "4/P7q7W91") -> None:
    rsps.post(GOOGLE_TOKEN, json=doc("youtube", "oauth_token_response_google_docs.json"), match=[
        matchers.urlencoded_params_matcher({"grant_type": "authorization_code", "code": code,
                                            "client_id": "g-client", "client_secret": "g-secret",
                                            "redirect_uri": REDIRECT})])  # fmt: skip


def tiktok_exchange(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{TT}/oauth/token/", json=doc("tiktok", "oauth_token_response.json"), match=[
        matchers.header_matcher(FORM),
        matchers.urlencoded_params_matcher({"client_key": "tt-key", "client_secret": "tt-secret", "code": "tt-code",
                                            "grant_type": "authorization_code", "redirect_uri": REDIRECT})])  # fmt: skip


def test_the_google_authorize_url_asks_for_offline_access_and_the_youtube_scopes() -> None:
    parts = urlsplit(youtube.authorize_url("g-client", REDIRECT, "st4te"))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://accounts.google.com/o/oauth2/v2/auth"
    assert parse_qs(parts.query) == {
        "client_id": ["g-client"], "redirect_uri": [REDIRECT], "response_type": ["code"],
        "scope": ["https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly "
                  "https://www.googleapis.com/auth/youtube.force-ssl"],
        "access_type": ["offline"], "include_granted_scopes": ["true"], "prompt": ["consent"], "state": ["st4te"],
    }  # fmt: skip


def test_the_google_code_exchange_reads_the_documented_answer(rsps: responses.RequestsMock) -> None:
    google_exchange(rsps)
    granted = youtube.exchange_code("g-client", "g-secret", REDIRECT, "4/P7q7W91", now=NOW)
    assert (granted.access_token, granted.refresh_token) == (
        "1/fFAGRNJru1FTz70BzhT3Zg", "1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI")  # fmt: skip
    assert granted.expires_at == NOW + timedelta(seconds=3920)


def test_a_google_refresh_keeps_the_refresh_token_and_invalid_grant_means_reauthorise(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(GOOGLE_TOKEN, json={"access_token": "ya29.new", "expires_in": 3599, "token_type": "Bearer"}, match=[
        matchers.urlencoded_params_matcher({"grant_type": "refresh_token", "refresh_token": "1//r",
                                            "client_id": "g-client", "client_secret": "g-secret"})])  # fmt: skip
    fresh = youtube.refresh("g-client", "g-secret", "1//r", now=NOW)
    assert (fresh.access_token, fresh.refresh_token) == ("ya29.new", "1//r")
    rsps.post(
        GOOGLE_TOKEN,
        status=400,
        json={"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )
    with pytest.raises(AuthError, match="expired or revoked"):
        youtube.refresh("g-client", "g-secret", "1//dead")


def test_connecting_youtube_stores_the_tokens_channel(aws: None, rsps: responses.RequestsMock) -> None:
    started = oauth.start_connect(ADMIN, "youtube", REDIRECT, apps=APPS)
    assert parse_qs(urlsplit(started.authorize_url).query)["access_type"] == ["offline"]
    google_exchange(rsps)
    rsps.get(f"{YT_API}/channels", json=CHANNEL, match=[
        matchers.query_param_matcher({"part": "snippet", "mine": "true"}),
        matchers.header_matcher({"Authorization": "Bearer 1/fFAGRNJru1FTz70BzhT3Zg"})])  # fmt: skip
    (account,) = oauth.finish_connect("youtube", "4/P7q7W91", started.state, ADMIN, apps=APPS)
    assert (account.platform, account.platform_account_id, account.handle, account.display_name) == (
        "youtube", "UC_x5XG1OV2P6uZZ5FSM9Ttw", "@googledevelopers", "Google Developers")  # fmt: skip
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    assert creds.refresh_token == "1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI"


def test_youtube_and_tiktok_need_their_apps_configured(aws: None) -> None:
    for platform in ("youtube", "tiktok"):
        with pytest.raises(Exception, match=f"CHORUS_{platform.upper()}_CLIENT_ID"):
            oauth.start_connect(ADMIN, platform, REDIRECT, apps=OAuthApps())


def test_the_tiktok_authorize_url_names_the_client_key_and_comma_separated_scopes() -> None:
    parts = urlsplit(tiktok.authorize_url("tt-key", REDIRECT, "st4te"))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.tiktok.com/v2/auth/authorize/"
    assert parse_qs(parts.query) == {"client_key": ["tt-key"], "response_type": ["code"], "redirect_uri": [REDIRECT],
                                     "scope": ["user.info.basic,user.info.stats,video.publish,video.upload,video.list"],
                                     "state": ["st4te"]}  # fmt: skip


def test_a_tiktok_refresh_stores_the_rotated_refresh_token_and_an_oauth_error_means_reauthorise(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(f"{TT}/oauth/token/", json=doc("tiktok", "oauth_token_refresh_response.json"), match=[
        matchers.urlencoded_params_matcher({"client_key": "tt-key", "client_secret": "tt-secret",
                                            "grant_type": "refresh_token", "refresh_token": "rft.old"})])  # fmt: skip
    fresh = tiktok.refresh("tt-key", "tt-secret", "rft.old", now=NOW)
    answer = doc("tiktok", "oauth_token_refresh_response.json")
    assert (fresh.access_token, fresh.refresh_token) == (answer["access_token"], answer["refresh_token"])
    # the OAuth error shape {error, error_description, log_id}, answered with HTTP 200 or 400
    rsps.post(f"{TT}/oauth/token/", json=doc("tiktok", "oauth_token_refresh_error_invalid_request.json"))
    with pytest.raises(AuthError) as refused:
        tiktok.refresh("tt-key", "tt-secret", "rft.dead")
    assert refused.value.code == "invalid_request"


def test_connecting_tiktok_proves_the_creator_and_keeps_its_creator_info(
    aws: None, rsps: responses.RequestsMock
) -> None:
    started = oauth.start_connect(ADMIN, "tiktok", REDIRECT, apps=APPS)
    tiktok_exchange(rsps)
    token = doc("tiktok", "oauth_token_response.json")["access_token"]
    bearer = matchers.header_matcher({"Authorization": f"Bearer {token}"})
    rsps.get(f"{TT}/user/info/", match=[bearer], json={"data": {"user": {
        "open_id": "afd97af1-b87b-48b9-ac98-410aghda5344", "display_name": "TikTok Official"}},
        "error": {"code": "ok", "message": "", "log_id": "x"}})  # fmt: skip
    rsps.post(f"{TT}/post/publish/creator_info/query/", match=[bearer],
              json=doc("tiktok", "creator_info_query_response.json"))  # fmt: skip
    (account,) = oauth.finish_connect("tiktok", "tt-code", started.state, ADMIN, apps=APPS)
    assert (account.platform_account_id, account.handle, account.display_name) == (
        "afd97af1-b87b-48b9-ac98-410aghda5344", "tiktok", "TikTok Official")  # fmt: skip
    assert account.extra["privacy_level_options"] == "PUBLIC_TO_EVERYONE,MUTUAL_FOLLOW_FRIENDS,SELF_ONLY"
    assert json.loads(account.extra["creator_info"])["stitch_disabled"] is True
    assert account.extra["scopes"] == "user.info.basic,video.list"  # no comment.list: comments not polled
    creds = accounts.credentials(accounts.get_account(WS, account.id))
    assert creds.refresh_token == "rft.example12345Example12345Example"


def test_a_refused_tiktok_code_is_a_400_naming_the_code(aws: None, rsps: responses.RequestsMock) -> None:
    started = oauth.start_connect(ADMIN, "tiktok", REDIRECT, apps=APPS)
    rsps.post(f"{TT}/oauth/token/", json=doc("tiktok", "oauth_token_error_invalid_request.json"))
    with pytest.raises(BadRequest) as refused:
        oauth.finish_connect("tiktok", "bad", started.state, ADMIN, apps=APPS)
    assert refused.value.errors[0].field == "code"
    assert "missing a required parameter" in refused.value.detail


def test_refreshers_use_the_deployments_apps(rsps: responses.RequestsMock) -> None:
    from chorus.platforms.base import AccountCredentials

    rsps.post(GOOGLE_TOKEN, json={"access_token": "ya29.new", "expires_in": 3599})
    refresh = refresher_for("youtube", APPS)
    assert refresh is not None
    fresh = refresh(AccountCredentials("youtube", "UC1", "ya29.old", refresh_token="1//r"))
    assert fresh is not None
    assert (fresh.access_token, fresh.refresh_token) == ("ya29.new", "1//r")
    assert refresher_for("tiktok", OAuthApps()) is None


def test_a_tiktok_revoke_posts_the_documented_form_and_reads_an_empty_answer_as_done(
    rsps: responses.RequestsMock,
) -> None:
    # TikTok's "Revoke a User Access Token": form client_key, client_secret, token; an empty body (or {})
    form = {"client_key": "tt-key", "client_secret": "tt-secret", "token": "act.creator"}
    rsps.post(
        f"{TT}/oauth/revoke/",
        body="",
        match=[matchers.urlencoded_params_matcher(form), matchers.header_matcher(FORM)],
    )
    tiktok.revoke("tt-key", "tt-secret", "act.creator")
    rsps.post(f"{TT}/oauth/revoke/", json={}, match=[matchers.urlencoded_params_matcher(form)])
    tiktok.revoke("tt-key", "tt-secret", "act.creator")
    assert len(rsps.calls) == 2


@pytest.mark.parametrize(
    "answer",
    [
        {"error": "invalid_client", "error_description": "Client key or secret is wrong.", "log_id": "x"},
        {"error": {"code": "access_token_invalid", "message": "The access token is invalid.", "log_id": "x"}},
    ],
)
def test_a_refused_tiktok_revoke_is_an_error_with_tiktoks_message(
    rsps: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    rsps.post(f"{TT}/oauth/revoke/", json=answer)
    with pytest.raises(PermanentError) as refused:
        tiktok.revoke("tt-key", "tt-secret", "act.creator")
    assert "is wrong" in refused.value.message or "is invalid" in refused.value.message
    assert "act.creator" not in refused.value.message
