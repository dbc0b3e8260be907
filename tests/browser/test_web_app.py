"""The web app's pages in Debian's chromium: sign-in, the calendar, the composer and approvals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import Team, serious_violations, sign_in
from tests.integration.harness import Chorus, eventually


def post(chorus: Chorus, team: Team, token: str, **body: Any) -> dict[str, Any]:
    answer = chorus.call("POST", "/posts", token, workspace=team.workspace_id, json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def read(chorus: Chorus, team: Team, post_id: str) -> dict[str, Any]:
    return dict(
        chorus.call("GET", f"/posts/{post_id}", team.owner.id_token, workspace=team.workspace_id).json()
    )


def test_a_person_signs_in_sees_their_workspace_and_signs_out_everywhere(
    page: Any, chorus: Chorus, team: Team
) -> None:
    page.goto(chorus.rt.web_url + "/")
    page.get_by_label("E-mail").fill(team.owner.email)
    page.get_by_label("Password").fill("not-the-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.get_by_label("Workspace").count() == 0

    sign_in(page, chorus, team.owner, team.workspace_id)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"\w+ \d{4}"))
    expect(page.get_by_label("Workspace")).to_have_value(team.workspace_id)
    expect(page.get_by_text("Times in Europe/Paris")).to_be_visible()
    token = page.evaluate("() => JSON.parse(localStorage.getItem('chorus.session')).id_token")
    assert chorus.call("GET", "/workspace", token, workspace=team.workspace_id).status_code == 200

    # An expired session is refreshed through the pool (REFRESH_TOKEN_AUTH) on the next call
    page.evaluate("""() => {
        const s = JSON.parse(localStorage.getItem('chorus.session'))
        localStorage.setItem('chorus.session', JSON.stringify({...s, expires_at: 0}))
    }""")
    page.reload()
    expect(page.get_by_text("Times in Europe/Paris")).to_be_visible()
    refreshed = page.evaluate("() => JSON.parse(localStorage.getItem('chorus.session'))")
    assert refreshed["expires_at"] > datetime.now(UTC).timestamp() * 1000 + 30 * 60_000
    token = refreshed["id_token"]
    assert chorus.call("GET", "/workspace", token, workspace=team.workspace_id).status_code == 200

    # Signing out everywhere: the app's tokens are refused from then on, and the app is at sign-in
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert chorus.call("GET", "/workspace", token, workspace=team.workspace_id).status_code == 401
    assert page.evaluate("() => localStorage.getItem('chorus.session')") is None


def local_input(at: datetime, timezone: str) -> str:
    """``at`` as the composer's date-and-time field takes it, in the workspace's zone."""
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M:%S")


def test_a_post_composed_for_two_accounts_is_scheduled_and_seen_published_in_the_calendar(
    page: Any, chorus: Chorus, team: Team
) -> None:
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Compose").click()
    boxes = page.get_by_role("checkbox")
    expect(boxes).to_have_count(2)
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_label("Text", exact=True).fill("Autumn launch 🚀 https://example.com/autumn")
    expect(page.locator("section.variant")).to_have_count(2)
    # Each account counts as its platform does (URLs as 23, the emoji as one grapheme) ...
    expect(page.locator("section.variant .counter").first).to_contain_text("39 / 500")
    # ... and a variant over the limit turns red naming the rule, and cannot be sent
    second = page.get_by_label(re.compile(r"^Text for @acme_eu-"))
    counter = page.locator("section.variant", has=second).locator(".counter")
    second.fill("x" * 501)
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    expect(counter).to_contain_text("text.too_long")
    expect(page.get_by_role("button", name="Create post")).to_be_disabled()
    second.fill("Autumn launch, EU edition")
    expect(counter).not_to_have_class(re.compile(r"\bover\b"))

    # The server's 422 is shown at its field: a time in the past
    page.get_by_label(re.compile(r"Date and time")).fill(
        local_input(datetime.now(UTC) - timedelta(hours=2), team.timezone)
    )
    page.get_by_role("button", name="Create post").click()
    expect(page.locator("#scheduled_at-error")).to_contain_text("in the past")

    due = datetime.now(UTC) + timedelta(seconds=4)
    page.get_by_label(re.compile(r"Date and time")).fill(local_input(due, team.timezone))
    page.get_by_role("button", name="Create post").click()
    expect(page.get_by_role("status").filter(has_text="Created")).to_be_visible()

    made = chorus.call("GET", "/posts", team.owner.id_token, workspace=team.workspace_id).json()["posts"]
    assert len(made) == 1
    assert sorted(made[0]["accounts"]) == sorted(team.accounts.values())
    assert made[0]["variants"][team.accounts["acme_eu"]]["text"] == "Autumn launch, EU edition"
    assert abs(datetime.fromisoformat(made[0]["scheduled_at"]).timestamp() - due.timestamp()) < 1.5

    # Published on both accounts: the calendar shows it with the links to the platform
    page.get_by_role("link", name="See it in the calendar").click()

    def published() -> bool:
        page.reload()
        page.get_by_role("heading", level=1).wait_for()
        return page.locator("article.entry.published").count() == 2

    eventually(published, timeout=40, every=1)
    links = page.locator("article.entry.published").get_by_role("link", name=re.compile("View the post"))
    expect(links).to_have_count(2)
    assert all(link.get_attribute("href").startswith("http") for link in links.all())


def next_week(team: Team) -> list[str]:
    """The days (YYYY-MM-DD) of next week, Monday first, in the workspace's zone."""
    today = datetime.now(ZoneInfo(team.timezone)).date()
    monday = today + timedelta(days=7 - today.weekday())
    return [(monday + timedelta(days=i)).isoformat() for i in range(7)]


