"""Inbox replies under faults: the real replier (chorus.inbox.replies.handle) on moto against a fake Graph API
on 127.0.0.1. The reply's progress is persisted before and after its one call (ReplyProgress), so a worker
killed anywhere resumes from what the store says: a reply not yet sent is sent, one that landed is not sent
again, one sent without an answer is looked for (comments) or never sent twice (Messenger)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.inbox.queue import InMemoryReplyQueue
from chorus.inbox.replies import ReplierDeps, ReplyOutcome, ReplyProgress, create_reply, get_reply, handle
from tests.faults.harness import FakePlatform, PublisherBed, Request, WorkerKilled

VERSION = "/v21.0"
PAGE = "104000000000001"
PSID = "24000000000001"
POST = f"{PAGE}_900"
SEND_API = rf"{VERSION}/{PAGE}/messages"
COMMENTS = rf"{VERSION}/([^/]+)/comments"


class NoSentiment:
    def analyze(self, text: str) -> Any:
        return None


@pytest.fixture
def graph(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlatform]:
    from chorus.accounts.apps import get_apps
    from chorus.platforms import registry
    from chorus.platforms.facebook import publish as fbpublish

    monkeypatch.setenv("CHORUS_FACEBOOK_GRAPH_URL", f"{platform.url}{VERSION}")
    monkeypatch.setattr(fbpublish, "GRAPH_URL", f"{platform.url}{VERSION}")
    get_apps.cache_clear()  # type: ignore[attr-defined]
    registry.reset()

    def message(req: Request, match: re.Match[str]) -> Any:
        made = platform.create("message", {"body": req.json})
        return {"recipient_id": PSID, "message_id": f"m_{made['id']}"}

    def comment(req: Request, match: re.Match[str]) -> Any:
        made = platform.create("comment", {"parent": match.group(1), "message": req.form.get("message", ""),
                                           "created_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")})  # fmt: skip
        return {"id": f"{POST}_{made['id']}"}

    def comments(req: Request, match: re.Match[str]) -> Any:
        mine = [c for c in platform.records.get("comment", []) if c["parent"] == match.group(1)]
        return {"data": [{"id": f"{POST}_{c['id']}", "message": c["message"], "created_time": c["created_time"],
                          "from": {"id": PAGE}} for c in reversed(mine)]}  # fmt: skip

    platform.route("POST", SEND_API, message)
    platform.route("POST", COMMENTS, comment)
    platform.route("GET", COMMENTS, comments)
    yield platform
    get_apps.cache_clear()  # type: ignore[attr-defined]


def conversation(bed: PublisherBed, kind: MessageKind) -> tuple[str, str]:
    """A Page account and one inbound conversation of ``kind`` on it: (workspace id, conversation id)."""
    from chorus.accounts import service as accounts
    from chorus.inbox.landing import LandingDeps, draft, land_one

    account = accounts.get_account(bed.workspace(), bed.account("facebook", PAGE, token="page-token"))
    dm = kind is MessageKind.DM
    inbound = InboundMessage(
        platform="facebook", account_ref=PAGE, platform_message_id="mid.1" if dm else f"{POST}_1", kind=kind,
        conversation_ref=PSID if dm else POST, text="Where is my order?",
        created_at=bed.now() - timedelta(minutes=1), author_id=PSID, post_ref=None if dm else POST,
    )  # fmt: skip
    deps = LandingDeps(analyzer=NoSentiment(), now=bed.now)  # type: ignore[arg-type]
    landed = land_one(draft(account, inbound, bed.now(), deps), deps)
    assert landed is not None
    return bed.workspace(), landed.conversation.conversation_id


class Replier:
    """Runs the replier over its queue as SQS would: a delivery that dies is redelivered, counted."""

    def __init__(self, bed: PublisherBed) -> None:
        self.queue = InMemoryReplyQueue()
        self.deps = ReplierDeps(queue=self.queue, now=bed.now)
        self.kills = 0

    def run(self) -> list[ReplyOutcome]:
        outcomes: list[ReplyOutcome] = []
        waiting = [(m, 1) for m, _ in self.queue.sent]
        self.queue.sent.clear()
        for _ in range(30):
            if not waiting:
                return outcomes
            message, count = waiting.pop(0)
            try:
                outcomes.append(handle(message, count, self.deps))
            except WorkerKilled:
                self.kills += 1
                waiting.append((message, count + 1))
            waiting += [(m, 1) for m, _ in self.queue.sent]
            self.queue.sent.clear()
        raise AssertionError("the replier did not settle")


def replying(bed: PublisherBed, kind: MessageKind, text: str) -> tuple[Replier, str, str]:
    """A conversation of ``kind``, a replier and a reply made in it: (replier, workspace id, reply id)."""
    ws, conv = conversation(bed, kind)
    replier = Replier(bed)
    return replier, ws, create_reply(ws, conv, text, "agent", replier.queue, now=bed.now())["id"]


def reply_in(
    bed: PublisherBed, account_id: str, inbound: InboundMessage, text: str
) -> tuple[Replier, str, str]:
    """``inbound`` landed in ``account_id``'s inbox and a reply to it made: (replier, workspace, reply id)."""
    from chorus.accounts import service as accounts
    from chorus.inbox.landing import LandingDeps, draft, land_one

    account = accounts.get_account(bed.workspace(), account_id)
    deps = LandingDeps(analyzer=NoSentiment(), now=bed.now)  # type: ignore[arg-type]
    landed = land_one(draft(account, inbound, bed.now(), deps), deps)
    assert landed is not None
    replier = Replier(bed)
    conv = landed.conversation.conversation_id
    return (
        replier,
        bed.workspace(),
        create_reply(bed.workspace(), conv, text, "agent", replier.queue, now=bed.now())["id"],
    )


