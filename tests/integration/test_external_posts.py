"""Posts made on the platform directly (not through Chorus) on the embedded runtime with the sandbox
platform: the first collection after connect reads the account's timeline, follows them as ``external``
posts, collects their metrics, and GET /reports shows them beside Chorus's posts (never one post twice)
and filters by origin in every format.

Data: one sandbox account; post C published through Chorus (impressions 100, likes 10: rate 10 %);
post E made on the sandbox directly (impressions 200, likes 40: rate 20 %); one collection an hour and a
minute later."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.integration.harness import Chorus, eventually


@pytest.fixture(scope="module")
def chorus() -> Iterator[Chorus]:
    c = Chorus()
    yield c
    c.close()


@pytest.fixture(scope="module")
def dataset(chorus: Chorus) -> dict[str, Any]:
    ws, key = chorus.workspace("Phone Posters")
    handle = f"ext-{ws}"
    account = chorus.sandbox_account(key, handle)
    created = chorus.call(
        "POST", "/posts", key, json={"text": "Post C: via Chorus", "accounts": [account], "mode": "now"}
    )
    assert created.status_code == 201, created.text
    post_id = created.json()["id"]

    def published() -> str | None:
        target = chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0]
        return str(target["platform_post_id"]) if target["state"] == "published" else None

    chorus_post = eventually(published, timeout=30)
    # a post made on the platform directly: from the phone, not through Chorus
    direct = requests.post(
        f"{chorus.sandbox.url}/api/accounts/{handle}/posts",
        json={"text": "Post E: from my phone"},
        headers={"Authorization": f"Bearer tok-{handle}"},
        timeout=5,
    )
    direct.raise_for_status()
    external_post = str(direct.json()["id"])
    assert chorus.rt.wait_idle(timeout=30)  # the table's stream read: post C followed
    chorus.engage(chorus_post, impressions=100, likes=10)
    chorus.engage(external_post, impressions=200, likes=40)
    chorus.tick_at("MetricsFanoutFunction", datetime.now(UTC) + timedelta(minutes=61))
    assert chorus.rt.wait_idle(timeout=30)
    today = datetime.now(UTC).date()
    return {
        "key": key,
        "chorus_id": post_id,
        "external": external_post,
        "from": (today - timedelta(days=1)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }


def report(chorus: Chorus, data: dict[str, Any], fmt: str, **extra: str) -> requests.Response:
    params = {"from": data["from"], "to": data["to"], "format": fmt, "tz": "UTC", **extra}
    answer = chorus.call("GET", "/reports", data["key"], params=params)
    assert answer.status_code == 200, answer.text
    return answer


def test_a_post_made_elsewhere_is_in_the_report_with_its_metrics_and_origin(
    chorus: Chorus, dataset: dict[str, Any]
) -> None:
    body = report(chorus, dataset, "json").json()
    rows = {p["post_id"]: p for p in body["top_posts"] + body["bottom_posts"]}
    external = rows[dataset["external"]]
    assert external["origin"] == "external"
    assert external["text_excerpt"] == "Post E: from my phone"
    assert (external["impressions"], external["engagements"]) == (200, 40)
    ours = rows[dataset["chorus_id"]]
    assert ours["origin"] == "chorus"
    assert (ours["impressions"], ours["engagements"]) == (100, 10)
    # never counted twice: Chorus's own post is in the sandbox timeline too
    assert len(rows) == 2
    assert body["overall"]["posts_published"]["current"] == 2
    assert body["overall"]["impressions"]["current"] == 300


@pytest.mark.parametrize(("origin", "post"), [("external", "external"), ("chorus", "chorus_id")])
def test_the_origin_filter_keeps_posts_and_counts_of_that_origin(
    chorus: Chorus, dataset: dict[str, Any], origin: str, post: str
) -> None:
    body = report(chorus, dataset, "json", origin=origin).json()
    assert body["origin"] == origin
    assert [p["post_id"] for p in body["top_posts"] + body["bottom_posts"]] == [dataset[post]]
    assert body["overall"]["posts_published"]["current"] == 1


def test_csv_and_html_show_the_origin_and_the_filter(chorus: Chorus, dataset: dict[str, Any]) -> None:
    text = report(chorus, dataset, "csv", origin="external").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = next(r for r in rows if "Origin" in r)
    posts = [r for r in rows[rows.index(header) + 1 :] if any(c.startswith("Post ") for c in r)]
    assert [r[header.index("Origin")] for r in posts] == ["external"]
    assert not any("Post C" in "".join(r) for r in rows)
    html = report(chorus, dataset, "html", origin="external").text
    assert "external posts only" in html
    assert "Post E: from my phone" in html
    assert "Post C: via Chorus" not in html


def test_the_pdf_job_keeps_the_filter(chorus: Chorus, dataset: dict[str, Any]) -> None:
    params = {"from": dataset["from"], "to": dataset["to"], "format": "pdf", "origin": "external"}
    queued = chorus.call("GET", "/reports", dataset["key"], params=params)
    assert queued.status_code == 202, queued.text
    assert queued.json()["query"]["origin"] == "external"

    def finished() -> dict[str, Any] | None:
        job = chorus.call("GET", queued.json()["status_url"], dataset["key"]).json()
        return dict(job) if job["state"] in {"done", "failed"} else None

    job = eventually(finished, timeout=60)
    assert job["state"] == "done", job
    assert requests.get(job["url"], timeout=30).content.startswith(b"%PDF-")


def test_an_unknown_origin_is_a_422_naming_the_field(chorus: Chorus, dataset: dict[str, Any]) -> None:
    params = {"from": dataset["from"], "to": dataset["to"], "origin": "mine"}
    answer = chorus.call("GET", "/reports", dataset["key"], params=params)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "origin"
