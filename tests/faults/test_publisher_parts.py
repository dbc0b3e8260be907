"""Exactly once, part by part: the real publisher and the sandbox adapter against a fake platform with
scripted faults. Each scenario asserts the exact records on the platform and the target's final state."""

from __future__ import annotations

from typing import Any

from chorus.posts.model import TargetState
from chorus.posts.publisher import VERIFY_LOOKS
from tests.faults.harness import FakePlatform, PublisherBed, Request
from tests.faults.sandbox_fake import POSTS, sandbox_routes


def text_is(text: str) -> Any:
    return lambda req: (req.json or {}).get("text") == text


def posts(platform: FakePlatform) -> list[tuple[str, str | None]]:
    """(text, text of the post it replies to) of every post on the platform, in creation order."""
    made = platform.records.get("post", [])
    by_id = {p["id"]: p for p in made}
    return [(p["text"], by_id[p["reply_to"]]["text"] if p["reply_to"] else None) for p in made]


def creates(platform: FakePlatform) -> list[str]:
    """The text of every create request the platform received (also those a fault answered)."""
    return [(r.json or {}).get("text", "") for r in platform.calls("POST", POSTS)]


def ids(platform: FakePlatform) -> list[str]:
    return [p["id"] for p in platform.records.get("post", [])]


def thread_bed(bed: PublisherBed, platform: FakePlatform) -> tuple[str, str]:
    sandbox_routes(platform)
    account = bed.account()
    return account, bed.post(account, "one", thread=("two", "three"), first_comment="comment")


THREAD = [("one", None), ("two", "one"), ("three", "two"), ("comment", "one")]


def test_a_root_created_then_timed_out_is_verified_not_published_twice(
    bed: PublisherBed, platform: FakePlatform
) -> None:
    # Given a platform that creates the root post but never answers the request
    platform.create_then_timeout("POST", POSTS, when=text_is("one"))
    account, post = thread_bed(bed, platform)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the root was found by its persisted key and the thread went on from it: each part once
    assert posts(platform) == THREAD
    assert creates(platform) == ["one", "two", "three", "comment"]
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(["0", "1", "2", "comment"], ids(platform), strict=True))
    assert target.platform_post_id == ids(platform)[0]
    assert [a.outcome for a in target.attempt_log] == ["unknown", "verified", "published"]
    assert platform.records["post"][0]["idem_key"] == target.idem_key


def test_a_thread_part_answered_5xx_then_ok_resumes_at_that_part(
    bed: PublisherBed, platform: FakePlatform
) -> None:
    # Given a platform that answers 503 to the second part once
    platform.fail_when("POST", POSTS, text_is("two"), 503, {"error": "unavailable", "message": "try later"})
    account, post = thread_bed(bed, platform)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the retry began at the failed part: the root went out once, every part exists once
    assert creates(platform) == ["one", "two", "two", "three", "comment"]
    assert posts(platform) == THREAD
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(["0", "1", "2", "comment"], ids(platform), strict=True))
    assert target.sent_parts == frozenset()
    assert bed.events.names() == []  # what follows a publish reads the table stream


def test_a_part_refused_for_good_leaves_the_post_partially_published_and_a_retry_completes_it(
    bed: PublisherBed, platform: FakePlatform
) -> None:
    # Given a platform that refuses the third post once, for good (a 4xx)
    refusal = {"error": "validation", "message": "text too long for a reply"}
    platform.fail_when("POST", POSTS, text_is("three"), 422, refusal)
    account, post = thread_bed(bed, platform)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the target is partially published, the parts out and missing listed, and an alert raised
    assert posts(platform) == THREAD[:2]
    root, two = ids(platform)
    shown = bed.public(post)
    assert shown["status"] == "partially_published"
    target = shown["targets"][0]
    assert target["state"] == "partially_published"
    assert (target["parts"], target["missing_parts"]) == ({"0": root, "1": two}, ["2", "comment"])
    assert (target["error"], target["error_code"]) == ("text too long for a reply", "validation")
    assert target["platform_post_id"] == root
    assert bed.events.names() == ["PublishPartiallyFailed"]
    alert = bed.events.events[0].data
    assert alert["parts"] == {"0": root, "1": two}
    assert alert["missing_parts"] == ["2", "comment"]
    key = bed.target(post, account).idem_key

    # When an editor retries the post (the platform takes the part now)
    bed.retry(post)
    bed.run_until_settled()
    # Then only the missing parts went out, under the same key: the thread is complete, each part once
    assert posts(platform) == THREAD
    assert creates(platform) == ["one", "two", "three", "three", "comment"]
    final = bed.target(post, account)
    assert final.state is TargetState.PUBLISHED
    assert final.idem_key == key
    assert final.parts == dict(zip(["0", "1", "2", "comment"], ids(platform), strict=True))
    assert bed.events.names() == ["PublishPartiallyFailed"]
    assert bed.public(post)["targets"][0]["missing_parts"] == []


