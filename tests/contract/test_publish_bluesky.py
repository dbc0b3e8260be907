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
    COMMENT,
    ROOT,
    AccountCredentials,
    AuthError,
    MediaItem,
    PendingStep,
    PermanentError,
    Progress,
    PublishRequest,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.bluesky.publish import RESUME_STEP, BlueskyPublisher, record_key, tid_for
from chorus.platforms.budget import requests_budget
from tests.contract.stepping import STEP_BUDGET, drive
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
    adapter = BlueskyPublisher(session=requests.Session(), clock=lambda: NOW)
    adapter.request_budget_s = STEP_BUDGET  # steps after two requests (see tests.contract.stepping)
    return adapter


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


def test_mentions_are_resolved_once_each_even_when_they_take_more_than_one_call(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    # Given a post mentioning three people (each a resolveHandle request)
    for name in ("alice", "bob", "carol"):
        rsps.get(
            f"{XRPC}/com.atproto.identity.resolveHandle",
            json={"did": f"did:plc:{name}"},
            match=[matchers.query_param_matcher({"handle": f"{name}.test"})],
        )
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", json=created("k"))
    request = PublishRequest(target_id="t", text="hi @alice.test @bob.test @carol.test", not_before=DUE)
    # When it is published step by step
    _, steps, per_call = drive(adapter, CREDS, request, rsps)
    # Then the DIDs found in the first call were kept in its step: each handle resolved once
    assert json.loads(steps[0].state["dids"]) == {"alice.test": "did:plc:alice", "bob.test": "did:plc:bob"}
    assert per_call == [2, 2]
    record = json.loads(rsps.calls[-1].request.body)["record"]  # type: ignore[arg-type]
    assert [f["features"][0]["did"] for f in record["facets"]] == [
        "did:plc:alice",
        "did:plc:bob",
        "did:plc:carol",
    ]


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
    request = PublishRequest(target_id="t", text="pic", media=media, link="https://a.io", not_before=DUE)
    # When published: the download and upload take the whole call's budget, the record is the next step
    first = adapter.publish(CREDS, request)
    assert isinstance(first, PendingStep)
    assert first.step == RESUME_STEP
    assert json.loads(first.state["blobs"]) == [blob]
    result = adapter.continue_publish(CREDS, request, first)
    # Then the blob was uploaded once and embedded from the step state
    assert rsps.calls[1].request.body == b"PNG"
    assert [c.request.url for c in rsps.calls].count(f"{XRPC}/com.atproto.repo.uploadBlob") == 1
    assert result.platform_post_id == created(rkey)["uri"]


def test_a_media_url_pointing_inside_the_network_is_refused_before_anything_is_sent(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    item = MediaItem(url="https://10.0.0.7/private.png", mime_type="image/png")
    with pytest.raises(PermanentError, match="media"):
        adapter.publish(CREDS, PublishRequest(target_id="t", text="x", media=(item,), not_before=DUE))
    assert len(rsps.calls) == 0


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
    # (the third part is the next step: its parent's cid is read back from the PDS)
    rsps.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        json={**second, "value": {"text": "two", "reply": {"root": root, "parent": root}}},
        match=[
            matchers.query_param_matcher({"repo": DID, "collection": "app.bsky.feed.post", "rkey": keys[1]})
        ],
    )
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", json=created(keys[2]))
    result, steps, per_call = drive(adapter, CREDS, request, rsps)
    assert [s.step for s in steps] == [RESUME_STEP]
    assert per_call == [2, 2]  # create, create | read the parent, create
    creates = [json.loads(c.request.body) for c in rsps.calls if c.request.method == "POST"]  # type: ignore[arg-type]
    assert [b["rkey"] for b in creates] == keys
    assert "reply" not in creates[0]["record"]
    assert creates[1]["record"]["reply"] == {"root": root, "parent": root}
    assert creates[2]["record"]["reply"] == {"root": root, "parent": second}
    assert result.part_ids == (second["uri"], created(keys[2])["uri"])


def test_every_record_key_comes_from_the_persisted_progress_not_from_not_before() -> None:
    # Given a target whose idempotency material was persisted before its first call
    progress = Progress(key="tgt-7", started_at=DUE)
    first = PublishRequest(target_id="tgt-7", text="x", thread=("y",), first_comment="z",
                           not_before=DUE, progress=progress)  # fmt: skip
    # When a retry builds its request with another not_before (computed from the attempt log)
    retry = PublishRequest(target_id="tgt-7", text="x", thread=("y",), first_comment="z",
                           not_before=datetime(2025, 8, 1, 9, tzinfo=UTC), progress=progress)  # fmt: skip
    # Then every part has the same record key in both, derived from the key and started_at only
    assert BlueskyPublisher().rkeys(first) == BlueskyPublisher().rkeys(retry)
    assert record_key(retry, ROOT) == tid_for("tgt-7", DUE)
    assert record_key(retry, COMMENT) == tid_for("tgt-7:comment", DUE)
    assert len(set(BlueskyPublisher().rkeys(retry))) == 3


def test_a_resumed_thread_creates_only_the_missing_parts_under_the_landed_root(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    # Given the root landed in an earlier call (its uri persisted in the progress)
    progress = Progress(key="t", started_at=DUE)
    request = PublishRequest(target_id="t", text="one", thread=("two",), first_comment="note",
                             progress=progress)  # fmt: skip
    keys = adapter.rkeys(request)
    root = created(keys[0])
    progress.landed[ROOT] = root["uri"]
    rsps.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        json={**root, "value": {"text": "one"}},
        match=[
            matchers.query_param_matcher({"repo": DID, "collection": "app.bsky.feed.post", "rkey": keys[0]})
        ],
    )
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", json=created(keys[1]))
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", json=created(keys[2]))
    # When publishing again
    result, _, _ = drive(adapter, CREDS, request, rsps)
    # Then the root is not created again; the part and the comment answer it with its strong ref
    creates = [json.loads(c.request.body) for c in rsps.calls if c.request.method == "POST"]  # type: ignore[arg-type]
    assert [b["rkey"] for b in creates] == keys[1:]
    assert creates[0]["record"]["reply"] == {"root": root, "parent": root}
    assert creates[1]["record"]["reply"] == {"root": root, "parent": root}
    assert result.platform_post_id == root["uri"]
    assert result.url == f"https://bsky.app/profile/{DID}/post/{keys[0]}"
    assert progress.landed == {
        ROOT: root["uri"],
        "1": created(keys[1])["uri"],
        COMMENT: created(keys[2])["uri"],
    }


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
    drive(adapter, creds, PublishRequest(target_id="t", text="hi", not_before=DUE), rsps)
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
    result, _, per_call = drive(
        adapter, CREDS, PublishRequest(target_id="t", text="hi", not_before=DUE), rsps
    )
    assert result.platform_post_id.endswith("/k")
    assert per_call == [1, 1, 1]  # refused | session renewed | created
    assert [c.request.url.rsplit("/", 1)[1] for c in rsps.calls] == [
        "com.atproto.repo.createRecord", "com.atproto.server.refreshSession", "com.atproto.repo.createRecord"
    ]  # fmt: skip
    assert adapter.session_for(CREDS).access_jwt == fresh  # kept, no longer the refused one


def test_a_session_refused_during_a_step_is_renewed_by_a_lookup_too(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    # Given the PDS refused the session during a publish step (the step ended there)
    fresh = jwt(NOW + 7200)
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", status=400, json={"error": "ExpiredToken"})
    assert isinstance(
        adapter.publish(CREDS, PublishRequest(target_id="t", text="hi", not_before=DUE)), PendingStep
    )
    # When the publisher verifies instead (a lookup, outside any step's budget)
    rsps.get(f"{XRPC}/com.atproto.repo.getRecord", status=400, json={"error": "ExpiredToken"})
    rsps.post(
        f"{XRPC}/com.atproto.server.refreshSession",
        json={"did": DID, "handle": "chorus.example", "accessJwt": fresh, "refreshJwt": REFRESH},
    )
    rsps.get(f"{XRPC}/com.atproto.repo.getRecord", status=400, json={"error": "RecordNotFound"})
    assert adapter.find_published(CREDS, PublishRequest(target_id="t", text="hi", not_before=DUE)) is None
    # Then the renewed session is the one in use from then on
    assert adapter.session_for(CREDS).access_jwt == fresh


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


def test_a_5xx_create_with_no_budget_left_to_look_is_an_unknown_outcome_verified_by_its_rkey(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    # Given an inbox reply (reading the post answered takes a request) whose record already exists:
    # the PDS answers the create 500, as the reference PDS answers a taken rkey
    parent_uri = f"at://{DID}/app.bsky.feed.post/3kparent"
    rsps.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        json={"uri": parent_uri, "cid": "bafyparent", "value": {"text": "q?"}},
        match=[
            matchers.query_param_matcher(
                {"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3kparent"}
            )
        ],
    )
    rkey = tid_for("r1", DUE)
    rsps.post(f"{XRPC}/com.atproto.repo.createRecord", status=500, json={"error": "InternalServerError"})
    request = PublishRequest(target_id="r1", text="thanks", reply_to=parent_uri, not_before=DUE)
    # When the call has no room left to look the record up
    with pytest.raises(UnknownOutcome, match="looked up next"):
        adapter.publish(CREDS, request)
    # Then the verify reads it under the same rkey: nothing is created twice
    rsps.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        json={**created(rkey), "value": {"text": "thanks"}},
        match=[matchers.query_param_matcher({"repo": DID, "collection": "app.bsky.feed.post", "rkey": rkey})],
    )
    found = adapter.find_published(CREDS, request)
    assert found is not None
    assert found.platform_post_id == created(rkey)["uri"]
    assert [c.request.method for c in rsps.calls].count("POST") == 1


def test_a_4xx_create_with_no_budget_left_to_look_is_refused_as_it_is(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    parent_uri = f"at://{DID}/app.bsky.feed.post/3kparent"
    rsps.get(f"{XRPC}/com.atproto.repo.getRecord", json={"uri": parent_uri, "cid": "bafyparent", "value": {}})
    rsps.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        status=400,
        json={"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record: text too long"},
    )
    with pytest.raises(PermanentError, match="text too long"):
        adapter.publish(CREDS, PublishRequest(target_id="r2", text="x", reply_to=parent_uri, not_before=DUE))


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


def test_find_part_gets_the_part_by_its_record_key(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    request = PublishRequest(target_id="t", text="x", thread=("y",), not_before=DUE)
    rkey = tid_for("t:1", DUE)
    query = {"repo": DID, "collection": "app.bsky.feed.post", "rkey": rkey}
    rsps.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        json={**created(rkey), "value": {}},
        match=[matchers.query_param_matcher(query)],
    )
    assert adapter.find_part(CREDS, request, "1") == created(rkey)["uri"]
    rsps.get(f"{XRPC}/com.atproto.repo.getRecord", status=400, json={"error": "RecordNotFound"})
    assert adapter.find_part(CREDS, request, "1") is None


def test_a_call_never_starts_a_request_its_budget_cannot_wait_for(
    rsps: responses.RequestsMock, adapter: BlueskyPublisher
) -> None:
    # Given a thread longer than one call's budget (two requests of the default timeout)
    assert adapter.request_budget_s == requests_budget(2)
    request = PublishRequest(target_id="t", text="a", thread=("b", "c", "d"), not_before=DUE)
    keys = adapter.rkeys(request)
    for key in keys:
        rsps.post(f"{XRPC}/com.atproto.repo.createRecord", json=created(key))
    for key in keys[1:3]:  # a resumed call reads the landed parent for its cid
        rsps.get(
            f"{XRPC}/com.atproto.repo.getRecord",
            json={**created(key), "value": {"reply": {"root": created(keys[0])}}},
            match=[
                matchers.query_param_matcher({"repo": DID, "collection": "app.bsky.feed.post", "rkey": key})
            ],
        )
    # When it is published step by step
    result, steps, per_call = drive(adapter, CREDS, request, rsps)
    # Then each call sent at most two requests, and every part was created once, in order
    assert len(steps) == 2
    assert per_call == [2, 2, 2]
    sent = [(c.request.method, c.request.url.split("/xrpc/")[1].split("?")[0]) for c in rsps.calls]
    create, read = ("POST", "com.atproto.repo.createRecord"), ("GET", "com.atproto.repo.getRecord")
    assert sent == [create, create, read, create, read, create]
    bodies = [json.loads(c.request.body) for c in rsps.calls if c.request.method == "POST"]  # type: ignore[arg-type]
    assert [b["rkey"] for b in bodies] == keys
    assert bodies[3]["record"]["reply"] == {"root": created(keys[0]), "parent": created(keys[2])}
    assert result.part_ids == tuple(created(k)["uri"] for k in keys[1:])


def test_delete_removes_the_record(rsps: responses.RequestsMock, adapter: BlueskyPublisher) -> None:
    rsps.post(
        f"{XRPC}/com.atproto.repo.deleteRecord",
        json={},
        match=[
            matchers.json_params_matcher({"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3kabc"})
        ],
    )
    adapter.delete(CREDS, f"at://{DID}/app.bsky.feed.post/3kabc")
