"""Replies go where the conversation is (DESIGN decision 12), on the embedded runtime with a fake Graph API
on 127.0.0.1: signed webhooks in, the API's reply, the replier's call out. A Messenger message is answered
through the Send API and never as a comment; a WhatsApp reply after the 24-hour window without a template
is refused with the reason and nothing is sent; a reply whose answer is lost is on the platform once."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chorus.store.keys import iso
from tests.faults.harness import READ_TIMEOUT_S, FakePlatform, Request
from tests.integration.harness import Chorus, eventually
from tests.support import fixture_json

META_SECRET = "channels-meta-app-secret"
VERSION = "/v21.0"
PAGE = "12345654332"  # the Messenger fixture's page (entry[].id / recipient.id)
PSID = "987654321432"  # the Messenger fixture's sender
COMMENTS_PAGE = "12345654333"
LOST_PAGE = "12345654334"
NUMBER = "1122334455667"  # the WhatsApp fixture's phone_number_id
LOST_NUMBER = "1122334455668"
SEND_API = rf"{VERSION}/(\d+)/messages"
COMMENTS = rf"{VERSION}/([^/]+)/comments"


@pytest.fixture(scope="module")
def graph() -> Iterator[FakePlatform]:
    fake = FakePlatform()

    def message(req: Request, match: re.Match[str]) -> Any:
        made = fake.create("message", {"to": match.group(1), "body": req.json})
        if req.json.get("messaging_product") == "whatsapp":  # WhatsApp Cloud API's answer
            return {"messaging_product": "whatsapp", "contacts": [{"input": req.json.get("to"), "wa_id": "1"}],
                    "messages": [{"id": f"wamid.{made['id']}"}]}  # fmt: skip
        return {"recipient_id": req.json["recipient"]["id"], "message_id": f"m_{made['id']}"}

    def comment(req: Request, match: re.Match[str]) -> Any:
        made = fake.create("comment", {"parent": match.group(1), "message": req.form.get("message", ""),
                                       "created_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")})  # fmt: skip
        return {"id": f"{match.group(1)}_{made['id']}"}

    def comments(req: Request, match: re.Match[str]) -> Any:
        mine = [c for c in fake.records.get("comment", []) if c["parent"] == match.group(1)]
        return {"data": [{"id": f"{c['parent']}_{c['id']}", "message": c["message"], "created_time": c["created_time"]}
                         for c in reversed(mine)]}  # fmt: skip

    fake.route("POST", SEND_API, message)
    fake.route("POST", COMMENTS, comment)
    fake.route("GET", COMMENTS, comments)
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def chorus(graph: FakePlatform) -> Iterator[Chorus]:
    from chorus.platforms import registry
    from chorus.platforms.facebook import publish as fbpublish

    saved = fbpublish.GRAPH_URL
    fbpublish.GRAPH_URL = f"{graph.url}{VERSION}"  # the Page's comments: FacebookPublisher's own URL
    registry.reset()
    c = Chorus(
        parameters={"MetaAppSecret": META_SECRET, "MetaVerifyToken": "verify-me"},
        extra_env={
            "CHORUS_FACEBOOK_GRAPH_URL": f"{graph.url}{VERSION}",
            "CHORUS_HTTP_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
        },
    )
    yield c
    c.close()
    fbpublish.GRAPH_URL = saved
    registry.reset()


@pytest.fixture(autouse=True)
def clean(graph: FakePlatform) -> None:
    with graph.lock:
        graph.records.clear()
        graph.requests.clear()


def deliver(chorus: Chorus, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = chorus.http.post(chorus.rt.api_url + "/webhooks/meta", data=body, timeout=10,
                              headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})  # fmt: skip
    assert answer.status_code == 200, answer.text


def opened(
    chorus: Chorus, platform: str, account_ref: str, payload: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """A new workspace connected to ``account_ref`` on ``platform``, and the conversation ``payload`` (a
    signed webhook) opens in it: (its key, the conversation as GET /inbox shows it)."""
    _, key = chorus.workspace(f"{platform} {account_ref}")
    chorus.proven_account(key, platform, account_ref, handle="brand")
    deliver(chorus, payload)
    return key, conversation(chorus, key, platform)


def conversation(chorus: Chorus, key: str, platform: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        convs = chorus.call("GET", "/inbox", key, params={"platform": platform}).json()["conversations"]
        return convs[0] if convs else None

    return eventually(found, timeout=20)


def settled(chorus: Chorus, key: str, conv_id: str, reply_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        replies = chorus.call("GET", f"/inbox/{conv_id}", key).json()["replies"]
        mine = [
            r for r in replies if r["id"] == reply_id and r["state"] not in {"queued", "sending", "verifying"}
        ]
        return mine[0] if mine else None

    reply = eventually(done, timeout=30)
    chorus.rt.wait_idle()
    return reply


def messenger_message(sent_at: datetime, text: str, page: str = PAGE) -> dict[str, Any]:
    """The documented Messenger message, sent ``sent_at`` to ``page`` (each test its own Page: the
    ingest worker keeps a Page's connected accounts for 30 s)."""
    payload = fixture_json("webhooks/meta/messenger_message_text.json")
    payload["entry"][0]["id"] = page
    event = payload["entry"][0]["messaging"][0]
    event["recipient"]["id"] = page
    event["timestamp"] = int(sent_at.timestamp() * 1000)
    event["message"]["mid"] = f"mid.{time.time_ns()}"
    event["message"]["text"] = text
    return payload


def whatsapp_message(sent_at: datetime, text: str, number: str = NUMBER) -> dict[str, Any]:
    payload = fixture_json("webhooks/whatsapp/pywa_updates_message.json")["text"]
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(timestamp=str(int(sent_at.timestamp())), id=f"wamid.in{time.time_ns()}")
    message["text"]["body"] = text
    return payload


def test_a_messenger_message_is_answered_through_the_send_api_never_as_a_comment(
    chorus: Chorus, graph: FakePlatform
) -> None:
    # Given a Page connected to a workspace, and a person's Messenger message a minute ago
    sent_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    key, conv = opened(chorus, "facebook", PAGE, messenger_message(sent_at, "Where is my order?"))
    # Then the conversation shows its channel and when the 24-hour window closes
    assert conv["channel"] == "messenger"
    assert "POST /{page-id}/messages" in conv["reply_via"]
    assert conv["reply_window_ends_at"] == iso(sent_at + timedelta(hours=24))
    # When an agent replies from the inbox
    created = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"text": "It ships today."})
    assert created.status_code == 202, created.text
    reply = settled(chorus, key, conv["id"], created.json()["id"])
    # Then one Send API message went to the person, as a RESPONSE, and nothing went to a comments edge
    assert reply["state"] == "sent"
    assert graph.records["message"] == [
        {"id": "message-1", "to": PAGE,
         "body": {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "It ships today."}}}
    ]  # fmt: skip
    assert graph.calls("POST", COMMENTS) == []
    assert reply["platform_message_id"] == "m_message-1"
    thread = chorus.call("GET", f"/inbox/{conv['id']}", key).json()
    assert [(m["direction"], m["text"]) for m in thread["messages"]] == [
        ("in", "Where is my order?"), ("out", "It ships today.")
    ]  # fmt: skip


