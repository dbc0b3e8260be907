"""The Listening page in Debian's chromium: a crisis raised by a burst of negative mentions, seen with
its timeline and acknowledged then resolved; publishing resumed; mentions with their sentiment (one
corrected); the volume chart; monitors added."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Team, serious_violations, sign_in
from tests.browser.listening_support import crisis
from tests.integration.harness import Chorus


def test_an_incident_is_acknowledged_and_resolved_and_publishing_resumed(
    page: Any, chorus: Chorus, team: Team
) -> None:
    raised = crisis(chorus, team)
    assert raised["publishing_paused"] is True
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Listening").click()

    incident = page.locator("li.incident")
    expect(incident).to_have_count(1)
    expect(incident.get_by_role("heading", level=3)).to_contain_text("open")
    events = len(raised["timeline"])
    expect(incident.locator(".timeline li")).to_have_count(events)
    expect(incident.locator(".timeline li").first).to_contain_text("raised")
    expect(incident).to_contain_text("publishing was paused")
    expect(page.get_by_role("heading", name="Publishing is paused")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"Mentions per hour"))).to_have_attribute(
        "data-drawn", "true"
    )
    expect(page.locator("li.mention").first.locator(".sentiment")).to_have_text("negative")
    assert serious_violations(page) == []

    incident.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_have_text("Incident acknowledged.")
    expect(incident.locator(".timeline li")).to_have_count(events + 1)
    expect(incident.locator(".timeline li").last).to_contain_text("acknowledged by")
    expect(incident.get_by_role("button", name="Acknowledge")).to_have_count(0)
    [stored] = chorus.call("GET", "/incidents", team.owner.id_token, workspace=team.workspace_id).json()[
        "incidents"
    ]
    assert stored["acknowledged_at"]
    assert [e["event"] for e in stored["timeline"]] == [e["event"] for e in raised["timeline"]] + [
        "acknowledged"
    ]

    incident.get_by_role("button", name="Resolve").click()
    expect(incident.get_by_role("heading", level=3)).to_contain_text("resolved")
    expect(incident.get_by_role("button")).to_have_count(0)

    page.get_by_role("button", name="Resume and send held posts").click()
    expect(page.get_by_role("heading", name="Publishing is on")).to_be_visible()
    assert (
        chorus.call("GET", "/publishing", team.owner.id_token, workspace=team.workspace_id).json()["paused"]
        is False
    )

    # A person corrects a mention's sentiment
    first = page.locator("li.mention").first
    first.get_by_role("combobox").select_option("neutral")
    expect(page.get_by_role("status")).to_have_text(re.compile(r"is now neutral"))
    expect(page.locator("li.mention").first.locator(".sentiment")).to_have_text("neutral")

    # A monitor is added; one without terms is refused at its field
    page.get_by_label("Name", exact=True).fill("Rival")
    page.get_by_role("button", name="Add monitor").click()
    expect(page.locator("#monitor-terms-error")).to_be_visible()
    page.get_by_label("Kind").select_option("competitor")
    page.get_by_label(re.compile("^Terms")).fill("rivalco, rival co")
    page.get_by_role("button", name="Add monitor").click()
    expect(page.get_by_role("status")).to_have_text("Monitor created.")
    monitors = chorus.call("GET", "/monitors", team.owner.id_token, workspace=team.workspace_id).json()[
        "monitors"
    ]
    assert sorted(m["name"] for m in monitors) == ["Brand", "Rival"]


def test_the_listening_page_fits_a_phone(browser: Any, chorus: Chorus, team: Team) -> None:
    crisis(chorus, team)
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, chorus, team.owner, team.workspace_id)
    phone.goto(chorus.rt.web_url + "/listening")
    expect(phone.locator("li.incident")).to_have_count(1)
    expect(phone.locator("li.mention").first).to_be_visible()
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"/listening is {width} px wide at a phone's 390"
    phone.context.close()
