"""Whose token is it, per platform, as each platform documents its "who am I" call (``responses``):
the account connected is the one the platform names; an asserted id that differs is refused; a refused
token names ``access_token``; a platform that does not answer is a 502. DynamoDB and KMS in moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from responses import matchers

from chorus.accounts import ownership
from chorus.accounts import service as accounts
from chorus.accounts.apps import OAuthApps
from chorus.accounts.tokens import TokenSet
from chorus.errors import BadRequest, Conflict, ValidationFailed
from tests.support import fixture_json, main_table_in_moto

APPS = OAuthApps()  # the platforms' own endpoints (responses answers them)
GRAPH = APPS.facebook_graph_url
INSTANCE = "https://mastodon.example"
PDS = "https://pds.example"
TOKEN = "the-token"


@pytest.fixture
def rsps(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    with main_table_in_moto(monkeypatch, "chorus-ownership-test"), responses.RequestsMock() as mock:
        yield mock


def bearer() -> Any:
    return matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})


def connect(platform: str, asserted: str | None = None, base_url: str | None = None) -> accounts.Account:
    claim = ownership.Claim(platform, TOKEN, asserted, base_url)
    return ownership.connect_with_token("ws-1", claim, TokenSet(TOKEN), apps=APPS)


# platform -> (whoami URL, its documented answer, the account id it names, the handle)
WHOAMI: dict[str, tuple[str, dict[str, Any], str, str | None]] = {
    "x": (
        f"{APPS.x_api_url}/2/users/me",
        {"data": {"id": "2244994945", "name": "X Dev", "username": "TwitterDev"}},
        "2244994945",
        "TwitterDev",
    ),
    "mastodon": (
        f"{INSTANCE}/api/v1/accounts/verify_credentials",
        {"id": "14715", "username": "trwnh", "acct": "trwnh", "display_name": "infinite love ⴳ"},
        "14715",
        "trwnh@mastodon.example",
    ),
    "bluesky": (
        f"{PDS}/xrpc/com.atproto.server.getSession",
        {"did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "handle": "atproto.com"},
        "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
        "atproto.com",
    ),
    "threads": (
        f"{APPS.threads_api_url}/me",
        {"id": "1234567", "username": "threadsapitestuser", "name": "Threads API Test"},
        "1234567",
        "threadsapitestuser",
    ),
    "youtube": (
        f"{APPS.youtube_api_url}/channels",
        {"items": [{"id": "UC_x5XG1OV2P6uZZ5FSM9Ttw", "snippet": {"title": "Google for Developers", "customUrl": "@googledevelopers"}}]},
        "UC_x5XG1OV2P6uZZ5FSM9Ttw",
        "@googledevelopers",
    ),
    "tiktok": (
        f"{APPS.tiktok_api_url}/v2/user/info/",
        {"data": {"user": {"open_id": "723f24d7-e717-40f8-a2b6-cb8464cd23b4", "display_name": "Tik Toker"}}, "error": {"code": "ok"}},
        "723f24d7-e717-40f8-a2b6-cb8464cd23b4",
        "tiktok",  # creator info's creator_username (read with whoami: what the creator may post with)
    ),
}  # fmt: skip


def creator_info(platform: str, rsps: responses.RequestsMock) -> None:
    """TikTok's creator info, read at connect beside whoami and kept on the account."""
    if platform == "tiktok":
        rsps.post(f"{APPS.tiktok_api_url}/v2/post/publish/creator_info/query/", match=[bearer()],
                  json=fixture_json("platform_api/publishing/tiktok/creator_info_query_response.json"))  # fmt: skip


@pytest.mark.parametrize("platform", sorted(WHOAMI))
def test_the_account_connected_is_the_one_the_platform_names(
    platform: str, rsps: responses.RequestsMock
) -> None:
    url, answer, named, handle = WHOAMI[platform]
    rsps.get(url, json=answer, match=[bearer()])
    creator_info(platform, rsps)
    base = {"mastodon": INSTANCE, "bluesky": PDS}.get(platform)
    # When the token is given without naming an account
    account = connect(platform, base_url=base)
    # Then the account is the one the platform named, with its handle, and the token is stored encrypted
    assert (account.platform_account_id, account.handle) == (named, handle)
    assert TOKEN not in (account.token_blob or "")
    assert accounts.credentials(account).access_token == TOKEN
    if platform == "tiktok":
        assert account.extra["privacy_level_options"] == "PUBLIC_TO_EVERYONE,MUTUAL_FOLLOW_FRIENDS,SELF_ONLY"


