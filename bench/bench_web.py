"""The web app's figures: what the calendar route loads, and how fast it draws a busy month.

Run: ``python bench/run_all.py web`` (writes ``bench/results/web.json``; builds the app with ``make web``).

Where: the embedded runtime of the integration tests (``tests/integration/harness.py`` ``Chorus``) serving
web/dist, driven by Debian's chromium through Playwright (as tests/browser/ does), on this machine.

``js_first_load_kb_gz`` (goal <= 60): the JavaScript the browser fetched to open ``/calendar`` signed in
(every script response of the page load, lazy chunks included), each gzipped at level 6 as a CDN sends
it; ``css_first_load_kb_gz`` the same for stylesheets.

``calendar_first_render_ms`` (goal <= 1,000): 20 sandbox accounts with a year of posts (one post a day
on all 20 accounts: 365 posts, 7,300 targets, made through ``POST /posts``); a full month of them
(``/calendar?date=<the 15th of next month>``: ~600 entries) timed in the page from the navigation's
start (``performance.now()``) until every entry of the month is in the document (a day shows 3 and sums
up the rest as "+N more", as the month view does), median of 9 loads (the machine is shared: one slow load moves a median of 5); ``calendar_api_ms`` is the
``GET /calendar`` of that load (resource timing) and ``calendar_draw_ms`` the time from its answer to
the month drawn. ``calendar_month_switch_ms``: the "Next month" button until the next month is drawn.
The app asks for the calendar's first answer while it loads (beside ``GET /me``), so the API's time and
the app's start overlap. ``load_average_1m``: the machine's load when the loads were timed (the machine
is shared; every figure here is wall-clock time).
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results" / "web.json"
ACCOUNTS = 20
DAYS = 365
TZ = "Europe/Paris"
LOADS = 9
# Entries of the month in the page: those drawn and those a day sums up as "+N more".
COUNTED = (
    "(() => {{ let n = document.querySelectorAll('article.entry').length;"
    " for (const b of document.querySelectorAll('button.more')) n += parseInt(b.textContent.slice(1));"
    " return n >= {expected} }})()"
)
TIMES = """() => {
  const api = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/calendar'))
  return [performance.now(), api.duration, performance.now() - api.responseEnd]
}"""


def main() -> None:
    subprocess.run(["make", "-s", "web"], cwd=REPO, check=True)
    save(run())


def save(results: dict[str, Any]) -> None:
    """Into web.json, keeping the keys the other web benchmark wrote (bench_web_inbox.py) and its goals."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    found = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    goals = {**found.get("goals", {}), **results.get("goals", {})}
    RESULTS.write_text(json.dumps({**found, **results, "goals": goals}, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def seed(chorus: Any) -> tuple[Any, str]:
    owner = chorus.person("bench-web@example.com")
    ws = chorus.call("POST", "/workspaces", owner.id_token, json={"name": "Bench", "timezone": TZ}).json()[
        "id"
    ]
    accounts = []
    for n in range(ACCOUNTS):
        body = {
            "platform": "sandbox",
            "platform_account_id": f"brand{n}",
            "access_token": f"tok-brand{n}",
            "handle": f"brand{n}",
        }
        answer = chorus.call("POST", "/accounts", owner.id_token, workspace=ws, json=body)
        assert answer.status_code == 201, answer.text
        accounts.append(answer.json()["id"])
    start = datetime.now(ZoneInfo(TZ)).date() + timedelta(days=1)

    def post(day: int) -> None:
        at = f"{(start + timedelta(days=day)).isoformat()}T{9 + day % 9:02d}:30:00"
        body = {
            "text": f"Post {day}: a year of posts",
            "accounts": accounts,
            "scheduled_at": at,
            "timezone": TZ,
        }
        answer = chorus.call("POST", "/posts", owner.id_token, workspace=ws, json=body)
        assert answer.status_code == 201, answer.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(DAYS)))
    return owner, ws


def month_entries(first: date) -> int:
    """Targets drawn in the month view of ``first``'s month (whole weeks, Monday first)."""
    start = first - timedelta(days=first.weekday())
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    end = nxt + timedelta(days=(7 - nxt.weekday()) % 7)
    today = datetime.now(ZoneInfo(TZ)).date()
    last = today + timedelta(days=DAYS)
    days = sum(1 for i in range((end - start).days) if today < start + timedelta(days=i) <= last)
    return days * ACCOUNTS


def run() -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, FLAGS, sign_in
    from tests.integration.harness import Chorus

    chorus = Chorus()
    try:
        started = time.monotonic()
        owner, ws = seed(chorus)
        seeded_s = time.monotonic() - started
        today = datetime.now(ZoneInfo(TZ)).date()
        month = (today.replace(day=28) + timedelta(days=4)).replace(day=15)
        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        expected, expected_next = month_entries(month.replace(day=1)), month_entries(following)
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(60_000)
            sign_in(page, chorus, owner, ws)
            page.locator("article.entry").first.wait_for()
            scripts: dict[str, int] = {}
            styles: dict[str, int] = {}

            def seen(response: Any) -> None:
                kind = response.request.resource_type
                if kind in {"script", "stylesheet"}:
                    size = len(gzip.compress(response.body(), compresslevel=6))
                    (scripts if kind == "script" else styles)[response.url] = size

            page.on("response", seen)
            renders, apis, draws = [], [], []
            load = os.getloadavg()[0]
            for _ in range(LOADS):
                page.goto(f"{chorus.rt.web_url}/calendar?date={month.isoformat()}")
                page.wait_for_function(COUNTED.format(expected=expected), polling="raf")
                total, api, draw = page.evaluate(TIMES)
                renders.append(total)
                apis.append(api)
                draws.append(draw)
            page.remove_listener("response", seen)
            drawn = page.locator("article.entry").count()
            switches = []
            for _ in range(LOADS):
                page.goto(f"{chorus.rt.web_url}/calendar?date={month.isoformat()}")
                page.wait_for_function(COUNTED.format(expected=expected), polling="raf")
                page.evaluate("window.__t = performance.now()")
                page.get_by_role("button", name="Next month").click()
                page.wait_for_function(
                    f"document.querySelector('section.day[data-day=\"{following.isoformat()}\"]') && "
                    + COUNTED.format(expected=expected_next),
                    polling="raf",
                )
                switches.append(page.evaluate("performance.now() - window.__t"))
            browser.close()
        return {
            "js_first_load_kb_gz": round(sum(scripts.values()) / 1024, 1),
            "js_first_load_files": len(scripts),
            "css_first_load_kb_gz": round(sum(styles.values()) / 1024, 1),
            "calendar_first_render_ms": round(statistics.median(renders)),
            "calendar_first_render_ms_all": [round(r) for r in renders],
            "calendar_api_ms": round(statistics.median(apis)),
            "calendar_draw_ms": round(statistics.median(draws)),
            "calendar_month_switch_ms": round(statistics.median(switches)),
            "entries_in_month": expected,
            "entries_drawn": drawn,
            "accounts": ACCOUNTS,
            "posts": DAYS,
            "targets": DAYS * ACCOUNTS,
            "seed_s": round(seeded_s, 1),
            "load_average_1m": round(load, 1),
            "goals": {"js_first_load_kb_gz": 60, "calendar_first_render_ms": 1000},
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        chorus.close()


if __name__ == "__main__":
    main()
