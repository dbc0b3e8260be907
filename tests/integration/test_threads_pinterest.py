"""Threads and Pinterest on the embedded runtime, against a fake of each on 127.0.0.1: connected through
``GET /accounts/connect/{platform}`` and ``/oauth/callback/{platform}`` (ownership proven, the Threads
long-lived token kept, the Pinterest boards listed), published through ``POST /posts`` by the real
publisher, and a post the platform's limits refuse answered 422 naming the account and the rule."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.faults.fakes.pinterest import BOARD, pinterest_platform
from tests.faults.fakes.threads import USER, threads_platform
from tests.faults.harness import FakePlatform, Reply, Request
from tests.integration.harness import Chorus, eventually


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatform]:
    """Both platforms' OAuth endpoints on one fake, in the documented shapes."""
    made = FakePlatform()

    def threads_code(req: Request, match: re.Match[str]) -> Any:
        if req.form.get("code") != "th-good":
            return Reply(400, {"error_type": "OAuthException", "code": 400,
                               "error_message": "Matching code was not found or was already used"})  # fmt: skip
        return Reply(200, b'{"access_token": "THQVJ-short", "user_id": 17841405793187218}')

    made.route("POST", "/oauth/access_token", threads_code)
    made.route("GET", "/access_token", lambda req, m: {"access_token": "th-long", "token_type": "bearer",
                                                       "expires_in": 5183944})  # fmt: skip
    made.route(
        "GET", "/v1.0/me", lambda req, m: {"id": USER, "username": "chorus_cafe", "name": "Chorus Café"}
    )
    made.route("POST", "/v5/oauth/token", lambda req, m: {
        "access_token": "pina-1", "refresh_token": "pinr-1", "response_type": "authorization_code",
        "token_type": "bearer", "expires_in": 2592000, "scope": "boards:read pins:read pins:write"})  # fmt: skip
    made.route("GET", "/v5/user_account", lambda req, m: {"id": "549755885000", "username": "merle"})
    made.route("GET", "/v5/boards", lambda req, m: {"items": [{"id": BOARD, "name": "Summer Recipes"},
                                                              {"id": "2", "name": "Soups"}], "bookmark": None})  # fmt: skip
    yield made
    made.stop()


@pytest.fixture(scope="module")
def chorus(fake: FakePlatform) -> Iterator[Chorus]:
    c = Chorus(
        parameters={
            "ThreadsAppId": "th-app",
            "ThreadsAppSecret": "th-secret",
            "PinterestAppId": "pin-app",
            "PinterestAppSecret": "pin-secret",
        },
        extra_env={
            "CHORUS_THREADS_TOKEN_URL": fake.url,
            "CHORUS_THREADS_API_URL": f"{fake.url}/v1.0",
            "CHORUS_PINTEREST_API_URL": f"{fake.url}/v5",
        },
    )
    yield c
    c.close()


