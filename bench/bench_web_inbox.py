"""The inbox page's live figure: a signed webhook POSTed -> its row visible in the open page.

Run: ``python bench/run_all.py web_inbox`` (adds its keys to ``bench/results/web.json`` through
``bench_web.save``, keeping the others; builds the app with ``make web``).

Where: the embedded runtime of the integration tests (``tests/integration/harness.py`` ``Chorus``) serving
web/dist, driven by Debian's chromium through Playwright (as tests/browser/ does), on this machine.

``inbox_live_p99_ms`` (goal <= 1,000): one workspace with a Facebook Page, its inbox page open (signed
in, connected, past its second read of the list); ``WEBHOOKS`` signed Meta comment webhooks POSTed to
``/webhooks/meta`` at ``RATE`` a second (each a new comment of a new person: a new row), paced from a
pool of senders. For each, the wall-clock time just before the POST, and the time a MutationObserver in
the page first sees the row with its text (``performance.timeOrigin + performance.now()``, the same
clock); p50/p99/max of the difference. ``inbox_live_missing``: rows never seen within 60 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
RATE = 20  # webhooks a second
WEBHOOKS = 300
PAGE_ID = "777000000001"
WATCH = """() => {
  window.__seen = {}
  const look = () => {
    for (const el of document.querySelectorAll('section.conversations .preview')) {
      const m = /^Bench (\\d+):/.exec(el.textContent)
      if (m && !(m[1] in window.__seen)) window.__seen[m[1]] = performance.timeOrigin + performance.now()
    }
  }
  new MutationObserver(look).observe(document.body, { childList: true, subtree: true, characterData: true })
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    subprocess.run(["make", "-s", "web"], cwd=REPO, check=True)
    from bench_web import save

    save({**run(), "goals": {"inbox_live_p99_ms": 1000}})


def run() -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, FLAGS, new_team, sign_in
    from tests.browser.inbox_support import (
        META_PARAMETERS,
        connect_page,
        conversation_with,
        meta_comment,
        post_meta,
    )
    from tests.integration.harness import Chorus

    chorus = Chorus(parameters=META_PARAMETERS)
    try:
        team = new_team(chorus, handles=())
        connect_page(team.workspace_id, PAGE_ID)
        # The receiver's and the ingest worker's cold start, not counted
        post_meta(chorus, meta_comment(PAGE_ID, 0, "warming up"))
        conversation_with(chorus, team.owner.id_token, team.workspace_id, "warming up")
        bodies = [
            meta_comment(PAGE_ID, i, f"Bench {i}: is my order shipped yet?", author=f"Fan {i}")
            for i in range(1, WEBHOOKS + 1)
        ]
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(60_000)
            sign_in(page, chorus, team.owner, team.workspace_id)
            page.get_by_role("link", name="Inbox").click()
            page.get_by_role("status").filter(has_text="Live").wait_for()
            page.wait_for_timeout(3_000)  # past the page's second read of the list
            page.evaluate(WATCH)
            sent: dict[str, float] = {}

            def send(i: int) -> None:
                sent[str(i)] = time.time() * 1000
                post_meta(chorus, bodies[i - 1])

            started = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                for i in range(1, WEBHOOKS + 1):
                    delay = started + (i - 1) / RATE - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    pool.submit(send, i)
            sending_s = time.monotonic() - started
            deadline = time.monotonic() + 60
            seen: dict[str, float] = {}
            while time.monotonic() < deadline:
                seen = page.evaluate("() => window.__seen")
                if len(seen) >= WEBHOOKS:
                    break
                time.sleep(0.5)
            browser.close()
        latencies = [seen[i] - sent[i] for i in sent if i in seen]
        return {
            "inbox_live_p50_ms": round(statistics.median(latencies)),
            "inbox_live_p99_ms": round(percentile(latencies, 99)),
            "inbox_live_max_ms": round(max(latencies)),
            "inbox_live_webhooks": WEBHOOKS,
            "inbox_live_rate_per_s": RATE,
            "inbox_live_sent_rate_per_s": round(WEBHOOKS / sending_s, 1),
            "inbox_live_missing": WEBHOOKS - len(latencies),
            "inbox_live_measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        chorus.close()


if __name__ == "__main__":
    main()
