"""WeChat customer-service replies against documented requests and answers
(fixtures/platform_api/replies/wechat, platform_api/china/wechat): the text body, errcode 0 with "ok" or ""
as success, 45015/45047 as clear refusals, the 48-hour window before the network, and one stable access
token per lifetime shared by every worker (normal mode never renews a valid token)."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from responses import matchers

from chorus.errors import ValidationFailed
from chorus.inbox import channels
from chorus.platforms.base import AccountCredentials, PermanentError, Progress, TransientError
from chorus.platforms.wechat.messages import WeChatSender
from tests.contract.replying import (
    SENT_AT,
    hours_after,
    marks,
    replies_fixture,
    reply_request,
    rsps,
    sent_twice_after_a_lost_answer,
)
from tests.support import fixture_json

__all__ = ["rsps"]

API = "https://api.weixin.qq.com"
SEND = f"{API}/cgi-bin/message/custom/send"
STABLE = f"{API}/cgi-bin/stable_token"
CREDS = AccountCredentials(platform="wechat", account_id="gh_0123456789ab", access_token="stored-token")
DOCUMENTED = replies_fixture("wechat/custom_send_text_request_docs.json")


def china(name: str) -> object:
    return fixture_json(f"platform_api/china/wechat/{name}")


def app_sender() -> WeChatSender:
    return WeChatSender(session=requests.Session(), base_url=API, app=lambda: ("APPID", "APPSECRET"))


def token_is(token: str) -> list[object]:
    return [matchers.query_param_matcher({"access_token": token})]


@pytest.mark.parametrize(
    "answer",
    [
        "wechat/custom_send_success_response_observed.json",
        "wechat/custom_send_success_response_wechatpy.json",
    ],
)
def test_a_reply_is_the_documented_text_message_and_errcode_0_is_success(
    rsps: responses.RequestsMock, answer: str
) -> None:
    # Given the account's own token (no app credentials configured)
    sender = WeChatSender(session=requests.Session(), base_url=API, app=lambda: None)
    rsps.post(SEND, json=replies_fixture(answer), match=token_is("stored-token"))
    request = reply_request(DOCUMENTED["text"]["content"], recipient=DOCUMENTED["touser"])
    # When the reply is sent
    result = sender.send(CREDS, request)
    # Then the body is the documented one and success is read from errcode alone
    assert json.loads(rsps.calls[0].request.body or b"{}") == DOCUMENTED
    assert result.platform_post_id == "wechat:idem-key-1"
    assert marks(request) == [("sent", "0"), ("landed", "0", "wechat:idem-key-1")]


def test_one_stable_token_serves_every_reply_until_it_nears_expiry(rsps: responses.RequestsMock) -> None:
    # Given WeChat's stable token (normal mode: force_refresh false)
    documented = china("stable_token_request_force_refresh_false_docs.json")
    rsps.post(STABLE, json=china("stable_token_response_docs.json"),
              match=[matchers.json_params_matcher(documented)])  # fmt: skip
    rsps.post(SEND, json={"errcode": 0, "errmsg": "ok"}, match=token_is("ACCESS_TOKEN"))
    sender = app_sender()
    # When two replies go out
    sender.send(CREDS, reply_request("one", recipient="OPENID"))
    sender.send(CREDS, reply_request("two", recipient="OPENID", progress=Progress("k2", SENT_AT)))
    # Then the token was asked for once (7200 s of life), in normal mode
    assert [c.request.url.split("?")[0] for c in rsps.calls] == [STABLE, SEND, SEND]


def test_a_token_near_its_end_is_asked_for_again(rsps: responses.RequestsMock) -> None:
    now = [0.0]
    sender = app_sender()
    sender.tokens.clock = lambda: now[0]
    rsps.post(STABLE, json={"access_token": "ACCESS_TOKEN", "expires_in": 7200})
    rsps.post(SEND, json={"errcode": 0, "errmsg": "ok"})
    sender.send(CREDS, reply_request("one", recipient="OPENID"))
    now[0] = 7200 - 30  # within the last minute of its life
    sender.send(CREDS, reply_request("two", recipient="OPENID", progress=Progress("k2", SENT_AT)))
    assert [c.request.url.split("?")[0] for c in rsps.calls] == [STABLE, SEND, STABLE, SEND]


def test_a_stale_token_is_forgotten_and_the_reply_retried_with_the_current_one(
    rsps: responses.RequestsMock,
) -> None:
    # Given WeChat no longer takes the token held (42001 as recorded), then takes the current one
    rsps.post(STABLE, json={"access_token": "OLD", "expires_in": 7200})
    rsps.post(SEND, json=china("errcode_42001_access_token_expired_recorded.json"), match=token_is("OLD"))
    sender = app_sender()
    request = reply_request("Hi", recipient="OPENID")
    # When the reply is sent: a transient failure, and nothing went out (the mark is cleared)
    with pytest.raises(TransientError):
        sender.send(CREDS, request)
    assert marks(request) == [("sent", "0"), ("unsent", "0")]
    # Then the retry asks for the token again and sends with it
    rsps.post(STABLE, json={"access_token": "NEW", "expires_in": 7200})
    rsps.post(SEND, json={"errcode": 0, "errmsg": "ok"}, match=token_is("NEW"))
    sender.send(CREDS, request)
    assert [c.request.url.split("?")[0] for c in rsps.calls] == [STABLE, SEND, STABLE, SEND]


@pytest.mark.parametrize(
    ("fixture", "says"),
    [
        (
            "wechat/custom_send_error_45015_observed.json",
            "more than 48 hours since the person's last message",
        ),
        ("wechat/custom_send_error_45047_observed.json", "customer-service messages allowed"),
    ],
)
def test_window_and_quota_refusals_are_clear(rsps: responses.RequestsMock, fixture: str, says: str) -> None:
    rsps.post(SEND, json=replies_fixture(fixture))
    sender = WeChatSender(session=requests.Session(), base_url=API, app=lambda: None)
    with pytest.raises(PermanentError) as refused:
        sender.send(CREDS, reply_request("Hi", recipient="OPENID"))
    assert says in refused.value.message
    assert refused.value.code == str(replies_fixture(fixture)["errcode"])


def test_the_48_hour_window_is_applied_before_the_network() -> None:
    wechat = channels.get("wechat")
    assert channels.plan_reply(wechat, SENT_AT, hours_after(47.9), text="Hi") == channels.ReplyPlan()
    with pytest.raises(ValidationFailed) as refused:
        channels.plan_reply(wechat, SENT_AT, hours_after(48.1), text="Hi")
    assert "within 48 h" in refused.value.errors[0].message


def test_a_lost_answer_is_never_sent_again(rsps: responses.RequestsMock) -> None:
    rsps.post(SEND, body=requests.ReadTimeout("read timed out"))
    sender = WeChatSender(session=requests.Session(), base_url=API, app=lambda: None)
    sent_twice_after_a_lost_answer(sender, CREDS, rsps, recipient="OPENID")
