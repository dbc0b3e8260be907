"""Metrics and reports on the embedded runtime: published sandbox posts are followed, the hourly fan-out
collects them on the age ladder, and GET /reports answers every format with hand-checked numbers.

The data set (one sandbox account, two posts, two collections):

==========  ===================================  ===================================
            first collection (publish + 61 min)  second collection (next day, 01:00)
==========  ===================================  ===================================
post A      impressions 200, likes 10,           likes 15 (+5)
            comments 2, shares 3
post B      impressions 100, likes 1             (unchanged)
followers   100                                  110
==========  ===================================  ===================================

So over the period: 2 posts, impressions 300, engagements (15 + 2 + 3) + 1 = 21, rate 21 / 300 = 7 %;
post A's rate 20 / 200 = 10 %, post B's 1 / 100 = 1 %; followers end at 110.

The inbox (sandbox notifications, polled; T = 3 hours before the data set is made):

==================  ===========================================  =============================
conversation        inbound (sentiment the offline analyser gives)  the account's first answer
==================  ===========================================  =============================
comments on post A  T "I love this, thank you so much!" (positive)  T + 600 s
comments on post B  T + 60 s "This is terrible, ..." (negative),    T + 60 s + 1800 s
                    T + 120 s "Still waiting ..." (neutral)
a DM                T + 180 s "Great product, ..." (positive)        none
==================  ===========================================  =============================

So 4 messages received (2 positive, 1 negative, 1 neutral), first responses 600 s and 1800 s: median
1200 s; nothing in the previous period.

Listening: a brand monitor "Acme" and a competitor "Globex" hear "acme is lovely" (positive), "acme vs
globex" (negative, counts for both) and "acme again" (neutral): Acme 3 mentions (1 positive, 1
negative), Globex 1 (1 negative), shares 3/4 and 1/4; one sentiment label overridden by a person.
"""

from __future__ import annotations

import csv
import email
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.harness import Chorus, eventually

SENDER = "reports@chorus.example"


@pytest.fixture(scope="module")
def chorus() -> Iterator[Chorus]:
    c = Chorus(parameters={"ReportsSender": SENDER})
    c.rt.client("ses").verify_email_identity(EmailAddress=SENDER)
    yield c
    c.close()


def publish(chorus: Chorus, key: str, account: str, text: str) -> dict[str, Any]:
    created = chorus.call("POST", "/posts", key, json={"text": text, "accounts": [account], "mode": "now"})
    assert created.status_code == 201, created.text
    post_id = created.json()["id"]

    def published() -> dict[str, Any] | None:
        target = chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0]
        return dict(target) if target["state"] == "published" else None

    target = eventually(published, timeout=30)
    return {"post_id": post_id, "platform_post_id": target["platform_post_id"], "text": text}


@pytest.fixture(scope="module")
def dataset(chorus: Chorus) -> dict[str, Any]:
    ws, key = chorus.workspace("Reports Co")
    handle = f"rep-{ws}"
    account = chorus.sandbox_account(key, handle)
    chorus.set_followers(handle, 100)
    a = publish(chorus, key, account, "Post A: our launch")
    b = publish(chorus, key, account, "Post B: a quiet one")
    assert chorus.rt.wait_idle(timeout=30)  # the table's stream read: both posts followed
    chorus.engage(a["platform_post_id"], impressions=200, likes=10, comments=2, shares=3)
    chorus.engage(b["platform_post_id"], impressions=100, likes=1)
    first = datetime.now(UTC) + timedelta(minutes=61)
    chorus.tick_at("MetricsFanoutFunction", first)
    assert chorus.rt.wait_idle(timeout=30)
    chorus.engage(a["platform_post_id"], likes=5)
    chorus.set_followers(handle, 110)
    second = datetime.combine(first.date() + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=1)
    chorus.tick_at("MetricsFanoutFunction", second)
    assert chorus.rt.wait_idle(timeout=30)
    inbox_activity(chorus, account, handle)
    listening_activity(chorus, ws, key)
    today = datetime.now(UTC).date()
    return {
        "ws": ws,
        "key": key,
        "account": account,
        "a": a,
        "b": b,
        "from": (today - timedelta(days=1)).isoformat(),
        "to": today.isoformat(),
    }


