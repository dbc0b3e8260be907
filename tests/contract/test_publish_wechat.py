"""WeChat article publishing against the documented requests and answers
(fixtures/platform_api/china/wechat): add_material per image (multipart ``media``, ``type=image``),
draft/add (the documented article fields, UTF-8 without \\uXXXX escapes), freepublish/submit
({media_id} -> publish_id), freepublish/get ({publish_id} -> publish_status 0/1/2..), the token from
stable_token, and every documented errcode answer read by the one table."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import (
    AuthError,
    MediaItem,
    PendingStep,
    PermanentError,
    Progress,
    PublishRequest,
    PublishResult,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.wechat import errors
from chorus.platforms.wechat.publish import DRAFT, POLL_STEP, WeChatPublisher
from tests.contract.replying import SENT_AT, Recorder, rsps
from tests.contract.wechat import API, APP_CREDS, CREDS, STABLE, china, memory_tokens

__all__ = ["rsps"]

MATERIAL = f"{API}/cgi-bin/material/add_material"
DRAFT_ADD = f"{API}/cgi-bin/draft/add"
SUBMIT = f"{API}/cgi-bin/freepublish/submit"
GET = f"{API}/cgi-bin/freepublish/get"
BATCHGET = f"{API}/cgi-bin/freepublish/batchget"
COVER = MediaItem(url="https://cdn.example/cover.jpg", mime_type="image/jpeg")
PHOTO = MediaItem(url="https://cdn.example/photo.png", mime_type="image/png")
TOKEN = {"access_token": "ACCESS_TOKEN"}


def jsonc(name: str) -> str:
    """A docs snippet that is not strict JSON (comments, unquoted placeholders), as text."""
    from tests.support import fixture_bytes

    return fixture_bytes(f"platform_api/china/wechat/{name}").decode("utf-8")


def documented_article_fields() -> set[str]:
    """The news article's fields as draft_add_request_docs.jsonc and the SKIT sample name them."""
    docs = set(re.findall(r'"(\w+)"\s*:', jsonc("draft_add_request_docs.jsonc").split("// 图片消息结构")[0]))
    return docs | set(china("draft_add_request_skit.json")["articles"][0])


def adapter() -> WeChatPublisher:
    return WeChatPublisher(requests.Session(), API, tokens=memory_tokens())


def request(
    text: str = "新品上市\n\n柠檬挞今天上市。", media: tuple[MediaItem, ...] = (COVER,), **kw: Any
) -> PublishRequest:
    return PublishRequest(
        target_id="t", text=text, media=media, progress=Progress("idem-1", SENT_AT, store=Recorder()), **kw
    )


def token(rsps: responses.RequestsMock) -> None:
    documented = china("stable_token_request_force_refresh_false_docs.json")
    documented.update(appid="APPID", secret="APPSECRET")
    rsps.post(
        STABLE,
        json=china("stable_token_response_docs.json"),
        match=[matchers.json_params_matcher(documented)],
    )


def material(rsps: responses.RequestsMock, item: MediaItem, body: bytes, answer: dict[str, Any]) -> None:
    rsps.get(item.url, body=body, content_type=item.mime_type)
    rsps.post(MATERIAL, json=answer, match=[matchers.query_param_matcher({**TOKEN, "type": "image"})])


