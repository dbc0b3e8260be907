"""Scheduled auto-publishing on the embedded runtime: on time, exactly once, never in an old form."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.harness import Chorus, eventually


@pytest.fixture
def tenant(chorus: Chorus) -> tuple[str, str, str]:
    ws, key = chorus.workspace()
    account = chorus.sandbox_account(key, handle=f"brand-{ws}")
    return ws, key, account


def post(chorus: Chorus, key: str, **body: Any) -> dict[str, Any]:
    answer = chorus.call("POST", "/posts", key, json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def target_of(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    return dict(chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0])


def settled(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    return eventually(
        lambda: (t := target_of(chorus, key, post_id))["state"] in {"published", "failed"} and t, timeout=30
    )


def requests_for(chorus: Chorus, account_handle: str) -> list[dict[str, Any]]:
    return [r for r in chorus.platform_requests() if r["account"] == account_handle]


def test_a_post_scheduled_for_t_is_published_once_at_t(chorus: Chorus, tenant: tuple[str, str, str]) -> None:
    ws, key, account = tenant
    # Given a post scheduled three seconds ahead
    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    created = post(chorus, key, text="On time", accounts=[account], scheduled_at=due.isoformat())
    # When it is published
    target = settled(chorus, key, created["id"])
    # Then the platform received exactly one request, within a second of the due time
    assert target["state"] == "published"
    calls = requests_for(chorus, f"brand-{ws}")
    assert len(calls) == 1
    assert abs(calls[0]["at"] - due.timestamp()) <= 1.0
    assert target["platform_post_id"]
    assert target["url"]


def test_a_503_then_success_publishes_once(chorus: Chorus, tenant: tuple[str, str, str]) -> None:
    ws, key, account = tenant
    chorus.fault(
        kind="status", account=f"brand-{ws}", status=503, message="try later", times=1, retry_after=1
    )
    created = post(chorus, key, text="Retry me", accounts=[account], mode="now")
    target = settled(chorus, key, created["id"])
    assert target["state"] == "published"
    assert target["attempts"] == 2
    assert [a["outcome"] for a in target["attempt_log"]] == ["retry", "published"]
    assert len([p for p in chorus.platform_posts() if p["account"] == f"brand-{ws}"]) == 1


def test_a_timeout_after_the_post_was_created_publishes_once(
    chorus: Chorus, tenant: tuple[str, str, str]
) -> None:
    ws, key, account = tenant
    # Given the platform creates the post but holds its answer until the client has timed out
    chorus.fault(kind="timeout_after_create", account=f"brand-{ws}", times=1)
    created = post(chorus, key, text="Slow platform", accounts=[account], mode="now")
    # When the publisher verifies before retrying
    target = settled(chorus, key, created["id"])
    # Then the post exists once and the target found it in `verifying`
    assert target["state"] == "published"
    outcomes = [a["outcome"] for a in target["attempt_log"]]
    assert outcomes == ["unknown", "published"]
    assert len([p for p in chorus.platform_posts() if p["account"] == f"brand-{ws}"]) == 1
    assert len(requests_for(chorus, f"brand-{ws}")) == 1


def test_a_400_fails_with_the_platforms_message_and_an_event(
    chorus: Chorus, tenant: tuple[str, str, str]
) -> None:
    ws, key, account = tenant
    chorus.fault(kind="status", account=f"brand-{ws}", status=400, message="Duplicate status", times=1)
    created = post(chorus, key, text="Refused", accounts=[account], mode="now")
    target = settled(chorus, key, created["id"])
    assert target["state"] == "failed"
    assert "Duplicate status" in target["error"]
    assert target["attempts"] == 1


def test_two_publishers_racing_on_one_target_publish_once(
    chorus: Chorus, tenant: tuple[str, str, str]
) -> None:
    import threading

    from chorus.posts.queue import PublishMessage
    from chorus.store import posts as repo

    ws, key, account = tenant
    # Given a queued target whose message is delivered to two workers at the same moment
    created = post(chorus, key, text="Race", accounts=[account], mode="draft")
    target = repo.targets_of(ws, created["id"])[0]
    from chorus.posts.model import TargetState

    assert repo.transition(target, TargetState.QUEUED, expect=[TargetState.DRAFT], new_token="race-token")
    due = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    body = PublishMessage("publish", ws, created["id"], account, "race-token", due).to_json()

    def event(message_id: str) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "messageId": message_id,
                    "receiptHandle": message_id,
                    "body": body,
                    "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:publish",
                    "awsRegion": "us-east-1",
                }
            ]
        }

    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def worker(n: int) -> None:
        barrier.wait()
        answers.append(chorus.rt.invoke("PublisherFunction", event(f"m{n}")))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly one platform post exists and the target is published once
    assert [a["batchItemFailures"] for a in answers] == [[], []]
    assert len([p for p in chorus.platform_posts() if p["account"] == f"brand-{ws}"]) == 1
    assert target_of(chorus, key, created["id"])["state"] == "published"


def test_an_edited_post_never_goes_out_in_its_old_form(chorus: Chorus, tenant: tuple[str, str, str]) -> None:
    ws, key, account = tenant
    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    created = post(chorus, key, text="Old text", accounts=[account], scheduled_at=due.isoformat())
    # When the post is edited while its message is already queued
    edited = chorus.call(
        "PUT", f"/posts/{created['id']}", key,
        json={"text": "New text", "accounts": [account], "scheduled_at": due.isoformat(), "version": 1},
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    target = settled(chorus, key, created["id"])
    assert chorus.rt.wait_idle(60)
    # Then only the new text was published, once
    texts = [p["text"] for p in chorus.platform_posts() if p["account"] == f"brand-{ws}"]
    assert texts == ["New text"]
    assert target["state"] == "published"


def test_a_cancelled_post_never_goes_out(chorus: Chorus, tenant: tuple[str, str, str]) -> None:
    ws, key, account = tenant
    due = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    created = post(chorus, key, text="Never", accounts=[account], scheduled_at=due.isoformat())
    assert chorus.call("DELETE", f"/posts/{created['id']}", key).status_code == 200
    time_left = due.timestamp() - datetime.now(UTC).timestamp()
    __import__("time").sleep(max(0.0, time_left) + 2.5)  # let the (stale) message arrive and be ignored
    assert chorus.rt.wait_idle(60)
    assert requests_for(chorus, f"brand-{ws}") == []
    assert target_of(chorus, key, created["id"])["state"] == "cancelled"


def test_an_unapproved_post_never_goes_out_until_approved(
    chorus: Chorus, tenant: tuple[str, str, str]
) -> None:
    ws, key, account = tenant
    contributor = chorus.call("POST", "/keys", key, json={"name": "intern", "role": "contributor"}).json()[
        "key"
    ]
    due = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    created = post(
        chorus, contributor, text="Please approve", accounts=[account], scheduled_at=due.isoformat()
    )
    assert created["status"] == "pending_approval"
    __import__("time").sleep(2.5)
    chorus.rt.tick("SchedulerFunction")
    assert chorus.rt.wait_idle(60)
    assert requests_for(chorus, f"brand-{ws}") == []
    # A contributor cannot approve; an editor (here the owner) can, and then it goes out
    assert chorus.call("POST", f"/posts/{created['id']}/approve", contributor, json={}).status_code == 403
    unnamed = chorus.call("POST", f"/posts/{created['id']}/approve", key, json={})
    assert (unnamed.status_code, unnamed.json()["errors"][0]["field"]) == (422, "version")
    stale = chorus.call(
        "POST", f"/posts/{created['id']}/approve", key, json={"version": created["version"] + 1}
    )
    assert stale.status_code == 409
    seen = {"version": created["version"]}  # the version the approver saw
    assert chorus.call("POST", f"/posts/{created['id']}/approve", key, json=seen).status_code == 200
    assert settled(chorus, key, created["id"])["state"] == "published"


def test_a_rejected_post_needs_a_reason_and_never_goes_out(
    chorus: Chorus, tenant: tuple[str, str, str]
) -> None:
    ws, key, account = tenant
    contributor = chorus.call("POST", "/keys", key, json={"name": "intern", "role": "contributor"}).json()[
        "key"
    ]
    created = post(chorus, contributor, text="Off brand", accounts=[account], mode="now")
    no_reason = chorus.call("POST", f"/posts/{created['id']}/reject", key, json={})
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "comment"
    rejected = chorus.call("POST", f"/posts/{created['id']}/reject", key, json={"comment": "tone"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["approval"]["comment"] == "tone"


def test_overdue_targets_are_caught_up_by_the_scheduler(chorus: Chorus, tenant: tuple[str, str, str]) -> None:
    from chorus.posts.model import TargetState
    from chorus.store import posts as repo

    ws, key, account = tenant
    # Given a target that was due ten minutes ago while the scheduler did not run (an outage)
    created = post(chorus, key, text="Late but not lost", accounts=[account], mode="draft")
    target = repo.targets_of(ws, created["id"])[0]
    overdue = datetime.now(UTC) - timedelta(minutes=10)
    assert repo.transition(target, TargetState.SCHEDULED, expect=[TargetState.DRAFT], due_at=overdue)
    repo.save_scheduler_state(repo.SchedulerState(watermark=overdue - timedelta(minutes=5)))
    # When the scheduler runs again
    report = chorus.rt.tick("SchedulerFunction")
    # Then it is handed out and published
    assert report["caught_up"] >= 1
    assert settled(chorus, key, created["id"])["state"] == "published"


def test_dst_day_posts_keep_their_local_wall_clock_time(chorus: Chorus, tenant: tuple[str, str, str]) -> None:
    from chorus.posts import lead, scheduler
    from chorus.posts.queue import InMemoryPublishQueue
    from chorus.store import posts as repo

    ws, key, account = tenant
    # Paris moves to summer time on 2027-03-28 (UTC+1 -> UTC+2) and back on 2026-10-25
    spring = post(chorus, key, text="Spring", accounts=[account], scheduled_at="2027-03-28T09:00:00",
                  timezone="Europe/Paris")  # fmt: skip
    autumn = post(chorus, key, text="Autumn", accounts=[account], scheduled_at="2026-10-25T09:00:00",
                  timezone="Europe/Paris", mode="draft")  # fmt: skip
    assert spring["targets"][0]["due_at"].startswith("2027-03-28T07:00:00")
    assert autumn["targets"][0]["due_at"].startswith("2026-10-25T08:00:00")
    # And the scheduler hands the spring post out to arrive at 09:00 local, not 08:00 or 10:00
    queue = InMemoryPublishQueue()
    repo.save_scheduler_state(repo.SchedulerState(watermark=datetime(2027, 3, 28, 6, 58, tzinfo=UTC)))
    scheduler.run(datetime(2027, 3, 28, 6, 59, 30, tzinfo=UTC), queue)
    mine = [(m, d) for m, d in queue.sent if m.post_id == spring["id"]]
    # (delays are whole seconds, counted when each message is sent - this run's clock moves with the
    # wall clock from 06:59:30 - so it arrives LEAD_S to LEAD_S + 1 s early)
    assert [m.due_at for m, _ in mine] == ["2027-03-28T07:00:00.000Z"]
    assert 30 - lead.LEAD_S - 2 < mine[0][1] <= 30 - lead.LEAD_S


def test_a_slow_hand_out_counts_each_delay_from_when_its_message_is_sent(
    chorus: Chorus, tenant: tuple[str, str, str]
) -> None:
    from chorus.posts import lead, scheduler
    from chorus.posts.queue import InMemoryPublishQueue
    from chorus.store import posts as repo

    ws, key, account = tenant
    created = post(
        chorus, key, text="Due in a minute", accounts=[account], scheduled_at="2027-05-02T10:01:00"
    )
    # Given a run at 10:00:00 whose messages go out 20 s after it started (1,000 targets take seconds)
    start = datetime(2027, 5, 2, 10, 0, 0, tzinfo=UTC)
    queue = InMemoryPublishQueue()
    repo.save_scheduler_state(repo.SchedulerState(watermark=datetime(2027, 5, 2, 9, 59, tzinfo=UTC)))
    scheduler.run(start, queue, clock=lambda: start + timedelta(seconds=20))
    # Then the message is delayed from 10:00:20, so it still arrives LEAD_S before 10:01, not 20 s late
    [delay] = [d for m, d in queue.sent if m.post_id == created["id"]]
    assert delay == math.floor(40 - lead.LEAD_S)


def test_recurring_posts_expand_in_local_time(chorus: Chorus, tenant: tuple[str, str, str]) -> None:
    ws, key, account = tenant
    answer = chorus.call(
        "POST", "/posts", key,
        json={"text": "Weekly tip", "accounts": [account], "scheduled_at": "2027-03-21T09:00:00",
              "timezone": "Europe/Paris", "recurrence": {"every": 1, "unit": "week", "count": 3}},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    times = [p["scheduled_at"] for p in answer.json()["posts"]]
    assert [t[:19] for t in times] == ["2027-03-21T08:00:00", "2027-03-28T07:00:00", "2027-04-04T07:00:00"]


def test_queue_mode_takes_the_next_free_weekly_slot(chorus: Chorus, tenant: tuple[str, str, str]) -> None:
    ws, key, account = tenant
    slots = chorus.call(
        "PUT", "/queue/slots", key, json={"slots": [{"weekday": d, "time": "10:30"} for d in range(7)]}
    )
    assert slots.status_code == 200, slots.text
    first = post(chorus, key, text="Queued 1", accounts=[account], mode="queue")
    second = post(chorus, key, text="Queued 2", accounts=[account], mode="queue")
    a = datetime.fromisoformat(first["scheduled_at"].replace("Z", "+00:00"))
    b = datetime.fromisoformat(second["scheduled_at"].replace("Z", "+00:00"))
    assert (a.hour, a.minute) == (10, 30)
    assert b - a == timedelta(days=1)


def test_calendar_lists_posts_per_account_and_day(chorus: Chorus, tenant: tuple[str, str, str]) -> None:
    ws, key, account = tenant
    post(chorus, key, text="Calendar entry", accounts=[account], scheduled_at="2027-05-04T12:00:00Z")
    cal = chorus.call("GET", "/calendar?from=2027-05-01T00:00:00Z&to=2027-05-08T00:00:00Z", key)
    assert cal.status_code == 200, cal.text
    day = cal.json()["days"]["2027-05-04"][account]
    assert [(e["text"], e["state"]) for e in day] == [("Calendar entry", "scheduled")]


def test_csv_import_is_all_or_nothing_with_a_report_per_row(
    chorus: Chorus, tenant: tuple[str, str, str]
) -> None:
    ws, key, account = tenant
    bad = f"time,accounts,text,media_url\n2027-06-01T09:00:00Z,{account},Fine,\n2027-06-02T09:00:00Z,nobody,Unknown,\n"
    answer = chorus.call(
        "POST", "/posts/import", key, data=bad.encode(), headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 422
    assert [r["status"] for r in answer.json()["rows"]] == ["ok", "error"]
    assert answer.json()["created"] == 0
    good = f"time,accounts,text,media_url\n2027-06-01T09:00:00Z,{account},One,\n2027-06-02T09:00:00Z,{account},Two,\n"
    answer = chorus.call(
        "POST", "/posts/import", key, data=good.encode(), headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["created"] == 2


def test_a_thread_part_refused_shows_partially_published_and_a_retry_completes_it(
    chorus: Chorus, tenant: tuple[str, str, str]
) -> None:
    ws, key, account = tenant
    # Given a platform that takes the root of a thread and refuses its second post once
    chorus.fault(kind="status", account=f"brand-{ws}", status=422, message="reply refused", times=1, after=1)
    created = post(chorus, key, text="Thread root", thread=["Thread part"], accounts=[account], mode="now")
    # When it is published
    target = eventually(
        lambda: (t := target_of(chorus, key, created["id"]))["state"] == "partially_published" and t,
        timeout=30,
    )
    # Then the post, its target and the calendar show it partially published, the parts listed
    mine = [p for p in chorus.platform_posts() if p["account"] == f"brand-{ws}"]
    assert [p["text"] for p in mine] == ["Thread root"]
    assert target["parts"] == {"0": mine[0]["id"]}
    assert target["missing_parts"] == ["1"]
    assert target["platform_post_id"] == mine[0]["id"]
    assert "reply refused" in target["error"]
    assert chorus.call("GET", f"/posts/{created['id']}", key).json()["status"] == "partially_published"
    day = datetime.now(UTC).date()
    calendar = chorus.call(
        "GET",
        "/calendar",
        key,
        params={"from": f"{day}T00:00:00Z", "to": f"{day + timedelta(days=1)}T00:00:00Z"},
    ).json()
    shown = [e for entries in calendar["days"].values() for e in entries.get(account, [])]
    assert [(e["post_id"], e["state"]) for e in shown if e["post_id"] == created["id"]] == [
        (created["id"], "partially_published")
    ]

    # When an editor retries it
    answer = chorus.call("POST", f"/posts/{created['id']}/retry", key, json={"accounts": [account]})
    assert answer.status_code == 200, answer.text
    final = settled(chorus, key, created["id"])
    # Then only the missing part went out: the thread exists once, replying to its root
    assert final["state"] == "published"
    mine = [p for p in chorus.platform_posts() if p["account"] == f"brand-{ws}"]
    assert [(p["text"], p["reply_to"]) for p in mine] == [
        ("Thread root", None),
        ("Thread part", mine[0]["id"]),
    ]
    assert final["parts"] == {"0": mine[0]["id"], "1": mine[1]["id"]}
    assert final["missing_parts"] == []


def test_a_retry_of_a_post_with_nothing_failed_is_a_conflict_and_contributors_cannot_retry(
    chorus: Chorus, tenant: tuple[str, str, str]
) -> None:
    ws, key, account = tenant
    created = post(chorus, key, text="Fine", accounts=[account], mode="now")
    assert settled(chorus, key, created["id"])["state"] == "published"
    issued = chorus.call("POST", "/keys", key, json={"name": "writer", "role": "contributor"})
    assert issued.status_code == 201, issued.text
    contributor = issued.json()["key"]
    # When the owner retries a post that published, or names an account it does not target, and a
    # contributor (below editor) retries it
    nothing = chorus.call("POST", f"/posts/{created['id']}/retry", key)
    unknown = chorus.call("POST", f"/posts/{created['id']}/retry", key, json={"accounts": ["acc-nope"]})
    refused = chorus.call("POST", f"/posts/{created['id']}/retry", contributor)
    # Then the first is a conflict, the second names the field, the third is forbidden
    assert nothing.status_code == 409, nothing.text
    assert unknown.status_code == 422, unknown.text
    assert "accounts" in unknown.text
    assert refused.status_code == 403, refused.text
