"""A post names its Pinterest board (``options.pinterest.board_id``) on the embedded runtime with the fake
Pinterest on 127.0.0.1: the pin lands on that board; a board the account does not have (the boards
listed at connect) is a 422 naming the field, before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.harness import FakePlatform
from tests.integration.harness import Chorus
from tests.integration.test_threads_pinterest import (  # noqa: F401 (the module's fixtures)
    chorus,
    connect,
    fake,
    published,
    publishing,
)

SOUPS = "2"  # the fake's second board (listed at connect)


def pin_post(chorus: Chorus, key: str, account: str, board: str) -> Any:  # noqa: F811 (chorus)
    return chorus.call("POST", "/posts", key, json={
        "text": "Pea soup", "accounts": [account], "mode": "now",
        "media": [{"mime_type": "image/jpeg", "url": "https://cdn.example/soup.jpg"}],
        "options": {"pinterest": {"board_id": board}}})  # fmt: skip


@pytest.mark.usefixtures("publishing")
def test_a_pin_goes_to_the_board_its_post_names(chorus: Chorus, fake: FakePlatform) -> None:  # noqa: F811
    _, key = chorus.workspace("Soup boards")
    [account] = connect(chorus, key, "pinterest", "pin-good").json()["accounts"]
    made = pin_post(chorus, key, account["id"], SOUPS)
    assert made.status_code == 201, made.text
    target = published(chorus, key, made.json()["id"])
    assert target["state"] == "published", target
    assert fake.records["pin"][-1]["board_id"] == SOUPS
    assert target["platform_post_id"] == fake.records["pin"][-1]["id"]


def test_a_board_the_account_does_not_have_is_a_422_naming_the_field(chorus: Chorus) -> None:  # noqa: F811
    _, key = chorus.workspace("Wrong board")
    [account] = connect(chorus, key, "pinterest", "pin-good").json()["accounts"]
    answer = pin_post(chorus, key, account["id"], "999")
    assert answer.status_code == 422, answer.text
    fields = [e["field"] for e in answer.json()["errors"]]
    assert fields == [f"accounts[{account['id']}].options.pinterest.board_id"]
    assert "Soups (2)" in answer.json()["detail"]
