"""Exactly once on Mastodon: the real publisher and the real Mastodon adapter against a fake instance
on 127.0.0.1 with scripted faults. Each scenario asserts the exact statuses on the instance afterwards
and the target's final state."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chorus.platforms.mastodon.publish import MAX_MEDIA_POLLS, MEDIA_POLL_DELAY_S
from chorus.posts.model import MediaRef, TargetState
from tests.faults.harness import FakePlatform, PublisherBed, Request
from tests.faults.mastodon_fake import (
    ACCOUNT_STATUSES,
    CONTEXT,
    MEDIA,
    MEDIA_ITEM,
    STATUSES,
    MastodonFake,
)

THREAD = [("one", None), ("two", "one"), ("three", "two"), ("note", "one")]
PARTS = ["0", "1", "2", "comment"]


def text_is(text: str) -> Callable[[Request], bool]:
    return lambda req: (req.json or {}).get("status") == text


def sent(platform: FakePlatform) -> list[str]:
    """The text of every status request the instance received (also those a fault answered)."""
    return [(r.json or {}).get("status", "") for r in platform.calls("POST", STATUSES)]


@pytest.fixture
def instance(platform: FakePlatform) -> MastodonFake:
    return MastodonFake(platform).install()


def thread_post(bed: PublisherBed) -> tuple[str, str]:
    account = bed.account("mastodon")
    return account, bed.post(account, "one", thread=("two", "three"), first_comment="note")


def ids(instance: MastodonFake) -> list[str]:
    return [s["id"] for s in instance.statuses()]


def test_a_root_created_then_timed_out_is_found_by_the_verify_and_never_posted_twice(
    bed: PublisherBed, platform: FakePlatform, instance: MastodonFake
) -> None:
    # Given an instance that makes the first status but answers after the client gave up
    platform.create_then_timeout("POST", STATUSES, when=text_is("one"))
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the verify found the root in the account's statuses and the thread went on from it
    assert instance.thread() == THREAD
    assert sent(platform) == ["one", "two", "three", "note"]
    assert platform.calls("GET", ACCOUNT_STATUSES)
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(PARTS, ids(instance), strict=True))
    assert target.platform_post_id == ids(instance)[0]
    assert [a.outcome for a in target.attempt_log] == ["unknown", "verified", "published"]
    # And every status carried the key persisted for its part
    key = target.idem_key
    assert [s["idempotency_key"] for s in instance.statuses()] == [
        key,
        f"{key}:1",
        f"{key}:2",
        f"{key}:comment",
    ]


def test_a_root_whose_answer_was_lost_is_sent_again_under_its_key_and_the_instance_dedupes(
    bed: PublisherBed, platform: FakePlatform, instance: MastodonFake
) -> None:
    # Given the first status is made but its answer lost, and the account's listing lags behind
    platform.create_then_timeout("POST", STATUSES, when=text_is("one"))
    platform.fail("GET", ACCOUNT_STATUSES, 200, [], times=None)
    account = bed.account("mastodon")
    post = bed.post(account, "one")
    # When the publisher runs until nothing is left to do (verify finds nothing, publishes again)
    bed.run_until_settled()
    # Then the second request carried the same Idempotency-Key and the instance answered with the
    # status it had made: one status
    assert sent(platform) == ["one", "one"]
    keys = [r.headers.get("Idempotency-Key") for r in platform.calls("POST", STATUSES)]
    target = bed.target(post, account)
    assert keys == [target.idem_key, target.idem_key]
    assert instance.thread() == [("one", None)]
    assert target.state is TargetState.PUBLISHED
    outcomes = [a.outcome for a in target.attempt_log]
    assert outcomes == ["unknown", "not_found_yet", "not_found_yet", "not_found", "published"]
    assert target.platform_post_id == ids(instance)[0]


def test_a_thread_part_answered_5xx_then_ok_resumes_at_that_part(
    bed: PublisherBed, platform: FakePlatform, instance: MastodonFake
) -> None:
    # Given an instance that answers 503 to the second status once
    platform.fail_when("POST", STATUSES, text_is("two"), 503, {"error": "Service Unavailable"})
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the retry began at that part, in reply to the landed root: every status once
    assert sent(platform) == ["one", "two", "two", "three", "note"]
    assert instance.thread() == THREAD
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(PARTS, ids(instance), strict=True))
    assert [a.outcome for a in target.attempt_log] == ["retry", "published"]
    assert bed.events.names() == []  # what follows a publish reads the table stream


def test_a_part_refused_for_good_leaves_the_post_partially_published_and_a_retry_completes_it(
    bed: PublisherBed, platform: FakePlatform, instance: MastodonFake
) -> None:
    # Given an instance that refuses the second status once, for good (422)
    platform.fail_when("POST", STATUSES, text_is("two"), 422, {"error": "Validation failed: Text too long"})
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the root is out, the target is partially published with what is out and what is missing
    assert instance.thread() == [("one", None)]
    [root] = ids(instance)
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "partially_published"
    assert (shown["parts"], shown["missing_parts"]) == ({"0": root}, ["1", "2", "comment"])
    assert shown["error"] == "Validation failed: Text too long"
    assert bed.events.names() == ["PublishPartiallyFailed"]

    # When an editor retries (the instance takes the status now)
    bed.retry(post)
    bed.run_until_settled()
    # Then only the missing parts went out, the first in reply to the landed root: each status once
    assert sent(platform) == ["one", "two", "two", "three", "note"]
    assert instance.thread() == THREAD
    final = bed.target(post, account)
    assert final.state is TargetState.PUBLISHED
    assert final.parts == dict(zip(PARTS, ids(instance), strict=True))


def test_a_worker_killed_between_parts_resumes_at_the_next_part(
    bed: PublisherBed, platform: FakePlatform, instance: MastodonFake
) -> None:
    # Given a worker that dies right after the second status landed (its landing persisted)
    account, post = thread_post(bed)
    bed.kill_after_landed("1")
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the redelivery resumed at the third status: nothing was posted twice
    assert sent(platform) == ["one", "two", "three", "note"]
    assert instance.thread() == THREAD
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(PARTS, ids(instance), strict=True))


def test_a_part_whose_answer_was_lost_is_resent_under_its_key_not_posted_twice(
    bed: PublisherBed, platform: FakePlatform, instance: MastodonFake
) -> None:
    # Given a connection cut right after the instance made the third status
    platform.create_then_drop("POST", STATUSES, when=text_is("three"))
    account, post = thread_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the part was found in its parent's context, not sent again: one status each
    assert instance.thread() == THREAD
    assert sent(platform) == ["one", "two", "three", "note"]
    [look] = platform.calls("GET", CONTEXT)
    assert look.path == f"/api/v1/statuses/{ids(instance)[1]}/context"
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(PARTS, ids(instance), strict=True))
    assert [a.outcome for a in target.attempt_log] == ["unknown", "verified", "published"]


def test_media_processing_is_waited_for_in_steps_then_the_status_attaches_it(
    bed: PublisherBed, platform: FakePlatform, instance: MastodonFake
) -> None:
    # Given an instance that processes an image asynchronously: 202, then two 206 polls, then 200
    instance.polls_before_processed = 2
    account = bed.account("mastodon")
    image = MediaRef(mime_type="image/jpeg", url=f"{platform.url}/media/cat.jpg", alt_text="A cat")
    post = bed.post(account, "look", media=(image,))
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the image was uploaded once, polled in steps (no call waited), and attached to one status
    [media] = platform.records["media"]
    assert media["description"] == "A cat"
    assert len(platform.calls("POST", MEDIA)) == 1
    assert len(platform.calls("GET", MEDIA_ITEM)) == 3
    assert [s["media_ids"] for s in instance.statuses()] == [[media["id"]]]
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    polls = [d for m, d in bed.queue.sent if m.kind == "step"]
    assert polls[:3] == [MEDIA_POLL_DELAY_S] * 3


def test_media_never_processed_fails_the_target_with_the_instances_last_answer_after_the_last_poll(
    bed: PublisherBed, platform: FakePlatform, instance: MastodonFake
) -> None:
    # Given an image the instance never finishes processing
    instance.polls_before_processed = 10 * MAX_MEDIA_POLLS
    account = bed.account("mastodon")
    post = bed.post(
        account, "look", media=(MediaRef(mime_type="image/jpeg", url=f"{platform.url}/media/a.jpg"),)
    )
    # When the publisher runs until nothing is left to do
    bed.run_until_settled(max_deliveries=MAX_MEDIA_POLLS + 10)
    # Then it polled a bounded number of times, then failed with the 206, and posted nothing
    assert len(platform.calls("GET", MEDIA_ITEM)) == MAX_MEDIA_POLLS
    assert "status" not in platform.records
    target = bed.target(post, account)
    assert target.state is TargetState.FAILED
    assert "still processing" in (target.error or "")
    assert target.attempt_log[-1].status == 206
