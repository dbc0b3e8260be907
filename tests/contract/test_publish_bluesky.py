"""Bluesky adapter against the AT Protocol XRPC endpoints (sessions, blobs, records, facets)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MediaItem,
    PermanentError,
    PublishRequest,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.bluesky.publish import BlueskyPublisher, tid_for
from tests.support import fixture_json

PDS = "https://pds.example"
XRPC = f"{PDS}/xrpc"
DID = "did:plc:u5cwb2mwiv2bfq53cjufe6yn"
NOW = 1_754_000_000.0  # fixed clock
CREATED_AT = "2025-07-31T22:13:20.000Z"
DUE = datetime(2025, 7, 31, 22, 13, 20, tzinfo=UTC)
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def jwt(exp: float, sub: str = DID) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256K'})}.{part({'sub': sub, 'exp': exp})}.c2ln"


ACCESS = jwt(NOW + 3600)
REFRESH = jwt(NOW + 86400 * 60)
CREDS = AccountCredentials(
    platform="bluesky",
    account_id=DID,
    access_token=ACCESS,
    refresh_token=REFRESH,
    handle="chorus.example",
    base_url=PDS,
    extra={"app_password": "abcd-efgh-ijkl-mnop"},
)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def adapter() -> BlueskyPublisher:
    return BlueskyPublisher(session=requests.Session(), clock=lambda: NOW)


def created(rkey: str) -> dict[str, str]:
    return {"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": f"bafycid{rkey}"}


def record_body(rkey: str, record: dict[str, object]) -> dict[str, object]:
    return {"repo": DID, "collection": "app.bsky.feed.post", "rkey": rkey, "record": record}


def test_tid_is_valid_deterministic_and_distinct_per_target() -> None:
    first = tid_for("target-1", DUE)
    assert TID_RE.match(first)
    assert tid_for("target-1", DUE) == first
    assert tid_for("target-2", DUE) != first
    # the timestamp part is the due time (whole seconds) plus a sub-second offset
    value = 0
    for char in first:
        value = value * 32 + "234567abcdefghijklmnopqrstuvwxyz".index(char)
    micros = value >> 10
    assert micros // 1_000_000 == int(DUE.timestamp())
    assert TID_RE.match(tid_for("no-due-time"))


def test_publish_creates_the_post_record_under_the_target_rkey(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    rkey = tid_for("tgt-1", DUE)
    rsps.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        json=created(rkey),
        match=[
            matchers.header_matcher({"Authorization": f"Bearer {ACCESS}"}),
            matchers.json_params_matcher(
                record_body(
                    rkey, {"$type": "app.bsky.feed.post", "text": "Hello sky", "createdAt": CREATED_AT}
                )
            ),
        ],
    )
    result = adapter.publish(CREDS, PublishRequest(target_id="tgt-1", text="Hello sky", not_before=DUE))
    assert result.platform_post_id == f"at://{DID}/app.bsky.feed.post/{rkey}"  # type: ignore[union-attr]
    assert result.url == f"https://bsky.app/profile/{DID}/post/{rkey}"  # type: ignore[union-attr]


def test_facets_mentions_and_langs_are_part_of_the_record(rsps: responses.RequestsMock) -> None:
    adapter = BlueskyPublisher(clock=lambda: NOW)
    creds = AccountCredentials(**{**CREDS.__dict__, "extra": {"langs": "zh,en"}})
    text = "你好 @alice.bsky.social #早安"
    rsps.get(
        f"{XRPC}/com.atproto.identity.resolveHandle",
        json={"did": "did:plc:alice"},
        match=[matchers.query_param_matcher({"handle": "alice.bsky.social"})],
    )
    rkey = tid_for("t", DUE)
    expected = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": CREATED_AT,
        "facets": [
            {
                "index": {"byteStart": 7, "byteEnd": 25},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"}],
            },
            {
                "index": {"byteStart": 26, "byteEnd": 33},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "早安"}],
            },
        ],
        "langs": ["zh", "en"],
    }
    rsps.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        json=created(rkey),
        match=[matchers.json_params_matcher(record_body(rkey, expected))],
    )
    adapter.publish(creds, PublishRequest(target_id="t", text=text, not_before=DUE))


def test_images_are_uploaded_as_blobs_and_embedded(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    blob = {"$type": "blob", "ref": {"$link": "bafkreiblob"}, "mimeType": "image/png", "size": 3}
    rsps.get("https://cdn.example/a.png", body=b"PNG")
    rsps.post(
        f"{XRPC}/com.atproto.repo.uploadBlob",
        json={"blob": blob},
        match=[matchers.header_matcher({"Content-Type": "image/png", "Authorization": f"Bearer {ACCESS}"})],
    )
    rkey = tid_for("t", DUE)
    record = {
        "$type": "app.bsky.feed.post",
        "text": "pic\n\nhttps://a.io",
        "createdAt": CREATED_AT,
        "facets": [
            {
                "index": {"byteStart": 5, "byteEnd": 17},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://a.io"}],
            }
        ],
        "embed": {"$type": "app.bsky.embed.images", "images": [{"alt": "alt!", "image": blob}]},
    }
    rsps.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        json=created(rkey),
        match=[matchers.json_params_matcher(record_body(rkey, record))],
    )
    media = (MediaItem(url="https://cdn.example/a.png", mime_type="image/png", alt_text="alt!"),)
    adapter.publish(
        CREDS, PublishRequest(target_id="t", text="pic", media=media, link="https://a.io", not_before=DUE)
    )
    assert rsps.calls[1].request.body == b"PNG"


def test_a_link_without_images_becomes_an_external_card(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    rkey = tid_for("t", DUE)
    record = {
        "$type": "app.bsky.feed.post",
        "text": "read this",
        "createdAt": CREATED_AT,
        "embed": {
            "$type": "app.bsky.embed.external",
            "external": {"uri": "https://a.io/p", "title": "https://a.io/p", "description": ""},
        },
    }
    rsps.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        json=created(rkey),
        match=[matchers.json_params_matcher(record_body(rkey, record))],
    )
    adapter.publish(
        CREDS, PublishRequest(target_id="t", text="read this", link="https://a.io/p", not_before=DUE)
    )


def test_thread_parts_reply_with_root_and_parent_refs(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    request = PublishRequest(target_id="t", text="one", thread=("two", "three"), not_before=DUE)
    keys = adapter.rkeys(request)
    assert len(set(keys)) == 3
    root = created(keys[0])
    second = created(keys[1])
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", json=root)
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", json=second)
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", json=created(keys[2]))
    result = adapter.publish(CREDS, request)
    bodies = [json.loads(c.request.body) for c in rsps.calls]  # type: ignore[arg-type]
    assert [b["rkey"] for b in bodies] == keys
    assert "reply" not in bodies[0]["record"]
    assert bodies[1]["record"]["reply"] == {"root": root, "parent": root}
    assert bodies[2]["record"]["reply"] == {"root": root, "parent": second}
    assert result.part_ids == (second["uri"], created(keys[2])["uri"])  # type: ignore[union-attr]


def test_a_reply_to_a_reply_keeps_the_threads_root(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    # Given the post being answered is itself a reply (the docs' reply record)
    parent_value = fixture_json("webhooks/bluesky/reply_post_record_docs.json")
    parent_uri = f"at://{DID}/app.bsky.feed.post/3k43tv4rft33h"
    rsps.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        json={"uri": parent_uri, "cid": "bafyparent", "value": parent_value},
        match=[
            matchers.query_param_matcher(
                {"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3k43tv4rft33h"}
            )
        ],
    )
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", json=created("x"))
    adapter.publish(CREDS, PublishRequest(target_id="t", text="thanks!", reply_to=parent_uri, not_before=DUE))
    body = json.loads(rsps.calls[1].request.body)  # type: ignore[arg-type]
    assert body["record"]["reply"] == {
        "root": parent_value["reply"]["root"],
        "parent": {"uri": parent_uri, "cid": "bafyparent"},
    }


def test_without_a_valid_token_a_session_is_created_with_the_app_password(
    rsps: responses.RequestsMock,
) -> None:
    adapter = BlueskyPublisher(clock=lambda: NOW)
    creds = AccountCredentials(**{**CREDS.__dict__, "access_token": "", "refresh_token": None})
    fresh = jwt(NOW + 7200)
    rsps.post(
        f"{XRPC}/com.atproto.server.createSession",
        json={"did": DID, "handle": "chorus.example", "accessJwt": fresh, "refreshJwt": REFRESH},
        match=[
            matchers.json_params_matcher({"identifier": "chorus.example", "password": "abcd-efgh-ijkl-mnop"})
        ],
    )
    rsps.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        json=created("k"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {fresh}"})],
    )
    adapter.publish(creds, PublishRequest(target_id="t", text="hi", not_before=DUE))
    assert adapter.session_for(creds).access_jwt == fresh


def test_an_expired_token_answer_refreshes_the_session_and_repeats_the_call(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    fresh = jwt(NOW + 7200)
    rsps.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        status=400,
        json={"error": "ExpiredToken", "message": "Token has expired"},
        match=[matchers.header_matcher({"Authorization": f"Bearer {ACCESS}"})],
    )
    rsps.post(
        f"{XRPC}/com.atproto.server.refreshSession",
        json={"did": DID, "handle": "chorus.example", "accessJwt": fresh, "refreshJwt": jwt(NOW + 9e6)},
        match=[matchers.header_matcher({"Authorization": f"Bearer {REFRESH}"})],
    )
    rsps.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        json=created("k"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {fresh}"})],
    )
    result = adapter.publish(CREDS, PublishRequest(target_id="t", text="hi", not_before=DUE))
    assert result.platform_post_id.endswith("/k")  # type: ignore[union-attr]


def test_a_rejected_app_password_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    adapter = BlueskyPublisher(clock=lambda: NOW)
    creds = AccountCredentials(**{**CREDS.__dict__, "access_token": "", "refresh_token": None})
    rsps.post(
        f"{XRPC}/com.atproto.server.createSession",
        status=401,
        json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
    )
    with pytest.raises(AuthError, match="Invalid identifier or password"):
        adapter.publish(creds, PublishRequest(target_id="t", text="hi"))


def test_a_repeated_create_that_fails_finds_the_existing_record(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    # Given the record was created by an earlier attempt: the PDS refuses the duplicate rkey
    rkey = tid_for("t", DUE)
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", status=500, json={"error": "InternalServerError"})
    rsps.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        json={**created(rkey), "value": {"text": "hi"}},
        match=[matchers.query_param_matcher({"repo": DID, "collection": "app.bsky.feed.post", "rkey": rkey})],
    )
    # When publishing again
    result = adapter.publish(CREDS, PublishRequest(target_id="t", text="hi", not_before=DUE))
    # Then the existing post is the result, and nothing else was created
    assert result.platform_post_id == created(rkey)["uri"]  # type: ignore[union-attr]
    assert len(rsps.calls) == 2


def test_a_refused_record_is_permanent_with_the_pds_message(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    rsps.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        status=400,
        json={"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record: text too long"},
    )
    rsps.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        status=400,
        json={"error": "RecordNotFound", "message": "Could not locate record"},
    )
    with pytest.raises(PermanentError) as caught:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x", not_before=DUE))
    assert caught.value.message == "Invalid app.bsky.feed.post record: text too long"


def test_429_is_rate_limited_with_the_reset_header(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    reset = str(int(datetime.now(UTC).timestamp()) + 120)
    rsps.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        status=429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"ratelimit-reset": reset},
    )
    with pytest.raises(RateLimited) as caught:
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x", not_before=DUE))
    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 120


def test_503_is_transient_when_the_record_is_absent(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", status=503, body="unavailable")
    rsps.get(f"{XRPC}/com.atproto.repo.getRecord", status=400, json={"error": "RecordNotFound"})
    with pytest.raises(TransientError):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x", not_before=DUE))


def test_a_read_timeout_on_create_is_an_unknown_outcome(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", body=requests.ReadTimeout("timed out"))
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x", not_before=DUE))


def test_find_published_gets_the_record_by_its_rkey(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    request = PublishRequest(target_id="t", text="x", not_before=DUE)
    rkey = tid_for("t", DUE)
    query = {"repo": DID, "collection": "app.bsky.feed.post", "rkey": rkey}
    rsps.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        json={**created(rkey), "value": {}},
        match=[matchers.query_param_matcher(query)],
    )
    found = adapter.find_published(CREDS, request)
    assert found is not None
    assert found.platform_post_id == created(rkey)["uri"]
    rsps.get(
        f"{XRPC}/com.atproto.repo.getRecord", status=400, json={"error": "RecordNotFound", "message": "nope"}
    )
    assert adapter.find_published(CREDS, request) is None


def test_delete_removes_the_record(rsps: responses.RequestsMock, adapter: BlueskyPublisher) -> None:
    rsps.post(
        f"{XRPC}/com.atproto.repo.deleteRecord",
        json={},
        match=[
            matchers.json_params_matcher({"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3kabc"})
        ],
    )
    adapter.delete(CREDS, f"at://{DID}/app.bsky.feed.post/3kabc")
