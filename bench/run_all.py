"""`make bench`: run every benchmark (bench/bench_*.py), each writing bench/results/<name>.json, then
write bench/results/README.md with all figures, the machine and the date."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"

GOALS = {
    "coldstart.json": "webhooks/publisher import <= 400 ms",
    "cost.json": "usd_per_million_posts <= 5; usd_idle_month <= 1 (us-east-1 list prices in bench/prices.json)",
    "publish.json": "lag_p99_s <= 1 s; scheduler reads follow due targets only; 0 duplicates, 0 missed",
    "sentiment.json": "macro-F1 >= 0.60 per language; <= 5 ms per message; import <= 300 ms",
    "reports.json": "JSON report <= 1 s; items read <= days x accounts + top-post lookups",
    "inbox.json": "p99 ack <= 50 ms; p99 webhook-to-browser <= 1 s; every webhook stored once",
    "links.json": "redirect_p99_ms <= 50 (embedded runtime); clicks_counted = human clicks; every bot redirected, none counted",
    "web.json": "js_first_load_kb_gz (calendar) <= 60; calendar_first_render_ms (a year, 20 accounts) <= 1,000; "
    "inbox_live_p99_ms (webhook POSTed -> row in the open inbox page, 20/s) <= 1,000",
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    only = set(sys.argv[1:])
    failed = []
    for script in sorted(BENCH.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        done = subprocess.run([sys.executable, str(script)], check=False)
        print(f"   {name}: exit {done.returncode} in {time.monotonic() - started:.0f}s", flush=True)
        if done.returncode:
            failed.append(name)
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  ",
        "Produced by `make bench` (bench/run_all.py); each file below is written by bench/bench_<name>.py.",
        "",
    ]
    for result in sorted(RESULTS.glob("*.json")):
        figures = json.loads(result.read_text())
        lines += [f"## {result.stem}", ""]
        if result.name in GOALS:
            lines += [f"Goal: {GOALS[result.name]}", ""]
        lines += ["| key | value |", "|---|---|"]
        lines += [f"| `{k}` | {v} |" for k, v in figures.items()]
        lines.append("")
    (RESULTS / "README.md").write_text("\n".join(lines))
    print(f"wrote {RESULTS / 'README.md'}")
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
