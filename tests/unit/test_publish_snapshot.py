"""The publisher's one read: the target and the post strongly consistent (a message sent right after an
edit must find the edit), the account and the workspace eventually consistent (half the read units)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.posts.model import Target, TargetState
from chorus.store import keys, models
from chorus.store import posts as repo
from chorus.store.models import AccountItem, WorkspaceItem
from tests.support import main_table_in_moto

WS, POST, ACCOUNT = "ws-snap", "p-1", "acct-1"
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with main_table_in_moto(monkeypatch, "snapshot"):
        yield


def batch_gets() -> list[dict[str, Any]]:
    """What each BatchGetItem asks: its keys' sort keys and whether it reads consistently."""
    asked: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        for wanted in params["RequestItems"].values():
            asked.append(
                {
                    "sks": sorted(k["sk"]["S"] for k in wanted["Keys"]),
                    "consistent": wanted.get("ConsistentRead"),
                }
            )

    models.connection().client.meta.events.register("provide-client-params.dynamodb.BatchGetItem", record)
    return asked


def test_target_and_post_are_read_consistently_the_account_and_workspace_eventually(table: None) -> None:
    repo.target_item(Target(WS, POST, ACCOUNT, "sandbox", TargetState.SCHEDULED, T0)).save()
    pk = keys.workspace_pk(WS)
    AccountItem(pk, keys.account_sk(ACCOUNT), workspace_id=WS, account_id=ACCOUNT, platform="sandbox",
                platform_account_id="ref", status="active", created_at=T0).save()  # fmt: skip
    WorkspaceItem(pk, keys.workspace_meta_sk(), workspace_id=WS, name="Snap", created_at=T0).save()
    asked = batch_gets()
    # When the publisher reads its snapshot (the post item is gone: a deleted post)
    found = repo.publish_snapshot(WS, POST, ACCOUNT)
    # Then it read the target (and asked for the post) consistently, then the rest eventually (the
    # default: no ConsistentRead)
    assert found["target"].id == f"{POST}.{ACCOUNT}"
    assert "post" not in found
    assert found["account"].account_id == ACCOUNT
    assert found["workspace"].name == "Snap"
    assert asked == [
        {"sks": sorted([keys.target_sk(POST, ACCOUNT), keys.post_sk(POST)]), "consistent": True},
        {"sks": sorted([keys.account_sk(ACCOUNT), keys.workspace_meta_sk()]), "consistent": None},
    ]


def test_a_message_whose_target_is_gone_reads_nothing_more(table: None) -> None:
    asked = batch_gets()
    assert repo.publish_snapshot(WS, POST, ACCOUNT) == {}
    assert len(asked) == 1
