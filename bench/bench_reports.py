"""How long a one-year report takes to build from the metrics rollups, and how many items it reads.

Run: ``.venv/bin/python bench/bench_reports.py`` (a minute or two; writes ``bench/results/reports.json``).

Data set: 20 accounts (X, Instagram, Facebook, LinkedIn, Mastodon in turn) posting 20 posts a day for
two years (the report's year and the previous year it is compared with): 292,000 posts, with post items
for the report's year (146,000; the previous year is read for its totals only, so its post items would
never be looked up). Everything is written **directly with BatchWrite** (``MetricsStore.bulk_put`` of
items built by ``day_item``, ``month_item``, ``week_item`` and ``post_item``, the same shapes the store
maintains), as if each post had been collected once on its publish day: replaying ~80 ladder
collections per post through the transactional ``record_post_points`` would take hours in moto and
would measure the writer, not the report.

Measured, against moto in-process (DynamoDB's wire format and botocore parsing, no network):
``build_report`` + JSON render (median of 3) and + PDF render, and ``items_read`` of one build. The bound
the design promises is ``days x accounts + top/bottom post lookups``; the store reads whole months from
month items and post scores from one item per week, so a year reads far fewer.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from moto import mock_aws

RESULTS = Path(__file__).resolve().parent / "results" / "reports.json"
WS = "ws-bench"
ACCOUNTS = 20
POSTS_PER_DAY = 20
PERIOD_START, PERIOD_END = date(2025, 11, 23), date(2026, 11, 22)  # 365 days, not month-aligned
PLATFORMS = ("x", "instagram", "facebook", "linkedin", "mastodon")
TOP_N = 10


def main() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["CHORUS_METRICS_TABLE"] = "bench-metrics"
    fast_moto_items()
    with mock_aws():
        from chorus.config import reset_caches

        reset_caches()
        results = run()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def fast_moto_items() -> None:
    """moto re-measures the whole item each time it sets one attribute (quadratic in attributes), which
    makes loading 150,000 post items take many minutes; DynamoDB has no such cost. The bench's items are
    all far below the 400 KB limit, so the check is switched off here (and only here)."""
    from moto.dynamodb.models import dynamo_type

    dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[assignment,method-assign]


def run() -> dict[str, object]:
    import boto3

    from chorus.metrics.store import MetricsStore
    from chorus.reports.builder import build_report
    from chorus.reports.model import AccountRef, Period
    from chorus.reports.render import render_json, render_pdf

    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="bench-metrics",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    store = MetricsStore()
    period = Period(PERIOD_START, PERIOD_END, "Europe/Berlin")
    first_day = period.previous().start
    started = time.perf_counter()
    written, posts = load(store, first_day, PERIOD_END)
    load_s = time.perf_counter() - started

    accounts = {
        f"acc-{i}": AccountRef(f"acc-{i}", PLATFORMS[i % len(PLATFORMS)], f"Account {i}", f"@account{i}")
        for i in range(ACCOUNTS)
    }

    def build() -> object:
        return build_report(
            WS, period, list(accounts), period.timezone, accounts_info=accounts, store=store, top_n=TOP_N
        )

    store.reset_items_read()
    report = build()
    items_read = store.reset_items_read()
    json_times, pdf_times = [], []
    for _ in range(3):
        start = time.perf_counter()
        render_json(build())  # type: ignore[arg-type]
        json_times.append(time.perf_counter() - start)
    render_pdf(report)  # type: ignore[arg-type]  # warm: fonts registered
    for _ in range(2):
        start = time.perf_counter()
        render_pdf(build())  # type: ignore[arg-type]
        pdf_times.append(time.perf_counter() - start)
    days = period.days
    return {
        "report_json_s": round(statistics.median(json_times), 4),
        "report_pdf_s": round(statistics.median(pdf_times), 4),
        "items_read": items_read,
        "days": days,
        "accounts": ACCOUNTS,
        "items_bound": days * ACCOUNTS + 2 * TOP_N,
        "posts_in_data_set": posts,
        "items_loaded": written,
        "load_s": round(load_s, 1),
        "backend": "moto in-process",
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
                score = PostScore(
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