def notify(chorus: Chorus, handle: str, at: datetime, author: str, **note: Any) -> None:
    answer = requests.post(
        chorus.sandbox.url + "/_control/notify",
        json={"account": handle, "created_at": at.isoformat(), "author": {"id": author}, **note},
        timeout=5,
    )
    answer.raise_for_status()


def inbox_activity(chorus: Chorus, account: str, handle: str) -> None:
    """The inbox of the module docstring, polled from the sandbox."""
    from chorus.inbox.poller import tracked

    eventually(lambda: any(t.account_id == account for t in tracked(["sandbox"])), timeout=15)
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    notify(chorus, handle, t, "fan-1", type="comment", post_id="pa", text="I love this, thank you so much!")
    notify(chorus, handle, t + timedelta(seconds=60), "fan-2", type="comment", post_id="pb",
           text="This is terrible, I am very disappointed")  # fmt: skip
    notify(chorus, handle, t + timedelta(seconds=120), "fan-2", type="comment", post_id="pb",
           text="Still waiting for an answer")  # fmt: skip
    notify(
        chorus, handle, t + timedelta(seconds=180), "fan-3", type="dm", text="Great product, amazing service"
    )
    notify(chorus, handle, t + timedelta(seconds=600), handle, type="comment", post_id="pa", text="Thanks!")
    notify(chorus, handle, t + timedelta(seconds=1860), handle, type="comment", post_id="pb", text="Sorry!")
    chorus.rt.tick("PollerFunction")
    assert chorus.rt.wait_idle(timeout=30)


def listening_activity(chorus: Chorus, ws: str, key: str) -> None:
    """The monitors, mentions and override of the module docstring."""
    from chorus.listening import service
    from chorus.listening.monitors import Mention

    for body in ({"name": "Acme", "kind": "brand", "terms": ["acme"]},
                 {"name": "Globex", "kind": "competitor", "terms": ["globex"]}):  # fmt: skip
        assert chorus.call("POST", "/monitors", key, json=body).status_code == 201
    monitors = service.list_monitors(ws)
    at = datetime.now(UTC) - timedelta(hours=2)
    for pid, text, label in (("m1", "acme is lovely", "positive"), ("m2", "acme vs globex", "negative"),
                             ("m3", "acme again", "neutral")):  # fmt: skip
        service.record_mention(ws, Mention("bluesky", pid, None, "a", "did:a", text, at), label, monitors)
    override = {"target": "mention", "ref": "m3", "from": "neutral", "to": "positive", "by": "key"}
    service.record_override(ws, override, at)


def report(chorus: Chorus, data: dict[str, Any], fmt: str, **extra: str) -> Any:
    params = {"from": data["from"], "to": data["to"], "format": fmt, **extra}
    return chorus.call("GET", "/reports", data["key"], params=params)


def test_json_report_has_the_hand_checked_numbers(chorus: Chorus, dataset: dict[str, Any]) -> None:
    # When the JSON report of the period is asked for
    answer = report(chorus, dataset, "json")
    # Then it answers at once with the collected numbers
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    overall = body["overall"]
    assert overall["posts_published"]["current"] == 2
    assert overall["posts_published"]["previous"] == 0
    assert overall["impressions"]["current"] == 300
    assert overall["reach"]["current"] is None  # the sandbox reports no reach: absent, not 0
    assert overall["engagements"]["current"] == 21
    assert overall["engagement_rate"]["current"] == pytest.approx(0.07)
    assert overall["rate_basis"] == "impressions"
    assert [p["platform"] for p in body["platforms"]] == ["sandbox"]
    assert body["platforms"][0]["impressions"]["current"] == 300
    assert body["followers"]["accounts"][0]["end"] == 110
    top = body["top_posts"]
    assert [p["post_id"] for p in top] == [dataset["a"]["post_id"], dataset["b"]["post_id"]]
    assert [p["text_excerpt"] for p in top] == [dataset["a"]["text"], dataset["b"]["text"]]
    assert [(p["impressions"], p["engagements"]) for p in top] == [(200, 20), (100, 1)]
    assert [p["engagement_rate"] for p in top] == [pytest.approx(0.1), pytest.approx(0.01)]
    cells = [c for c in body["heatmap"] if c["posts"]]
    assert sum(c["posts"] for c in cells) == 2
    assert sum(c["avg_engagement_rate"] * c["posts"] for c in cells) == pytest.approx(0.11)
    inbox = body["inbox"]
    assert inbox["volume"]["current"] == 4
    assert inbox["volume"]["previous"] == 0
    assert inbox["sentiment"]["counts"] == {"positive": 2, "negative": 1, "neutral": 1, "unknown": 0}
    assert inbox["sentiment"]["shares"]["positive"] == pytest.approx(0.5)
    assert inbox["median_first_response_seconds"]["current"] == pytest.approx(1200.0)
    assert inbox["median_first_response_seconds"]["previous"] is None
    voice = {r["monitor"]: r for r in body["share_of_voice"]}
    assert [r["monitor"] for r in body["share_of_voice"]] == ["Acme", "Globex"]
    assert (voice["Acme"]["role"], voice["Acme"]["mentions"], voice["Acme"]["positive"]) == ("brand", 3, 1)
    assert (voice["Acme"]["negative"], voice["Acme"]["share"], voice["Acme"]["is_own"]) == (1, 0.75, True)
    assert (voice["Globex"]["role"], voice["Globex"]["mentions"], voice["Globex"]["negative"]) == (
        "competitor",
        1,
        1,
    )
    assert voice["Globex"]["share"] == 0.25
    assert body["sentiment_overrides"] == 1