def test_an_article_goes_through_material_draft_and_submit_with_the_documented_bodies(
    rsps: responses.RequestsMock,
) -> None:
    # Given the documented answers: add_material {media_id, url}, draft/add {media_id}, submit {publish_id}
    token(rsps)
    material(rsps, COVER, b"\xff\xd8cover", china("material_add_material_image_response_docs.json"))
    material(rsps, PHOTO, b"\x89PNGphoto", {"media_id": "MEDIA_ID_2", "url": "http://mmbiz.qpic.cn/photo"})
    rsps.post(
        DRAFT_ADD, json=china("draft_add_response_docs.json"), match=[matchers.query_param_matcher(TOKEN)]
    )
    rsps.post(SUBMIT, json=china("freepublish_submit_response_docs.json"),
              match=[matchers.json_params_matcher(china("freepublish_submit_request_docs.json"))])  # fmt: skip
    made = request(media=(COVER, PHOTO), link="https://example.com/tart")
    # When it is published
    result = adapter().publish(APP_CREDS, made)
    # Then each image was uploaded as multipart "media", the draft holds the documented fields only,
    # with the cover as thumb_media_id and the second image in the content, written in UTF-8
    upload = rsps.calls[2].request
    assert b'name="media"; filename="image.jpg"' in upload.body
    assert b"\xff\xd8cover" in upload.body
    raw = rsps.calls[5].request.body
    assert isinstance(raw, bytes)
    assert "新品上市".encode() in raw
    assert b"\\u" not in raw
    (article,) = json.loads(raw)["articles"]
    assert set(article) <= documented_article_fields()
    assert article == {
        "article_type": "news", "title": "新品上市", "content": '<p>柠檬挞今天上市。</p><p><img src="http://mmbiz.qpic.cn/photo"/></p>',
        "thumb_media_id": "MEDIA_ID_654321", "need_open_comment": 0, "only_fans_can_comment": 0,
        "content_source_url": "https://example.com/tart",
    }  # fmt: skip
    # And the submit's publish_id was persisted (the root) before the status is polled as a step
    assert result == PendingStep(POLL_STEP, {"polls": "0"}, delay_seconds=30)
    assert made.progress.landed[DRAFT] == "MEDIA_ID"
    assert made.progress.landed["0"] == "100000001"
    assert json.loads(made.progress.landed["image:0"]) == {
        "media_id": "MEDIA_ID_654321",
        "url": "https://example.com/image.jpg",
    }


def test_the_posts_wechat_options_fill_the_documented_digest_author_and_comment_fields(
    rsps: responses.RequestsMock,
) -> None:
    token(rsps)
    material(rsps, COVER, b"\xff\xd8cover", china("material_add_material_image_response_docs.json"))
    rsps.post(DRAFT_ADD, json=china("draft_add_response_docs.json"))
    rsps.post(SUBMIT, json=china("freepublish_submit_response_docs.json"))
    options = {"digest": "秋季新品", "author": "麦多多", "open_comment": "true", "fans_only_comment": "false"}
    adapter().publish(APP_CREDS, request(options=options))
    (article,) = json.loads(rsps.calls[3].request.body or b"{}")["articles"]
    assert set(article) <= documented_article_fields()
    assert (article["digest"], article["author"]) == ("秋季新品", "麦多多")
    assert (article["need_open_comment"], article["only_fans_can_comment"]) == (1, 0)


@pytest.mark.parametrize(
    "answer",
    ["freepublish_get_status1_publishing_docs.json", "freepublish_get_status1_publishing_legacy_docs.json"],
)
def test_a_job_still_publishing_is_polled_again(rsps: responses.RequestsMock, answer: str) -> None:
    token(rsps)
    rsps.post(
        GET,
        json=china(answer),
        match=[matchers.json_params_matcher(china("freepublish_get_request_docs.json"))],
    )
    made = request()
    made.progress.landed.update({"0": "100000001"})
    step = adapter().continue_publish(APP_CREDS, made, PendingStep(POLL_STEP, {"polls": "3"}))
    assert step == PendingStep(POLL_STEP, {"polls": "4"}, delay_seconds=30)


def test_status_0_is_published_with_the_article_id_and_url(rsps: responses.RequestsMock) -> None:
    token(rsps)
    rsps.post(GET, json=china("freepublish_get_status0_success_docs.json"))
    made = request()
    made.progress.landed.update({"0": "100000001"})
    result = adapter().continue_publish(APP_CREDS, made, PendingStep(POLL_STEP, {"polls": "1"}))
    assert result == PublishResult(platform_post_id="ARTICLE_ID", url="ARTICLE_URL")


def test_status_2_fails_naming_the_articles_that_failed_the_originality_check(
    rsps: responses.RequestsMock,
) -> None:
    token(rsps)
    rsps.post(GET, json=china("freepublish_get_status2_original_check_failed_docs.json"))
    made = request()
    made.progress.landed.update({"0": "100000001"})
    with pytest.raises(PermanentError) as refused:
        adapter().continue_publish(APP_CREDS, made, PendingStep(POLL_STEP, {}))
    assert (
        refused.value.message
        == "WeChat did not publish the article: the originality (原创) check failed (article 1, 2)"
    )
    assert refused.value.code == "2"


