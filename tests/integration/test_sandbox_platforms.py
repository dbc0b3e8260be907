"""The sandbox standing in for real platforms (issue 19, "the demo's sandbox can stand in for any
platform"): on the embedded runtime, each platform's API base URL points at the sandbox answering as that
platform, one account per platform is connected through ``POST /accounts`` (its owner proven by the
platform's own whoami call), and a post on each is published by the platform's REAL adapter, exactly
once, with the URL the platform answered, shown in the calendar under its platform, and measured by the
platform's REAL collector (the report has every post's figures)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
import requests

from chorus.local.demo import EVERYWHERE, PICTURE, PICTURE_OPTIONS, connect_stand_ins
from chorus.platforms.sandbox.personas import (
    ANSWERED,
    IMAGE_ONLY,
    IMAGE_PATH,
    NOT_ANSWERED,
    OAUTH_APPS,
    VIDEO_ONLY,
    api_urls,
    claim,
)
from chorus.platforms.sandbox.server import SandboxServer
from tests.integration.harness import Chorus, eventually

SETTLED = {"published", "failed", "partially_published"}


@pytest.fixture(scope="module")
def stand_in() -> Iterator[SandboxServer]:
    """The sandbox the platforms' API base URLs point at (the harness's own sandbox plays ``sandbox``)."""
    made = SandboxServer()
    made.start()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def chorus(stand_in: SandboxServer) -> Iterator[Chorus]:
    c = Chorus(extra_env=api_urls(stand_in.url), parameters=dict(OAUTH_APPS))
    yield c
    c.close()


def published(stand_in: SandboxServer) -> list[dict[str, Any]]:
    return list(requests.get(f"{stand_in.url}/_control/published", timeout=5).json()["published"])


def caller(chorus: Chorus, workspace: str) -> tuple[Callable[..., requests.Response], str]:
    """A new workspace's API caller (``call(method, path, **kw)``, as the demo's) and its key."""
    _, key = chorus.workspace(workspace)
    return partial(chorus.call, key=key), key


def settled(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        post = chorus.call("GET", f"/posts/{post_id}", key).json()
        return post if all(t["state"] in SETTLED for t in post["targets"]) else None

    return eventually(done, timeout=120)  # WeChat's publish job is read 30 s after it was submitted


def test_every_answered_platform_publishes_once_through_its_real_adapter(
    chorus: Chorus, stand_in: SandboxServer
) -> None:
    call, key = caller(chorus, "Acme Coffee")

    before = len(published(stand_in))
    # Given one account per platform the sandbox answers as, each proven by the platform's whoami
    accounts = connect_stand_ins(call, stand_in.url)
    assert set(accounts) == set(ANSWERED)
    shown = {p: call("GET", f"/accounts/{a}").json() for p, a in accounts.items()}
    assert shown["linkedin"]["platform_account_id"] == "urn:li:organization:5515715"
    assert shown["instagram"]["platform_account_id"] == "17841400008460056"  # the Page's linked account
    assert shown["bluesky"]["platform_account_id"].startswith("did:plc:")
    # When a text post goes to every text platform and a picture to the platforms that need one
    texts = [accounts[p] for p in ANSWERED if p not in IMAGE_ONLY | VIDEO_ONLY]
    pictures = [accounts[p] for p in sorted(IMAGE_ONLY)]
    media = [{"mime_type": "image/jpeg", "url": stand_in.url + IMAGE_PATH}]
    made = [
        call("POST", "/posts", json={"text": EVERYWHERE, "accounts": texts, "mode": "now"}),
        call(
            "POST",
            "/posts",
            json={
                "text": PICTURE,
                "media": media,
                "accounts": pictures,
                "mode": "now",
                "options": PICTURE_OPTIONS,
            },
        ),
    ]
    assert [m.status_code for m in made] == [201, 201], [m.text for m in made]
    targets = [t for m in made for t in settled(chorus, key, m.json()["id"])["targets"]]
    # Then each is published, once, by its platform's adapter, at the URL the platform answered
    posted = {a for p, a in accounts.items() if p not in VIDEO_ONLY}
    assert {t["account_id"]: t["state"] for t in targets} == dict.fromkeys(posted, "published")
    on_platforms = published(stand_in)[before:]
    assert sorted(m["platform"] for m in on_platforms) == sorted(set(ANSWERED) - VIDEO_ONLY)
    by_platform = {m["platform"]: m for m in on_platforms}
    for platform, account_id in accounts.items():
        if platform in VIDEO_ONLY:
            continue
        (target,) = [t for t in targets if t["account_id"] == account_id]
        assert target["url"] == by_platform[platform]["url"], platform
    words, _ = EVERYWHERE.rsplit(" ", 1)  # the link goes out as the workspace's tracked short link
    assert by_platform["x"]["text"].startswith(words + " http")
    assert "/l/" in by_platform["x"]["text"]
    assert by_platform["instagram"]["text"] == PICTURE
    assert by_platform["wechat"]["text"] == PICTURE.splitlines()[0]  # the article's title
    # And the calendar shows every one of them under its account, hence its platform
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}
    days = chorus.call("GET", "/calendar", key, params=window).json()["days"]
    assert {a for by_account in days.values() for a in by_account} == posted
    # And the hourly collection, its collectors pointed at the same stand-ins, measures every post
    assert chorus.rt.wait_idle(timeout=60)  # the table's stream read: the published posts followed
    chorus.tick_at("MetricsFanoutFunction", now + timedelta(minutes=61))
    assert chorus.rt.wait_idle(timeout=60)
    today = now.date()
    params = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat(), "format": "json"}
    report = chorus.call("GET", "/reports", key, params=params).json()
    measured = {p["platform"]: p["engagements"]["current"] for p in report["platforms"]}
    no_post_figures = {"wechat"} | VIDEO_ONLY  # WeChat's statistics name no article; no video posted here
    assert {p for p, engaged in measured.items() if engaged} == set(ANSWERED) - no_post_figures
    assert all(p["engagements"] > 0 and p["url"] for p in report["top_posts"])
    counted = {a["platform"] for a in report["followers"]["accounts"] if a["end"]}
    assert counted == set(ANSWERED) - {
        "threads",
        "pinterest",
        "douyin",
    }  # their collectors read no account figures


@pytest.mark.parametrize("platform", ["x", "mastodon", "linkedin"])
def test_a_lost_answer_is_looked_up_and_the_post_is_made_once(
    chorus: Chorus, stand_in: SandboxServer, platform: str
) -> None:
    _, key = chorus.workspace(f"Lost on {platform}")
    account = chorus.call("POST", "/accounts", key, json=claim(stand_in.url, platform)).json()["id"]
    # Given the platform makes the post but the connection drops before its answer
    requests.post(f"{stand_in.url}/_control/faults", json={"kind": "drop_after_create", "account": f"as:{platform}"},
                  timeout=5).raise_for_status()  # fmt: skip
    text = f"Lost answer on {platform}, found once"
    made = chorus.call("POST", "/posts", key, json={"text": text, "accounts": [account], "mode": "now"})
    assert made.status_code == 201, made.text
    (target,) = settled(chorus, key, made.json()["id"])["targets"]
    # Then Chorus finds it (by the key the platform remembers, or among the account's posts): one post
    assert [f.times for f in stand_in.state.faults if f.account == f"as:{platform}"] == [0]  # it dropped
    mine = [m for m in published(stand_in) if m["platform"] == platform and text in m["text"]]
    assert len(mine) == 1, mine
    assert target["state"] == "published", target
    assert target["url"] == mine[0]["url"]


def test_a_token_the_platform_refuses_is_not_connected(chorus: Chorus, stand_in: SandboxServer) -> None:
    _, key = chorus.workspace("Refused")
    body = claim(stand_in.url, "threads")
    requests.post(f"{stand_in.url}/_control/revoke", json={"token": body["access_token"]}, timeout=5)
    answer = chorus.call("POST", "/accounts", key, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["field"] == "access_token"


def test_the_platforms_not_answered_are_named_with_the_reason(stand_in: SandboxServer) -> None:
    assert not set(NOT_ANSWERED) & set(ANSWERED)
    refused = requests.get(f"{stand_in.url}/as/zhihu/api/v4/me", timeout=5,
                           headers={"Authorization": "Bearer t"})  # fmt: skip
    assert refused.status_code == 404
    assert "does not answer as 'zhihu'" in refused.json()["message"]


def test_a_video_is_uploaded_to_each_video_stand_in_and_published_once(
    chorus: Chorus, stand_in: SandboxServer
) -> None:
    from chorus.local.demo import connect_by_oauth
    from chorus.platforms.sandbox.video import VIDEO, VIDEO_PATH

    call, key = caller(chorus, "Video")

    # Given a TikTok account connected by its token, Douyin, Kuaishou and YouTube accounts by OAuth (the persona's
    # authorize page answering a code, exchanged by Chorus at the persona's token endpoint)
    tiktok = call("POST", "/accounts", json=claim(stand_in.url, "tiktok")).json()["id"]
    oauth = {}
    for platform in ("douyin", "kuaishou", "youtube"):
        connected = connect_by_oauth(call, platform)
        assert connected.status_code == 200, connected.text
        (oauth[platform],) = [a["id"] for a in connected.json()["accounts"]]
    # When a short video (the sandbox's own MP4) goes to all four
    made = call("POST", "/posts", json={
        "text": "Pouring the autumn blend", "accounts": [tiktok, *oauth.values()], "mode": "now",
        "media": [{"mime_type": "video/mp4", "url": stand_in.url + VIDEO_PATH}],
        "options": {"tiktok": {"privacy_level": "SELF_ONLY"}, "youtube": {"privacy": "unlisted"}}})  # fmt: skip
    assert made.status_code == 201, made.text
    targets = {t["account_id"]: t for t in settled(chorus, key, made.json()["id"])["targets"]}
    # Then each platform's upload flow sent every byte, and one video post was made, at the answered URL
    for platform, account in {"tiktok": tiktok, **oauth}.items():
        assert targets[account]["state"] == "published", targets[account]
        (video,) = [m for m in published(stand_in) if m["platform"] == platform and m["extra"].get("video")]
        assert video["extra"]["bytes"] == len(VIDEO)
        assert targets[account]["url"] == video["url"]
