"""Contract: Bluesky ``app.bsky.notification.listNotifications`` polling and parsing.

Bluesky publishes no concrete listNotifications response with real ids. The tests use (1) the
AppView's own test snapshots (placeholder ids such as ``record(8)``), converted from vitest's format
to JSON by dropping trailing commas, and (2) realistic responses built here from the lexicon's
required fields and the docs' reply record, with made-up DIDs, AT-URIs and CIDs.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.platforms.base import AuthError
from chorus.platforms.bluesky.notifications import ENDPOINT, fetch_notifications, parse_notifications
from chorus.platforms.webhooks import MalformedWebhook
from tests.support import fixture_bytes, fixture_json

LEXICON = fixture_json("webhooks/bluesky/lexicon_app.bsky.notification.listNotifications.json")
POST_LEXICON = fixture_json("webhooks/bluesky/lexicon_app.bsky.feed.post.json")
REPLY_RECORD: dict[str, Any] = fixture_json("webhooks/bluesky/reply_post_record_docs.json")
OUR_DID = "did:plc:u5cwb2mwiv2bfq53cjufe6yn"  # owner of the root post in the docs' reply record
BASE = "https://pds.example"


def snapshot_notifications() -> list[dict[str, Any]]:
    text = fixture_bytes("webhooks/bluesky/listNotifications_appview_snapshot.snap.txt").decode()
    found: list[dict[str, Any]] = []
    for _name, block in re.findall(r"exports\[`(.*?)`\] = `\n?(.*?)\n?`;", text, re.DOTALL):
        data = json.loads(re.sub(r",(\s*[}\]])", r"\1", block))
        found.extend(data["notifications"] if isinstance(data, dict) else data)
    return found


def view(
    reason: str, uri: str, record: dict[str, Any], indexed_at: str = "2023-08-07T05:49:41.000Z"
) -> dict[str, Any]:
    """A notification view with every field the lexicon requires."""
    return {
        "uri": uri,
        "cid": "bafyreihdw3r6o7rcyokgpnw5ynhnvuqhwhifbibzv3xo7y3wdjd6vkxe7m",
        "author": {
            "did": "did:plc:replier7k4ttfeakmysh2vkch",
            "handle": "replier.bsky.social",
            "displayName": "Rae",
        },
        "reason": reason,
        "record": record,
        "isRead": False,
        "indexedAt": indexed_at,
        "labels": [],
    }


def reply_view(n: int = 1, indexed_at: str = "2023-08-07T05:49:41.000Z") -> dict[str, Any]:
    return view(
        "reply",
        f"at://did:plc:replier7k4ttfeakmysh2vkch/app.bsky.feed.post/3k43tv4rft2{n:03d}",
        REPLY_RECORD,
        indexed_at,
    )


# --- parse -----------------------------------------------------------------------------------------


def test_the_sample_views_carry_every_field_the_lexicon_requires() -> None:
    required = set(LEXICON["defs"]["notification"]["required"])
    assert required <= set(reply_view())
    assert set(POST_LEXICON["defs"]["main"]["record"]["required"]) <= set(REPLY_RECORD)
    assert {"reply", "mention", "quote", "like", "repost", "follow"} <= set(
        LEXICON["defs"]["notification"]["properties"]["reason"]["knownValues"]
    )


def test_a_reply_is_a_reply_threaded_on_the_root_post() -> None:
    (message,) = parse_notifications([reply_view()], OUR_DID).events
    assert isinstance(message, InboundMessage)
    assert message.platform == "bluesky"
    assert message.kind is MessageKind.REPLY
    assert (
        message.platform_message_id
        == "at://did:plc:replier7k4ttfeakmysh2vkch/app.bsky.feed.post/3k43tv4rft2001"
    )
    assert message.text == "example of a reply"
    assert message.parent_ref == REPLY_RECORD["reply"]["parent"]["uri"]
    assert message.post_ref == message.conversation_ref == REPLY_RECORD["reply"]["root"]["uri"]
    assert (message.author_id, message.author_handle, message.author_name) == (
        "did:plc:replier7k4ttfeakmysh2vkch",
        "replier.bsky.social",
        "Rae",
    )
    assert message.created_at == datetime(2023, 8, 7, 5, 49, 40, 501974, tzinfo=UTC)  # record.createdAt


def test_a_mention_is_a_mention_and_a_quote_is_a_mention_of_the_quoted_post() -> None:
    mention = view(
        "mention",
        "at://did:plc:x/app.bsky.feed.post/1",
        {"text": "hey @us", "createdAt": "2024-05-01T10:00:00Z"},
    )
    quoted = f"at://{OUR_DID}/app.bsky.feed.post/3k43tv4rft22g"
    quote_record = {
        "text": "look at this",
        "createdAt": "2024-05-01T10:00:00Z",
        "embed": {
            "$type": "app.bsky.embed.recordWithMedia",
            "record": {"record": {"uri": quoted, "cid": "bafy"}},
            "media": {},
        },
    }
    quote = view("quote", "at://did:plc:x/app.bsky.feed.post/2", quote_record)
    first, second = parse_notifications([mention, quote], OUR_DID).events
    assert isinstance(first, InboundMessage)
    assert isinstance(second, InboundMessage)
    assert (first.kind, first.conversation_ref, first.post_ref) == (
        MessageKind.MENTION,
        "at://did:plc:x/app.bsky.feed.post/1",
        None,
    )
    assert (second.kind, second.post_ref, second.parent_ref, second.text) == (
        MessageKind.MENTION,
        quoted,
        quoted,
        "look at this",
    )


def test_every_appview_snapshot_notification_is_a_message_or_rightly_ignored() -> None:
    # Given all 66 notification views from the AppView's own snapshot tests
    items = snapshot_notifications()
    # When parsed
    result = parse_notifications(items, "user(0)")
    # Then replies, mentions and quotes are messages; likes, reposts, follows... are ignored
    reasons = Counter(i["reason"] for i in items)
    kinds = Counter(e.kind for e in result.events if isinstance(e, InboundMessage))
    assert kinds[MessageKind.REPLY] == reasons["reply"] == 9
    assert kinds[MessageKind.MENTION] == reasons["mention"] + reasons["quote"] == 5
    assert Counter(result.ignored) == Counter(
        {r: c for r, c in reasons.items() if r not in ("reply", "mention", "quote")}
    )


def test_a_snapshot_reply_keeps_its_parent_root_and_text() -> None:
    replies = [i for i in snapshot_notifications() if i["reason"] == "reply" and i["uri"] == "record(8)"]
    (message,) = parse_notifications(replies[:1], "user(2)").events
    assert isinstance(message, InboundMessage)
    assert (message.text, message.parent_ref, message.post_ref, message.author_handle) == (
        "indeed",
        "record(2)",
        "record(4)",
        "carol.test",
    )


def test_a_reply_without_an_author_did_is_malformed() -> None:
    broken = reply_view()
    broken["author"] = {"handle": "x"}
    with pytest.raises(MalformedWebhook, match=r"notifications\[0\]\.author\.did"):
        parse_notifications([broken], OUR_DID)


# --- fetch -----------------------------------------------------------------------------------------

PARAMS = [("limit", "50"), ("reasons", "reply"), ("reasons", "mention"), ("reasons", "quote")]


def query(*extra: tuple[str, str]) -> Any:
    wanted: dict[str, Any] = {"limit": "50", "reasons": ["reply", "mention", "quote"]}
    wanted.update(dict(extra))
    return matchers.query_param_matcher(wanted)


@responses.activate
def test_the_first_poll_reads_one_page_with_the_inbox_reasons_and_the_token() -> None:
    responses.get(
        BASE + ENDPOINT,
        json={
            "notifications": [reply_view(2, "2024-05-01T10:00:02Z"), reply_view(1, "2024-05-01T10:00:01Z")],
            "cursor": "c1",
        },
        match=[query(), matchers.header_matcher({"Authorization": "Bearer jwt"})],
    )
    items, newest = fetch_notifications(requests.Session(), BASE, "jwt", None)
    assert [i["uri"][-3:] for i in items] == ["001", "002"]
    assert newest == "2024-05-01T10:00:02Z"
    assert len(responses.calls) == 1


@responses.activate
def test_polling_pages_back_with_the_cursor_until_it_reaches_the_marker() -> None:
    # Given three new replies across two pages, then one the last poll already saw
    responses.get(
        BASE + ENDPOINT,
        json={
            "notifications": [reply_view(4, "2024-05-01T10:00:04Z"), reply_view(3, "2024-05-01T10:00:03Z")],
            "cursor": "c1",
        },
        match=[query()],
    )
    responses.get(
        BASE + ENDPOINT,
        json={
            "notifications": [reply_view(2, "2024-05-01T10:00:02Z"), reply_view(1, "2024-05-01T09:00:00Z")],
            "cursor": "c2",
        },
        match=[query(("cursor", "c1"))],
    )
    # When polled from the marker
    items, newest = fetch_notifications(requests.Session(), BASE, "jwt", "2024-05-01T10:00:00Z")
    # Then the new ones arrive oldest first, the old one is left out and paging stops there
    assert [i["uri"][-3:] for i in items] == ["002", "003", "004"]
    assert newest == "2024-05-01T10:00:04Z"
    assert len(responses.calls) == 2


@responses.activate
def test_paging_stops_when_the_cursor_runs_out_and_an_empty_poll_keeps_the_marker() -> None:
    responses.get(BASE + ENDPOINT, json={"notifications": []})
    assert fetch_notifications(requests.Session(), BASE, "jwt", "2024-05-01T10:00:00Z") == (
        [],
        "2024-05-01T10:00:00Z",
    )


@responses.activate
def test_an_expired_token_is_an_auth_error_and_a_body_without_notifications_is_malformed() -> None:
    responses.get(BASE + ENDPOINT, status=401, json={"error": "ExpiredToken", "message": "Token has expired"})
    with pytest.raises(AuthError):
        fetch_notifications(requests.Session(), BASE, "jwt", None)
    responses.replace(responses.GET, BASE + ENDPOINT, json={"cursor": "x"})
    with pytest.raises(MalformedWebhook, match="notifications"):
        fetch_notifications(requests.Session(), BASE, "jwt", None)
