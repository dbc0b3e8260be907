"""Automatic answers in WeChat's callback response (被动回复): an inbox rule's ``reply`` (validated with
the rules), the first matching rule's reply chosen, the receiver answering it in the callback's own
response for one queued message (else ``success``), and a failing lookup never failing the webhook."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chorus.accounts.service import Account
from chorus.errors import ValidationFailed
from chorus.inbox import ingest, passive
from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.inbox.queue import InMemoryIngestQueue
from chorus.inbox.receiver import receive
from chorus.inbox.rules import MAX_REPLY, automatic_reply, build_rules
from chorus.platforms.webhooks import WebhookSecrets
from chorus.platforms.wechat.crypto import sha1_signature
from chorus.platforms.wechat.webhook import parse_xml
from tests.unit.test_webhook_properties import MemoryReplays

WS = "ws-passive"
SECRETS = WebhookSecrets(wechat_token="wechat-token")
TEXT = (
    "<xml><ToUserName>gh_1</ToUserName><FromUserName>o_1</FromUserName><CreateTime>1700000000</CreateTime>"
    "<MsgType>text</MsgType><Content>{}</Content><MsgId>42</MsgId></xml>"
)
RULES = [
    {"terms": ["营业时间"], "reply": "每天 9:00-21:00 营业"},
    {"terms": ["退款"], "tag": "refund", "priority": 2},
    {"terms": ["营业时间", "地址"], "reply": "second rule: never chosen for 营业时间"},
]


def query(nonce: str) -> dict[str, str]:
    timestamp = str(int(datetime.now(UTC).timestamp()))
    return {
        "signature": sha1_signature("wechat-token", timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }


def test_a_rule_may_answer_and_its_reply_is_kept() -> None:
    made = build_rules(WS, RULES)
    assert made[0].reply == "每天 9:00-21:00 营业"
    assert made[0].to_dict()["reply"] == "每天 9:00-21:00 营业"
    assert made[1].reply is None


@pytest.mark.parametrize("reply", ["", "   ", 42, "字" * (MAX_REPLY + 1)])
def test_a_reply_that_is_empty_not_text_or_too_long_is_refused_naming_it(reply: object) -> None:
    with pytest.raises(ValidationFailed) as refused:
        build_rules(WS, [{"terms": ["x"], "reply": reply}])
    assert refused.value.errors[0].field == "rules[0].reply"


def test_the_first_matching_rule_with_a_reply_answers() -> None:
    made = build_rules(WS, RULES)
    assert automatic_reply(made, "请问营业时间?") == "每天 9:00-21:00 营业"
    assert automatic_reply(made, "我要退款") is None  # matches, but that rule does not answer
    assert automatic_reply(made, "你们的地址") == "second rule: never chosen for 营业时间"


def account(workspace: str, status: str = "active") -> Account:
    return Account(
        "acct-1", workspace, "wechat", "gh_1", None, None, status, None, None, None, None, datetime.now(UTC)
    )


def dm(text: str) -> InboundMessage:
    return InboundMessage(
        "wechat", "gh_1", "42", MessageKind.DM, "o_1", text, datetime.now(UTC), author_id="o_1"
    )


def test_the_reply_comes_from_the_rules_of_the_one_workspace_that_connected_the_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connected = {"gh_1": [account(WS)]}
    monkeypatch.setattr(ingest, "routed_accounts", lambda platform, ref, lookup=None: connected.get(ref, []))
    monkeypatch.setattr(passive, "current_rules", lambda ws: build_rules(ws, RULES) if ws == WS else [])
    assert passive.rule_reply("wechat", dm("营业时间")) == "每天 9:00-21:00 营业"
    assert passive.rule_reply("wechat", dm("hello")) is None
    assert passive.rule_reply("wechat", replace(dm("营业时间"), account_ref="gh_unknown")) is None
    connected["gh_1"] = [account(WS), account("ws-other")]  # whose rules would speak? none
    assert passive.rule_reply("wechat", dm("营业时间")) is None
    connected["gh_1"] = [account(WS, status="needs_reauth")]
    assert passive.rule_reply("wechat", dm("营业时间")) is None


def test_the_receiver_answers_a_rules_reply_in_the_callback_and_still_queues_the_message() -> None:
    queue = InMemoryIngestQueue()
    body = TEXT.format("营业时间?").encode()
    answered = receive("wechat", "POST", query("n-1"), {}, body, SECRETS, queue, replays=MemoryReplays(),
                       auto_reply=lambda platform, message: "每天 9:00-21:00 营业" if "营业" in message.text else None)  # fmt: skip
    assert answered.status == 200
    reply = parse_xml(answered.body)
    assert (reply["ToUserName"], reply["FromUserName"], reply["Content"]) == (
        "o_1",
        "gh_1",
        "每天 9:00-21:00 营业",
    )
    assert len(queue.sent) == 1  # ingested as any message (tags, assignee, the conversation)
    plain = receive("wechat", "POST", query("n-2"), {}, TEXT.format("hi").encode(), SECRETS, queue,
                    replays=MemoryReplays(), auto_reply=lambda platform, message: None)  # fmt: skip
    assert plain.body == b"success"


def test_a_failing_lookup_answers_success_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def broken(platform: str, message: InboundMessage) -> str | None:
        raise ConnectionError("DynamoDB unreachable")

    with caplog.at_level(logging.ERROR, logger="chorus.inbox.receiver"):
        answered = receive("wechat", "POST", query("n-3"), {}, TEXT.format("营业时间").encode(), SECRETS,
                           InMemoryIngestQueue(), replays=MemoryReplays(), auto_reply=broken)  # fmt: skip
    assert (answered.status, answered.body) == (200, b"success")
    assert "passive reply not given" in [r.getMessage() for r in caplog.records]
