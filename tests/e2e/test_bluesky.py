"""Chorus against a real Bluesky network on loopback (PLC + PDS + AppView from @atproto/dev-env).

The brand's account and the fans' accounts are real accounts on the local PDS; the brand is connected
to a workspace with its handle and an app password, as a user does. The scenarios run in order and
build on each other (the post of scenario 1 is replied to, liked and reposted later).
"""

from __future__ import annotations

import struct
import time
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.e2e.atproto import Actor, Network
from tests.e2e.proxy import LossyProxy
from tests.integration.harness import Chorus, eventually
from tests.integration.test_inbox import Listener

LINK = "https://example.com/launch?ref=chorus"


def post(chorus: Chorus, key: str, **body: Any) -> dict[str, Any]:
    answer = chorus.call("POST", "/posts", key, json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def target_of(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    return dict(chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0])


def settled(chorus: Chorus, key: str, post_id: str, timeout: float = 40) -> dict[str, Any]:
    return eventually(
        lambda: (t := target_of(chorus, key, post_id))["state"] in {"published", "failed"} and t,
        timeout=timeout,
    )


def conversations(chorus: Chorus, key: str) -> list[dict[str, Any]]:
    answer = chorus.call("GET", "/inbox", key, params={"platform": "bluesky"})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["conversations"])


def thread_of(chorus: Chorus, key: str, conversation_id: str) -> dict[str, Any]:
    return dict(chorus.call("GET", f"/inbox/{conversation_id}", key).json())


def span(text: str, facet: dict[str, Any]) -> str:
    """The text a facet covers, cut from the UTF-8 bytes exactly as a Bluesky client does."""
    index = facet["index"]
    return text.encode("utf-8")[index["byteStart"] : index["byteEnd"]].decode("utf-8")


