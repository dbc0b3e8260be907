"""The unified inbox on the embedded runtime: a signed webhook reaches the right browsers once, the
inbox API works the conversation, and a reply reaches the platform exactly once."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from chorus.inbox.live import updates_in
from tests.integration.harness import Chorus, eventually
from tests.support import fixture_bytes

META_SECRET = "heldout-meta-app-secret"  # the secret the fixtures' derived signature vectors use
COMMENT = "webhooks/meta/page_feed_comment_add.json"
PAGE_ID = "1234567890321"  # entry[].id of the fixture: the page the comment arrived for


@pytest.fixture(scope="module")
def chorus() -> Iterator[Chorus]:
    c = Chorus(parameters={"MetaAppSecret": META_SECRET, "MetaVerifyToken": "verify-me"})
    yield c
    c.close()


def sign(body: bytes, secret: str = META_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(chorus: Chorus, body: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return chorus.http.post(chorus.rt.api_url + "/webhooks/meta", data=body, headers=headers, timeout=10)


def connect_page(chorus: Chorus, key: str, page_id: str = PAGE_ID) -> str:
    return chorus.proven_account(key, "facebook", page_id, handle="acme")


class Listener:
    """A browser's WebSocket: collects every pushed update on a thread."""

    def __init__(self, chorus: Chorus, key: str) -> None:
        # held open across the test and closed by close(), not a with block
        self.socket: ClientConnection = connect(chorus.rt.ws_url + f"/?key={key}", legacy=True)
        self.received: list[dict[str, Any]] = []  # frames
        self.updates: list[dict[str, Any]] = []  # conversation updates, one per conversation per frame
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for message in self.socket:
                frame = json.loads(message)
                self.updates.extend(updates_in(frame))
                self.received.append(frame)
        except Exception:
            pass

    def close(self) -> None:
        self.socket.close()


def conversations(chorus: Chorus, key: str, **params: str) -> list[dict[str, Any]]:
    answer = chorus.call("GET", "/inbox", key, params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["conversations"])


def test_a_signed_meta_comment_reaches_its_workspace_live_once_and_no_other(chorus: Chorus) -> None:
    # Given two workspaces, the first connected to the page, each with a browser connected live
    ws_a, key_a = chorus.workspace("Page owner")
    ws_b, key_b = chorus.workspace("Someone else")
    connect_page(chorus, key_a)
    browser_a, browser_b = Listener(chorus, key_a), Listener(chorus, key_b)
    try:
        body = fixture_bytes(COMMENT)
        # When the platform delivers the signed comment webhook (twice, as platforms retry)
        first = post_webhook(chorus, body, sign(body))
        second = post_webhook(chorus, body, sign(body))
        # Then both deliveries are acknowledged
        assert (first.status_code, second.status_code) == (200, 200)
        # And the page owner's browser gets the conversation update with the comment
        update = eventually(lambda: browser_a.received and browser_a.received[0], timeout=15)
        assert update["type"] == "conversation.updated"
        assert update["data"]["message"]["platform_message_id"] == "901097836652708_903438993085259"
        assert update["data"]["message"]["text"] == "and the next one"
        chorus.rt.wait_idle()
        # And the other workspace's browser receives nothing
        assert browser_b.received == []
        # And the comment was stored once, in one conversation
        convs = conversations(chorus, key_a)
        assert len(convs) == 1
        thread = chorus.call("GET", f"/inbox/{convs[0]['id']}", key_a).json()
        assert [m["platform_message_id"] for m in thread["messages"]] == ["901097836652708_903438993085259"]
        assert len(browser_a.received) == 1
        assert conversations(chorus, key_b) == []
    finally:
        browser_a.close()
        browser_b.close()


def test_a_forged_signature_is_refused_and_nothing_is_stored(chorus: Chorus) -> None:
    ws, key = chorus.workspace()
    connect_page(chorus, key, page_id=PAGE_ID)
    body = fixture_bytes(COMMENT)
    tampered = body.replace(b"and the next one", b"and the next two")
    refused = post_webhook(chorus, tampered, sign(body))
    missing = post_webhook(chorus, body, None)
    assert refused.status_code == 401
    assert missing.status_code == 401
    assert "and the next" not in refused.text
    chorus.rt.wait_idle()
    assert chorus.rt.queue_depth(chorus.rt.queue_url("IngestQueue")) == 0


def test_meta_verification_echoes_the_challenge_only_for_the_right_token(chorus: Chorus) -> None:
    url = chorus.rt.api_url + "/webhooks/meta"
    good = chorus.http.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    )
    bad = chorus.http.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1158201444"}
    )
    assert (good.status_code, good.text) == (200, "1158201444")
    assert bad.status_code == 403


def test_an_unknown_platform_is_a_404_problem(chorus: Chorus) -> None:
    answer = chorus.http.post(chorus.rt.api_url + "/webhooks/myspace", data=b"{}", timeout=10)
    assert answer.status_code == 404
    assert answer.json()["status"] == 404


def test_a_malformed_body_with_a_good_signature_is_rejected(chorus: Chorus) -> None:
    body = b'{"object": "page", "entry": "not a list"}'
    answer = post_webhook(chorus, body, sign(body))
    assert answer.status_code == 400


def notify_sandbox(chorus: Chorus, **note: Any) -> dict[str, Any]:
    import requests

    answer = requests.post(chorus.sandbox.url + "/_control/notify", json=note, timeout=5)
    answer.raise_for_status()
    return dict(answer.json())


def polled_account(chorus: Chorus, key: str, handle: str) -> str:
    """A sandbox account, once the table's stream has put it in the poll index."""
    from chorus.inbox.poller import tracked

    account = chorus.sandbox_account(key, handle=handle)
    eventually(lambda: any(t.account_id == account for t in tracked(["sandbox"])), timeout=15)
    return account


