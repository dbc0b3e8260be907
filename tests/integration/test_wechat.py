"""WeChat Official Accounts on the embedded runtime, against a fake WeChat on 127.0.0.1 whose token
endpoint invalidates the previous token at every fetch (as ``cgi-bin/token`` does): the deployment's app
(``WeChatAppId``/``WeChatAppSecret``) gives every worker one shared access token, fetched once; an
article is uploaded, drafted, submitted, polled and published once by the real publisher through
``POST /posts``; a submit refused for the daily quota (45009) waits, the reason shown, and is not
failed; an article over WeChat's limits is a 422 naming the account and the rule."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chorus.platforms.wechat.crypto import sha1_signature
from tests.faults.fakes.wechat import (
    ACCOUNT,
    APP_ID,
    APP_SECRET,
    COVER,
    SUBMIT,
    WeChat,
    drafts,
    titles,
    wechat_platform,
)
from tests.faults.harness import FakePlatform, Request
from tests.integration.harness import Chorus, eventually

CONNECT_TOKEN = "token-the-owner-pasted"  # proves the account works at connect time
CALLBACK_TOKEN = "callback-token"  # the callback's signing token (plain mode here)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatform]:
    made = FakePlatform()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def chorus(fake: FakePlatform) -> Iterator[Chorus]:
    c = Chorus(
        parameters={"WeChatAppId": APP_ID, "WeChatAppSecret": APP_SECRET, "WeChatToken": CALLBACK_TOKEN},
        extra_env={"CHORUS_WECHAT_API_URL": fake.url},
    )
    yield c
    c.close()


@pytest.fixture(scope="module")
def knobs(fake: FakePlatform) -> Iterator[WeChat]:
    """The fake's WeChat routes for the module (its records accumulate: tests count what they add)."""
    from chorus.platforms import registry
    from chorus.platforms.wechat import publish

    with pytest.MonkeyPatch.context() as monkeypatch:
        made = wechat_platform(fake, monkeypatch)
        made.token_delay_s = 0.3  # a slow token answer: every worker that does not wait would fetch its own

        def domain_ip(req: Request, match: re.Match[str]) -> Any:
            if req.query.get("access_token") not in {CONNECT_TOKEN, *made.valid}:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            return {"ip_list": ["101.226.103.0/25"]}

        fake.route("GET", "/cgi-bin/get_api_domain_ip", domain_ip)
        monkeypatch.setattr(publish, "POLL_DELAY_SECONDS", 1)  # the runtime's SQS delays are wall-clock
        registry.reset()
        yield made
        registry.reset()


def connect(chorus: Chorus, key: str, official_account: str = ACCOUNT) -> str:
    """An official account (``gh_…``: each connects to one workspace only) of the deployment's app."""
    made = chorus.call("POST", "/accounts", key, json={
        "platform": "wechat", "platform_account_id": official_account, "access_token": CONNECT_TOKEN})  # fmt: skip
    assert made.status_code == 201, made.text
    account_id: str = made.json()["id"]
    return account_id


def article(chorus: Chorus, key: str, account: str, fake: FakePlatform, title: str) -> str:
    made = chorus.call("POST", "/posts", key, json={
        "text": f"{title}\n\n今天起，门店供应柠檬挞。", "accounts": [account], "mode": "now",
        "media": [{"url": f"{fake.url}{COVER}", "mime_type": "image/jpeg"}]})  # fmt: skip
    assert made.status_code == 201, made.text
    post_id: str = made.json()["id"]
    return post_id


def settled(chorus: Chorus, key: str, post_id: str, states: set[str]) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        target = chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0]
        return target if target["state"] in states else None

    found: dict[str, Any] = eventually(done, timeout=60)
    return found


def test_articles_published_at_once_share_one_token_and_each_goes_out_once(
    chorus: Chorus, fake: FakePlatform, knobs: WeChat
) -> None:
    _, key = chorus.workspace("WeChat Café")
    account = connect(chorus, key)
    # When three articles are published now, by as many publisher invocations
    posts = [article(chorus, key, account, fake, f"新品{n}") for n in range(3)]
    targets = [settled(chorus, key, p, {"published", "failed", "partially_published"}) for p in posts]
    # Then each was uploaded, drafted, submitted and polled to its end once, its URL recorded
    assert [t["state"] for t in targets] == ["published"] * 3, targets
    assert sorted(titles(fake)) == ["新品0", "新品1", "新品2"]
    assert len(fake.records["draft"]) == 3
    assert len(fake.calls("POST", SUBMIT)) == 3
    by_title = {a["title"]: a for a in fake.records["article"]}
    for n, target in enumerate(targets):
        assert target["url"] == by_title[f"新品{n}"]["url"]
        assert target["platform_post_id"] == by_title[f"新品{n}"]["id"]
    # And WeChat issued one access token for all of them (a second fetch would have broken the first)
    assert [t["id"] for t in fake.records["token"]] == ["ACCESS_TOKEN_1"]
    assert not [
        r
        for r in fake.requests
        if r.path != "/cgi-bin/stable_token" and "errcode" in json.dumps(r.json or {})
    ]


