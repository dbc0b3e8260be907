"""Posts made on LinkedIn, Pinterest and YouTube directly (from the phone, not through Chorus), on the
embedded runtime against a fake of each platform on 127.0.0.1 (tests/faults/fakes): the first collection
after connecting reads each account's own timeline (LinkedIn's Posts API author finder for the page,
Pinterest's ``GET /v5/pins``, YouTube's uploads playlist), follows the posts Chorus did not publish as
``external`` posts, collects their metrics (share statistics, pin analytics, ``videos.list``), and
``GET /reports`` shows each with its origin and metrics. A post Chorus published to the LinkedIn page is
in that timeline too and is counted once, as Chorus's.

Data: one workspace with a LinkedIn page, a Pinterest account and a YouTube channel (connections whose
ownership the platform confirmed); per platform one post made on the platform directly, 5 minutes before
the test; one post published through Chorus to the page; one collection an hour and a minute later."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.faults.fakes import linkedin as lifake
from tests.faults.fakes import pinterest as pinfake
from tests.faults.fakes import youtube as ytfake
from tests.faults.harness import FakePlatform
from tests.integration.harness import Chorus, eventually

ORG = "urn:li:organization:5515715"
PINTEREST_USER = "549755885000"
LI_PHONE = "urn:li:share:7100000000000000001"
PIN_PHONE = "1022106077905999001"
VIDEO_PHONE = "PhoneVid001"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatform]:
    made = FakePlatform()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def knobs(fake: FakePlatform) -> Iterator[dict[str, Any]]:
    """The three fakes' routes, and every adapter and collector pointed at them (built afresh)."""
    from chorus.platforms import registry
    from chorus.platforms.linkedin import metrics as limetrics
    from chorus.platforms.pinterest import metrics as pinmetrics
    from chorus.platforms.youtube import metrics as ytmetrics

    with pytest.MonkeyPatch.context() as patch:
        found = {
            "linkedin": lifake.linkedin_platform(fake, patch),
            "pinterest": pinfake.pinterest_platform(fake, patch),
            "youtube": ytfake.youtube_platform(fake, patch),
        }
        patch.setattr(limetrics, "API_URL", f"{fake.url}/rest")
        patch.setattr(pinmetrics, "API_URL", f"{fake.url}{pinfake.VERSION}")
        patch.setattr(ytmetrics, "API_URL", f"{fake.url}/youtube/v3")
        registry.reset()
        yield found
    registry.reset()


@pytest.fixture(scope="module")
def chorus(knobs: dict[str, Any]) -> Iterator[Chorus]:
    c = Chorus()
    yield c
    c.close()


