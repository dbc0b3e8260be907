"""A one-year report on the embedded runtime: latency of GET /reports and DynamoDB items it reads.

Run: ``python bench/run_all.py reports`` (a few minutes; writes ``bench/results/reports.json``).

Where: the embedded runtime of the integration tests (``tests/integration/harness.py`` ``Chorus``): a moto
server on 127.0.0.1 in its own process plays DynamoDB, SQS and S3 from template.yaml; the API function
and the reports worker run in this process and answer over HTTP. Timed: ``GET /reports?format=json``
for the year (median of 3 after one warm-up; the sync limit is raised above a year so the JSON is
answered at once, as the issue's goal asks) and the PDF of the same year (``format=pdf``: 202, the
reports worker builds it from SQS and puts it in S3; timed until ``GET /reports/jobs/{id}`` says done).

Data set: 20 accounts (X, Instagram, Facebook, LinkedIn, Mastodon in turn) posting 20 posts a day for
two years (the report's year and the previous one it is compared with): 292,000 posts, post items for
the report's year (146,000), day/month/week rollups, the inbox counters of both years (day and month
items per account: messages, sentiment, first-response times), and the packed copies of closed months
the writers keep (``chorus.reports.packed``). Everything is written **directly with BatchWriteItem**
(25 items a call) in the shapes the stores maintain (``day_item``, ``month_item``, ``week_item``,
``post_item``, ``counter_item``, ``packed_item``), as if each post had been collected once: replaying
~80 ladder collections per post through the transactional writer would take hours and would measure
the writer, not the report.

``report_json_cpu_s``: CPU seconds one JSON request costs, in this process (the API function, and the
runtime's idle pollers) and in the moto server processes: the latency on an otherwise idle machine is
about this or less (two cores share the work), whatever other work was running when measured
(``load_average_1m``).

Items read: counted in this process by the two readers the API uses (the metrics store and the inbox
counter reader), for the JSON request. The bound the design promises is ``days x accounts + top/bottom
post lookups``.

Why week summaries: every report used to decode and rate all ~146,000 posts of the year (top/bottom
posts, best-times heatmap) from the week items' ``scores`` (about 1 s of the 1.5 s JSON report). The
writer now keeps a ``summary`` beside them (``chorus.reports.weeksummary``: the week's top/bottom
candidates and heatmap sums by UTC quarter hour; ``week_item`` builds it as the writer does), and a
report merges the summaries of the weeks wholly inside its range (~1,000 here) and reads only the
edge weeks per post. Same lists and heatmap cells (tests/unit/test_report_weeksummary.py).

Why closed months are packed: moto encodes and botocore decodes every attribute value on its own
(~25-100 us each on moto); a year of 20 accounts read as day/month items is ~45,000 attribute values
(seconds), read as packed months ~8,000.

Why reads are BatchGetItem of exact keys: stock moto's ``Table.query`` (moto/dynamodb/models/table.py)
builds ``all_items()`` -- every item of the *table*, sorted -- on each call, for base-table partitions
and for GSIs alike: ~2.5-5 s per Query on this data set before the embedded runtime patched its moto to
read a partition's key range (``moto_query_s``: one Query of one account's month items, as measured). A report knows
every key it needs (months, edge days, weeks, the few top posts, inbox day/month counters), so it asks
for them by key: the same items, fewer round trips in DynamoDB, and a cost on moto that follows what is
read, not what is stored.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "reports.json"
ACCOUNTS = 20
POSTS_PER_DAY = 20
PERIOD_START, PERIOD_END = date(2025, 11, 23), date(2026, 11, 22)  # 365 days, not month-aligned
PLATFORMS = ("x", "instagram", "facebook", "linkedin", "mastodon")
TOP_N = 5  # the API's top and bottom posts
TZ = "Europe/Berlin"

Item = dict[str, Any]


def main() -> None:
    results = run()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


class _Counted:
    """Items read by the report readers in this process (the API function runs here)."""

    def __init__(self) -> None:
        from chorus.inbox.stats import CounterReader
        from chorus.metrics.store import MetricsStore

        self.items = 0
        metrics_count = MetricsStore._count
        inbox_read = CounterReader.read
        counted = self

        def count(store: MetricsStore, items: int) -> None:
            counted.items += items
            metrics_count(store, items)

        def read(reader: CounterReader, *args: Any, **kwargs: Any) -> Any:
            found = inbox_read(reader, *args, **kwargs)
            counted.items += found.items
            return found

        MetricsStore._count = count  # type: ignore[method-assign]
        CounterReader.read = read  # type: ignore[method-assign]

    def take(self) -> int:
        held, self.items = self.items, 0
        return held


def run() -> dict[str, object]:
    sys.path.insert(0, str(REPO))
    from bench.cputime import cpu_seconds
    from chorus.accounts.service import connect_account
    from chorus.accounts.tokens import TokenSet
    from chorus.metrics.store import MetricsStore
    from tests.integration.harness import Chorus

    chorus = Chorus(extra_env={"CHORUS_REPORTS_SYNC_MAX_DAYS": "400"})
    try:
        ws, key = chorus.workspace("Bench Co", TZ)
        accounts = [
            connect_account(
                ws,
                PLATFORMS[i % len(PLATFORMS)],
                f"bench-{i}",
                TokenSet(access_token=f"tok-{i}"),
                handle=f"account{i}",
                display_name=f"Account {i}",
            ).id
            for i in range(ACCOUNTS)
        ]
        store = MetricsStore()
        previous_start = PERIOD_START - (PERIOD_END - PERIOD_START) - timedelta(days=1)
        started = time.perf_counter()
        written, posts = load(store, ws, accounts, previous_start, PERIOD_END)
        written += load_inbox(store, chorus.rt.client("dynamodb"), ws, accounts, previous_start)
        load_s = time.perf_counter() - started
        chorus.rt.wait_idle(timeout=120)  # follow-ups of the connected accounts, stream records

        counted = _Counted()
        params = {"from": PERIOD_START.isoformat(), "to": PERIOD_END.isoformat()}

        def get_json() -> dict[str, Any]:
            answer = chorus.call("GET", "/reports", key, params={**params, "format": "json"})
            assert answer.status_code == 200, answer.text[:500]
            found: dict[str, Any] = answer.json()
            return found

        warm = time.perf_counter()
        body = get_json()  # warm: imports and clients of the API function
        first_s = time.perf_counter() - warm
        items_read = counted.take()
        json_times, json_cpu = [], []
        moto = chorus.rt.aws_pids()
        for _ in range(3):
            cpu = cpu_seconds(moto)
            start = time.perf_counter()
            get_json()
            json_times.append(time.perf_counter() - start)
            json_cpu.append(cpu_seconds(moto) - cpu)
        pdf_times = [pdf_job(chorus, key, params) for _ in range(2)]
        moto_query_s = one_query(chorus, ws, accounts[0])
        inbox = body["inbox"] or {}
        return {
            "report_json_s": round(statistics.median(json_times), 4),
            "report_pdf_s": round(statistics.median(pdf_times), 4),
            "items_read": items_read,
            "days": (PERIOD_END - PERIOD_START).days + 1,
            "accounts": ACCOUNTS,
            "items_bound": ((PERIOD_END - PERIOD_START).days + 1) * ACCOUNTS + 2 * TOP_N,
            "report_json_cpu_s": round(statistics.median(json_cpu), 4),
            "report_json_first_s": round(first_s, 4),
            "report_json_max_s": round(max(json_times), 4),
            "posts_in_data_set": posts,
            "posts_in_report": body["overall"]["posts_published"]["current"],
            "posts_in_heatmap": sum(c["posts"] for c in body["heatmap"]),
            "inbox_messages_in_report": (inbox.get("volume") or {}).get("current"),
            "items_loaded": written,
            "load_s": round(load_s, 1),
            "moto_query_s": round(moto_query_s, 3),
            "backend": "embedded runtime: moto server on 127.0.0.1 (HTTP), API and reports worker in-process",
            "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the machine meanwhile
        }
    finally:
        chorus.close()


def pdf_job(chorus: Any, key: str, params: dict[str, str]) -> float:
    """Seconds from GET /reports?format=pdf to the job being done (worker from SQS, file in S3)."""
    start = time.perf_counter()
    answer = chorus.call("GET", "/reports", key, params={**params, "format": "pdf"})
    assert answer.status_code == 202, answer.text[:500]
    job_id = answer.json()["job_id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = chorus.call("GET", f"/reports/jobs/{job_id}", key).json()
        if job["state"] == "done":
            return time.perf_counter() - start
        assert job["state"] != "failed", job
        time.sleep(0.05)  # polling the job API as a client would
    raise AssertionError("the PDF job did not finish within 120 s")


def one_query(chorus: Any, ws: str, account: str) -> float:
    """One Query of one account's month items on the loaded metrics table (for the record above)."""
    from chorus.config import get_settings
    from chorus.metrics import keys

    client = chorus.rt.client("dynamodb")
    start = time.perf_counter()
    client.query(
        TableName=get_settings().metrics_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :mo)",
        ExpressionAttributeValues={":pk": {"S": keys.rollup_pk(ws, account)}, ":mo": {"S": "MO#"}},
    )
    return time.perf_counter() - start


