"""How long a one-year report takes to build from the metrics rollups, and how many items it reads.

Run: ``.venv/bin/python bench/bench_reports.py`` (a minute or two; writes ``bench/results/reports.json``).

Data set: 20 accounts (X, Instagram, Facebook, LinkedIn, Mastodon in turn) posting 20 posts a day for
two years (the report's year and the previous year it is compared with): 292,000 posts, with post items
for the report's year (146,000; the previous year is read for its totals only, so its post items would
never be looked up). Everything is written **directly with BatchWrite** (``MetricsStore.bulk_put`` of
items built by ``day_item``, ``month_item``, ``week_item`` and ``post_item``, the same shapes the store
maintains), as if each post had been collected once on its publish day: replaying ~80 ladder
collections per post through the transactional ``record_post_points`` would take hours and would
measure the writer, not the report.

Measured: ``build_report`` + JSON render (median of 3) and + PDF render, and ``items_read`` of one build.
The bound the design promises is ``days x accounts + top/bottom post lookups``; the store reads whole
months from month items and post scores from one item per week, so a year reads far fewer.

Backend: :class:`WireClient`, an in-memory stand-in for the low-level DynamoDB client (sorted
partitions; Query, BatchGet, GetItem, BatchWrite). Every answer is serialised to DynamoDB's JSON and
parsed back by botocore's own parser with the operation's output shape, so decoding costs what it costs
with the real client (the loaded table is frozen out of the garbage collector's sight: a report process
never holds it); network and server time are not included (about 10 ms per call in a region; the
builder reads accounts on 8 threads to overlap them). moto is not used here because its Query walks
every item of the *table* per call (O(table), ~1.5 s per call on this data set), which DynamoDB does not.
"""

from __future__ import annotations

import bisect
import gc
import json
import random
import statistics
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.parsers
import botocore.session

RESULTS = Path(__file__).resolve().parent / "results" / "reports.json"
WS = "ws-bench"
ACCOUNTS = 20
POSTS_PER_DAY = 20
PERIOD_START, PERIOD_END = date(2025, 11, 23), date(2026, 11, 22)  # 365 days, not month-aligned
PLATFORMS = ("x", "instagram", "facebook", "linkedin", "mastodon")
TOP_N = 10

Item = dict[str, Any]


class WireClient:
    """Just enough of the low-level DynamoDB client for the metrics store's bulk loads and reads."""

    def __init__(self) -> None:
        self.parts: dict[str, dict[str, Item]] = defaultdict(dict)
        self.sizes: dict[tuple[str, str], int] = {}
        self._sorted: dict[str, list[str]] = {}
        self._model = botocore.session.get_session().get_service_model("dynamodb")
        self._parser = botocore.parsers.create_parser("json")

    def _wire(self, operation: str, answer: dict[str, Any]) -> Any:
        body = json.dumps(answer).encode()
        shape = self._model.operation_model(operation).output_shape
        return self._parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)

    def batch_write_item(self, RequestItems: dict[str, list[Item]]) -> Any:
        for requests in RequestItems.values():
            for request in requests:
                item = request["PutRequest"]["Item"]
                self.parts[item["pk"]["S"]][item["sk"]["S"]] = item
                self.sizes[(item["pk"]["S"], item["sk"]["S"])] = len(json.dumps(item))
                self._sorted.pop(item["pk"]["S"], None)
        return {"UnprocessedItems": {}}

    def _keys(self, pk: str) -> list[str]:
        if pk not in self._sorted:
            self._sorted[pk] = sorted(self.parts.get(pk, {}))
        return self._sorted[pk]

    def query(self, **kw: Any) -> Any:
        values = kw["ExpressionAttributeValues"]
        pk = values[":pk"]["S"]
        keys = self._keys(pk)
        low = bisect.bisect_left(keys, values[":low"]["S"]) if ":low" in values else 0
        high = bisect.bisect_right(keys, values[":high"]["S"]) if ":high" in values else len(keys)
        if "ExclusiveStartKey" in kw:
            low = bisect.bisect_right(keys, kw["ExclusiveStartKey"]["sk"]["S"])
        items: list[Item] = []
        size, last = 0, None
        for sk in keys[low:high]:
            item = self.parts[pk][sk]
            size += self.sizes[(pk, sk)]
            if size > 1_000_000 and items:  # DynamoDB pages at 1 MB
                last = {"pk": item["pk"], "sk": items[-1]["sk"]}
                break
            items.append(item)
        answer: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(items)}
        if last:
            answer["LastEvaluatedKey"] = last
        return self._wire("Query", answer)

    def get_item(self, **kw: Any) -> Any:
        key = kw["Key"]
        found = self.parts.get(key["pk"]["S"], {}).get(key["sk"]["S"])
        return self._wire("GetItem", {"Item": found} if found else {})

    def batch_get_item(self, RequestItems: dict[str, Any]) -> Any:
        responses = {
            table: [
                found
                for key in request["Keys"]
                if (found := self.parts.get(key["pk"]["S"], {}).get(key["sk"]["S"])) is not None
            ]
            for table, request in RequestItems.items()
        }
        return self._wire("BatchGetItem", {"Responses": responses, "UnprocessedKeys": {}})


