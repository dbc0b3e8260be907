"""Landing a batch of new messages: one read and one transaction for the batch, the same result as one
at a time, and exactly once whatever races it (moto in-process)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chorus.accounts.service import Account
from chorus.config import get_settings
from chorus.inbox import keys as ik
from chorus.inbox.ingest import IngestDeps, ingest_batch
from chorus.inbox.landing import BatchLanding, Draft, LandingDeps, draft, land_batch, land_one
from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.inbox.queue import IngestMessage
from chorus.inbox.stats import day_sk, workspace_stats_pk
from chorus.inbox.store import ConversationItem, DedupeItem, messages_of
from chorus.listening.sentiment import default_analyzer
from chorus.platforms.webhooks import WebhookSecrets
from chorus.store import keys
from tests.support import main_table_in_moto

WS = "ws-land"
AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, "test-landing"):
        from chorus.reports.packed import forget_checks

        forget_checks()
        yield


def account(account_id: str = "acc-1", ws: str = WS) -> Account:
    return Account(
        id=account_id,
        workspace_id=ws,
        platform="sandbox",
        platform_account_id="page-1",
        handle="page",
        display_name="Page",
        status="active",
        status_reason=None,
        base_url=None,
        token_expires_at=None,
        retry_after=None,
        created_at=AT,
    )


def comment(
    n: int, post: str = "p1", *, minutes: int = 0, ours: bool = False, text: str = ""
) -> InboundMessage:
    return InboundMessage(
        platform="sandbox",
        account_ref="page-1",
        platform_message_id=f"c{n}",
        kind=MessageKind.REPLY if ours else MessageKind.COMMENT,
        conversation_ref=post,
        text=text or f"comment {n}, love it",
        created_at=AT + timedelta(minutes=minutes or n),
        author_id="page-1" if ours else f"fan-{n}",
        post_ref=post,
        authored_by_account=ours,
    )


DEPS = LandingDeps(analyzer=default_analyzer(), now=lambda: AT + timedelta(hours=1))


def drafts(*messages: InboundMessage) -> list[Draft]:
    return [draft(account(), m, AT, DEPS, record=i) for i, m in enumerate(messages)]


class Counting:
    """The shared DynamoDB client, counting calls; ``before_transaction`` runs once before the first."""

    def __init__(self, before_transaction: Callable[[], None] | None = None) -> None:
        from chorus.aws import client

        self._client = client("dynamodb")
        self.calls: list[str] = []
        self.tokens: list[str] = []  # the ClientRequestToken of each transaction
        self._before = before_transaction

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if name == "transact_write_items":
                self.tokens.append(kwargs.get("ClientRequestToken", ""))
            if name == "transact_write_items" and self._before is not None:
                before, self._before = self._before, None
                before()
            return attr(*args, **kwargs)

        return call


def land(ds: list[Draft], client: Any = None) -> BatchLanding:
    return land_batch(ds, DEPS, client=client, sleep=lambda s: None)


def conversation(post: str = "p1") -> ConversationItem:
    return ConversationItem.get(keys.workspace_pk(WS), ik.conversation_sk(ik.conversation_id("acc-1", post)))


def workspace_day() -> dict[str, Any]:
    from chorus.aws import client

    item = client("dynamodb").get_item(
        TableName=get_settings().table,
        Key={"pk": {"S": workspace_stats_pk(WS)}, "sk": {"S": day_sk(AT.date())}},
        ConsistentRead=True,
    )
    return {k: v.get("N", v.get("S")) for k, v in item.get("Item", {}).items()}


def marker(n: int) -> DedupeItem:
    return DedupeItem.get(keys.workspace_pk(WS), ik.dedupe_sk("sandbox", f"c{n}"))


def test_a_batch_lands_with_one_read_and_one_transaction(aws: None) -> None:
    counting = Counting()
    result = land(drafts(*[comment(n, f"p{n % 3}") for n in range(1, 11)]), counting)
    assert len(result.landed) == 10
    assert not result.duplicates
    assert not result.one_at_a_time
    assert counting.calls.count("transact_write_items") == 1
    landing = counting.calls[: counting.calls.index("transact_write_items") + 1]
    assert landing == ["batch_get_item", "transact_write_items"]  # then packing checks, once a day
    assert [conversation(f"p{i}").message_count for i in range(3)] == [3, 4, 3]
    assert conversation("p1").version == 4  # one version per merged message, written once
    assert all(marker(n).done for n in range(1, 11))
    assert workspace_day()["n_in"] == "10"
    assert len(messages_of(WS, ik.conversation_id("acc-1", "p1"))) == 4


def test_the_same_message_twice_in_one_batch_lands_once(aws: None) -> None:
    result = land(drafts(comment(1), comment(1), comment(2)))
    assert len(result.landed) == 2
    assert len(result.duplicates) == 1
    assert conversation().message_count == 2
    assert workspace_day()["n_in"] == "2"


def test_a_message_stored_before_is_a_duplicate_and_the_rest_lands(aws: None) -> None:
    land(drafts(comment(1)))
    result = land(drafts(comment(1), comment(2)))
    assert [d.msg.platform_message_id for d in result.duplicates] == ["c1"]
    assert [item.draft.msg.platform_message_id for item in result.landed] == ["c2"]
    assert conversation().message_count == 2
    assert workspace_day()["n_in"] == "2"


def test_a_conversation_another_worker_moved_is_read_again(aws: None) -> None:
    def other_worker() -> None:  # lands c9 in the same conversation between our read and our write
        assert land_one(draft(account(), comment(9), AT, DEPS), DEPS) is not None

    counting = Counting(before_transaction=other_worker)
    result = land(drafts(comment(1), comment(2)), counting)
    assert len(result.landed) == 2
    assert counting.calls.count("transact_write_items") >= 2  # the first was cancelled on the version
    # each attempt is a transaction of its own: its own token (the SDK's retries of one reuse it, so
    # a retry after a lost answer succeeds as the first did instead of finding its own markers)
    assert all(counting.tokens)
    assert len(set(counting.tokens)) == len(counting.tokens)
    conv = conversation()
    assert conv.message_count == 3
    assert sorted(conv.applied) == sorted(ik.message_id("sandbox", f"c{n}") for n in (1, 2, 9))
    assert workspace_day()["n_in"] == "3"


def test_a_racing_delivery_of_the_same_batch_lands_it_once(aws: None) -> None:
    racing = drafts(comment(1), comment(2))
    counting = Counting(before_transaction=lambda: land(drafts(comment(1), comment(2))) and None)
    result = land(racing, counting)
    assert not result.landed  # the other delivery's transaction landed first
    assert len(result.duplicates) == 2
    assert conversation().message_count == 2
    assert workspace_day()["n_in"] == "2"


def test_a_marker_an_earlier_attempt_left_half_way_is_finished_one_at_a_time(aws: None) -> None:
    [half] = drafts(comment(1))
    half.marker.save()  # land_one's first step, then the worker stopped
    result = land([half, *drafts(comment(2))][::1])
    assert [d.msg.platform_message_id for d in result.one_at_a_time] == ["c1"]
    assert land_one(result.one_at_a_time[0], DEPS) is not None
    assert conversation().message_count == 2
    assert marker(1).done
    assert workspace_day()["n_in"] == "2"


def test_a_first_response_in_the_same_batch_is_timed_and_counted(aws: None) -> None:
    result = land(drafts(comment(1, minutes=1), comment(2, minutes=11, ours=True, text="thanks!")))
    assert len(result.landed) == 2
    conv = conversation()
    assert conv.first_response_s == 600
    day = workspace_day()
    assert (day["n_in"], day["n_out"], day["n_frt"], day["frt"]) == ("1", "1", "1", "600")


def test_a_batch_larger_than_a_transaction_is_landed_in_chunks(aws: None) -> None:
    counting = Counting()
    result = land(drafts(*[comment(n, f"p{n}") for n in range(1, 46)]), counting)
    assert len(result.landed) == 45
    assert counting.calls.count("transact_write_items") == 2  # 45 x (marker, message, conversation) > 100
    assert workspace_day()["n_in"] == "45"


class Sender:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def send(self, connection_id: str, data: bytes) -> bool:
        self.frames.append(json.loads(data))
        return True


def test_ingest_pushes_a_batchs_conversations_in_one_frame_each_once_with_all_its_new_messages(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chorus.inbox import live

    monkeypatch.setattr(live, "connections", lambda ws: ["conn-1"] if ws == WS else [])
    sender = Sender()
    deps = IngestDeps(
        analyzer=default_analyzer(),
        secrets=WebhookSecrets(),
        sender=sender,
        accounts_for=lambda platform, ref: [account()] if ref == "page-1" else [],
    )

    def polled(*notes: dict[str, Any]) -> IngestMessage:
        return IngestMessage(
            platform="sandbox",
            received_at=keys.iso(AT),
            body=json.dumps(list(notes)).encode(),
            source="poll",
            workspace_id=WS,
            account_ref="page-1",
        )

    def note(n: int, post: str) -> dict[str, Any]:
        return {"id": f"n{n}", "type": "comment", "text": f"hello {n}", "author": {"id": f"fan-{n}"},
                "post_id": post, "created_at": keys.iso(AT + timedelta(minutes=n))}  # fmt: skip

    batch = [
        polled(note(1, "p1"), note(2, "p2")),
        polled(note(3, "p1")),
        IngestMessage("sandbox", keys.iso(AT), b"{", source="poll"),
    ]
    report = ingest_batch(batch, deps)
    assert (report.stored, report.malformed, report.failed, report.transactions) == (3, 1, [], 1)
    [frame] = sender.frames  # one frame for the batch: two conversations changed
    assert frame["type"] == "conversations.updated"
    updates = {u["conversation"]["conversation_ref"]: u for u in frame["data"]["updates"]}
    assert [m["platform_message_id"] for m in updates["p1"]["messages"]] == ["n1", "n3"]
    assert updates["p1"]["message"]["platform_message_id"] == "n3"
    assert updates["p1"]["conversation"]["message_count"] == 2
    assert [m["platform_message_id"] for m in updates["p2"]["messages"]] == ["n2"]
    again = ingest_batch(batch[:2], deps)
    assert (again.stored, again.duplicates, again.transactions) == (0, 3, 0)
    assert len(sender.frames) == 1  # a redelivery pushes nothing


def test_updates_too_big_for_one_frame_are_split_under_the_websocket_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chorus.inbox import live

    monkeypatch.setattr(live, "connections", lambda ws: ["conn-1"])
    sender = Sender()
    updates = [{"conversation": {"id": f"c{i}"}, "message": {"text": "x" * 40_000}} for i in range(5)]
    assert live.push_updates(WS, updates, sender) == 3
    assert [len(f["data"]["updates"]) for f in sender.frames] == [2, 2, 1]
    assert all(len(json.dumps(f)) < 128 * 1024 for f in sender.frames)
    assert [u["conversation"]["id"] for f in sender.frames for u in f["data"]["updates"]] == [
        f"c{i}" for i in range(5)
    ]
