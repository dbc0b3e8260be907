"""Reminder publishing on the embedded runtime (Xiaohongshu has no publishing API): due -> the assignee
told once (the e-mail captured from the local SES, the notification listed; a redelivered message
tells no one again) -> marked posted with its URL -> published, on the calendar and counted in the
report; another post nobody marks -> overdue with one alert (the alerts topic and the list)."""

from __future__ import annotations

import email
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.integration.harness import Chorus, Person, eventually
from tests.integration.test_crisis import drain, subscribe_alerts

MAIL_FROM = "chorus@reminders.test"
PROFILE = "https://www.xiaohongshu.com/user/profile/5f1e2d3c"
PHOTO = {"mime_type": "image/jpeg", "url": "https://cdn.brand.example/spring/coffee.jpg"}  # a note needs one


@pytest.fixture(scope="module")
def chorus() -> Any:
    c = Chorus(parameters={"MailFrom": MAIL_FROM})
    yield c
    c.close()


@pytest.fixture(scope="module")
def team(chorus: Chorus) -> dict[str, Any]:
    """A person's workspace in Asia/Shanghai with a Xiaohongshu account added by hand."""
    ann: Person = chorus.person(f"ann-{uuid.uuid4().hex[:6]}@people.test")
    made = chorus.call(
        "POST", "/workspaces", ann.id_token, json={"name": "Brand CN", "timezone": "Asia/Shanghai"}
    )
    assert made.status_code == 201, made.text
    ws = str(made.json()["id"])

    def call(method: str, path: str, **kw: Any) -> requests.Response:
        return chorus.call(method, path, ann.id_token, workspace=ws, **kw)

    added = call(
        "POST", "/accounts", json={"platform": "xiaohongshu", "profile_url": PROFILE, "display_name": "品牌"}
    )
    assert added.status_code == 201, added.text
    assert added.json()["platform_account_id"] == PROFILE
    return {"ann": ann, "ws": ws, "call": call, "account": added.json()["id"]}


def sent_to(chorus: Chorus, address: str) -> list[email.message.Message]:
    data = requests.get(f"{chorus.rt.endpoint}/moto-api/data.json", timeout=30).json()
    raws = [
        m["raw_data"] for m in data.get("ses", {}).get("RawMessage", []) if address in str(m.get("raw_data"))
    ]
    return [email.message_from_string(r) for r in raws]


