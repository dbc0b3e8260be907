"""Competitors on the embedded runtime, against fake Bluesky, Mastodon, X and YouTube APIs on 127.0.0.1
(the documented shapes of ``publishing/timelines`` and ``metrics``): added through ``POST /competitors``
(resolved by each platform's lookup; a typo is a 422 naming the handle), collected by the scheduled
``CompetitorsFunction`` (paged, cursors kept, nothing stored twice, X and YouTube allowances recorded),
measured in ``GET /reports/benchmark`` in every format, removed with ``DELETE``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.faults.harness import FakePlatform, Reply, Request
from tests.integration.harness import Chorus

NOW = datetime.now(UTC).replace(microsecond=0)
IG_USER = "17841405309211844"  # the workspace's connected Instagram professional account


def ago(**kw: float) -> str:
    return (NOW - timedelta(**kw)).isoformat().replace("+00:00", "Z")


def bsky_post(n: int, created: str, likes: int, embed: dict[str, Any] | None = None) -> dict[str, Any]:
    post: dict[str, Any] = {
        "uri": f"at://did:plc:rival/app.bsky.feed.post/p{n}",
        "cid": f"cid{n}",
        "author": {"did": "did:plc:rival", "handle": "rival.bsky.social"},
        "record": {"$type": "app.bsky.feed.post", "text": f"bluesky post {n}", "createdAt": created},
        "indexedAt": created,
        "likeCount": likes,
        "repostCount": 1,
    }
    if embed:
        post["embed"] = embed
    return post


BSKY_PAGES = {
    None: {
        "feed": [
            {"post": bsky_post(3, ago(hours=2), 9, {"$type": "app.bsky.embed.images#view", "images": []})},
            {
                "post": bsky_post(99, ago(hours=3), 500),
                "reason": {"$type": "app.bsky.feed.defs#reasonRepost"},
            },
            {"post": bsky_post(2, ago(days=2), 3)},
        ],
        "cursor": "page2",
    },
    "page2": {"feed": [{"post": bsky_post(1, ago(days=3), 5, {"$type": "app.bsky.embed.external#view"})}]},
}


def status(n: int, created: str, favourites: int) -> dict[str, Any]:
    return {
        "id": str(1000 + n), "created_at": created, "content": f"<p>toot {n}</p>",
        "url": f"https://masto.example/@rival/{1000 + n}", "replies_count": 0, "reblogs_count": 2,
        "favourites_count": favourites, "media_attachments": [], "card": None, "reblog": None,
        "account": {"id": "77", "acct": "rival"},
    }  # fmt: skip


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatform]:
    made = FakePlatform()

    def profile(req: Request, m: re.Match[str]) -> Any:
        if req.query.get("actor") in ("rival.bsky.social", "did:plc:rival"):
            return {"did": "did:plc:rival", "handle": "rival.bsky.social", "displayName": "Rival",
                    "followersCount": 1500}  # fmt: skip
        return Reply(400, {"error": "InvalidRequest", "message": "Profile not found"})

    made.route("GET", "/xrpc/app.bsky.actor.getProfile", profile)
    made.route("GET", "/xrpc/app.bsky.feed.getAuthorFeed", lambda req, m: BSKY_PAGES[req.query.get("cursor")])
    made.route("GET", "/api/v1/accounts/lookup", lambda req, m: {
        "id": "77", "acct": "rival", "username": "rival", "display_name": "Rival Masto",
        "url": "https://masto.example/@rival", "followers_count": 300})  # fmt: skip

    def statuses(req: Request, m: re.Match[str]) -> Any:
        if req.query.get("max_id"):
            return []
        link = f'<{made.url}/api/v1/accounts/77/statuses?max_id=1001>; rel="next"'
        return Reply(200, [status(2, ago(hours=5), 4), status(1, ago(days=1), 6)], {"Link": link})

    made.route("GET", "/api/v1/accounts/77/statuses", statuses)

    def x_user(req: Request, m: re.Match[str]) -> Any:
        assert req.headers["Authorization"] == "Bearer x-app-token"
        return {"data": {"id": "4242", "name": "Rival X", "username": "rivalx",
                         "public_metrics": {"followers_count": 800}}}  # fmt: skip

    def tweet(n: int, created: str, likes: int) -> dict[str, Any]:
        return {"id": str(9000 + n), "text": f"tweet {n}", "created_at": created,
                "public_metrics": {"like_count": likes, "retweet_count": 1, "reply_count": 0, "quote_count": 0}}  # fmt: skip

    def tweets(req: Request, m: re.Match[str]) -> Any:
        if req.query.get("pagination_token") == "n2":
            return {"data": [tweet(1, ago(days=4), 2)], "meta": {"result_count": 1}}
        return {"data": [tweet(3, ago(hours=1), 10), tweet(2, ago(days=2), 4)],
                "meta": {"result_count": 2, "next_token": "n2"}}  # fmt: skip

    made.route("GET", "/2/users/by/username/rivalx", x_user)
    made.route("GET", "/2/users/4242/tweets", tweets)
    made.route("GET", "/youtube/v3/channels", lambda req, m: {"items": [{
        "id": "UCrival0000000000000000", "snippet": {"title": "Rival TV", "customUrl": "@rivaltv"},
        "contentDetails": {"relatedPlaylists": {"uploads": "UUrival"}},
        "statistics": {"subscriberCount": "2000", "hiddenSubscriberCount": False}}]})  # fmt: skip
    made.route("GET", "/youtube/v3/playlistItems", lambda req, m: {"items": [
        {"contentDetails": {"videoId": "vid1"}}]})  # fmt: skip
    made.route("GET", "/youtube/v3/videos", lambda req, m: {"items": [{
        "id": "vid1", "snippet": {"publishedAt": ago(days=1), "title": "Rival video"},
        "statistics": {"viewCount": "700", "likeCount": "30", "commentCount": "5"}}]})  # fmt: skip

    def discovery(req: Request, m: re.Match[str]) -> Any:
        fields = req.query.get("fields", "")
        # only business discovery of bluebottle, with the connected account's (decrypted) token, is answered;
        # anything else (what other functions may ask about the connected account) is a Graph refusal
        if req.headers["Authorization"] != "Bearer ig-token" or not fields.startswith(
            "business_discovery.username(bluebottle){"
        ):
            return Reply(
                400,
                {"error": {"message": "Unsupported request", "type": "GraphMethodException", "code": 100}},
            )
        found: dict[str, Any] = {"id": "17841401441775531"}
        if "{media." in fields:
            found["media"] = {"data": [
                {"id": "m2", "like_count": 40, "comments_count": 4, "media_type": "VIDEO",
                 "timestamp": ago(hours=6).replace("Z", "+0000"), "permalink": "https://www.instagram.com/p/m2/"},
                {"id": "m1", "like_count": 10, "comments_count": 2, "media_type": "CAROUSEL_ALBUM",
                 "timestamp": ago(days=2).replace("Z", "+0000"), "permalink": "https://www.instagram.com/p/m1/"}],
                "paging": {"cursors": {"after": "QVFI"}}}  # fmt: skip
        else:
            found.update(username="bluebottle", name="Blue Bottle", followers_count=267788)
        return {"business_discovery": found, "id": IG_USER}

    made.route("GET", f"/v21.0/{IG_USER}", discovery)
    yield made
    made.stop()


@pytest.fixture(scope="module")
def chorus(fake: FakePlatform) -> Iterator[Chorus]:
    c = Chorus(extra_env={
        "CHORUS_COMPETITORS_BLUESKY_URL": fake.url,
        "CHORUS_COMPETITORS_X_URL": fake.url,
        "CHORUS_COMPETITORS_X_BEARER": "x-app-token",
        "CHORUS_COMPETITORS_YOUTUBE_URL": fake.url,
        "CHORUS_COMPETITORS_YOUTUBE_KEY": "yt-key",
        "CHORUS_FACEBOOK_GRAPH_URL": f"{fake.url}/v21.0",
    })  # fmt: skip
    yield c
    c.close()


def test_competitors_are_resolved_collected_once_and_benchmarked_in_every_format(
    chorus: Chorus, fake: FakePlatform
) -> None:
    _, key = chorus.workspace("Benchmarked")
    host = fake.url.removeprefix("http://")
    added = {}
    for platform, handle in (("bluesky", "https://bsky.app/profile/rival.bsky.social"),
                             ("mastodon", f"@rival@{host}"), ("x", "@rivalx"), ("youtube", "rivaltv")):  # fmt: skip
        answer = chorus.call("POST", "/competitors", key, json={"platform": platform, "handle": handle})
        assert answer.status_code == 201, answer.text
        added[platform] = answer.json()
    # Then each is resolved to the platform's id at add time
    assert {p: a["platform_id"] for p, a in added.items()} == {
        "bluesky": "did:plc:rival", "mastodon": "77", "x": "4242", "youtube": "UCrival0000000000000000"}  # fmt: skip
    assert added["mastodon"]["handle"] == f"rival@{host}"
    # When the schedule collects twice
    first = chorus.rt.tick("CompetitorsFunction")
    second = chorus.rt.tick("CompetitorsFunction")
    # Then every public post is stored once (the Bluesky repost is not the competitor's post)
    assert (first["competitors"], first["new_posts"], first["errors"]) == (4, 3 + 2 + 3 + 1, 0)
    assert first["follower_points"] == 4
    assert (second["new_posts"], second["follower_points"], second["errors"]) == (0, 0, 0)
    # And the X and YouTube allowances spent are recorded: X, 1 request to add + (1 lookup + 2 pages)
    # + 2 pages read again; YouTube, 1 unit to add + (1 + 2) + 2
    listed = chorus.call("GET", "/competitors", key).json()
    assert len(listed["competitors"]) == 4
    assert listed["next_cursor"] is None
    first_two = chorus.call("GET", "/competitors", key, params={"limit": "2"}).json()
    rest = chorus.call("GET", "/competitors", key, params={"cursor": first_two["next_cursor"]}).json()
    assert len(first_two["competitors"]) == len(rest["competitors"]) == 2
    assert {c["id"] for c in first_two["competitors"] + rest["competitors"]} == {
        a["id"] for a in added.values()
    }
    assert listed["quota"]["x"]["spent_today"] == 6
    assert listed["quota"]["youtube"]["spent_today"] == 6
    assert listed["quota"]["youtube"]["daily_allowance"] == 2000
    # When the benchmark is asked for the last 10 days
    today = NOW.date()
    params = {"from": (today - timedelta(days=10)).isoformat(), "to": today.isoformat()}
    bench = chorus.call("GET", "/reports/benchmark", key, params={**params, "format": "json"})
    assert bench.status_code == 200, bench.text
    by = {a["platform"]: a for a in bench.json()["accounts"] if a["role"] == "competitor"}
    # Bluesky by hand: engagements 9+1, 3+1, 5+1 -> 10, 4, 6: median 6; mean 20/3 over 1,500 followers
    assert (by["bluesky"]["posts"], by["bluesky"]["median_engagement"]) == (3, 6)
    assert by["bluesky"]["engagement_rate"] == pytest.approx(20 / 3 / 1500)
    assert by["bluesky"]["content_mix"] == {"text": 1, "image": 1, "video": 0, "link": 1, "unknown": 0}
    assert by["bluesky"]["followers_end"] == 1500
    # X: 11, 5, 3 -> median 5; Mastodon: 6, 8 -> 7; YouTube: 30 likes + 5 comments -> 35, a video
    assert (by["x"]["median_engagement"], by["mastodon"]["median_engagement"]) == (5, 7)
    assert (by["youtube"]["median_engagement"], by["youtube"]["content_mix"]["video"]) == (35, 1)
    for fmt, kind in (("csv", "text/csv"), ("html", "text/html"), ("pdf", "application/pdf")):
        answer = chorus.call("GET", "/reports/benchmark", key, params={**params, "format": fmt})
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"].startswith(kind)
        assert "Rival" in answer.text if fmt != "pdf" else answer.content.startswith(b"%PDF-")
    # And removing one forgets it
    gone = chorus.call("DELETE", f"/competitors/{added['x']['id']}", key)
    assert gone.status_code == 204
    assert chorus.call("GET", f"/competitors/{added['x']['id']}", key).status_code == 404
    assert (
        chorus.call("GET", f"/competitors/{added['bluesky']['id']}", key).json()["handle"]
        == "rival.bsky.social"
    )


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ({"platform": "bluesky", "handle": "nobody.bsky.social"}, "handle", 422),
        ({"platform": "myspace", "handle": "rival"}, "platform", 422),
        ({"platform": "mastodon", "handle": "rival"}, "handle", 422),
        ({"platform": "bluesky"}, "handle", 422),
        ({"platform": "x", "handle": "https://x.com/"}, "handle", 422),
    ],
)
def test_bad_competitors_are_refused_naming_the_field(
    chorus: Chorus, payload: dict[str, str], field: str, status: int
) -> None:
    _, key = chorus.workspace("Typos")
    answer = chorus.call("POST", "/competitors", key, json=payload)
    assert answer.status_code == status, answer.text
    assert answer.json()["errors"][0]["field"] == field


def test_a_competitor_added_twice_is_a_conflict_and_bad_report_queries_name_the_field(chorus: Chorus) -> None:
    _, key = chorus.workspace("Twice")
    one = {"platform": "bluesky", "handle": "rival.bsky.social"}
    assert chorus.call("POST", "/competitors", key, json=one).status_code == 201
    assert chorus.call("POST", "/competitors", key, json=one).status_code == 409
    logged = chorus.call("GET", "/audit", key, params={"action": "competitor."}).json()["entries"]
    assert [(e["action"], e["outcome"]) for e in logged] == [
        ("competitor.added", "refused"),
        ("competitor.added", "ok"),
    ]
    assert logged[1]["target"].startswith("competitor:cmp")
    bad_format = chorus.call("GET", "/reports/benchmark", key, params={"format": "docx"})
    assert (bad_format.status_code, bad_format.json()["errors"][0]["field"]) == (422, "format")
    backwards = chorus.call(
        "GET", "/reports/benchmark", key, params={"from": "2026-11-10", "to": "2026-11-01"}
    )
    assert (backwards.status_code, backwards.json()["errors"][0]["field"]) == (422, "to")


def test_an_instagram_competitor_is_read_through_the_connected_account_and_resolved_by_the_collector(
    chorus: Chorus,
) -> None:
    from chorus.accounts import service as accounts
    from chorus.accounts.tokens import TokenSet

    ws, key = chorus.workspace("Instagram")
    wanted = {"platform": "instagram", "handle": "https://www.instagram.com/bluebottle/"}
    # Without a connected Instagram account there is nothing to look through
    refused = chorus.call("POST", "/competitors", key, json=wanted)
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "platform"), refused.text
    ours = accounts.connect_account(
        ws, "instagram", IG_USER, TokenSet(access_token="ig-token"), handle="acme_cafe"
    )
    unknown = chorus.call("POST", "/competitors", key, json={**wanted, "via_account": "acc-nope"})
    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "via_account")
    # With one, the competitor is kept, to be resolved where tokens can be decrypted
    added = chorus.call("POST", "/competitors", key, json=wanted)
    assert added.status_code == 201, added.text
    made = added.json()
    assert (made["handle"], made["resolved"], made["platform_id"], made["via_account"]) == (
        "bluebottle", False, None, ours.id)  # fmt: skip
    # When the schedule runs, business discovery resolves it and reads its media
    chorus.rt.tick("CompetitorsFunction")
    seen = chorus.call("GET", f"/competitors/{made['id']}", key).json()
    assert (seen["resolved"], seen["platform_id"], seen["display_name"]) == (
        True,
        "17841401441775531",
        "Blue Bottle",
    )
    today = NOW.date()
    params = {"from": (today - timedelta(days=10)).isoformat(), "to": today.isoformat(), "format": "json"}
    (insta,) = [a for a in chorus.call("GET", "/reports/benchmark", key, params=params).json()["accounts"]
                if a["platform"] == "instagram" and a["role"] == "competitor"]  # fmt: skip
    # by hand: 40 + 4 = 44 and 10 + 2 = 12 -> median 28; a video and a carousel (images)
    assert (insta["posts"], insta["median_engagement"], insta["followers_end"]) == (2, 28, 267788)
    assert (insta["content_mix"]["video"], insta["content_mix"]["image"]) == (1, 1)
    # (the account exists only for discovery here: disconnected, so the metrics schedule of later tests
    # does not collect it from the fake Graph API)
    accounts.remove_account(ws, ours.id)


def test_the_workspace_s_own_accounts_stand_beside_the_competitors_from_the_metrics(chorus: Chorus) -> None:
    from tests.integration.harness import eventually

    ws, key = chorus.workspace("Own and theirs")
    handle = f"own-{ws}"
    account = chorus.sandbox_account(key, handle)
    chorus.set_followers(handle, 100)
    published = []
    for text in ("Our launch", "A quiet one"):
        made = chorus.call("POST", "/posts", key, json={"text": text, "accounts": [account], "mode": "now"})
        assert made.status_code == 201, made.text

        def done(post_id: str = made.json()["id"]) -> str | None:
            target = chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0]
            return str(target["platform_post_id"]) if target["state"] == "published" else None

        published.append(eventually(done, timeout=30))
    assert chorus.rt.wait_idle(timeout=30)
    chorus.engage(published[0], impressions=200, likes=10, comments=2, shares=3)
    chorus.engage(published[1], impressions=100, likes=1)
    chorus.tick_at("MetricsFanoutFunction", datetime.now(UTC) + timedelta(minutes=61))
    assert chorus.rt.wait_idle(timeout=30)
    today = NOW.date()
    params = {"from": (today - timedelta(days=3)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    chorus.sandbox_account(key, f"other-{ws}")  # a second account: both stand in the benchmark
    everyone = chorus.call("GET", "/reports/benchmark", key, params=params).json()
    assert len([a for a in everyone["accounts"] if a["role"] == "own"]) == 2
    # ?accounts= keeps the named ones (a member limited to some accounts gets only theirs)
    body = chorus.call("GET", "/reports/benchmark", key, params={**params, "accounts": account}).json()
    (own,) = [a for a in body["accounts"] if a["role"] == "own"]
    # by hand: 10 + 2 + 3 = 15 and 1 -> median 8, mean 8 over 100 followers
    assert (own["platform"], own["posts"], own["median_engagement"], own["followers_end"]) == (
        "sandbox",
        2,
        8,
        100,
    )
    assert own["engagement_rate"] == pytest.approx(0.08)
    assert own["content_mix"]["unknown"] == 2
    stranger = chorus.call("GET", "/reports/benchmark", key, params={**params, "accounts": "acc-nope"})
    assert (stranger.status_code, stranger.json()["errors"][0]["field"]) == (422, "accounts")
