"""Contract: Bluesky listening via ``app.bsky.feed.searchPosts``.

Responses: the postViews are the AppView's own (``metrics/bluesky_getPosts_appview_snapshot.json``,
the ``app.bsky.feed.defs#postView`` shape searchPosts returns too). The parse test uses them byte for
byte; the paging tests build ``{posts, cursor}`` bodies (searchPosts' output per its lexicon) from a
copy of the first postView with only ``uri``, ``cid``, ``indexedAt``, ``record.createdAt`` and
``record.text`` changed, so each post has its own time.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from chorus.listening.monitors import Monitor
from chorus.platforms.base import PermanentError, RateLimited
from chorus.platforms.bluesky.search import monitor_queries, parse_post, post_url, search_posts, sort_at
from tests.support import fixture_json

BASE = "https://appview.example"
URL = f"{BASE}/xrpc/app.bsky.feed.searchPosts"
SNAPSHOT: dict[str, Any] = fixture_json("metrics/bluesky_getPosts_appview_snapshot.json")
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post(rkey: str, minutes: float, text: str = "acme is down", indexed_delay: float = 0.0) -> dict[str, Any]:
    view = copy.deepcopy(SNAPSHOT["posts"][0])
    created = T0 + timedelta(minutes=minutes)
    view["uri"] = f"at://{DID}/app.bsky.feed.post/{rkey}"
    view["cid"] = f"bafy{rkey}"
    view["indexedAt"] = stamp(created + timedelta(minutes=indexed_delay))
    view["record"]["createdAt"] = stamp(created)
    view["record"]["text"] = text
    view["record"]["langs"] = ["en"]
    return view


def page(*views: dict[str, Any], cursor: str | None = "more") -> dict[str, Any]:
    body: dict[str, Any] = {"posts": list(views)}
    if cursor:
        body["cursor"] = cursor
    return body


def params_of(call_index: int) -> dict[str, list[str]]:
    return parse_qs(urlsplit(responses.calls[call_index].request.url or "").query)


def ids(result: Any) -> list[str]:
    return [m.platform_id.rsplit("/", 1)[-1] for m in result.mentions]


# --- parsing ---------------------------------------------------------------------------------------


def test_an_appview_post_view_becomes_a_mention() -> None:
    first = parse_post(SNAPSHOT["posts"][0])
    assert first.platform == "bluesky"
    assert first.platform_id == "record(0)"
    assert (first.author_id, first.author_handle) == ("user(0)", "alice.test")
    assert first.text == "hey there"
    assert first.created_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert first.url is None  # placeholder uri of the snapshot: no link can be made
    assert all(parse_post(v).author_id for v in SNAPSHOT["posts"])


def test_a_post_url_is_the_bsky_app_link() -> None:
    assert post_url(f"at://{DID}/app.bsky.feed.post/3k2a", "alice.test") == (
        "https://bsky.app/profile/alice.test/post/3k2a"
    )
    assert (
        post_url(f"at://{DID}/app.bsky.feed.post/3k2a", None) == f"https://bsky.app/profile/{DID}/post/3k2a"
    )
    assert post_url(f"at://{DID}/app.bsky.feed.like/3k2a", "a") is None


def test_sort_at_is_the_earlier_of_created_and_indexed() -> None:
    late = post("a", 0, indexed_delay=5)
    assert sort_at(late) == T0
    backdated_future = post("b", 10, indexed_delay=-3)
    assert sort_at(backdated_future) == T0 + timedelta(minutes=7)


# --- polling ---------------------------------------------------------------------------------------


@responses.activate
def test_the_first_poll_reads_only_the_newest_page_and_the_documented_params() -> None:
    # Given a search answering two posts and a cursor
    responses.get(URL, json=page(post("p2", 2), post("p1", 1)))
    # When the first poll runs
    result = search_posts("acme", session=None, base_url=BASE, lang="en")
    # Then one request with q, sort=latest, limit and lang (no since: no back-fill), oldest first
    assert len(responses.calls) == 1
    assert params_of(0) == {"q": ["acme"], "sort": ["latest"], "limit": ["100"], "lang": ["en"]}
    assert "Authorization" not in responses.calls[0].request.headers
    assert ids(result) == ["p1", "p2"]
    assert result.mentions[0].url == "https://bsky.app/profile/alice.test/post/p1"
    assert result.mentions[0].lang == "en"
    assert result.complete is True
    # And the cursor listens from the newest post minus the overlap
    assert json.loads(result.cursor or "")["lower"] == stamp(T0 + timedelta(minutes=0))


@responses.activate
def test_the_next_poll_continues_from_the_cursor_without_duplicates() -> None:
    responses.get(URL, json=page(post("p2", 2), post("p1", 1)))
    first = search_posts("acme", base_url=BASE)
    # When the next poll sees the overlap again (p2) plus two new posts
    responses.get(URL, json=page(post("p4", 4), post("p3", 3), post("p2", 2), cursor=None))
    second = search_posts("acme", first.cursor, base_url=BASE)
    # Then it asked since the stored lower bound and returns only the new posts
    assert params_of(1)["since"] == [stamp(T0)]
    assert ids(second) == ["p3", "p4"]
    assert second.complete is True


@responses.activate
def test_a_poll_stopped_by_its_page_limit_continues_where_it_stopped() -> None:
    # Given a cursor after p1 (lower = 1 min - 2 min overlap)
    responses.get(URL, json=page(post("p1", 1), cursor=None))
    start = search_posts("acme", base_url=BASE)
    # When six new posts arrive and a poll may read one page of two
    responses.get(URL, json=page(post("p7", 7), post("p6", 6)))
    cut = search_posts("acme", start.cursor, base_url=BASE, limit=2, max_pages=1)
    # Then it returns the newest page, says it is incomplete, and remembers where it stopped
    assert ids(cut) == ["p6", "p7"]
    assert cut.complete is False
    stored = json.loads(cut.cursor or "")
    assert stored["upper"] == stamp(T0 + timedelta(minutes=6, milliseconds=1))
    # When the next polls run, they page down with until (not the cursor) to the old lower bound
    responses.get(URL, json=page(post("p6", 6), post("p5", 5)))
    responses.get(URL, json=page(post("p4", 4), post("p3", 3)))
    responses.get(URL, json=page(post("p2", 2), post("p1", 1), cursor=None))
    rest = search_posts("acme", cut.cursor, base_url=BASE, limit=2, max_pages=5)
    assert params_of(2)["until"] == [stored["upper"]]
    assert params_of(2)["since"] == [stored["lower"]]
    assert "cursor" not in params_of(2)
    assert params_of(3)["until"] == [stamp(T0 + timedelta(minutes=5, milliseconds=1))]
    assert ids(rest) == ["p2", "p3", "p4", "p5"]
    assert rest.complete is True
    # And the round done, the next fresh poll starts after the newest post of the cut round
    responses.get(URL, json=page(post("p8", 8), post("p7", 7), cursor=None))
    after = search_posts("acme", rest.cursor, base_url=BASE, limit=2)
    assert params_of(5)["since"] == [stamp(T0 + timedelta(minutes=5))]
    assert "until" not in params_of(5)
    assert ids(after) == ["p8"]


@responses.activate
def test_a_first_poll_with_since_backfills_every_page() -> None:
    responses.get(URL, json=page(post("p3", 3), post("p2", 2)))
    responses.get(URL, json=page(post("p1", 1), cursor=None))
    result = search_posts("acme", base_url=BASE, since=T0, limit=2)
    assert params_of(0)["since"] == [stamp(T0)]
    assert ids(result) == ["p1", "p2", "p3"]


@responses.activate
def test_nothing_found_on_the_first_poll_listens_from_now() -> None:
    responses.get(URL, json=page(cursor=None))
    now = T0 + timedelta(hours=1)
    result = search_posts("acme", base_url=BASE, now=now)
    assert result.mentions == ()
    assert json.loads(result.cursor or "")["lower"] == stamp(now - timedelta(minutes=2))


@responses.activate
def test_a_token_is_sent_as_a_bearer_header() -> None:
    responses.get(URL, json=page(cursor=None))
    search_posts("acme", base_url=BASE, token="jwt-abc")
    assert responses.calls[0].request.headers["Authorization"] == "Bearer jwt-abc"


@responses.activate
def test_rate_limiting_raises_rate_limited_with_the_reset_time() -> None:
    reset = int((datetime.now(UTC) + timedelta(minutes=3)).timestamp())
    responses.get(
        URL,
        status=429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"ratelimit-reset": str(reset)},
    )
    with pytest.raises(RateLimited) as exc:
        search_posts("acme", base_url=BASE)
    assert exc.value.retry_after is not None
    assert 60 < exc.value.retry_after <= 180


@responses.activate
def test_a_refused_public_search_is_a_permanent_error() -> None:
    # Built: the public AppView's HTML 403 (bluesky-social/atproto#3423) when search is disabled
    responses.get(URL, status=403, body="<html><title>403 Forbidden</title></html>", content_type="text/html")
    with pytest.raises(PermanentError) as exc:
        search_posts("acme", base_url=BASE)
    assert exc.value.status == 403


def test_a_foreign_cursor_is_refused() -> None:
    with pytest.raises(ValueError, match="Bluesky search cursor"):
        search_posts("acme", "not-json", base_url=BASE)


def test_a_monitor_becomes_one_query_per_term() -> None:
    m = Monitor(
        id="m",
        workspace_id="w",
        name="Acme",
        kind="brand",
        terms=("acme", "\u201cacme cloud\u201d", "@acmehq"),
    )
    assert monitor_queries(m) == ["acme", '"acme cloud"', "acmehq"]
    tags = Monitor(id="m", workspace_id="w", name="Acme", kind="hashtag", terms=("#acme",))
    assert monitor_queries(tags) == ["#acme"]
