"""Weibo statuses against the documented requests and answers (fixtures/platform_api/china/weibo): a text
and a picture status through ``statuses/share`` (form / multipart, ``rip``, the token in the header), the
id read from ``idstr``, the link rule checked before anything is sent, the error table (10017, 10014,
20019, 21327, rate limits with the reset from ``rate_limit_status``), verification on the own timeline,
deletion."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import (
    AuthError,
    MediaItem,
    PermanentError,
    Progress,
    PublishRequest,
    PublishResult,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.codes import Action
from chorus.platforms.weibo.api import ERRORS, REPEAT, parse_time
from chorus.platforms.weibo.publish import WeiboPublisher
from chorus.posts.validation import MediaSpec, validate
from tests.contract.weibo import API, AUTH, CREDS, RIP, SAFE_DOMAIN, UID, doc, weibo_app

__all__ = ["weibo_app"]

SHARE = f"{API}/2/statuses/share.json"
TIMELINE = f"{API}/2/statuses/user_timeline.json"
LIMITS = f"{API}/2/account/rate_limit_status.json"
LINK = f"https://{SAFE_DOMAIN}/menu"
TEXT = "分组定向图片微博"
PNG = MediaItem(url="https://cdn.example/cup.png", mime_type="image/png")
SHARED = doc("statuses_share_response_docs.json")
STATUS_ID = SHARED["idstr"]  # 3504803600502730; the numeric id (3504803600500000) differs


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def adapter(weibo_app: None) -> WeiboPublisher:
    return WeiboPublisher(session=requests.Session(), base_url=API)


def request(text: str = TEXT, **kw: object) -> PublishRequest:
    return PublishRequest(target_id="t", text=text, link=LINK, **kw)  # type: ignore[arg-type]


def test_a_text_status_is_the_documented_share_request_and_its_id_is_idstr(
    rsps: responses.RequestsMock, adapter: WeiboPublisher
) -> None:
    # Given the documented share answer, and the documented parameters: status (with the safe-domain
    # link), rip; the token in the Authorization header
    rsps.post(SHARE, json=SHARED, match=[matchers.header_matcher(AUTH), matchers.urlencoded_params_matcher(
        {"status": f"{TEXT}\n\n{LINK}", "rip": RIP})])  # fmt: skip
    made = request()
    # When it is published
    result = adapter.publish(CREDS, made)
    # Then the status's id is idstr, never the numeric id, and its URL is the account's
    assert result == PublishResult(STATUS_ID, f"https://weibo.com/{UID}/{STATUS_ID}")
    assert made.progress.landed == {"0": STATUS_ID}
    assert "access_token" not in (rsps.calls[0].request.url or "")
    documented = doc("statuses_share_request_params_docs.json")["params"]
    assert set(parse_qs(str(rsps.calls[0].request.body))) == {
        k for k in documented if k not in ("pic", "access_token")
    }


def test_a_picture_status_is_multipart_with_the_pic(
    rsps: responses.RequestsMock, adapter: WeiboPublisher
) -> None:
    rsps.get(PNG.url, body=b"\x89PNG\r\n\x1a\nfake", content_type="image/png")
    rsps.post(SHARE, json=SHARED, match=[matchers.header_matcher(AUTH)])
    result = adapter.publish(CREDS, request(media=(PNG,)))
    assert result.platform_post_id == STATUS_ID
    sent = rsps.calls[1].request
    body = sent.body if isinstance(sent.body, bytes) else str(sent.body).encode()
    assert str(sent.headers["Content-Type"]).startswith("multipart/form-data")
    assert b'name="pic"' in body
    assert b"\x89PNG" in body
    assert f'name="status"\r\n\r\n{TEXT}\n\n{LINK}'.encode() in body
    assert f'name="rip"\r\n\r\n{RIP}'.encode() in body


def test_a_status_without_a_safe_domain_link_is_refused_before_anything_is_sent(
    rsps: responses.RequestsMock, adapter: WeiboPublisher
) -> None:
    # Given a status whose only link is elsewhere (Weibo answers 10017 "text not find domain!")
    made = PublishRequest(target_id="t", text="新品上市 https://elsewhere.example/x")
    with pytest.raises(PermanentError) as refused:
        adapter.publish(CREDS, made)
    assert refused.value.code == "link_rule"
    assert SAFE_DOMAIN in refused.value.message
    assert made.progress.sent == set()
    assert len(rsps.calls) == 0


def test_the_composer_names_the_link_rule_the_topic_rule_and_weibos_count(weibo_app: None) -> None:
    assert validate("weibo", TEXT, link=LINK) == []
    (rule,) = validate("weibo", "新品上市 https://elsewhere.example/x")
    assert (rule.rule, rule.field) == ("text.platform_rule", "text")
    assert SAFE_DOMAIN in rule.message
    (topic,) = validate("weibo", "#新品#上市", link=LINK)
    assert "#topic#" in topic.message
    # 140 in all: 129 Chinese characters, the blank line before the link (two half-width: one) and the
    # link (10); or 258 Latin letters (129), the blank line and the link
    assert validate("weibo", "微" * 129, link=LINK) == []
    assert [v.rule for v in validate("weibo", "微" * 130, link=LINK)] == ["text.too_long"]
    assert validate("weibo", "a" * 258, link=LINK) == []
    assert [v.rule for v in validate("weibo", "a" * 259, link=LINK)] == ["text.too_long"]
    video = validate("weibo", TEXT, link=LINK, media=[MediaSpec("video/mp4")])
    assert [v.rule for v in video] == ["media.unsupported_type"]


@pytest.mark.parametrize(
    ("fixture", "status", "raised", "code"),
    [
        ("error_10017_text_not_find_domain_recorded.json", 400, PermanentError, "10017"),
        ("error_10017_appkey_not_bind_domain_wrapped.json", 400, PermanentError, "10017"),
        ("error_10014_insufficient_app_permissions_wrapped.json", 403, PermanentError, "10014"),
        ("error_10006_source_missing_docs.json", 400, PermanentError, "10006"),
        ("error_format_docs_2011.json", 403, PermanentError, "20502"),
    ],
)
def test_documented_refusals_fail_with_weibos_message(
    rsps: responses.RequestsMock, adapter: WeiboPublisher, fixture: str, status: int, raised: type, code: str
) -> None:
    body = doc(fixture)
    rsps.post(SHARE, json=body, status=status)
    made = request()
    with pytest.raises(raised) as failed:
        adapter.publish(CREDS, made)
    assert type(failed.value) is raised
    assert failed.value.code == code
    assert failed.value.message == body["error"]
    assert made.progress.sent == set()  # a definite refusal: nothing to verify


def test_repeat_content_after_a_lost_answer_is_verified_not_resent_nor_failed(
    rsps: responses.RequestsMock, adapter: WeiboPublisher
) -> None:
    # Given Weibo answers 20019 (the recorded payload): it has this text from the account already
    rsps.post(SHARE, json=doc("error_20019_repeat_content_recorded.json"), status=400)
    progress = Progress("k", datetime.now(UTC))
    # When it is published, and again with the same progress
    with pytest.raises(UnknownOutcome) as unknown:
        adapter.publish(CREDS, request(progress=progress))
    assert unknown.value.code == "20019"
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, request(progress=progress))
    # Then it went out once and stays marked sent: the publisher looks for it on the timeline
    assert len(rsps.calls) == 1
    assert progress.sent == {"0"}


def test_a_timeout_after_sending_is_an_unknown_outcome_never_sent_again(
    rsps: responses.RequestsMock, adapter: WeiboPublisher
) -> None:
    rsps.post(SHARE, body=requests.ReadTimeout("slow"))
    progress = Progress("k", datetime.now(UTC))
    for _ in range(2):
        with pytest.raises(UnknownOutcome):
            adapter.publish(CREDS, request(progress=progress))
    assert len(rsps.calls) == 1


def test_an_expired_token_needs_the_account_connected_again(
    rsps: responses.RequestsMock, adapter: WeiboPublisher
) -> None:
    rsps.post(SHARE, json={"error": "expired_token", "error_code": 21327, "request": "/2/statuses/share.json"},
              status=400)  # fmt: skip
    with pytest.raises(AuthError) as failed:
        adapter.publish(CREDS, request())
    assert failed.value.code == "21327"


def test_a_rate_limit_waits_for_the_reset_rate_limit_status_gives(
    rsps: responses.RequestsMock, adapter: WeiboPublisher
) -> None:
    # Given the user is over its limit (10023) and rate_limit_status answers as documented
    rsps.post(SHARE, json={"error": "User requests out of rate limit!", "error_code": 10023,
                           "request": "/2/statuses/share.json"}, status=403)  # fmt: skip
    rsps.get(
        LIMITS,
        json=doc("account_rate_limit_status_springsocialweibo.json"),
        match=[matchers.header_matcher(AUTH)],
    )
    made = request()
    with pytest.raises(RateLimited) as limited:
        adapter.publish(CREDS, made)
    # Then the target waits reset_time_in_seconds (2295), nothing marked sent
    assert limited.value.retry_after == 2295
    assert made.progress.sent == set()


def test_a_rate_limit_without_a_readable_reset_still_defers(
    rsps: responses.RequestsMock, adapter: WeiboPublisher
) -> None:
    rsps.post(SHARE, json={"error": "IP requests out of rate limit!", "error_code": "10022"}, status=403)
    rsps.get(LIMITS, status=500)
    with pytest.raises(RateLimited) as limited:
        adapter.publish(CREDS, request())
    assert limited.value.retry_after is None


def test_weibos_own_failures_are_retried(rsps: responses.RequestsMock, adapter: WeiboPublisher) -> None:
    rsps.post(SHARE, json={"error": "System error", "error_code": 10001, "request": "/2/statuses/share.json"},
              status=400)  # fmt: skip
    made = request()
    with pytest.raises(TransientError):
        adapter.publish(CREDS, made)
    assert made.progress.sent == set()


def test_the_error_table_holds_every_documented_code() -> None:
    codes = {int(row["error_code"]): row["error"] for row in doc("error_codes_selected_docs.json")["rows"]}
    actions = {code: action for code, (action, _) in ERRORS.items()}
    assert actions[10006] == actions[10014] == actions[10017] == Action.PERMANENT
    assert actions[21327] == actions[21325] == Action.REAUTH
    assert {actions[c] for c in (10022, 10023, 10024)} == {Action.DEFER}
    assert actions[10001] == Action.RETRY
    assert {10006, 10014, 10017, 10022, 10023, 10024, 21325, 21327} <= set(ERRORS) & set(codes)
    assert REPEAT == 20019
    assert REPEAT in codes


def timeline(text: str, created: datetime) -> dict[str, object]:
    """The own timeline (``statuses``: Status objects as documented) holding one status."""
    status = copy.deepcopy(SHARED)
    status["text"] = text
    status["created_at"] = created.astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")
    return {"statuses": [status], "total_number": 1}


def test_a_lost_status_is_found_on_the_own_timeline_with_its_link_shortened(
    rsps: responses.RequestsMock, adapter: WeiboPublisher
) -> None:
    # Given the timeline shows the status with Weibo's t.cn short link in place of ours
    rsps.get(TIMELINE, json=timeline(f"{TEXT}\n\nhttp://t.cn/A6abcdEF", datetime.now(UTC)),
             match=[matchers.header_matcher(AUTH), matchers.query_param_matcher({"count": "50", "trim_user": "1"})])  # fmt: skip
    found = adapter.find_published(CREDS, request())
    assert found == PublishResult(STATUS_ID, f"https://weibo.com/{UID}/{STATUS_ID}")


def test_an_older_status_with_the_same_text_is_not_taken_for_ours(
    rsps: responses.RequestsMock, adapter: WeiboPublisher
) -> None:
    rsps.get(TIMELINE, json=timeline(f"{TEXT}\n\n{LINK}", datetime.now(UTC) - timedelta(hours=3)))
    made = PublishRequest(target_id="t", text=TEXT, link=LINK, not_before=datetime.now(UTC))
    assert adapter.find_published(CREDS, made) is None


def test_weibo_times_are_read_as_utc() -> None:
    assert parse_time(SHARED["created_at"]) == datetime(2012, 10, 24, 15, 49, 17, tzinfo=UTC)
    assert parse_time("yesterday") is None


def test_delete_destroys_the_status_and_a_gone_one_counts_as_deleted(
    rsps: responses.RequestsMock, adapter: WeiboPublisher
) -> None:
    destroy = f"{API}/2/statuses/destroy.json"
    rsps.post(destroy, json=SHARED, match=[matchers.urlencoded_params_matcher({"id": STATUS_ID})])
    adapter.delete(CREDS, STATUS_ID)
    rsps.post(destroy, json={"error": "target weibo does not exist!", "error_code": 20101}, status=400)
    adapter.delete(CREDS, STATUS_ID)
    rsps.post(destroy, json={"error": "expired_token", "error_code": 21327}, status=400)
    with pytest.raises(AuthError):
        adapter.delete(CREDS, STATUS_ID)
