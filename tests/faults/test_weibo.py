"""Weibo under faults: the real publisher and WeiboPublisher against a fake Weibo API on 127.0.0.1. A status
is one part (the root), shared once through ``statuses/share``; Weibo takes no idempotency key, so a lost
answer is verified on the account's own timeline, and **20019 repeat content** (what a resend after a
lost answer meets) is verified too, never taken as a failure nor sent again. Each scenario asserts the
exact statuses on the fake and the target's state."""

from __future__ import annotations

import pytest

from chorus.posts.model import MediaRef, TargetState
from tests.faults.fakes.weibo import (
    LIMITS,
    PICTURE,
    RIP,
    SAFE_DOMAIN,
    SHARE,
    SHORT_LINK,
    TIMELINE,
    UID,
    Weibo,
    weibo_error,
    weibo_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed, WorkerKilled

LINK = f"https://{SAFE_DOMAIN}/winter-menu"


@pytest.fixture
def knobs(bed: PublisherBed, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Weibo:
    return weibo_platform(platform, monkeypatch)


def account(bed: PublisherBed, knobs: Weibo) -> str:
    return bed.account("weibo", UID, token=knobs.token)


def statuses(platform: FakePlatform) -> list[str]:
    return [s["text"] for s in platform.records.get("status", [])]


def shown(text: str) -> str:
    """The text as the fake shows it: the link as a t.cn short link."""
    return f"{text}\n\n{SHORT_LINK}"


def test_a_status_made_then_timed_out_is_found_on_the_timeline_and_never_shared_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Weibo
) -> None:
    # Given statuses/share makes the status but its answer never arrives
    platform.create_then_timeout("POST", SHARE)
    acct = account(bed, knobs)
    post = bed.post(acct, "冬季新品上市", link=LINK)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the verify found it on the own timeline: one status, shared once, its idstr recorded
    assert statuses(platform) == [shown("冬季新品上市")]
    assert len(platform.calls("POST", SHARE)) == 1
    assert len(platform.calls("GET", TIMELINE)) >= 1
    made = platform.records["status"][0]
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert target.platform_post_id == made["idstr"] != str(made["id"])
    assert target.url == f"https://weibo.com/{UID}/{made['idstr']}"
    assert target.attempt_log[0].outcome == "unknown"
    assert made["rip"] == RIP


def test_a_resend_after_a_lagging_timeline_meets_20019_and_verifies_rather_than_failing(
    bed: PublisherBed, platform: FakePlatform, knobs: Weibo
) -> None:
    # Given the status is made but its answer lost, and the timeline misses it for every look of the
    # first verify (so the publisher sends again, and Weibo answers 20019 repeat content)
    platform.create_then_timeout("POST", SHARE)
    knobs.timeline_lag = 3
    acct = account(bed, knobs)
    post = bed.post(acct, "冬季新品上市", link=LINK)
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the repeat was verified on the timeline: still one status, and the target published
    assert statuses(platform) == [shown("冬季新品上市")]
    assert len(platform.calls("POST", SHARE)) == 2
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert target.platform_post_id == platform.records["status"][0]["idstr"]
    assert [a.outcome for a in target.attempt_log].count("unknown") == 2


def test_a_worker_killed_between_the_claim_and_the_share_verifies_before_sharing(
    bed: PublisherBed, platform: FakePlatform, knobs: Weibo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a picture status whose worker dies once the status is claimed (marked sent with the
    # publishing transition), while it fetches the picture, before the share goes out
    from chorus.platforms.weibo import publish

    real, deaths = publish.fetch, []

    def dying(*args: object, **kw: object) -> object:
        if not deaths:
            deaths.append(1)
            raise WorkerKilled("worker killed while fetching the picture")
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(publish, "fetch", dying)
    acct = account(bed, knobs)
    post = bed.post(
        acct, "新品", link=LINK, media=(MediaRef(mime_type="image/png", url=f"{platform.url}{PICTURE}"),)
    )
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the redelivery looked on the timeline first (nothing there), then shared it once, with the picture
    assert deaths == [1]
    assert statuses(platform) == [shown("新品")]
    assert platform.records["status"][0]["pic"] is True
    assert len(platform.calls("POST", SHARE)) == 1
    assert len(platform.calls("GET", TIMELINE)) >= 1
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_worker_killed_after_weibo_answered_finds_the_status_and_never_shares_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Weibo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker that dies right after Weibo answered the share, before anything was written
    from chorus.platforms.weibo.api import WeiboApi

    real, deaths = WeiboApi.post, []

    def dying(self: WeiboApi, token: str, path: str, **kw: object) -> object:
        answer = real(self, token, path, **kw)
        if path == "statuses/share" and not deaths:
            deaths.append(1)
            raise WorkerKilled("worker killed after Weibo answered")
        return answer

    monkeypatch.setattr(WeiboApi, "post", dying)
    acct = account(bed, knobs)
    post = bed.post(acct, "新品", link=LINK)
    # When SQS redelivers and the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then the redelivery found the status on the timeline: shared once, its idstr recorded
    assert deaths == [1]
    assert statuses(platform) == [shown("新品")]
    assert len(platform.calls("POST", SHARE)) == 1
    assert len(platform.calls("GET", TIMELINE)) >= 1
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert target.parts == {"0": platform.records["status"][0]["idstr"]}


def test_a_refused_status_fails_with_weibos_reason_and_a_retry_shares_it_once(
    bed: PublisherBed, platform: FakePlatform, knobs: Weibo
) -> None:
    # Given Weibo refuses the share once for good (the app's domain not bound yet: 10017)
    platform.fail("POST", SHARE, 400, weibo_error(10017, "appkey not bind domain!"))
    acct = account(bed, knobs)
    post = bed.post(acct, "新品", link=LINK)
    bed.run_until_settled()
    # Then the target failed with Weibo's words, nothing on Weibo, the status listed missing
    assert statuses(platform) == []
    failed = bed.public(post)["targets"][0]
    assert failed["state"] == "failed"
    assert failed["error"] == "appkey not bind domain!"
    assert failed["missing_parts"] == ["0"]
    # When an editor retries it once the domain is bound
    bed.retry(post)
    bed.run_until_settled()
    assert statuses(platform) == [shown("新品")]
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_a_rate_limited_status_waits_for_the_reset_then_goes_out_once(
    bed: PublisherBed, platform: FakePlatform, knobs: Weibo
) -> None:
    knobs.reset_in = 900
    platform.fail("POST", SHARE, 403, weibo_error(10023, "User requests out of rate limit!"))
    acct = account(bed, knobs)
    post = bed.post(acct, "新品", link=LINK)
    bed.run_until_settled()
    assert statuses(platform) == [shown("新品")]
    assert len(platform.calls("GET", LIMITS)) == 1
    assert any(delay >= 900 for _, delay in bed.queue.sent)
    assert bed.target(post, acct).state is TargetState.PUBLISHED


def test_an_expired_token_fails_the_target_and_asks_for_the_account_again(
    bed: PublisherBed, platform: FakePlatform, knobs: Weibo
) -> None:
    acct = bed.account("weibo", UID, token="old-token")
    post = bed.post(acct, "新品", link=LINK)
    bed.run_until_settled()
    assert statuses(platform) == []
    assert bed.target(post, acct).state is TargetState.FAILED
    assert "AccountNeedsReauth" in bed.events.names()