def test_collection_follows_the_ladder(chorus: Chorus, dataset: dict[str, Any]) -> None:
    from chorus.metrics.registry import CollectionRegistry
    from chorus.metrics.service import InMemoryCollectionQueue, fan_out

    registry = CollectionRegistry()
    ws, account = dataset["ws"], dataset["account"]
    # Given the account collected twice, last at the second tick
    entry = registry.entry(ws, account)
    assert entry is not None
    collected = entry.account_last_collected_at
    assert collected is not None
    posts = registry.followed_posts(ws, account)
    assert {p.last_collected_at for p in posts} == {collected}
    assert entry.next_due is not None
    # When the fan-out runs before the next due time, and at it
    early, due = InMemoryCollectionQueue(), InMemoryCollectionQueue()
    fan_out(entry.next_due - timedelta(minutes=1), registry, early)
    fan_out(entry.next_due, registry, due)
    # Then only the run at the due time collects the account, and the post's ladder interval set it
    assert (ws, account) not in {(m.workspace_id, m.account_id) for m in early.sent}
    assert (ws, account) in {(m.workspace_id, m.account_id) for m in due.sent}
    age = collected - min(p.info.published_at for p in posts)
    interval = timedelta(hours=1) if age < timedelta(days=1) else timedelta(hours=6)
    assert entry.next_due == collected + interval


def csv_blocks(text: str) -> dict[str, list[list[str]]]:
    blocks: dict[str, list[list[str]]] = {}
    title = ""
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        if not row or not any(row):
            title = ""
        elif not title:
            title = row[0]
            blocks[title] = []
        else:
            blocks[title].append(row)
    return blocks


def test_csv_report_has_the_same_numbers(chorus: Chorus, dataset: dict[str, Any]) -> None:
    answer = report(chorus, dataset, "csv")
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in answer.headers["Content-Disposition"]
    blocks = csv_blocks(answer.content.decode("utf-8"))
    overview = {row[0]: row[1:] for row in blocks["Overview"][1:]}
    assert overview["Posts published"][0] == "2"
    assert overview["Impressions"][0] == "300"
    assert overview["Engagements"][0] == "21"
    assert float(overview["Engagement rate (%)"][0]) == pytest.approx(7.0)
    header, *rows = blocks["Top posts"]
    top = [dict(zip(header, row, strict=True)) for row in rows]
    assert [p["Post"] for p in top] == [dataset["a"]["text"], dataset["b"]["text"]]
    assert [(p["Impressions"], p["Engagements"]) for p in top] == [("200", "20"), ("100", "1")]
    assert [float(p["Engagement rate (%)"]) for p in top] == [pytest.approx(10.0), pytest.approx(1.0)]
    inbox = {row[0]: row[1:] for row in blocks["Inbox"][1:]}
    assert inbox["Messages received"][:2] == ["4", "0"]
    assert float(inbox["Median first response (s)"][0]) == pytest.approx(1200.0)
    sentiment = {row[0]: row[1:] for row in blocks["Sentiment"][1:]}
    assert {label: row[0] for label, row in sentiment.items()} == {
        "Positive": "2",
        "Negative": "1",
        "Neutral": "1",
        "Unknown": "0",
    }
    assert float(sentiment["Positive"][1]) == pytest.approx(50.0)
    header, *rows = blocks["Share of voice"]
    voice = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(v["Monitor"], v["Role"], v["Mentions"], v["Positive"], v["Negative"]) for v in voice] == [
        ("Acme (us)", "Brand", "3", "1", "1"),
        ("Globex", "Competitor", "1", "0", "1"),
    ]
    assert [float(v["Share (%)"]) for v in voice] == [75.0, 25.0]
    assert blocks["Sentiment overrides"][1] == ["Sentiment labels changed by people", "1"]