@pytest.fixture(scope="module")
def dataset(chorus: Chorus, fake: FakePlatform, knobs: dict[str, Any]) -> dict[str, Any]:
    ws, key = chorus.workspace("Made On The Phone")
    page = chorus.proven_account(key, "linkedin", ORG, handle="cafe")
    chorus.proven_account(key, "pinterest", PINTEREST_USER, handle="merle")
    chorus.proven_account(key, "youtube", ytfake.CHANNEL, handle="@merlebakes")
    # A post published through Chorus to the page: it is in the page's timeline too
    made = chorus.call("POST", "/posts", key, json={"text": "Via Chorus: the autumn menu", "accounts": [page],
                                                     "mode": "now"})  # fmt: skip
    assert made.status_code == 201, made.text

    def published() -> str | None:
        target = chorus.call("GET", f"/posts/{made.json()['id']}", key).json()["targets"][0]
        return str(target["platform_post_id"]) if target["state"] == "published" else None

    chorus_post = eventually(published, timeout=60)
    # Then one post on each platform made from the phone, five minutes ago
    before = datetime.now(UTC) - timedelta(minutes=5)
    fake.create("post", {"id": LI_PHONE, "author": ORG, "commentary": "From the LinkedIn app \\(on the go\\)",
                         "lifecycleState": "PUBLISHED", "createdAt": int(before.timestamp() * 1000)})  # fmt: skip
    fake.create("pin", {"id": PIN_PHONE, "board_id": pinfake.BOARD, "title": "Pinned from my phone",
                        "description": "Plum cake", "created_at": before.strftime("%Y-%m-%dT%H:%M:%S")})  # fmt: skip
    fake.create("video", {"id": VIDEO_PHONE, "snippet": {"title": "Shot on my phone"},
                          "published_at": before.strftime("%Y-%m-%dT%H:%M:%SZ")})  # fmt: skip
    # And their metrics on each platform
    knobs["linkedin"].statistics.update({
        LI_PHONE: {"impressionCount": 300, "uniqueImpressionsCount": 250, "likeCount": 12, "commentCount": 3,
                   "shareCount": 1, "clickCount": 4},
        chorus_post: {"impressionCount": 100, "likeCount": 5, "commentCount": 0, "shareCount": 0, "clickCount": 1},
    })  # fmt: skip
    knobs["pinterest"].analytics[PIN_PHONE] = {
        "IMPRESSION": 80,
        "SAVE": 2,
        "OUTBOUND_CLICK": 1,
        "TOTAL_REACTIONS": 6,
    }
    knobs["youtube"].views, knobs["youtube"].likes, knobs["youtube"].subscribers = 50, 4, 200
    assert chorus.rt.wait_idle(timeout=60)  # the table's stream read: the Chorus post followed
    chorus.tick_at("MetricsFanoutFunction", datetime.now(UTC) + timedelta(minutes=61))
    assert chorus.rt.wait_idle(timeout=120)
    today = datetime.now(UTC).date()
    answer = chorus.call("GET", "/reports", key, params={
        "from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat(),
        "format": "json", "tz": "UTC"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {"key": key, "chorus_id": made.json()["id"], "chorus_post": chorus_post, "report": body,
            "rows": {p["post_id"]: p for p in body["top_posts"] + body["bottom_posts"]}}  # fmt: skip


@pytest.mark.parametrize(
    ("post", "text", "impressions", "engagements"),
    [
        (
            LI_PHONE,
            "From the LinkedIn app (on the go)",
            300,
            12 + 3 + 1 + 4,
        ),  # likes, comments, shares, clicks
        (PIN_PHONE, "Pinned from my phone Plum cake", 80, 6 + 2 + 1),  # reactions, saves, outbound clicks
        (VIDEO_PHONE, "Shot on my phone", None, 4),  # YouTube counts views, not impressions
    ],
)
def test_a_post_made_on_the_platform_is_in_the_report_with_its_metrics(
    dataset: dict[str, Any], post: str, text: str, impressions: int | None, engagements: int
) -> None:
    row = dataset["rows"][post]
    assert row["origin"] == "external"
    assert row["text_excerpt"] == text
    assert (row["impressions"], row["engagements"]) == (impressions, engagements)


def test_the_chorus_post_in_the_pages_timeline_is_counted_once_as_chorus(dataset: dict[str, Any]) -> None:
    rows = dataset["rows"]
    ours = rows[dataset["chorus_id"]]  # a Chorus post's row is its Chorus post, linked to the platform's
    assert ours["origin"] == "chorus"
    assert ours["url"] == f"https://www.linkedin.com/feed/update/{dataset['chorus_post']}/"
    assert (ours["impressions"], ours["engagements"]) == (100, 6)
    assert set(rows) == {LI_PHONE, PIN_PHONE, VIDEO_PHONE, dataset["chorus_id"]}
    assert dataset["report"]["overall"]["posts_published"]["current"] == 4


def test_the_youtube_reads_were_charged_to_the_daily_quota(
    dataset: dict[str, Any], fake: FakePlatform
) -> None:
    from chorus.platforms.youtube.quota import UNITS, default_ledger, quota_day

    # channels.list (uploads playlist), playlistItems.list, channels.list (statistics), videos.list
    calls = [fake.calls("GET", p) for p in (ytfake.CHANNELS, ytfake.PLAYLIST_ITEMS, ytfake.VIDEOS)]
    assert [len(c) for c in calls] == [2, 1, 1]
    assert default_ledger().used(UNITS, quota_day(datetime.now(UTC))) >= 4
