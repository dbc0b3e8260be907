"""A thread reads its own replies only: one index partition per conversation, never the workspace's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import main_table_in_moto

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def conversation(workspace_id: str, conversation_id: str) -> None:
    from chorus.inbox import keys as ik
    from chorus.inbox.store import ConversationItem
    from chorus.store import keys

    ConversationItem(
        keys.workspace_pk(workspace_id),
        ik.conversation_sk(conversation_id),
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        account_id="acc-1",
        platform="sandbox",
        conv_kind="dm",
        conversation_ref=f"thread-{conversation_id}",
        last_message_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    ).save()


def test_a_threads_replies_come_from_its_own_partition_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    with main_table_in_moto(monkeypatch, "test-replies"):
        from chorus.inbox.queue import InMemoryReplyQueue
        from chorus.inbox.replies import create_reply, replies_of
        from chorus.inbox.store import ReplyItem

        # Given two conversations of one workspace, and one of another, each with replies
        for ws, conv in (("ws-1", "c-1"), ("ws-1", "c-2"), ("ws-2", "c-1")):
            conversation(ws, conv)
        queue = InMemoryReplyQueue()
        first = create_reply("ws-1", "c-1", "first", "key-1", queue, now=NOW)
        create_reply("ws-1", "c-2", "elsewhere", "key-1", queue, now=NOW)
        create_reply("ws-2", "c-1", "other workspace", "key-2", queue, now=NOW)
        second = create_reply("ws-1", "c-1", "second", "key-1", queue, now=NOW + timedelta(minutes=1))

        # When the thread's replies are read, with the workspace's own partition closed to it
        table_query = ReplyItem.query

        def index_only(*args: Any, **kw: Any) -> Any:
            if kw.get("index_name") is None:
                raise AssertionError("a thread read the workspace's partition")
            return table_query(*args, **kw)

        monkeypatch.setattr(ReplyItem, "query", index_only)
        found = replies_of("ws-1", "c-1")

        # Then exactly its own, oldest first
        assert [r["id"] for r in found] == [first["id"], second["id"]]
