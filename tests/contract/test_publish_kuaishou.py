"""Kuaishou video publishing against the documented answers (fixtures/platform_api/china/kuaishou):
start_upload, the direct upload (the file as the body, nothing else), fragments and complete, publish,
the verification on the video list, and the ``result`` envelope mapped through the one table. The
fragment/complete/publish/list payloads are not documented (``_endpoints.json``: UNVERIFIED): only
``result``, ``error_msg``, ``video_info.photo_id`` and the list's ``photo_id``/``caption``/``create_time``
are read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MediaItem,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
    UnknownOutcome,
)
from chorus.platforms.kuaishou import api
from chorus.platforms.kuaishou import publish as kuaishou_publish
from chorus.platforms.kuaishou.publish import KuaishouPublisher
from tests.support import fixture_json

BASE = "https://open.kuaishou.com/openapi/photo"
CREDS = AccountCredentials(
    platform="kuaishou", account_id="f8d7", access_token="ks-1", extra={"app_id": "ks-app"}
)
AUTH = {"app_id": "ks-app", "access_token": "ks-1"}
VIDEO = bytes(range(24))
MP4 = MediaItem(url="https://cdn.example/clip.mp4", mime_type="video/mp4", size=len(VIDEO))
START = fixture_json("platform_api/china/kuaishou/photo_start_upload_response_docs.json")
UPLOADER = f"http://{START['endpoint']}/api"


def doc(name: str) -> Any:
    return fixture_json(f"platform_api/china/kuaishou/{name}")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def publish_call(rsps: responses.RequestsMock, answer: Any = None) -> None:
    rsps.post(f"{BASE}/publish", json=answer or {"result": 1, "video_info": {"photo_id": "3xabc"}},
              match=[matchers.query_param_matcher({**AUTH, "upload_token": START["upload_token"]})])  # fmt: skip


def test_a_small_video_is_started_sent_as_the_body_and_published(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{BASE}/start_upload", json=START, match=[matchers.query_param_matcher(AUTH)])
    rsps.get(MP4.url, body=VIDEO, content_type="video/mp4")
    rsps.post(f"{UPLOADER}/upload", json=doc("upload_direct_response_docs.json"),
              match=[matchers.query_param_matcher({"upload_token": START["upload_token"]}),
                     matchers.header_matcher({"Content-Type": "video/mp4"})])  # fmt: skip
    publish_call(rsps)
    wanted = PublishRequest("t-1", "老铁 666", media=(MP4,))
    result = KuaishouPublisher(requests.Session()).publish(CREDS, wanted)
    assert result == PublishResult("3xabc", "https://www.kuaishou.com/short-video/3xabc")
    direct = rsps.calls[2].request
    assert direct.body == VIDEO  # the file itself: no boundary, no form
    caption = rsps.calls[3].request.body
    assert isinstance(caption, bytes)
    assert b'name="caption"' in caption
    assert "老铁 666".encode() in caption


def test_a_large_video_goes_in_fragments_then_complete(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kuaishou_publish, "DIRECT_MAX_BYTES", 16)
    monkeypatch.setattr(kuaishou_publish, "FRAGMENT_BYTES", 10)  # 24 bytes: fragments 0..2
    rsps.post(f"{BASE}/start_upload", json=START)
    for index, (first, last) in enumerate(((0, 9), (10, 19), (20, 23))):
        rsps.get(MP4.url, body=VIDEO[first : last + 1], status=206,
                 headers={"Content-Range": f"bytes {first}-{last}/24"},
                 match=[matchers.header_matcher({"Range": f"bytes={first}-{last}"})])  # fmt: skip
        rsps.post(f"{UPLOADER}/upload/fragment", json={"result": 1},
                  match=[matchers.query_param_matcher({"upload_token": START["upload_token"], "fragment_id": str(index)})])  # fmt: skip
    rsps.post(f"{UPLOADER}/upload/complete", json={"result": 1},
              match=[matchers.query_param_matcher({"upload_token": START["upload_token"], "fragment_count": "3"})])  # fmt: skip
    publish_call(rsps)
    wanted = PublishRequest("t-1", "大文件", media=(MP4,))
    adapter = KuaishouPublisher(requests.Session())
    step = adapter.publish(CREDS, wanted)  # the fragments fill this call's budget: the rest is a step
    assert step == PendingStep("continue", {}, delay_seconds=1)
    assert isinstance(adapter.continue_publish(CREDS, wanted, step), PublishResult)
    sent = [c.request.body for c in rsps.calls if "/upload/fragment" in (c.request.url or "")]
    assert sent == [VIDEO[0:10], VIDEO[10:20], VIDEO[20:24]]
    assert set(wanted.progress.landed) == {"upload", "fragment:0", "fragment:1", "fragment:2", "media", "0"}


def test_a_lost_publish_answer_is_verified_on_the_video_list(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{BASE}/start_upload", json=START)
    rsps.get(MP4.url, body=VIDEO)
    rsps.post(f"{UPLOADER}/upload", json={"result": 1})
    rsps.post(f"{BASE}/publish", body=requests.ReadTimeout("read timed out"))
    wanted = PublishRequest("t-1", "找一找", media=(MP4,))
    adapter = KuaishouPublisher(requests.Session())
    with pytest.raises(UnknownOutcome):
        adapter.publish(CREDS, wanted)
    started = wanted.progress.started_at
    rsps.get(f"{BASE}/list", json={"result": 1, "video_list": [
        {"photo_id": "3xold", "caption": "找一找", "create_time": int((started - timedelta(days=1)).timestamp() * 1000)},
        {"photo_id": "3xsecs", "caption": "找一找", "create_time": int((started - timedelta(days=1)).timestamp())},
        {"photo_id": "3xnew", "caption": "找一找", "create_time": int(started.timestamp())},
    ]}, match=[matchers.query_param_matcher({**AUTH, "count": "20"})])  # fmt: skip
    assert adapter.find_published(CREDS, wanted) == PublishResult(
        "3xnew", "https://www.kuaishou.com/short-video/3xnew"
    )


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        (doc("error_envelope_result_code_docs.json"), PermanentError, "10000200"),
        ({"result": 100200102, "error_msg": "无效的 access_token"}, AuthError, "100200102"),
        ({"result": 2, "error_msg": "unknown"}, PermanentError, "2"),
    ],
)
def test_the_result_envelope_maps_through_the_one_table(answer: Any, error: type, code: str) -> None:
    with pytest.raises(error) as raised:
        api.checked(answer)
    assert (type(raised.value), raised.value.code) == (error, code)


def test_the_documented_successes_pass() -> None:
    for name in ("photo_start_upload_response_docs.json", "upload_direct_response_docs.json",
                 "oauth2_access_token_response_docs.json", "oauth2_refresh_token_response_docs.json"):  # fmt: skip
        assert api.checked(doc(name))["result"] == 1


def test_an_account_without_its_app_id_cannot_publish() -> None:
    creds = AccountCredentials("kuaishou", "f8d7", "ks-1")
    with pytest.raises(PermanentError) as refused:
        KuaishouPublisher().publish(creds, PublishRequest("t", "x", media=(MP4,)))
    assert refused.value.code == "app_required"


def test_an_endpoint_that_is_not_a_bare_host_is_refused(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{BASE}/start_upload", json={**START, "endpoint": "evil.example/path?x="})
    with pytest.raises(PermanentError):
        KuaishouPublisher(requests.Session()).publish(CREDS, PublishRequest("t", "x", media=(MP4,)))


def test_an_image_beside_the_video_goes_as_its_cover(rsps: responses.RequestsMock) -> None:
    cover = MediaItem(url="https://cdn.example/cover.jpg", mime_type="image/jpeg")
    rsps.post(f"{BASE}/start_upload", json=START)
    rsps.get(MP4.url, body=VIDEO)
    rsps.post(f"{UPLOADER}/upload", json={"result": 1})
    rsps.get(cover.url, body=b"\xff\xd8\xff\xe0JFIF-cover", content_type="image/jpeg")
    publish_call(rsps)
    result = KuaishouPublisher(requests.Session()).publish(
        CREDS, PublishRequest("t-1", "封面", media=(cover, MP4))
    )
    assert isinstance(result, PublishResult)
    body = rsps.calls[-1].request.body
    assert isinstance(body, bytes)
    assert b'name="cover"' in body
    assert b"JFIF-cover" in body
    assert VIDEO not in body  # the video went to the uploader, not with the publish


def test_two_images_or_two_videos_are_refused() -> None:
    jpeg = MediaItem(url="https://cdn.example/a.jpg", mime_type="image/jpeg")
    for media in ((MP4, jpeg, jpeg), (MP4, MP4), (jpeg,)):
        with pytest.raises(PermanentError) as refused:
            KuaishouPublisher().publish(CREDS, PublishRequest("t", "x", media=media))
        assert refused.value.code == "video_required"