def stored(ws: str, reply_id: str) -> Any:
    found = get_reply(ws, reply_id)
    assert found is not None
    return found


def kill_once(monkeypatch: pytest.MonkeyPatch, method: str, *, after: bool) -> None:
    """The worker dies once in ``ReplyProgress.<method>``: after the store persisted it, or before."""
    real = getattr(ReplyProgress, method)
    armed = [True]

    def dying(self: ReplyProgress, *args: Any) -> None:
        if armed[0] and not after:
            armed[0] = False
            raise WorkerKilled(f"killed before {method}")
        real(self, *args)
        if armed[0] and after:
            armed[0] = False
            raise WorkerKilled(f"killed after {method}")

    monkeypatch.setattr(ReplyProgress, method, dying)


def test_killed_before_its_request_went_out_a_messenger_reply_is_sent_once(
    bed: PublisherBed, graph: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the worker dies after moving the reply to sending, before marking its request sent
    replier, ws, reply_id = replying(bed, MessageKind.DM, "It ships today.")
    kill_once(monkeypatch, "part_sent", after=False)
    # When the replier runs until settled
    outcomes = replier.run()
    # Then the redelivery saw nothing was sent (the store says so) and sent it: once
    assert replier.kills == 1
    assert [o.result for o in outcomes] == ["retry", "sent"]
    assert [r["body"]["message"]["text"] for r in graph.records["message"]] == ["It ships today."]
    reply = stored(ws, reply_id)
    assert (reply.state, reply.platform_message_id, reply.sent_parts) == ("sent", "m_message-1", None)


def test_killed_after_its_id_was_persisted_a_reply_is_not_sent_again(
    bed: PublisherBed, graph: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the worker dies right after the platform's id of the reply was persisted
    replier, ws, reply_id = replying(bed, MessageKind.DM, "On its way.")
    kill_once(monkeypatch, "part_landed", after=True)
    # When the replier runs until settled
    outcomes = replier.run()
    # Then the redelivery found it landed: sent, one message, no further call
    assert [o.result for o in outcomes] == ["sent"]
    assert len(graph.records["message"]) == 1
    assert len(graph.calls("POST", SEND_API)) == 1
    reply = stored(ws, reply_id)
    assert reply.state == "sent"


def test_killed_mid_call_a_messenger_reply_is_never_sent_twice(
    bed: PublisherBed, graph: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the worker dies once its request was marked sent (it may or may not have gone out)
    replier, ws, reply_id = replying(bed, MessageKind.DM, "Hello")
    kill_once(monkeypatch, "part_sent", after=True)
    # When the replier runs until settled
    outcomes = replier.run()
    # Then the Send API has no lookup: the reply is left unconfirmed, with the reason, and not sent blind
    assert [o.result for o in outcomes] == ["unconfirmed"]
    assert graph.calls("POST", SEND_API) == []
    reply = stored(ws, reply_id)
    assert reply.state == "unconfirmed"
    assert "not sent again" in (reply.error or "")


def test_killed_mid_call_a_comment_reply_is_looked_for_then_sent_once(
    bed: PublisherBed, graph: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a comment reply whose worker dies once its request was marked sent (it never went out)
    replier, ws, reply_id = replying(bed, MessageKind.COMMENT, "Thanks for asking!")
    kill_once(monkeypatch, "part_sent", after=True)
    # When the replier runs until settled
    outcomes = replier.run()
    # Then it looked for the reply three times before concluding it was not there, then sent it once
    assert len(graph.calls("GET", COMMENTS)) == 3
    assert [o.result for o in outcomes] == ["verifying", "verifying", "retry", "sent"]
    assert [(c["parent"], c["message"]) for c in graph.records["comment"]] == [
        (f"{POST}_1", "Thanks for asking!")
    ]
    reply = stored(ws, reply_id)
    assert reply.state == "sent"


def test_a_window_that_closed_while_the_reply_waited_fails_it_before_the_network(
    bed: PublisherBed, graph: FakePlatform
) -> None:
    # Given a Messenger reply made in the window, delivered to the replier after it closed
    replier, ws, reply_id = replying(bed, MessageKind.DM, "Sorry for the wait")
    bed.clock.advance(timedelta(hours=25).total_seconds())
    # When the replier handles it
    outcomes = replier.run()
    # Then it failed with the reason and nothing reached the platform
    assert [o.result for o in outcomes] == ["failed"]
    assert graph.requests == []
    reply = stored(ws, reply_id)
    assert reply.state == "failed"
    assert "within 24 h of the person's last message" in (reply.error or "")


def test_a_comment_gets_one_private_reply_through_the_send_api_and_a_second_is_refused(
    bed: PublisherBed, graph: FakePlatform
) -> None:
    from chorus.errors import Conflict, ValidationFailed

    # Given a comment conversation
    ws, conv = conversation(bed, MessageKind.COMMENT)
    replier = Replier(bed)
    # When an agent answers the commenter privately
    reply = create_reply(
        ws, conv, "Let's sort this out here.", "agent", replier.queue, now=bed.now(), private=True
    )
    outcomes = replier.run()
    # Then one Send API message names the comment as recipient; nothing is posted publicly
    assert [o.result for o in outcomes] == ["sent"]
    assert [r["body"] for r in graph.records["message"]] == [
        {"recipient": {"comment_id": f"{POST}_1"}, "message": {"text": "Let's sort this out here."}}
    ]
    assert graph.calls("POST", COMMENTS) == []
    assert reply["private"] is True
    # And a second private reply to the same comment is refused (409) before anything is stored or sent
    with pytest.raises(Conflict) as again:
        create_reply(ws, conv, "Hello again", "agent", replier.queue, now=bed.now(), private=True)
    assert "one private reply per comment" in again.value.detail
    assert replier.queue.sent == []
    # And after 7 days a private reply is refused with the reason
    with pytest.raises(ValidationFailed) as late:
        create_reply(
            ws, conv, "Late", "agent", replier.queue, now=bed.now() + timedelta(days=8), private=True
        )
    assert late.value.errors[0].rule == "reply_window"
    assert len(graph.records["message"]) == 1
