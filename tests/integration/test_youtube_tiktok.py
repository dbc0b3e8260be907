"""YouTube and TikTok on the embedded runtime, each against a fake platform on 127.0.0.1: the account
connected through ``GET /accounts/connect/<platform>`` and ``/oauth/callback/<platform>`` (ownership proven
by the platform: the token's channel, the creator's open_id), a video scheduled through ``POST /posts``,
the connection lost mid-upload and the upload resumed where the platform stands, the video published
once by the real publisher, its metrics collected by the hourly fan-out and seen in ``GET /reports``;
and a TikTok post without a privacy level, or with options the creator cannot use, answered 422 naming
the account and the rule."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.faults.fakes import tiktok as ttfake
from tests.faults.fakes import youtube as ytfake
from tests.faults.harness import FakePlatform, Reply, Request
from tests.integration.harness import Chorus, eventually
from tests.support import fixture_json

CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
OPEN_ID = "afd97af1-b87b-48b9-ac98-410aghda5344"


@pytest.fixture(scope="module")
def youtube() -> Iterator[FakePlatform]:
    """Google's token endpoint and the channel the token manages, in the documented shapes."""
    made = FakePlatform()

    def token(req: Request, match: re.Match[str]) -> Any:
        if req.form.get("code") != "yt-good" or req.form.get("client_secret") != "g-secret":
            return Reply(400, {"error": "invalid_grant", "error_description": "Malformed auth code."})
        return fixture_json("platform_api/publishing/youtube/oauth_token_response_google_docs.json")

    made.route("POST", "/token", token)
    made.route("GET", "/youtube/v3/channels", lambda req, m: {"items": [
        {"id": CHANNEL, "snippet": {"title": "Merle Bakes", "customUrl": "@merlebakes"}}]})  # fmt: skip
    yield made
    made.stop()


@pytest.fixture(scope="module")
def tiktok() -> Iterator[FakePlatform]:
    made = FakePlatform()

    def token(req: Request, match: re.Match[str]) -> Any:
        if req.form.get("code") != "tt-good":
            return fixture_json("platform_api/publishing/tiktok/oauth_token_error_invalid_request.json")
        return fixture_json("platform_api/publishing/tiktok/oauth_token_response.json")

    made.route("POST", "/v2/oauth/token/", token)
    made.route("GET", "/v2/user/info/", lambda req, m: {"data": {"user": {
        "open_id": OPEN_ID, "display_name": "Merle", "follower_count": 321, "following_count": 5}},
        "error": ttfake.OK})  # fmt: skip
    yield made
    made.stop()


@pytest.fixture(scope="module")
def chorus(youtube: FakePlatform, tiktok: FakePlatform) -> Iterator[Chorus]:
    c = Chorus(
        parameters={"YouTubeClientId": "g-client", "YouTubeClientSecret": "g-secret",
                    "TikTokClientKey": "tt-key", "TikTokClientSecret": "tt-secret"},
        extra_env={
            "CHORUS_YOUTUBE_TOKEN_URL": f"{youtube.url}/token",
            "CHORUS_YOUTUBE_API_URL": f"{youtube.url}/youtube/v3",
            "CHORUS_TIKTOK_API_URL": tiktok.url,
        },
    )  # fmt: skip
    yield c
    c.close()