def test_html_report_is_one_self_contained_page_with_the_numbers(
    chorus: Chorus, dataset: dict[str, Any]
) -> None:
    answer = report(chorus, dataset, "html")
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/html")
    page = answer.text
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert dataset["a"]["text"] in page
    assert dataset["b"]["text"] in page
    assert "Reports Co" in page
    assert "<script src=" not in page  # charting library inlined, nothing fetched
    inbox = page[page.index("Messages received") :]
    assert re.match(r'Messages received</div><div class="value">4<', inbox), inbox[:200]
    assert re.search(r'Median first response</div><div class="value">20m 00s<', inbox)  # 1200 s
    voice = page[page.index("Share of voice") :]
    assert "Acme (us)" in voice
    assert "Globex" in voice
    assert re.search(r"Sentiment labels changed by people</t[dh]>\s*<td[^>]*>1<", voice), voice[-3000:]


def wait_job(chorus: Chorus, key: str, job_id: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        job = chorus.call("GET", f"/reports/jobs/{job_id}", key).json()
        return dict(job) if job["state"] in {"done", "failed"} else None

    return eventually(finished, timeout=60)


def test_a_pdf_is_built_by_a_job_and_downloaded_by_a_presigned_link(
    chorus: Chorus, dataset: dict[str, Any]
) -> None:
    # When a PDF is asked for
    answer = report(chorus, dataset, "pdf")
    # Then the API answers 202 with a job, which the reports worker finishes
    assert answer.status_code == 202, answer.text
    queued = answer.json()
    assert queued["state"] == "queued"
    assert queued["status_url"] == f"/reports/jobs/{queued['job_id']}"
    job = wait_job(chorus, dataset["key"], queued["job_id"])
    assert job["state"] == "done", job
    assert job["content_type"] == "application/pdf"
    assert job["filename"].endswith(".pdf")
    pdf = requests.get(job["url"], timeout=30)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")


def test_a_range_longer_than_93_days_is_a_job_with_the_same_numbers(
    chorus: Chorus, dataset: dict[str, Any]
) -> None:
    start = (date.fromisoformat(dataset["to"]) - timedelta(days=120)).isoformat()
    answer = chorus.call(
        "GET", "/reports", dataset["key"], params={"from": start, "to": dataset["to"], "format": "json"}
    )
    assert answer.status_code == 202, answer.text
    job = wait_job(chorus, dataset["key"], answer.json()["job_id"])
    assert job["state"] == "done", job
    body = requests.get(job["url"], timeout=30).json()
    assert body["period"]["from"] == start
    assert body["overall"]["posts_published"]["current"] == 2
    assert body["overall"]["impressions"]["current"] == 300
    assert body["overall"]["engagements"]["current"] == 21


def test_a_job_of_another_workspace_is_not_found(chorus: Chorus, dataset: dict[str, Any]) -> None:
    answer = report(chorus, dataset, "pdf")
    assert answer.status_code == 202
    _, other = chorus.workspace("Other")
    assert chorus.call("GET", f"/reports/jobs/{answer.json()['job_id']}", other).status_code == 404


def test_goals_show_beside_the_actuals(chorus: Chorus, dataset: dict[str, Any]) -> None:
    key = dataset["key"]
    # Given KPI goals for impressions and the engagement rate
    goals = [
        {"metric": "impressions", "target": 600},
        {"metric": "engagement_rate_pct", "target": 5, "label": "Rate goal"},
    ]
    put = chorus.call("PUT", "/goals", key, json={"goals": goals})
    assert put.status_code == 200, put.text
    assert [g["metric"] for g in chorus.call("GET", "/goals", key).json()["goals"]] == [
        "impressions",
        "engagement_rate_pct",
    ]
    # When the report is built
    body = report(chorus, dataset, "json").json()
    chorus.call("PUT", "/goals", key, json={"goals": []})  # other tests see no goals
    # Then each goal has its actual and how far it got
    rows = {g["metric"]: g for g in body["goals"]}
    assert rows["Impressions"]["actual"] == 300
    assert rows["Impressions"]["pct_reached"] == pytest.approx(50.0)
    assert rows["Rate goal"]["actual"] == pytest.approx(7.0)
    assert rows["Rate goal"]["pct_reached"] == pytest.approx(140.0)
    # And an unknown goal metric is refused, naming the field
    bad = chorus.call("PUT", "/goals", key, json={"goals": [{"metric": "vibes", "target": 1}]})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "goals[0].metric"


def test_best_times_come_from_the_accounts_own_posts(chorus: Chorus, dataset: dict[str, Any]) -> None:
    answer = chorus.call(
        "GET", "/insights/best-times", dataset["key"], params={"account": dataset["account"]}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["posts"] == 2
    assert len(body["heatmap"]) == 168
    best = body["best_slots"][0]
    cells = [c for c in body["heatmap"] if c["posts"]]
    assert best in cells
    assert sum(c["avg_engagement_rate"] * c["posts"] for c in cells) == pytest.approx(0.11)
    missing = chorus.call("GET", "/insights/best-times", dataset["key"], params={"account": "acc-nope"})
    assert missing.status_code == 422


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "docx"}, "format"),
        ({"from": "2026-02-30"}, "from"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"accounts": "acc-unknown"}, "accounts"),
        ({"tz": "Mars/Olympus"}, "tz"),
    ],
)
def test_a_bad_report_query_names_the_field(
    chorus: Chorus, dataset: dict[str, Any], params: dict[str, str], field: str
) -> None:
    answer = chorus.call("GET", "/reports", dataset["key"], params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field


def test_a_viewer_reads_reports_but_cannot_set_goals(chorus: Chorus, dataset: dict[str, Any]) -> None:
    made = chorus.call("POST", "/keys", dataset["key"], json={"name": "boss", "role": "viewer"})
    viewer = made.json()["key"]
    assert report(chorus, {**dataset, "key": viewer}, "json").status_code == 200
    assert chorus.call("PUT", "/goals", viewer, json={"goals": []}).status_code == 403


def sent_emails(chorus: Chorus) -> list[dict[str, Any]]:
    data = requests.get(f"{chorus.rt.endpoint}/moto-api/data.json", timeout=30).json()
    return list(data.get("ses", {}).get("RawMessage", []))


def test_a_weekly_schedule_emails_last_weeks_report(chorus: Chorus, dataset: dict[str, Any]) -> None:
    key = dataset["key"]
    # Given a weekly e-mailed report to two people
    schedule = {"cadence": "weekly", "recipients": ["a@example.com", "b@example.com"], "format": "html"}
    put = chorus.call("PUT", "/reports/schedules", key, json={"schedules": [schedule]})
    assert put.status_code == 200, put.text
    listed = chorus.call("GET", "/reports/schedules", key).json()["schedules"]
    assert [(s["cadence"], s["recipients"], s["format"]) for s in listed] == [
        ("weekly", ["a@example.com", "b@example.com"], "html")
    ]
    ses = chorus.rt.client("ses")
    before = ses.get_send_quota()["SentLast24Hours"]
    # When the weekly schedule fires, twice
    first = chorus.rt.tick("ReportMailerFunction.Weekly")
    again = chorus.rt.tick("ReportMailerFunction.Weekly")
    # Then the report of last week went once, to both recipients, from the configured sender
    assert first["sent"] >= 1
    assert again["sent"] == 0
    assert again["skipped"] >= 1
    assert ses.get_send_quota()["SentLast24Hours"] - before >= 2
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday() + 7)
    ours = [m for m in sent_emails(chorus) if "Reports Co" in m["raw_data"]]
    assert len(ours) == 1
    mail = email.message_from_string(ours[0]["raw_data"])
    assert mail["From"] == SENDER
    assert mail["To"] == "a@example.com, b@example.com"
    assert mail["Subject"] == f"Reports Co - weekly social report ({monday} to {monday + timedelta(days=6)})"
    attachments = [p for p in mail.walk() if p.get_filename()]
    assert [(a.get_content_type(), a.get_filename()) for a in attachments] == [
        ("text/html", f"chorus-report_{monday}_{monday + timedelta(days=6)}.html")
    ]
    attached = attachments[0].get_payload(decode=True)
    assert isinstance(attached, bytes)
    assert b"Reports Co" in attached
    last_sent = chorus.call("GET", "/reports/schedules", key).json()["schedules"][0]["last_sent"]
    year, week, _ = monday.isocalendar()
    assert last_sent == f"{year}-W{week:02d}"