@pytest.mark.parametrize("platform", sorted(WHOAMI))
def test_an_asserted_account_the_token_does_not_belong_to_is_refused(
    platform: str, rsps: responses.RequestsMock
) -> None:
    url, answer, _, _ = WHOAMI[platform]
    rsps.get(url, json=answer)
    creator_info(platform, rsps)
    base = {"mastodon": INSTANCE, "bluesky": PDS}.get(platform)
    with pytest.raises(ownership.NotTheOwner) as refused:
        connect(platform, "someone-else", base_url=base)
    assert refused.value.errors[0].field == "platform_account_id"
    assert accounts.list_accounts("ws-1") == []


def test_a_token_the_platform_refuses_names_the_token_and_an_outage_is_a_502(
    rsps: responses.RequestsMock,
) -> None:
    url = WHOAMI["x"][0]
    rsps.get(
        url,
        status=401,
        json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    )
    with pytest.raises(BadRequest) as refused:
        connect("x")
    assert refused.value.errors[0].field == "access_token"
    assert TOKEN not in str(refused.value.problem())
    rsps.replace(responses.GET, url, status=503, json={"title": "Service Unavailable"})
    with pytest.raises(ownership.PlatformUnavailable):
        connect("x")


def test_facebook_a_page_token_is_its_page_and_a_user_token_proves_a_page_it_manages(
    rsps: responses.RequestsMock,
) -> None:
    # A Page token: /me is the Page
    rsps.get(f"{GRAPH}/me", json={"id": "1111", "name": "Cafe"}, match=[bearer()])
    assert connect("facebook", "1111").platform_account_id == "1111"
    # A user token: /me is the user; the Page is among /me/accounts, stored with the Page's own token
    rsps.replace(responses.GET, f"{GRAPH}/me", json={"id": "9001", "name": "Admin"})
    rsps.get(
        f"{GRAPH}/me/accounts", json={"data": [{"id": "2222", "name": "Shop", "access_token": "page-2222"}]}
    )
    shop = connect("facebook", "2222")
    assert accounts.credentials(shop).access_token == "page-2222"
    # And a Page the user does not manage is refused
    with pytest.raises(ownership.NotTheOwner):
        connect("facebook", "3333")


def test_instagram_the_professional_account_linked_to_the_token_s_page(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{GRAPH}/me",
        json={"id": "1111", "name": "Cafe", "instagram_business_account": {"id": "17841400000000001", "username": "cafe"}},
        match=[bearer()],
    )  # fmt: skip
    account = connect("instagram", "17841400000000001")
    assert (account.platform_account_id, account.handle, account.extra) == (
        "17841400000000001",
        "cafe",
        {"page_id": "1111"},
    )


def test_linkedin_an_organization_the_token_administers(rsps: responses.RequestsMock) -> None:
    acls = {
        "elements": [
            {"organization": "urn:li:organization:2414183", "role": "ADMINISTRATOR", "state": "APPROVED"}
        ]
    }
    rsps.get(f"{APPS.linkedin_api_url}/rest/organizationAcls", json=acls, match=[bearer()])
    # Named by id or URN, it is stored as the URN the webhooks name
    assert connect("linkedin", "2414183").platform_account_id == "urn:li:organization:2414183"
    with pytest.raises(BadRequest) as refused:
        connect("linkedin", "urn:li:organization:1")
    assert refused.value.errors[0].field == "access_token"


def test_whatsapp_the_phone_number_the_token_can_read(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{GRAPH}/106540352242922",
        json={"id": "106540352242922", "display_phone_number": "+1 555-0100", "verified_name": "Cafe"},
        match=[bearer()],
    )
    assert connect("whatsapp", "106540352242922").display_name == "Cafe"
    with pytest.raises(ValidationFailed) as unnamed:
        connect("whatsapp")
    assert unnamed.value.errors[0].field == "platform_account_id"


def test_wechat_a_working_token_and_an_account_no_other_workspace_holds(rsps: responses.RequestsMock) -> None:
    url = f"{APPS.wechat_api_url}/cgi-bin/get_api_domain_ip"
    rsps.get(url, json={"ip_list": ["101.226.103.0/25"]})
    assert connect("wechat", "gh_3cf62f4f1d52").platform_account_id == "gh_3cf62f4f1d52"
    # Another workspace cannot take it: WeChat cannot say whose the token is
    with pytest.raises(Conflict):
        ownership.connect_with_token(
            "ws-2", ownership.Claim("wechat", TOKEN, "gh_3cf62f4f1d52"), TokenSet(TOKEN), apps=APPS
        )
    # And a token WeChat refuses names the token
    rsps.replace(responses.GET, url, json={"errcode": 40001, "errmsg": "invalid credential"})
    with pytest.raises(BadRequest) as refused:
        connect("wechat", "gh_other")
    assert refused.value.errors[0].field == "access_token"
