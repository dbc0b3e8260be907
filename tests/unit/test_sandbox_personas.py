"""The sandbox answering as real platforms (``/as/<platform>/...``): what it refuses as they refuse it,
and what it makes once, as the adapters' exactly-once verification relies on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from chorus.platforms.sandbox.personas import ANSWERED, IMAGE_PATH, NOT_ANSWERED, api_urls, claim
from chorus.platforms.sandbox.server import SandboxServer

AUTH = {"Authorization": "Bearer any-token"}


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    made = SandboxServer()
    made.start()
    yield made
    made.stop()


def made_on(sandbox: SandboxServer, platform: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{sandbox.url}/_control/published", timeout=5).json()["published"]
    return [m for m in answer if m["platform"] == platform]


def test_an_unknown_platform_or_route_is_a_404_naming_it(sandbox: SandboxServer) -> None:
    refused = requests.get(f"{sandbox.url}/as/zhihu/api/v4/me", headers=AUTH, timeout=5)
    assert refused.status_code == 404
    assert "does not answer as 'zhihu'" in refused.json()["message"]
    missing = requests.get(f"{sandbox.url}/as/x/2/nothing", headers=AUTH, timeout=5)
    assert missing.status_code == 404
    assert "GET /2/nothing" in missing.json()["message"]


def test_a_body_that_is_not_the_json_it_says_is_a_400(sandbox: SandboxServer) -> None:
    refused = requests.post(f"{sandbox.url}/as/x/2/tweets", data=b"{not json", timeout=5,
                            headers={**AUTH, "Content-Type": "application/json"})  # fmt: skip
    assert refused.status_code == 400
    assert made_on(sandbox, "x") == []


def test_no_token_or_a_revoked_one_is_a_401(sandbox: SandboxServer) -> None:
    assert requests.get(f"{sandbox.url}/as/x/2/users/me", timeout=5).status_code == 401
    requests.post(f"{sandbox.url}/_control/revoke", json={"token": "any-token"}, timeout=5)
    assert requests.get(f"{sandbox.url}/as/x/2/users/me", headers=AUTH, timeout=5).status_code == 401


def test_mastodon_answers_the_same_status_to_the_same_idempotency_key(sandbox: SandboxServer) -> None:
    url = f"{sandbox.url}/as/mastodon/api/v1/statuses"
    headers = {**AUTH, "Idempotency-Key": "target-1.0"}
    first = requests.post(url, json={"status": "Hello"}, headers=headers, timeout=5).json()
    again = requests.post(url, json={"status": "Hello"}, headers=headers, timeout=5).json()
    assert first["id"] == again["id"]
    assert len(made_on(sandbox, "mastodon")) == 1


def test_a_taken_bluesky_rkey_is_refused_and_the_record_found(sandbox: SandboxServer) -> None:
    url = f"{sandbox.url}/as/bluesky/xrpc/com.atproto.repo.createRecord"
    body = {"repo": "did:x", "collection": "app.bsky.feed.post", "rkey": "3kabc", "record": {"text": "Hi"}}
    assert requests.post(url, json=body, headers=AUTH, timeout=5).status_code == 200
    assert requests.post(url, json=body, headers=AUTH, timeout=5).status_code == 500
    found = requests.get(f"{sandbox.url}/as/bluesky/xrpc/com.atproto.repo.getRecord", headers=AUTH, timeout=5,
                         params={"repo": "did:x", "collection": "app.bsky.feed.post", "rkey": "3kabc"})  # fmt: skip
    assert found.json()["value"] == {"text": "Hi"}
    assert len(made_on(sandbox, "bluesky")) == 1


def test_an_instagram_container_publishes_once(sandbox: SandboxServer) -> None:
    graph = f"{sandbox.url}/as/meta/v21.0/17841400008460056"
    made = requests.post(f"{graph}/media", data={"image_url": sandbox.url + IMAGE_PATH, "caption": "Cup"},
                         headers=AUTH, timeout=5).json()  # fmt: skip
    status = requests.get(f"{sandbox.url}/as/meta/v21.0/{made['id']}", headers=AUTH, timeout=5).json()
    assert status["status_code"] == "FINISHED"
    first = requests.post(f"{graph}/media_publish", data={"creation_id": made["id"]}, headers=AUTH, timeout=5)
    again = requests.post(f"{graph}/media_publish", data={"creation_id": made["id"]}, headers=AUTH, timeout=5)
    assert first.status_code == 200
    assert again.status_code == 400
    assert again.json()["error"]["code"] == 9007
    assert [m["text"] for m in made_on(sandbox, "instagram")] == ["Cup"]


def test_tiktok_takes_a_photo_post_pulled_from_its_urls_and_refuses_a_video(sandbox: SandboxServer) -> None:
    api = f"{sandbox.url}/as/tiktok/v2/post/publish"
    video = requests.post(f"{api}/video/init/", json={"source_info": {"source": "FILE_UPLOAD"}}, headers=AUTH,
                          timeout=5)  # fmt: skip
    assert video.json()["error"]["code"] == "invalid_params"
    body = {"media_type": "PHOTO", "post_mode": "DIRECT_POST", "post_info": {"description": "Cup"},
            "source_info": {"source": "PULL_FROM_URL", "photo_images": [sandbox.url + IMAGE_PATH]}}  # fmt: skip
    made = requests.post(f"{api}/content/init/", json=body, headers=AUTH, timeout=5).json()
    status = requests.post(f"{api}/status/fetch/", json=made["data"], headers=AUTH, timeout=5).json()
    assert status["data"]["status"] == "PUBLISH_COMPLETE"
    (post,) = made_on(sandbox, "tiktok")
    assert status["data"]["publicaly_available_post_id"] == [int(post["id"])]
    assert post["url"] == f"https://www.tiktok.com/@acmecoffee/photo/{post['id']}"


def test_a_wechat_draft_is_submitted_once_and_its_job_read_as_published(sandbox: SandboxServer) -> None:
    api, token = f"{sandbox.url}/as/wechat/cgi-bin", {"access_token": "any-token"}
    cover = requests.post(f"{api}/material/add_material", params={**token, "type": "image"}, timeout=5,
                          files={"media": ("cover.jpg", b"\xff\xd8jpeg", "image/jpeg")}).json()  # fmt: skip
    unknown = requests.post(
        f"{api}/draft/add", params=token, json={"articles": [{"thumb_media_id": "x"}]}, timeout=5
    )
    assert unknown.json()["errcode"] == 40007
    article = {"title": "Autumn blend", "content": "<p>Hi</p>", "thumb_media_id": cover["media_id"]}
    draft = requests.post(f"{api}/draft/add", params=token, json={"articles": [article]}, timeout=5).json()
    first = requests.post(f"{api}/freepublish/submit", params=token, json=draft, timeout=5).json()
    again = requests.post(f"{api}/freepublish/submit", params=token, json=draft, timeout=5).json()
    assert (first["errcode"], again["errcode"]) == (0, 40007)
    job = requests.post(
        f"{api}/freepublish/get", params=token, json={"publish_id": first["publish_id"]}, timeout=5
    )
    (made,) = made_on(sandbox, "wechat")
    assert job.json()["publish_status"] == 0
    assert job.json()["article_detail"]["item"][0]["article_url"] == made["url"]
    assert made["text"] == "Autumn blend"


def test_linkedin_refuses_a_post_without_its_versioned_headers(sandbox: SandboxServer) -> None:
    url = f"{sandbox.url}/as/linkedin/rest/posts"
    body = {"author": "urn:li:organization:5515715", "commentary": "Hi"}
    assert requests.post(url, json=body, headers=AUTH, timeout=5).status_code == 400
    versioned = {**AUTH, "LinkedIn-Version": "202411", "X-Restli-Protocol-Version": "2.0.0"}
    made = requests.post(url, json=body, headers=versioned, timeout=5)
    assert made.status_code == 201
    assert made.headers["x-restli-id"].startswith("urn:li:share:")


def test_weibo_refuses_the_same_text_twice_as_weibo_does(sandbox: SandboxServer) -> None:
    url = f"{sandbox.url}/as/weibo/2/statuses/share.json"
    first = requests.post(url, data={"status": "你好 https://a.example/x"}, headers=AUTH, timeout=5)
    again = requests.post(url, data={"status": "你好 https://a.example/x"}, headers=AUTH, timeout=5)
    assert first.json()["idstr"]
    assert again.json()["error_code"] == 20019


def test_a_fault_for_a_platform_drops_its_answer_after_making_the_post(sandbox: SandboxServer) -> None:
    # a fault for any sandbox account ("*") does not reach the platforms the sandbox answers as
    requests.post(f"{sandbox.url}/_control/faults", json={"kind": "status", "status": 503}, timeout=5)
    requests.post(
        f"{sandbox.url}/_control/faults", json={"kind": "drop_after_create", "account": "as:x"}, timeout=5
    )
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{sandbox.url}/as/x/2/tweets", json={"text": "Lost"}, headers=AUTH, timeout=5)
    assert [m["text"] for m in made_on(sandbox, "x")] == ["Lost"]
    timeline = requests.get(f"{sandbox.url}/as/x/2/users/1/tweets", headers=AUTH, timeout=5).json()
    assert [t["text"] for t in timeline["data"]] == ["Lost"]


def test_every_answered_platform_has_a_claim_and_an_api_url_or_a_base_url() -> None:
    urls = api_urls("http://127.0.0.1:1")
    assert not set(ANSWERED) & set(NOT_ANSWERED)
    for platform in ANSWERED:
        body = claim("http://127.0.0.1:1", platform)
        named = body.get("base_url") or next(u for k, u in urls.items() if ANSWERED[platform] in u.split("/"))
        assert named.startswith(f"http://127.0.0.1:1/as/{ANSWERED[platform]}"), platform


def test_a_post_s_figures_are_its_own_and_grow_with_its_age() -> None:
    from chorus.platforms.sandbox.counts import counts

    young, older, again = counts("p1", 0.0, 60.0), counts("p1", 0.0, 3600.0), counts("p1", 0.0, 60.0)
    assert young == again  # deterministic
    assert all(older[name] >= young[name] for name in young)
    assert older["views"] > young["views"] > 0
    assert counts("p2", 0.0, 60.0) != young  # another post, other figures


def test_the_metrics_endpoints_answer_what_was_made_and_refuse_the_rest(sandbox: SandboxServer) -> None:
    made = requests.post(f"{sandbox.url}/as/x/2/tweets", json={"text": "measured"}, headers=AUTH, timeout=5)
    tid = made.json()["data"]["id"]
    answer = requests.get(f"{sandbox.url}/as/x/2/tweets", params={"ids": f"{tid},42", "tweet.fields": "public_metrics"},
                          headers=AUTH, timeout=5).json()  # fmt: skip
    (tweet,) = answer["data"]
    assert tweet["id"] == tid
    assert tweet["public_metrics"]["impression_count"] >= 120
    assert [e["resource_id"] for e in answer["errors"]] == ["42"]
    pins = requests.get(f"{sandbox.url}/as/pinterest/v5/pins/1/analytics", headers=AUTH, timeout=5)
    assert pins.status_code == 404
    unauthorised = requests.get(f"{sandbox.url}/as/x/2/tweets", params={"ids": tid}, timeout=5)
    assert unauthorised.status_code == 401


def test_the_sandbox_video_is_an_mp4_the_media_reader_accepts_served_in_ranges(
    sandbox: SandboxServer,
) -> None:
    from chorus.library.mp4 import read_bytes
    from chorus.platforms.sandbox.video import VIDEO, VIDEO_PATH

    info = read_bytes(VIDEO)
    assert (info.duration_s, info.width, info.height, info.has_video) == (6.0, 720, 1280, True)
    part = requests.get(sandbox.url + VIDEO_PATH, headers={"Range": "bytes=0-99"}, timeout=5)
    assert part.status_code == 206
    assert part.content == VIDEO[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(VIDEO)}"


def test_youtube_s_resumable_upload_says_where_it_stands_and_refuses_bytes_out_of_order(
    sandbox: SandboxServer,
) -> None:
    from chorus.platforms.sandbox.video import VIDEO

    total = len(VIDEO)
    started = requests.post(f"{sandbox.url}/as/youtube/upload/youtube/v3/videos", timeout=5,
                            params={"uploadType": "resumable", "part": "snippet,status"},
                            json={"snippet": {"title": "Pour"}, "status": {"privacyStatus": "private"}},
                            headers={**AUTH, "X-Upload-Content-Length": str(total)})  # fmt: skip
    session = started.headers["Location"]

    def put(data: bytes, content_range: str) -> requests.Response:
        return requests.put(session, data=data, headers={"Content-Range": content_range}, timeout=5)

    first = put(VIDEO[:100], f"bytes 0-99/{total}")
    assert (first.status_code, first.headers["Range"]) == (308, "bytes=0-99")
    assert put(VIDEO[200:], f"bytes 200-{total - 1}/{total}").status_code == 400  # a gap: refused
    assert put(b"", f"bytes */{total}").headers["Range"] == "bytes=0-99"  # where it stands
    done = put(VIDEO[100:], f"bytes 100-{total - 1}/{total}")
    assert done.status_code == 201
    assert done.json()["status"]["uploadStatus"] == "processed"  # no transcoding: processed at once
    assert put(b"", f"bytes */{total}").json()["id"] == done.json()["id"]  # one video, asked again
    assert len(made_on(sandbox, "youtube")) == 1
