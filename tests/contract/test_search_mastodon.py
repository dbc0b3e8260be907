"""Contract: Mastodon listening via the hashtag timeline, ``GET /api/v1/timelines/tag/:hashtag``.

Responses: the statuses are the documented Status entity (``metrics/mastodon_status_counts.json``,
from the Mastodon docs' example). The parse test uses it byte for byte; the paging tests build
timeline pages (a JSON array of Statuses, newest first, with ``Link`` headers as Mastodon sends them)
from copies of it with only ``id``, ``created_at`` and ``content`` changed.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from chorus.listening.monitors import Monitor
from chorus.platforms.base import AuthError, RateLimited
from chorus.platforms.mastodon.search import monitor_hashtags, parse_status, search_hashtag
from tests.support import fixture_bytes, fixture_json

BASE = "https://mastodon.example"
URL = f"{BASE}/api/v1/timelines/tag/acme"
STATUS: dict[str, Any] = fixture_json("metrics/mastodon_status_counts.json")


def status(status_id: int, text: str = "acme is down") -> dict[str, Any]:
    built = copy.deepcopy(STATUS)
    built["id"] = str(status_id)
    built["created_at"] = f"2025-06-01T12:{status_id % 60:02d}:00.000Z"
    built["content"] = (
        f'<p>{text} <a href="{BASE}/tags/acme" class="mention hashtag">#<span>acme</span></a></p>'
    )
    return built


def prev_link(min_id: int) -> dict[str, str]:
    return {
        "Link": f'<{URL}?max_id=1>; rel="next", <{URL}?min_id={min_id}>; rel="prev"',
    }


def query(call_index: int) -> dict[str, list[str]]:
    return parse_qs(urlsplit(responses.calls[call_index].request.url or "").query)


def test_the_documented_status_becomes_a_mention() -> None:
    mention = parse_status(fixture_json("metrics/mastodon_status_counts.json"))
    assert mention.platform == "mastodon"
    assert mention.platform_id == "103270115826048975"
    assert mention.url == "https://mastodon.social/@Gargron/103270115826048975"
    assert (mention.author_handle, mention.author_id) == ("Gargron", "1")
    assert mention.lang == "en"
    assert mention.created_at == datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=UTC)
    assert mention.text.startswith('"I lost my inheritance with one wrong digit on my sort code"')
    assert "theguardian.com/money/2019/dec/07" in mention.text
    assert fixture_bytes("metrics/mastodon_status_counts.json")  # the bytes are the docs' example


@responses.activate
def test_the_first_poll_reads_the_newest_page_only() -> None:
    responses.get(URL, json=[status(12), status(11)], headers=prev_link(12))
    result = search_hashtag(BASE, "#acme")
    assert len(responses.calls) == 1
    assert query(0) == {"limit": ["40"]}
    assert [m.platform_id for m in result.mentions] == ["11", "12"]
    assert result.cursor == "12"
    assert result.complete is True


@responses.activate
def test_the_next_poll_pages_forward_from_the_cursor_with_min_id() -> None:
    # Given a cursor at status 12 and three newer statuses, one page at a time
    responses.get(URL, json=[status(14), status(13)], headers=prev_link(14))
    responses.get(f"{URL}?min_id=14", json=[status(15)], headers=prev_link(15))
    responses.get(f"{URL}?min_id=15", json=[])
    # When the poll runs
    result = search_hashtag(BASE, "acme", "12", token="tok")
    # Then it asked for what is immediately newer than 12, followed rel="prev" until an empty page
    assert query(0) == {"limit": ["40"], "min_id": ["12"]}
    assert query(1) == {"min_id": ["14"]}
    assert len(responses.calls) == 3
    assert responses.calls[0].request.headers["Authorization"] == "Bearer tok"
    assert [m.platform_id for m in result.mentions] == ["13", "14", "15"]
    assert result.cursor == "15"


@responses.activate
def test_nothing_new_keeps_the_cursor() -> None:
    responses.get(URL, json=[])
    result = search_hashtag(BASE, "acme", "99")
    assert result.mentions == ()
    assert result.cursor == "99"


@responses.activate
def test_reblogs_and_statuses_at_or_before_the_cursor_are_skipped() -> None:
    boost = status(21)
    boost["reblog"] = status(5)
    responses.get(URL, json=[status(22), boost, status(20)], headers=prev_link(22))
    responses.get(f"{URL}?min_id=22", json=[])
    result = search_hashtag(BASE, "acme", "20")
    assert [m.platform_id for m in result.mentions] == ["22"]


@responses.activate
def test_a_poll_stopped_by_its_page_limit_is_gap_free() -> None:
    responses.get(URL, json=[status(14), status(13)], headers=prev_link(14))
    cut = search_hashtag(BASE, "acme", "12", max_pages=1)
    assert cut.complete is False
    assert cut.cursor == "14"  # the next poll asks min_id=14: nothing between is skipped


@responses.activate
def test_a_link_to_another_host_is_not_followed() -> None:
    responses.get(URL, json=[status(14)], headers={"Link": '<https://evil.example/x?min_id=14>; rel="prev"'})
    result = search_hashtag(BASE, "acme", "12", token="tok")
    assert len(responses.calls) == 1
    assert result.cursor == "14"


@responses.activate
def test_a_server_requiring_a_token_raises_auth_error() -> None:
    responses.get(URL, status=401, json={"error": "This API requires an authenticated user"})
    with pytest.raises(AuthError):
        search_hashtag(BASE, "acme")


@responses.activate
def test_rate_limiting_raises_rate_limited() -> None:
    responses.get(
        URL,
        status=429,
        json={"error": "Too many requests"},
        headers={"X-RateLimit-Reset": "2099-01-01T00:00:00Z"},
    )
    with pytest.raises(RateLimited) as exc:
        search_hashtag(BASE, "acme")
    assert exc.value.retry_after is not None
    assert exc.value.retry_after > 0


def test_a_monitor_follows_its_one_word_terms_and_hashtags() -> None:
    brand = Monitor(
        id="m",
        workspace_id="w",
        name="Acme",
        kind="brand",
        terms=("acme", '"acme cloud"', "@acmehq", "#AcmeFail"),
    )
    assert monitor_hashtags(brand) == ["acme", "AcmeFail"]
    tags = Monitor(id="m", workspace_id="w", name="Acme", kind="hashtag", terms=("Acme", "acme_outage"))
    assert monitor_hashtags(tags) == ["Acme", "acme_outage"]


def test_an_empty_hashtag_is_refused() -> None:
    with pytest.raises(ValueError, match="hashtag"):
        search_hashtag(BASE, "#")
