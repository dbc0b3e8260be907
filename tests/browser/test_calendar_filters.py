"""The calendar in Debian's chromium: filtered by tag and campaign (with the account filter), and the
queue's free slots shown as dashed entries that open the composer for that time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Team, fits_a_phone, serious_violations, sign_in
from tests.browser.test_web_app import next_week, post
from tests.integration.harness import Chorus

SLOTS = ("10:30", "16:00")


def owner_call(chorus: Chorus, team: Team, method: str, path: str, **body: Any) -> dict[str, Any]:
    answer = chorus.call(method, path, team.owner.id_token, workspace=team.workspace_id, json=body)
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


def test_the_calendar_filters_by_tag_by_campaign_and_by_account(
    page: Any, chorus: Chorus, team: Team
) -> None:
    days = next_week(team)
    acme, acme_eu = team.accounts["acme"], team.accounts["acme_eu"]
    launch = owner_call(
        chorus, team, "POST", "/campaigns", name="Spring launch", starts_on=days[0], ends_on=days[6]
    )
    token = team.owner.id_token
    post(chorus, team, token, text="Launch day", accounts=[acme], scheduled_at=f"{days[0]}T09:00:00",
         timezone=team.timezone, tags=["launch", "shoes"], campaign_id=launch["id"])  # fmt: skip
    post(chorus, team, token, text="New shoes", accounts=[acme], scheduled_at=f"{days[1]}T09:00:00",
         timezone=team.timezone, tags=["shoes"])  # fmt: skip
    post(chorus, team, token, text="Untagged", accounts=[acme_eu], scheduled_at=f"{days[2]}T09:00:00",
         timezone=team.timezone)  # fmt: skip
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.goto(f"{chorus.rt.web_url}/calendar?view=week&date={days[0]}")
    entries = page.locator("article.entry")
    expect(entries).to_have_count(3)
    expect(page.locator(f'section.day[data-day="{days[0]}"] article.entry')).to_contain_text("#launch")

    # A tag typed (any case) and Enter: the calendar asks the API for that tag's posts only
    tag = page.get_by_label("Tag")
    tag.fill("Shoes")
    tag.press("Enter")
    expect(entries).to_have_count(2)
    expect(entries.filter(has_text="Untagged")).to_have_count(0)
    # with the account filter too: @acme_eu has none of them
    account = page.get_by_label("Account")
    account.select_option(
        label=next(o for o in account.locator("option").all_text_contents() if "@acme_eu-" in o)
    )
    expect(entries).to_have_count(0)
    account.select_option(label="All accounts")
    tag.fill("")
    tag.press("Enter")
    expect(entries).to_have_count(3)

    # The campaign chosen: its post only; all campaigns again: every post
    campaign = page.get_by_label("Campaign")
    campaign.select_option(label="Spring launch")
    expect(entries).to_have_count(1)
    expect(entries).to_contain_text("Launch day")
    campaign.select_option(label="All campaigns")
    expect(entries).to_have_count(3)

    # A link with the filters in it opens filtered
    page.goto(f"{chorus.rt.web_url}/calendar?view=week&date={days[0]}&tag=launch")
    expect(entries).to_have_count(1)
    expect(page.get_by_label("Tag")).to_have_value("launch")


def free_times(monday: date, held: datetime) -> list[str]:
    """ "YYYY-MM-DD HH:MM" of the slots of ``monday``'s week after now, but ``held`` (local)."""
    now = datetime.now(UTC)
    zone = held.tzinfo
    times = [
        datetime.combine(monday + timedelta(days=d), datetime.strptime(t, "%H:%M").time(), zone)
        for d in range(7)
        for t in SLOTS
    ]
    return [t.strftime("%Y-%m-%d %H:%M") for t in times if t > now and t != held]


def test_the_queues_free_slots_are_dashed_entries_that_open_the_composer_for_their_time(
    browser: Any, page: Any, chorus: Chorus, team: Team
) -> None:
    zone = ZoneInfo(team.timezone)
    owner_call(
        chorus,
        team,
        "PUT",
        "/queue/slots",
        slots=[{"weekday": d, "time": t} for d in range(7) for t in SLOTS],
    )
    # A post added to the queue holds the first slot after now
    queued = post(chorus, team, team.owner.id_token, text="In the queue", accounts=[team.accounts["acme"]],
                  mode="queue")  # fmt: skip
    held = datetime.fromisoformat(queued["scheduled_at"].replace("Z", "+00:00")).astimezone(zone)
    day = held.date()
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.goto(f"{chorus.rt.web_url}/calendar?view=week&date={day.isoformat()}")
    expect(page.locator(f'section.day[data-day="{day}"] article.entry')).to_contain_text("In the queue")

    # Every slot time of the week still to come is shown free, but the one the queued post holds (late
    # on a Sunday, when the held one is the week's last, the next week's are looked at: all free)
    monday = day - timedelta(days=day.weekday())
    expected = free_times(monday, held)
    if not expected:
        monday += timedelta(days=7)
        expected = free_times(monday, held)
        page.goto(f"{chorus.rt.web_url}/calendar?view=week&date={monday.isoformat()}")
    slots = page.locator("a.free-slot")
    expect(slots).to_have_count(len(expected))
    shown = [
        f"{s.evaluate('e => e.closest(`section.day`).dataset.day')} {s.inner_text().split()[0]}"
        for s in slots.all()
    ]
    assert shown == expected
    assert page.locator("a.free-slot").first.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    assert serious_violations(page) == []

    # The keyboard opens the composer for that slot's time
    first = slots.first
    first_day, first_time = expected[0].split()
    expect(first).to_have_accessible_name(re.compile(f"^{first_time} free slot in the queue on "))
    first.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/compose\?at={first_day}T{first_time}$"))
    expect(page.get_by_label(re.compile(r"Date and time"))).to_have_value(f"{first_day}T{first_time}")

    # At a phone's width nothing scrolls sideways, and axe finds nothing serious
    phone = browser.new_context(viewport=PHONE).new_page()
    sign_in(phone, chorus, team.owner, team.workspace_id)
    phone.goto(f"{chorus.rt.web_url}/calendar?view=week&date={monday.isoformat()}")
    expect(phone.locator("a.free-slot")).to_have_count(len(expected))
    fits_a_phone(phone)
    phone.context.close()


def test_tags_given_in_the_composer_find_the_post_in_the_calendar(
    page: Any, chorus: Chorus, team: Team
) -> None:
    days = next_week(team)
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.goto(f"{chorus.rt.web_url}/compose?at={days[3]}T10:15")
    page.get_by_role("checkbox").first.check()
    page.get_by_label("Text", exact=True).fill("Autumn menu, tagged")
    tags = page.get_by_label("Tags (comma-separated)")
    # A tag the server refuses is shown at the field
    tags.fill("autumn, " + "x" * 51)
    page.get_by_role("button", name="Create post").click()
    expect(page.locator("#tags-error")).to_contain_text("1-50 characters")
    expect(tags).to_have_attribute("aria-invalid", "true")
    tags.fill("Autumn, menu")
    page.get_by_role("button", name="Create post").click()
    expect(page.get_by_role("status").filter(has_text="Created")).to_be_visible()
    page.goto(f"{chorus.rt.web_url}/calendar?view=week&date={days[3]}&tag=autumn")
    entry = page.locator(f'section.day[data-day="{days[3]}"] article.entry')
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("10:15")
    expect(entry).to_contain_text("#autumn #menu")