# ------------------------------------------------------------------ rendering in real tools


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: run `make test-deps` (installs poppler-utils and chromium)"
    return found


def inked(png: Path) -> float:
    """Share of pixels that are not (near) white: 0 for a blank page."""
    from PIL import Image

    with Image.open(png) as image:
        grey = image.convert("L")
        histogram = grey.histogram()
    return sum(histogram[:235]) / max(1, sum(histogram))


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        tool("chromium"),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=390,2400",  # a phone's width
        "--virtual-time-budget=5000",  # let the charts' scripts run
        *args,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_the_html_report_opens_in_headless_chromium_without_script_errors(
    chorus: Chorus, dataset: dict[str, Any], tmp_path: Path
) -> None:
    # Given the HTML report as the API serves it
    answer = report(chorus, dataset, "html")
    assert answer.status_code == 200
    page = tmp_path / "report.html"
    page.write_bytes(answer.content)
    charts = re.findall(r'<canvas id="([^"]+)"', answer.text)
    assert len(charts) >= 3
    # When a real browser opens it on a phone-sized window
    dom = chromium(page, tmp_path / "profile-dom", "--dump-dom")
    shot = chromium(page, tmp_path / "profile-shot", f"--screenshot={tmp_path / 'shot.png'}")
    # Then no script failed (nothing on the console: no uncaught error, no CSP refusal) ...
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_messages(dom.stderr) == []
    assert console_messages(shot.stderr) == []
    # ... every chart was drawn by the charting library (it sizes each canvas it renders) ...
    for chart in charts:
        drawn = re.search(rf'<canvas id="{chart}"[^>]*style="[^"]*box-sizing: border-box', dom.stdout)
        assert drawn, f"chart {chart} was not rendered"
    # ... and the page is not blank
    assert inked(tmp_path / "shot.png") > 0.02


