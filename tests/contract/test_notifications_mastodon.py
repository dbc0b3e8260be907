"""Contract: Mastodon mention polling (``GET /api/v1/notifications``) and parsing.

The parse tests use a real server response recorded by Mastodon.py and the docs example (whose
``// ...`` elisions are stripped); the fetch tests replay documented responses with ``responses``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.platforms.base import AuthError, RateLimited
from chorus.platforms.mastodon.notifications import fetch_notifications, html_to_text, parse_notifications
from chorus.platforms.webhooks import MalformedWebhook
from tests.support import fixture_bytes, fixture_json

BASE = "https://mastodon.example"
URL = f"{BASE}/api/v1/notifications"
RECORDED: dict[str, Any] = fixture_json("webhooks/mastodon/notification_mention_mastodonpy.json")
OUR_ACCOUNT = "117020565966271181"  # mastodonpy_test, the mentioned account


def docs_example() -> dict[str, Any]:
    text = fixture_bytes("webhooks/mastodon/notification_mention_docs.jsonc").decode()
    text = re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))  # type: ignore[no-any-return]


# --- parse -----------------------------------------------------------------------------------------


def test_a_recorded_mention_becomes_a_mention_with_plain_text() -> None:
    result = parse_notifications([RECORDED], OUR_ACCOUNT)
    assert result.ignored == ()
    (message,) = result.events
    assert isinstance(message, InboundMessage)
    assert message.platform == "mastodon"
    assert message.kind is MessageKind.MENTION
    assert message.account_ref == OUR_ACCOUNT
    assert message.platform_message_id == "117020576916218297"  # the status id (what a reply targets)
    assert message.conversation_ref == "117020576916218297"
    assert message.text == "@mastodonpy_test hello!"
    assert (message.author_id, message.author_handle, message.author_name) == (
        "117020565693913441",
        "admin",
        None,
    )
    assert message.parent_ref is None
    assert message.created_at == datetime(2026, 8, 1, 13, 51, 39, 138000, tzinfo=UTC)


def test_the_docs_mention_answering_our_status_is_a_reply_even_with_fields_elided() -> None:
    (message,) = parse_notifications([docs_example()], "14715").events
    assert isinstance(message, InboundMessage)
    assert message.kind is MessageKind.REPLY
    assert message.parent_ref == message.post_ref == message.conversation_ref == "103186038209478945"
    assert (message.author_id, message.author_handle) == ("971724", "zsc")
    assert message.text == ""  # content elided: no crash


def test_a_direct_mention_is_a_dm_and_other_notification_types_are_ignored() -> None:
    direct = json.loads(json.dumps(RECORDED))
    direct["status"]["visibility"] = "direct"
    favourite = {"id": "21", "type": "favourite", "created_at": "2026-08-01T13:51:39.668Z"}
    follow = {"id": "22", "type": "follow"}
    gone = {"id": "23", "type": "mention", "status": None}
    result = parse_notifications([direct, favourite, follow, gone], OUR_ACCOUNT)
    (message,) = result.events
    assert isinstance(message, InboundMessage)
    assert (message.kind, message.conversation_ref) == (MessageKind.DM, "117020565693913441")
    assert result.ignored == ("favourite", "follow", "status_deleted")


def test_content_warnings_and_media_are_kept() -> None:
    status = json.loads(json.dumps(RECORDED))
    status["status"]["spoiler_text"] = "spoilers"
    status["status"]["media_attachments"] = [{"type": "gifv", "url": "https://files.example/a.mp4"}]
    (message,) = parse_notifications([status], OUR_ACCOUNT).events
    assert isinstance(message, InboundMessage)
    assert message.text == "[CW: spoilers]\n@mastodonpy_test hello!"
    assert [(m.type, m.url) for m in message.media] == [("video", "https://files.example/a.mp4")]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>one</p><p>two<br>three</p>", "one\n\ntwo\nthree"),
        ("<p>a &amp; b &lt;3</p>", "a & b <3"),
        (
            '<p><a href="https://example.com/long/path"><span class="invisible">https://</span>'
            '<span class="ellipsis">example.com/lo</span><span class="invisible">ng/path</span></a></p>',
            "https://example.com/long/path",
        ),
    ],
)
def test_status_html_becomes_plain_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_a_mention_without_a_status_id_is_malformed() -> None:
    broken = json.loads(json.dumps(RECORDED))
    del broken["status"]["id"]
    with pytest.raises(MalformedWebhook, match=r"notifications\[0\]\.status\.id"):
        parse_notifications([broken], OUR_ACCOUNT)


# --- fetch -----------------------------------------------------------------------------------------


def note(n: int) -> dict[str, Any]:
    item = json.loads(json.dumps(RECORDED))
    item["id"] = str(n)
    item["status"]["id"] = str(10_000 + n)
    return item


def link(min_id: int, max_id: int) -> dict[str, str]:
    return {
        "Link": f'<{URL}?max_id={max_id}&types[]=mention>; rel="next", '
        f'<{URL}?min_id={min_id}&types[]=mention>; rel="prev"'
    }


@responses.activate
def test_the_first_poll_reads_one_page_of_mentions_with_the_bearer_token() -> None:
    responses.get(
        URL,
        json=[note(12), note(11)],
        headers=link(12, 11),
        match=[
            matchers.query_param_matcher({"types[]": "mention", "limit": "40"}),
            matchers.header_matcher({"Authorization": "Bearer tok"}),
        ],
    )
    items, newest = fetch_notifications(requests.Session(), BASE + "/", "tok", None)
    assert [i["id"] for i in items] == ["11", "12"]
    assert newest == "12"
    assert len(responses.calls) == 1  # no history back-fill


@responses.activate
def test_polling_from_a_marker_follows_prev_links_until_no_gap_remains() -> None:
    # Given 60 new mentions after id 100: the first min_id page holds 101..140, the next 141..160
    responses.get(
        URL,
        json=[note(n) for n in range(140, 100, -1)],
        headers=link(140, 101),
        match=[matchers.query_param_matcher({"types[]": "mention", "limit": "40", "min_id": "100"})],
    )
    responses.get(
        URL,
        json=[note(n) for n in range(160, 140, -1)],
        headers=link(160, 141),
        match=[matchers.query_param_matcher({"types[]": "mention", "min_id": "140"})],
    )
    responses.get(URL, json=[], match=[matchers.query_param_matcher({"types[]": "mention", "min_id": "160"})])
    # When polled from the stored marker
    items, newest = fetch_notifications(requests.Session(), BASE, "tok", "100")
    # Then every mention arrives once, oldest first, and the marker moves to the newest
    assert [i["id"] for i in items] == [str(n) for n in range(101, 161)]
    assert newest == "160"
    assert len(responses.calls) == 3


@responses.activate
def test_nothing_new_keeps_the_marker() -> None:
    responses.get(URL, json=[])
    assert fetch_notifications(requests.Session(), BASE, "tok", "100") == ([], "100")


@responses.activate
def test_a_link_to_another_host_is_not_followed() -> None:
    responses.get(
        URL,
        json=[note(101)],
        headers={"Link": '<https://evil.example/api/v1/notifications?min_id=101>; rel="prev"'},
    )
    items, newest = fetch_notifications(requests.Session(), BASE, "tok", "100")
    assert ([i["id"] for i in items], newest) == (["101"], "101")
    assert len(responses.calls) == 1


@responses.activate
def test_platform_errors_are_translated() -> None:
    responses.get(URL, status=401, json={"error": "The access token is invalid"})
    with pytest.raises(AuthError):
        fetch_notifications(requests.Session(), BASE, "tok", None)
    responses.replace(
        responses.GET, URL, status=429, json={"error": "Too many requests"}, headers={"Retry-After": "30"}
    )
    with pytest.raises(RateLimited):
        fetch_notifications(requests.Session(), BASE, "tok", None)
