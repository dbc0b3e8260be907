"""Exactly once on Bluesky: the real publisher and the real Bluesky adapter against a fake PDS on
127.0.0.1 with scripted faults. Each scenario asserts the exact records in the repo afterwards and the
target's final state; every record key is the one derived from the target's persisted material."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest

from chorus.platforms.bluesky.publish import RESUME_STEP, BlueskyPublisher, tid_for
from chorus.platforms.budget import requests_budget
from chorus.platforms.http import default_timeout
from chorus.posts.model import MediaRef, TargetState
from chorus.posts.publisher import VERIFY_LOOKS
from tests.contract.stepping import STEP_BUDGET
from tests.faults.bluesky_fake import CREATE, DID, GET, UPLOAD, BlueskyFake
from tests.faults.harness import FakePlatform, PublisherBed, Request

THREAD = [("one", None, None), ("two", "one", "one"), ("three", "two", "one"), ("note", "one", "one")]
PARTS = ["0", "1", "2", "comment"]


def text_is(text: str) -> Callable[[Request], bool]:
    return lambda req: ((req.json or {}).get("record") or {}).get("text") == text


def creates(platform: FakePlatform) -> list[tuple[str, str]]:
    """(text, rkey) of every createRecord the PDS received (also those a fault answered)."""
    return [
        (((r.json or {}).get("record") or {}).get("text", ""), (r.json or {}).get("rkey", ""))
        for r in platform.calls("POST", CREATE)
    ]


@pytest.fixture
def pds(platform: FakePlatform) -> BlueskyFake:
    return BlueskyFake(platform).install()


def thread_post(bed: PublisherBed) -> tuple[str, str]:
    account = bed.account("bluesky", DID, handle="brand.test")
    return account, bed.post(account, "one", thread=("two", "three"), first_comment="note")


def expected_rkeys(target: Any) -> dict[str, str]:
    """The record key of each part: from the persisted key and started_at, nothing else."""
    key, at = target.idem_key, target.started_at
    return {part: tid_for(key if part == "0" else f"{key}:{part}", at) for part in PARTS}


def landed(pds: BlueskyFake) -> dict[str, str]:
    return dict(zip(PARTS, [p["uri"] for p in pds.posts()], strict=True))


def test_a_root_created_then_timed_out_is_found_under_its_record_key(
    bed: PublisherBed, platform: FakePlatform, pds: BlueskyFake
) -> None:
    # Given a PDS that creates the first record but answers after the client gave up
    platform.create_then_timeout("POST", CREATE, when=text_is("one"))
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the verify read the record under the rkey the create used, and the thread went on from it
    target = bed.target(post, account)
    rkeys = expected_rkeys(target)
    assert creates(platform) == [
        ("one", rkeys["0"]),
        ("two", rkeys["1"]),
        ("three", rkeys["2"]),
        ("note", rkeys["comment"]),
    ]
    assert platform.calls("GET", GET)[0].query["rkey"] == rkeys["0"]
    assert pds.thread() == THREAD
    assert target.state is TargetState.PUBLISHED
    assert target.parts == landed(pds)
    assert [a.outcome for a in target.attempt_log] == ["unknown", "verified", "published"]
    assert target.url == f"https://bsky.app/profile/{DID}/post/{rkeys['0']}"


def test_the_retry_after_a_timeout_uses_the_record_key_of_the_first_attempt(
    bed: PublisherBed, platform: FakePlatform, pds: BlueskyFake
) -> None:
    # Given the first record is created but its answer lost, and the first looks do not see it yet
    platform.create_then_timeout("POST", CREATE, when=text_is("one"))
    platform.fail("GET", GET, 400, {"error": "RecordNotFound", "message": "not yet"}, times=VERIFY_LOOKS)
    account = bed.account("bluesky", DID)
    post = bed.post(account, "one")
    # When the publisher runs until nothing is left to do (verify finds nothing, publishes again later)
    bed.run_until_settled()
    # Then the second create carried the same rkey: the PDS refused the duplicate, the record was read back
    target = bed.target(post, account)
    rkey = expected_rkeys(target)["0"]
    assert creates(platform) == [("one", rkey), ("one", rkey)]
    assert pds.thread() == [("one", None, None)]
    assert target.state is TargetState.PUBLISHED
    assert target.platform_post_id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    outcomes = [a.outcome for a in target.attempt_log]
    assert outcomes == ["unknown", "not_found_yet", "not_found_yet", "not_found", "published"]


def test_a_thread_part_answered_5xx_then_ok_resumes_at_that_part_with_the_landed_refs(
    bed: PublisherBed, platform: FakePlatform, pds: BlueskyFake
) -> None:
    # Given a PDS that answers 503 to the second record once
    platform.fail_when(
        "POST", CREATE, text_is("two"), 503, {"error": "InternalServerError", "message": "busy"}
    )
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the retry began at that part, replying to the root read back from the PDS: each record once
    assert [text for text, _ in creates(platform)] == ["one", "two", "two", "three", "note"]
    assert pds.thread() == THREAD
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == landed(pds)
    assert [p["id"] for p in pds.posts()] == list(expected_rkeys(target).values())
    assert bed.events.names() == []  # what follows a publish reads the table stream


def test_a_part_refused_for_good_leaves_the_post_partially_published_and_a_retry_completes_it(
    bed: PublisherBed, platform: FakePlatform, pds: BlueskyFake
) -> None:
    # Given a PDS that refuses the third record once, for good
    refusal = {"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record: text too long"}
    platform.fail_when("POST", CREATE, text_is("three"), 400, refusal)
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then two records are out and the target is partially published, listing them and the rest
    assert pds.thread() == THREAD[:2]
    root, two = (p["uri"] for p in pds.posts())
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "partially_published"
    assert (shown["parts"], shown["missing_parts"]) == ({"0": root, "1": two}, ["2", "comment"])
    assert shown["error"] == refusal["message"]
    assert bed.events.names() == ["PublishPartiallyFailed"]

    # When an editor retries (the PDS takes the record now)
    bed.retry(post)
    bed.run_until_settled()
    # Then only the missing records were created, under their own rkeys, in the same thread
    assert [text for text, _ in creates(platform)] == ["one", "two", "three", "three", "note"]
    assert pds.thread() == THREAD
    final = bed.target(post, account)
    assert final.state is TargetState.PUBLISHED
    assert final.parts == landed(pds)


def test_a_worker_killed_between_parts_resumes_at_the_next_part(
    bed: PublisherBed, platform: FakePlatform, pds: BlueskyFake
) -> None:
    # Given a worker that dies right after the second record landed (its landing persisted)
    account, post = thread_post(bed)
    bed.kill_after_landed("1")
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the redelivery resumed at the third record: nothing was created twice
    assert [text for text, _ in creates(platform)] == ["one", "two", "three", "note"]
    assert pds.thread() == THREAD
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == landed(pds)


def test_an_image_post_uploads_once_and_creates_the_record_in_the_next_step(
    bed: PublisherBed, platform: FakePlatform, pds: BlueskyFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a call budget of two requests, and an image post: the download and the upload take it all
    monkeypatch.setattr(BlueskyPublisher, "request_budget_s", STEP_BUDGET)
    account = bed.account("bluesky", DID)
    image = MediaRef(mime_type="image/png", url=f"{platform.url}/media/cat.png", alt_text="A cat")
    post = bed.post(account, "look", media=(image,))
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the blob was uploaded once, kept in the step state, and embedded in the one record
    assert len(platform.calls("POST", UPLOAD)) == 1
    [blob] = platform.records["blob"]
    [record] = pds.posts()
    assert record["value"]["embed"]["images"] == [
        {"alt": "A cat", "image": {k: blob[k] for k in ("$type", "ref", "mimeType", "size")}}
    ]
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert [a.detail for a in target.attempt_log if a.outcome == "processing"] == [RESUME_STEP]


def test_a_thread_longer_than_one_calls_budget_goes_on_in_the_next_step_from_the_landed_parent(
    bed: PublisherBed, platform: FakePlatform, pds: BlueskyFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a call budget that holds seven requests at this bed's timeouts, and a thread of nine records
    monkeypatch.setattr(BlueskyPublisher, "request_budget_s", requests_budget(7, default_timeout()))
    parts = tuple(f"part {n}" for n in range(1, 9))
    account = bed.account("bluesky", DID)
    post = bed.post(account, "root", thread=parts)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the second call read the last landed record back for its strong ref and went on from it:
    # every record once, each replying to the one before, all under the root
    texts = ["root", *parts]
    assert [text for text, _ in creates(platform)] == texts
    assert pds.thread() == [("root", None, None)] + [
        (text, before, "root") for before, text in pairwise(texts)
    ]
    [read] = platform.calls("GET", GET)
    assert read.query["rkey"] == pds.posts()[6]["id"]
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert [a.outcome for a in target.attempt_log] == ["processing", "published"]
