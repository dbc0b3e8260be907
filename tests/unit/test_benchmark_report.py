"""The benchmark report checked by hand: a small known data set (a competitor on Bluesky, one own
account, share of voice) whose counts, medians, rates, frequencies and growth are computed here by
hand, then found in every format (JSON, CSV, HTML, PDF).

The period is Mon 2026-11-02 .. Sun 2026-11-15 (14 days) in America/New_York (UTC-5 then), so posts
near midnight UTC land on the local day and hour the workspace sees.

Competitor "Rival" (Bluesky), posts in UTC -> local:
  p0 11-02 04:00Z = Sun 11-01 23:00  outside the period
  p1 11-02 14:00Z = Mon 09:00  image  likes 3, reposts 1            -> 4
  p2 11-04 01:30Z = Tue 20:30  text   likes 10                      -> 10  (Wednesday in UTC)
  p3 11-09 14:15Z = Mon 09:15  video  likes 5, replies 2            -> 7
  p4 11-13 17:00Z = Fri 12:00  link   likes 1                       -> 1
  p5 11-16 03:00Z = Sun 11-15 22:00  text  likes 2                  -> 2   (Monday in UTC)
  p6 11-16 06:00Z = Mon 11-16 01:00  outside the period (likes 100)
By hand: 5 posts; 5 * 7 / 14 = 2.5 a week; engagements 1, 2, 4, 7, 10 -> median 4, mean 24 / 5 = 4.8;
followers 1,000 (11-02) .. 1,200 (11-15), the 10-30 reading of 900 outside -> growth 200 = 20%;
engagement rate 4.8 / 1,200 = 0.4%; weekdays Mon 2, Tue 1, Fri 1, Sun 1; hours 09h 2, 12h 1, 20h 1,
22h 1; mix text 2, image 1, video 1, link 1; top posts p2 (10), p3 (7), p1 (4).

Own account "Acme" (X): posts with 6 and 8 engagements -> median 7, mean 7; followers 500 -> 510
(+10 = 2%); engagement rate 7 / 510.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime

import pypdf
import pytest

from chorus.competitors import store
from chorus.competitors.measures import Measures, PostFact, measure
from chorus.competitors.model import Competitor, CompetitorPost, ContentType, FollowerPoint
from chorus.reports.benchmark import Benchmark, VoiceRow, build_benchmark, render_benchmark
from tests.support import main_table_in_moto

WS = "ws-bench"
TZ = "America/New_York"
START, END = date(2026, 11, 2), date(2026, 11, 15)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


RIVAL_POSTS = [
    CompetitorPost("p0", at("2026-11-02T04:00"), ContentType.TEXT, likes=50),
    CompetitorPost("p1", at("2026-11-02T14:00"), ContentType.IMAGE, likes=3, reposts=1, text="Autumn menu"),
    CompetitorPost("p2", at("2026-11-04T01:30"), ContentType.TEXT, likes=10, text="=Late night news",
                   url="https://bsky.app/profile/rival.example/post/p2"),
    CompetitorPost("p3", at("2026-11-09T14:15"), ContentType.VIDEO, likes=5, replies=2, text="Behind the bar"),
    CompetitorPost("p4", at("2026-11-13T17:00"), ContentType.LINK, likes=1, text="Read our blog"),
    CompetitorPost("p5", at("2026-11-16T03:00"), ContentType.TEXT, likes=2, text="Sunday night"),
    CompetitorPost("p6", at("2026-11-16T06:00"), ContentType.TEXT, likes=100, text="outside"),
]  # fmt: skip


class Own:
    def own(
        self, workspace_id: str, start: date, end: date, timezone: str, accounts: Sequence[str] = ()
    ) -> list[Measures]:
        posts = [PostFact(at("2026-11-03T15:00"), 6), PostFact(at("2026-11-10T15:00"), 8)]
        followers = [FollowerPoint(date(2026, 11, 2), 500), FollowerPoint(date(2026, 11, 15), 510)]
        return [measure("Acme", "own", "x", posts, followers, start, end, timezone)]


def voice(workspace_id: str, start: date, end: date) -> list[VoiceRow]:
    return [VoiceRow("Acme", "brand", 30, 0.6), VoiceRow("Rival", "competitor", 20, 0.4)]


@pytest.fixture(scope="module")
def bench() -> Iterator[Benchmark]:
    with pytest.MonkeyPatch.context() as mp, main_table_in_moto(mp, "test-benchmark"):
        store.save_competitor(
            Competitor(
                "cmpR", WS, "bluesky", "rival.example", "did:plc:rival", "Rival", None, at("2026-10-01T00:00")
            )
        )
        store.save_posts(WS, "cmpR", RIVAL_POSTS)
        for day, followers in (
            ("2026-10-30", 900),
            ("2026-11-02", 1000),
            ("2026-11-09", 1100),
            ("2026-11-15", 1200),
        ):
            store.record_followers(WS, "cmpR", followers, at(f"{day}T23:00"))
        yield build_benchmark(WS, "Acme", START, END, TZ, own=Own(), voice=voice,
                              clock=lambda: at("2026-11-16T12:00"))  # fmt: skip


def test_the_numbers_match_the_hand_computation(bench: Benchmark) -> None:
    own, rival = bench.accounts
    assert (own.name, own.role, rival.name, rival.role) == ("Acme", "own", "Rival", "competitor")
    assert rival.posts == 5
    assert rival.posts_per_week == 2.5
    assert rival.median_engagement == 4
    assert rival.engagement_rate == pytest.approx(0.004)
    assert (rival.followers_start, rival.followers_end, rival.follower_growth) == (1000, 1200, 200)
    assert rival.follower_growth_pct == pytest.approx(20.0)
    assert rival.by_weekday == (2, 1, 0, 0, 1, 0, 1)
    assert {h: n for h, n in enumerate(rival.by_hour) if n} == {9: 2, 12: 1, 20: 1, 22: 1}
    assert rival.content_mix == {"text": 2, "image": 1, "video": 1, "link": 1, "unknown": 0}
    assert [(p.text, p.engagements) for p in rival.top_posts] == [
        ("=Late night news", 10), ("Behind the bar", 7), ("Autumn menu", 4)]  # fmt: skip
    assert (own.posts, own.median_engagement, own.follower_growth, own.follower_growth_pct) == (2, 7, 10, 2.0)
    assert own.engagement_rate == pytest.approx(7 / 510)
    assert own.content_mix["unknown"] == 2


def test_json_carries_the_same_numbers(bench: Benchmark) -> None:
    body, content_type, filename = render_benchmark(bench, "json")
    data = json.loads(body)
    assert content_type == "application/json"
    assert filename == "chorus-benchmark_2026-11-02_2026-11-15.json"
    rival = data["accounts"][1]
    assert (rival["posts"], rival["posts_per_week"], rival["median_engagement"]) == (5, 2.5, 4)
    assert rival["engagement_rate"] == pytest.approx(0.004)
    assert (rival["follower_growth"], rival["by_weekday"]) == (200, [2, 1, 0, 0, 1, 0, 1])
    assert [p["engagements"] for p in rival["top_posts"]] == [10, 7, 4]
    assert data["share_of_voice"][1] == {"name": "Rival", "role": "competitor", "mentions": 20, "share": 0.4}
    assert data["period"] == {"from": "2026-11-02", "to": "2026-11-15", "timezone": TZ}


def csv_blocks(body: bytes) -> dict[str, list[list[str]]]:
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    blocks: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in rows[2:]:
        if not row:
            current = None
        elif current is None:
            current = blocks.setdefault(row[0], [])
        else:
            current.append(row)
    return blocks


def test_csv_carries_the_same_numbers(bench: Benchmark) -> None:
    body, content_type, _ = render_benchmark(bench, "csv")
    assert content_type.startswith("text/csv")
    blocks = csv_blocks(body)
    header, own, rival = blocks["Benchmark"]
    assert header[:4] == ["Account", "Role", "Posts", "Posts per week"]
    assert rival == ["Rival (Bluesky)", "competitor", "5", "2.5", "4", "0.4", "1200", "200", "20.0"]
    assert own[:3] == ["Acme (X)", "own", "2"]
    assert blocks["Posts by weekday"][2] == ["Rival (Bluesky)", "2", "1", "0", "0", "1", "0", "1"]
    hours = blocks["Posts by hour"][2]
    assert [hours[1 + h] for h in (9, 12, 20, 22)] == ["2", "1", "1", "1"]
    assert sum(int(n) for n in hours[1:]) == 5
    assert blocks["Content mix (posts)"][2] == ["Rival (Bluesky)", "2", "1", "1", "1", "0"]
    top = [r for r in blocks["Top posts"] if r[0] == "Rival (Bluesky)"]
    assert [r[2] for r in blocks["Top posts"] if r[0] == "Acme (X)"] == ["8", "6"]
    assert [(r[2], r[4]) for r in top] == [
        ("10", "'=Late night news"),
        ("7", "Behind the bar"),
        ("4", "Autumn menu"),
    ]
    assert top[0][1] == "2026-11-03 20:30"  # local time of p2
    assert blocks["Share of voice"][2] == ["Rival", "competitor", "20", "40.0"]


def test_html_shows_the_same_numbers(bench: Benchmark) -> None:
    body, content_type, _ = render_benchmark(bench, "html")
    page = body.decode()
    assert content_type.startswith("text/html")
    assert "<h1>Competitor benchmark</h1>" in page
    for figure in ("Rival (Bluesky)", "2.50", "0.40%", "1,200", "20.0%", "2026-11-03 20:30", "40.00%"):
        assert figure in page, figure
    assert "=Late night news" in page


def test_pdf_shows_the_same_numbers(bench: Benchmark) -> None:
    body, content_type, filename = render_benchmark(bench, "pdf")
    assert content_type == "application/pdf"
    assert filename.endswith(".pdf")
    reader = pypdf.PdfReader(io.BytesIO(body))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert reader.metadata is not None
    assert reader.metadata.title == "Competitor benchmark - Acme"
    for figure in ("Rival (Bluesky)", "2.50", "0.40%", "1,200", "20.0%", "40.00%", "Behind the bar"):
        assert figure in text, figure