def local_time(chorus: Chorus, team: Team, post_id: str) -> str:
    at = datetime.fromisoformat(read(chorus, team, post_id)["scheduled_at"])
    return at.astimezone(ZoneInfo(team.timezone)).strftime("%Y-%m-%d %H:%M")


def test_a_post_is_rescheduled_by_dragging_it_and_by_the_keyboard(
    page: Any, chorus: Chorus, team: Team
) -> None:
    days = next_week(team)
    made = post(chorus, team, team.owner.id_token, text="Weekly tips", accounts=[team.accounts["acme"]],
                scheduled_at=f"{days[0]}T10:00:00", timezone=team.timezone)  # fmt: skip
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("button", name="Week").click()
    page.get_by_role("button", name="Next week").click()
    monday = page.locator(f'section.day[data-day="{days[0]}"]')
    entry = monday.locator("article.entry")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Scheduled")

    # Dragged from Monday to Wednesday: the same local time, the post's version moves on
    entry.drag_to(page.locator(f'section.day[data-day="{days[2]}"]'))
    expect(page.get_by_role("status").filter(has_text="Moved to")).to_be_visible()
    assert local_time(chorus, team, made["id"]) == f"{days[2]} 10:00"
    assert read(chorus, team, made["id"])["version"] == made["version"] + 1
    moved = page.locator(f'section.day[data-day="{days[2]}"] article.entry')
    expect(moved).to_have_count(1)
    expect(monday.locator("article.entry")).to_have_count(0)

    # The account filter: the post is on @acme only
    filter_ = page.get_by_label("Account")
    filter_.select_option(
        label=next(o for o in filter_.locator("option").all_text_contents() if "@acme_eu-" in o)
    )
    expect(moved).to_have_count(0)
    filter_.select_option(label="All accounts")
    expect(moved).to_have_count(1)

    # The keyboard's "Move to…": the date field takes the focus, Enter moves it
    moved.get_by_role("button", name="Move to…").focus()
    page.keyboard.press("Enter")
    date = moved.get_by_label("Date")
    expect(date).to_be_focused()
    date.fill(days[3])
    moved.get_by_label("Time").fill("11:30")
    moved.get_by_label("Time").press("Enter")
    expect(page.locator(f'section.day[data-day="{days[3]}"] article.entry')).to_have_count(1)
    assert local_time(chorus, team, made["id"]) == f"{days[3]} 11:30"
    assert read(chorus, team, made["id"])["version"] == made["version"] + 2


