"""The inbox page in Debian's chromium: signed webhooks and polled comments appear live without a reload,
working a conversation (unread, presence, assign, tag, note, sentiment, close/reopen), replying (a saved
reply filled by the server, the crossed-reply warning), a dropped WebSocket resumed without losing a
message, and the page's accessibility and phone width."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Team, new_team, serious_violations, sign_in
from tests.browser.inbox_support import (
    META_PARAMETERS,
    connect_page,
    conversation_with,
    instagram_mention,
    messenger_message,
    meta_comment,
    post_meta,
    sandbox_comment,
    wait_polled,
)
from tests.integration.harness import Chorus, eventually

_pages = iter(range(1_000_000))


@pytest.fixture(scope="module")
def chorus(built: Path) -> Iterator[Chorus]:
    c = Chorus(parameters=META_PARAMETERS)
    warm(c)
    yield c
    c.close()


def warm(chorus: Chorus) -> None:
    """One webhook through the receiver and the ingest worker first (their cold start: imports, the
    sentiment model), in a workspace of its own."""
    team = new_team(chorus, handles=())
    connect_page(team.workspace_id, "555999999999")
    post_meta(chorus, meta_comment("555999999999", 0, "warming up"))
    conversation_with(chorus, team.owner.id_token, team.workspace_id, "warming up")


def page_id() -> str:
    return f"55500000{next(_pages):05d}"


def open_inbox(page: Any, chorus: Chorus, team: Team) -> None:
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    page.evaluate("() => { window.__sameDocument = true }")  # gone if the page reloads


def same_document(page: Any) -> bool:
    return bool(page.evaluate("() => window.__sameDocument === true"))


def row(page: Any, text: str) -> Any:
    return page.locator("section.conversations button.row", has_text=text)


def test_a_signed_webhook_appears_live_without_a_reload_and_the_conversation_is_worked(
    browser: Any, page: Any, chorus: Chorus, team: Team
) -> None:
    page_ref = page_id()
    connect_page(team.workspace_id, page_ref)
    open_inbox(page, chorus, team)
    expect(page.get_by_role("heading", level=1)).to_contain_text("all read")
    page.wait_for_timeout(3_000)  # past the page's second read of the list, 2.5 s after connecting

    # A signed comment webhook POSTed while the page is open: its row comes with the push, not from a
    # read of the list or a reload (how fast: bench/bench_web_inbox.py, inbox_live_p99_ms <= 1,000 ms)
    lists: list[str] = []
    page.on("request", lambda r: lists.append(r.url) if "/api/inbox?" in r.url else None)
    post_meta(chorus, meta_comment(page_ref, 1, "Is my order 1042 shipped?"))
    expect(row(page, "Is my order 1042 shipped?")).to_be_visible()
    assert lists == []
    assert same_document(page)
    expect(row(page, "Is my order 1042 shipped?").get_by_text("Unread")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1 unread")

    # Opened: the thread, read; another person opening it is seen viewing, then typing
    row(page, "Is my order 1042 shipped?").click()
    thread = page.locator("section.thread")
    expect(thread.get_by_role("heading", level=2)).to_contain_text("Dana Fan")
    expect(thread.locator("article.message.in")).to_have_text(re.compile("Is my order 1042 shipped"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("all read")
    conv = conversation_with(chorus, team.owner.id_token, team.workspace_id, "Is my order 1042 shipped?")

    colleague = browser.new_context().new_page()
    sign_in(colleague, chorus, team.contributor, team.workspace_id)
    colleague.get_by_role("link", name="Inbox").click()
    row(colleague, "Is my order 1042 shipped?").click()
    expect(thread.locator(".presence")).to_contain_text(f"{team.contributor.email} is viewing")
    colleague.get_by_label("Your reply").fill("Let me check")
    expect(thread.locator(".presence")).to_contain_text(f"{team.contributor.email} is typing a reply")
    colleague.context.close()  # pagehide: 'left'
    expect(thread.locator(".presence")).to_have_count(0, timeout=15_000)

    # A second message into the open conversation arrives in the thread, read at once
    post_meta(chorus, meta_comment(page_ref, 2, "Any news?", thread=1))
    expect(thread.locator("article.message.in")).to_have_count(2)
    expect(page.get_by_role("heading", level=1)).to_contain_text("all read")

    # Assign, tag, note, sentiment, close and reopen: each through the API, each seen in the page
    thread.get_by_label("Assigned to").select_option(label=team.owner.email)
    expect(page.get_by_role("status").filter(has_text="Assigned to")).to_be_visible()
    thread.get_by_label("Add a tag").fill("vip")
    thread.get_by_role("button", name="Tag", exact=True).click()
    expect(thread.get_by_role("button", name="Remove tag vip")).to_be_visible()
    thread.get_by_label("New note").fill("Called the courier")
    thread.get_by_role("button", name="Add note").click()
    expect(thread.locator(".notes li")).to_contain_text("Called the courier")
    thread.locator("article.message.in").first.get_by_label(re.compile("Change the sentiment")).select_option(
        "negative"
    )
    expect(thread.locator("article.message.in").first).to_contain_text("negative (set by hand)")
    thread.get_by_role("button", name="Close").click()
    expect(row(page, "Any news?")).to_have_count(0)  # the list shows open conversations
    page.get_by_label("Status").select_option("closed")
    expect(row(page, "Any news?")).to_be_visible()
    thread.get_by_role("button", name="Reopen").click()
    expect(row(page, "Any news?")).to_have_count(0)

    found = chorus.call(
        "GET", f"/inbox/{conv['id']}", team.owner.id_token, workspace=team.workspace_id
    ).json()
    assert found["conversation"]["assignee"] == f"user:{team.owner.user_id}"
    assert found["conversation"]["tags"] == ["vip"]
    assert found["conversation"]["status"] == "open"
    assert [n["text"] for n in found["notes"]] == ["Called the courier"]
    assert found["messages"][0]["sentiment"] == "negative"

    # The filters: by tag and by assignee
    page.get_by_label("Status").select_option("")
    page.get_by_role("searchbox", name="Tag").fill("vip")
    page.get_by_role("searchbox", name="Tag").press("Enter")
    expect(page.locator("section.conversations button.row")).to_have_count(1)
    page.get_by_role("searchbox", name="Tag").fill("nothing-tagged-so")
    page.get_by_role("searchbox", name="Tag").press("Enter")
    expect(page.get_by_text("No conversation matches.")).to_be_visible()
    assert same_document(page)


def test_a_reply_from_the_inbox_a_saved_reply_filled_by_the_server_and_a_crossed_reply(
    page: Any, chorus: Chorus, team: Team
) -> None:
    handle = next(h for h in chorus_handles(chorus, team) if h.startswith("acme-"))
    wait_polled(team.accounts["acme"])
    made = chorus.call("POST", "/saved_replies", team.owner.id_token, workspace=team.workspace_id,
                       json={"title": "Thanks", "text": "Hi {first_name}, thanks for writing!"})  # fmt: skip
    assert made.status_code == 201, made.text
    open_inbox(page, chorus, team)

    # A sandbox comment polled while the page is open appears without a reload
    sandbox_comment(chorus, handle, "Do you ship to Lyon?", "Camille Durand")
    expect(row(page, "Do you ship to Lyon?")).to_be_visible(timeout=15_000)
    assert same_document(page)
    conv = conversation_with(chorus, team.owner.id_token, team.workspace_id, "Do you ship to Lyon?")
    row(page, "Do you ship to Lyon?").click()
    thread = page.locator("section.thread")

    # The saved reply: the variables are filled by Chorus, and the platform receives it once
    thread.get_by_label("Saved reply").select_option(label="Thanks")
    expect(thread.locator(".saved-preview")).to_have_text("Hi {first_name}, thanks for writing!")
    thread.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").filter(has_text="Reply queued")).to_be_visible()
    eventually(lambda: [p for p in chorus.platform_posts() if p["account"] == handle], timeout=30)
    expect(thread.locator("article.message.out")).to_have_text(re.compile("Hi Camille, thanks for writing!"))
    assert [p["text"] for p in chorus.platform_posts() if p["account"] == handle] == [
        "Hi Camille, thanks for writing!"
    ]

    # A reply being written while a colleague answers: the 409 shows what crossed, "Send anyway" sends
    thread.get_by_label("Your reply").fill("We ship to all of France")
    other = chorus.call("POST", f"/inbox/{conv['id']}/reply", team.contributor.id_token,
                        workspace=team.workspace_id, json={"text": "Yes, 2 days to Lyon"})  # fmt: skip
    assert other.status_code == 202, other.text
    thread.get_by_role("button", name="Send reply").click()
    crossed = thread.locator(".crossed")
    expect(crossed).to_contain_text("Someone answered while you were writing")
    expect(crossed).to_contain_text("Yes, 2 days to Lyon")
    expect(crossed).to_contain_text(team.contributor.email)
    crossed.get_by_role("button", name="Send anyway").click()
    expect(crossed).to_have_count(0)

    def both() -> list[str] | None:
        texts = sorted(p["text"] for p in chorus.platform_posts() if p["account"] == handle)
        return texts if len(texts) == 3 else None

    assert eventually(both, timeout=30) == sorted(
        ["Hi Camille, thanks for writing!", "Yes, 2 days to Lyon", "We ship to all of France"]
    )
    expect(thread.locator("article.message.out")).to_have_count(3, timeout=15_000)
    assert same_document(page)


def chorus_handles(chorus: Chorus, team: Team) -> list[str]:
    found = chorus.call("GET", "/accounts", team.owner.id_token, workspace=team.workspace_id).json()
    return [a["handle"] for a in found["accounts"]]


def test_a_dropped_websocket_reconnects_and_loses_no_message(page: Any, chorus: Chorus, team: Team) -> None:
    page_ref = page_id()
    connect_page(team.workspace_id, page_ref)
    gate = {"closed": False}

    def through(ws: Any) -> None:  # the network between the page and the WebSocket API
        if gate["closed"]:
            ws.close()
        else:
            ws.connect_to_server()

    page.route_web_socket(re.compile(r"^ws://127\.0\.0\.1"), through)
    open_inbox(page, chorus, team)
    post_meta(chorus, meta_comment(page_ref, 1, "Before the cut"))
    expect(row(page, "Before the cut")).to_be_visible()

    # The connection drops (the server closes it) and cannot be made again for a while
    gate["closed"] = True
    assert chorus.rt.ws is not None
    for connection in list(chorus.rt.ws.connections.values()):
        connection.close()
    expect(page.get_by_role("status").filter(has_text="Connection lost")).to_be_visible()
    post_meta(chorus, meta_comment(page_ref, 2, "During the cut, first"))
    post_meta(chorus, meta_comment(page_ref, 3, "During the cut, second"))
    conversation_with(chorus, team.owner.id_token, team.workspace_id, "During the cut, second")
    conversation_with(chorus, team.owner.id_token, team.workspace_id, "During the cut, first")
    expect(row(page, "During the cut")).to_have_count(0)  # pushed to nobody: the page was away

    # Back: the page reconnects by itself and reads what it missed
    gate["closed"] = False
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible(timeout=40_000)
    expect(row(page, "During the cut, first")).to_be_visible()
    expect(row(page, "During the cut, second")).to_be_visible()
    assert same_document(page)
    # and it is live again
    post_meta(chorus, meta_comment(page_ref, 4, "After the cut"))
    expect(row(page, "After the cut")).to_be_visible()
    assert same_document(page)


def test_the_inbox_has_no_serious_accessibility_violation_and_fits_a_phone(
    browser: Any, page: Any, chorus: Chorus
) -> None:
    team = new_team(chorus, handles=("acme",))
    handle = next(h for h in chorus_handles(chorus, team) if h.startswith("acme-"))
    policy = {"first_response_minutes": 60, "resolution_minutes": 600, "nearing_at": 0.001}
    assert chorus.call("PUT", "/inbox/sla", team.owner.id_token, workspace=team.workspace_id,
                       json=policy).status_code == 200  # fmt: skip
    chorus.call("POST", "/saved_replies", team.owner.id_token, workspace=team.workspace_id,
                json={"title": "Thanks", "text": "Hi {first_name}, thanks!"})  # fmt: skip
    wait_polled(team.accounts["acme"])
    sandbox_comment(chorus, handle, "The lid of my mug cracked, what can I do? " * 3, "Lee Wong")
    conv = conversation_with(chorus, team.owner.id_token, team.workspace_id,
                             "The lid of my mug cracked, what can I do? " * 3)  # fmt: skip
    chorus.call("POST", f"/inbox/{conv['id']}/tags", team.owner.id_token, workspace=team.workspace_id,
                json={"add": ["defect"]})  # fmt: skip
    time.sleep(4)  # 0.1 % of the hour: the first response is "nearing"

    found: dict[str, list[dict[str, Any]]] = {}
    open_inbox(page, chorus, team)
    expect(page.locator(".badge.sla.nearing").first).to_be_visible()
    found["inbox list"] = serious_violations(page)
    row(page, "The lid of my mug").click()
    expect(page.locator("section.thread article.message")).to_have_count(1)
    found["inbox thread"] = serious_violations(page)
    assert found == {name: [] for name in found}

    # Keyboard: the rows are buttons, and opening one moves the focus to the thread's heading
    page.get_by_label("Status").select_option("open")
    row(page, "The lid of my mug").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#thread-title")).to_be_focused()

    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    open_inbox(phone, chorus, team)
    expect(row(phone, "The lid of my mug")).to_be_visible()
    sideways = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert phone.evaluate(sideways) <= 0
    expect(phone.get_by_label("Status")).to_be_hidden()  # folded first: the conversations come first
    phone.locator("summary", has_text="Filters").click()
    expect(phone.get_by_label("Status")).to_be_visible()
    assert phone.evaluate(sideways) <= 0
    row(phone, "The lid of my mug").click()
    expect(phone.locator("section.thread article.message")).to_have_count(1)
    expect(row(phone, "The lid of my mug")).to_be_hidden()  # one column: the thread alone
    assert phone.evaluate(sideways) <= 0
    phone.get_by_role("button", name="Back to the conversations").click()
    expect(row(phone, "The lid of my mug")).to_be_visible()
    phone.context.close()


def test_the_reply_box_says_when_the_window_closes_when_it_closed_and_where_chorus_cannot_reply(
    page: Any, chorus: Chorus, team: Team
) -> None:
    page_ref = page_id()
    connect_page(team.workspace_id, page_ref)
    now = time.time()
    post_meta(chorus, messenger_message(page_ref, "4401", now - 60, "Hello, is the shop open today?"))
    post_meta(chorus, messenger_message(page_ref, "4402", now - 25 * 3600, "Yesterday's order, any news?"))
    ig_user = f"1784{next(_pages):011d}"
    connect_page(team.workspace_id, ig_user, handle="acme.ig", platform="instagram")
    post_meta(chorus, instagram_mention(ig_user, "17887498072083520"))
    open_inbox(page, chorus, team)
    thread = page.locator("section.thread")

    # Messenger, a minute ago: open for 24 hours
    row(page, "Hello, is the shop open today?").click()
    expect(
        thread.get_by_text(re.compile(r"^You can reply until \d{4}-\d{2}-\d{2} \d{2}:\d{2}"))
    ).to_be_visible()
    expect(thread.get_by_label("Your reply")).to_be_visible()

    # Messenger, 25 hours ago: the window closed, nothing can be sent
    row(page, "Yesterday's order, any news?").click()
    expect(thread.get_by_text(re.compile("The reply window closed at"))).to_be_visible()
    thread.get_by_label("Your reply").fill("Sorry for the wait")
    expect(thread.get_by_role("button", name="Send reply")).to_be_disabled()

    # An Instagram mention: Chorus cannot reply there, and says so before anyone types
    page.get_by_label("Platform").select_option("instagram")
    expect(page.locator("section.conversations button.row")).to_have_count(1)
    row(page, "(instagram)").click()
    expect(thread.get_by_role("note")).to_contain_text("Chorus cannot reply on")
    expect(thread.get_by_label("Your reply")).to_have_count(0)
