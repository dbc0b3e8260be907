"""Bluesky direct messages against the chat lexicons (fixtures/platform_api/replies/bluesky): calls on the
account's PDS with ``atproto-proxy: did:web:api.bsky.chat#bsky_chat``; the log polled with its cursor;
a reply sent once with ``sendMessage`` and, after a lost answer, looked for, never sent blind.

No recorded chat answer exists (the replies README says so: the chat service is closed-source), so the
answers below are built from the lexicons' ``logCreateMessage`` / ``messageView`` / ``deletedMessageView``
definitions; :func:`test_the_answers_used_here_have_the_fields_the_lexicons_require` checks them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.errors import ValidationFailed
from chorus.inbox import channels
from chorus.inbox.normalized import MessageKind
from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    PermanentError,
    PlatformError,
    Progress,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.bluesky import chat
from chorus.platforms.bluesky.chat import (
    CHAT_SERVICE,
    CREATE_MESSAGE,
    DELETED_VIEW,
    MESSAGE_VIEW,
    BlueskyChatSender,
    BlueskyCursor,
    fetch_inbox,
    fetch_log,
    parse_inbox,
)
from chorus.platforms.bluesky.publish import BlueskyPublisher
from tests.contract.replying import SENT_AT, hours_after, marks, replies_fixture, reply_request, rsps

__all__ = ["rsps"]

PDS = "https://pds.example"
DID = "did:plc:brandbrandbrandbrand00"
FAN = "did:plc:fanfanfanfanfanfanfan000"
CONVO = "3kconvo0000a"
CREDS = AccountCredentials(platform="bluesky", account_id=DID, access_token="tok-1", handle="brand.example",
                           base_url=PDS)  # fmt: skip
HEADERS = [matchers.header_matcher({"Authorization": "Bearer tok-1", "atproto-proxy": CHAT_SERVICE})]
DEFS = replies_fixture("bluesky/lexicon_chat.bsky.convo.defs.json")["defs"]
PROXY = replies_fixture("bluesky/atproto_proxy_header.json")


def view(message_id: str, sender: str, text: str, at: str) -> dict[str, Any]:
    return {"$type": MESSAGE_VIEW, "id": message_id, "rev": f"rev-{message_id}", "text": text,
            "sender": {"did": sender}, "sentAt": at}  # fmt: skip


def created(message: dict[str, Any]) -> dict[str, Any]:
    return {"$type": CREATE_MESSAGE, "rev": message["rev"], "convoId": CONVO, "message": message,
            "relatedProfiles": [{"did": FAN, "handle": "fan.bsky.social", "displayName": "A Fan"},
                                {"did": DID, "handle": "brand.example"}]}  # fmt: skip


FROM_FAN = view("3kmsg001", FAN, "Do you ship to Canada?", "2026-12-06T12:00:00.000Z")
FROM_US = view("3kmsg002", DID, "We do!", "2026-12-06T12:01:00.000Z")
DELETED = {"$type": DELETED_VIEW, "id": "3kmsg003", "rev": "rev-3", "sender": {"did": FAN},
           "sentAt": "2026-12-06T12:02:00.000Z"}  # fmt: skip
LOG = {"cursor": "rev-3", "logs": [
    {"$type": "chat.bsky.convo.defs#logBeginConvo", "rev": "rev-0", "convoId": CONVO},
    created(FROM_FAN), created(FROM_US), created(DELETED),
    {"$type": "chat.bsky.convo.defs#logReadMessage", "rev": "rev-4", "convoId": CONVO, "message": FROM_US},
]}  # fmt: skip


def test_the_answers_used_here_have_the_fields_the_lexicons_require() -> None:
    assert PROXY["header"] == "atproto-proxy"
    assert PROXY["value"] == CHAT_SERVICE
    for name, value in (("messageView", FROM_FAN), ("deletedMessageView", DELETED),
                        ("logCreateMessage", created(FROM_FAN))):  # fmt: skip
        assert set(DEFS[name]["required"]) <= set(value), name
    log = replies_fixture("bluesky/lexicon_chat.bsky.convo.getLog.json")["defs"]["main"]
    assert CREATE_MESSAGE in log["output"]["schema"]["properties"]["logs"]["items"]["refs"]
    assert set(log["output"]["schema"]["required"]) <= set(LOG)
    send = replies_fixture("bluesky/lexicon_chat.bsky.convo.sendMessage.json")["defs"]["main"]
    assert set(send["input"]["schema"]["required"]) == {"convoId", "message"}


def test_the_log_is_read_on_the_pds_with_the_chat_proxy_and_its_cursor(rsps: responses.RequestsMock) -> None:
    url = f"{PDS}/xrpc/chat.bsky.convo.getLog"
    rsps.get(url, json=LOG, match=[*HEADERS, matchers.query_param_matcher({"cursor": "rev-0"})])
    rsps.get(
        url, json={"cursor": "rev-3", "logs": []}, match=[matchers.query_param_matcher({"cursor": "rev-3"})]
    )
    events, cursor, at_end = fetch_log(requests.Session(), PDS, "tok-1", "rev-0")
    assert (cursor, at_end) == ("rev-3", True)
    assert [e["message"]["id"] for e in events] == ["3kmsg001", "3kmsg002", "3kmsg003"]  # creations only


def test_a_poll_reads_at_most_its_pages_and_goes_on_from_the_cursor_next_time(
    rsps: responses.RequestsMock,
) -> None:
    url = f"{PDS}/xrpc/chat.bsky.convo.getLog"
    rsps.get(url, json=LOG, match=[matchers.query_param_matcher({})])
    rsps.get(url, json={**LOG, "cursor": "rev-6"}, match=[matchers.query_param_matcher({"cursor": "rev-3"})])
    events, cursor, at_end = fetch_log(requests.Session(), PDS, "tok-1", None, max_pages=2)
    assert (len(events), cursor, at_end, len(rsps.calls)) == (6, "rev-6", False, 2)


def test_a_message_from_someone_is_a_dm_of_the_convo_and_ours_is_our_own() -> None:
    parsed = parse_inbox(LOG["logs"][1:4], DID)
    fan, ours = parsed.events
    assert (fan.kind, fan.conversation_ref, fan.platform_message_id) == (MessageKind.DM, CONVO, "3kmsg001")
    assert (fan.author_id, fan.author_handle, fan.author_name) == (FAN, "fan.bsky.social", "A Fan")
    assert fan.text == "Do you ship to Canada?"
    assert not fan.authored_by_account
    assert ours.authored_by_account
    assert ours.author_id == DID
    assert parsed.ignored == ("deleted",)
    assert channels.name_for("bluesky", fan.kind) == "bluesky.dm"
    assert channels.name_for("bluesky", MessageKind.MENTION) == "bluesky"


def test_notifications_and_the_chat_log_share_one_cursor(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{PDS}/xrpc/app.bsky.notification.listNotifications", json={"notifications": []})
    url = f"{PDS}/xrpc/chat.bsky.convo.getLog"
    rsps.get(url, json=LOG, match=[*HEADERS, matchers.query_param_matcher({"cursor": "rev-0"})])
    rsps.get(
        url, json={"cursor": "rev-3", "logs": []}, match=[matchers.query_param_matcher({"cursor": "rev-3"})]
    )
    before = BlueskyCursor("2026-12-06T11:00:00.000Z", "rev-0").dumps()
    items, cursor = fetch_inbox(requests.Session(), PDS, "tok-1", before)
    assert BlueskyCursor.parse(cursor) == BlueskyCursor("2026-12-06T11:00:00.000Z", "rev-3")
    assert len(items) == 3
    assert BlueskyCursor.parse("2026-12-06T11:00:00.000Z") == BlueskyCursor(
        "2026-12-06T11:00:00.000Z"
    )  # before DMs
    assert BlueskyCursor("m").dumps() == "m"
    assert json.loads(BlueskyCursor("a", "b").dumps() or "") == {"chat": "b", "notifications": "a"}


def test_the_first_read_of_the_log_keeps_the_last_week_until_it_reaches_the_end(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a log that starts long ago (a message of last year, then one of yesterday), read a page a poll
    monkeypatch.setattr(chat, "MAX_PAGES", 1)
    old = {
        **created(view("3kold001", FAN, "Hello from last year", "2025-11-01T10:00:00.000Z")),
        "rev": "rev-a",
    }
    new = {
        **created(view("3knew001", FAN, "Are you open today?", "2026-12-05T10:00:00.000Z")),
        "rev": "rev-b",
    }
    url = f"{PDS}/xrpc/chat.bsky.convo.getLog"
    rsps.get(url, json={"cursor": "rev-a", "logs": [old]}, match=[matchers.query_param_matcher({})])
    rsps.get(
        url,
        json={"cursor": "rev-b", "logs": [new]},
        match=[matchers.query_param_matcher({"cursor": "rev-a"})],
    )
    rsps.get(
        url, json={"cursor": "rev-b", "logs": []}, match=[matchers.query_param_matcher({"cursor": "rev-b"})]
    )
    rsps.get(f"{PDS}/xrpc/app.bsky.notification.listNotifications", json={"notifications": []})
    week_ago = "2026-11-29T12:00:00.000Z"  # SENT_AT less 7 days
    # When three polls read it
    first, cursor = fetch_inbox(requests.Session(), PDS, "tok-1", None, now=SENT_AT)
    assert BlueskyCursor.parse(cursor) == BlueskyCursor(None, "rev-a", week_ago)
    second, cursor = fetch_inbox(requests.Session(), PDS, "tok-1", cursor, now=SENT_AT)
    assert BlueskyCursor.parse(cursor) == BlueskyCursor(None, "rev-b", week_ago)
    third, cursor = fetch_inbox(requests.Session(), PDS, "tok-1", cursor, now=SENT_AT)
    # Then last year's message is history, yesterday's lands, and at the log's end the window is dropped
    assert [e["message"]["id"] for e in first + second + third] == ["3knew001"]
    assert BlueskyCursor.parse(cursor) == BlueskyCursor(None, "rev-b", None)


NOTIFICATIONS = f"{PDS}/xrpc/app.bsky.notification.listNotifications"
GET_LOG = f"{PDS}/xrpc/chat.bsky.convo.getLog"
# What a PDS answers a chat call it will not forward (the reference PDS, packages/pds/src/pipethrough.ts)
NO_DM_ACCESS = {"status": 400, "json": {"error": "InvalidToken", "message": "Bad token method"}}
NO_CHAT_SERVICE = {
    "status": 400,
    "json": {"error": "InvalidRequest", "message": "could not resolve proxy did"},
}
NOT_PROXIED = {"status": 501, "json": {"error": "MethodNotImplemented", "message": "Method Not Implemented"}}
UPSTREAM_5XX = {
    "status": 502,
    "json": {"error": "UpstreamFailure", "message": "Upstream service unreachable"},
}
TIMEOUT = {"body": requests.ReadTimeout("read timed out")}
RATE_LIMITED = {"status": 429, "json": {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}}


def reply_notification(key: str, at: datetime) -> dict[str, Any]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"uri": f"at://{FAN}/app.bsky.feed.post/{key}", "cid": f"cid{key}", "reason": "reply",
            "author": {"did": FAN, "handle": "fan.test"}, "record": {"text": "hi", "createdAt": stamp},
            "indexedAt": stamp}  # fmt: skip


class Pds:
    """The PDS's notifications (a new reply on every poll) and its answer to getLog, counted."""

    def __init__(self, rsps: responses.RequestsMock, answer: dict[str, Any]) -> None:
        self.rsps, self.answer, self.polls = rsps, answer, 0
        rsps.add_callback(responses.GET, NOTIFICATIONS, self._notifications)
        self.log = rsps.get(GET_LOG, **answer)
        self.log_ok: Any = None

    def _notifications(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.polls += 1
        note = reply_notification(f"r{self.polls}", SENT_AT + timedelta(minutes=self.polls))
        return 200, {}, json.dumps({"notifications": [note]})

    def answers(self, answer: dict[str, Any]) -> None:
        self.rsps.replace(responses.GET, GET_LOG, **answer)

    def brings(self, after: str, *events: dict[str, Any]) -> None:
        """The log answers ``events`` and the cursor ``after``, then (from ``after``) its end."""
        self.answers({"json": {"cursor": after, "logs": list(events)}})
        self.rsps.get(
            GET_LOG,
            json={"cursor": after, "logs": []},
            match=[matchers.query_param_matcher({"cursor": after})],
        )

    def log_calls(self) -> int:
        return len([c for c in self.rsps.calls if c.request.url.startswith(GET_LOG)])


def poll(cursor: str | None, at: datetime, *, shown: bool = True) -> tuple[list[dict[str, Any]], str | None]:
    return fetch_inbox(requests.Session(), PDS, "tok-1", cursor, now=at, refusal_shown=shown)


@pytest.mark.parametrize(
    "answer", [NO_DM_ACCESS, NO_CHAT_SERVICE, NOT_PROXIED, UPSTREAM_5XX, TIMEOUT, RATE_LIMITED],
    ids=["no-dm-access", "no-chat-service", "not-proxied", "upstream-5xx", "timeout", "rate-limited"],
)  # fmt: skip
def test_a_chat_log_that_fails_leaves_the_notifications_polled(
    rsps: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    pds = Pds(rsps, answer)
    cursor = BlueskyCursor("2026-12-06T11:00:00.000Z", "rev-9").dumps()
    items, after = poll(cursor, SENT_AT)
    # the reply lands and its marker moves; the chat log's cursor stays where it was
    assert [i["uri"].rsplit("/", 1)[1] for i in items] == ["r1"]
    held = BlueskyCursor.parse(after)
    assert (held.notifications, held.chat) == (items[0]["indexedAt"], "rev-9")
    assert pds.log_calls() == 1


@pytest.mark.parametrize(
    ("answer", "why"),
    [(NO_DM_ACCESS, chat.NO_DM_ACCESS), (NO_CHAT_SERVICE, chat.NO_CHAT_SERVICE),
     (NOT_PROXIED, chat.NO_CHAT_SERVICE),
     ({"status": 404, "json": {"error": "XRPCNotSupported", "message": "XRPCNotSupported"}}, chat.NO_CHAT_SERVICE)],
    ids=["no-dm-access", "no-chat-service", "not-proxied", "not-supported"],
)  # fmt: skip
def test_a_refused_chat_log_is_left_alone_for_a_wait_that_grows_while_replies_are_polled(
    rsps: responses.RequestsMock, answer: dict[str, Any], why: str
) -> None:
    # Given a PDS that refuses the account's chat log, and new replies on every poll
    pds = Pds(rsps, answer)
    cursor = BlueskyCursor("2026-12-06T11:00:00.000Z", "rev-9").dumps()
    asked_at: list[float] = []  # hours after the first poll when the chat log was asked
    landed: list[str] = []
    # When the account is polled every 10 minutes for two days and a half
    for step in range(6 * 60):
        at = SENT_AT + timedelta(minutes=10 * step)
        before = pds.log_calls()
        items, cursor = poll(cursor, at)
        landed += [i["uri"].rsplit("/", 1)[1] for i in items]
        if pds.log_calls() > before:
            asked_at.append(step / 6)
    # Then the log was asked after 0 h, 1 h, 6 h more, then every 24 h; every reply landed once
    assert asked_at == [0, 1, 7, 31, 55]
    assert landed == [f"r{n}" for n in range(1, 6 * 60 + 1)]
    held = BlueskyCursor.parse(cursor)
    assert (held.chat, held.why, held.misses) == ("rev-9", why, 5)
    assert held.refused == chat.WHY[why]
    assert held.notifications == reply_notification("x", SENT_AT + timedelta(minutes=6 * 60))["indexedAt"]


@pytest.mark.parametrize(
    "answer", [UPSTREAM_5XX, TIMEOUT, RATE_LIMITED], ids=["upstream-5xx", "timeout", "rate-limited"]
)
def test_a_transient_failure_is_asked_again_next_poll_until_it_lasts_an_hour(
    rsps: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    # Given a chat log that fails for now
    pds = Pds(rsps, answer)
    cursor = BlueskyCursor("2026-12-06T11:00:00.000Z", "rev-9").dumps()
    # When the account is polled every 5 minutes for 50 minutes
    for step in range(11):
        _, cursor = poll(cursor, SENT_AT + timedelta(minutes=5 * step))
    # Then every poll asked it again, and nothing is shown as refused
    assert pds.log_calls() == 11
    assert BlueskyCursor.parse(cursor).refused is None
    # When it still fails an hour after the first failure, it is left alone for an hour
    _, cursor = poll(cursor, SENT_AT + timedelta(minutes=60))
    _, cursor = poll(cursor, SENT_AT + timedelta(minutes=65))
    assert pds.log_calls() == 12
    held = BlueskyCursor.parse(cursor)
    assert (held.why, held.paused) == (chat.CHAT_FAILING, "2026-12-06T14:00:00.000Z")
    assert held.refused == chat.WHY[chat.CHAT_FAILING]
    # And once it answers again, it is read from its cursor and the failures are forgotten
    pds.answers({"json": {"cursor": "rev-9", "logs": []}})
    _, cursor = poll(cursor, SENT_AT + timedelta(minutes=121))
    assert BlueskyCursor.parse(cursor) == BlueskyCursor(BlueskyCursor.parse(cursor).notifications, "rev-9")
    assert pds.log_calls() == 13


def test_a_transient_failure_between_successes_never_leaves_the_log_alone(
    rsps: responses.RequestsMock,
) -> None:
    pds = Pds(rsps, UPSTREAM_5XX)
    cursor = BlueskyCursor("2026-12-06T11:00:00.000Z", "rev-9").dumps()
    for step in range(8):  # a failure every other poll, 15 minutes apart, for two hours
        pds.answers(UPSTREAM_5XX if step % 2 == 0 else {"json": {"cursor": "rev-9", "logs": []}})
        _, cursor = poll(cursor, SENT_AT + timedelta(minutes=15 * step))
    assert pds.log_calls() == 8
    assert BlueskyCursor.parse(cursor).paused is None


def test_a_reconnected_account_asks_the_log_at_once_and_its_waits_start_again(
    rsps: responses.RequestsMock,
) -> None:
    # Given an account whose log was refused three times in a row (left alone for 24 h)
    pds = Pds(rsps, NO_DM_ACCESS)
    cursor = BlueskyCursor("2026-12-06T11:00:00.000Z", "rev-9", None, "2026-12-05T00:00:00.000Z",
                           "2026-12-07T11:00:00.000Z", chat.NO_DM_ACCESS, 3).dumps()  # fmt: skip
    _, cursor = poll(cursor, SENT_AT)
    assert pds.log_calls() == 0
    # When the account no longer shows the refusal (reconnected with another app password)
    pds.brings("rev-10", created(FROM_FAN))
    items, cursor = poll(cursor, SENT_AT + timedelta(minutes=1), shown=False)
    # Then the log is asked at once (its page, then its end) and its message lands
    assert pds.log_calls() == 2
    assert [i.get("message", {}).get("id") for i in items] == [None, "3kmsg001"]
    assert BlueskyCursor.parse(cursor).chat == "rev-10"
    # And a new password refused again is left alone for an hour, not a day
    pds.answers(NO_DM_ACCESS)
    again = BlueskyCursor(None, "rev-10", None, "2026-12-05T00:00:00.000Z", "2026-12-07T11:00:00.000Z",
                          chat.NO_DM_ACCESS, 3).dumps()  # fmt: skip
    _, after = poll(again, SENT_AT + timedelta(minutes=2), shown=False)
    assert (BlueskyCursor.parse(after).paused, BlueskyCursor.parse(after).misses) == (
        "2026-12-06T13:02:00.000Z",
        1,
    )


@pytest.mark.parametrize(
    ("error", "why"),
    [(AuthError("Bad token method", code="InvalidToken", status=400), chat.NO_DM_ACCESS),
     (AuthError("Bad token scope", code="InvalidToken", status=400), chat.NO_DM_ACCESS),
     (PermanentError("could not resolve proxy did service url", code="InvalidRequest", status=400),
      chat.NO_CHAT_SERVICE),
     (PermanentError("No service configured for chat.bsky.convo.getLog", code="InvalidRequest", status=400),
      chat.NO_CHAT_SERVICE),
     (AuthError("Token has expired", code="ExpiredToken", status=400), None),
     (AuthError("Token could not be verified", code="InvalidToken", status=400), None),
     (TransientError("Internal Server Error", code="InternalServerError", status=500), None),
     (TransientError("Upstream service unreachable", code="UpstreamFailure", status=502), None),
     (RateLimited("Rate Limit Exceeded", code="RateLimitExceeded", status=429), None)],
)  # fmt: skip
def test_refusals_are_told_from_failures_the_next_poll_may_not_meet(
    error: PlatformError, why: str | None
) -> None:
    assert chat.refusal(error) == why


def sender() -> BlueskyChatSender:
    return BlueskyChatSender(BlueskyPublisher(session=requests.Session(), base_url=PDS, clock=lambda: 0.0))


def test_a_reply_is_send_message_on_the_pds_through_the_chat_proxy(rsps: responses.RequestsMock) -> None:
    answer = view("3kmsg009", DID, "Yes, we ship to Canada.", "2026-12-06T12:05:00.000Z")
    rsps.post(f"{PDS}/xrpc/chat.bsky.convo.sendMessage", json=answer, match=[*HEADERS, matchers.json_params_matcher(
        {"convoId": CONVO, "message": {"text": "Yes, we ship to Canada."}})])  # fmt: skip
    request = reply_request("Yes, we ship to Canada.", recipient=CONVO, reply_to=CONVO)
    assert sender().send(CREDS, request).platform_post_id == "3kmsg009"
    assert marks(request) == [("sent", "0"), ("landed", "0", "3kmsg009")]


def test_a_lost_answer_is_never_sent_again_blind(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{PDS}/xrpc/chat.bsky.convo.sendMessage", body=requests.ReadTimeout("read timed out"))
    progress = Progress("idem-key-1", SENT_AT)
    chat = sender()
    for _ in range(2):
        with pytest.raises(UnknownOutcome):
            chat.send(CREDS, reply_request("Once", recipient=CONVO, progress=progress))
    assert len(rsps.calls) == 1


def test_a_lost_reply_is_found_among_the_convos_messages_by_us_since_it_was_queued(
    rsps: responses.RequestsMock,
) -> None:
    stamp = hours_after(0.01).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    older = hours_after(-1).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    rsps.get(f"{PDS}/xrpc/chat.bsky.convo.getMessages", json={"messages": [
        view("3kmsg012", FAN, "Thanks", stamp),  # someone else's, same text
        view("3kmsg011", DID, "Thanks", stamp),
        view("3kmsg010", DID, "Thanks", older),  # ours, before the reply was queued
    ]}, match=[*HEADERS, matchers.query_param_matcher({"convoId": CONVO, "limit": "50"})])  # fmt: skip
    found = sender().find_sent(CREDS, reply_request("Thanks", recipient=CONVO))
    assert found is not None
    assert found.platform_post_id == "3kmsg011"
    rsps.get(
        f"{PDS}/xrpc/chat.bsky.convo.getMessages", json={"messages": [view("3kmsg010", DID, "Thanks", older)]}
    )
    assert sender().find_sent(CREDS, reply_request("Thanks", recipient=CONVO)) is None


@pytest.mark.parametrize("error", ["MessagesDisabled", "NotFollowedBySender", "ConvoLocked", "InvalidConvo"])
def test_a_named_refusal_is_permanent_with_the_reason(rsps: responses.RequestsMock, error: str) -> None:
    rsps.post(f"{PDS}/xrpc/chat.bsky.convo.sendMessage", status=400, json={"error": error, "message": error})
    with pytest.raises(PermanentError) as raised:
        sender().send(CREDS, reply_request("Hi", recipient=CONVO))
    assert raised.value.code == error
    assert "Bluesky refused the message" in raised.value.message
    assert not isinstance(raised.value, UnknownOutcome)


def test_an_expired_session_is_refreshed_once_and_the_message_sent(rsps: responses.RequestsMock) -> None:
    url = f"{PDS}/xrpc/chat.bsky.convo.sendMessage"
    rsps.post(url, status=400, json={"error": "ExpiredToken", "message": "Token has expired"})
    rsps.post(f"{PDS}/xrpc/com.atproto.server.refreshSession",
              json={"did": DID, "handle": "brand.example", "accessJwt": "tok-2", "refreshJwt": "ref-2"})  # fmt: skip
    rsps.post(url, json=view("3kmsg020", DID, "Hi", "2026-12-06T12:05:00.000Z"),
              match=[matchers.header_matcher({"Authorization": "Bearer tok-2", "atproto-proxy": CHAT_SERVICE})])  # fmt: skip
    creds = AccountCredentials(platform="bluesky", account_id=DID, access_token="tok-1", refresh_token="ref-1",
                               handle="brand.example", base_url=PDS)  # fmt: skip
    assert sender().send(creds, reply_request("Hi", recipient=CONVO)).platform_post_id == "3kmsg020"
    assert len([c for c in rsps.calls if c.request.url == url]) == 2


def test_the_channel_declares_the_chat_limits() -> None:
    channel = channels.get("bluesky.dm")
    assert channel.can_reply
    assert channel.sender == "bluesky.chat:BlueskyChatSender"
    with pytest.raises(ValidationFailed, match="1000"):
        channels.plan_reply(channel, None, SENT_AT, text="x" * 1001)


def test_an_app_password_without_direct_messages_fails_the_reply_without_a_new_session(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(f"{PDS}/xrpc/chat.bsky.convo.sendMessage", **NO_DM_ACCESS)
    creds = AccountCredentials(platform="bluesky", account_id=DID, access_token="tok-1", refresh_token="ref-1",
                               handle="brand.example", base_url=PDS)  # fmt: skip
    with pytest.raises(PermanentError) as raised:
        sender().send(creds, reply_request("Hi", recipient=CONVO))
    # a failed reply with the reason, not an AuthError (the account is not to be reconnected for its posts)
    assert not isinstance(raised.value, AuthError)
    assert "not allowed by this app password" in raised.value.message
    assert [c.request.url.rsplit("/", 1)[1] for c in rsps.calls] == ["chat.bsky.convo.sendMessage"]
