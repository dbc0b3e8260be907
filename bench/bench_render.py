"""How long the report renderers take: cold imports (what a Lambda cold start pays) and renders.

Run: ``.venv/bin/python bench/bench_render.py`` (writes ``bench/results/render.json`` too).
Two reports: the small sample, and a large one (a quarter, 10 accounts, 25 top and 25 bottom posts).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from chorus.reports.model import DailyValue, FollowerGrowth, Period, Report
from chorus.reports.render import ReportFormat, render
from chorus.reports.render.sample import sample_report

RESULTS = Path(__file__).resolve().parent / "results" / "render.json"


def large_report() -> Report:
    base = sample_report()
    period = Period(base.period.start, base.period.start + timedelta(days=89), base.period.timezone)
    followers = tuple(
        FollowerGrowth(
            account_id=f"acc-{i}",
            platform=("x", "instagram", "facebook", "linkedin", "bluesky")[i % 5],
            account_name=f"Account {i}",
            start=1_000 * (i + 1),
            end=1_000 * (i + 1) + 89 * (i + 3),
            daily=tuple(
                DailyValue(period.start + timedelta(days=d), 1_000 * (i + 1) + d * (i + 3)) for d in range(90)
            ),
        )
        for i in range(10)
    )
    posts = base.top_posts * 9
    return replace(
        base,
        period=period,
        previous_period=period.previous(),
        followers=followers,
        top_posts=posts[:25],
        bottom_posts=(base.bottom_posts * 13)[:25],
    )


def cold_import(module: str) -> float:
    """Seconds to import ``module`` in a fresh interpreter (median of 3)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(3)]
    return statistics.median(runs)


def timed(report: Report, fmt: ReportFormat, repeat: int) -> dict[str, float]:
    render(report, fmt)  # warm: fonts registered, assets read
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        body, _, _ = render(report, fmt)
        times.append(time.perf_counter() - start)
        size = len(body)
    return {
        "median_ms": round(statistics.median(times) * 1000, 2),
        "max_ms": round(max(times) * 1000, 2),
        "bytes": size,
    }


def main() -> None:
    results: dict[str, object] = {
        "cold_import_s": {
            "chorus.reports.render": round(cold_import("chorus.reports.render"), 4),
            "chorus.reports.render.as_pdf": round(cold_import("chorus.reports.render.as_pdf"), 4),
        }
    }
    for name, report in (("sample", sample_report()), ("large", large_report())):
        results[name] = {fmt.value: timed(report, fmt, repeat=10) for fmt in ReportFormat}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(_flat(results), indent=2) + "\n")  # flat keys, as every result file
    print(json.dumps(results, indent=2))


def _flat(data: dict[str, object], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}{key}".replace(".", "_")
        if isinstance(value, dict):
            out.update(_flat(value, name + "_"))
        else:
            out[name] = value
    return out


if __name__ == "__main__":
    main()
