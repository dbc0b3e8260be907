"""The word diff of chorus.posts.changes and the diff of a post against its last approved version."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from chorus.posts.changes import diff, word_diff
from chorus.posts.model import Content, MediaRef, Mode, Post
from chorus.store.approvals import Approved

AT = datetime(2031, 3, 3, 9, tzinfo=UTC)


def text(runs: list, keep: str) -> str:
    return "".join(r.text for r in runs if r.op in ("same", keep))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", ""),
        ("", "new text"),
        ("old text", ""),
        ("Spring sale starts Monday", "Spring sale starts Tuesday"),
        ("a  b\n\nc", "a b\nc d"),
        ("🌷 Tulips, 50% off! #spring", "🌷 Tulips: 40% off! #spring #sale"),
        ("春の セール", "春の 大セール"),
    ],
)
def test_the_runs_give_back_both_texts(before: str, after: str) -> None:
    runs = word_diff(before, after)
    assert text(runs, "removed") == before
    assert text(runs, "added") == after
    assert all(r.text for r in runs)
    assert all(a.op != b.op for a, b in itertools.pairwise(runs))  # neighbours merged


def test_a_changed_word_is_removed_then_added_between_the_same_words() -> None:
    runs = [(r.op, r.text) for r in word_diff("Sale on Monday at noon", "Sale on Tuesday at noon")]
    assert runs == [("same", "Sale on "), ("removed", "Monday"), ("added", "Tuesday"), ("same", " at noon")]


def post(content: Content, variants: dict[str, Content], accounts: tuple[str, ...], at: datetime) -> Post:
    return Post("ws", "p1", content, variants, accounts, Mode.SCHEDULE, at, "UTC", "user:a", AT, AT, 2)


def test_accounts_media_and_time_against_the_version_approved() -> None:
    a, b = (
        MediaRef("image/jpeg", key="media/ws/a.jpg"),
        MediaRef("image/jpeg", url="https://cdn.example/b.jpg"),
    )
    approved = Approved(
        "p1", 1, "user:ed", AT, Content("hi", (a,)), {"x": Content("hi x")}, ("x", "y"), AT, "UTC"
    )
    later = datetime(2031, 3, 4, 9, tzinfo=UTC)
    found = diff(approved, post(Content("hi", (b,)), {}, ("x", "z"), later))
    assert (found.accounts_added, found.accounts_removed, found.time_moved) == (["z"], ["y"], True)
    base, x = found.contents
    assert (base.account_id, base.media_added, base.media_removed) == (None, [b], [a])
    assert x.account_id == "x"
    assert text(x.text, "removed") == "hi x"
    assert text(x.text, "added") == "hi"
    assert found.public()["contents"][0]["media_removed"][0]["name"] == "a.jpg"
    unchanged = diff(approved, post(approved.content, approved.variants, approved.account_ids, AT))
    assert unchanged.changed is False


def test_a_post_never_approved_is_all_new() -> None:
    found = diff(None, post(Content("hello", link="https://example.com"), {}, ("x",), AT))
    assert found.changed
    assert found.public()["approved"] is None
    assert [(r.op, r.text) for r in found.contents[0].text] == [("added", "hello")]
    assert found.contents[0].fields == [{"field": "link", "before": None, "after": "https://example.com"}]
    assert found.accounts_added == []
    assert found.time_moved is False


def test_a_member_limited_to_some_accounts_sees_only_theirs_in_both_versions() -> None:
    approved = Approved("p1", 1, "user:ed", AT, Content("hi"), {"x": Content("hi x"), "y": Content("hi y")},
                        ("x", "y"), AT, "UTC")  # fmt: skip
    now = post(Content("hi"), {"x": Content("hey x"), "y": Content("hey y")}, ("x", "y"), AT)
    seen = diff(approved.only(frozenset({"x"})), now.only({"x"}))
    assert [c.account_id for c in seen.contents] == [None, "x"]
    assert seen.accounts_removed == []
    assert approved.only(None) is approved