def main() -> None:
    results = run()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def run() -> dict[str, object]:
    from chorus.metrics.store import MetricsStore
    from chorus.reports.builder import build_report
    from chorus.reports.model import AccountRef, Period, Report
    from chorus.reports.render import render_json, render_pdf

    store = MetricsStore("bench-metrics", client=WireClient())
    period = Period(PERIOD_START, PERIOD_END, "Europe/Berlin")
    started = time.perf_counter()
    written, posts = load(store, period.previous().start, PERIOD_END)
    load_s = time.perf_counter() - started
    # The in-memory table is millions of Python objects that a real report process never holds (they
    # live in DynamoDB); keep the garbage collector from walking them on every collection it runs.
    gc.collect()
    gc.freeze()
    accounts = {
        f"acc-{i}": AccountRef(f"acc-{i}", PLATFORMS[i % len(PLATFORMS)], f"Account {i}", f"@account{i}")
        for i in range(ACCOUNTS)
    }

    def build() -> Report:
        return build_report(
            WS, period, list(accounts), period.timezone, accounts_info=accounts, store=store, top_n=TOP_N
        )

    store.reset_items_read()
    report = build()
    items_read = store.reset_items_read()
    json_times, pdf_times = [], []
    for _ in range(3):
        start = time.perf_counter()
        render_json(build())
        json_times.append(time.perf_counter() - start)
    render_pdf(report)  # warm: fonts registered
    for _ in range(2):
        start = time.perf_counter()
        render_pdf(build())
        pdf_times.append(time.perf_counter() - start)
    return {
        "report_json_s": round(statistics.median(json_times), 4),
        "report_pdf_s": round(statistics.median(pdf_times), 4),
        "items_read": items_read,
        "days": period.days,
        "accounts": ACCOUNTS,
        "items_bound": period.days * ACCOUNTS + 2 * TOP_N,
        "posts_in_data_set": posts,
        "posts_in_heatmap": sum(c.posts for c in report.heatmap),
        "items_loaded": written,
        "load_s": round(load_s, 1),
        "backend": "in-memory client, botocore wire parsing (no network)",
    }


def load(store: object, first: date, last: date) -> tuple[int, int]:
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
    for i in range(ACCOUNTS):
        account = f"acc-{i}"
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
                    batch.append(post_item(WS, account, info, latest, published + timedelta(hours=1)))
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
                    WS,
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
                    WS,
                    account,
                    month,
                    sums=sums,
                    latest_by_day={"followers": month_followers[month]},
                    posts_published=month_posts[month],
                )
            )
        batch.extend(week_item(WS, account, monday, scores) for monday, scores in week_scores.items())
        items += store.bulk_put(batch)
    return items, posts


if __name__ == "__main__":
    main()
