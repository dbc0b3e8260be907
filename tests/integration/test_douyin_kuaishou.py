"""Douyin and Kuaishou on the embedded runtime, against a fake of each on 127.0.0.1: connected through
``GET /accounts/connect/{platform}`` and ``/oauth/callback/{platform}`` (the open_id of the code's answer
is the account), a video published once through ``POST /posts`` by the real publisher, a text-only post
answered 422 naming the account and the rule, and the video's counts collected into the report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.faults.fakes import douyin as dy
from tests.faults.fakes import kuaishou as ks
from tests.faults.harness import FakePlatform
from tests.integration.harness import Chorus, eventually


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakePlatform, dy.Douyin, ks.Kuaishou]]:
    made = FakePlatform()
    patch = pytest.MonkeyPatch()
    knobs = dy.douyin_platform(made, patch), ks.kuaishou_platform(made, patch)
    yield made, *knobs
    patch.undo()
    made.stop()


@pytest.fixture(scope="module")
def chorus(fake: tuple[FakePlatform, dy.Douyin, ks.Kuaishou]) -> Iterator[Chorus]:
    platform = fake[0]
    c = Chorus(
        parameters={
            "DouyinClientKey": "tt10abc",
            "DouyinClientSecret": "dy-secret",
            "KuaishouAppId": ks.APP_ID,
            "KuaishouAppSecret": "ks-secret",
        },
        extra_env={"CHORUS_DOUYIN_API_URL": platform.url, "CHORUS_KUAISHOU_API_URL": platform.url},
    )
    yield c
    c.close()


@pytest.fixture(autouse=True)
def fresh_adapters() -> Iterator[None]:
    from chorus.platforms import registry

    registry.reset()  # built against the fake's URL
    yield
    registry.reset()


def connect(chorus: Chorus, key: str, platform: str, code: str) -> Any:
    started = chorus.call("GET", f"/accounts/connect/{platform}", key,
                          params={"redirect_uri": "https://app.example/done"})  # fmt: skip
    assert started.status_code == 200, started.text
    return chorus.call("GET", f"/oauth/callback/{platform}", key,
                       params={"code": code, "state": started.json()["state"]})  # fmt: skip


def settled(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        target = chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0]
        return target if target["state"] in {"published", "failed", "partially_published"} else None

    return eventually(done, timeout=30)


def engagements(chorus: Chorus, key: str) -> Any:
    today = datetime.now(UTC).date()
    body = chorus.call("GET", "/reports", key, params={"from": (today - timedelta(days=1)).isoformat(),
                                                       "to": (today + timedelta(days=1)).isoformat(),
                                                       "format": "json"}).json()  # fmt: skip
    return body["overall"]["engagements"]["current"]


def test_douyin_connects_publishes_a_video_once_and_collects_its_item_data(
    chorus: Chorus, fake: tuple[FakePlatform, dy.Douyin, ks.Kuaishou]
) -> None:
    platform, knobs, _ = fake
    _, key = chorus.workspace("抖音小店", timezone="Asia/Shanghai")
    # Given an admin connecting a Douyin account through the generic OAuth flow
    back = connect(chorus, key, "douyin", "douyin-code")
    assert back.status_code == 200, back.text
    [account] = back.json()["accounts"]
    # Then the open_id Douyin answered with the token is the account
    assert (account["platform"], account["platform_account_id"]) == ("douyin", dy.OPEN_ID)
    # When a text-only post is made for it, it is refused naming the account and the rule
    refused = chorus.call(
        "POST", "/posts", key, json={"text": "只有文字", "accounts": [account["id"]], "mode": "now"}
    )
    assert refused.status_code == 422, refused.text
    problem = json.dumps(refused.json())
    assert account["id"] in problem
    assert "media.video_required" in problem
    # When a video is posted now
    made = chorus.call("POST", "/posts", key, json={
        "text": "新品上市 #测试话题", "accounts": [account["id"]], "mode": "now",
        "media": [{"mime_type": "video/mp4", "url": f"{platform.url}{dy.VIDEO}"}]})  # fmt: skip
    assert made.status_code == 201, made.text
    target = settled(chorus, key, made.json()["id"])
    # Then it was uploaded and created once, and the target holds the item id
    assert target["state"] == "published", target
    [item] = [i for i in platform.records["item"] if i["text"] == "新品上市 #测试话题"]
    assert target["platform_post_id"] == item["id"]
    assert target["url"] == f"https://www.iesdouyin.com/share/video/{item['video_id']}/?region=CN"
    assert (
        len([c for c in platform.calls("POST", dy.CREATE) if (c.json or {}).get("text") == item["text"]]) == 1
    )
    # When the video is played, liked, commented and shared, and metrics are collected
    knobs.statistics[item["id"]] = {"play_count": 300, "digg_count": 20, "comment_count": 5, "share_count": 3}
    assert chorus.rt.wait_idle(timeout=30)
    chorus.tick_at("MetricsFanoutFunction", datetime.now(UTC) + timedelta(minutes=61))
    assert chorus.rt.wait_idle(timeout=30)
    # Then video_data was asked for the item, and the report counts its likes, comments and shares
    assert any(
        item["id"] in (c.json or {}).get("item_ids", []) for c in platform.calls("POST", dy.VIDEO_DATA)
    )
    assert engagements(chorus, key) == 28
    # When a viewer comments on the video and the poller runs (twice)
    from chorus.inbox.poller import tracked

    eventually(lambda: any(t.account_id == account["id"] for t in tracked(["douyin"])), timeout=15)
    comment = dy.comment_on(platform, item["id"], "什么时候发货?")
    for _ in range(2):
        chorus.rt.tick("PollerFunction")
        assert chorus.rt.wait_idle(timeout=30)
    # Then the comment is one conversation in the inbox, on the video
    convs = chorus.call("GET", "/inbox", key, params={"platform": "douyin"}).json()["conversations"]
    [conv] = [c for c in convs if c["preview"] == "什么时候发货?"]
    shown = chorus.call("GET", f"/inbox/{conv['id']}", key).json()
    assert [m["text"] for m in shown["messages"]] == ["什么时候发货?"]
    # When an agent replies from the inbox
    sent = chorus.call("POST", f"/inbox/{conv['id']}/reply", key, json={"text": "明天发货"})
    assert sent.status_code in (201, 202), sent.text

    def delivered() -> dict[str, Any] | None:
        replies = chorus.call("GET", f"/inbox/{conv['id']}", key).json()["replies"]
        done = [r for r in replies if r["state"] in {"sent", "failed"}]
        return done[0] if done else None

    reply = eventually(delivered, timeout=30)
    # Then Douyin got exactly one reply to that comment
    assert reply["state"] == "sent", reply
    made_replies = [c for c in platform.records["comment"] if c.get("reply_to")]
    assert [(r["reply_to"], r["content"]) for r in made_replies] == [(comment["comment_id"], "明天发货")]


def test_kuaishou_connects_publishes_a_video_once_and_collects_its_counts(
    chorus: Chorus, fake: tuple[FakePlatform, dy.Douyin, ks.Kuaishou]
) -> None:
    platform, _, knobs = fake
    _, key = chorus.workspace("快手小店", timezone="Asia/Shanghai")
    back = connect(chorus, key, "kuaishou", "ks-code")
    assert back.status_code == 200, back.text
    [account] = back.json()["accounts"]
    assert (account["platform"], account["platform_account_id"], account["display_name"]) == (
        "kuaishou", ks.OPEN_ID, "快手小店")  # fmt: skip
    made = chorus.call("POST", "/posts", key, json={
        "text": "老铁们好", "accounts": [account["id"]], "mode": "now",
        "media": [{"mime_type": "video/mp4", "url": f"{platform.url}{ks.VIDEO}"}]})  # fmt: skip
    assert made.status_code == 201, made.text
    target = settled(chorus, key, made.json()["id"])
    assert target["state"] == "published", target
    [photo] = [p for p in platform.records["photo"] if p["caption"] == "老铁们好"]
    assert (target["platform_post_id"], photo["bytes"]) == (photo["id"], ks.VIDEO_BYTES)
    knobs.counts[photo["id"]] = {"view_count": 900, "like_count": 40, "comment_count": 6}
    assert chorus.rt.wait_idle(timeout=30)
    chorus.tick_at("MetricsFanoutFunction", datetime.now(UTC) + timedelta(minutes=61))
    assert chorus.rt.wait_idle(timeout=30)
    assert any(c.query.get("photo_id") == photo["id"] for c in platform.calls("GET", ks.INFO))
    assert engagements(chorus, key) == 46


def test_videos_scheduled_in_shanghai_land_on_their_local_days_across_the_utc_day_boundary(
    chorus: Chorus, fake: tuple[FakePlatform, dy.Douyin, ks.Kuaishou]
) -> None:
    platform = fake[0]
    _, key = chorus.workspace("上海 店", timezone="Asia/Shanghai")
    [douyin] = connect(chorus, key, "douyin", "douyin-code").json()["accounts"]
    [kuaishou] = connect(chorus, key, "kuaishou", "ks-code").json()["accounts"]
    video = [{"mime_type": "video/mp4", "url": f"{platform.url}{dy.VIDEO}"}]
    # Given a Douyin video at 00:30 on New Year's Day in Shanghai (16:30 UTC the day before) and a
    # Kuaishou one at 23:30 on New Year's Eve in Shanghai (15:30 UTC, the same UTC day)
    made = [
        chorus.call("POST", "/posts", key, json={"text": text, "accounts": [account["id"]], "mode": "schedule",
                                                 "scheduled_at": at, "timezone": "Asia/Shanghai", "media": video})
        for text, account, at in (("元旦快乐", douyin, "2027-01-01T00:30:00"), ("跨年夜", kuaishou, "2026-12-31T23:30:00"))
    ]  # fmt: skip
    assert [m.status_code for m in made] == [201, 201], [m.text for m in made]
    assert [m.json()["scheduled_at"] for m in made] == [
        "2026-12-31T16:30:00.000Z",
        "2026-12-31T15:30:00.000Z",
    ]
    # Then the calendar, read in the workspace's time zone, shows each on its local day and time
    cal = chorus.call("GET", "/calendar?from=2026-12-31T00:00:00Z&to=2027-01-02T00:00:00Z", key).json()
    assert cal["timezone"] == "Asia/Shanghai"
    assert [(e["text"], e["local_time"]) for e in cal["days"]["2027-01-01"][douyin["id"]]] == [
        ("元旦快乐", "00:30")
    ]
    assert [(e["text"], e["local_time"]) for e in cal["days"]["2026-12-31"][kuaishou["id"]]] == [
        ("跨年夜", "23:30")
    ]
