"""Crisis early-warning, replayed on the embedded runtime: a normal day raises nothing; a burst of
negative mentions raises exactly one crisis in the next detection run, alerts once, and pauses
scheduled publishing until a person resumes it."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.harness import Chorus, eventually


def subscribe_alerts(chorus: Chorus) -> str:
    sqs, sns = chorus.rt.client("sqs"), chorus.rt.client("sns")
    url = sqs.create_queue(QueueName="crisis-alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=chorus.rt.stack.refs["AlertsTopic"], Protocol="sqs", Endpoint=arn)  # type: ignore[union-attr]
    return str(url)


def drain(chorus: Chorus, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        got = (
            chorus.rt.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        )
        if not got:
            return out
        out += [json.loads(m["Body"]) for m in got]
        for m in got:
            chorus.rt.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_a_normal_day_raises_nothing_and_a_negative_burst_raises_one_crisis_and_pauses(
    chorus: Chorus,
) -> None:
    from chorus.events.bus import default_publisher
    from chorus.listening import service
    from chorus.listening.monitors import Mention

    alerts = subscribe_alerts(chorus)
    ws, key = chorus.workspace("Acme")
    account = chorus.sandbox_account(key, "acme-crisis")
    assert chorus.call("PUT", "/listening/settings", key, json={"auto_pause": True}).status_code == 200
    made = chorus.call("POST", "/monitors", key, json={"name": "Brand", "kind": "brand", "terms": ["acme"]})
    assert made.status_code == 201, made.text
    monitors = service.list_monitors(ws)
    events = default_publisher()
    rng = random.Random(11)
    now = datetime.now(UTC)
    day_start = service.window_start(now) - timedelta(days=1, minutes=5)  # ends where the burst window starts
    n = 0

    def mention(at: datetime, negative: bool) -> None:
        nonlocal n
        n += 1
        text = "acme support is awful, refund now" if negative else "loving my acme coffee this morning"
        m = Mention("bluesky", f"m{n}", None, f"user{n}", f"did:{n}", text, at, "en")
        service.record_mention(ws, m, "negative" if negative else "positive", monitors)

    # Given a replayed normal day: a diurnal rhythm of mentions, about one in ten negative
    for w in range(288):
        start = day_start + timedelta(minutes=5 * w)
        hour = start.hour
        rate = 1 + (4 if 9 <= hour <= 21 else 0)
        for _ in range(rng.randint(0, rate)):
            mention(start + timedelta(seconds=rng.randint(0, 299)), rng.random() < 0.1)
        if w % 12 == 11:  # the detector runs through the day (hourly here, catching up its windows)
            report = service.run_detection(start + timedelta(minutes=5), events, service.pause_publishing)
            assert report.raised == 0
    assert chorus.rt.wait_idle(60)
    assert [a for a in drain(chorus, alerts) if "CRISIS" in a.get("Subject", "")] == []

    # When a burst of negative mentions lands in the window that just closed
    burst_window = service.window_start(now) - timedelta(minutes=5)
    for i in range(40):
        mention(burst_window + timedelta(seconds=5 * i), True)
    first = service.run_detection(now, events, service.pause_publishing)
    again = service.run_detection(now, events, service.pause_publishing)

    # Then exactly one crisis is raised, alerted once, with samples, and publishing is paused
    assert (first.raised, again.raised) == (1, 0)
    crisis_alerts = eventually(
        lambda: [a for a in drain(chorus, alerts) if "CRISIS" in a.get("Subject", "")], timeout=60
    )
    assert len(crisis_alerts) == 1
    assert "PAUSED" in crisis_alerts[0]["Message"]
    incidents = chorus.call("GET", "/incidents", key).json()["incidents"]
    assert len(incidents) == 1
    assert incidents[0]["samples"]
    assert chorus.call("GET", "/publishing", key).json()["paused"] is True

    # A post due during the pause does not go out...
    post = chorus.call(
        "POST", "/posts", key, json={"text": "Autumn menu", "accounts": [account], "mode": "now"}
    )
    post_id = post.json()["id"]
    held = eventually(
        lambda: (
            (t := chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0])["state"] == "paused"
            and t
        )
    )
    assert held["platform_post_id"] is None
    assert [r for r in chorus.platform_requests() if r["account"] == "acme-crisis"] == []
    # ...and goes out after a person acknowledges the incident and resumes publishing
    incident_id = incidents[0]["id"]
    assert chorus.call("POST", f"/incidents/{incident_id}/acknowledge", key).status_code == 200
    assert chorus.call("POST", "/publishing/resume", key, json={}).json()["paused"] is False
    published = eventually(
        lambda: (
            (t := chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0])["state"] == "published"
            and t
        )
    )
    assert published["url"]
    series = chorus.call("GET", "/listening/series?monitor=" + monitors[0].id, key).json()["windows"]
    assert max(w["negatives"] for w in series) >= 40


def test_the_listening_poller_records_each_matching_mention_once_with_sentiment(chorus: Chorus) -> None:
    import requests

    ws, key = chorus.workspace("Listening")
    poster = chorus.sandbox_account(key, "someone-else")
    made = chorus.call(
        "POST", "/monitors", key, json={"name": "Brand", "kind": "brand", "terms": ["zephyrcoffee"]}
    )
    assert made.status_code == 201, made.text
    # Given public posts on the platform, two of them about the brand
    for text in (
        "I love zephyrcoffee, best latte ever!",
        "zephyrcoffee lost my order again, terrible",
        "unrelated",
    ):
        answer = requests.post(
            f"{chorus.sandbox.url}/api/accounts/someone-else/posts",
            json={"text": text},
            headers={"Authorization": "Bearer tok-someone-else"},
            timeout=5,
        )
        assert answer.status_code == 201
    # When the poller runs twice
    first = chorus.rt.tick("ListeningPollerFunction")
    second = chorus.rt.tick("ListeningPollerFunction")
    # Then both mentions are stored once, with their sentiment, and nothing is fetched twice
    assert first["stored"] >= 2
    assert second["stored"] == 0
    found = chorus.call("GET", "/listening/mentions", key).json()["mentions"]
    by_text = {m["text"]: m["sentiment"] for m in found}
    assert by_text["I love zephyrcoffee, best latte ever!"] == "positive"
    assert by_text["zephyrcoffee lost my order again, terrible"] == "negative"
    assert "unrelated" not in by_text
    assert poster
