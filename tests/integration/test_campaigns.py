"""Links that measure themselves and campaigns, on the embedded runtime with the sandbox platform.

The data set (campaign "Launch": budget 300 USD, a conversion worth 40 by default, goal 4 conversions;
one post with a link, scheduled, to three sandbox accounts A, B, C):

=======  ==========================  ========================  ===============================
account  platform numbers            counted clicks            conversions
=======  ==========================  ========================  ===============================
A        impressions 1000, reach 800  3 (referrer t.co = x)     o-1 by its code: 100
         likes 40, comments 10 = 50
B        impressions 500, reach 400   2 (facebook)              o-3 by the pixel, its code: 60
         likes 20, shares 5 = 25
C        impressions 500, reach 300   1 (linkedin, country FR)  o-2 by UTM values (content = the
         likes 25 = 25                                          post, C's link): 40 (the default)
=======  ==========================  ========================  ===============================

Nine bots and link-preview fetchers follow A's link too: redirected, never counted.

So: impressions 2000, reach 1500, engagements 100, engagement rate 100 / 2000 = 5 %; clicks 6, CTR
6 / 2000 = 0.3 %; conversions 3, conversion rate 3 / 6 = 50 %, value 200; cost 300 (no platform spend
named: 100 a target); cost per click 300 / 6 = 50, per conversion 300 / 3 = 100; ROI (200 - 300) / 300
= -1/3; goal 3 of 4 conversions = 75 %, not met. Account A: clicks 3, 1 conversion worth 100, cost 100,
ROI 0. The previous campaign ("Spring", no posts) has 0 of everything.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.integration.harness import Chorus, eventually

BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
BOTS = [
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0 A",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
]


@pytest.fixture(scope="module")
def chorus() -> Any:
    c = Chorus()
    yield c
    c.close()


def call(chorus: Chorus, key: str, method: str, path: str, status: int, **kw: Any) -> Any:
    answer = chorus.call(method, path, key, **kw)
    assert answer.status_code == status, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else answer


def click(chorus: Chorus, code: str, agent: str = BROWSER, **headers: str) -> requests.Response:
    return requests.get(
        f"{chorus.rt.api_url}/l/{code}",
        headers={"User-Agent": agent, **headers},
        allow_redirects=False,
        timeout=30,
    )


@pytest.fixture(scope="module")
def launch(chorus: Chorus) -> dict[str, Any]:
    ws, key = chorus.workspace("Shoes")
    accounts = [chorus.sandbox_account(key, handle=f"{n}-{ws}") for n in ("a", "b", "c")]
    spring = call(chorus, key, "POST", "/campaigns", 201, json={
        "name": "Spring", "starts_on": "2026-03-01", "ends_on": "2026-03-31", "budget": 50, "currency": "USD"})  # fmt: skip
    campaign = call(chorus, key, "POST", "/campaigns", 201, json={
        "name": "Launch", "starts_on": "2026-12-01", "ends_on": "2026-12-31", "budget": 300, "currency": "USD",
        "conversion_value": 40, "goal": {"metric": "conversions", "target": 4}})  # fmt: skip
    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    post = call(chorus, key, "POST", "/posts", 201, json={
        "text": "New shoes are in: https://shop.example.com/shoes?color=red", "accounts": accounts,
        "scheduled_at": due.isoformat(), "campaign_id": campaign["id"], "utm": {"term": "running"}})  # fmt: skip

    def published() -> dict[str, Any] | None:
        found = call(chorus, key, "GET", f"/posts/{post['id']}", 200)
        return found if all(t["state"] == "published" for t in found["targets"]) else None

    done = eventually(published, timeout=60)
    links = call(chorus, key, "GET", f"/posts/{post['id']}/links", 200)["links"]
    by_account = {link["account_id"]: link for link in links}
    return {"ws": ws, "key": key, "accounts": accounts, "campaign": campaign, "spring": spring, "post": done,
            "links": by_account}  # fmt: skip


def test_a_scheduled_post_with_a_link_publishes_a_short_link_per_account(
    chorus: Chorus, launch: dict[str, Any]
) -> None:
    post, links = launch["post"], launch["links"]
    # Then each account's post carries its own short link, never the long URL
    assert post["campaign_id"] == launch["campaign"]["id"]
    assert sorted(links) == sorted(launch["accounts"])
    texts = {p["account"]: p["text"] for p in chorus.platform_posts() if p["account"].endswith(launch["ws"])}
    assert len(texts) == 3
    codes = set()
    for n, account in zip("abc", launch["accounts"], strict=True):
        link = links[account]
        assert texts[f"{n}-{launch['ws']}"] == f"New shoes are in: {chorus.rt.api_url}/l/{link['code']}"
        assert link["short_url"] == f"{chorus.rt.api_url}/l/{link['code']}"
        assert re.fullmatch(r"[A-Za-z0-9]{10}", link["code"])
        codes.add(link["code"])
        # and the short link leads to the UTM-tagged URL, the person's own query kept
        query = parse_qs(urlsplit(link["destination"]).query)
        assert query == {"color": ["red"], "utm_source": ["sandbox"], "utm_medium": ["social"],
                         "utm_campaign": ["launch"], "utm_content": [post["id"]], "utm_term": ["running"]}  # fmt: skip
    assert len(codes) == 3


def test_clicks_from_three_platforms_are_counted_apart_and_bots_are_not(
    chorus: Chorus, launch: dict[str, Any]
) -> None:
    a, b, c = (launch["links"][acct]["code"] for acct in launch["accounts"])
    for _ in range(3):
        answer = click(chorus, a, Referer="https://t.co/abc")
        assert answer.status_code == 302
        assert answer.headers["Location"] == launch["links"][launch["accounts"][0]]["destination"]
    for _ in range(2):
        assert click(chorus, b, Referer="https://l.facebook.com/").status_code == 302
    assert (
        click(
            chorus, c, Referer="https://www.linkedin.com/feed/", **{"CloudFront-Viewer-Country": "FR"}
        ).status_code
        == 302
    )
    for bot in BOTS:  # redirected, not counted
        assert click(chorus, a, bot, Referer="https://t.co/abc").status_code == 302
    links = {
        x["account_id"]: x
        for x in call(chorus, launch["key"], "GET", f"/posts/{launch['post']['id']}/links", 200)["links"]
    }
    counted = [links[acct] for acct in launch["accounts"]]
    assert [x["clicks"] for x in counted] == [3, 2, 1]
    assert [x["by_referrer"] for x in counted] == [{"x": 3}, {"facebook": 2}, {"linkedin": 1}]
    assert counted[2]["by_country"] == {"FR": 1}
    assert counted[0]["by_country"] == {}


def test_unknown_codes_are_404_and_a_disabled_link_is_410(chorus: Chorus, launch: dict[str, Any]) -> None:
    for code in ("AAAAAAAAAA", "short", "x" * 40):
        answer = click(chorus, code)
        assert answer.status_code == 404
        assert answer.headers["Content-Type"] == "application/problem+json"
    _, other = chorus.workspace("Other")
    code = launch["links"][launch["accounts"][2]]["code"]
    # another workspace cannot name it
    assert chorus.call("PATCH", f"/links/{code}", other, json={"disabled": True}).status_code == 404
    call(chorus, launch["key"], "PATCH", f"/links/{code}", 200, json={"disabled": True})
    assert click(chorus, code).status_code == 410
    call(chorus, launch["key"], "PATCH", f"/links/{code}", 200, json={"disabled": False})
    assert click(chorus, code, "Twitterbot/1.0").status_code == 302  # back, and still not counting bots


def test_conversions_are_attributed_to_their_post_and_campaign_once_each(
    chorus: Chorus, launch: dict[str, Any]
) -> None:
    key, campaign, post = launch["key"], launch["campaign"], launch["post"]
    a, b, c = (launch["links"][acct] for acct in launch["accounts"])
    path = f"/campaigns/{campaign['id']}/conversions"
    first = call(chorus, key, "POST", path, 201, json={"event_id": "o-1", "code": a["code"], "value": 100})
    assert (first["post_id"], first["account_id"], first["duplicate"]) == (post["id"], a["account_id"], False)
    again = call(chorus, key, "POST", path, 200, json={"event_id": "o-1", "code": a["code"], "value": 999})
    assert again["duplicate"] is True
    assert again["value"] == 100
    utm = {"source": "sandbox", "campaign": "launch", "content": f"{post['id']}-{c['account_id']}"}
    by_utm = call(chorus, key, "POST", path, 201, json={"event_id": "o-2", "utm": utm})
    assert (by_utm["post_id"], by_utm["account_id"], by_utm["code"]) == (
        post["id"],
        c["account_id"],
        c["code"],
    )
    assert by_utm["value"] == 40  # the campaign's conversion value
    # the pixel: a server-to-server GET signed with the campaign's key
    pixel = campaign["pixel_url"]
    assert pixel.startswith(chorus.rt.api_url + "/pixel/")
    got = requests.get(pixel, params={"event_id": "o-3", "code": b["code"], "value": "60"}, timeout=30)
    assert got.status_code == 201, got.text
    assert requests.get(
        pixel, params={"event_id": "o-3", "code": b["code"], "value": "60"}, timeout=30
    ).json()["duplicate"]
    forged = pixel[:-4] + ("0000" if not pixel.endswith("0000") else "1111")
    assert requests.get(forged, params={"event_id": "o-4", "code": b["code"]}, timeout=30).status_code == 404
    # a code of another campaign is refused, naming the field
    spring = launch["spring"]["id"]
    refused = chorus.call(
        "POST", f"/campaigns/{spring}/conversions", key, json={"event_id": "o-5", "code": a["code"]}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "code"
    listed = call(chorus, key, "GET", path, 200)["conversions"]
    assert sorted((x["event_id"], x["account_id"], x["value"]) for x in listed) == [
        ("o-1", a["account_id"], 100), ("o-2", c["account_id"], 40), ("o-3", b["account_id"], 60)]  # fmt: skip


def test_bad_campaign_and_conversion_input_is_a_4xx_naming_the_field(
    chorus: Chorus, launch: dict[str, Any]
) -> None:
    key, campaign = launch["key"], launch["campaign"]
    cases = [
        ({"name": "No start"}, "starts_on"),
        ({"name": "x", "starts_on": "2026-13-01"}, "starts_on"),
        ({"name": "x", "starts_on": "2026-12-01", "ends_on": "2026-11-01"}, "ends_on"),
        ({"name": "x", "starts_on": "2026-12-01", "currency": "euro"}, "currency"),
        ({"name": "x", "starts_on": "2026-12-01", "budget": -1}, "budget"),
        ({"name": "x", "starts_on": "2026-12-01", "goal": {"metric": "likes", "target": 3}}, "goal.metric"),
        ({"name": "x", "starts_on": "2026-12-01", "bogus": 1}, "bogus"),
    ]
    for body, field in cases:
        answer = chorus.call("POST", "/campaigns", key, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert field in [e["field"] for e in answer.json()["errors"]], (body, answer.text)
    path = f"/campaigns/{campaign['id']}/conversions"
    for body, field in [({"code": "AAAAAAAAAA"}, "event_id"), ({"event_id": "o-9"}, "code"),
                        ({"event_id": "o-9", "code": "AAAAAAAAAA"}, "code"),
                        ({"event_id": "o-9", "code": launch["links"][launch["accounts"][0]]["code"], "currency": "EUR"}, "currency")]:  # fmt: skip
        answer = chorus.call("POST", path, key, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert field in [e["field"] for e in answer.json()["errors"]]
    bad_post = chorus.call("POST", "/posts", key, json={"text": "x", "accounts": launch["accounts"][:1], "mode": "draft",
                                                       "campaign_id": "cffffffffffffff0"})  # fmt: skip
    assert bad_post.status_code == 422
    assert bad_post.json()["errors"][0]["field"] == "campaign_id"
    bad_utm = chorus.call("POST", "/posts", key, json={"text": "x", "accounts": launch["accounts"][:1], "mode": "draft",
                                                      "utm": {"colour": "red"}})  # fmt: skip
    assert bad_utm.status_code == 422
    assert bad_utm.json()["errors"][0]["field"] == "utm.colour"
    assert chorus.call("GET", "/campaigns/cffffffffffffff0", key).status_code == 404
    assert chorus.call("GET", f"/campaigns/{campaign['id']}/report?format=docx", key).status_code == 422
    assert requests.get(f"{chorus.rt.api_url}/pixel/nonsense", timeout=30).status_code == 404


def test_the_calendar_filters_by_campaign(chorus: Chorus, launch: dict[str, Any]) -> None:
    key = launch["key"]
    start = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    end = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    mine = call(
        chorus, key, "GET", f"/calendar?from={start}&to={end}&campaign={launch['campaign']['id']}", 200
    )
    spring = call(
        chorus, key, "GET", f"/calendar?from={start}&to={end}&campaign={launch['spring']['id']}", 200
    )
    ids = {e["post_id"] for day in mine["days"].values() for entries in day.values() for e in entries}
    assert ids == {launch["post"]["id"]}
    assert spring["days"] == {}
    assert chorus.call("GET", f"/calendar?from={start}&to={end}&campaign=cnothere", key).status_code == 422


@pytest.fixture(scope="module")
def measured(chorus: Chorus, launch: dict[str, Any]) -> dict[str, Any]:
    """The platform numbers of the data set, recorded as the metrics collector would."""
    from chorus.metrics.store import MetricsStore, PostInfo
    from chorus.platforms.base import MetricPoint, MetricScope

    numbers = [
        {"impressions": 1000, "reach": 800, "likes": 40, "comments": 10},
        {"impressions": 500, "reach": 400, "likes": 20, "shares": 5},
        {"impressions": 500, "reach": 300, "likes": 25},
    ]
    store = MetricsStore()
    now = datetime.now(UTC)
    targets = {t["account_id"]: t for t in launch["post"]["targets"]}
    for account, values in zip(launch["accounts"], numbers, strict=True):
        target = targets[account]
        info = PostInfo(target["platform_post_id"], "sandbox", datetime.fromisoformat(target["published_at"].replace("Z", "+00:00")),
                        "New shoes", target["url"], launch["post"]["id"])  # fmt: skip
        points = [
            MetricPoint(MetricScope.POST, target["platform_post_id"], m, v, now) for m, v in values.items()
        ]
        store.record_post_points(launch["ws"], account, info, points)
    return launch


EXPECTED = {
    "posts": 1, "reach": 1500, "impressions": 2000, "engagements": 100, "engagement_rate": 0.05,
    "platform_clicks": 0, "clicks": 6, "ctr": 0.003, "conversions": 3, "conversion_rate": 0.5, "value": 200,
    "cost": 300, "cost_per_click": 50, "cost_per_conversion": 100, "roi": -1 / 3,
}  # fmt: skip


def test_the_campaign_report_s_numbers_in_json(chorus: Chorus, measured: dict[str, Any]) -> None:
    key, campaign = measured["key"], measured["campaign"]
    # clicks and conversions of the tests above are part of the data set
    test_clicks_ran = call(chorus, key, "GET", f"/posts/{measured['post']['id']}/links", 200)["links"]
    assert sum(x["clicks"] for x in test_clicks_ran) == 6
    body = call(chorus, key, "GET", f"/campaigns/{campaign['id']}/report?format=json", 200)
    assert body["totals"] == pytest.approx(EXPECTED)
    assert body["by_platform"]["sandbox"] == pytest.approx(EXPECTED)
    assert body["by_post"][measured["post"]["id"]]["clicks"] == 6
    a, b, c = (body["by_account"][acct] for acct in measured["accounts"])
    assert (a["clicks"], a["conversions"], a["value"], a["cost"], a["roi"], a["ctr"]) == (
        3,
        1,
        100,
        100,
        0,
        0.003,
    )
    assert (b["clicks"], b["conversions"], b["value"], b["engagements"]) == (2, 1, 60, 25)
    assert (c["clicks"], c["conversions"], c["value"], c["conversion_rate"]) == (1, 1, 40, 1.0)
    assert body["goal"] == {"metric": "conversions", "target": 4, "actual": 3, "progress": 0.75, "met": False}
    assert body["previous"]["name"] == "Spring"
    assert body["previous"]["figures"]["clicks"] == {"current": 6, "previous": 0, "change_pct": None}


def test_the_campaign_report_s_numbers_in_csv_html_and_pdf(chorus: Chorus, measured: dict[str, Any]) -> None:
    key, campaign = measured["key"], measured["campaign"]
    path = f"/campaigns/{campaign['id']}/report"
    text = chorus.call("GET", path + "?format=csv", key)
    assert text.status_code == 200
    assert text.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(text.text)))
    first = rows.index(["Figure", "This campaign", "Previous campaign"])
    totals = {r[0]: r[1:] for r in rows[first + 1 : rows.index([], first)]}
    assert totals["Short link clicks"] == ["6", "0"]
    assert totals["Conversions"] == ["3", "0"]
    assert totals["Impressions"] == ["2000", "0"]
    assert totals["Engagement rate (%)"][0] == "5.0"
    assert totals["CTR (%)"][0] == "0.3"
    assert totals["Conversion rate (%)"][0] == "50.0"
    assert totals["Value"][0] == "200"
    assert totals["Cost"] == ["300", "50"]  # Spring: its budget, no posts
    assert totals["Cost per click"][0] == "50"
    assert totals["Cost per conversion"][0] == "100"
    assert float(totals["ROI (%)"][0]) == pytest.approx(-33.33, abs=0.01)
    by_account = rows.index(["Account", *[r[0] for r in rows[first + 1 : rows.index([], first)]]])
    account_a = next(r for r in rows[by_account:] if r[0] == measured["accounts"][0])
    assert account_a[1:] == [
        "1",
        "800",
        "1000",
        "50",
        "5.0",
        "0",
        "3",
        "0.3",
        "1",
        "33.3333",
        "100",
        "100",
        "33.33",
        "100",
        "0.0",
    ]
    html = chorus.call("GET", path + "?format=html", key)
    assert html.status_code == 200
    assert html.headers["Content-Type"].startswith("text/html")
    for shown in ("Campaign report", "Launch", "Short link clicks", "2,000", "-33.33%", "75.00%"):
        assert shown in html.text, shown
    pdf = chorus.call("GET", path + "?format=pdf", key)
    assert pdf.status_code == 200, pdf.text[:300]
    assert pdf.content.startswith(b"%PDF-")
    extracted = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    for shown in ("Campaign report", "Launch", "Short link clicks", "2,000", "-33.33%"):
        assert shown in extracted, shown


# ---------------------------------------------------------------- exactly once, with short links


def _mine(chorus: Chorus, handle: str) -> list[dict[str, Any]]:
    return [p for p in chorus.platform_posts() if p["account"] == handle]


def _settled(chorus: Chorus, key: str, post_id: str, states: set[str]) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        target = call(chorus, key, "GET", f"/posts/{post_id}", 200)["targets"][0]
        return target if target["state"] in states else None

    return eventually(probe, timeout=60)


@pytest.mark.parametrize(
    ("fault", "outcomes"),
    [
        # the platform creates the post but holds its answer until the client timed out: verified, not resent
        ({"kind": "timeout_after_create"}, ["unknown", "published"]),
        # the first attempt fails after the short link was stored (a 503), the retry succeeds
        ({"kind": "status", "status": 503, "message": "try later", "retry_after": 1}, ["retry", "published"]),
    ],
)
def test_an_attempt_that_went_wrong_publishes_the_short_link_stored_before_it_once(
    chorus: Chorus, fault: dict[str, Any], outcomes: list[str]
) -> None:
    ws, key = chorus.workspace("Faults")
    account = chorus.sandbox_account(key, handle=f"t-{ws}")
    chorus.fault(account=f"t-{ws}", times=1, **fault)
    created = call(chorus, key, "POST", "/posts", 201, json={
        "text": "Sale https://shop.example.com/sale", "accounts": [account], "mode": "now"})  # fmt: skip
    target = _settled(chorus, key, created["id"], {"published", "failed"})
    assert [a["outcome"] for a in target["attempt_log"]] == outcomes
    # Then the post exists once, carrying the one short link stored before the first call
    links = call(chorus, key, "GET", f"/posts/{created['id']}/links", 200)["links"]
    assert len(links) == 1
    assert [p["text"] for p in _mine(chorus, f"t-{ws}")] == [f"Sale {links[0]['short_url']}"]


def test_a_later_part_failing_then_retried_keeps_every_part_s_short_link(chorus: Chorus) -> None:
    ws, key = chorus.workspace("Thread")
    account = chorus.sandbox_account(key, handle=f"p-{ws}")
    # Given a thread whose two parts each hold a link, and a platform refusing the second part once
    chorus.fault(kind="status", account=f"p-{ws}", status=422, message="reply refused", times=1, after=1)
    created = call(chorus, key, "POST", "/posts", 201, json={
        "text": "Root https://shop.example.com/a", "thread": ["Part https://shop.example.com/b"],
        "accounts": [account], "mode": "now"})  # fmt: skip
    _settled(chorus, key, created["id"], {"partially_published"})
    before = {
        x["original"]: x["short_url"]
        for x in call(chorus, key, "GET", f"/posts/{created['id']}/links", 200)["links"]
    }
    assert sorted(before) == ["https://shop.example.com/a", "https://shop.example.com/b"]
    # When an editor retries it
    call(chorus, key, "POST", f"/posts/{created['id']}/retry", 200, json={"accounts": [account]})
    _settled(chorus, key, created["id"], {"published"})
    # Then the missing part went out with the short link stored before the first attempt
    after = {
        x["original"]: x["short_url"]
        for x in call(chorus, key, "GET", f"/posts/{created['id']}/links", 200)["links"]
    }
    assert after == before
    assert [p["text"] for p in _mine(chorus, f"p-{ws}")] == [
        f"Root {before['https://shop.example.com/a']}",
        f"Part {before['https://shop.example.com/b']}",
    ]


def test_workspace_defaults_tag_links_and_can_turn_shortening_off(chorus: Chorus) -> None:
    ws, key = chorus.workspace("Defaults")
    account = chorus.sandbox_account(key, handle=f"d-{ws}")
    settings = call(
        chorus, key, "PUT", "/links/settings", 200, json={"shorten": False, "medium": "organic", "term": "x"}
    )
    assert settings == {"enabled": True, "shorten": False, "medium": "organic", "campaign": "", "term": "x"}
    bad = chorus.call("PUT", "/links/settings", key, json={"medium": 3})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "medium"
    created = call(chorus, key, "POST", "/posts", 201, json={
        "text": "Look https://shop.example.com/?a=1", "accounts": [account], "mode": "now",
        "utm": {"campaign": "winter", "content": "blue-banner"}})  # fmt: skip
    _settled(chorus, key, created["id"], {"published"})
    (text,) = [p["text"] for p in _mine(chorus, f"d-{ws}")]
    assert text == (
        "Look https://shop.example.com/?a=1&utm_source=sandbox&utm_medium=organic&utm_campaign=winter"
        "&utm_content=blue-banner&utm_term=x"
    )
    assert call(chorus, key, "GET", f"/posts/{created['id']}/links", 200)["links"] == []
    # a post may turn tagging off for itself
    plain = call(chorus, key, "POST", "/posts", 201, json={
        "text": "Plain https://shop.example.com/p", "accounts": [account], "mode": "now", "utm": {"enabled": False}})  # fmt: skip
    _settled(chorus, key, plain["id"], {"published"})
    assert "Plain https://shop.example.com/p" in [p["text"] for p in _mine(chorus, f"d-{ws}")]


def test_the_clicks_report_counts_per_post_account_platform_and_campaign(
    chorus: Chorus, measured: dict[str, Any]
) -> None:
    key, post = measured["key"], measured["post"]
    day = datetime.now(UTC).date().isoformat()
    body = call(chorus, key, "GET", f"/links/report?from={day}&to={day}", 200)
    a, b, c = measured["accounts"]
    assert body["totals"] == {"link_clicks": 6, "platform_clicks": 0, "impressions": 2000, "ctr": 0.003}
    assert {k: v["link_clicks"] for k, v in body["by_account"].items()} == {a: 3, b: 2, c: 1}
    assert body["by_post"][post["id"]]["link_clicks"] == 6
    assert body["by_platform"]["sandbox"]["impressions"] == 2000
    assert body["by_campaign"][measured["campaign"]["id"]]["link_clicks"] == 6
    # clicks of days outside the period are not counted
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    before = call(chorus, key, "GET", f"/links/report?from={yesterday}&to={yesterday}", 200)
    assert before["totals"]["link_clicks"] == 0
    text = chorus.call("GET", f"/links/report?from={day}&to={day}&format=csv", key).text
    assert f"{a},3,0,1000,0.3" in text
    pdf = chorus.call("GET", f"/links/report?from={day}&to={day}&format=pdf", key)
    assert pdf.content.startswith(b"%PDF-")
    for bad, field in (
        ("from=2026-02-30", "from"),
        (f"from={day}&to=2020-01-01", "to"),
        ("format=xls", "format"),
    ):
        answer = chorus.call("GET", f"/links/report?{bad}", key)
        assert answer.status_code == 422, bad
        assert answer.json()["errors"][0]["field"] == field


def test_a_member_limited_to_one_account_sees_only_its_figures(
    chorus: Chorus, measured: dict[str, Any]
) -> None:
    from chorus.auth import members
    from chorus.auth.roles import Role

    a, b, _ = measured["accounts"]
    person = chorus.person(f"limited-{measured['ws']}@campaigns.test")
    members.add_member(measured["ws"], person.user_id, person.email, Role.VIEWER, {a})
    headers = {"Authorization": f"Bearer {person.id_token}", "X-Chorus-Workspace": measured["ws"]}
    path = f"{chorus.rt.api_url}/campaigns/{measured['campaign']['id']}/report"
    body = requests.get(path, headers=headers, timeout=30).json()
    assert list(body["by_account"]) == [a]
    assert (body["totals"]["clicks"], body["totals"]["conversions"], body["totals"]["impressions"]) == (
        3,
        1,
        1000,
    )
    links = requests.get(
        f"{chorus.rt.api_url}/posts/{measured['post']['id']}/links", headers=headers, timeout=30
    )
    assert links.status_code == 200
    assert [x["account_id"] for x in links.json()["links"]] == [a]
    assert (
        b
        not in requests.get(f"{chorus.rt.api_url}/links/report", headers=headers, timeout=30).json()[
            "by_account"
        ]
    )


def test_workers_racing_to_create_a_target_s_short_link_agree_on_one_code(chorus: Chorus) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from chorus.links import store
    from chorus.links.service import new_code
    from chorus.links.store import ShortLink

    ws, _ = chorus.workspace("Race")
    codes = [new_code() for _ in range(6)]

    def create(code: str) -> str | None:
        link = ShortLink(code, ws, "prace", "acct", "sandbox", None, "https://e.example.com/", "https://e.example.com/",
                         0, f"https://go.example.com/l/{code}")  # fmt: skip
        made = store.create(link, datetime.now(UTC))
        return made.code if made else None

    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(create, codes))
    # every worker ends with the one code that was stored; the others' codes lead nowhere
    assert len(set(got)) == 1
    assert got[0] in codes
    assert [code for code in codes if store.resolve(code) is not None] == [got[0]]
    assert [link.code for link in store.short_links_of(ws, "prace", consistent=True)] == [got[0]]


def test_campaign_changes_and_conversions_are_in_the_audit_log(
    chorus: Chorus, launch: dict[str, Any]
) -> None:
    key, campaign = launch["key"], launch["campaign"]
    call(chorus, key, "PATCH", f"/campaigns/{campaign['id']}", 200, json={"description": "the big one"})
    code = launch["links"][launch["accounts"][0]]["code"]
    call(
        chorus,
        key,
        "POST",
        f"/campaigns/{campaign['id']}/conversions",
        201,
        json={"event_id": "o-audit", "code": code},
    )
    entries = call(chorus, key, "GET", "/audit", 200, params={"limit": "100"})["entries"]
    actions = [(e["action"], e["target"], e["outcome"]) for e in entries]
    target = f"campaign:{campaign['id']}"
    assert ("campaign.created", target, "ok") in actions
    assert ("campaign.changed", target, "ok") in actions
    assert ("conversion.recorded", target, "ok") in actions


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/campaigns", b"[]", "body"),
        ("POST", "/campaigns", b"{not json", "body"),
        ("POST", "/campaigns", b'{"name": "x", "starts_on": "2026-12-01", "budget": "lots"}', "budget"),
        ("PUT", "/links/settings", b'{"shorten": "maybe"}', "shorten"),
        ("PATCH", "/links/AAAAAAAAAA", b'{"disabled": "sometimes"}', "disabled"),
        ("GET", "/links/report?from=0001-01-01", b"", "from"),
    ],
)
def test_bodies_and_queries_of_the_wrong_shape_are_a_4xx_naming_the_field(
    chorus: Chorus, launch: dict[str, Any], method: str, path: str, body: bytes, field: str
) -> None:
    answer = chorus.call(
        method, path, launch["key"], data=body or None, headers={"Content-Type": "application/json"}
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == field
