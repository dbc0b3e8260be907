"""Facebook Login (Pages and Instagram): dialog URL, code -> long-lived token, page tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from chorus.platforms.base import AuthError
from chorus.platforms.facebook import oauth as fb
from chorus.platforms.instagram import oauth as ig

GRAPH = "https://graph.facebook.com/v21.0"
NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def test_dialog_url_joins_scopes_with_commas() -> None:
    url = fb.authorize_url("app1", "https://app.example/cb", "s", ["pages_manage_posts", "pages_show_list"])
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.facebook.com/v21.0/dialog/oauth"
    assert parse_qs(parts.query)["scope"] == ["pages_manage_posts,pages_show_list"]
    assert parse_qs(parts.query)["response_type"] == ["code"]


def test_instagram_dialog_asks_for_content_publishing() -> None:
    scope = parse_qs(urlsplit(ig.authorize_url("app1", "https://app.example/cb", "s")).query)["scope"][0]
    assert "instagram_content_publish" in scope.split(",")


def test_exchange_code_then_long_lived_token(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{GRAPH}/oauth/access_token",
        json={"access_token": "short", "token_type": "bearer", "expires_in": 5183},
        match=[
            matchers.query_param_matcher(
                {
                    "client_id": "app1",
                    "client_secret": "sec",
                    "redirect_uri": "https://app.example/cb",
                    "code": "c0de",
                }
            )
        ],
    )
    rsps.get(
        f"{GRAPH}/oauth/access_token",
        json={"access_token": "long", "token_type": "bearer", "expires_in": 5184000},
        match=[
            matchers.query_param_matcher(
                {
                    "grant_type": "fb_exchange_token",
                    "client_id": "app1",
                    "client_secret": "sec",
                    "fb_exchange_token": "short",
                }
            )
        ],
    )
    tokens = fb.exchange_code("app1", "sec", "https://app.example/cb", "c0de", now=NOW)
    assert tokens == fb.TokenSet("long", None, NOW + timedelta(days=60), None)


def test_refresh_keeps_the_stored_refresh_token(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{GRAPH}/oauth/access_token",
        json={"access_token": "long2", "token_type": "bearer", "expires_in": 5184000},
    )
    tokens = ig.refresh("app1", "sec", "long", refresh_token="kept", now=NOW)
    assert tokens.access_token == "long2"
    assert tokens.refresh_token == "kept"


def test_an_expired_token_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{GRAPH}/oauth/access_token",
        status=400,
        json={
            "error": {
                "message": "Error validating access token: Session has expired",
                "type": "OAuthException",
                "code": 190,
            }
        },
    )
    with pytest.raises(AuthError, match="Session has expired"):
        fb.refresh("app1", "sec", "old")


def test_page_tokens_follow_paging_and_instagram_accounts_are_the_linked_ones(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        f"{GRAPH}/me/accounts",
        json={
            "data": [
                {
                    "id": "p1",
                    "name": "Cafe",
                    "access_token": "pt1",
                    "instagram_business_account": {"id": "ig1"},
                },
            ],
            "paging": {"next": f"{GRAPH}/me/accounts?after=x"},
        },
        match=[
            matchers.query_param_matcher(
                {"fields": "id,name,access_token,instagram_business_account", "limit": "100"}
            ),
            matchers.header_matcher({"Authorization": "Bearer user"}),  # the token never in the URL
        ],
    )
    rsps.get(
        f"{GRAPH}/me/accounts?after=x", json={"data": [{"id": "p2", "name": "Shop", "access_token": "pt2"}]}
    )
    pages = fb.page_tokens("user")
    assert pages == [fb.PageToken("p1", "Cafe", "pt1", "ig1"), fb.PageToken("p2", "Shop", "pt2", None)]
    rsps.get(
        f"{GRAPH}/me/accounts",
        json={
            "data": [
                {
                    "id": "p1",
                    "name": "Cafe",
                    "access_token": "pt1",
                    "instagram_business_account": {"id": "ig1"},
                },
                {"id": "p2", "name": "Shop", "access_token": "pt2"},
            ]
        },
    )
    assert ig.instagram_accounts("user") == [ig.InstagramAccount("ig1", "p1", "Cafe", "pt1")]
