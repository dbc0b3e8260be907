"""The Reports page in Debian's chromium: a period's report with its charts (Chart.js loaded on this page
only), tables and best-times heatmap; the CSV at once and the PDF as a job followed to its link."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Team, serious_violations, sign_in
from tests.integration.harness import Chorus, eventually


def published_post(chorus: Chorus, team: Team) -> None:
    made = chorus.call("POST", "/posts", team.owner.id_token, workspace=team.workspace_id,
                       json={"text": "Autumn blend is here", "accounts": list(team.accounts.values()), "mode": "now"})  # fmt: skip
    assert made.status_code == 201, made.text

    def done() -> bool:
        found = chorus.call(
            "GET", f"/posts/{made.json()['id']}", team.owner.id_token, workspace=team.workspace_id
        )
        return all(t["state"] == "published" for t in found.json()["targets"])

    eventually(done, timeout=30)
    assert chorus.rt.wait_idle(30)  # and followed for metrics, from the table's stream (batches of up to 3 s)


def chart_requests(page: Any) -> list[str]:
    """The Chart.js chunk's requests, as the page makes them."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/assets/chartjs-" in r.url else None)
    return asked


def test_a_report_is_opened_for_a_period_and_its_csv_and_pdf_downloaded(
    page: Any, chorus: Chorus, team: Team, tmp_path: Path
) -> None:
    published_post(chorus, team)
    charts = chart_requests(page)
    sign_in(page, chorus, team.owner, team.workspace_id)
    expect(page.locator("article.entry").first).to_be_visible()
    assert charts == []  # the calendar does not load Chart.js

    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    today = date.today()
    page.get_by_label("From", exact=True).fill((today - timedelta(days=6)).isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Show").click()
    overview = page.locator("section", has=page.get_by_role("heading", name="Overview"))
    expect(overview.locator("li", has_text="Posts published").locator("strong")).to_have_text("2")
    expect(page.get_by_role("table", name="Figures per platform")).to_contain_text("sandbox")
    expect(page.get_by_role("img", name="Engagements and posts per platform")).to_have_attribute(
        "data-drawn", "true"
    )
    assert len(charts) == 1
    expect(page.get_by_role("table", name="Average engagement rate by weekday")).to_be_visible()
    assert page.locator("table.heatmap tbody tr").count() == 7

    # A range the API refuses is named at its field
    page.get_by_label("From", exact=True).fill((today + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#report-to-error")).to_contain_text("before from")
    page.get_by_label("From", exact=True).fill((today - timedelta(days=6)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#report-to-error")).to_have_count(0)

    # The CSV comes at once
    page.get_by_role("button", name="CSV", exact=True).click()
    with page.expect_download() as got:
        page.get_by_role("link", name=".csv").click()
    csv = Path(got.value.path()).read_text()
    assert "Sandbox,2," in csv  # two posts published on the sandbox platform

    # The PDF is a job: its state shows until the link to the file
    page.get_by_role("button", name="PDF", exact=True).click()
    expect(page.get_by_role("progressbar")).to_be_visible()
    link = page.get_by_role("link", name=".pdf")
    expect(link).to_be_visible(timeout=60_000)
    expect(page.get_by_role("status").filter(has_text="PDF done")).to_be_visible()
    with page.expect_download() as got:
        link.click()
    assert Path(got.value.path()).read_bytes().startswith(b"%PDF")

    assert serious_violations(page) == []


def test_the_reports_page_fits_a_phone(browser: Any, chorus: Chorus, team: Team) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, chorus, team.owner, team.workspace_id)
    phone.goto(chorus.rt.web_url + "/reports")
    expect(phone.get_by_role("heading", name="Best times to post")).to_be_visible()
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"/reports is {width} px wide at a phone's 390"
    phone.context.close()