def test_a_contributors_post_is_approved_by_an_editor_and_another_rejected_with_a_comment(
    browser: Any, page: Any, chorus: Chorus, team: Team
) -> None:
    # The contributor composes: the post waits for approval, and they cannot approve it themselves
    sign_in(page, chorus, team.contributor, team.workspace_id)
    page.get_by_role("link", name="Compose").click()
    page.get_by_role("checkbox").first.check()
    page.get_by_label("Text", exact=True).fill("Our new range is here")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    page.get_by_label(re.compile(r"Date and time")).fill(local_input(tomorrow, team.timezone))
    page.get_by_role("button", name="Create post").click()
    expect(page.get_by_role("status").filter(has_text="pending approval")).to_be_visible()
    waiting = chorus.call("GET", "/posts?status=pending_approval", team.owner.id_token,
                          workspace=team.workspace_id).json()["posts"]  # fmt: skip
    assert [p["content"]["text"] for p in waiting] == ["Our new range is here"]
    page.get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("heading", name="Our new range is here")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    other = post(chorus, team, team.contributor.id_token, text="Off-brand joke", accounts=[team.accounts["acme"]],
                 scheduled_at=local_input(tomorrow, team.timezone), timezone=team.timezone)  # fmt: skip

    # The editor (here the owner) approves the one and rejects the other with a comment
    editor = browser.new_context().new_page()
    sign_in(editor, chorus, team.owner, team.workspace_id)
    editor.get_by_role("link", name="Approvals").click()
    first = editor.get_by_role("article").filter(
        has=editor.get_by_role("heading", name="Our new range is here")
    )
    first.get_by_role("button", name="Approve").click()
    expect(editor.get_by_role("status").filter(has_text="Approved")).to_be_visible()
    assert read(chorus, team, waiting[0]["id"])["status"] == "scheduled"
    second = editor.get_by_role("article").filter(has=editor.get_by_role("heading", name="Off-brand joke"))
    second.get_by_label("Comment").fill("Not our tone, please rewrite")
    second.get_by_role("button", name="Reject").click()
    expect(editor.get_by_text("Nothing is waiting for approval.")).to_be_visible()
    rejected = read(chorus, team, other["id"])
    assert rejected["status"] == "rejected"
    assert "Not our tone" in str(rejected["approval"])
    editor.context.close()


def test_every_page_has_no_serious_accessibility_violation_and_fits_a_phone(
    browser: Any, page: Any, chorus: Chorus, team: Team
) -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    post(chorus, team, team.contributor.id_token, text="Waiting for review", accounts=[team.accounts["acme"]],
         scheduled_at=tomorrow.isoformat())  # fmt: skip
    post(chorus, team, team.owner.id_token, text="Planned", accounts=list(team.accounts.values()),
         scheduled_at=tomorrow.isoformat())  # fmt: skip
    page.goto(chorus.rt.web_url + "/sign-in")
    page.get_by_role("button", name="Sign in").wait_for()
    found = {"sign-in": serious_violations(page)}
    sign_in(page, chorus, team.owner, team.workspace_id)
    expect(page.locator("article.entry").first).to_be_visible()
    found["calendar (month)"] = serious_violations(page)
    page.get_by_role("button", name="Week").click()
    found["calendar (week)"] = serious_violations(page)
    page.get_by_role("link", name="Compose").click()
    expect(page.get_by_role("checkbox")).to_have_count(2)
    for box in page.get_by_role("checkbox").all():
        box.check()
    page.get_by_label("Text", exact=True).fill("x" * 600)  # the counters in red too
    expect(page.locator(".counter.over")).to_have_count(2)
    found["composer"] = serious_violations(page)
    page.get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("button", name="Approve")).to_be_visible()
    found["approvals"] = serious_violations(page)
    assert found == {name: [] for name in found}

    # At a phone's width nothing scrolls sideways
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, chorus, team.owner, team.workspace_id)
    for path in ("/calendar", "/compose", "/approvals"):
        phone.goto(chorus.rt.web_url + path)
        phone.get_by_role("heading", level=1).wait_for()
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide at a phone's 390"
    phone.context.close()


def test_a_busy_day_of_the_month_view_shows_three_posts_and_the_rest_on_demand(
    page: Any, chorus: Chorus, team: Team
) -> None:
    tomorrow = datetime.now(ZoneInfo(team.timezone)).date() + timedelta(days=1)
    for n in range(3):
        post(chorus, team, team.owner.id_token, text=f"Busy day {n}", accounts=list(team.accounts.values()),
             scheduled_at=f"{tomorrow.isoformat()}T1{n}:00:00", timezone=team.timezone)  # fmt: skip
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.goto(f"{chorus.rt.web_url}/calendar?date={tomorrow.isoformat()}")
    day = page.locator(f'section.day[data-day="{tomorrow.isoformat()}"]')
    expect(day.locator("article.entry")).to_have_count(3)
    more = day.get_by_role("button", name=re.compile(r"^\+3 more"))
    expect(more).to_be_visible()
    more.click()
    expect(day.locator("article.entry")).to_have_count(6)
    # The week view shows every post of the day at once
    page.goto(f"{chorus.rt.web_url}/calendar?date={tomorrow.isoformat()}&view=week")
    expect(page.locator(f'section.day[data-day="{tomorrow.isoformat()}"] article.entry')).to_have_count(6)