@pytest.mark.parametrize(("case", "says"), [
    ("3_general_failure", "publishing failed"), ("4_platform_review_rejected", "the platform's review rejected it (article 1)"),
    ("5_deleted_by_user_after_success", "deleted by the account"), ("6_banned_by_system_after_success", "banned by the platform"),
])  # fmt: skip
def test_statuses_3_to_6_fail_with_their_documented_meaning(
    rsps: responses.RequestsMock, case: str, says: str
) -> None:
    # The answers are DERIVED from the documented field rules (no platform sample exists): only the
    # status -> meaning mapping is checked here, no wire detail.
    token(rsps)
    rsps.post(GET, json=china("freepublish_get_status3to6_DERIVED_not_platform_samples.json")["cases"][case])
    made = request()
    made.progress.landed.update({"0": "100000001"})
    with pytest.raises(PermanentError) as refused:
        adapter().continue_publish(APP_CREDS, made, PendingStep(POLL_STEP, {}))
    assert says in refused.value.message


def test_a_lost_submit_answer_is_an_unknown_outcome_found_by_title_among_published_articles(
    rsps: responses.RequestsMock,
) -> None:
    token(rsps)
    rsps.post(SUBMIT, body=requests.ReadTimeout("read timed out"))
    made = request()
    made.progress.landed.update({"image:0": json.dumps({"media_id": "M", "url": ""}), DRAFT: "MEDIA_ID"})
    with pytest.raises(UnknownOutcome):
        adapter().publish(APP_CREDS, made)
    assert "0" in made.progress.sent
    # Then the verify lists the published articles (freepublish/batchget: built from its documented
    # fields, no sample in the fixtures) and finds the one with the title, published since the target began
    listing = {"total_count": 2, "item_count": 2, "item": [
        {"article_id": "OLD", "update_time": int(SENT_AT.timestamp()) - 3600,
         "content": {"news_item": [{"title": "新品上市", "url": "https://mp.weixin.qq.com/s/old"}]}},
        {"article_id": "ARTICLE_ID", "update_time": int(SENT_AT.timestamp()) + 60,
         "content": {"news_item": [{"title": "新品上市", "url": "https://mp.weixin.qq.com/s/new"}]}},
    ]}  # fmt: skip
    rsps.post(
        BATCHGET,
        json=listing,
        match=[matchers.json_params_matcher({"offset": 0, "count": 20, "no_content": 1})],
    )
    found = adapter().find_published(APP_CREDS, made)
    assert found == PublishResult(platform_post_id="ARTICLE_ID", url="https://mp.weixin.qq.com/s/new")


@pytest.mark.parametrize(
    "stale",
    ["errcode_40001_invalid_credential_wrapped.json", "errcode_42001_access_token_expired_recorded.json"],
)
def test_a_stale_token_is_fetched_again_and_the_submit_repeated_once(
    rsps: responses.RequestsMock, stale: str
) -> None:
    token(rsps)
    rsps.post(SUBMIT, json=china(stale))
    force = china("stable_token_request_force_refresh_true_docs.json") | {
        "appid": "APPID",
        "secret": "APPSECRET",
    }
    normal = china("stable_token_request_force_refresh_false_docs.json") | {
        "appid": "APPID",
        "secret": "APPSECRET",
    }
    # normal mode answers the refused token again (WeChat: still valid in its eyes): force mode is used
    rsps.post(
        STABLE, json=china("stable_token_response_docs.json"), match=[matchers.json_params_matcher(normal)]
    )
    rsps.post(
        STABLE, json={"access_token": "NEW", "expires_in": 7200}, match=[matchers.json_params_matcher(force)]
    )
    rsps.post(
        SUBMIT,
        json=china("freepublish_submit_response_docs.json"),
        match=[matchers.query_param_matcher({"access_token": "NEW"})],
    )
    made = request()
    made.progress.landed.update({"image:0": json.dumps({"media_id": "M", "url": ""}), DRAFT: "MEDIA_ID"})
    assert isinstance(adapter().publish(APP_CREDS, made), PendingStep)
    assert len([c for c in rsps.calls if c.request.url.startswith(SUBMIT)]) == 2
    assert made.progress.landed["0"] == "100000001"


