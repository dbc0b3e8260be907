"""Publish lag and scheduler cost on the embedded runtime.

1. 1,000 targets due within the same minute (spread over its seconds, ten sandbox accounts): the
   scheduler hands them out, the publisher calls the platform; lag = the platform's arrival time of
   the request minus the due time. Duplicates and misses are counted from the platform's side.
2. 100,000 future targets stored (due over the next 30 days): one scheduler run in steady state; its
   DynamoDB reads (items returned by its index queries, and the queries themselves) must follow what is
   due, not what is stored.
Writes bench/results/publish.json.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "shared"))

TARGETS = 1000
FUTURE = 100_000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    from chorus.posts import scheduler
    from chorus.posts.model import Content, Mode, Post, Target, TargetState
    from chorus.posts.queue import InMemoryPublishQueue
    from chorus.store import posts as repo
    from tests.integration.harness import Chorus

    chorus = Chorus(clock="manual")
    try:
        ws, key = chorus.workspace("Bench")
        accounts = [chorus.sandbox_account(key, f"bench{i}") for i in range(10)]
        now = datetime.now(UTC)
        minute = (now + timedelta(seconds=40)).replace(second=0, microsecond=0) + timedelta(minutes=1)
        rng = random.Random(7)
        posts = []
        for i in range(TARGETS):
            due = minute + timedelta(seconds=rng.uniform(0, 59.999))
            account = accounts[i % len(accounts)]
            pid = f"pb{i:05d}"
            posts.append(
                Post(ws, pid, Content(text=f"bench post {i}"), {}, (account,), Mode.SCHEDULE, due, "UTC", "bench",
                     now, now, targets=(Target(ws, pid, account, "sandbox", TargetState.SCHEDULED, due),))
            )  # fmt: skip
        repo.bulk_load_posts(posts)  # BatchWrite: moto copies the whole table per transaction
        due_at = {f"{p.id}.{p.account_ids[0]}": p.scheduled_at.timestamp() for p in posts}  # type: ignore[union-attr]
        print(
            f"{TARGETS} targets due between {minute:%H:%M:%S} and {minute + timedelta(minutes=1):%H:%M:%S}",
            flush=True,
        )
        # EventBridge fires the scheduler every minute; tick it the same way until the minute is covered.
        next_tick = time.monotonic()
        while datetime.now(UTC) < minute + timedelta(seconds=65):
            if time.monotonic() >= next_tick:
                chorus.rt.tick("SchedulerFunction")
                next_tick += 60
            time.sleep(0.2)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            arrivals = chorus.platform_requests()
            if len({r["client_ref"] for r in arrivals}) >= TARGETS and chorus.rt.wait_idle(5):
                break
            time.sleep(1)
        arrivals = chorus.platform_requests()
        first: dict[str, float] = {}
        for r in arrivals:
            first.setdefault(r["client_ref"], r["at"])
        lags = [first[t] - due_at[t] for t in first if t in due_at]
        created = chorus.platform_posts()
        per_target: dict[str, int] = {}
        for p in created:
            per_target[p["client_ref"]] = per_target.get(p["client_ref"], 0) + 1
        duplicates = sum(n - 1 for n in per_target.values())
        missed = TARGETS - len(per_target)

        # 2. scheduler reads with 100,000 future targets stored
        ddb = chorus.rt.client("dynamodb")
        table = chorus.rt.stack.refs["MainTable"]  # type: ignore[union-attr]
        from chorus.store import keys

        start = datetime.now(UTC) + timedelta(hours=1)
        batch = []
        for i in range(FUTURE):
            due = start + timedelta(seconds=rng.uniform(0, 30 * 86400))
            tid = f"pf{i:06d}.{accounts[i % 10]}"
            batch.append({"PutRequest": {"Item": {
                "pk": {"S": keys.workspace_pk(ws)}, "sk": {"S": keys.target_sk(f"pf{i:06d}", accounts[i % 10])},
                "kind": {"S": "target"}, "workspace_id": {"S": ws}, "post_id": {"S": f"pf{i:06d}"},
                "account_id": {"S": accounts[i % 10]}, "platform": {"S": "sandbox"}, "state": {"S": "scheduled"},
                "due_at": {"S": due.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
                "gsi3pk": {"S": keys.due_bucket(due)}, "gsi3sk": {"S": keys.due_sort_key(due, tid)},
            }}})  # fmt: skip
            if len(batch) == 25:
                ddb.batch_write_item(RequestItems={table: batch})
                batch = []
        if batch:
            ddb.batch_write_item(RequestItems={table: batch})
        # steady state: the previous run was a minute ago, one hour before the first future target
        queue = InMemoryPublishQueue()
        now = datetime.now(UTC)
        repo.save_scheduler_state(
            repo.SchedulerState(
                now + timedelta(seconds=30), now - timedelta(minutes=4), now - timedelta(minutes=1)
            )
        )
        report = scheduler.run(now, queue)
        # and one run an hour later, when ~2.3 targets a minute are due
        later = start + timedelta(days=3)
        # (its sweep finds the targets due 3-4 minutes before still scheduled, as none was handed out
        # here, and sends them again: a real run finds them published)
        repo.save_scheduler_state(
            repo.SchedulerState(
                later - timedelta(seconds=30), later - timedelta(minutes=4), later - timedelta(minutes=1)
            )
        )
        busy = scheduler.run(later, queue)
        results = {
            "targets": TARGETS,
            "lag_p50_s": round(statistics.median(lags), 3),
            "lag_p99_s": round(pct(lags, 0.99), 3),
            "lag_max_s": round(max(lags), 3),
            "duplicates": duplicates,
            "missed": missed,
            "future_posts": FUTURE,
            "scheduler_reads_per_run": report.items_read,
            "scheduler_queries_per_run": report.buckets_read,
            "scheduler_reads_busy_run": busy.items_read,
            "scheduler_enqueued_busy_run": busy.enqueued,
        }
    finally:
        chorus.close()
    (REPO / "bench" / "results" / "publish.json").write_text(
        json.dumps(results, indent=2, sort_keys=True) + "\n"
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
