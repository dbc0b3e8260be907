"""Weibo on the embedded runtime, against a fake Weibo API on 127.0.0.1: connected through
``GET /accounts/connect/weibo`` and ``/oauth/callback/weibo`` (the token's uid is the account), a status
published once through ``POST /posts`` (and one without the safe-domain link answered 422 naming the
account and the rule), comments polled into the inbox once and answered once with ``comments/reply``, and
the status's repost/comment/like counts and the account's followers collected into the report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.faults.fakes.weibo import (
    APP_KEY,
    COUNT,
    MENTIONS,
    RIP,
    SAFE_DOMAIN,
    SHARE,
    TO_ME,
    UID,
    comment_on,
    weibo_platform,
)
from tests.faults.harness import FakePlatform
from tests.integration.harness import Chorus, eventually

LINK = f"https://{SAFE_DOMAIN}/winter"


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakePlatform, Any]]:
    made = FakePlatform()
    patch = pytest.MonkeyPatch()
    knobs = weibo_platform(made, patch)
    yield made, knobs
    patch.undo()
    made.stop()


@pytest.fixture(scope="module")
def chorus(fake: tuple[FakePlatform, Any]) -> Iterator[Chorus]:
    platform, _ = fake
    c = Chorus(
        parameters={
            "WeiboAppKey": APP_KEY,
            "WeiboAppSecret": "weibo-secret",
            "WeiboSafeDomain": SAFE_DOMAIN,
            "WeiboRip": RIP,
        },
        extra_env={"CHORUS_WEIBO_API_URL": platform.url},
    )
    yield c
    c.close()


def connect(chorus: Chorus, key: str, code: str) -> Any:
    started = chorus.call(
        "GET", "/accounts/connect/weibo", key, params={"redirect_uri": "https://app.example/done"}
    )
    assert started.status_code == 200, started.text
    assert f"/oauth2/authorize?client_id={APP_KEY}&" in started.json()["authorize_url"]
    return chorus.call(
        "GET", "/oauth/callback/weibo", key, params={"code": code, "state": started.json()["state"]}
    )


def settled(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        target = chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0]
        return target if target["state"] in {"published", "failed", "partially_published"} else None

    return eventually(done, timeout=30)


def test_weibo_connects_publishes_once_polls_comments_answers_once_and_collects_counts(
    chorus: Chorus, fake: tuple[FakePlatform, Any]
) -> None:
    platform, knobs = fake
    ws, key = chorus.workspace("微博 Café", timezone="Asia/Shanghai")
    # Given an admin connecting a Weibo account through the generic OAuth flow
    back = connect(chorus, key, "wb-good")
    assert back.status_code == 200, back.text
    [account] = back.json()["accounts"]
    # Then the uid Weibo answered with the token is the account, its screen name shown
    assert (account["platform"], account["platform_account_id"], account["display_name"]) == (
        "weibo", UID, "Chorus Café")  # fmt: skip
    from chorus.accounts import service as accounts

    creds = accounts.credentials(accounts.get_account(ws, account["id"]))
    assert (creds.access_token, creds.refresh_token) == (knobs.token, None)
    assert creds.expires_at is not None  # no refresh token: warned before it ends
    # When a status without the safe-domain link is posted, it is refused naming the account and the rule
    refused = chorus.call("POST", "/posts", key, json={"text": "冬季新品 https://elsewhere.example/x",
                                                       "accounts": [account["id"]], "mode": "now"})  # fmt: skip
    assert refused.status_code == 422, refused.text
    problem = json.dumps(refused.json(), ensure_ascii=False)
    assert account["id"] in problem
    assert "text.platform_rule" in problem
    assert SAFE_DOMAIN in problem
    # When a status with the link is posted now
    made = chorus.call("POST", "/posts", key, json={"text": "冬季新品上市", "link": LINK,
                                                    "accounts": [account["id"]], "mode": "now"})  # fmt: skip
    assert made.status_code == 201, made.text
    target = settled(chorus, key, made.json()["id"])
    # Then it is shared once, keyed by its idstr
    assert target["state"] == "published", json.dumps(target, ensure_ascii=False)
    [status] = platform.records["status"]
    assert len(platform.calls("POST", SHARE)) == 1
    assert target["platform_post_id"] == status["idstr"]
    assert status["rip"] == RIP
    # When someone comments on it and the poller runs (twice)
    from chorus.inbox.poller import tracked

    eventually(lambda: any(t.account_id == account["id"] for t in tracked(["weibo"])), timeout=15)
    comment = comment_on(platform, knobs, status, "什么时候到货?")
    for _ in range(2):
        chorus.rt.tick("PollerFunction")
        assert chorus.rt.wait_idle(timeout=30)
    # Then the comment is in the inbox once, on the status's conversation, linked to the post
    convs = chorus.call("GET", "/inbox", key, params={"platform": "weibo"}).json()["conversations"]
    [conv] = [c for c in convs if c["preview"] == "什么时候到货?"]
    thread = chorus.call("GET", f"/inbox/{conv['id']}", key).json()
    assert [m["text"] for m in thread["messages"]] == ["什么时候到货?"]
    assert len(platform.calls("GET", TO_ME)) == 2
    assert len(platform.calls("GET", MENTIONS)) == 2
    assert platform.calls("GET", TO_ME)[1].query["since_id"] == comment["idstr"]
    # When an agent replies from the inbox
    sent = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"text": "下周一到货"})
    assert sent.status_code in (201, 202), sent.text

    def delivered() -> dict[str, Any] | None:
        replies = chorus.call("GET", f"/inbox/{conv['id']}", key).json()["replies"]
        done = [r for r in replies if r["state"] in {"sent", "failed"}]
        return done[0] if done else None

    reply = eventually(delivered, timeout=30)
    # Then Weibo got one reply to that comment, with Weibo's 回复@ prefix
    assert reply["state"] == "sent", reply
    replies = [c for c in platform.records["comment"] if c.get("reply_comment")]
    assert [(r["reply_comment"]["idstr"], r["text"]) for r in replies] == [
        (comment["idstr"], "回复@John Rambo:下周一到货")
    ]
    # When the status is reposted, commented and liked, and metrics are collected
    status.update(reposts_count=4, comments_count=2, attitudes_count=9)
    assert chorus.rt.wait_idle(timeout=30)
    chorus.tick_at("MetricsFanoutFunction", datetime.now(UTC) + timedelta(minutes=61))
    assert chorus.rt.wait_idle(timeout=30)
    # Then statuses/count was asked for the status, and the report shows its engagements and followers
    assert any(status["idstr"] in c.query.get("ids", "") for c in platform.calls("GET", COUNT))
    today = datetime.now(UTC).date()
    body = chorus.call("GET", "/reports", key, params={"from": (today - timedelta(days=1)).isoformat(),
                                                       "to": (today + timedelta(days=1)).isoformat(),
                                                       "format": "json"}).json()  # fmt: skip
    assert body["overall"]["engagements"]["current"] == 15
    assert body["followers"]["accounts"][0]["end"] == 337
