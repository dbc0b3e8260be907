"""WeChat customer-service replies against documented requests and answers
(fixtures/platform_api/replies/wechat, platform_api/china/wechat): the text body, errcode 0 with "ok" or ""
as success, 45015/45047 as clear refusals, the 48-hour window before the network, and one stable access
token per lifetime shared by every worker (normal mode never renews a valid token)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import requests
import responses
from responses import matchers

from chorus.errors import ValidationFailed
from chorus.inbox import channels
from chorus.platforms.base import AuthError, PermanentError, Progress
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
from tests.contract.wechat import API, APP_CREDS, CREDS, STABLE, china, memory_tokens

__all__ = ["rsps"]

SEND = f"{API}/cgi-bin/message/custom/send"
DOCUMENTED = replies_fixture("wechat/custom_send_text_request_docs.json")


def app_sender(now: list[datetime] | None = None) -> WeChatSender:
    return WeChatSender(session=requests.Session(), base_url=API, tokens=memory_tokens(now))


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
    sender = app_sender()
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
    sender.send(APP_CREDS, reply_request("one", recipient="OPENID"))
    sender.send(APP_CREDS, reply_request("two", recipient="OPENID", progress=Progress("k2", SENT_AT)))
    # Then the token was asked for once (7200 s of life), in normal mode
    assert [c.request.url.split("?")[0] for c in rsps.calls] == [STABLE, SEND, SEND]


def test_a_token_near_its_end_is_asked_for_again(rsps: responses.RequestsMock) -> None:
    now = [SENT_AT]
    sender = app_sender(now)
    rsps.post(STABLE, json={"access_token": "ACCESS_TOKEN", "expires_in": 7200})
    rsps.post(SEND, json={"errcode": 0, "errmsg": "ok"})
    sender.send(APP_CREDS, reply_request("one", recipient="OPENID"))
    now[0] = SENT_AT + timedelta(seconds=7200 - 200)  # within the last five minutes of its life
    sender.send(APP_CREDS, reply_request("two", recipient="OPENID", progress=Progress("k2", SENT_AT)))
    assert [c.request.url.split("?")[0] for c in rsps.calls] == [STABLE, SEND, STABLE, SEND]


def test_a_stale_token_is_fetched_again_and_the_reply_repeated_once(rsps: responses.RequestsMock) -> None:
    # Given WeChat no longer takes the token held (42001 as recorded), then takes the current one
    rsps.post(STABLE, json={"access_token": "OLD", "expires_in": 7200})
    rsps.post(SEND, json=china("errcode_42001_access_token_expired_recorded.json"), match=token_is("OLD"))
    rsps.post(STABLE, json={"access_token": "NEW", "expires_in": 7200})
    rsps.post(SEND, json={"errcode": 0, "errmsg": "ok"}, match=token_is("NEW"))
    request = reply_request("Hi", recipient="OPENID")
    # When the reply is sent
    app_sender().send(APP_CREDS, request)
    # Then the refused attempt cleared its mark (WeChat did nothing) and the current token sent it once
    assert marks(request) == [
        ("sent", "0"),
        ("unsent", "0"),
        ("sent", "0"),
        ("landed", "0", "wechat:idem-key-1"),
    ]
    assert [c.request.url.split("?")[0] for c in rsps.calls] == [STABLE, SEND, STABLE, SEND]


def test_a_stale_stored_token_without_an_app_is_a_reauthorisation(rsps: responses.RequestsMock) -> None:
    rsps.post(SEND, json=china("errcode_40001_invalid_credential_wrapped.json"))
    with pytest.raises(AuthError) as refused:
        app_sender().send(CREDS, reply_request("Hi", recipient="OPENID"))
    assert refused.value.code == "40001"
    assert len(rsps.calls) == 1


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
    sender = app_sender()
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
    sender = app_sender()
    sent_twice_after_a_lost_answer(sender, CREDS, rsps, recipient="OPENID")