def polled_conversation(chorus: Chorus, key: str, handle: str, text: str, **note: Any) -> dict[str, Any]:
    """A sandbox comment on ``handle``'s post, polled into the inbox (``note``: more of the
    notification, e.g. its ``created_at`` or ``author``)."""
    notify_sandbox(
        chorus,
        **{
            "account": handle,
            "type": "comment",
            "text": text,
            "author": {"id": "fan-1", "name": "Fan"},
            "post_id": "p-1",
            **note,
        },
    )
    chorus.rt.tick("PollerFunction")
    chorus.rt.wait_idle()
    convs = eventually(
        lambda: [c for c in conversations(chorus, key, platform="sandbox") if c["preview"] == text],
        timeout=15,
    )
    return convs[0]


def test_a_sandbox_notification_is_polled_once_across_runs(chorus: Chorus) -> None:
    ws, key = chorus.workspace()
    handle = f"poll-{ws}"
    polled_account(chorus, key, handle)
    conv = polled_conversation(chorus, key, handle, "Where is my order?")
    # When the poller runs again with nothing new
    chorus.rt.tick("PollerFunction")
    chorus.rt.wait_idle()
    thread = chorus.call("GET", f"/inbox/{conv['id']}", key).json()
    assert [m["text"] for m in thread["messages"]] == ["Where is my order?"]


def test_the_inbox_api_assigns_tags_notes_and_closes_with_resolution_time(chorus: Chorus) -> None:
    ws, key = chorus.workspace()
    handle = f"api-{ws}"
    polled_account(chorus, key, handle)
    conv = polled_conversation(chorus, key, handle, "I love this, thank you!")
    cid = conv["id"]
    assert (
        chorus.call("POST", f"/inbox/{cid}/assign", key, json={"assignee": "sam"}).json()["assignee"] == "sam"
    )
    assert chorus.call("POST", f"/inbox/{cid}/tags", key, json={"add": ["vip"]}).json()["tags"] == ["vip"]
    assert chorus.call("POST", f"/inbox/{cid}/notes", key, json={"text": "call back"}).status_code == 201
    closed = chorus.call("POST", f"/inbox/{cid}/status", key, json={"status": "closed"}).json()
    assert closed["status"] == "closed"
    assert closed["resolution_s"] is not None
    assert [c["id"] for c in conversations(chorus, key, tag="vip", assignee="sam", status="closed")] == [cid]
    assert conversations(chorus, key, status="open", platform="sandbox") == []
    assert [c["id"] for c in conversations(chorus, key, text="love this")] == [cid]
    assert chorus.call("GET", f"/inbox/{cid}", key).json()["notes"][0]["text"] == "call back"


def test_a_reply_reaches_the_platform_once_even_when_the_worker_is_retried(chorus: Chorus) -> None:
    ws, key = chorus.workspace()
    handle = f"reply-{ws}"
    polled_account(chorus, key, handle)
    conv = polled_conversation(chorus, key, handle, "Can you help?")
    # Given the platform creates the reply but holds its answer until the client has timed out
    chorus.fault(kind="timeout_after_create", account=handle, times=1)
    # When an agent replies from the inbox
    created = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"text": "Sure, DM us"})
    assert created.status_code == 202, created.text
    reply_id = created.json()["id"]

    def sent() -> dict[str, Any] | None:
        replies = chorus.call("GET", f"/inbox/{conv['id']}", key).json()["replies"]
        found = [r for r in replies if r["id"] == reply_id and r["state"] in {"sent", "failed"}]
        return found[0] if found else None

    reply = eventually(sent, timeout=30)
    chorus.rt.wait_idle()
    # Then the platform has the reply once, and the thread shows it
    assert reply["state"] == "sent"
    posts = [p for p in chorus.platform_posts() if p["account"] == handle]
    assert [p["text"] for p in posts] == ["Sure, DM us"]
    thread = chorus.call("GET", f"/inbox/{conv['id']}", key).json()
    assert [m["direction"] for m in thread["messages"]] == ["in", "out"]
    assert thread["conversation"]["first_response_s"] is not None


def _sqs_record(body: str, receive_count: int) -> dict[str, Any]:
    return {
        "messageId": f"m{receive_count}",
        "receiptHandle": f"r{receive_count}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ReplyQueue",
        "awsRegion": "us-east-1",
    }


def test_the_replier_invoked_twice_with_one_record_sends_once(chorus: Chorus) -> None:
    from chorus.inbox.queue import InMemoryReplyQueue
    from chorus.inbox.replies import create_reply, get_reply

    ws, key = chorus.workspace()
    handle = f"twice-{ws}"
    polled_account(chorus, key, handle)
    conv = polled_conversation(chorus, key, handle, "Hello?")
    # Given a reply whose queue message is held here (not on the runtime's queue)
    held = InMemoryReplyQueue()
    reply = create_reply(ws, conv["id"], "Hello back", "test", held)
    body = held.sent[0][0].to_json()
    # When the replier gets the record, then gets it again (a redelivery after a lost ack)
    first = chorus.rt.invoke("ReplierFunction", {"Records": [_sqs_record(body, 1)]})
    again = chorus.rt.invoke("ReplierFunction", {"Records": [_sqs_record(body, 2), _sqs_record(body, 3)]})
    # Then both invocations succeed and the platform got the reply once
    assert first == again == {"batchItemFailures": []}
    stored = get_reply(ws, reply["id"])
    assert stored is not None
    assert stored.state == "sent"
    assert [p["text"] for p in chorus.platform_posts() if p["account"] == handle] == ["Hello back"]