def test_without_an_app_the_stored_token_is_used_and_a_stale_one_is_a_reauthorisation(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(SUBMIT, json=china("errcode_42001_access_token_expired_recorded.json"),
              match=[matchers.query_param_matcher({"access_token": "stored-token"})])  # fmt: skip
    made = request()
    made.progress.landed.update({"image:0": json.dumps({"media_id": "M", "url": ""}), DRAFT: "MEDIA_ID"})
    with pytest.raises(AuthError):
        adapter().publish(CREDS, made)
    assert "0" not in made.progress.sent  # refused: WeChat did nothing, nothing to verify


ERRCODE_FIXTURES = [
    ("errcode_40001_invalid_credential_wrapped.json", errors.StaleToken),
    ("errcode_42001_access_token_expired_recorded.json", errors.StaleToken),
    ("errcode_40013_invalid_appid_docs.json", AuthError),
    ("errcode_40125_invalid_appsecret_wrapped.json", AuthError),
    ("errcode_40164_invalid_ip_recorded.json", AuthError),
    ("errcode_40164_invalid_ip_rid_variant_wrapped.json", AuthError),
    ("errcode_41001_access_token_missing_wrapped.json", PermanentError),
    ("errcode_44003_empty_news_data_wrapped.json", PermanentError),
    ("errcode_45009_api_freq_out_of_limit_docs.json", RateLimited),
    ("errcode_45009_reach_max_api_daily_quota_limit_docs.json", RateLimited),
    ("errcode_48001_api_unauthorized_wrapped.json", PermanentError),
]


@pytest.mark.parametrize(("fixture", "kind"), ERRCODE_FIXTURES)
def test_every_documented_errcode_answer_is_read_by_its_code(fixture: str, kind: type[Exception]) -> None:
    body = china(fixture)
    with pytest.raises(kind) as raised:
        errors.raise_for_errcode(body, "publishing")
    assert type(raised.value) is kind
    assert raised.value.code == str(body["errcode"])  # type: ignore[attr-defined]


def test_48001_says_the_account_is_not_verified_and_45009_waits_until_midnight_in_beijing() -> None:
    from datetime import UTC, datetime

    with pytest.raises(PermanentError) as unverified:
        errors.raise_for_errcode(china("errcode_48001_api_unauthorized_wrapped.json"), "publishing")
    assert unverified.value.message.startswith("WeChat refused publishing: account not verified")
    ten_in_beijing = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    with pytest.raises(RateLimited) as quota:
        errors.raise_for_errcode(
            china("errcode_45009_reach_max_api_daily_quota_limit_docs.json"), "publishing", ten_in_beijing
        )
    assert quota.value.retry_after == 14 * 3600


@pytest.mark.parametrize(
    ("utc", "seconds"),
    [("2026-12-07T15:59:00", 60), ("2026-12-07T16:00:00", 24 * 3600), ("2026-12-06T16:00:01", 24 * 3600 - 1)],
)
def test_the_daily_quota_resets_at_midnight_beijing_across_the_utc_day(utc: str, seconds: int) -> None:
    from datetime import UTC, datetime

    assert errors.until_quota_reset(datetime.fromisoformat(utc).replace(tzinfo=UTC)) == seconds


def test_every_row_of_the_documented_errcode_table_has_its_action() -> None:
    expected = {-1: errors.Action.RETRY, 40001: errors.Action.STALE_TOKEN, 40014: errors.Action.STALE_TOKEN,
                42001: errors.Action.STALE_TOKEN, 40013: errors.Action.REAUTH, 40125: errors.Action.REAUTH,
                40164: errors.Action.REAUTH, 40243: errors.Action.REAUTH, 50004: errors.Action.REAUTH,
                50007: errors.Action.REAUTH, 45009: errors.Action.DEFER, 45011: errors.Action.DEFER,
                89503: errors.Action.DEFER, 89506: errors.Action.DEFER, 89507: errors.Action.DEFER}  # fmt: skip
    for row in china("errcode_table_selected_docs.json")["rows"]:
        code = row["errcode"]
        assert errors.action(code) is expected.get(code, errors.Action.PERMANENT), code
    with pytest.raises(TransientError):
        errors.raise_for_errcode({"errcode": -1, "errmsg": "system error"}, "publishing")


def test_a_post_without_a_cover_or_with_a_video_is_refused_before_any_call() -> None:
    with pytest.raises(PermanentError, match="needs a cover image"):
        adapter().publish(APP_CREDS, request(media=()))
    with pytest.raises(PermanentError, match="images only"):
        adapter().publish(
            APP_CREDS,
            request(media=(COVER, MediaItem(url="https://cdn.example/v.mp4", mime_type="video/mp4"))),
        )