@pytest.fixture
def platforms(youtube: FakePlatform, tiktok: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from chorus.platforms import registry
    from chorus.platforms.tiktok import metrics as ttmetrics
    from chorus.platforms.youtube import metrics as ytmetrics

    kept = len(youtube.routes), len(tiktok.routes)
    yt = ytfake.youtube_platform(youtube, monkeypatch)
    tt = ttfake.tiktok_platform(tiktok, monkeypatch)
    monkeypatch.setattr(ytmetrics, "API_URL", f"{youtube.url}/youtube/v3")
    monkeypatch.setattr(ttmetrics, "API_URL", tiktok.url)
    registry.reset()
    yield yt, tt
    registry.reset()
    del youtube.routes[kept[0] :], tiktok.routes[kept[1] :]  # this test's routes (and knobs) go with it


def connect(chorus: Chorus, key: str, platform: str, code: str) -> Any:
    started = chorus.call("GET", f"/accounts/connect/{platform}", key,
                          params={"redirect_uri": "https://app.example/done"})  # fmt: skip
    assert started.status_code == 200, started.text
    return chorus.call(
        "GET", f"/oauth/callback/{platform}", key, params={"code": code, "state": started.json()["state"]}
    )


def settled(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        target = chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0]
        return (
            target
            if target["state"] in {"published", "failed", "partially_published", "sent_to_inbox"}
            else None
        )

    return eventually(done, timeout=60)


def collected_report(chorus: Chorus, key: str, minutes: int) -> dict[str, Any]:
    """The hourly fan-out ``minutes`` after publishing (each test its own hour: a run is once an hour),
    then today's JSON report."""
    assert chorus.rt.wait_idle(timeout=60)  # the table's stream read: the published post followed
    chorus.tick_at("MetricsFanoutFunction", datetime.now(UTC) + timedelta(minutes=minutes))
    assert chorus.rt.wait_idle(timeout=60)
    today = datetime.now(UTC).date()
    answer = chorus.call("GET", "/reports", key, params={
        "from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat(), "format": "json"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_youtube_connects_by_oauth_resumes_a_lost_upload_publishes_once_and_reports_its_metrics(
    chorus: Chorus, youtube: FakePlatform, platforms: Any
) -> None:
    yt, _tt = platforms
    _, key = chorus.workspace("Merle Bakes")
    # Given a channel connected through Google OAuth (offline access)
    back = connect(chorus, key, "youtube", "yt-good")
    assert back.status_code == 200, back.text
    (account,) = back.json()["accounts"]
    assert (account["platform_account_id"], account["handle"]) == (CHANNEL, "@merlebakes")
    # When a video is scheduled with its YouTube options, and the second chunk's connection is cut
    youtube.drop("PUT", ytfake.UPLOAD, when=ytfake.is_chunk(262144))
    due = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    made = chorus.call("POST", "/posts", key, json={
        "text": "Lemon tart\nBake it at 180 degrees. #baking", "accounts": [account["id"]],
        "mode": "schedule", "scheduled_at": due.isoformat(),
        "media": [{"mime_type": "video/mp4", "url": f"{youtube.url}{ytfake.VIDEO}", "size": len(ytfake.VIDEO_BYTES)}],
        "options": {"youtube": {"privacy": "unlisted", "notify_subscribers": "false"}}})  # fmt: skip
    assert made.status_code == 201, made.text
    for _tick in range(20):  # the scheduler's minute ticks until the target is handed to the publisher
        chorus.rt.tick("SchedulerFunction")
        if (
            chorus.call("GET", f"/posts/{made.json()['id']}", key).json()["targets"][0]["state"]
            != "scheduled"
        ):
            break
    target = settled(chorus, key, made.json()["id"])
    # Then it was resumed at YouTube's offset and published once
    assert target["state"] == "published", target
    (video,) = youtube.records["video"]
    assert len(youtube.records["session"]) == 1
    assert video["bytes"] == len(ytfake.VIDEO_BYTES)
    assert video["status"]["privacyStatus"] == "unlisted"
    assert youtube.records["session"][0]["notify"] == "false"
    assert f"bytes */{len(ytfake.VIDEO_BYTES)}" in [
        r.headers.get("Content-Range") for r in youtube.calls("PUT", ytfake.UPLOAD)
    ]
    assert (target["platform_post_id"], target["url"]) == (
        video["id"],
        f"https://www.youtube.com/watch?v={video['id']}",
    )
    # And its statistics are collected and shown in the report
    yt.likes, yt.views = 7, 120
    report = collected_report(chorus, key, 61)
    (row,) = [p for p in report["platforms"] if p["platform"] == "youtube"]
    assert (row["posts_published"]["current"], row["engagements"]["current"]) == (1, 7)


def test_tiktok_connects_by_login_kit_publishes_once_after_a_lost_chunk_and_reports_its_metrics(
    chorus: Chorus, tiktok: FakePlatform, platforms: Any
) -> None:
    _yt, tt = platforms
    _, key = chorus.workspace("Merle on TikTok")
    back = connect(chorus, key, "tiktok", "tt-good")
    assert back.status_code == 200, back.text
    (account,) = back.json()["accounts"]
    assert account["platform_account_id"] == OPEN_ID
    tiktok.drop("PUT", ttfake.UPLOAD, when=ttfake.is_chunk(1000))
    made = chorus.call("POST", "/posts", key, json={
        "text": "A funny #cat video", "accounts": [account["id"]], "mode": "now",
        "media": [{"mime_type": "video/mp4", "url": f"{tiktok.url}{ttfake.VIDEO}", "size": len(ttfake.VIDEO_BYTES)}],
        "options": {"tiktok": {"privacy_level": "MUTUAL_FOLLOW_FRIENDS", "allow_comment": "true"}}})  # fmt: skip
    assert made.status_code == 201, made.text
    target = settled(chorus, key, made.json()["id"])
    assert target["state"] == "published", target
    (video,) = tiktok.records["video"]
    (publish,) = tiktok.records["publish"]
    assert publish["post_info"]["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"
    assert publish["post_info"]["disable_stitch"] is True  # the creator turned stitches off
    assert target["platform_post_id"] == video["id"]
    tt.likes, tt.views = 9, 300
    report = collected_report(chorus, key, 125)
    (row,) = [p for p in report["platforms"] if p["platform"] == "tiktok"]
    assert (row["posts_published"]["current"], row["engagements"]["current"]) == (1, 9)


def test_a_tiktok_post_without_a_privacy_level_is_refused_naming_the_account_and_the_rule(
    chorus: Chorus, tiktok: FakePlatform, platforms: Any
) -> None:
    _, key = chorus.workspace("No privacy")
    (account,) = connect(chorus, key, "tiktok", "tt-good").json()["accounts"]
    refused = chorus.call("POST", "/posts", key, json={
        "text": "Clip", "accounts": [account["id"]], "mode": "now", "first_comment": "more",
        "media": [{"mime_type": "video/mp4", "url": f"{tiktok.url}{ttfake.VIDEO}"}]})  # fmt: skip
    assert refused.status_code == 422, refused.text
    problem = json.dumps(refused.json())
    assert f"accounts[{account['id']}].options.tiktok.privacy_level" in problem
    assert "options.required" in problem
    assert "first_comment.unsupported" in problem
    # And options this creator cannot use (creator info kept at connect) are refused before anything is sent
    inits = len(tiktok.calls("POST", ttfake.INIT))
    refused = chorus.call("POST", "/posts", key, json={
        "text": "Clip", "accounts": [account["id"]], "mode": "now",
        "options": {"tiktok": {"privacy_level": "PUBLIC_TO_EVERYONE", "allow_stitch": "true"}},
        "media": [{"mime_type": "video/mp4", "url": f"{tiktok.url}{ttfake.VIDEO}"}]})  # fmt: skip
    assert refused.status_code == 422, refused.text
    fields = {(e["field"], e["rule"]) for e in refused.json()["errors"]}
    assert fields == {(f"accounts[{account['id']}].options.tiktok.privacy_level", "options.creator"),
                      (f"accounts[{account['id']}].options.tiktok.allow_stitch", "options.creator")}  # fmt: skip
    assert len(tiktok.calls("POST", ttfake.INIT)) == inits


def made_on(tiktok: FakePlatform) -> tuple[int, int]:
    """How many publishes and posts the module's fake TikTok holds (a test reads only its own)."""
    return len(tiktok.records.get("publish", [])), len(tiktok.records.get("video", []))


def test_a_tiktok_photo_post_is_pulled_from_its_urls_and_published_once(
    chorus: Chorus, tiktok: FakePlatform, platforms: Any
) -> None:
    _, key = chorus.workspace("Merle's photos")
    (account,) = connect(chorus, key, "tiktok", "tt-good").json()["accounts"]
    images = [{"mime_type": "image/jpeg", "url": f"{tiktok.url}/files/cake-{n}.jpg"} for n in range(3)]
    publishes, posts = made_on(tiktok)
    made = chorus.call("POST", "/posts", key, json={
        "text": "Three cakes #baking", "title": "Cakes", "accounts": [account["id"]], "mode": "now", "media": images,
        "options": {"tiktok": {"privacy_level": "SELF_ONLY", "photo_cover_index": "2", "auto_add_music": "true"}}})  # fmt: skip
    assert made.status_code == 201, made.text
    target = settled(chorus, key, made.json()["id"])
    assert target["state"] == "published", target
    (publish,) = tiktok.records["publish"][publishes:]
    assert (publish["post_mode"], publish["post_info"]) == ("DIRECT_POST", {
        "title": "Cakes", "description": "Three cakes #baking", "privacy_level": "SELF_ONLY",
        "disable_comment": False, "auto_add_music": True})  # fmt: skip
    assert publish["source_info"] == {"source": "PULL_FROM_URL", "photo_cover_index": 2,
                                      "photo_images": [i["url"] for i in images]}  # fmt: skip
    (photo,) = tiktok.records["video"][posts:]
    assert target["url"] == f"https://www.tiktok.com/@{account['handle']}/photo/{photo['id']}"


def test_a_tiktok_draft_ends_sent_to_inbox_and_is_published_when_marked_posted(
    chorus: Chorus, tiktok: FakePlatform, platforms: Any
) -> None:
    _, key = chorus.workspace("Merle's drafts")
    (account,) = connect(chorus, key, "tiktok", "tt-good").json()["accounts"]
    publishes, posts = made_on(tiktok)
    # A draft needs no privacy level: the creator chooses it in the TikTok app
    made = chorus.call("POST", "/posts", key, json={
        "text": "Finish me in the app", "accounts": [account["id"]], "mode": "now",
        "media": [{"mime_type": "video/mp4", "url": f"{tiktok.url}{ttfake.VIDEO}", "size": len(ttfake.VIDEO_BYTES)}],
        "options": {"tiktok": {"mode": "draft"}}})  # fmt: skip
    assert made.status_code == 201, made.text
    post_id = made.json()["id"]
    target = settled(chorus, key, post_id)
    (publish,) = tiktok.records["publish"][publishes:]
    assert (target["state"], target["platform_post_id"]) == ("sent_to_inbox", publish["id"])
    assert publish["draft"]
    assert publish["received"] == ttfake.VIDEO_BYTES
    assert made_on(tiktok) == (publishes + 1, posts)  # no post until the creator finishes it
    assert chorus.call("GET", f"/posts/{post_id}", key).json()["status"] == "sent_to_inbox"
    # When the creator posted it from the app, someone marks it posted with its TikTok URL
    wrong = chorus.call("POST", f"/posts/{post_id}/targets/{account['id']}/posted", key,
                        json={"url": "https://example.com/not-tiktok"})  # fmt: skip
    assert wrong.status_code == 422, wrong.text
    url = "https://www.tiktok.com/@Merle/video/7301234567890129999"
    marked = chorus.call("POST", f"/posts/{post_id}/targets/{account['id']}/posted", key, json={"url": url})
    assert marked.status_code == 200, marked.text
    (done,) = marked.json()["targets"]
    assert (done["state"], done["url"], done["platform_post_id"]) == ("published", url, "7301234567890129999")


def test_tiktok_photo_and_video_rules_are_answered_422_naming_the_account_and_the_rule(
    chorus: Chorus, tiktok: FakePlatform, platforms: Any
) -> None:
    _, key = chorus.workspace("Merle breaks rules")
    (account,) = connect(chorus, key, "tiktok", "tt-good").json()["accounts"]
    where = f"accounts[{account['id']}]"
    inits = len(tiktok.calls("POST", ttfake.CONTENT_INIT)), len(tiktok.calls("POST", ttfake.INBOX_INIT))
    refused = chorus.call("POST", "/posts", key, json={
        "text": "Photos", "accounts": [account["id"]], "mode": "now",
        "media": [{"mime_type": "image/png", "url": f"{tiktok.url}/files/a.png"},
                  {"mime_type": "image/jpeg", "url": f"{tiktok.url}/files/b.jpg"}],
        "options": {"tiktok": {"privacy_level": "SELF_ONLY", "photo_cover_index": "5", "allow_duet": "true"}}})  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert {(e["field"], e["rule"]) for e in refused.json()["errors"]} == {
        (f"{where}.media[0]", "media.unsupported_type"),
        (f"{where}.options.tiktok.photo_cover_index", "options.invalid"),
        (f"{where}.options.tiktok.allow_duet", "options.unsupported")}  # fmt: skip
    refused = chorus.call("POST", "/posts", key, json={
        "text": "Clip", "title": "A title", "accounts": [account["id"]], "mode": "now",
        "media": [{"mime_type": "video/mp4", "url": f"{tiktok.url}{ttfake.VIDEO}"}],
        "options": {"tiktok": {"mode": "draft"}}})  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert {(e["field"], e["rule"]) for e in refused.json()["errors"]} == {
        (f"{where}.title", "title.unsupported")
    }
    assert (
        len(tiktok.calls("POST", ttfake.CONTENT_INIT)),
        len(tiktok.calls("POST", ttfake.INBOX_INIT)),
    ) == inits