@pytest.fixture
def publishing(fake: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The publishing endpoints of both fakes; the adapters built afresh, pointed at them."""
    from chorus.platforms import registry

    threads_platform(fake, monkeypatch)
    pinterest_platform(fake, monkeypatch)
    registry.reset()
    yield
    registry.reset()


def connect(chorus: Chorus, key: str, platform: str, code: str) -> Any:
    started = chorus.call("GET", f"/accounts/connect/{platform}", key,
                          params={"redirect_uri": "https://app.example/done"})  # fmt: skip
    assert started.status_code == 200, started.text
    return chorus.call(
        "GET", f"/oauth/callback/{platform}", key, params={"code": code, "state": started.json()["state"]}
    )


def published(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        target = chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0]
        return target if target["state"] in {"published", "failed", "partially_published"} else None

    return eventually(done, timeout=30)


def test_threads_connects_by_oauth_and_publishes_a_thread_once(
    chorus: Chorus, fake: FakePlatform, publishing: None
) -> None:
    ws, key = chorus.workspace("Threads Café")
    # Given an admin connecting a Threads profile through the generic flow
    back = connect(chorus, key, "threads", "th-good")
    assert back.status_code == 200, back.text
    [account] = back.json()["accounts"]
    # Then the profile /me named is connected, with the long-lived token (not the one-hour one)
    assert (account["platform"], account["platform_account_id"], account["handle"]) == (
        "threads",
        USER,
        "chorus_cafe",
    )
    from chorus.accounts import service as accounts

    assert accounts.credentials(accounts.get_account(ws, account["id"])).access_token == "th-long"
    # When a thread of two parts is posted now
    made = chorus.call("POST", "/posts", key, json={"text": "one", "accounts": [account["id"]], "mode": "now",
                                                    "thread": ["two"]})  # fmt: skip
    assert made.status_code == 201, made.text
    target = published(chorus, key, made.json()["id"])
    # Then it is published once, the part replying to the root
    assert target["state"] == "published", target
    posts = [(p["text"], p["reply_to_id"]) for p in fake.records["post"][-2:]]
    assert posts == [("one", None), ("two", fake.records["post"][-2]["id"])]
    assert target["url"].startswith("https://www.threads.net/@chorus/post/")


def test_a_refused_threads_code_is_a_400_naming_the_code(chorus: Chorus) -> None:
    _, key = chorus.workspace("Refused")
    back = connect(chorus, key, "threads", "th-used")
    assert back.status_code == 400
    assert back.json()["errors"][0]["field"] == "code"
    assert "Matching code was not found" in back.json()["detail"]


def test_pinterest_connects_with_its_boards_and_pins_to_the_chosen_one(
    chorus: Chorus, fake: FakePlatform, publishing: None
) -> None:
    _, key = chorus.workspace("Pins")
    # Given a Pinterest account connected through the generic flow
    back = connect(chorus, key, "pinterest", "pin-good")
    assert back.status_code == 200, back.text
    [account] = back.json()["accounts"]
    assert (account["platform"], account["platform_account_id"], account["handle"]) == (
        "pinterest",
        "549755885000",
        "merle",
    )
    # When an image is pinned with a link
    made = chorus.call("POST", "/posts", key, json={
        "text": "Lemon tart\nBake it at 180 degrees.", "accounts": [account["id"]], "mode": "now",
        "link": "https://recipes.example/tart",
        "media": [{"mime_type": "image/jpeg", "url": "https://cdn.example/tart.jpg", "alt_text": "A tart"}]})  # fmt: skip
    assert made.status_code == 201, made.text
    target = published(chorus, key, made.json()["id"])
    # Then one pin on the first board listed at connect, with title, description, link and alt text
    assert target["state"] == "published", target
    pin = fake.records["pin"][-1]
    # (its link is the post's short link, to the link tagged for Pinterest: its clicks are counted apart)
    (link,) = chorus.call("GET", f"/posts/{made.json()['id']}/links", key).json()["links"]
    assert (link["original"], link["platform"]) == ("https://recipes.example/tart", "pinterest")
    assert link["destination"].startswith(
        "https://recipes.example/tart?utm_source=pinterest&utm_medium=social"
    )
    assert (pin["board_id"], pin["title"], pin["description"], pin["link"], pin["alt_text"]) == (
        BOARD, "Lemon tart", "Bake it at 180 degrees.", link["short_url"], "A tart")  # fmt: skip
    assert target["platform_post_id"] == pin["id"]


def test_a_pin_without_media_is_refused_naming_the_account_and_the_rule(
    chorus: Chorus, publishing: None
) -> None:
    _, key = chorus.workspace("No media")
    [account] = connect(chorus, key, "pinterest", "pin-good").json()["accounts"]
    refused = chorus.call(
        "POST", "/posts", key, json={"text": "x" * 801, "accounts": [account["id"]], "mode": "now"}
    )
    assert refused.status_code == 422, refused.text
    problem = json.dumps(refused.json())
    assert account["id"] in problem
    assert "media.required" in problem
    assert "text.too_long" in problem
