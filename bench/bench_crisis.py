"""Listening's hot paths and the crisis detector's error rates on simulated traffic.

Run: ``.venv/bin/python bench/bench_crisis.py [--seeds N]`` (writes ``bench/results/crisis.json`` too).

* ``observe`` calls per second, and the stored state's size in bytes (one DynamoDB item per key);
* ``matches`` texts per second for a realistic monitor (90 % of texts mention nothing);
* false raises per simulated day on a diurnal brand (2-80 mentions per 5 minutes, 15 % negative,
  Poisson counts) and the share of bursts of +15 / +25 / +50 negatives raised in the burst window,
  with the default configuration.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chorus.listening.crisis import Action, DetectorState, observe
from chorus.listening.matching import compile_monitor, matches
from chorus.listening.monitors import Monitor

RESULTS = Path(__file__).resolve().parent / "results" / "crisis.json"
WINDOW = timedelta(minutes=5)
START = datetime(2024, 3, 4, tzinfo=UTC)


def poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def rate(at: datetime) -> float:
    hour = at.hour + at.minute / 60
    return 2 * (2 + 38 * (0.5 - 0.5 * math.cos(2 * math.pi * (hour - 4) / 24)))


def simulate(seeds: int, days: int, burst: int) -> tuple[float, float]:
    """(false raises per normal day, share of bursts raised in their own window) over ``seeds`` runs.

    With ``burst`` > 0, one burst of about that many extra negatives lands at a random window of the
    last day; the run stops there.
    """
    false_raises, caught, normal_windows = 0, 0, 0
    for seed in range(seeds):
        rng = random.Random(seed)
        state, at = DetectorState(), START
        burst_at = (days - 1) * 288 + rng.randrange(288) if burst else -1
        for i in range(days * 288):
            at += WINDOW
            total = poisson(rng, rate(at))
            negatives = sum(1 for _ in range(total) if rng.random() < 0.15)
            if i == burst_at:
                extra = poisson(rng, burst)
                negatives, total = negatives + extra, total + extra
            state, decision = observe(state, at, negatives, total)
            if i == burst_at:
                caught += decision.action is Action.RAISE
                break
            normal_windows += 1
            false_raises += decision.action is Action.RAISE
    return false_raises / (normal_windows / 288), caught / seeds


def bench_observe(n: int = 50_000) -> tuple[float, int]:
    rng = random.Random(1)
    state, at = DetectorState(), START
    counts = [(poisson(rng, 3), 30) for _ in range(n)]
    started = time.perf_counter()
    for negatives, total in counts:
        at += WINDOW
        state, _ = observe(state, at, negatives, total)
    elapsed = time.perf_counter() - started
    return n / elapsed, len(json.dumps(state.to_dict()))


def bench_matching(n: int = 100_000) -> float:
    monitor = Monitor(
        id="m",
        workspace_id="w",
        name="Acme",
        kind="brand",
        terms=("acme", '"acme cloud"', "#acmefail", "@acmehq", "阿克米", "globex corp"),
        exclude=("anvil", "roadrunner coyote"),
    )
    compile_monitor(monitor)
    texts = [
        "just had the best coffee of my life, sunny day, nothing to report about brands at all #monday"
        if i % 10
        else "Acme Cloud is down again, @acmehq please fix it #AcmeFail 阿克米"
        for i in range(n)
    ]
    started = time.perf_counter()
    for text in texts:
        matches(monitor, text)
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=60)
    parser.add_argument("--days", type=int, default=4)
    args = parser.parse_args()
    per_second, state_bytes = bench_observe()
    texts_per_second = bench_matching()
    false_per_day, _ = simulate(args.seeds, args.days, burst=0)
    detection = {str(b): simulate(args.seeds, args.days, burst=b)[1] for b in (15, 25, 50)}
    result = {
        "observe_per_second": round(per_second),
        "state_json_bytes": state_bytes,
        "matches_texts_per_second": round(texts_per_second),
        "false_raises_per_day": round(false_per_day, 4),
        **{f"burst{k}_raised_in_its_window": round(v, 3) for k, v in detection.items()},
        "simulated_days": args.seeds * args.days,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