def test_the_daily_quota_defers_the_article_with_its_reason(
    chorus: Chorus, fake: FakePlatform, knobs: WeChat
) -> None:
    _, key = chorus.workspace("Quota Café")
    account = connect(chorus, key, "gh_quota0000001")
    submits = len(fake.calls("POST", SUBMIT))
    fake.fail(
        "POST", SUBMIT, 200, {"errcode": 45009, "errmsg": "reach max api daily quota limit rid: 617682e0"}
    )
    post = article(chorus, key, account, fake, "配额")
    # Then the target waits (queued again, not failed) until the quota resets, saying why

    def deferred_or_failed() -> dict[str, Any] | None:
        target: dict[str, Any] = chorus.call("GET", f"/posts/{post}", key).json()["targets"][0]
        waited = any(a["outcome"] == "rate_limited" for a in target["attempt_log"])
        return target if waited or target["state"] == "failed" else None

    target = eventually(deferred_or_failed, timeout=60)
    assert target["state"] == "queued", target
    (deferred,) = [a for a in target["attempt_log"] if a["outcome"] == "rate_limited"]
    assert (
        "daily API quota is used up; it resets at midnight Beijing time (errcode 45009" in deferred["detail"]
    )
    assert len(fake.calls("POST", SUBMIT)) == submits + 1
    assert drafts(fake)[-1][0] == "配额"  # drafted once; the submit alone is left to do
    assert set(target["parts"]) == {"image:0", "draft"}


def test_an_article_over_wechats_limits_is_refused_naming_the_account_and_the_rule(
    chorus: Chorus, fake: FakePlatform, knobs: WeChat
) -> None:
    _, key = chorus.workspace("Long title")
    account = connect(chorus, key, "gh_limits000001")
    refused = chorus.call("POST", "/posts", key, json={
        "text": "标" * 33 + "\n正文", "accounts": [account], "mode": "now"})  # fmt: skip
    assert refused.status_code == 422, refused.text
    problem = json.dumps(refused.json(), ensure_ascii=False)
    assert f"accounts[{account}].text" in problem
    assert "title.too_long" in problem
    assert "media.required" in problem


def test_a_message_an_inbox_rule_answers_gets_its_reply_in_the_callbacks_response(
    chorus: Chorus, fake: FakePlatform, knobs: WeChat
) -> None:
    # Given an account and a rule that answers questions about opening hours
    _, key = chorus.workspace("Passive Café")
    connect(chorus, key, "gh_passive00001")
    rules = chorus.call("PUT", "/inbox/rules", key, json={"rules": [
        {"terms": ["营业时间"], "reply": "每天 9:00-21:00 营业", "tag": "hours"}]})  # fmt: skip
    assert rules.status_code == 200, rules.text

    def message(text: str, nonce: str) -> Any:
        timestamp = str(int(time.time()))
        body = (f"<xml><ToUserName><![CDATA[gh_passive00001]]></ToUserName><FromUserName><![CDATA[oFan1]]></FromUserName>"
                f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[{text}]]></Content><MsgId>{nonce}</MsgId></xml>")  # fmt: skip
        query = {
            "signature": sha1_signature(CALLBACK_TOKEN, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        return chorus.http.post(
            f"{chorus.rt.api_url}/webhooks/wechat", params=query, data=body.encode(), timeout=10
        )

    # When a follower asks, the callback's own answer carries the rule's text to them (a passive reply:
    # nothing queued, so WeChat's 5-second limit is the request's own time, measured in no test)
    asked = message("请问营业时间?", "7001")
    assert asked.status_code == 200, asked.text
    assert "<Content><![CDATA[每天 9:00-21:00 营业]]></Content>" in asked.text
    assert "<ToUserName><![CDATA[oFan1]]></ToUserName>" in asked.text
    # And a message no rule answers is acknowledged with "success"
    other = message("你好", "7002")
    assert (other.status_code, other.text) == (200, "success")
