"""chorus.posts.published: what the main table's stream does for a target that became published."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from chorus.posts import published as stream
from chorus.posts.published import became_published, on_table_changes


def target(state: str, platform_post_id: str | None = "tw-1", **more: Any) -> dict[str, Any]:
    image = {"kind": "target", "workspace_id": "ws-1", "post_id": "post-1", "account_id": "acct-1",
             "platform": "x", "state": state, "published_at": "2026-12-07T06:00:00.000000+0000", **more}  # fmt: skip
    if platform_post_id:
        image["platform_post_id"] = platform_post_id
    return image


class Recorded:
    def __init__(self) -> None:
        self.links: list[tuple[str, str, str, str]] = []
        self.followed: list[list[tuple[str, Mapping[str, Any], str]]] = []
        self.read: list[tuple[str, str | None, str]] = []

    def link(self, workspace_id: str, account_id: str, platform_post_id: str, post_id: str) -> None:
        self.links.append((workspace_id, account_id, platform_post_id, post_id))

    def follow(self, batch: Sequence[tuple[str, Mapping[str, Any], str]]) -> None:
        self.followed.append(list(batch))

    def text_of(self, workspace_id: str, post_id: str | None, account_id: str) -> str:
        self.read.append((workspace_id, post_id, account_id))
        return "As written"

    def run(self, changes: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> int:
        return on_table_changes(changes, link=self.link, follow=self.follow, text_of=self.text_of)


def test_only_the_write_that_moves_a_target_to_published_counts() -> None:
    assert became_published(target("published"), target("publishing", None))
    assert became_published(target("published", "url"), target("sent_to_inbox", "draft-1"))  # marked posted
    # a thread's root landed before the final transition: the transition still counts, once
    assert became_published(target("published", "tw-1"), target("publishing", "tw-1"))
    assert not became_published(target("published"), target("published"))  # a later write of it
    assert not became_published(target("published", None), target("publishing", None))  # no platform post
    assert not became_published(target("publishing"), target("queued", None))
    assert not became_published({"kind": "post", "state": "published", "platform_post_id": "x"}, {})


def test_a_batch_links_each_published_post_and_follows_them_in_one_call() -> None:
    seen = Recorded()
    handled = seen.run([
        ("MODIFY", target("published", "tw-1"), target("publishing", "tw-1")),
        ("MODIFY", target("published", "tw-2", account_id="acct-2"), target("publishing", None, account_id="acct-2")),
        ("MODIFY", target("published", "tw-1", error=None), target("published", "tw-1")),  # already counted
    ])  # fmt: skip
    assert handled == 2
    assert seen.links == [("ws-1", "acct-1", "tw-1", "post-1"), ("ws-1", "acct-2", "tw-2", "post-1")]
    assert len(seen.followed) == 1  # one follow for the batch: each account's entry written once
    [batch] = seen.followed
    assert [(ws, data["platform_post_id"], text) for ws, data, text in batch] == [
        ("ws-1", "tw-1", "As written"),
        ("ws-1", "tw-2", "As written"),
    ]
    assert seen.read == [("ws-1", "post-1", "acct-1"), ("ws-1", "post-1", "acct-2")]


def test_a_batch_with_nothing_published_follows_nothing_and_accounts_still_reach_the_poll_index(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tracked: list[tuple[str, Mapping[str, Any]]] = []
    monkeypatch.setattr(stream, "on_stream_record", lambda name, new, old: tracked.append((name, new)) or 1)
    account = {"kind": "account", "workspace_id": "ws-1", "account_id": "acct-9", "platform": "mastodon"}
    seen = Recorded()
    assert (
        seen.run([("INSERT", account, {}), ("MODIFY", target("failed", None), target("publishing", None))])
        == 1
    )
    assert tracked == [("INSERT", account)]
    assert seen.links == []
    assert seen.followed == []


def test_a_removed_account_is_revoked_from_its_old_image_after_the_batch_s_poll_index_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    done: list[tuple[str, str]] = []
    monkeypatch.setattr(stream, "on_stream_record", lambda name, new, old: done.append(("index", name)) or 1)
    removed = {"kind": "account", "workspace_id": "ws-1", "account_id": "acct-9", "platform": "tiktok",
               "token_blob": "sealed"}  # fmt: skip
    added = {**removed, "account_id": "acct-10"}
    changes = [
        ("REMOVE", {}, removed),
        ("INSERT", added, {}),
        ("MODIFY", target("published"), target("publishing")),
    ]
    revoked: list[Mapping[str, Any]] = []
    seen = Recorded()
    handled = on_table_changes(changes, link=seen.link, follow=seen.follow, text_of=seen.text_of,
                               revoke=lambda old: revoked.append(old) or done.append(("revoke", old["account_id"])))  # fmt: skip
    assert handled == 3
    assert revoked == [removed]  # the REMOVE's old image, once; an inserted account is not revoked
    assert done == [("index", "REMOVE"), ("index", "INSERT"), ("revoke", "acct-9")]  # the revoke comes last
