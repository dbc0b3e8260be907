"""Facebook Pages under faults: the real publisher and FacebookPublisher against a fake Graph API on
127.0.0.1. The post and its first comment are two parts; the Graph API has no idempotency key, so a part
sent without a known answer is looked up (the Page feed, the post's comments) before anything is sent
again. Each scenario asserts the exact records on the fake and the target's final state."""

from __future__ import annotations

import pytest

from chorus.posts.model import TargetState
from tests.faults.fakes.gateway import gateway_after_create
from tests.faults.fakes.graph import COMMENTS, FEED, PAGE, facebook_platform, graph_error, message_is
from tests.faults.harness import FakePlatform, PublisherBed


@pytest.fixture
def graph(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> FakePlatform:
    facebook_platform(platform, monkeypatch)
    return platform


def page_post(bed: PublisherBed) -> tuple[str, str]:
    account = bed.account("facebook", PAGE, token="page-token")
    return account, bed.post(account, "Spring menu", first_comment="Book at example.com")


def records(platform: FakePlatform) -> list[tuple[str, str, str]]:
    """(kind, text, parent) of every post and comment on the fake, in creation order per kind."""
    posts = [("post", p["message"], "") for p in platform.records.get("post", [])]
    comments = [("comment", c["message"], c["parent"]) for c in platform.records.get("comment", [])]
    return posts + comments


def expected(platform: FakePlatform) -> list[tuple[str, str, str]]:
    root = platform.records["post"][0]["id"]
    return [("post", "Spring menu", ""), ("comment", "Book at example.com", root)]


def writes(platform: FakePlatform) -> list[str]:
    """The message of every write the fake received (also those a fault answered)."""
    return [r.form.get("message", "") for r in platform.requests if r.method == "POST"]


def landed(platform: FakePlatform) -> dict[str, str]:
    return {"0": platform.records["post"][0]["id"], "comment": platform.records["comment"][0]["id"]}


def test_a_post_created_then_timed_out_is_found_in_the_feed_not_posted_twice(
    bed: PublisherBed, graph: FakePlatform
) -> None:
    # Given the Page feed creates the post but the answer never arrives
    graph.create_then_timeout("POST", FEED)
    account, post = page_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the post was verified in the feed and only the comment followed: one post, one comment
    assert records(graph) == expected(graph)
    assert writes(graph) == ["Spring menu", "Book at example.com"]
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == landed(graph)
    assert target.url == f"https://www.facebook.com/{landed(graph)['0']}"


def test_a_comment_created_then_cut_off_is_found_among_the_posts_comments(
    bed: PublisherBed, graph: FakePlatform
) -> None:
    # Given the comment is made but the connection drops before the answer
    graph.create_then_drop("POST", COMMENTS)
    account, post = page_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then find_part found the Page's comment: it was not posted again
    assert records(graph) == expected(graph)
    assert writes(graph) == ["Spring menu", "Book at example.com"]
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == landed(graph)


def test_the_comment_answered_503_then_ok_resumes_at_the_comment(
    bed: PublisherBed, graph: FakePlatform
) -> None:
    # Given the comment is answered 503 once
    graph.fail("POST", COMMENTS, 503, {"error": {"message": "Service temporarily unavailable", "code": 2}})
    account, post = page_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the retry sent only the comment: one post, one comment
    assert writes(graph) == ["Spring menu", "Book at example.com", "Book at example.com"]
    assert records(graph) == expected(graph)
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == landed(graph)
    assert bed.events.names() == []  # what follows a publish reads the table stream


def test_a_refused_comment_leaves_the_post_partially_published_and_a_retry_completes_it(
    bed: PublisherBed, graph: FakePlatform
) -> None:
    # Given the Graph API refuses the comment for good, once
    refusal = graph_error(400, 100, "Invalid parameter").body
    graph.fail_when("POST", COMMENTS, message_is("Book at example.com"), 400, refusal)
    account, post = page_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the post is out, the comment missing: partially published, listed, an alert raised
    assert records(graph) == [("post", "Spring menu", "")]
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "partially_published"
    assert shown["parts"] == {"0": graph.records["post"][0]["id"]}
    assert shown["missing_parts"] == ["comment"]
    assert shown["error"] == "Invalid parameter"
    assert bed.events.names() == ["PublishPartiallyFailed"]
    # When an editor retries it
    bed.retry(post)
    bed.run_until_settled()
    # Then only the comment went out
    assert writes(graph) == ["Spring menu", "Book at example.com", "Book at example.com"]
    assert records(graph) == expected(graph)
    target = bed.target(post, account)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == landed(graph)


def test_a_worker_killed_after_the_post_landed_resumes_with_the_comment(
    bed: PublisherBed, graph: FakePlatform
) -> None:
    # Given a worker that dies right after the post's landing was persisted
    account, post = page_post(bed)
    bed.kill_after_landed("0")
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the post was not made again; the comment followed once
    assert writes(graph) == ["Spring menu", "Book at example.com"]
    assert records(graph) == expected(graph)
    assert bed.target(post, account).state is TargetState.PUBLISHED


def test_a_502_from_the_gateway_after_the_post_was_made_is_verified_not_posted_twice(
    bed: PublisherBed, graph: FakePlatform
) -> None:
    # Given the Page feed makes the post but the gateway answers 502
    gateway_after_create(graph, "POST", FEED, 502, message_is("Spring menu"))
    account, post = page_post(bed)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the post was found in the feed: one post, one comment
    assert writes(graph) == ["Spring menu", "Book at example.com"]
    assert records(graph) == expected(graph)
    assert bed.target(post, account).state is TargetState.PUBLISHED
