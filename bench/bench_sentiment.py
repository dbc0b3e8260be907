"""Sentiment quality and cost on the development sets (the acceptance figures).

Run: ``.venv/bin/python bench/bench_sentiment.py`` (writes ``bench/results/sentiment.json``).
Reads ``sentiment/*_sample500.csv`` from the shared fixtures (env CHORUS_FIXTURES, else ``../shared/fixtures``
beside the repo). Import time is measured in fresh interpreters; ``first_call_ms`` is the one-off cost of
loading the models on the first English and the first Chinese message in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from chorus.listening.sentiment import OfflineSentimentAnalyzer, evaluate

RESULTS = Path(__file__).resolve().parent / "results" / "sentiment.json"
MODULE = "chorus.listening.sentiment"
DEV_SETS = {
    "en": "en_tweeteval_validation_sample500.csv",
    "zh": "zh_smp2020ewect_usual_eval_sample500.csv",
}


def fixtures_dir() -> Path:
    override = os.environ.get("CHORUS_FIXTURES")
    return Path(override) if override else Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


def in_fresh_interpreter(code: str, runs: int = 5) -> float:
    """Median of what ``code`` prints (milliseconds), each run in a new interpreter."""
    values = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(runs)]
    return statistics.median(values)


def import_ms() -> float:
    return in_fresh_interpreter(
        f"import time; t = time.perf_counter(); import {MODULE}; print((time.perf_counter() - t) * 1000)"
    )


def first_call_ms() -> float:
    return in_fresh_interpreter(
        f"import time; from {MODULE} import default_analyzer; a = default_analyzer();"
        " t = time.perf_counter(); a.analyze('What a great day!'); a.analyze('今天天气真好');"
        " print((time.perf_counter() - t) * 1000)"
    )


def number(value: object) -> float:
    if not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def main() -> dict[str, float | int]:
    analyzer = OfflineSentimentAnalyzer()
    results: dict[str, float | int] = {}
    total_ms = 0.0
    total_n = 0
    for language, name in DEV_SETS.items():
        metrics = evaluate(fixtures_dir() / "sentiment" / name, analyzer)
        n = int(number(metrics["n"]))
        results[f"{language}_macro_f1"] = number(metrics["macro_f1"])
        results[f"{language}_accuracy"] = number(metrics["accuracy"])
        results[f"n_{language}"] = n
        total_ms += number(metrics["ms_per_message"]) * n
        total_n += n
    results["ms_per_message"] = round(total_ms / total_n, 4)
    results["import_ms"] = round(import_ms(), 1)
    results["first_call_ms"] = round(first_call_ms(), 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results


if __name__ == "__main__":
    print(json.dumps(main(), indent=2, sort_keys=True))
