"""Short-link benchmark: GET /l/{code} on the embedded runtime (its HTTP gateway, the Chalice app, moto
playing DynamoDB), as a person's browser or a link-preview fetcher follows a published post's link.

A post with a link is published to three sandbox accounts (three short links); then ``CLICKS`` requests
are made one after the other, each timed from the request to the 302 answer: a tenth of them from bots
and link-preview fetchers (redirected, never counted), the rest from a browser with a referrer of one of
three platforms. The counted clicks are then read back (``GET /posts/{id}/links``): ``clicks_counted``
must equal the people's clicks and ``bot_clicks_ignored`` the bots', every one redirected.

``redirect_cpu_ms`` is the CPU time one redirect costs (this process, which runs the gateway, the app and
the client, plus the moto servers), whatever else the machine is doing; ``load_average_1m`` says how busy
the machine was while the latencies were measured.

Writes bench/results/links.json (goal: redirect_p99_ms <= 50).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_inbox import percentile  # noqa: E402
from bench.cputime import cpu_seconds  # noqa: E402
from tests.integration.harness import Chorus, eventually  # noqa: E402

CLICKS = 1000
WARMUP = 20
RESULTS = ROOT / "bench" / "results" / "links.json"
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15"
BOTS = ["Twitterbot/1.0", "facebookexternalhit/1.1", "Slackbot-LinkExpanding 1.0", "LinkedInBot/1.0",
        "Discordbot/2.0", "TelegramBot (like TwitterBot)", "WhatsApp/2.23", "Googlebot/2.1", "bingbot/2.0"]  # fmt: skip
REFERRERS = ["https://t.co/x", "https://l.facebook.com/", "https://www.linkedin.com/feed/"]


def main() -> int:
    chorus = Chorus()
    try:
        ws, key = chorus.workspace("Bench links")
        accounts = [chorus.sandbox_account(key, handle=f"{n}-{ws}") for n in ("a", "b", "c")]
        made = chorus.call("POST", "/posts", key, json={
            "text": "Bench https://shop.example.com/item", "accounts": accounts, "mode": "now"}).json()  # fmt: skip

        def published() -> bool:
            post = chorus.call("GET", f"/posts/{made['id']}", key).json()
            return all(t["state"] == "published" for t in post["targets"])

        eventually(published, timeout=60)
        links = chorus.call("GET", f"/posts/{made['id']}/links", key).json()["links"]
        codes = [link["code"] for link in links]
        session = requests.Session()
        url = chorus.rt.api_url + "/l/"
        for n in range(WARMUP):  # connections and the first imports; counted as people's clicks below
            session.get(
                url + codes[n % 3], headers={"User-Agent": BROWSER}, allow_redirects=False, timeout=30
            )
        timings: list[float] = []
        people = bots = redirected = 0
        aws = chorus.rt.aws_pids()
        load_before = os.getloadavg()[0]
        cpu_before = cpu_seconds(aws)
        for n in range(CLICKS):
            bot = n % 10 == 0
            headers = {"User-Agent": BOTS[n % len(BOTS)] if bot else BROWSER, "Referer": REFERRERS[n % 3]}
            started = time.perf_counter()
            answer = session.get(url + codes[n % 3], headers=headers, allow_redirects=False, timeout=30)
            timings.append((time.perf_counter() - started) * 1000)
            redirected += answer.status_code == 302
            bots += bot
            people += not bot
        cpu_ms = (cpu_seconds(aws) - cpu_before) * 1000 / CLICKS
        counted = sum(
            link["clicks"] for link in chorus.call("GET", f"/posts/{made['id']}/links", key).json()["links"]
        )
        clicks_counted = counted - WARMUP
        figures = {
            "redirect_p50_ms": round(statistics.median(timings), 2),
            "redirect_p99_ms": round(percentile(timings, 99), 2),
            "redirect_max_ms": round(max(timings), 2),
            "clicks": CLICKS,
            "redirected": redirected,
            "clicks_counted": clicks_counted,
            "human_clicks": people,
            "bot_clicks_ignored": bots if clicks_counted == people else bots - (clicks_counted - people),
            "short_links": len(codes),
            # what a redirect costs whatever else the machine does: CPU of this process (the gateway,
            # the app, the client) and of the moto servers, per request; and how busy the machine was
            "redirect_cpu_ms": round(cpu_ms, 2),
            "load_average_1m": round(max(load_before, os.getloadavg()[0]), 2),
            "cpu_cores": os.cpu_count(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
        print(json.dumps(figures, indent=2))
        ok = redirected == CLICKS and clicks_counted == people
        return 0 if ok else 1
    finally:
        chorus.close()


if __name__ == "__main__":
    sys.exit(main())
