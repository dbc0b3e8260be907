"""WhatsApp replies against the Cloud API's documented requests and answers
(fixtures/platform_api/replies/whatsapp): a text inside the 24-hour customer-service window, outside it only
an approved template chosen in the reply (refused before the network otherwise); 131047 is a clear
refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import responses

from chorus.errors import ValidationFailed
from chorus.inbox import channels
from chorus.platforms.base import AccountCredentials, PermanentError
from chorus.platforms.whatsapp.messages import WhatsAppSender
from tests.contract.replying import (
    SENT_AT,
    hours_after,
    marks,
    replies_fixture,
    reply_request,
    rsps,
    sent_twice_after_a_lost_answer,
)

__all__ = ["rsps"]

GRAPH = "https://graph.facebook.com/v21.0"
NUMBER = "1122334455667"
MESSAGES = f"{GRAPH}/{NUMBER}/messages"
CREDS = AccountCredentials(platform="whatsapp", account_id=NUMBER, access_token="system-token")
WHATSAPP = channels.get("whatsapp")


@pytest.fixture
def sender() -> WhatsAppSender:
    return WhatsAppSender(session=requests.Session(), base_url=GRAPH)


def body_of(rsps: responses.RequestsMock) -> Any:
    return json.loads(rsps.calls[-1].request.body or b"{}")


def test_a_text_reply_is_the_documented_message(rsps: responses.RequestsMock, sender: WhatsAppSender) -> None:
    documented = replies_fixture("whatsapp/send_text_request_docs.json")
    rsps.post(MESSAGES, json=replies_fixture("whatsapp/send_text_response_docs.json"))
    request = reply_request(documented["text"]["body"], recipient=documented["to"])
    result = sender.send(CREDS, request)
    sent = body_of(rsps)
    # The documented body, with the link preview off and the reply's persisted key as callback data
    assert sent == {**documented, "text": {**documented["text"], "preview_url": False},
                    "biz_opaque_callback_data": "chorus-reply:rp_1:idem-key-1"}  # fmt: skip
    assert rsps.calls[-1].request.headers["Authorization"] == "Bearer system-token"
    assert result.platform_post_id == "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
    assert marks(request)[-1] == ("landed", "0", result.platform_post_id)


def test_a_template_reply_is_the_documented_template_message(
    rsps: responses.RequestsMock, sender: WhatsAppSender
) -> None:
    documented = replies_fixture("whatsapp/send_template_request_docs.json")
    rsps.post(MESSAGES, json=replies_fixture("whatsapp/send_template_response_docs.json"))
    template = {"name": documented["template"]["name"], "language": "en",
                "components": documented["template"]["components"]}  # fmt: skip
    result = sender.send(CREDS, reply_request("", recipient=documented["to"], template=template))
    assert body_of(rsps) == {**documented, "biz_opaque_callback_data": "chorus-reply:rp_1:idem-key-1"}
    assert result.platform_post_id == "wamid.HBgLMTMyMzI4NjU2NzgVAgARGBJBQzRBRDBEMDEwQzVBM0M0QkIA"


def test_after_24_hours_a_text_is_refused_before_the_network_with_the_reason() -> None:
    with pytest.raises(ValidationFailed) as refused:
        channels.plan_reply(WHATSAPP, SENT_AT, hours_after(24.01), text="Still there?")
    error = refused.value.errors[0]
    assert (error.field, error.rule) == ("template", "reply_window")
    assert "customer-service window closed at 2026-12-07T12:00:00Z" in error.message
    assert "only an approved template" in error.message


def test_after_24_hours_a_chosen_template_may_go() -> None:
    template = {"name": "order_update", "language": "en"}
    plan = channels.plan_reply(WHATSAPP, SENT_AT, hours_after(72), text="[template]", template=template)
    assert plan.template == template


def test_a_template_on_a_channel_without_templates_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        channels.plan_reply(channels.get("messenger"), SENT_AT, hours_after(1), text="x",
                            template={"name": "t", "language": "en"})  # fmt: skip
    assert (refused.value.errors[0].field, refused.value.errors[0].rule) == ("template", "not_supported")


def test_131047_from_the_platform_says_a_template_is_needed(
    rsps: responses.RequestsMock, sender: WhatsAppSender
) -> None:
    error = replies_fixture("whatsapp/error_131047_reengagement_pywa.json")
    rsps.post(MESSAGES, status=400, json={"error": {**error, "type": "OAuthException", "fbtrace_id": "F"}})
    request = reply_request("Hello?", recipient="16505551234")
    with pytest.raises(PermanentError) as refused:
        sender.send(CREDS, request)
    assert "24-hour customer-service window has closed; send an approved template" in refused.value.message
    assert marks(request) == [("sent", "0"), ("unsent", "0")]


def test_a_lost_answer_is_never_sent_again(rsps: responses.RequestsMock, sender: WhatsAppSender) -> None:
    rsps.post(MESSAGES, status=504, json={})
    sent_twice_after_a_lost_answer(sender, CREDS, rsps, recipient="16505551234")
    assert sender.verifiable is False
