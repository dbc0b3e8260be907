"""Writes of posts go out in transactions that each carry their own ClientRequestToken (DynamoDB
answers the SDK's retry of a transaction whose answer was lost as it answered the first)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chorus.posts.model import Content, Mode, Post, Target, TargetState
from chorus.store.posts import create_posts, get_post, replace_post
from tests.support import main_table_in_moto

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def post(version: int = 1, text: str = "Hello") -> Post:
    target = Target("ws-1", "p-1", "acc-1", "mastodon", TargetState.SCHEDULED, NOW + timedelta(hours=1))
    return Post(
        workspace_id="ws-1", id="p-1", content=Content(text=text), variants={}, account_ids=("acc-1",),
        mode=Mode.SCHEDULE, scheduled_at=NOW + timedelta(hours=1), timezone="UTC", created_by="u",
        created_at=NOW, updated_at=NOW, version=version, targets=(target,),
    )  # fmt: skip


def test_each_post_transaction_carries_a_fresh_client_request_token(monkeypatch: pytest.MonkeyPatch) -> None:
    with main_table_in_moto(monkeypatch, "test-main"):
        from chorus.store.models import MainItem

        tokens: list[str] = []

        def seen(params: dict[str, Any], **_: Any) -> None:
            tokens.append(params.get("ClientRequestToken", ""))

        events = MainItem._get_connection().connection.client.meta.events
        events.register("before-parameter-build.dynamodb.TransactWriteItems", seen)
        first = post()
        create_posts([first])
        edited = post(version=2, text="Hello again")
        replace_post(first, edited, [(first.targets[0], edited.targets[0])])
        assert get_post("ws-1", "p-1", consistent=True).content.text == "Hello again"
    assert len(tokens) == 2
    assert all(len(t) == 32 for t in tokens)
    assert tokens[0] != tokens[1]
