"""LinkedIn on the embedded runtime, against a fake LinkedIn on 127.0.0.1: a member and the pages it
administers connected through ``GET /accounts/connect/linkedin`` and ``/oauth/callback/linkedin``
(ownership proven by ``/v2/userinfo`` and ``organizationAcls``, the 60-day token's expiry kept), a page's
post published once through ``POST /posts`` by the real publisher (the id from ``x-restli-id``), the
answer lost once and verified among the page's posts, and a post LinkedIn's limits refuse answered 422
naming the account and the rule."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.faults.fakes.linkedin import POSTS, linkedin_platform
from tests.faults.harness import READ_TIMEOUT_S, FakePlatform, Reply, Request
from tests.integration.harness import Chorus, eventually
from tests.support import fixture_json

ORG = "urn:li:organization:5515715"
MEMBER = "urn:li:person:782bbtaQ"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatform]:
    """LinkedIn's OAuth endpoints and the connect-time reads, in the documented shapes."""
    made = FakePlatform()

    def access_token(req: Request, match: re.Match[str]) -> Any:
        if req.form.get("code") != "li-good" or req.form.get("client_secret") != "li-secret":
            return Reply(400, {"error": "invalid_request",
                               "error_description": "Unable to retrieve access token: authorization code not found"})  # fmt: skip
        return fixture_json("platform_api/publishing/linkedin/oauth_access_token_response.json")

    made.route("POST", "/oauth/v2/accessToken", access_token)
    made.route("GET", "/v2/userinfo", lambda req, m: {"sub": "782bbtaQ", "name": "John Doe"})
    made.route("GET", "/rest/organizationAcls", lambda req, m: {"elements": [
        {"organization": ORG, "role": "ADMINISTRATOR", "state": "APPROVED", "roleAssignee": MEMBER}]})  # fmt: skip
    yield made
    made.stop()


@pytest.fixture(scope="module")
def chorus(fake: FakePlatform) -> Iterator[Chorus]:
    c = Chorus(
        parameters={"LinkedInClientId": "li-app", "LinkedInClientSecret": "li-secret"},
        extra_env={
            "CHORUS_LINKEDIN_OAUTH_URL": f"{fake.url}/oauth/v2",
            "CHORUS_LINKEDIN_API_URL": fake.url,
            "CHORUS_HTTP_READ_TIMEOUT_S": str(READ_TIMEOUT_S),  # a held answer times out (the fake holds it)
        },
    )
    yield c
    c.close()


@pytest.fixture
def publishing(fake: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from chorus.platforms import registry

    linkedin_platform(fake, monkeypatch)
    registry.reset()
    yield
    registry.reset()


def connect(chorus: Chorus, key: str, code: str) -> Any:
    started = chorus.call("GET", "/accounts/connect/linkedin", key,
                          params={"redirect_uri": "https://app.example/done"})  # fmt: skip
    assert started.status_code == 200, started.text
    assert "scope=openid+profile+w_member_social" in started.json()["authorize_url"]
    return chorus.call(
        "GET", "/oauth/callback/linkedin", key, params={"code": code, "state": started.json()["state"]}
    )


def published(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        target = chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0]
        return target if target["state"] in {"published", "failed", "partially_published"} else None

    return eventually(done, timeout=30)


def test_linkedin_connects_the_member_and_its_page_and_the_page_posts_once(
    chorus: Chorus, fake: FakePlatform, publishing: None
) -> None:
    _, key = chorus.workspace("LinkedIn Café")
    # Given an admin connecting LinkedIn through the generic OAuth flow
    back = connect(chorus, key, "li-good")
    assert back.status_code == 200, back.text
    member, page = back.json()["accounts"]
    # Then the member and the page it administers are accounts, each with the 60-day token's expiry
    assert (member["platform_account_id"], page["platform_account_id"]) == (MEMBER, ORG)
    assert member["display_name"] == "John Doe"
    assert page["token_expires_at"] is not None
    # When the page posts an article now, and LinkedIn's answer to the post is lost once
    fake.create_then_timeout("POST", POSTS)
    made = chorus.call("POST", "/posts", key, json={
        "text": "Our menu (autumn)", "link": "https://cafe.example/menu", "accounts": [page["id"]],
        "mode": "now"})  # fmt: skip
    assert made.status_code == 201, made.text
    target = published(chorus, key, made.json()["id"])
    # Then it is published once, found among the page's posts, with its URN and feed URL
    assert target["state"] == "published", target
    (post,) = [p for p in fake.records["post"] if p["commentary"] == "Our menu \\(autumn\\)"]
    # (the article is the post's short link to the link tagged for LinkedIn, named after the page itself)
    (link,) = chorus.call("GET", f"/posts/{made.json()['id']}/links", key).json()["links"]
    assert link["destination"].startswith("https://cafe.example/menu?utm_source=linkedin&utm_medium=social")
    assert post["content"] == {"article": {"source": link["short_url"], "title": "cafe.example/menu"}}
    assert target["platform_post_id"] == post["id"]
    assert target["url"] == f"https://www.linkedin.com/feed/update/{post['id']}/"
    assert len(fake.calls("POST", POSTS)) == 1
    assert fake.calls("GET", POSTS)  # the lost answer was looked up, not posted again


def test_a_refused_linkedin_code_is_a_400_naming_the_code(chorus: Chorus) -> None:
    _, key = chorus.workspace("Refused")
    back = connect(chorus, key, "li-used")
    assert back.status_code == 400
    assert back.json()["errors"][0]["field"] == "code"
    assert "authorization code not found" in back.json()["detail"]


def test_a_post_over_linkedins_limits_is_refused_naming_the_account_and_the_rules(
    chorus: Chorus, publishing: None
) -> None:
    _, key = chorus.workspace("Too long")
    _, page = connect(chorus, key, "li-good").json()["accounts"]
    refused = chorus.call("POST", "/posts", key, json={
        "text": "x" * 3001, "first_comment": "more", "accounts": [page["id"]], "mode": "now"})  # fmt: skip
    assert refused.status_code == 422, refused.text
    problem = json.dumps(refused.json())
    assert page["id"] in problem
    assert "text.too_long" in problem
    assert "first_comment.unsupported" in problem