def test_a_worker_killed_between_parts_resumes_at_the_next_part(
    bed: PublisherBed, platform: FakePlatform
) -> None:
    # Given a worker that dies right after the second post landed (its landing persisted)
    account, post = thread_bed(bed, platform)
    bed.kill_after_landed("1")
    # When SQS redelivers the message and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the redelivery resumed at the third post: nothing was published twice
    assert creates(platform) == ["one", "two", "three", "comment"]
    assert posts(platform) == THREAD
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(["0", "1", "2", "comment"], ids(platform), strict=True))


def test_a_worker_killed_mid_call_verifies_the_part_before_sending_it_again(
    bed: PublisherBed, platform: FakePlatform
) -> None:
    # Given a worker that dies once the second post is marked sent (its request never went out)
    account, post = thread_bed(bed, platform)
    bed.kill_after_sent("1")
    # When SQS redelivers the message and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the redelivery looked for the part (VERIFY_LOOKS times: it was not there), sent it once,
    # and went on with the rest: nothing twice, nothing missing
    assert creates(platform) == ["one", "two", "three", "comment"]
    assert posts(platform) == THREAD
    assert len(platform.calls("GET", POSTS)) == VERIFY_LOOKS
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == dict(zip(["0", "1", "2", "comment"], ids(platform), strict=True))


def test_a_part_whose_answer_was_lost_is_looked_up_not_sent_again(
    bed: PublisherBed, platform: FakePlatform
) -> None:
    # Given a connection cut right after the platform made the third post (no answer came back)
    account, post = thread_bed(bed, platform)
    cut = []

    def die_after_create(req: Request) -> bool:
        if (req.json or {}).get("text") == "three" and not cut:
            cut.append(req)
            return True
        return False

    platform.create_then_drop("POST", POSTS, when=die_after_create)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the part sent without an answer was looked up by its key (found) and not sent again
    assert posts(platform) == THREAD
    assert creates(platform) == ["one", "two", "three", "comment"]
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_a_verify_that_does_not_see_the_post_yet_looks_again_and_finds_it(
    bed: PublisherBed, platform: FakePlatform
) -> None:
    # Given a root created then timed out, and a listing that shows it only from the second look
    sandbox_routes(platform)
    platform.create_then_timeout("POST", POSTS)
    platform.fail("GET", POSTS, 200, {"posts": []})
    account = bed.account()
    post = bed.post(account, "one")
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then it looked twice, found the post, and never sent it again
    assert posts(platform) == [("one", None)]
    assert len(platform.calls("GET", POSTS)) == 2
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert [a.outcome for a in target.attempt_log] == ["unknown", "not_found_yet", "published"]


def test_a_post_the_platform_never_shows_is_published_again_after_the_last_look(
    bed: PublisherBed, platform: FakePlatform
) -> None:
    # Given a create request cut off before the platform made anything
    sandbox_routes(platform)
    platform.drop("POST", POSTS)
    account = bed.account()
    post = bed.post(account, "one")
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then it looked VERIFY_LOOKS times, concluded "not published" and sent the post again, once
    assert len(platform.calls("GET", POSTS)) == VERIFY_LOOKS
    assert creates(platform) == ["one", "one"]
    assert posts(platform) == [("one", None)]
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    # And both requests carried the key persisted before the first (never one recomputed for the retry)
    assert [(r.json or {})["idem_key"] for r in platform.calls("POST", POSTS)] == [target.idem_key] * 2
    assert [a.outcome for a in target.attempt_log] == [
        "unknown", "not_found_yet", "not_found_yet", "not_found", "published"
    ]  # fmt: skip


def test_an_edit_after_a_failure_publishes_under_a_new_key(bed: PublisherBed, platform: FakePlatform) -> None:
    # Given a post whose root the platform refused for good
    sandbox_routes(platform)
    platform.fail("POST", POSTS, 400, {"error": "validation", "message": "no"})
    account = bed.account()
    post = bed.post(account, "first text")
    bed.run_until_settled()
    failed = bed.target(post, account)
    assert failed.state is TargetState.FAILED
    assert failed.idem_key is not None
    # When its content is edited (the edit hands it to the queue again) and it publishes
    edited = bed.edit(post, account, "second text")
    assert edited.targets[0].idem_key is None
    bed.run_until_settled()
    # Then the new content went out under a fresh key, once
    final = bed.target(post, account)
    assert final.state is TargetState.PUBLISHED
    assert final.idem_key not in (None, failed.idem_key)
    assert [(p["text"], p["idem_key"]) for p in platform.records["post"]] == [("second text", final.idem_key)]
