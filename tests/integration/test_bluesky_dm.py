"""Bluesky direct messages in the inbox on the embedded runtime, against a fake PDS with the chat service
behind it on 127.0.0.1 (tests/faults/bluesky_fake.py, BlueskyChatFake): a fan's message is polled from the
chat log (chat.bsky.convo.getLog, with the atproto-proxy header and the cursor the poller keeps) into the
inbox once across polls, the account's own messages never as inbound, and a reply from the inbox lands in
the conversation once through chat.bsky.convo.sendMessage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.faults.bluesky_fake import CHAT_PROXY, DID, GET_LOG, SEND_MESSAGE, BlueskyChatFake
from tests.faults.harness import FakePlatform, Reply
from tests.integration.harness import Chorus, eventually
from tests.integration.test_inbox import conversations
from tests.integration.test_threads_replies import answered
from tests.integration.test_tiktok_comments import poll

FAN = "did:plc:fanfanfanfanfanfanfan000"
CONVO = "convo-canada"
OTHER = "did:plc:otherbrandotherbrand000"  # a second account (its own routing)


@pytest.fixture(scope="module")
def pds() -> Iterator[tuple[FakePlatform, BlueskyChatFake]]:
    made = FakePlatform()
    none = Reply(200, {"notifications": []})
    made.route("GET", r"/xrpc/app\.bsky\.notification\.listNotifications", lambda req, m: none)
    chat = BlueskyChatFake(made, lambda: datetime.now(UTC)).install()
    yield made, chat
    made.stop()


@pytest.fixture(scope="module")
def chorus() -> Iterator[Chorus]:
    c = Chorus()
    yield c
    c.close()


def test_a_direct_message_polled_twice_lands_once_and_its_reply_lands_once(
    chorus: Chorus, pds: tuple[FakePlatform, BlueskyChatFake]
) -> None:
    from chorus.accounts.service import connect_or_reconnect
    from chorus.accounts.tokens import TokenSet
    from chorus.inbox.poller import tracked

    platform, chat = pds
    workspace_id, key = chorus.workspace()
    account = connect_or_reconnect(workspace_id, "bluesky", DID, TokenSet("tok-1"), handle="brand.test",
                                   base_url=platform.url).id  # fmt: skip
    eventually(lambda: any(t.account_id == account for t in tracked(["bluesky"])), timeout=15)
    # Given a fan's message, and one the account itself sent from the Bluesky app
    chat.say(CONVO, FAN, "Do you ship to Canada?", handle="fan.test")
    chat.say(CONVO, DID, "Hi! (from the app)", handle="brand.test")
    # When the poller runs twice
    poll(chorus)
    poll(chorus)
    # Then the conversation is in the inbox once, as a Bluesky direct message that can be answered
    convs = eventually(lambda: conversations(chorus, key, platform="bluesky"), timeout=15)
    assert len(convs) == 1
    conv = convs[0]
    assert (conv["channel"], conv["kind"]) == ("bluesky.dm", "dm")
    assert conv["reply_via"].startswith("POST chat.bsky.convo.sendMessage")
    thread = chorus.call("GET", f"/inbox/{conv['id']}", key).json()
    messages = [(m["text"], m["direction"]) for m in thread["messages"]]
    assert messages == [("Do you ship to Canada?", "in"), ("Hi! (from the app)", "out")]
    # each poll read the log through the chat proxy, the second from the cursor the first kept
    logs = platform.calls("GET", GET_LOG)
    assert len(logs) >= 2
    assert {r.headers.get("atproto-proxy") for r in logs} == {CHAT_PROXY}
    assert logs[-1].query.get("cursor") == chat.messages()[-1]["rev"]
    # When an agent replies from the inbox
    reply = answered(chorus, key, conv["id"], "Yes, in 5 days!")
    # Then the conversation has it once, sent by the account
    assert reply["state"] == "sent", reply
    assert chat.sent_by_account() == [(CONVO, "Hi! (from the app)"), (CONVO, "Yes, in 5 days!")]
    assert len(platform.calls("POST", SEND_MESSAGE)) == 1
    assert reply["platform_message_id"] == chat.messages()[-1]["id"]
    # And the next poll brings the reply back from the log without a second copy in the thread
    poll(chorus)
    thread = chorus.call("GET", f"/inbox/{conv['id']}", key).json()
    assert [m["text"] for m in thread["messages"]].count("Yes, in 5 days!") == 1


def test_an_app_password_without_direct_messages_is_shown_asked_rarely_and_asked_again_on_reconnect(
    chorus: Chorus, pds: tuple[FakePlatform, BlueskyChatFake]
) -> None:
    from chorus.accounts.service import connect_or_reconnect
    from chorus.accounts.tokens import TokenSet
    from chorus.inbox.poller import tracked

    platform, chat = pds
    chat.unprivileged.add("tok-no-dm")
    chat.tokens.add("tok-dm")

    def log_reads(token: str) -> int:
        return len(
            [r for r in platform.calls("GET", GET_LOG) if r.headers.get("Authorization") == f"Bearer {token}"]
        )

    def shown(key: str, account: str) -> dict[str, Any]:
        listed = chorus.call("GET", "/accounts", key).json()["accounts"]
        found: dict[str, Any] = next(a for a in listed if a["id"] == account)["direct_messages"]
        return found

    # Given a Bluesky account connected with an app password that does not allow direct messages
    workspace_id, key = chorus.workspace()
    account = connect_or_reconnect(workspace_id, "bluesky", OTHER, TokenSet("tok-no-dm"), handle="brand.test",
                                   base_url=platform.url).id  # fmt: skip
    eventually(lambda: any(t.account_id == account for t in tracked(["bluesky"])), timeout=15)
    # When the poller runs three times
    for _ in range(3):
        poll(chorus)
    # Then its chat log was asked once, and the account says why direct messages do not arrive
    assert log_reads("tok-no-dm") == 1
    refused = shown(key, account)
    assert refused["status"] == "off"
    assert refused["reason"].startswith("not allowed by this app password")
    # When it is reconnected with an app password that allows them, and a fan writes
    connect_or_reconnect(workspace_id, "bluesky", OTHER, TokenSet("tok-dm"), handle="brand.test")
    assert shown(key, account) == {"status": "on", "reason": None}
    chat.say("convo-after-reconnect", FAN, "Hello again?", handle="fan.test")
    poll(chorus)
    # Then the next poll read the log at once and the message is in the inbox
    assert log_reads("tok-dm") >= 1

    def landed() -> list[dict[str, Any]]:
        convs = conversations(chorus, key, platform="bluesky")
        return [c for c in convs if c["conversation_ref"] == "convo-after-reconnect"]

    (conv,) = eventually(landed, timeout=15)
    assert (conv["channel"], conv["preview"]) == ("bluesky.dm", "Hello again?")
    assert shown(key, account) == {"status": "on", "reason": None}
