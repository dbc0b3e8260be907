"""WeChat Official Accounts under faults: the real publisher and WeChatPublisher against a fake WeChat
API on 127.0.0.1, the access token shared through the main table (moto). An article is steps: each image
a permanent material (``image:<n>``), the draft (``draft``), the submit (root ``"0"``: the publish_id),
then ``freepublish/get`` polled until published. Each scenario asserts the exact records on the fake
and the target's state."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from chorus.platforms.base import AccountCredentials
from chorus.platforms.wechat.token import AccessTokens, api_url
from chorus.posts.model import MediaRef, TargetState
from chorus.store.app_tokens import DynamoAppTokens
from tests.faults.fakes.wechat import (
    ACCOUNT,
    APP_ID,
    APP_SECRET,
    BATCHGET,
    COVER,
    COVER_BYTES,
    DRAFT,
    PHOTO,
    PHOTO_BYTES,
    SUBMIT,
    WeChat,
    app_extra,
    drafts,
    errcode,
    titles,
    wechat_platform,
)
from tests.faults.harness import FakePlatform, PublisherBed

TEXT = "新品上市：柠檬挞\n\n今天起，门店供应柠檬挞。\n欢迎品尝！"
TITLE = "新品上市：柠檬挞"


@pytest.fixture
def knobs(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> WeChat:
    return wechat_platform(platform, monkeypatch)


def account(bed: PublisherBed) -> str:
    return bed.account("wechat", ACCOUNT, token="unused-stored-token", extra=app_extra())


def cover(platform: FakePlatform) -> MediaRef:
    return MediaRef(mime_type="image/jpeg", url=f"{platform.url}{COVER}")


def photo(platform: FakePlatform) -> MediaRef:
    return MediaRef(mime_type="image/png", url=f"{platform.url}{PHOTO}")


def published_once(bed: PublisherBed, platform: FakePlatform, post: str, acct: str) -> None:
    """One article, published, its id and URL on the target."""
    assert titles(platform) == [TITLE]
    (article,) = platform.records["article"]
    target = bed.target(post, acct)
    assert target.state is TargetState.PUBLISHED
    assert (target.platform_post_id, target.url) == (article["id"], article["url"])


def test_an_article_is_uploaded_drafted_submitted_polled_and_published_once(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    # Given a cover and a second image, and a publish job that reads "publishing" twice
    knobs.publishing_reads = 2
    acct = account(bed)
    post = bed.post(acct, TEXT, media=(cover(platform), photo(platform)), link="https://example.com/tart")
    # When the publisher runs until nothing is left to do
    bed.run_until_settled()
    # Then: two materials, one draft with the cover and the second image in its content, one submit,
    # three status reads, one token fetch; the article's URL is on the target
    materials = platform.records["material"]
    assert drafts(platform) == [(TITLE, materials[0]["id"])]
    draft = platform.records["draft"][0]
    assert draft["escaped"] is False  # UTF-8 as written, no \uXXXX escapes
    assert draft["article"]["content"] == (
        f'<p>今天起，门店供应柠檬挞。<br/>欢迎品尝！</p><p><img src="{materials[1]["url"]}"/></p>'
    )
    assert draft["article"]["content_source_url"].startswith("https://example.com/tart?utm_source=wechat")
    assert len(platform.calls("POST", SUBMIT)) == 1
    assert platform.records["publish"][0]["reads"] == 3
    assert len(platform.records["token"]) == 1
    published_once(bed, platform, post, acct)
    target = bed.target(post, acct)
    assert target.parts["draft"] == draft["id"]
    assert target.parts["0"] == platform.records["publish"][0]["id"]  # the publish_id, persisted


def test_a_draft_whose_answer_was_lost_is_drafted_again_and_published_once(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    # Given draft/add makes the draft but its answer never arrives
    platform.create_then_timeout("POST", DRAFT)
    acct = account(bed)
    post = bed.post(acct, TEXT, media=(cover(platform),))
    bed.run_until_settled()
    # Then the image was uploaded once; the second draft was submitted; the first stays unused
    assert len(platform.records["material"]) == 1
    assert [d["submitted"] for d in platform.records["draft"]] == [False, True]
    assert len(platform.calls("POST", SUBMIT)) == 1
    published_once(bed, platform, post, acct)


def test_a_submit_whose_answer_was_lost_is_found_among_the_published_articles_and_never_submitted_again(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    # Given freepublish/submit publishes at once but its answer (the publish_id) never arrives
    knobs.publishing_reads = 0
    platform.create_then_timeout("POST", SUBMIT)
    acct = account(bed)
    post = bed.post(acct, TEXT, media=(cover(platform),))
    bed.run_until_settled()
    # Then the verify found the article by its title: one submit, one article
    assert len(platform.calls("POST", SUBMIT)) == 1
    assert len(platform.calls("POST", BATCHGET)) >= 1
    published_once(bed, platform, post, acct)
    assert bed.target(post, acct).attempt_log[0].outcome == "unknown"


def test_a_worker_killed_after_the_draft_was_recorded_resumes_at_the_submit(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    acct = account(bed)
    post = bed.post(acct, TEXT, media=(cover(platform), photo(platform)))
    bed.kill_after_landed("draft")
    bed.run_until_settled()
    # Then nothing was uploaded or drafted again: two materials, one draft, one submit
    assert len(platform.records["material"]) == 2
    assert len(platform.records["draft"]) == 1
    assert len(platform.calls("POST", SUBMIT)) == 1
    published_once(bed, platform, post, acct)


def test_a_worker_killed_between_two_image_uploads_uploads_only_the_missing_one(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    acct = account(bed)
    post = bed.post(acct, TEXT, media=(cover(platform), photo(platform)))
    bed.kill_after_landed("image:0")
    bed.run_until_settled()
    assert [m["bytes"] for m in platform.records["material"]] == [len(COVER_BYTES), len(PHOTO_BYTES)]
    assert len(platform.records["draft"]) == 1
    published_once(bed, platform, post, acct)


def test_a_worker_killed_with_the_submit_marked_sent_looks_first_then_submits_once(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    acct = account(bed)
    post = bed.post(acct, TEXT, media=(cover(platform),))
    bed.kill_after_sent("0")
    bed.run_until_settled()
    # Then the redelivery looked among the published articles (nothing there), then submitted it once
    assert len(platform.calls("POST", BATCHGET)) >= 1
    assert len(platform.calls("POST", SUBMIT)) == 1
    published_once(bed, platform, post, acct)


def test_an_unverified_account_fails_at_the_submit_with_the_draft_kept_and_a_retry_resumes(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    # Given the submit (the part after the uploads and the draft) is refused: 48001, once
    platform.fail("POST", SUBMIT, 200, errcode(48001, "api unauthorized"))
    acct = account(bed)
    post = bed.post(acct, TEXT, media=(cover(platform),))
    bed.run_until_settled()
    # Then the target failed saying why, the image and draft recorded, the submit listed missing
    shown = bed.public(post)["targets"][0]
    assert shown["state"] == "failed"
    assert shown["error"].startswith("WeChat refused publishing: account not verified")
    assert "errcode 48001" in shown["error"]
    assert set(shown["parts"]) == {"image:0", "draft"}
    assert shown["missing_parts"] == ["0"]
    assert titles(platform) == []
    # When an editor retries it (the account is verified now)
    bed.retry(post)
    bed.run_until_settled()
    # Then it resumed at the submit: nothing uploaded or drafted again
    assert len(platform.records["material"]) == 1
    assert len(platform.records["draft"]) == 1
    published_once(bed, platform, post, acct)


def test_the_daily_quota_defers_the_target_until_it_resets_then_it_goes_out_once(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    platform.fail("POST", SUBMIT, 200, {"errcode": 45009, "errmsg": "reach max api daily quota limit rid: 1"})
    acct = account(bed)
    post = bed.post(acct, TEXT, media=(cover(platform),))
    bed.run_until_settled()
    # Then it waited (parked, not failed) with the reason shown, then went out once
    target = bed.target(post, acct)
    deferred = [a for a in target.attempt_log if a.outcome == "rate_limited"]
    assert deferred
    assert "daily API quota is used up" in (deferred[0].detail or "")
    assert any(delay >= 60 for _, delay in bed.queue.sent)
    assert len(platform.records["draft"]) == 1
    published_once(bed, platform, post, acct)


def test_an_expired_token_is_fetched_again_and_the_call_repeated_once(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    acct = account(bed)
    post = bed.post(acct, TEXT, media=(cover(platform),))
    # Given the token is fetched, then WeChat stops taking it before the draft (42001 as recorded)
    platform.fail("POST", DRAFT, 200, {"errcode": 42001, "errmsg": "access_token expired"})
    bed.run_until_settled()
    # Then a second token was fetched and the draft made once with it
    assert [t["id"] for t in platform.records["token"]] == ["ACCESS_TOKEN_1", "ACCESS_TOKEN_2"]
    assert len(platform.records["draft"]) == 1
    published_once(bed, platform, post, acct)


def test_a_publish_rejected_by_review_fails_with_the_reason(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    platform.fail("POST", r"/cgi-bin/freepublish/get", 200,
                  {"publish_id": "2247503051", "publish_status": 4, "fail_idx": [1]})  # fmt: skip
    acct = account(bed)
    post = bed.post(acct, TEXT, media=(cover(platform),))
    bed.run_until_settled()
    shown = bed.public(post)["targets"][0]
    assert (
        shown["error"] == "WeChat did not publish the article: the platform's review rejected it (article 1)"
    )
    assert shown["state"] in ("failed", "partially_published")


def test_concurrent_workers_share_one_token_and_wechat_is_asked_once(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    # Given a slow token endpoint that invalidates the previous token at every fetch (strict), and
    # eight workers (each its own AccessTokens, as separate Lambda containers) asking at once
    knobs.token_delay_s = 0.3
    creds = AccountCredentials("wechat", ACCOUNT, "unused", extra=app_extra())
    start = threading.Barrier(8)

    def worker(_: int) -> str:
        tokens = AccessTokens(store=DynamoAppTokens())
        start.wait()
        return tokens.token(api_url(), creds)[0]

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(worker, range(8)))
    # Then WeChat issued one token, every worker holds it, and it still works
    assert [t["id"] for t in platform.records["token"]] == ["ACCESS_TOKEN_1"]
    assert got == ["ACCESS_TOKEN_1"] * 8
    assert knobs.valid == {"ACCESS_TOKEN_1"}
    # And it is kept encrypted: the main table holds no plain token
    held = DynamoAppTokens().held(APP_ID)
    assert held is not None
    assert held.token == "ACCESS_TOKEN_1"
    assert held.expires_at > datetime.now(UTC)
    assert APP_SECRET not in repr(held)


def test_the_stored_token_is_encrypted_at_rest(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    from chorus.store.app_tokens import SK, AppTokenItem

    creds = AccountCredentials("wechat", ACCOUNT, "unused", extra=app_extra())
    AccessTokens(store=DynamoAppTokens()).token(api_url(), creds)
    item = AppTokenItem.get(f"APPTOKEN#wechat#{APP_ID}", SK, consistent_read=True)
    assert item.token_blob
    assert "ACCESS_TOKEN_1" not in item.token_blob
    assert item.lease_until is None  # the fetch ended the lease


def test_the_lease_is_taken_once_until_it_expires_and_a_stored_token_ends_it(
    bed: PublisherBed, platform: FakePlatform, knobs: WeChat
) -> None:
    from datetime import timedelta

    from chorus.platforms.wechat.token import HeldToken

    store, now = DynamoAppTokens(), datetime.now(UTC)
    # A worker takes the lease; a second cannot while it runs, but can once a dead holder's lease expired
    assert store.lease(APP_ID, now, now + timedelta(seconds=30)) is True
    assert store.lease(APP_ID, now + timedelta(seconds=10), now + timedelta(seconds=40)) is False
    assert store.lease(APP_ID, now + timedelta(seconds=31), now + timedelta(seconds=61)) is True
    # Storing a token ends the lease; a refusal of another token marks nothing, of this one marks it
    store.keep(APP_ID, HeldToken("T1", now + timedelta(hours=2), now + timedelta(minutes=115)))
    assert store.lease(APP_ID, now, now + timedelta(seconds=30)) is True
    store.release(APP_ID)
    store.refused(APP_ID, "T0")
    assert store.held(APP_ID) == HeldToken("T1", now + timedelta(hours=2), now + timedelta(minutes=115))
    store.refused(APP_ID, "T1")
    held = store.held(APP_ID)
    assert held is not None
    assert held.refused is True
