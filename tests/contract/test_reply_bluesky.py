"""Bluesky replies: a mention or reply is answered with a reply post through the publishing adapter, whose
record key comes from the reply's persisted idempotency material (a retry names the same record), with the
thread's root and the answered post as parent (the documented reply record)."""

from __future__ import annotations

import json

import requests
import responses
from responses import matchers

from chorus.inbox import channels
from chorus.platforms.base import AccountCredentials, Progress
from chorus.platforms.bluesky.publish import BlueskyPublisher, tid_for
from chorus.platforms.replies import PublisherReplies
from tests.contract.replying import SENT_AT, reply_request, rsps
from tests.support import fixture_json

__all__ = ["rsps"]

PDS = "https://pds.example"
XRPC = f"{PDS}/xrpc"
DID = "did:plc:u5cwb2mwiv2bfq53cjufe6yn"
NOW = SENT_AT.timestamp()
CREDS = AccountCredentials(platform="bluesky", account_id=DID, access_token="", handle="chorus.example",
                           base_url=PDS, extra={"app_password": "abcd-efgh-ijkl-mnop"})  # fmt: skip


def test_a_mention_is_answered_by_a_reply_post_under_the_replys_own_record_key(
    rsps: responses.RequestsMock,
) -> None:
    # Given a post being answered that is itself a reply (the documented reply record)
    channel = channels.get(channels.name_for("bluesky", "mention"))
    parent_value = fixture_json("webhooks/bluesky/reply_post_record_docs.json")
    parent_uri = f"at://{DID}/app.bsky.feed.post/3k43tv4rft33h"
    rsps.post(f"{XRPC}/com.atproto.server.createSession",
              json={"did": DID, "handle": "chorus.example", "accessJwt": "a.b.c", "refreshJwt": "r.s.t"})  # fmt: skip
    rsps.get(f"{XRPC}/com.atproto.repo.getRecord",
             json={"uri": parent_uri, "cid": "bafyparent", "value": parent_value},
             match=[matchers.query_param_matcher({"repo": DID, "collection": "app.bsky.feed.post",
                                                  "rkey": "3k43tv4rft33h"})])  # fmt: skip
    expected_rkey = tid_for("idem-key-1", SENT_AT)
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord",
              json={"uri": f"at://{DID}/app.bsky.feed.post/{expected_rkey}", "cid": "bafynew"})  # fmt: skip
    replier = PublisherReplies(BlueskyPublisher(session=requests.Session(), clock=lambda: NOW))
    # When the reply is sent with its persisted progress
    result = replier.send(CREDS, reply_request("thanks!", reply_to=parent_uri,
                                               progress=Progress("idem-key-1", SENT_AT)))  # fmt: skip
    # Then one reply record, keyed by the reply's own material, under the thread's root
    body = json.loads(rsps.calls[-1].request.body or b"{}")
    assert channel.sender == channels.PUBLISHER
    assert body["rkey"] == expected_rkey
    assert body["record"]["text"] == "thanks!"
    assert body["record"]["reply"] == {"root": parent_value["reply"]["root"],
                                       "parent": {"uri": parent_uri, "cid": "bafyparent"}}  # fmt: skip
    assert result.platform_post_id == f"at://{DID}/app.bsky.feed.post/{expected_rkey}"
