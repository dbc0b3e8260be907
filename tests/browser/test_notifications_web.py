"""Notifications in Debian's chromium: the unread badge in the navigation, the list with unread ones
marked, mark one read or all, and the link to what a notification is about."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Team, fits_a_phone, serious_violations, sign_in
from tests.integration.harness import Chorus, eventually


def decided(chorus: Chorus, team: Team, text: str, approve: bool) -> dict[str, Any]:
    body = {"text": text, "accounts": [team.accounts["acme"]], "scheduled_at": "2031-05-06T08:00:00Z"}
    made = chorus.call("POST", "/posts", team.contributor.id_token, workspace=team.workspace_id, json=body)
    assert made.status_code == 201, made.text
    post = made.json()
    verb, said = ("approve", {"version": 1}) if approve else ("reject", {"comment": "Not this week"})
    answer = chorus.call("POST", f"/posts/{post['id']}/{verb}", team.owner.id_token, workspace=team.workspace_id,
                         json=said)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return dict(post)


def test_the_author_reads_their_notifications_and_marks_them_read(
    page: Any, chorus: Chorus, team: Team
) -> None:
    decided(chorus, team, "Spring lookbook", approve=True)
    decided(chorus, team, "Flash sale tonight", approve=False)
    sign_in(page, chorus, team.contributor, team.workspace_id)
    nav = page.get_by_role("navigation", name="Main")
    # the badge, named for screen readers
    link = nav.get_by_role("link", name=re.compile(r"^Notifications\W*2 unread$"))
    expect(link).to_be_visible()
    expect(link.locator(".badge.unread-count")).to_have_text(re.compile(r"2"))
    link.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    rejected = page.get_by_role("article").filter(has_text="Post rejected: Flash sale tonight")
    approved = page.get_by_role("article").filter(has_text="Post approved: Spring lookbook")
    expect(rejected).to_contain_text("Comment: Not this week")
    expect(approved).to_contain_text("It goes out at 2031-05-06 10:00 (Europe/Paris).")
    notes = page.get_by_role("article")
    expect(notes.first).to_contain_text("Flash sale tonight")  # newest first
    expect(rejected.get_by_text("Unread")).to_be_visible()
    assert serious_violations(page) == []

    rejected.get_by_role("button", name="Mark read: Post rejected: Flash sale tonight").click()
    expect(rejected.get_by_text("Unread")).to_have_count(0)
    expect(nav.get_by_role("link", name=re.compile(r"^Notifications\W*1 unread$"))).to_be_visible()
    page.get_by_role("button", name="Unread", exact=True).click()
    expect(page.get_by_role("article")).to_have_count(1)
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("status")).to_have_text("Marked 1 notification read.")
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()  # no badge left
    page.get_by_role("button", name="All", exact=True).click()
    expect(page.get_by_role("article")).to_have_count(2)
    listed = chorus.call(
        "GET", "/notifications?unread=true", team.contributor.id_token, workspace=team.workspace_id
    )
    assert listed.json()["notifications"] == []

    # What it is about: the post, in the calendar's week of the notification
    approved.get_by_role("link", name="Open the post in the calendar").click()
    expect(page).to_have_url(re.compile(r"/calendar\?view=week&date=2031-05-06$"))  # the post's week


def test_an_editor_is_asked_to_review_and_goes_to_approvals(page: Any, chorus: Chorus, team: Team) -> None:
    body = {
        "text": "Autumn menu",
        "accounts": [team.accounts["acme"]],
        "scheduled_at": "2031-05-06T08:00:00Z",
    }
    made = chorus.call("POST", "/posts", team.contributor.id_token, workspace=team.workspace_id, json=body)
    assert made.json()["status"] == "pending_approval"
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(r"^Notifications\W*1 unread$")
    ).click()
    asked = page.get_by_role("article").filter(has_text="Waiting for your approval: Autumn menu")
    expect(asked).to_contain_text(f'{team.contributor.email} asks for your approval of "Autumn menu"')
    asked.get_by_role("link", name="Review it in Approvals").click()
    expect(page.get_by_role("heading", name="Autumn menu")).to_be_visible()
    expect(page.get_by_role("region", name="Changes")).to_contain_text("Never approved before")


def test_the_notifications_page_fits_a_phone(browser: Any, chorus: Chorus, team: Team) -> None:
    decided(chorus, team, "A very long announcement " + "x" * 200, approve=False)
    phone = browser.new_context(viewport=PHONE).new_page()
    sign_in(phone, chorus, team.contributor, team.workspace_id)
    phone.goto(chorus.rt.web_url + "/notifications")
    expect(phone.get_by_role("article")).to_have_count(1)
    fits_a_phone(phone)
    phone.context.close()


def test_mark_all_read_is_one_request_and_what_came_in_since_stays_unread(
    page: Any, chorus: Chorus, team: Team
) -> None:
    for text in ("Monday digest", "Tuesday digest", "Wednesday digest"):
        decided(chorus, team, text, approve=True)
    sign_in(page, chorus, team.contributor, team.workspace_id)
    page.goto(chorus.rt.web_url + "/notifications")
    expect(page.locator(".note.unread")).to_have_count(3)
    decided(chorus, team, "Came in later", approve=False)  # after the page read its list
    sent: list[str] = []
    page.on(
        "request",
        lambda r: (
            sent.append(r.url.split("/notifications", 1)[1])
            if r.method == "POST" and "/notifications" in r.url
            else None
        ),
    )
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("status")).to_have_text("Marked 3 notifications read.")
    expect(page.locator(".note.unread")).to_have_count(0)
    assert sent == ["/read"]  # one request, not one per notification
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name=re.compile(r"^Notifications\W*1 unread$"))).to_be_visible()
    unread = chorus.call(
        "GET", "/notifications?unread=true", team.contributor.id_token, workspace=team.workspace_id
    ).json()["notifications"]
    assert [n["subject"] for n in unread] == ["Post rejected: Came in later"]


def test_the_badge_counts_a_new_notification_at_once_and_a_read_in_another_tab(
    page: Any, chorus: Chorus, team: Team
) -> None:
    from chorus.inbox.live import connections

    sign_in(page, chorus, team.contributor, team.workspace_id)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()  # nothing unread
    eventually(lambda: connections(team.workspace_id), timeout=30)  # the app's live connection is open
    # A decision on their post: the badge counts it now, not at the next minute's read
    decided(chorus, team, "Live badge", approve=True)
    expect(nav.get_by_role("link", name=re.compile(r"^Notifications\W*1 unread$"))).to_be_visible(
        timeout=20_000
    )
    # Read in another tab: this one's badge goes
    other = page.context.new_page()
    other.goto(chorus.rt.web_url + "/notifications")
    other.get_by_role("button", name="Mark all read").click()
    expect(other.get_by_role("status")).to_have_text("Marked 1 notification read.")
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible(timeout=20_000)