def visible_in_appview(network: Network, uri: str) -> dict[str, Any]:
    return eventually(lambda: network.appview_post(uri), timeout=20)


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([200, 30, 60]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# ------------------------------------------------------------------------------------------- scenario 1
def test_scenario_1_a_scheduled_multilingual_post_appears_once_on_time_with_exact_facets(
    chorus: Chorus,
    network: Network,
    brand: dict[str, Any],
    fans: list[Actor],
    published: dict[str, Any],
    measure: Any,
) -> None:
    key, actor = brand["key"], brand["actor"]
    fan = fans[0]
    text = f"新品发布 🎉 快来看看 {LINK} 谢谢 @{fan.handle} 的支持 #新品上市 !"
    before = len(network.posts_of(actor.did))
    # Given a post with Chinese text, an emoji, a link, a mention and a hashtag scheduled 10 s ahead
    due = (datetime.now(UTC) + timedelta(seconds=10)).replace(microsecond=0)
    created = post(chorus, key, text=text, accounts=[brand["account"]], scheduled_at=due.isoformat())

    # When the due time comes, watch the PDS itself for the record
    def on_pds() -> tuple[float, list[dict[str, Any]]] | None:
        records = network.posts_of(actor.did)
        return (time.time(), records) if len(records) > before else None

    seen_at, records = eventually(on_pds, timeout=40, every=0.05)
    target = settled(chorus, key, created["id"])

    # Then it is published, on time, once
    assert target["state"] == "published", target
    lag = seen_at - due.timestamp()
    assert -0.5 <= lag <= 2.0, f"published {lag:.2f} s after the due time"
    chorus.rt.wait_idle(10)
    assert len(network.posts_of(actor.did)) == before + 1
    record = network.get_record(target["platform_post_id"])
    assert record["uri"] == records[0]["uri"]
    value = record["value"]
    # (the link went out as the post's short link, which leads to the link tagged for Bluesky)
    (link,) = chorus.call("GET", f"/posts/{created['id']}/links", key).json()["links"]
    assert link["destination"].startswith(f"{LINK}&utm_source=bluesky&utm_medium=social")
    short = link["short_url"]
    sent = text.replace(LINK, short)
    assert value["text"] == sent
    # And every facet covers exactly its bytes
    by_kind = {f["features"][0]["$type"].rsplit("#", 1)[1]: f for f in value["facets"]}
    assert span(sent, by_kind["link"]) == short
    assert by_kind["link"]["features"][0]["uri"] == short
    assert span(sent, by_kind["mention"]) == f"@{fan.handle}"
    assert by_kind["mention"]["features"][0]["did"] == fan.did
    assert span(sent, by_kind["tag"]) == "#新品上市"
    assert by_kind["tag"]["features"][0]["tag"] == "新品上市"
    assert len(value["facets"]) == 3
    # And the AppView indexed it as a post by the brand
    view = visible_in_appview(network, target["platform_post_id"])
    assert view["author"]["did"] == actor.did
    measure("publish lag (due time -> record on the PDS)", f"{lag * 1000:.0f} ms")
    published.update(uri=target["platform_post_id"], cid=record["cid"], post_id=created["id"], text=sent)


def test_scenario_1b_a_301_grapheme_post_is_refused_before_it_reaches_the_network(
    chorus: Chorus, network: Network, brand: dict[str, Any]
) -> None:
    before = len(network.posts_of(brand["actor"].did))
    # Given 301 graphemes, each an emoji with a skin tone (two code points, eight UTF-8 bytes)
    text = "👍🏽" * 301
    # When it is posted now
    answer = chorus.call(
        "POST", "/posts", brand["key"], json={"text": text, "accounts": [brand["account"]], "mode": "now"}
    )
    # Then Chorus refuses it, naming the limit, and nothing reaches the PDS
    assert answer.status_code in (400, 422), answer.text
    assert "300" in answer.text
    errors = answer.json()["errors"]
    assert [e["rule"] for e in errors] == ["text.too_long"], answer.text
    assert "Bluesky allows 300 graphemes; this has 301" in errors[0]["message"]
    chorus.rt.wait_idle(5)
    assert len(network.posts_of(brand["actor"].did)) == before
    # While 300 of them are accepted
    fits = chorus.call(
        "POST",
        "/posts",
        brand["key"],
        json={"text": "👍🏽" * 300, "accounts": [brand["account"]], "mode": "draft"},
    )
    assert fits.status_code == 201, fits.text


# ------------------------------------------------------------------------------------------- scenario 2
def test_scenario_2_a_reply_and_a_mention_reach_the_inbox_once_each_threaded_and_live(
    chorus: Chorus,
    network: Network,
    brand: dict[str, Any],
    fans: list[Actor],
    published: dict[str, Any],
    measure: Any,
) -> None:
    key, actor = brand["key"], brand["actor"]
    fan = fans[1]
    browser = Listener(chorus, key)
    try:
        # Given the brand's post is visible on the network
        visible_in_appview(network, published["uri"])
        # When a second account replies to it and, separately, mentions the brand
        written = time.time()
        reply = network.reply(fan, "这个多少钱？ How much is it?", published["uri"])
        mention = network.mention_post(
            fan, f"Loving the new range from @{actor.handle} 😍", actor.handle, actor.did
        )

        def notified() -> float | None:
            notes = network.query("app.bsky.notification.listNotifications", actor)["notifications"]
            uris = {n["uri"] for n in notes}
            return time.time() if {reply["uri"], mention["uri"]} <= uris else None

        indexed_at = eventually(notified, timeout=20, every=0.05)
        # And the poller runs
        polled = time.monotonic()
        chorus.rt.tick("PollerFunction")
        pushes = eventually(
            lambda: len(browser.updates) >= 2 and list(browser.updates), timeout=20, every=0.01
        )
        live = time.monotonic() - polled
        chorus.rt.wait_idle(10)
        # And runs again with nothing new
        chorus.rt.tick("PollerFunction")
        chorus.rt.wait_idle(10)

        # Then each is in the inbox once
        convs = conversations(chorus, key)
        messages = {
            m["platform_message_id"]: (c, m)
            for c in convs
            for m in thread_of(chorus, key, c["id"])["messages"]
        }
        assert set(messages) == {reply["uri"], mention["uri"]}
        assert sum(len(thread_of(chorus, key, c["id"])["messages"]) for c in convs) == 2
        # And the reply is threaded under the brand's post, the mention stands alone
        reply_conv, reply_msg = messages[reply["uri"]]
        assert reply_conv["post_ref"] == published["uri"]
        assert reply_conv["conversation_ref"] == published["uri"]
        assert reply_msg["parent_ref"] == published["uri"]
        assert reply_msg["text"] == "这个多少钱？ How much is it?"
        mention_conv, mention_msg = messages[mention["uri"]]
        assert mention_conv["id"] != reply_conv["id"]
        assert mention_msg["kind"] == "mention"
        # And the browser saw both arrive, once each
        pushed = [p["message"]["platform_message_id"] for p in pushes]
        assert sorted(pushed) == sorted([reply["uri"], mention["uri"]])
        assert len(browser.updates) == 2
        brand["reply_conversation"] = reply_conv["id"]
        brand["fan_reply"] = reply
        measure("reply written -> in listNotifications (AppView)", f"{(indexed_at - written) * 1000:.0f} ms")
        measure("poll tick -> both pushed to the browser (WebSocket)", f"{live * 1000:.0f} ms")
    finally:
        browser.close()


# ------------------------------------------------------------------------------------------- scenario 3
def test_scenario_3_a_reply_from_the_inbox_appears_in_the_thread_once_even_when_retried(
    chorus: Chorus,
    network: Network,
    brand: dict[str, Any],
    published: dict[str, Any],
    pds_proxy: LossyProxy,
    measure: Any,
) -> None:
    key, conversation = brand["key"], brand["reply_conversation"]
    fan_reply = brand["fan_reply"]
    # Given the PDS creates the reply but its answer is lost on the way back (the worker must retry)
    pds_proxy.lose_answers("com.atproto.repo.createRecord", times=1)
    creates_before = pds_proxy.calls("com.atproto.repo.createRecord")
    # When an agent replies from the inbox
    began = time.monotonic()
    created = chorus.call(
        "POST", f"/inbox/{conversation}/reply", key, json={"text": "¥99，谢谢！ Thanks for asking"}
    )
    assert created.status_code == 202, created.text
    reply_id = created.json()["id"]

    def sent() -> dict[str, Any] | None:
        found = [r for r in thread_of(chorus, key, conversation)["replies"] if r["id"] == reply_id]
        return found[0] if found and found[0]["state"] in {"sent", "failed"} else None

    reply = eventually(sent, timeout=60)
    took = time.monotonic() - began
    chorus.rt.wait_idle(10)
    # Then the reply was sent after the worker tried again
    assert reply["state"] == "sent", reply
    # (the answer was lost, and the worker verified on the network instead of creating it again)
    assert pds_proxy.answers_still_to_lose("com.atproto.repo.createRecord") == 0
    assert pds_proxy.calls("com.atproto.repo.createRecord") - creates_before == 1
    # And the network has it once, in the thread, under the fan's reply
    ours = [
        r
        for r in network.posts_of(brand["actor"].did)
        if r["value"].get("reply", {}).get("parent", {}).get("uri") == fan_reply["uri"]
    ]
    assert len(ours) == 1, ours
    assert ours[0]["value"]["reply"]["root"]["uri"] == published["uri"]
    assert ours[0]["value"]["text"] == "¥99，谢谢！ Thanks for asking"

    def in_thread() -> list[dict[str, Any]] | None:
        replies = network.thread_replies(fan_reply["uri"])
        return replies or None

    thread = eventually(in_thread, timeout=20)
    assert [p["uri"] for p in thread] == [ours[0]["uri"]]
    # And the inbox thread shows it as ours, once
    directions = [m["direction"] for m in thread_of(chorus, key, conversation)["messages"]]
    assert directions.count("out") == 1
    measure("inbox reply with one lost answer -> sent", f"{took:.1f} s")


# ------------------------------------------------------------------------------------------- scenario 4
def test_scenario_4_likes_and_reposts_are_collected_from_the_appview_into_the_report(
    chorus: Chorus, network: Network, brand: dict[str, Any], fans: list[Actor], published: dict[str, Any]
) -> None:
    key = brand["key"]
    subject = {"uri": published["uri"], "cid": published["cid"]}
    # Given three accounts follow the brand, all three like the post and two repost it
    for fan in fans:
        network.follow(fan, brand["actor"].did)
        network.like(fan, subject)
    for fan in fans[:2]:
        network.repost(fan, subject)
    eventually(
        lambda: (
            (v := network.appview_post(published["uri"]))
            and v.get("likeCount") == 3
            and v.get("repostCount") == 2
        ),
        timeout=20,
    )
    eventually(
        lambda: (
            network.appview_query("app.bsky.actor.getProfile", actor=brand["actor"].did).get("followersCount")
            == 3
        ),
        timeout=20,
    )
    # When the metrics collector runs
    chorus.tick_at("MetricsFanoutFunction", datetime.now(UTC) + timedelta(minutes=61))
    assert chorus.rt.wait_idle(timeout=30)
    # Then the report shows the counts the AppView serves
    today = datetime.now(UTC).date()
    answer = chorus.call(
        "GET",
        "/reports",
        key,
        params={"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat(), "format": "json"},
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    import json

    dump = json.dumps({k: report[k] for k in ("overall", "followers", "top_posts")}, ensure_ascii=False)
    top = [p for p in report["top_posts"] if p["post_id"] == published["post_id"]]
    assert len(top) == 1, dump
    # likes 3 + reposts 2 + 1 direct reply (the fan's; ours answers the fan) = 6, as the AppView counts
    assert top[0]["engagements"] == 6, dump
    assert top[0]["engagement_rate"] == 2.0, dump  # over the 3 followers: Bluesky has no impressions
    assert report["overall"]["engagements"]["current"] == 6, dump
    assert report["followers"]["total"]["current"] == 3, dump


# ------------------------------------------------------------------------------------------- scenario 5
def test_scenario_5_an_image_uploaded_through_chorus_appears_as_an_embed(
    chorus: Chorus, network: Network, brand: dict[str, Any]
) -> None:
    key = brand["key"]
    image = tiny_png()
    # Given an image uploaded through Chorus's media upload
    upload = chorus.call(
        "POST", "/media", key, json={"filename": "launch.png", "mime_type": "image/png", "size": len(image)}
    )
    assert upload.status_code == 201, upload.text
    put = requests.put(
        upload.json()["upload_url"], data=image, headers={"Content-Type": "image/png"}, timeout=10
    )
    assert put.status_code == 200, put.text
    # When a post with it is published now
    created = post(
        chorus,
        key,
        text="看图 📷",
        mode="now",
        accounts=[brand["account"]],
        media=[
            {
                "mime_type": "image/png",
                "key": upload.json()["key"],
                "alt_text": "our launch",
                "size": len(image),
            }
        ],
    )
    target = settled(chorus, key, created["id"])
    assert target["state"] == "published", target
    # Then the record embeds the uploaded blob with its alt text
    record = network.get_record(target["platform_post_id"])["value"]
    embed = record["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert embed["images"][0]["alt"] == "our launch"
    assert embed["images"][0]["image"]["mimeType"] == "image/png"
    assert embed["images"][0]["image"]["size"] == len(image)
    # And the PDS serves the very bytes that were uploaded
    cid = embed["images"][0]["image"]["ref"]["$link"]
    blob = requests.get(
        network.pds + "/xrpc/com.atproto.sync.getBlob",
        params={"did": brand["actor"].did, "cid": cid},
        timeout=10,
    )
    assert blob.content == image
    # And the AppView shows it as an image embed
    view = visible_in_appview(network, target["platform_post_id"])
    assert view["embed"]["$type"] == "app.bsky.embed.images#view"


# ------------------------------------------------------------------------------------------ scenario 6a
def test_scenario_6a_an_expired_session_is_renewed_and_polling_and_collection_go_on(
    chorus: Chorus, network: Network, brand: dict[str, Any], fans: list[Actor]
) -> None:
    key, actor = brand["key"], brand["actor"]
    # Given the access token Chorus stored has expired (the refresh token and app password still work)
    expire_stored_access_token(brand["account"], brand["ws"])
    # And a fan mentions the brand
    mention = network.mention_post(fans[0], f"Hello again @{actor.handle}", actor.handle, actor.did)
    eventually(
        lambda: any(
            n["uri"] == mention["uri"]
            for n in network.query("app.bsky.notification.listNotifications", actor)["notifications"]
        ),
        timeout=20,
    )
    # When the poller and the metrics collector run
    chorus.rt.tick("PollerFunction")
    chorus.rt.wait_idle(10)
    chorus.tick_at("MetricsFanoutFunction", datetime.now(UTC) + timedelta(hours=3))
    chorus.rt.wait_idle(30)
    # Then the account is still active and the mention is in the inbox
    account = chorus.call("GET", f"/accounts/{brand['account']}", key).json()
    assert account["status"] == "active", account
    assert mention["uri"] in inbox_message_ids(chorus, key)


# ------------------------------------------------------------------------------------------- scenario 6
def test_scenario_6_a_revoked_app_password_marks_the_account_and_nothing_is_lost(
    chorus: Chorus, network: Network, brand: dict[str, Any], fans: list[Actor], pds_proxy: LossyProxy
) -> None:
    key, actor = brand["key"], brand["actor"]
    account_id = brand["account"]
    # Given the app password is revoked and the session Chorus holds has expired
    network.revoke_app_password(actor, "chorus")
    expire_stored_session(account_id, brand["ws"])
    # When a post is published now
    created = post(chorus, key, text="After the password was revoked", accounts=[account_id], mode="now")
    target = settled(chorus, key, created["id"])
    # Then it fails with the platform's reason and the account is marked for re-authorisation
    assert target["state"] == "failed", target
    account = chorus.call("GET", f"/accounts/{account_id}", key).json()
    assert account["status"] == "needs_reauth", account
    # And while it waits, a fan mentions the brand
    fan = fans[2]
    mention = network.mention_post(fan, f"Anyone at @{actor.handle}?", actor.handle, actor.did)
    eventually(
        lambda: any(
            n["uri"] == mention["uri"]
            for n in network.query("app.bsky.notification.listNotifications", actor)["notifications"]
        ),
        timeout=20,
    )
    chorus.rt.tick("PollerFunction")
    chorus.rt.wait_idle(10)
    assert mention["uri"] not in inbox_message_ids(chorus, key)
    # When the owner connects the account again with a new app password
    fresh = network.create_app_password(actor, "chorus-2")
    again = chorus.call(
        "POST",
        "/accounts",
        key,
        json={
            "platform": "bluesky",
            "handle": actor.handle,
            "app_password": fresh,
            "base_url": pds_proxy.url,
        },
    )
    assert again.status_code == 201, again.text
    # Then it is the same account, active again
    assert again.json()["id"] == account_id
    assert again.json()["status"] == "active"
    # And the mention that came in meanwhile reaches the inbox
    chorus.rt.tick("PollerFunction")
    eventually(lambda: mention["uri"] in inbox_message_ids(chorus, key), timeout=20)
    # And the failed post is kept with its reason, and goes out once when published again
    kept = target_of(chorus, key, created["id"])
    assert kept["state"] == "failed"
    assert kept["error"]
    again_post = post(chorus, key, text="After the password was revoked", accounts=[account_id], mode="now")
    assert settled(chorus, key, again_post["id"])["state"] == "published"
    chorus.rt.wait_idle(10)
    texts = [r["value"]["text"] for r in network.posts_of(actor.did)]
    assert texts.count("After the password was revoked") == 1


def inbox_message_ids(chorus: Chorus, key: str) -> set[str]:
    return {
        m["platform_message_id"]
        for c in conversations(chorus, key)
        for m in thread_of(chorus, key, c["id"])["messages"]
    }


def expire_stored_session(account_id: str, workspace_id: str) -> None:
    """Make the tokens Chorus stored for the account unusable, as two hours of waiting would, and drop
    the session the adapters keep in memory."""
    from chorus.accounts import service as accounts
    from chorus.accounts.tokens import TokenSet
    from chorus.platforms import registry

    account = accounts.get_account(workspace_id, account_id)
    accounts.store_tokens(account, TokenSet("expired.access.jwt", "expired.refresh.jwt", None))
    registry.reset()


def expire_stored_access_token(account_id: str, workspace_id: str) -> None:
    """Two hours later: the stored access token has expired (here: replaced by an unusable one whose
    recorded expiry has passed); the refresh token is the real one."""
    from chorus.accounts import service as accounts
    from chorus.accounts.tokens import TokenSet
    from chorus.platforms import registry

    account = accounts.get_account(workspace_id, account_id)
    held = accounts.credentials(account)
    gone = datetime.now(UTC) - timedelta(minutes=1)
    accounts.store_tokens(account, TokenSet("expired.access.jwt", held.refresh_token, gone))
    registry.reset()