def load_inbox(store: Any, client: Any, ws: str, accounts: list[str], first: date) -> int:
    """Two years of inbox counters (day and month items, per account and for the workspace), written
    with BatchWrite to the main table."""
    from chorus.config import get_settings
    from chorus.inbox.stats import counter_item, day_sk, month_sk

    rng = random.Random(11)
    table = get_settings().table

    def blank() -> dict[str, Any]:
        return {"inbound": 0, "outbound": 0, "sentiment": defaultdict(int), "frt": []}

    def add(into: dict[str, Any], inbound: int, sentiment: dict[str, int], frt: list[int]) -> None:
        into["inbound"] += inbound
        into["outbound"] += inbound // 2
        for label, n in sentiment.items():
            into["sentiment"][label] += n
        into["frt"].extend(frt)

    def item(account: str | None, sk: str, totals: dict[str, Any]) -> Item:
        return counter_item(
            ws,
            account,
            sk,
            inbound=totals["inbound"],
            outbound=totals["outbound"],
            sentiment=dict(totals["sentiment"]),
            first_response_s=totals["frt"],
        )

    batch: list[Item] = []
    whole_days: dict[date, dict[str, Any]] = defaultdict(blank)
    whole_months: dict[date, dict[str, Any]] = defaultdict(blank)
    for account in accounts:
        months: dict[date, dict[str, Any]] = defaultdict(blank)
        day = first
        while day <= PERIOD_END:
            inbound = rng.randint(5, 40)
            sentiment = {"positive": inbound // 2, "negative": inbound // 5}
            sentiment["neutral"] = inbound - sentiment["positive"] - sentiment["negative"]
            frt = [rng.randint(30, 14_400) for _ in range(inbound // 3)]
            totals = blank()
            add(totals, inbound, sentiment, frt)
            batch.append(item(account, day_sk(day), totals))
            for into in (months[day.replace(day=1)], whole_days[day], whole_months[day.replace(day=1)]):
                add(into, inbound, sentiment, frt)
            day += timedelta(days=1)
        batch.extend(item(account, month_sk(m), totals) for m, totals in months.items())
    batch.extend(item(None, day_sk(d), totals) for d, totals in whole_days.items())
    batch.extend(item(None, month_sk(m), totals) for m, totals in whole_months.items())
    batch.extend(packed_months(batch))
    return int(_batch_write(client, table, batch))


def packed_months(items: list[Item]) -> list[Item]:
    """The packed copies of closed days the writers keep (chorus.reports.packed.pack_closed), built
    from the day items about to be loaded."""
    from chorus.reports.packed import closed_through, packed_item

    now = datetime.now(UTC)
    by_month: dict[tuple[str, date], list[tuple[date, Item]]] = defaultdict(list)
    for item in items:
        if item["sk"]["S"].startswith("D#"):
            day = date.fromisoformat(item["sk"]["S"][2:])
            by_month[(item["pk"]["S"], day.replace(day=1))].append((day, item))
    packed = []
    for (pk, month), days in by_month.items():
        through = closed_through(month, now.date())
        if through is not None:
            packed.append(packed_item(pk, month, [i for d, i in days if d <= through], now, through))
    return packed


def _batch_write(client: Any, table: str, items: list[Item]) -> int:
    for i in range(0, len(items), 25):
        request: dict[str, Any] = {table: [{"PutRequest": {"Item": it}} for it in items[i : i + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
    return len(items)


def load(store: object, ws: str, accounts: list[str], first: date, last: date) -> tuple[int, int]:
    """Write two years of rollups and post items for every account; returns (items, posts)."""
    from chorus.metrics.store import (
        MetricsStore,
        PostInfo,
        PostScore,
        day_item,
        month_item,
        post_item,
        week_item,
    )

    assert isinstance(store, MetricsStore)
    rng = random.Random(7)
    items = 0
    posts = 0
    for i, account in enumerate(accounts):
        platform = PLATFORMS[i % len(PLATFORMS)]
        has_impressions = platform != "mastodon"
        followers = 1_000 * (i + 1)
        month_sums: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        month_followers: dict[date, dict[date, int]] = defaultdict(dict)
        week_scores: dict[date, list[PostScore]] = defaultdict(list)
        month_posts: dict[date, int] = defaultdict(int)
        batch = []
        day = first
        while day <= last:
            followers += rng.randint(-2, 12)
            sums: dict[str, int] = defaultdict(int)
            scores = []
            for n in range(POSTS_PER_DAY):
                published = datetime(
                    day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=UTC
                )
                latest = {
                    "likes": rng.randint(0, 400),
                    "comments": rng.randint(0, 60),
                    "shares": rng.randint(0, 40),
                }
                if has_impressions:
                    latest["impressions"] = rng.randint(800, 20_000)
                    latest["reach"] = latest["impressions"] * 7 // 10
                for metric, value in latest.items():
                    sums[metric] += value
                pid = f"{account}-{day.isoformat()}-{n}"
                info = PostInfo(
                    pid, platform, published, f"Post {n} of {day} by account {i}", f"https://e.x/{pid}"
                )
                if day >= PERIOD_START:  # the previous year is read for totals only, never for posts
                    batch.append(post_item(ws, account, info, latest, published + timedelta(hours=1)))
                score = PostScore.of(
                    account,
                    pid,
                    published,
                    latest["likes"] + latest["comments"] + latest["shares"],
                    latest.get("impressions"),
                    latest.get("reach"),
                )
                scores.append(score)
                posts += 1
            month = day.replace(day=1)
            for metric, value in sums.items():
                month_sums[month][metric] += value
            month_followers[month][day] = followers
            week_scores[day - timedelta(days=day.weekday())].extend(scores)
            month_posts[month] += POSTS_PER_DAY
            batch.append(
                day_item(
                    ws,
                    account,
                    day,
                    sums=sums,
                    latest={"followers": followers},
                    posts_published=POSTS_PER_DAY,
                )
            )
            day += timedelta(days=1)
        for month, sums in month_sums.items():
            batch.append(
                month_item(
                    ws,
                    account,
                    month,
                    sums=sums,
                    latest_by_day={"followers": month_followers[month]},
                    posts_published=month_posts[month],
                )
            )
        batch.extend(week_item(ws, account, monday, scores) for monday, scores in week_scores.items())
        batch.extend(packed_months(batch))
        items += store.bulk_put(batch)
    return items, posts


if __name__ == "__main__":
    main()
