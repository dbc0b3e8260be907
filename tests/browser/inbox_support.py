"""What the inbox page's browser tests, its screenshots and its benchmark share: a workspace's Facebook
Page connected, signed Meta comment webhooks for it, sandbox comments polled into the inbox."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from typing import Any

import requests

from tests.integration.harness import Chorus, eventually
from tests.support import fixture_json

META_SECRET = "heldout-meta-app-secret"  # the secret the fixtures' signature vectors use
META_PARAMETERS = {"MetaAppSecret": META_SECRET, "MetaVerifyToken": "verify-me"}
COMMENT = "webhooks/meta/page_feed_comment_add.json"


def connect_page(
    workspace_id: str, page_id: str, handle: str = "acme-page", platform: str = "facebook"
) -> str:
    """A Facebook Page (or another Meta account) of the workspace, stored as a connection the platform
    proved (the proof itself is tested in tests/contract/test_ownership.py)."""
    from chorus.accounts.service import connect_or_reconnect
    from chorus.accounts.tokens import TokenSet

    return connect_or_reconnect(
        workspace_id, platform, page_id, TokenSet(f"token-of-{page_id}"), handle=handle
    ).id


def meta_comment(
    page_id: str, n: int, text: str, author: str = "Dana Fan", thread: int | None = None
) -> bytes:
    """A Meta ``feed`` webhook: comment ``n`` on one of the Page's posts by ``author`` (with ``thread``:
    a reply to comment ``thread``, in its conversation)."""
    data = copy.deepcopy(fixture_json(COMMENT))
    entry = data["entry"][0]
    entry["id"] = page_id
    value = entry["changes"][0]["value"]
    post_n = 700000000000000 + (n if thread is None else thread) % 7
    post = f"{page_id}_{post_n}"
    value.update(
        comment_id=f"{post_n}_{600000000000000 + n}",
        post_id=post,
        parent_id=post if thread is None else f"{post_n}_{600000000000000 + thread}",
        created_time=int(time.time()),
        message=text,
    )
    value["from"] = {"id": f"fan{n}", "name": author}
    return json.dumps(data).encode()


def post_meta(chorus: Chorus, body: bytes) -> requests.Response:
    """The webhook POSTed to the API as Meta signs it (``X-Hub-Signature-256``)."""
    signature = "sha256=" + hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    answer = chorus.http.post(chorus.rt.api_url + "/webhooks/meta", data=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer


def wait_polled(account_id: str) -> None:
    """Until the table's stream has put the sandbox account in the poller's index."""
    from chorus.inbox.poller import tracked

    eventually(lambda: any(t.account_id == account_id for t in tracked(["sandbox"])), timeout=30)


def sandbox_comment(chorus: Chorus, handle: str, text: str, author: str, post_id: str = "p-1") -> None:
    """A comment on the sandbox account ``handle``'s post, then one poll (the poller runs every minute in
    AWS; the tests' clock is manual)."""
    note = {"account": handle, "type": "comment", "text": text, "post_id": post_id,
            "author": {"id": author.lower().replace(" ", "-"), "name": author}}  # fmt: skip
    requests.post(chorus.sandbox.url + "/_control/notify", json=note, timeout=5).raise_for_status()
    chorus.rt.tick("PollerFunction")


def conversations(chorus: Chorus, token: str, workspace_id: str, **params: str) -> list[dict[str, Any]]:
    answer = chorus.call("GET", "/inbox", token, workspace=workspace_id, params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["conversations"])


def conversation_with(chorus: Chorus, token: str, workspace_id: str, text: str) -> dict[str, Any]:
    """The conversation whose last message is ``text``, once it is stored."""
    return eventually(
        lambda: next((c for c in conversations(chorus, token, workspace_id) if c["preview"] == text), None),
        timeout=30,
        every=0.2,
    )


def inbox_demo(
    chorus: Chorus, token: str, workspace_id: str, accounts: dict[str, str], handles: dict[str, str]
) -> str:
    """Demo conversations for the screenshots: comments from several people on the sandbox accounts (one on
    a post Chorus published, so its link shows), tagged, assigned and under a service level whose first
    response is soon due. Returns the text of the conversation to open."""

    def call(method: str, path: str, body: dict[str, Any]) -> Any:
        answer = chorus.call(method, path, token, workspace=workspace_id, json=body)
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.text else None

    call("PUT", "/inbox/sla", {"first_response_minutes": 60, "resolution_minutes": 480, "nearing_at": 0.001})
    call(
        "POST", "/saved_replies", {"title": "Thanks", "text": "Hi {first_name}, thank you for your message!"}
    )
    posts = chorus.call("GET", "/posts", token, workspace=workspace_id).json()["posts"]
    post_ref = next(
        (
            t["platform_post_id"]
            for p in posts
            for t in p["targets"]
            if t["account_id"] == accounts["acme"] and t["state"] == "published" and t.get("platform_post_id")
        ),
        "p-1",
    )
    for account in accounts.values():
        wait_polled(account)
    opened = "Is the autumn blend available in 250 g bags? I'd love to try it before the tasting"
    comments = [
        ("acme", opened, "Camille Durand", post_ref),
        ("acme_eu", "My order #4471 arrived with a broken lid, can you help?", "Jonas Becker", "p-2"),
        ("acme_jp", "Had your roast at a café in Kyoto last week: wonderful!", "Yuki Tanaka", "p-3"),
        ("acme", "Do you ship to Lyon on Saturdays?", "Léa Martin", "p-4"),
    ]
    for name, text, author, post in comments:
        sandbox_comment(chorus, handles[name], text, author, post_id=post)
    found = {text: conversation_with(chorus, token, workspace_id, text) for _, text, _, _ in comments}
    broken = found[comments[1][1]]["id"]
    call("POST", f"/inbox/{broken}/tags", {"add": ["order-issue"]})
    me = chorus.call("GET", "/me", token).json()["user_id"]
    call("POST", f"/inbox/{broken}/assign", {"assignee": f"user:{me}"})
    call(
        "POST", f"/inbox/{found[opened]['id']}/notes", {"text": "Bags of 250 g come back in stock on Monday"}
    )
    eventually(lambda: conversations(chorus, token, workspace_id, sla="nearing"), timeout=30, every=0.5)
    return opened


def messenger_message(page_id: str, sender: str, sent_at: float, text: str) -> bytes:
    """A Meta ``messaging`` webhook: ``sender``'s Messenger message to the Page, sent at ``sent_at`` (s)."""
    data = copy.deepcopy(fixture_json("webhooks/meta/messenger_message_text.json"))
    entry = data["entry"][0]
    entry["id"] = page_id
    event = entry["messaging"][0]
    event["sender"]["id"] = sender
    event["recipient"]["id"] = page_id
    event["timestamp"] = int(sent_at * 1000)
    event["message"].update(mid=f"mid.{time.time_ns()}", text=text)
    return json.dumps(data).encode()


def instagram_mention(ig_user_id: str, media_id: str) -> bytes:
    """A Meta ``mentions`` webhook: the Instagram account was mentioned (ids only)."""
    data = copy.deepcopy(fixture_json("webhooks/meta/instagram_mentions.json"))
    entry = data["entry"][0]
    entry["id"] = ig_user_id
    entry["changes"][0]["value"].update(comment_id=media_id, media_id=media_id)
    return json.dumps(data).encode()