def test_a_whatsapp_reply_after_24_hours_without_a_template_is_refused_and_nothing_is_sent(
    chorus: Chorus, graph: FakePlatform
) -> None:
    # Given a WhatsApp customer who last wrote 25 hours ago
    sent_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=25)
    key, conv = opened(chorus, "whatsapp", NUMBER, whatsapp_message(sent_at, "Is it in stock?"))
    assert conv["channel"] == "whatsapp"
    assert conv["reply_window_ends_at"] == iso(sent_at + timedelta(hours=24))
    # When an agent answers with text
    refused = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"text": "Yes, it is!"})
    # Then the API refuses it with the reason, naming the template the agent must choose
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["errors"][0]["field"] == "template"
    assert problem["errors"][0]["rule"] == "reply_window"
    assert "only an approved template can be sent" in problem["detail"]
    # And nothing was recorded or sent
    chorus.rt.wait_idle()
    assert chorus.call("GET", f"/inbox/{conv['id']}", key).json()["replies"] == []
    assert graph.requests == []
    # When the agent chooses an approved template instead
    chosen = {"name": "back_in_stock", "language": "en"}
    created = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"template": chosen})
    assert created.status_code == 202, created.text
    reply = settled(chorus, key, conv["id"], created.json()["id"])
    # Then that template, and only it, went to the customer
    assert reply["state"] == "sent"
    assert [r["body"]["type"] for r in graph.records["message"]] == ["template"]
    assert graph.records["message"][0]["body"]["template"] == {
        "name": "back_in_stock",
        "language": {"code": "en"},
    }
    # When WhatsApp later reports, in a status webhook, that it could not deliver it (accepted, then failed)
    failed = fixture_json("webhooks/whatsapp/pywa_updates_message_status.json")["failed"]
    failed["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = reply["platform_message_id"]
    deliver(chorus, failed)

    def reply_failed() -> dict[str, Any] | None:
        replies = chorus.call("GET", f"/inbox/{conv['id']}", key).json()["replies"]
        return next((r for r in replies if r["id"] == reply["id"] and r["state"] == "failed"), None)

    # Then the reply shows it failed, with WhatsApp's reason
    assert "WhatsApp did not deliver the message" in eventually(reply_failed, timeout=20)["error"]


def test_a_comment_reply_whose_answer_is_lost_is_on_the_platform_once(
    chorus: Chorus, graph: FakePlatform
) -> None:
    # Given a comment on the Page's post, and a platform that makes the reply but loses the answer
    payload = fixture_json("webhooks/meta/page_feed_comment_add.json")
    payload["entry"][0]["id"] = COMMENTS_PAGE
    key, conv = opened(chorus, "facebook", COMMENTS_PAGE, payload)
    assert (conv["channel"], conv["reply_window_ends_at"]) == ("facebook.comment", None)
    graph.create_then_timeout("POST", COMMENTS)
    # When an agent replies
    created = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"text": "Thanks for asking!"})
    assert created.status_code == 202, created.text
    reply = settled(chorus, key, conv["id"], created.json()["id"])
    # Then the replier found the comment it made (a listing of the comment's replies) and never sent it again
    assert reply["state"] == "sent"
    assert [c["message"] for c in graph.records["comment"]] == ["Thanks for asking!"]
    assert len(graph.calls("POST", COMMENTS)) == 1
    assert graph.calls("GET", COMMENTS)  # looked for, not resent
    assert graph.calls("POST", SEND_API) == []


