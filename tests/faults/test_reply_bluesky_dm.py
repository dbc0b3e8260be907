"""Bluesky direct-message replies under faults: the real replier (chorus.inbox.replies.handle) on moto
against a fake PDS + chat service on 127.0.0.1 (tests/faults/bluesky_fake.py, BlueskyChatFake).
sendMessage takes no idempotency key, so a message whose answer was lost is looked for among the
conversation's messages (the account's own, same text, sent since the reply was queued) and never sent
again blind."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chorus.inbox.normalized import InboundMessage, MessageKind
from tests.faults.bluesky_fake import CHAT_PROXY, DID, GET_MESSAGES, SEND_MESSAGE, BlueskyChatFake
from tests.faults.harness import FakePlatform, PublisherBed
from tests.faults.test_replies import Replier, kill_once, reply_in, stored

FAN = "did:plc:fanfanfanfanfanfanfan000"
CONVO = "convo-1"


@pytest.fixture
def chat(bed: PublisherBed, platform: FakePlatform) -> BlueskyChatFake:
    return BlueskyChatFake(platform, bed.now).install()


def replying(bed: PublisherBed, chat: BlueskyChatFake, text: str) -> tuple[Replier, str, str]:
    """A fan's direct message in the inbox, and a reply to it: (replier, workspace, reply id)."""
    said = chat.say(CONVO, FAN, "Do you ship to Canada?")
    account_id = bed.account("bluesky", DID, handle="brand.test")
    inbound = InboundMessage(
        platform="bluesky", account_ref=DID, platform_message_id=said["id"], kind=MessageKind.DM,
        conversation_ref=CONVO, text=said["text"], created_at=bed.now() - timedelta(minutes=1), author_id=FAN,
        author_handle="fan.test",
    )  # fmt: skip
    return reply_in(bed, account_id, inbound, text)


def test_a_reply_is_sent_in_the_conversation_through_the_chat_proxy(
    bed: PublisherBed, platform: FakePlatform, chat: BlueskyChatFake
) -> None:
    replier, ws, reply_id = replying(bed, chat, "Yes, we do!")
    assert [o.result for o in replier.run()] == ["sent"]
    assert chat.sent_by_account() == [(CONVO, "Yes, we do!")]
    sent = platform.calls("POST", SEND_MESSAGE)[0]
    assert sent.headers.get("atproto-proxy") == CHAT_PROXY
    assert sent.json == {"convoId": CONVO, "message": {"text": "Yes, we do!"}}
    reply = stored(ws, reply_id)
    assert (reply.state, reply.platform_message_id) == ("sent", chat.messages()[-1]["id"])


def test_a_message_sent_then_timed_out_is_found_and_never_sent_again(
    bed: PublisherBed, platform: FakePlatform, chat: BlueskyChatFake
) -> None:
    # Given the chat service keeps the message but its answer never arrives
    platform.create_then_timeout("POST", SEND_MESSAGE)
    replier, ws, reply_id = replying(bed, chat, "We restock on Friday.")
    # When the replier runs until settled
    outcomes = replier.run()
    # Then the message was looked for in the conversation, found, and the conversation has it once
    assert outcomes[-1].result == "sent"
    assert len(platform.calls("POST", SEND_MESSAGE)) == 1
    assert len(platform.calls("GET", GET_MESSAGES)) >= 1
    assert chat.sent_by_account() == [(CONVO, "We restock on Friday.")]
    assert stored(ws, reply_id).platform_message_id == chat.messages()[-1]["id"]


def test_killed_mid_call_before_the_request_left_it_is_looked_for_then_sent_once(
    bed: PublisherBed, platform: FakePlatform, chat: BlueskyChatFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the worker dies once its "sent" mark is persisted, before the request goes out
    replier, ws, reply_id = replying(bed, chat, "Thanks for asking")
    kill_once(monkeypatch, "part_sent", after=True)
    # When SQS redelivers until settled
    outcomes = replier.run()
    # Then the conversation was read before anything was sent again, and the message exists once
    assert outcomes[-1].result == "sent"
    assert replier.kills == 1
    assert len(platform.calls("GET", GET_MESSAGES)) >= 1
    assert chat.sent_by_account() == [(CONVO, "Thanks for asking")]
    assert stored(ws, reply_id).state == "sent"


def test_killed_after_the_message_went_out_it_is_found_not_sent_again(
    bed: PublisherBed, platform: FakePlatform, chat: BlueskyChatFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the worker dies after the chat service answered, before the answer was persisted
    replier, ws, reply_id = replying(bed, chat, "On its way")
    kill_once(monkeypatch, "part_landed", after=False)
    outcomes = replier.run()
    assert outcomes[-1].result == "sent"
    assert len(platform.calls("POST", SEND_MESSAGE)) == 1
    assert chat.sent_by_account() == [(CONVO, "On its way")]
    assert stored(ws, reply_id).platform_message_id == chat.messages()[-1]["id"]


@pytest.mark.parametrize("error", ["MessagesDisabled", "NotFollowedBySender"])
def test_a_person_who_does_not_take_messages_fails_the_reply_with_the_reason(
    bed: PublisherBed, chat: BlueskyChatFake, error: str
) -> None:
    chat.refuse = error
    replier, ws, reply_id = replying(bed, chat, "Hello")
    assert [o.result for o in replier.run()] == ["failed"]
    reply = stored(ws, reply_id)
    assert "Bluesky refused the message" in (reply.error or "")
    assert error in (reply.error or "")
    assert chat.sent_by_account() == []


def test_an_app_password_without_direct_messages_fails_the_reply_and_keeps_the_account_connected(
    bed: PublisherBed, chat: BlueskyChatFake
) -> None:
    from chorus.accounts import service as accounts

    # Given the account's app password was created without access to direct messages
    chat.unprivileged.add(chat.token)
    replier, ws, reply_id = replying(bed, chat, "Hello")
    # When the reply is sent
    assert [o.result for o in replier.run()] == ["failed"]
    # Then it failed with the reason, nothing was sent, and the account still publishes (not to reconnect)
    reply = stored(ws, reply_id)
    assert "not allowed by this app password" in (reply.error or "")
    assert chat.sent_by_account() == []
    (account,) = accounts.list_accounts(ws)
    assert (account.status, account.status_reason) == ("active", None)