def test_a_script_error_would_be_caught_by_the_browser_check(tmp_path: Path) -> None:
    # Given a page whose script throws (proves the check above can fail)
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><html><body><script>throw new Error('boom')</script></body></html>")
    # When Chromium opens it
    run = chromium(page, tmp_path / "profile", "--dump-dom")
    # Then the console shows the uncaught error
    assert any("Uncaught Error: boom" in line for line in console_messages(run.stderr))


def test_the_pdf_report_renders_to_pages_that_are_not_blank(
    chorus: Chorus, dataset: dict[str, Any], tmp_path: Path
) -> None:
    # Given the PDF report produced by the reports worker
    answer = report(chorus, dataset, "pdf")
    assert answer.status_code == 202
    job = wait_job(chorus, dataset["key"], answer.json()["job_id"])
    assert job["state"] == "done", job
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(requests.get(job["url"], timeout=30).content)
    # When poppler renders its pages to PNG
    subprocess.run(
        [tool("pdftoppm"), "-png", "-r", "50", str(pdf), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    # Then there are pages, and every one has ink on it
    assert pages
    assert all(inked(p) > 0.005 for p in pages), [round(inked(p), 4) for p in pages]
    # And its text holds the report's figures
    text = subprocess.run(
        [tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert "Reports Co" in text
    assert dataset["a"]["text"] in text
    assert re.search(r"Messages received\s+4\b", text), text
    assert re.search(r"Median first response\s+20m 00s", text), text
    assert re.search(r"Acme \(us\)\s+Brand\s+3\s+1\s+1\s+75", text), text
    assert re.search(r"Globex\s+Competitor\s+1\s+0\s+1\s+25", text), text
    assert re.search(r"Sentiment labels changed by people\s+1\b", text), text
