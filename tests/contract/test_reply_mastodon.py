"""Mastodon replies against a recorded request and answer (fixtures/platform_api/replies/mastodon): a
direct mention is answered by a reply status with ``visibility: direct`` that mentions its author (a
direct status reaches only the accounts it mentions), under the reply's persisted Idempotency-Key."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import requests
import responses

from chorus.inbox import channels
from chorus.platforms.base import AccountCredentials
from chorus.platforms.mastodon.publish import MastodonPublisher
from chorus.platforms.replies import PublisherReplies
from tests.contract.replying import replies_fixture, reply_request, rsps
from tests.support import fixtures_dir

__all__ = ["rsps"]

BASE = "http://localhost:3000"
CREDS = AccountCredentials(platform="mastodon", account_id="117020617532860042", access_token="tok-m",
                           base_url=BASE)  # fmt: skip
RECORDED = dict(
    parse_qsl(
        (
            fixtures_dir() / "platform_api/replies/mastodon/statuses_post_direct_reply_request.form.txt"
        ).read_text()
    )
)


def test_a_direct_mention_is_answered_by_a_direct_reply_that_mentions_its_author(
    rsps: responses.RequestsMock,
) -> None:
    # Given a conversation opened by a direct mention (its channel: mastodon.direct)
    channel = channels.get(channels.name_for("mastodon", "dm"))
    answer = replies_fixture("mastodon/statuses_post_direct_reply_response.json")
    rsps.post(f"{BASE}/api/v1/statuses", json=answer)
    replier = PublisherReplies(MastodonPublisher(session=requests.Session()), channel.visibility)
    # When the agent's reply (the mention added as create_reply adds it) is sent
    text = channels.mentioning("pssssst!", "mastodonpy_test")
    result = replier.send(CREDS, reply_request(text, reply_to=RECORDED["in_reply_to_id"]))
    # Then it is the recorded direct reply: the same status, in_reply_to_id and visibility
    sent = rsps.calls[0].request
    assert json.loads(sent.body or b"{}") == RECORDED
    assert sent.headers["Idempotency-Key"] == "idem-key-1"
    assert (result.platform_post_id, answer["visibility"]) == ("117024236635443611", "direct")


def test_a_mention_already_in_the_text_is_not_added_twice() -> None:
    assert channels.mentioning("@MastodonPy_Test thanks", "mastodonpy_test") == "@MastodonPy_Test thanks"


def test_a_public_mention_is_answered_without_a_visibility(rsps: responses.RequestsMock) -> None:
    channel = channels.get(channels.name_for("mastodon", "mention"))
    rsps.post(f"{BASE}/api/v1/statuses", json={"id": "1", "url": f"{BASE}/@chorus/1"})
    PublisherReplies(MastodonPublisher(session=requests.Session()), channel.visibility).send(
        CREDS, reply_request("Thanks!", reply_to="9")
    )
    assert json.loads(rsps.calls[0].request.body or b"{}") == {"status": "Thanks!", "in_reply_to_id": "9"}
