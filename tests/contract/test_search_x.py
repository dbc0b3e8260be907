"""Contract: X listening via recent search, ``GET /2/tweets/search/recent``.

Responses: the tweet is the documented v2 Tweet object (``metrics/x_v2_tweet_public_metrics.json``).
Built here around it: the search envelope ``{data, includes: {users}, meta: {newest_id, oldest_id,
result_count, next_token}}`` as X documents it, the author's User object (id 2244994945, the
fixture's ``author_id``, is @TwitterDev), copies of the tweet with other ids for paging, and the
400 body X answers to a ``since_id`` older than 7 days (shape quoted in rooteco/tweetscape#421).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from chorus.errors import ValidationFailed
from chorus.listening.monitors import Monitor
from chorus.platforms.base import AuthError, RateLimited
from chorus.platforms.x.search import monitor_query, parse_tweets, search_recent
from tests.support import fixture_json

BASE = "https://api.x.test"
URL = f"{BASE}/2/tweets/search/recent"
TWEET: dict[str, Any] = fixture_json("metrics/x_v2_tweet_public_metrics.json")
USER = {"id": "2244994945", "name": "Twitter Dev", "username": "TwitterDev"}


def tweet(tweet_id: int) -> dict[str, Any]:
    built = copy.deepcopy(TWEET)
    built["id"] = str(tweet_id)
    return built


def answer(*tweet_ids: int, next_token: str | None = None) -> dict[str, Any]:
    if not tweet_ids:
        return {"meta": {"result_count": 0}}
    meta: dict[str, Any] = {
        "newest_id": str(max(tweet_ids)),
        "oldest_id": str(min(tweet_ids)),
        "result_count": len(tweet_ids),
    }
    if next_token:
        meta["next_token"] = next_token
    return {"data": [tweet(i) for i in tweet_ids], "includes": {"users": [USER]}, "meta": meta}


def query(call_index: int) -> dict[str, list[str]]:
    return parse_qs(urlsplit(responses.calls[call_index].request.url or "").query)


def ids(result: Any) -> list[str]:
    return [m.platform_id for m in result.mentions]


def test_the_documented_tweet_becomes_a_mention_with_its_authors_username() -> None:
    (mention,) = parse_tweets({"data": [TWEET], "includes": {"users": [USER]}})
    assert mention.platform == "x"
    assert mention.platform_id == "1212092628029698048"
    assert mention.url == "https://x.com/TwitterDev/status/1212092628029698048"
    assert (mention.author_id, mention.author_handle) == ("2244994945", "TwitterDev")
    assert mention.text == TWEET["text"]
    assert mention.lang == "en"
    assert mention.created_at == datetime(2019, 12, 31, 19, 26, 16, tzinfo=UTC)


def test_a_long_post_uses_its_note_tweet_text_and_an_unknown_author_gets_a_web_link() -> None:
    long_post = dict(TWEET, note_tweet={"text": "the whole long text"})
    (mention,) = parse_tweets({"data": [long_post]})
    assert mention.text == "the whole long text"
    assert mention.author_handle is None
    assert mention.url == "https://x.com/i/web/status/1212092628029698048"


@responses.activate
def test_the_first_poll_sends_the_documented_params_and_reads_one_page() -> None:
    responses.get(URL, json=answer(105, 104, next_token="older"))
    result = search_recent("acme -is:retweet", token="bearer-1", base_url=BASE)
    assert len(responses.calls) == 1
    sent = query(0)
    assert sent["query"] == ["acme -is:retweet"]
    assert sent["max_results"] == ["100"]
    assert set(sent["tweet.fields"][0].split(",")) >= {"created_at", "lang", "author_id"}
    assert sent["expansions"] == ["author_id"]
    assert "since_id" not in sent
    assert responses.calls[0].request.headers["Authorization"] == "Bearer bearer-1"
    assert ids(result) == ["104", "105"]
    assert json.loads(result.cursor or "") == {"since_id": "105"}


@responses.activate
def test_the_next_poll_follows_next_token_after_since_id() -> None:
    responses.get(URL, json=answer(110, 109, next_token="t2"))
    responses.get(URL, json=answer(108, 106))
    result = search_recent("acme", json.dumps({"since_id": "105"}), token="b", base_url=BASE)
    assert query(0)["since_id"] == ["105"]
    assert "next_token" not in query(0)
    assert query(1)["next_token"] == ["t2"]
    assert query(1)["since_id"] == ["105"]
    assert ids(result) == ["106", "108", "109", "110"]
    assert json.loads(result.cursor or "") == {"since_id": "110"}
    assert result.complete is True


@responses.activate
def test_nothing_new_keeps_the_cursor() -> None:
    responses.get(URL, json=answer())
    cursor = json.dumps({"since_id": "105"})
    result = search_recent("acme", cursor, token="b", base_url=BASE)
    assert result.mentions == ()
    assert json.loads(result.cursor or "") == {"since_id": "105"}


@responses.activate
def test_a_poll_stopped_by_its_page_limit_continues_below_where_it_stopped() -> None:
    # Given new tweets 106..110 over three pages, and polls allowed one page
    responses.get(URL, json=answer(110, 109, next_token="t2"))
    cut = search_recent("acme", json.dumps({"since_id": "105"}), token="b", base_url=BASE, max_pages=1)
    assert ids(cut) == ["109", "110"]
    assert cut.complete is False
    assert json.loads(cut.cursor or "") == {"since_id": "105", "until_id": "109", "pending": "110"}
    # When the next poll runs, it fetches between since_id and until_id first
    responses.get(URL, json=answer(108, 107, next_token="t3"))
    responses.get(URL, json=answer(106))
    rest = search_recent("acme", cut.cursor, token="b", base_url=BASE, max_pages=5)
    assert (query(1)["since_id"], query(1)["until_id"]) == (["105"], ["109"])
    assert ids(rest) == ["106", "107", "108"]
    # Then, the gap closed, it moves on from the newest tweet of the cut round
    assert json.loads(rest.cursor or "") == {"since_id": "110"}


@responses.activate
def test_rate_limiting_raises_rate_limited_with_the_reset_time() -> None:
    reset = int((datetime.now(UTC) + timedelta(minutes=15)).timestamp())
    responses.get(
        URL,
        status=429,
        json={
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    with pytest.raises(RateLimited) as exc:
        search_recent("acme", token="b", base_url=BASE)
    assert exc.value.retry_after is not None
    assert 800 < exc.value.retry_after <= 900


@responses.activate
def test_a_bad_token_raises_auth_error() -> None:
    responses.get(
        URL,
        status=401,
        json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    )
    with pytest.raises(AuthError):
        search_recent("acme", token="expired", base_url=BASE)


@responses.activate
def test_a_since_id_older_than_seven_days_restarts_from_the_newest_page() -> None:
    responses.get(
        URL,
        status=400,
        json={
            "errors": [
                {
                    "parameters": {"since_id": ["1519056945277198339"]},
                    "message": "Invalid 'since_id':'1519056945277198339'. "
                    "'since_id' must be a tweet ID created after 2022-05-03T00:00Z.",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )
    responses.get(URL, json=answer(2000, 1999, next_token="older"))
    result = search_recent("acme", json.dumps({"since_id": "1519056945277198339"}), token="b", base_url=BASE)
    assert "since_id" not in query(1)
    assert ids(result) == ["1999", "2000"]
    assert json.loads(result.cursor or "") == {"since_id": "2000"}


def test_a_foreign_cursor_is_refused() -> None:
    with pytest.raises(ValueError, match="X search cursor"):
        search_recent("acme", '{"since_id": "abc"}', token="b", base_url=BASE)


def test_a_monitor_becomes_one_query_with_or_exclusions_and_languages() -> None:
    m = Monitor(
        id="m",
        workspace_id="w",
        name="Acme",
        kind="brand",
        terms=("acme", "\u201cacme cloud\u201d", "@acmehq", "acme refund"),
        exclude=("anvil", '"wile e"'),
        languages=("en", "zh"),
    )
    assert monitor_query(m) == (
        '(acme OR "acme cloud" OR @acmehq OR (acme refund)) -anvil -"wile e" (lang:en OR lang:zh) -is:retweet'
    )
    tags = Monitor(id="m", workspace_id="w", name="Acme", kind="hashtag", terms=("acmefail",))
    assert monitor_query(tags, include_retweets=True) == "#acmefail"


def test_a_query_longer_than_x_allows_is_refused_on_terms() -> None:
    m = Monitor(
        id="m",
        workspace_id="w",
        name="Acme",
        kind="keyword",
        terms=tuple(f"term{i:03d}word" for i in range(45)),
    )
    with pytest.raises(ValidationFailed) as exc:
        monitor_query(m)
    assert exc.value.errors[0].field == "terms"
