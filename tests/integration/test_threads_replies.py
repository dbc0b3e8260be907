"""Threads replies from the inbox on the embedded runtime, against the fake Threads API on 127.0.0.1
(tests/faults/fakes/threads.py): a signed replies webhook opens a conversation once, and the reply from
the inbox is published once answering that reply (a container with reply_to_id, then threads_publish),
also when Threads' answer to the publish is lost."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.faults.fakes.threads import PUBLISH, USER, threads_platform
from tests.faults.harness import READ_TIMEOUT_S, FakePlatform
from tests.integration.harness import Chorus, eventually
from tests.integration.test_inbox import conversations
from tests.support import fixture_json

THREADS_SECRET = "threads-app-secret"


@pytest.fixture(scope="module")
def threads() -> Iterator[FakePlatform]:
    made = FakePlatform()
    patch = pytest.MonkeyPatch()
    threads_platform(made, patch)
    yield made
    patch.undo()
    made.stop()


@pytest.fixture(scope="module")
def chorus(threads: FakePlatform) -> Iterator[Chorus]:
    from chorus.platforms import registry, replies

    registry.reset()
    replies.reset()
    c = Chorus(
        parameters={"ThreadsAppId": "th-app", "ThreadsAppSecret": THREADS_SECRET},
        extra_env={
            "CHORUS_THREADS_API_URL": f"{threads.url}/v1.0",
            "CHORUS_HTTP_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
        },
    )
    yield c
    c.close()
    registry.reset()
    replies.reset()


def deliver(chorus: Chorus, reply_id: str, text: str) -> None:
    """Threads' documented replies webhook (webhooks/threads/replies_webhook.json) for the account."""
    doc = fixture_json("webhooks/threads/replies_webhook.json")
    doc["target_id"] = USER
    doc["values"]["value"].update(
        id=reply_id, text=text, timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    )
    body = json.dumps(doc).encode()
    signature = "sha256=" + hmac.new(THREADS_SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = chorus.http.post(chorus.rt.api_url + "/webhooks/meta", data=body, timeout=10,
                              headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})  # fmt: skip
    assert answer.status_code == 200, answer.text


def answered(chorus: Chorus, key: str, conv: str, text: str) -> dict[str, Any]:
    sent = chorus.call("POST", f"/inbox/{conv}/reply", key, json={"text": text})
    assert sent.status_code == 202, sent.text
    reply_id = sent.json()["id"]

    def landed() -> dict[str, Any] | None:
        replies = chorus.call("GET", f"/inbox/{conv}", key).json()["replies"]
        mine = [r for r in replies if r["id"] == reply_id and r["state"] in ("sent", "failed")]
        return mine[0] if mine else None

    return eventually(landed, timeout=40)


def posts(threads: FakePlatform) -> list[tuple[str, str | None]]:
    return [(p["text"], p["reply_to_id"]) for p in threads.records.get("post", [])]


def test_a_threads_reply_is_answered_once_from_the_inbox_even_when_the_answer_is_lost(
    chorus: Chorus, threads: FakePlatform
) -> None:
    _, key = chorus.workspace()
    chorus.proven_account(key, "threads", USER, handle="chorus")
    # Given someone's reply to the account's post arrives, twice (Meta redelivers)
    for _ in range(2):
        deliver(chorus, "18050200000000042", "When is the next drop?")
    convs = eventually(lambda: conversations(chorus, key, platform="threads"), timeout=20)
    assert len(convs) == 1
    conv = convs[0]
    assert conv["channel"] == "threads"
    assert conv["reply_via"].startswith("a reply post: POST /{threads-user-id}/threads")
    messages = chorus.call("GET", f"/inbox/{conv['id']}", key).json()["messages"]
    assert [m["platform_message_id"] for m in messages] == ["18050200000000042"]
    # When an agent replies from the inbox
    reply = answered(chorus, key, conv["id"], "Friday at noon!")
    # Then Threads has one post answering that reply
    assert reply["state"] == "sent", reply
    assert posts(threads) == [("Friday at noon!", "18050200000000042")]
    assert reply["platform_message_id"] == threads.records["post"][0]["id"]
    # And when Threads publishes the next reply but its answer is lost, it is still there once
    threads.create_then_timeout("POST", PUBLISH)
    again = answered(chorus, key, conv["id"], "And online too.")
    assert again["state"] == "sent", again
    assert posts(threads)[1:] == [("And online too.", "18050200000000042")]
    assert again["platform_message_id"] == threads.records["post"][1]["id"]
    assert len(threads.calls("POST", PUBLISH)) == 2  # one publish per reply: the lost one was looked for
