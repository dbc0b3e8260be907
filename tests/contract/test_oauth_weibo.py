"""Weibo OAuth 2.0 against the documented request and answers: the authorize URL, ``oauth2/access_token``
(form of ``oauth2_access_token_request_docs.txt``; ``expires_in`` a string in the docs and a number in the
2013 page; the ``uid`` is the account), no refresh token, ``oauth2/get_token_info`` + ``users/show`` for a
token handed over directly, and OAuth errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import AuthError, PermanentError
from chorus.platforms.weibo import oauth
from tests.contract.weibo import API, doc, doc_text

TOKEN_URL = f"{API}/oauth2/access_token"
NOW = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def test_the_authorize_url_asks_for_a_code_with_the_state() -> None:
    url = oauth.authorize_url("APPKEY", "https://app.example/cb", "st-1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{API}/oauth2/authorize"
    query = parse_qs(parts.query)
    assert query == {"client_id": ["APPKEY"], "redirect_uri": ["https://app.example/cb"], "state": ["st-1"],
                     "response_type": ["code"]}  # fmt: skip


def documented_form() -> dict[str, str]:
    body = next(line for line in doc_text("oauth2_access_token_request_docs.txt").splitlines() if "=" in line)
    return {k: v[0] for k, v in parse_qs(body).items()}


def test_the_code_is_traded_with_the_documented_form_and_the_uid_is_the_account(
    rsps: responses.RequestsMock,
) -> None:
    form = documented_form()
    rsps.post(TOKEN_URL, json=doc("oauth2_access_token_response_docs.json"),
              match=[matchers.urlencoded_params_matcher(form)])  # fmt: skip
    granted = oauth.exchange_code(form["client_id"], form["client_secret"], form["redirect_uri"], form["code"],
                                  session=requests.Session(), now=NOW)  # fmt: skip
    assert granted.uid == "1404376560"
    assert granted.tokens.access_token == "ACCESS_TOKEN"
    assert granted.tokens.refresh_token is None  # Weibo issues none: the owner is warned before expiry
    assert granted.tokens.expires_at == NOW + timedelta(seconds=7200)  # "7200", a string


def test_expires_in_as_a_number_is_read_too(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, json=doc("oauth2_access_token_response_docs_en_2013.json"))
    granted = oauth.exchange_code(
        "k", "s", "https://app.example/cb", "c", session=requests.Session(), now=NOW
    )
    assert (granted.uid, granted.tokens.expires_at) == ("12341234", NOW + timedelta(seconds=1234))


def test_an_oauth_error_is_refused_with_weibos_description(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, json=doc("oauth2_error_unsupported_response_type_wrapped.json"), status=400)
    with pytest.raises(PermanentError) as refused:
        oauth.exchange_code("k", "s", "https://app.example/cb", "c", session=requests.Session())
    assert refused.value.code == "21329"
    rsps.post(TOKEN_URL, json={"error": "invalid_grant", "error_code": 21325, "error_description": "invalid code"},
              status=400)  # fmt: skip
    with pytest.raises(AuthError):
        oauth.exchange_code("k", "s", "https://app.example/cb", "used", session=requests.Session())


def test_whoami_names_the_tokens_uid_and_screen_name(rsps: responses.RequestsMock) -> None:
    user = doc("statuses_share_response_docs.json")["user"]
    rsps.post(f"{API}/oauth2/get_token_info", json={"uid": 1902538057, "appkey": "APPKEY", "scope": None,
                                                    "create_at": 1352267591, "expire_in": 157679471},
              match=[matchers.urlencoded_params_matcher({"access_token": "tok"})])  # fmt: skip
    rsps.get(f"{API}/2/users/show.json", json=user, match=[matchers.query_param_matcher({"uid": "1902538057"}),
                                                           matchers.header_matcher({"Authorization": "OAuth2 tok"})])  # fmt: skip
    owner = oauth.whoami("tok", session=requests.Session())
    assert (owner.account_id, owner.handle, owner.display_name) == ("1902538057", "shenbinzhu", "张三")


def test_an_expired_token_handed_over_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{API}/oauth2/get_token_info", json={"error": "expired_token", "error_code": 21327}, status=400
    )
    with pytest.raises(AuthError):
        oauth.whoami("old", session=requests.Session())