def test_a_messenger_reply_whose_answer_is_lost_is_never_sent_twice(
    chorus: Chorus, graph: FakePlatform
) -> None:
    # Given a Messenger conversation and a Send API that takes the message but loses the answer
    message = messenger_message(datetime.now(UTC) - timedelta(minutes=5), "Hello?", LOST_PAGE)
    key, conv = opened(chorus, "facebook", LOST_PAGE, message)
    graph.create_then_timeout("POST", SEND_API)
    # When an agent replies
    created = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"text": "Hi there"})
    reply = settled(chorus, key, conv["id"], created.json()["id"])
    # Then the message is on the platform once; the Send API has no lookup, so it is not sent again and
    # the reply says so
    assert [r["body"]["message"]["text"] for r in graph.records["message"]] == ["Hi there"]
    assert len(graph.calls("POST", SEND_API)) == 1
    assert reply["state"] == "unconfirmed"
    assert "not sent again" in reply["error"]


def test_a_whatsapp_reply_whose_answer_is_lost_is_confirmed_by_its_sent_status(
    chorus: Chorus, graph: FakePlatform
) -> None:
    # Given a WhatsApp customer who wrote a minute ago, and a Cloud API that takes the reply but loses the answer
    message = whatsapp_message(datetime.now(UTC) - timedelta(minutes=1), "Open on Sunday?", LOST_NUMBER)
    key, conv = opened(chorus, "whatsapp", LOST_NUMBER, message)
    graph.create_then_timeout("POST", SEND_API)
    created = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"text": "Yes, 10 to 4."})
    reply = settled(chorus, key, conv["id"], created.json()["id"])
    # Then it is on the platform once and, without a lookup, unconfirmed (never sent again)
    assert reply["state"] == "unconfirmed"
    assert len(graph.calls("POST", SEND_API)) == 1
    # When WhatsApp's sent status arrives, echoing the reference the reply carried
    sent = fixture_json("webhooks/whatsapp/pywa_updates_message_status.json")["with_tracker"]
    sent["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = LOST_NUMBER
    status = sent["entry"][0]["changes"][0]["value"]["statuses"][0]
    status.update(
        id="wamid.confirmed",
        biz_opaque_callback_data=graph.records["message"][0]["body"]["biz_opaque_callback_data"],
    )
    deliver(chorus, sent)

    def confirmed() -> dict[str, Any] | None:
        thread = chorus.call("GET", f"/inbox/{conv['id']}", key).json()
        mine = [r for r in thread["replies"] if r["id"] == reply["id"] and r["state"] == "sent"]
        return thread if mine and thread["messages"][-1]["direction"] == "out" else None

    # Then the reply is sent, with WhatsApp's id, and joins the thread
    thread = eventually(confirmed, timeout=20)
    assert [r["platform_message_id"] for r in thread["replies"]] == ["wamid.confirmed"]
    assert [(m["direction"], m["text"]) for m in thread["messages"]][-1] == ("out", "Yes, 10 to 4.")
    assert len(graph.calls("POST", SEND_API)) == 1
