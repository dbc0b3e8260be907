"""Every list route answers a bounded page and a cursor to the next: no request reads a whole workspace."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.integration.harness import Chorus

# route -> the answer's list
LISTS = {
    "/accounts": "accounts",
    "/keys": "keys",
    "/monitors": "monitors",
    "/saved_replies": "saved_replies",
    "/posts": "posts",
    "/incidents": "incidents",
    "/listening/mentions": "mentions",
}


@pytest.fixture(scope="module")
def filled(chorus: Chorus) -> str:
    """A workspace with three of each: accounts, keys (the owner's and two), monitors, saved replies, posts."""
    _, key = chorus.workspace("Pages")
    accounts = [chorus.sandbox_account(key, f"pages-{n}") for n in range(3)]
    for n in range(2):
        assert chorus.call("POST", "/keys", key, json={"name": f"k{n}", "role": "viewer"}).status_code == 201
    for n in range(3):
        made = [
            chorus.call(
                "POST", "/monitors", key, json={"name": f"m{n}", "kind": "keyword", "terms": [f"term{n}"]}
            ),
            chorus.call("POST", "/saved_replies", key, json={"title": f"t{n}", "text": "thanks"}),
            chorus.call(
                "POST",
                "/posts",
                key,
                json={"text": f"post {n}", "accounts": [accounts[n]], "mode": "draft"},
            ),
        ]
        assert all(m.status_code == 201 for m in made), [m.text for m in made]
    return key


def every_page(chorus: Chorus, key: str, path: str, name: str, limit: int) -> list[list[Any]]:
    pages: list[list[Any]] = []
    cursor: str | None = None
    while len(pages) < 10:
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        answer = chorus.call("GET", path, key, params=params)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json()[name])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError(f"{path} never stopped paging")


@pytest.mark.parametrize("path", ["/accounts", "/keys", "/monitors", "/saved_replies", "/posts"])
def test_a_list_is_read_a_page_at_a_time_and_the_cursor_reaches_every_item(
    chorus: Chorus, filled: str, path: str
) -> None:
    # Given three items, when read two at a time
    pages = every_page(chorus, filled, path, LISTS[path], limit=2)
    # Then no page holds more than two, and the pages together hold the three, once each
    assert all(len(page) <= 2 for page in pages)
    assert len(pages[0]) == 2
    every = [json.dumps(item, sort_keys=True) for page in pages for item in page]
    assert len(every) == len(set(every)) == 3
    whole = chorus.call("GET", path, filled).json()
    assert whole["next_cursor"] is None
    assert sorted(every) == sorted(json.dumps(i, sort_keys=True) for i in whole[LISTS[path]])


@pytest.mark.parametrize("path", sorted(LISTS))
@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_a_limit_outside_1_to_100_is_a_422_naming_limit(
    chorus: Chorus, filled: str, path: str, limit: str
) -> None:
    answer = chorus.call("GET", path, filled, params={"limit": limit})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "limit"


def b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", [*sorted(LISTS), "/listening/series"])
@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "%%%",
        b64([1, 2]),
        b64({"pk": {"S": "WS#someone-else"}, "sk": {"S": "ACCOUNT#x"}}),
        b64({"pk": {"N": "1"}}),
        "A" * 5000,
    ],
    ids=["text", "symbols", "array", "other-workspace", "wrong-type", "long"],
)
def test_a_cursor_this_api_did_not_give_is_a_400_naming_cursor(
    chorus: Chorus, filled: str, path: str, cursor: str
) -> None:
    answer = chorus.call("GET", path, filled, params={"cursor": cursor})
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["field"] == "cursor"


def test_a_cursor_of_another_workspace_is_refused(chorus: Chorus, filled: str) -> None:
    # Given a cursor into workspace A's accounts
    cursor = chorus.call("GET", "/accounts", filled, params={"limit": "1"}).json()["next_cursor"]
    assert cursor
    # When workspace B sends it
    _, other = chorus.workspace("Other")
    answer = chorus.call("GET", "/accounts", other, params={"cursor": cursor})
    # Then it reads nothing of A's
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "cursor"


def test_the_mention_series_is_bounded_too(chorus: Chorus, filled: str) -> None:
    # a week of 5-minute windows at most in one answer
    assert chorus.call("GET", "/listening/series", filled, params={"limit": "2017"}).status_code == 422
    answer = chorus.call("GET", "/listening/series", filled, params={"limit": "2016"})
    assert answer.status_code == 200
    assert answer.json()["next_cursor"] is None
    reversed_range = {"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
    assert chorus.call("GET", "/listening/series", filled, params=reversed_range).status_code == 422
