"""A pin goes to the board its post names (``options.pinterest.board_id``, one of the account's boards
listed at connect), else to the account's chosen board; publishing and verification use the same one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import AccountCredentials, MediaItem, PublishRequest, PublishResult, UnknownOutcome
from chorus.platforms.pinterest.publish import PinterestPublisher
from chorus.posts.validation import check_account_options, check_options
from tests.support import fixture_json

API = "https://api.pinterest.com/v5"
DEFAULT_BOARD, RECIPES = "549755885175", "549755885176"
BOARDS = json.dumps([{"id": DEFAULT_BOARD, "name": "Everything"}, {"id": RECIPES, "name": "Recipes"}])
CREDS = AccountCredentials(
    platform="pinterest",
    account_id="merleliukun",
    access_token="pina-token",
    extra={"board_id": DEFAULT_BOARD, "boards": BOARDS},
)
JPEG = MediaItem(url="https://cdn.example/pin.jpg", mime_type="image/jpeg")
NOW = datetime.now(UTC)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def pinned_to(rsps: responses.RequestsMock, board: str) -> None:
    """POST /v5/pins answers the documented 201 only for an image pin to ``board``."""
    rsps.post(
        f"{API}/pins",
        json=fixture_json("platform_api/publishing/pinterest/pins_create_response_201_docs_sample.json"),
        status=201,
        match=[
            matchers.json_params_matcher(
                {
                    "board_id": board,
                    "media_source": {"source_type": "image_url", "url": JPEG.url},
                    "description": "Tart",
                }
            )
        ],
    )


def test_a_pin_goes_to_the_board_its_post_names(rsps: responses.RequestsMock) -> None:
    pinned_to(rsps, RECIPES)
    request = PublishRequest(target_id="t", text="Tart", media=(JPEG,), options={"board_id": RECIPES})
    result = PinterestPublisher(session=requests.Session()).publish(CREDS, request)
    assert isinstance(result, PublishResult)


def test_without_a_board_of_its_own_the_pin_goes_to_the_accounts_board(rsps: responses.RequestsMock) -> None:
    pinned_to(rsps, DEFAULT_BOARD)
    request = PublishRequest(target_id="t", text="Tart", media=(JPEG,))
    assert isinstance(PinterestPublisher(session=requests.Session()).publish(CREDS, request), PublishResult)


def test_a_lost_answer_is_looked_for_on_the_posts_own_board(rsps: responses.RequestsMock) -> None:
    adapter = PinterestPublisher(session=requests.Session())
    rsps.post(f"{API}/pins", body=requests.ReadTimeout("slow"))
    request = PublishRequest(
        target_id="t", text="Tart", media=(JPEG,), not_before=NOW, options={"board_id": RECIPES}
    )
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request)
    rsps.get(
        f"{API}/boards/{RECIPES}/pins",
        json={"items": [{"id": "7", "title": None, "description": "Tart", "board_id": RECIPES, "link": None,
                         "created_at": NOW.strftime("%Y-%m-%dT%H:%M:%S")}], "bookmark": None},
    )  # fmt: skip
    assert adapter.find_published(CREDS, request) == PublishResult("7", "https://www.pinterest.com/pin/7/")


def test_a_board_that_is_not_the_accounts_is_refused_naming_the_field() -> None:
    found = check_account_options("pinterest", {"pinterest": {"board_id": "999"}}, CREDS.extra)
    assert [(v.rule, v.field) for v in found] == [("options.board", "options.pinterest.board_id")]
    assert "Recipes (549755885176)" in found[0].message
    assert check_account_options("pinterest", {"pinterest": {"board_id": RECIPES}}, CREDS.extra) == []
    assert check_account_options("pinterest", {}, CREDS.extra) == []  # the account's board
    assert (
        check_options("pinterest", {"pinterest": {"board_id": ""}})[0].field == "options.pinterest.board_id"
    )
    assert check_options("pinterest", {"pinterest": {"board": RECIPES}})[0].rule == "options.unknown"