def text_of(message: email.message.Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def target(team: dict[str, Any], post_id: str) -> dict[str, Any]:
    return dict(team["call"]("GET", f"/posts/{post_id}").json()["targets"][0])


def schedule(team: dict[str, Any], title: str, text: str) -> str:
    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    body = {"title": title, "text": text, "media": [PHOTO], "accounts": [team["account"]],
            "scheduled_at": due.isoformat()}  # fmt: skip
    made = team["call"]("POST", "/posts", json=body)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def awaiting(team: dict[str, Any], post_id: str) -> dict[str, Any]:
    return eventually(
        lambda: (t := target(team, post_id))["state"] == "awaiting_manual" and t["reminded_at"] and t,
        timeout=40,
    )


def test_bad_input_is_a_422_naming_the_field(chorus: Chorus, team: dict[str, Any]) -> None:
    call = team["call"]
    no_url = call("POST", "/accounts", json={"platform": "zhihu"})
    assert no_url.status_code == 422
    assert [e["field"] for e in no_url.json()["errors"]] == ["profile_url"]
    elsewhere = call(
        "POST", "/accounts", json={"platform": "zhihu", "profile_url": "https://evil.example/people/x"}
    )
    assert elsewhere.status_code == 422
    assert "zhihu.com" in elsewhere.json()["errors"][0]["message"]
    long_title = call("POST", "/posts", json={"title": "标题" * 11, "text": "正文", "media": [PHOTO], "accounts": [team["account"]],
                                              "mode": "draft"})  # fmt: skip
    assert long_title.status_code == 422
    errors = long_title.json()["errors"]
    assert len(errors) == 1, long_title.text
    error = errors[0]
    assert error["field"] == f"accounts[{team['account']}].title"
    assert error["rule"] == "title.too_long"
    assert "20" in error["message"]
    long_body = call(
        "POST",
        "/posts",
        json={"text": "字" * 1001, "media": [PHOTO], "accounts": [team["account"]], "mode": "draft"},
    )
    assert long_body.status_code == 422
    assert [e["field"] for e in long_body.json()["errors"]] == [f"accounts[{team['account']}].text"]
    ok = call("POST", "/posts", json={"title": "a" * 40, "text": "字" * 1000, "media": [PHOTO], "accounts": [team["account"]],
                                      "mode": "draft"})  # fmt: skip
    assert ok.status_code == 201, ok.text  # 40 Latin letters are 20 characters as the app counts
    bad_limit = call("GET", "/notifications", params={"limit": "0"})
    assert bad_limit.status_code == 422
    assert [e["field"] for e in bad_limit.json()["errors"]] == ["limit"]
    assert call("POST", "/notifications/nope/read").status_code == 404
    no_url = call("POST", "/posts/p-missing/targets/acc-missing/posted", json={})
    assert no_url.status_code == 422
    assert [e["field"] for e in no_url.json()["errors"]] == ["url"]
    stranger = call("POST", "/posts", json={"text": "x", "media": [PHOTO], "accounts": [team["account"]], "mode": "draft",
                                            "assignee": "nobody-here"})  # fmt: skip
    assert stranger.status_code == 422
    assert [e["field"] for e in stranger.json()["errors"]] == ["assignee"]


def test_due_reminded_once_then_marked_posted_counts_in_calendar_and_report(
    chorus: Chorus, team: dict[str, Any]
) -> None:
    from chorus.posts.queue import PublishMessage, default_queue
    from chorus.store import posts as repo

    call, ann = team["call"], team["ann"]
    post_id = schedule(team, "春天的第一杯咖啡", "春季限定 ☕ 今天上新 #咖啡")
    # At the due second the target awaits a person, who is told once by e-mail and in the app
    waiting = awaiting(team, post_id)
    assert waiting["overdue_at"] is not None
    due, moved = (datetime.fromisoformat(v.replace("Z", "+00:00")) for v in (waiting["due_at"],
                                                                               waiting["attempt_log"][0]["at"]))  # fmt: skip
    assert abs((moved - due).total_seconds()) <= 1.0  # on time to the second, like a published post
    mails = eventually(lambda: sent_to(chorus, ann.email) or None, timeout=20)
    assert len(mails) == 1
    assert mails[0]["From"] == MAIL_FROM
    body = text_of(mails[0])
    assert "春天的第一杯咖啡" in body
    assert "春季限定 ☕ 今天上新 #咖啡" in body
    assert PHOTO["url"] in body
    assert f"/posts/{post_id}/targets/{team['account']}/posted" in body
    listed = call("GET", "/notifications").json()["notifications"]
    assert [(n["topic"], n["post_id"], n["read"]) for n in listed] == [("manual_publish_due", post_id, False)]
    # The same message delivered again tells no one again
    stored = repo.targets_of(team["ws"], post_id, consistent=True)[0]  # its token: the message's (none)
    message = PublishMessage("publish", team["ws"], post_id, team["account"], stored.queue_token,
                             waiting["due_at"])  # fmt: skip
    default_queue().send(message, 0)
    assert chorus.rt.wait_idle(timeout=30)
    assert len(sent_to(chorus, ann.email)) == 1
    assert len(call("GET", "/notifications").json()["notifications"]) == 1
    # Read, and only by its person
    note_id = listed[0]["id"]
    read = call("POST", f"/notifications/{note_id}/read")
    assert read.status_code == 200, read.text
    assert read.json()["read"] is True
    assert call("GET", "/notifications", params={"unread": "true"}).json()["notifications"] == []
    # A URL elsewhere is refused naming the field; the post's URL publishes it
    bad = call(
        "POST", f"/posts/{post_id}/targets/{team['account']}/posted", json={"url": "https://weibo.com/1"}
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["url"]
    url = "https://www.xiaohongshu.com/explore/64f1a2b3c4d5e6f7a8b9c0d1"
    marked = call("POST", f"/posts/{post_id}/targets/{team['account']}/posted", json={"url": url})
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "published"
    done = target(team, post_id)
    assert (done["state"], done["url"]) == ("published", url)
    again = call("POST", f"/posts/{post_id}/targets/{team['account']}/posted", json={"url": url})
    assert again.status_code == 409
    # On the calendar of its day in Asia/Shanghai, published
    day = datetime.fromisoformat(done["published_at"].replace("Z", "+00:00"))
    from zoneinfo import ZoneInfo

    local_day = day.astimezone(ZoneInfo("Asia/Shanghai")).date()
    start = datetime.combine(local_day, datetime.min.time(), ZoneInfo("Asia/Shanghai"))
    cal = call(
        "GET", "/calendar", params={"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
    )
    assert cal.status_code == 200, cal.text
    [entry] = cal.json()["days"][local_day.isoformat()][team["account"]]
    assert (entry["post_id"], entry["state"]) == (post_id, "published")

    # Counted in the report of that day like any other published post
    def counted() -> int | None:
        params = {"from": local_day.isoformat(), "to": local_day.isoformat(), "format": "json"}
        answer = call("GET", "/reports", params=params)
        assert answer.status_code == 200, answer.text
        current = answer.json()["overall"]["posts_published"]["current"]
        return current if current == 1 else None

    assert eventually(counted, timeout=30) == 1
    # The audit log names the action
    audit = call("GET", "/audit").json()
    entries = audit.get("entries", audit.get("items", []))
    assert any(e["action"] == "post.marked_posted" for e in entries), json.dumps(entries)[:2000]


def test_not_marked_in_time_it_is_overdue_with_one_alert(chorus: Chorus, team: dict[str, Any]) -> None:
    from chorus.posts.model import TargetState
    from chorus.store import posts as repo

    alerts = subscribe_alerts(chorus)
    post_id = schedule(team, "周末活动", "周六见")
    awaiting(team, post_id)
    # The workspace's window passes (moved a minute into the past rather than waiting 24 h)
    stored = repo.targets_of(team["ws"], post_id, consistent=True)[0]
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    assert repo.transition(
        stored, TargetState.AWAITING_MANUAL, expect=[TargetState.AWAITING_MANUAL], overdue_at=past
    )
    first = chorus.rt.tick("SchedulerFunction")
    second = chorus.rt.tick("SchedulerFunction")
    assert (first["overdue"], second["overdue"]) == (1, 0)
    assert target(team, post_id)["state"] == "overdue"
    overdue = [n for n in team["call"]("GET", "/notifications").json()["notifications"]
               if n["topic"] == "manual_publish_overdue"]  # fmt: skip
    assert [n["post_id"] for n in overdue] == [post_id]

    def alerted() -> list[dict[str, Any]] | None:
        return [a for a in drain(chorus, alerts) if "overdue" in a.get("Subject", "")] or None

    [alert] = eventually(alerted, timeout=20)
    assert post_id in alert["Message"]
    assert chorus.rt.wait_idle(timeout=30)
    assert alerted() is None  # once
    # Still markable afterwards
    url = "https://www.xiaohongshu.com/explore/aa11bb22"
    marked = team["call"]("POST", f"/posts/{post_id}/targets/{team['account']}/posted", json={"url": url})
    assert marked.status_code == 200, marked.text
    assert target(team, post_id)["state"] == "published"


def test_shanghai_wall_clock_times_land_on_their_local_calendar_day(
    chorus: Chorus, team: dict[str, Any]
) -> None:
    """The workspace is in Asia/Shanghai (UTC+8): 00:30 there is 16:30 UTC the day before, and the
    calendar shows it on its Shanghai day; 23:59:59 is the day before, 00:00:00 the day itself."""
    call, year = team["call"], datetime.now(UTC).year + 1
    made = {}
    for local in (f"{year}-03-01T23:59:59", f"{year}-03-02T00:00:00", f"{year}-03-02T00:30:00"):
        body = {"title": "早安", "text": local, "media": [PHOTO], "accounts": [team["account"]],
                "scheduled_at": local, "timezone": "Asia/Shanghai"}  # fmt: skip
        answer = call("POST", "/posts", json=body)
        assert answer.status_code == 201, answer.text
        made[local] = answer.json()
    due = {local: p["targets"][0]["due_at"] for local, p in made.items()}
    assert due == {
        f"{year}-03-01T23:59:59": f"{year}-03-01T15:59:59.000Z",
        f"{year}-03-02T00:00:00": f"{year}-03-01T16:00:00.000Z",
        f"{year}-03-02T00:30:00": f"{year}-03-01T16:30:00.000Z",
    }
    window = {"from": f"{year}-03-01T00:00:00+08:00", "to": f"{year}-03-03T00:00:00+08:00"}
    days = call("GET", "/calendar", params=window).json()["days"]
    shown = {
        day: sorted(e["local_time"] for e in by_account[team["account"]]) for day, by_account in days.items()
    }
    assert shown == {f"{year}-03-01": ["23:59"], f"{year}-03-02": ["00:00", "00:30"]}
    for p in made.values():  # not left to be reminded in a later test run
        assert call("DELETE", f"/posts/{p['id']}").status_code == 200
