"""Listening hears the inbox, people override sentiment, and a workspace can switch to Comprehend —
on the embedded runtime, from signed Meta webhooks (documented payloads) to the HTTP API."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.harness import Chorus, eventually
from tests.support import fixture_bytes

META_SECRET = "heldout-meta-app-secret"
PAGE_MENTION = "webhooks/meta/page_mention_comment_add.json"  # "Just a test message", page 1234567890321
IG_COMMENT = "webhooks/meta/instagram_comments.json"  # "This is an example.", Instagram account 0
MESSENGER = "webhooks/meta/messenger_message_text.json"  # "hello, world!", page 12345654332


@pytest.fixture(scope="module")
def chorus() -> Iterator[Chorus]:
    c = Chorus(parameters={"MetaAppSecret": META_SECRET, "MetaVerifyToken": "verify-me"})
    yield c
    c.close()


def deliver(chorus: Chorus, fixture: str) -> None:
    body = fixture_bytes(fixture)
    signature = "sha256=" + hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = chorus.http.post(
        chorus.rt.api_url + "/webhooks/meta",
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def connect(chorus: Chorus, key: str, platform: str, platform_account_id: str) -> None:
    chorus.proven_account(key, platform, platform_account_id, handle=f"acme-{platform}")


def mentions(chorus: Chorus, key: str) -> list[dict[str, Any]]:
    window = {"from": "2000-01-01T00:00:00Z", "to": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
    answer = chorus.call("GET", "/listening/mentions", key, params=window)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["mentions"])


def only_message(chorus: Chorus, key: str) -> tuple[str, dict[str, Any]]:
    convs = eventually(lambda: chorus.call("GET", "/inbox", key).json()["conversations"], timeout=15)
    assert len(convs) == 1
    thread = chorus.call("GET", f"/inbox/{convs[0]['id']}", key).json()
    (message,) = thread["messages"]
    return str(convs[0]["id"]), message


@pytest.fixture(scope="module")
def heard(chorus: Chorus) -> dict[str, Any]:
    """A workspace that watches for "test", connected to the page a mention comment arrives for."""
    ws, key = chorus.workspace("Listens to its inbox")
    connect(chorus, key, "facebook", "1234567890321")
    made = chorus.call("POST", "/monitors", key, json={"name": "Tests", "kind": "keyword", "terms": ["test"]})
    assert made.status_code == 201, made.text
    deliver(chorus, PAGE_MENTION)
    found = eventually(lambda: mentions(chorus, key), timeout=20)
    conversation_id, message = only_message(chorus, key)
    return {"ws": ws, "key": key, "mentions": found, "conversation": conversation_id, "message": message}


def test_an_ingested_comment_with_a_monitored_keyword_becomes_a_mention_once(
    chorus: Chorus, heard: dict[str, Any]
) -> None:
    # Given a workspace with a keyword monitor for "test", connected to the page
    # When a signed Meta mention comment "Just a test message" was delivered (see the fixture above),
    # and is delivered again as platforms retry
    deliver(chorus, PAGE_MENTION)
    chorus.rt.wait_idle()
    # Then exactly one mention of the monitor appears, with the inbox message's sentiment and ids
    found = mentions(chorus, heard["key"])
    assert len(found) == 1
    mention = found[0]
    assert mention["platform"] == "facebook"
    assert mention["platform_id"] == "7363534231324_3754798971271444"
    assert mention["text"] == "Just a test message"
    assert mention["sentiment"] == heard["message"]["sentiment"]
    assert mention["sentiment_source"] == "offline"
    assert mention["inbox"]["conversation_id"] == heard["conversation"]
    monitor_id = chorus.call("GET", "/monitors", heard["key"]).json()["monitors"][0]["id"]
    assert mention["monitors"] == [monitor_id]
    # And it is counted in the monitor's series, as the crisis detector reads it
    windows = chorus.call(
        "GET",
        "/listening/series",
        heard["key"],
        params={"monitor": monitor_id, "from": "2000-01-01T00:00:00Z"},
    ).json()["windows"]
    assert sum(w["total"] for w in windows) == 1


def test_a_person_overrides_a_message_sentiment_and_it_wins_everywhere(
    chorus: Chorus, heard: dict[str, Any]
) -> None:
    key, conv, message = heard["key"], heard["conversation"], heard["message"]
    machine = message["sentiment"]
    label = "negative" if machine != "negative" else "positive"
    path = f"/inbox/{conv}/messages/{message['id']}/sentiment"
    # Given a viewer key, a bad label and an editor's override
    viewer = chorus.call("POST", "/keys", key, json={"name": "read only", "role": "viewer"}).json()["key"]
    # When a viewer tries, then it is refused
    assert chorus.call("PUT", path, viewer, json={"sentiment": label}).status_code == 403
    # When the label is not a label, then 422 names the field
    bad = chorus.call("PUT", path, key, json={"sentiment": "furious"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["sentiment"]
    # When the owner (editor or above) overrides it
    answer = chorus.call("PUT", path, key, json={"sentiment": label})
    assert answer.status_code == 200, answer.text
    # Then the message has the person's label, keeping the machine's and who changed it when
    body = answer.json()
    assert body["sentiment"] == label
    assert body["sentiment_original"] == machine
    assert body["sentiment_override"]["from"] == machine
    assert body["sentiment_override"]["to"] == label
    assert body["sentiment_override"]["by"]
    # And the inbox's sentiment filter follows it
    filtered = chorus.call("GET", "/inbox", key, params={"sentiment": label}).json()["conversations"]
    assert [c["id"] for c in filtered] == [conv]
    # And so does the mention made of the message, and its counters
    (mention,) = mentions(chorus, key)
    assert mention["sentiment"] == label
    assert mention["sentiment_original"] == machine
    windows = chorus.call("GET", "/listening/series", key, params={"from": "2000-01-01T00:00:00Z"}).json()[
        "windows"
    ]
    assert sum(w["negatives"] for w in windows) == (1 if label == "negative" else 0)
    # And the override is counted for the report
    from chorus.listening.service import overrides_count

    today = datetime.now(UTC).date()
    assert overrides_count(heard["ws"], today - timedelta(days=1), today) == 1
    # When the mention is overridden back to the machine's label
    back = chorus.call(
        "PUT", f"/listening/mentions/{mention['id']}/sentiment", key, json={"sentiment": machine}
    )
    assert back.status_code == 200, back.text
    # Then the message follows too, and two overrides are counted
    _, again = only_message(chorus, key)
    assert (again["sentiment"], again["sentiment_original"]) == (machine, machine)
    assert overrides_count(heard["ws"], today - timedelta(days=1), today) == 2


def test_a_workspace_switched_to_comprehend_scores_with_it_and_falls_back_offline(chorus: Chorus) -> None:
    # Given a workspace that chose Comprehend, connected to an Instagram account and a Messenger page
    ws, key = chorus.workspace("Pays for Comprehend")
    connect(chorus, key, "instagram", "0")
    connect(chorus, key, "facebook", "12345654332")
    switched = chorus.call("PUT", "/listening/settings", key, json={"sentiment_backend": "comprehend"})
    assert switched.status_code == 200, switched.text
    assert chorus.call("GET", "/listening/settings", key).json()["sentiment_backend"] == "comprehend"
    assert (
        chorus.call("PUT", "/listening/settings", key, json={"sentiment_backend": "gpt"}).status_code == 422
    )
    # When an English comment arrives (its language is clear: Comprehend's DetectSentiment alone)
    deliver(chorus, IG_COMMENT)
    # Then Comprehend scored it (moto's canned answer is NEUTRAL) and the message says so
    _, message = only_message(chorus, key)
    assert (message["sentiment_source"], message["sentiment"]) == ("comprehend", "neutral")
    # When a message whose language needs DetectDominantLanguage arrives (moto does not serve it: a
    # service error, as an outage would be)
    deliver(chorus, MESSENGER)

    def messenger() -> dict[str, Any] | None:
        for conv in chorus.call("GET", "/inbox", key).json()["conversations"]:
            if conv["platform"] == "facebook":
                return dict(chorus.call("GET", f"/inbox/{conv['id']}", key).json()["messages"][0])
        return None

    # Then the offline analyzer scored it instead, and the message says so
    fallback = eventually(messenger, timeout=15)
    assert fallback["text"] == "hello, world!"
    assert fallback["sentiment_source"] == "offline"
    # And a workspace that did not switch is scored offline
    _, key_b = chorus.workspace("Stays offline")
    assert chorus.call("GET", "/listening/settings", key_b).json()["sentiment_backend"] == "offline"


def test_share_of_voice_over_the_api(chorus: Chorus) -> None:
    from chorus.listening import service
    from chorus.listening.monitors import Mention

    # Given a brand and a competitor monitor and three mentions on 10 March (one naming both)
    ws, key = chorus.workspace("Compares itself")
    for body in ({"name": "Acme", "kind": "brand", "terms": ["acme"]},
                 {"name": "Globex", "kind": "competitor", "terms": ["globex"]}):  # fmt: skip
        assert chorus.call("POST", "/monitors", key, json=body).status_code == 201
    monitors = service.list_monitors(ws)
    at = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    for pid, text, label in (("1", "acme is lovely", "positive"), ("2", "acme vs globex", "negative"),
                             ("3", "acme again", "neutral")):  # fmt: skip
        service.record_mention(ws, Mention("bluesky", pid, None, "a", "did:a", text, at), label, monitors)
    # When the share of voice of 10 March is asked for
    answer = chorus.call(
        "GET", "/listening/share-of-voice", key, params={"from": "2026-03-10", "to": "2026-03-10"}
    )
    assert answer.status_code == 200, answer.text
    # Then Acme has 3 of 4 monitor mentions and Globex 1
    rows = {r["name"]: r for r in answer.json()["shares"]}
    assert (rows["Acme"]["mentions"], rows["Acme"]["positive"], rows["Acme"]["negative"]) == (3, 1, 1)
    assert (rows["Globex"]["role"], rows["Globex"]["mentions"]) == ("competitor", 1)
    assert (rows["Acme"]["share"], rows["Globex"]["share"]) == (0.75, 0.25)
    # And a bad date names its field
    bad = chorus.call("GET", "/listening/share-of-voice", key, params={"from": "March"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "from"
