"""Connecting accounts by OAuth on the embedded runtime, against a fake X / Meta on 127.0.0.1; the
publisher refreshing a refused token once, and parking a target when the quota is spent."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.harness import Chorus, eventually
from tests.support import LoopbackServer, json_handler

X_USER_ID = "2244994945"
IG_USER_ID = "17841400000000001"
# code -> (access token, refresh token) the fake token endpoint grants
CODES = {
    "good": ("x-at-1", "x-rt-1"),
    "dead": ("x-at-dead", "x-rt-dead"),
    "stale": ("x-at-stale", "x-rt-stale"),
}
# refresh token -> the access token a refresh grants (none back: the answer omits the refresh token)
REFRESHES = {"x-rt-1": "x-at-2", "x-rt-stale": "x-at-stale-2"}
TWEETING_TOKENS = {"x-at-2"}  # every other token is refused by POST /2/tweets


class FakeProvider:
    """X's token, users/me and tweets endpoints and Meta's Graph endpoints, as the platforms document them."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.quota_usage = 25
        provider = self

        class Handler(json_handler()):
            def _record(self) -> tuple[str, dict[str, list[str]], str]:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                form = parse_qs(raw) if "urlencoded" in (self.headers.get("Content-Type") or "") else {}
                params = {**parse_qs(parts.query), **form}
                bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                provider.requests.append(
                    {"method": self.command, "path": parts.path, "params": params, "bearer": bearer}
                )
                return parts.path, params, bearer

            def do_POST(self) -> None:
                path, params, bearer = self._record()
                if path == "/2/oauth2/token":
                    grant = params["grant_type"][0]
                    if grant == "authorization_code" and params.get("code", [""])[0] in CODES:
                        access, refresh = CODES[params["code"][0]]
                        return self._answer(
                            200,
                            {
                                "token_type": "bearer",
                                "expires_in": 7200,
                                "access_token": access,
                                "scope": "tweet.read tweet.write users.read offline.access",
                                "refresh_token": refresh,
                            },
                        )
                    if grant == "refresh_token" and params["refresh_token"][0] in REFRESHES:
                        access = REFRESHES[params["refresh_token"][0]]
                        return self._answer(
                            200, {"token_type": "bearer", "expires_in": 7200, "access_token": access}
                        )
                    return self._answer(
                        400,
                        {
                            "error": "invalid_grant",
                            "error_description": "Value passed for the token was invalid.",
                        },
                    )
                if path == "/2/tweets":
                    if bearer not in TWEETING_TOKENS:
                        return self._answer(
                            401,
                            {
                                "title": "Unauthorized",
                                "type": "about:blank",
                                "status": 401,
                                "detail": "Unauthorized",
                            },
                        )
                    return self._answer(201, {"data": {"id": "1445880548472328192", "text": "hello"}})
                if path == f"/{IG_USER_ID}/media":
                    return self._answer(200, {"id": "17889615691921648"})
                return self._answer(404, {"error": "not_found"})

            def do_GET(self) -> None:
                path, params, bearer = self._record()
                if path == "/2/users/me":
                    if bearer not in {a for a, _ in CODES.values()}:
                        return self._answer(
                            401, {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"}
                        )
                    return self._answer(
                        200, {"data": {"id": X_USER_ID, "name": "X Dev", "username": "TwitterDev"}}
                    )
                if path.startswith("/2/users/") and path.endswith("/tweets"):
                    return self._answer(200, {"meta": {"result_count": 0}})
                if path == "/oauth/access_token":
                    token = "user-long" if "fb_exchange_token" in params else "user-short"
                    return self._answer(
                        200, {"access_token": token, "token_type": "bearer", "expires_in": 5183944}
                    )
                if path == "/me/accounts":
                    return self._answer(
                        200,
                        {
                            "data": [
                                {
                                    "id": "1111",
                                    "name": "Brand Page",
                                    "access_token": "page-token-1",
                                    "instagram_business_account": {"id": IG_USER_ID},
                                },
                                {"id": "2222", "name": "Side Page", "access_token": "page-token-2"},
                            ]
                        },
                    )
                if path == f"/{IG_USER_ID}/content_publishing_limit":
                    return self._answer(
                        200,
                        {
                            "data": [
                                {
                                    "quota_usage": provider.quota_usage,
                                    "config": {"quota_total": 25, "quota_duration": 86400},
                                }
                            ]
                        },
                    )
                return self._answer(404, {"error": "not_found"})

        self.loopback = LoopbackServer(Handler)
        self.url = self.loopback.url

    def seen(self, method: str, path: str, **params: str) -> list[dict[str, Any]]:
        return [
            r
            for r in self.requests
            if r["method"] == method
            and r["path"] == path
            and all(r["params"].get(k, [None])[0] == v for k, v in params.items())
        ]

    def stop(self) -> None:
        self.loopback.stop()


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def chorus(provider: FakeProvider) -> Iterator[Chorus]:
    # App credentials arrive as the template's NoEcho parameters; the endpoints point at the fake.
    c = Chorus(
        parameters={
            "XClientId": "x-client",
            "XClientSecret": "x-secret",
            "MetaAppId": "meta-app",
            "MetaAppSecret": "meta-secret",
        },
        extra_env={
            "CHORUS_X_TOKEN_URL": f"{provider.url}/2/oauth2/token",
            "CHORUS_X_API_URL": provider.url,
            "CHORUS_FACEBOOK_GRAPH_URL": provider.url,
        },
    )
    yield c
    c.close()


@pytest.fixture
def adapters(chorus: Chorus, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    """The X and Instagram publishers talk to the fake instead of the platforms."""
    from chorus.platforms import registry
    from chorus.platforms.instagram.publish import InstagramPublisher
    from chorus.platforms.x.publish import XPublisher

    monkeypatch.setitem(registry._built, "pub:x", XPublisher(base_url=provider.url))
    monkeypatch.setitem(registry._built, "pub:instagram", InstagramPublisher(base_url=provider.url))


def connect(chorus: Chorus, key: str, platform: str, code: str) -> list[dict[str, Any]]:
    started = chorus.call(
        "GET", f"/accounts/connect/{platform}", key, params={"redirect_uri": "https://app.example/done"}
    )
    assert started.status_code == 200, started.text
    back = chorus.call(
        "GET", f"/oauth/callback/{platform}", key, params={"code": code, "state": started.json()["state"]}
    )
    assert back.status_code == 200, back.text
    return list(back.json()["accounts"])


def target_of(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    return dict(chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0])


def settled(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        target = target_of(chorus, key, post_id)
        return target if target["state"] in {"published", "failed"} else None

    return eventually(done, timeout=30)


def stored_tokens(workspace_id: str, account_id: str) -> tuple[str, str | None]:
    from chorus.accounts import service as accounts

    creds = accounts.credentials(accounts.get_account(workspace_id, account_id))
    return creds.access_token, creds.refresh_token


def test_an_admin_connects_an_x_account_and_the_state_works_once(
    chorus: Chorus, provider: FakeProvider
) -> None:
    ws, key = chorus.workspace()
    # Given an admin starting a connection
    started = chorus.call(
        "GET", "/accounts/connect/x", key, params={"redirect_uri": "https://app.example/done"}
    )
    assert started.status_code == 200, started.text
    url, state = started.json()["authorize_url"], started.json()["state"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://x.com/i/oauth2/authorize?")
    assert query["client_id"] == ["x-client"]
    assert query["state"] == [state]
    # When X sends the browser back and the app passes code and state on with the key that started it
    back = chorus.call("GET", "/oauth/callback/x", key, params={"code": "good", "state": state})
    # Then the X user is connected to the admin's workspace, with the PKCE verifier behind the challenge
    assert back.status_code == 200, back.text
    [account] = back.json()["accounts"]
    assert (account["platform"], account["platform_account_id"], account["handle"]) == (
        "x",
        X_USER_ID,
        "TwitterDev",
    )
    exchange = provider.seen("POST", "/2/oauth2/token", grant_type="authorization_code", code="good")[-1]
    verifier = exchange["params"]["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == [challenge]
    assert [a["id"] for a in chorus.call("GET", "/accounts", key).json()["accounts"]] == [account["id"]]
    assert stored_tokens(ws, account["id"]) == ("x-at-1", "x-rt-1")
    # And the same state a second time is refused, naming the state
    again = chorus.call("GET", "/oauth/callback/x", key, params={"code": "good", "state": state})
    assert again.status_code == 400
    assert again.json()["errors"][0]["field"] == "state"


def test_only_admins_start_connections_and_a_declined_consent_spends_the_state(chorus: Chorus) -> None:
    _, owner = chorus.workspace()
    editor = chorus.call("POST", "/keys", owner, json={"name": "ed", "role": "editor"}).json()["key"]
    refused = chorus.call(
        "GET", "/accounts/connect/x", editor, params={"redirect_uri": "https://app.example/done"}
    )
    assert refused.status_code == 403
    started = chorus.call(
        "GET", "/accounts/connect/x", owner, params={"redirect_uri": "https://app.example/done"}
    ).json()
    declined = chorus.call(
        "GET",
        "/oauth/callback/x",
        owner,
        params={
            "error": "access_denied",
            "error_description": "The user denied access",
            "state": started["state"],
        },
    )
    assert declined.status_code == 400
    assert "denied" in declined.json()["detail"]
    later = chorus.call("GET", "/oauth/callback/x", owner, params={"code": "good", "state": started["state"]})
    assert later.json()["errors"][0]["field"] == "state"


def test_a_refused_token_is_refreshed_once_and_the_post_published_keeping_the_refresh_token(
    chorus: Chorus, provider: FakeProvider, adapters: None
) -> None:
    ws, key = chorus.workspace()
    [account] = connect(chorus, key, "x", "good")
    # Given X refuses the stored access token (only the refreshed one may tweet)
    created = chorus.call(
        "POST", "/posts", key, json={"text": "hello", "accounts": [account["id"]], "mode": "now"}
    )
    assert created.status_code == 201, created.text
    # When the publisher publishes
    target = settled(chorus, key, created.json()["id"])
    # Then it refreshed once, repeated the call once, and the post is out
    assert target["state"] == "published"
    assert target["platform_post_id"] == "1445880548472328192"
    assert [
        r["bearer"] for r in provider.seen("POST", "/2/tweets") if r["bearer"] in {"x-at-1", "x-at-2"}
    ] == [
        "x-at-1",
        "x-at-2",
    ]
    assert len(provider.seen("POST", "/2/oauth2/token", refresh_token="x-rt-1")) == 1
    # And the refresh answer had no refresh token: the stored one was kept, the new access token stored
    assert stored_tokens(ws, account["id"]) == ("x-at-2", "x-rt-1")
    assert chorus.call("GET", f"/accounts/{account['id']}", key).json()["status"] == "active"


@pytest.mark.parametrize(
    ("code", "refreshes", "tweets", "words"),
    [
        ("dead", 1, 1, "token refresh refused"),  # the refresh token is dead: no second call
        ("stale", 1, 2, "Unauthorized"),  # refreshed, but the new token is refused too
    ],
)
def test_a_token_still_refused_after_one_refresh_fails_the_target_and_marks_the_account(
    chorus: Chorus, provider: FakeProvider, adapters: None, code: str, refreshes: int, tweets: int, words: str
) -> None:
    ws, key = chorus.workspace()
    [account] = connect(chorus, key, "x", code)
    access, refresh = CODES[code]
    created = chorus.call(
        "POST", "/posts", key, json={"text": "nope", "accounts": [account["id"]], "mode": "now"}
    )
    target = settled(chorus, key, created.json()["id"])
    assert target["state"] == "failed"
    assert words in target["error"]
    assert len(provider.seen("POST", "/2/oauth2/token", refresh_token=refresh)) == refreshes
    mine = {access, REFRESHES.get(refresh, "")}
    assert len([r for r in provider.seen("POST", "/2/tweets") if r["bearer"] in mine]) == tweets
    status = chorus.call("GET", f"/accounts/{account['id']}", key).json()
    assert status["status"] == "needs_reauth"
    assert stored_tokens(ws, account["id"])[1] == refresh  # never replaced by an empty one


def test_facebook_connects_each_granted_page(chorus: Chorus) -> None:
    ws, key = chorus.workspace()
    pages = connect(chorus, key, "facebook", "fb-code")
    assert sorted((p["platform_account_id"], p["display_name"]) for p in pages) == [
        ("1111", "Brand Page"),
        ("2222", "Side Page"),
    ]
    assert stored_tokens(ws, pages[0]["id"]) == ("page-token-1", "user-long")


def test_an_exhausted_instagram_quota_parks_the_target_instead_of_failing_it(
    chorus: Chorus, provider: FakeProvider, adapters: None
) -> None:
    ws, key = chorus.workspace()
    [account] = connect(chorus, key, "instagram", "ig-code")
    assert account["platform_account_id"] == IG_USER_ID
    # Given an account that used its 25 posts of the rolling day
    provider.quota_usage = 25
    checks = len(provider.seen("GET", f"/{IG_USER_ID}/content_publishing_limit"))
    created = chorus.call(
        "POST",
        "/posts",
        key,
        json={
            "text": "later",
            "accounts": [account["id"]],
            "mode": "now",
            "media": [{"mime_type": "image/jpeg", "url": "https://cdn.example/a.jpg", "size": 1000}],
        },
    )
    assert created.status_code == 201, created.text
    # When the publisher gets the message, then the message is delayed (parked), not failed
    sqs = chorus.rt.client("sqs")
    queue = chorus.rt.queue_url("PublishQueue")

    def parked() -> bool:
        attrs = sqs.get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
        )
        seen = len(provider.seen("GET", f"/{IG_USER_ID}/content_publishing_limit")) > checks
        return seen and int(attrs["Attributes"]["ApproximateNumberOfMessagesDelayed"]) >= 1

    eventually(parked, timeout=20)
    target = target_of(chorus, key, created.json()["id"])
    assert target["state"] == "queued"
    assert target["attempts"] == 0
    assert not target.get("error")
    assert provider.seen("POST", f"/{IG_USER_ID}/media") == []


def test_the_callback_redirects_to_the_configured_app_url(
    chorus: Chorus, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chorus.accounts.apps import get_apps

    monkeypatch.setattr(get_apps(), "oauth_done_url", "https://app.example/connected?tab=accounts")
    _, key = chorus.workspace()
    started = chorus.call(
        "GET", "/accounts/connect/x", key, params={"redirect_uri": "https://app.example/done"}
    ).json()
    back = chorus.call(
        "GET",
        "/oauth/callback/x",
        key,
        params={"code": "good", "state": started["state"]},
        allow_redirects=False,
    )
    assert back.status_code == 302
    location = urlsplit(back.headers["Location"])
    assert (location.netloc, location.path) == ("app.example", "/connected")
    accounts_param = parse_qs(location.query)
    assert accounts_param["tab"] == ["accounts"]
    assert accounts_param["platform"] == ["x"]
    [listed] = chorus.call("GET", "/accounts", key).json()["accounts"]
    assert accounts_param["accounts"] == [listed["id"]]
