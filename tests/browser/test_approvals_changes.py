"""Approvals in Debian's chromium: a post back for approval shows what changed since the version
approved (words struck through and underlined, and named for screen readers), media and time moved."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Team, fits_a_phone, serious_violations, sign_in
from tests.integration.harness import Chorus

TULIP = {"mime_type": "image/jpeg", "url": "https://cdn.example/spring/tulip.jpg", "alt_text": "a tulip"}
DAFFODIL = {
    "mime_type": "image/jpeg",
    "url": "https://cdn.example/spring/daffodil.jpg",
    "alt_text": "a daffodil",
}


def call(chorus: Chorus, team: Team, token: str, method: str, path: str, **body: Any) -> dict[str, Any]:
    answer = chorus.call(method, path, token, workspace=team.workspace_id, json=body)
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


def test_the_editor_reads_what_changed_since_the_approved_version(
    browser: Any, page: Any, chorus: Chorus, team: Team
) -> None:
    acme, eu = team.accounts["acme"], team.accounts["acme_eu"]
    first = {"text": "Spring sale starts Monday at noon", "accounts": [acme, eu], "media": [TULIP],
             "variants": {eu: {"text": "Soldes de printemps lundi"}}, "scheduled_at": "2031-03-03T09:00:00Z"}  # fmt: skip
    made = call(chorus, team, team.contributor.id_token, "POST", "/posts", **first)
    call(chorus, team, team.owner.id_token, "POST", f"/posts/{made['id']}/approve", version=1)
    second = {**first, "text": "Spring sale starts Tuesday at noon", "media": [DAFFODIL],
              "variants": {eu: {"text": "Soldes de printemps mardi"}}, "scheduled_at": "2031-03-04T09:00:00Z",
              "version": 1}  # fmt: skip
    call(chorus, team, team.contributor.id_token, "PUT", f"/posts/{made['id']}", **second)
    fresh = call(chorus, team, team.contributor.id_token, "POST", "/posts", text="Brand new idea",
                 accounts=[acme], scheduled_at="2031-03-05T09:00:00Z")  # fmt: skip
    assert fresh["status"] == "pending_approval"

    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Approvals").click()
    card = page.get_by_role("article").filter(
        has=page.get_by_role("heading", name="Spring sale starts Tuesday")
    )
    changes = card.get_by_role("region", name="Changes since version 1")
    expect(changes).to_be_visible()
    base = changes.locator("p.diff").first
    expect(base.locator("del")).to_have_text("[removed: Monday]")  # the words themselves, named for readers
    expect(base.locator("ins")).to_have_text("[added: Tuesday]")
    expect(base).to_contain_text("Spring sale starts [removed: Monday][added: Tuesday] at noon")
    assert base.locator("del").evaluate("e => getComputedStyle(e).textDecorationLine") == "line-through"
    assert base.locator("ins").evaluate("e => getComputedStyle(e).textDecorationLine") == "underline"
    variant = changes.get_by_role("heading", name="Variant for @acme_eu-", exact=False)
    expect(variant).to_be_visible()
    expect(changes.locator("p.diff").nth(1)).to_contain_text(
        "Soldes de printemps [removed: lundi][added: mardi]"
    )
    media = changes.get_by_role("list", name="Media changes: The post (every account without a variant)")
    expect(media).to_contain_text("Media removed: tulip.jpg (“a tulip”)")
    expect(media).to_contain_text("Media added: daffodil.jpg (“a daffodil”)")
    expect(changes.locator("p.moved")).to_contain_text("2031-03-03 10:00")  # Paris, in March
    expect(changes.locator("p.moved")).to_contain_text("2031-03-04 10:00")
    # A post never approved says so instead of a diff
    other = page.get_by_role("article").filter(has=page.get_by_role("heading", name="Brand new idea"))
    expect(other.get_by_text("Never approved before: review all of it.")).to_be_visible()
    assert serious_violations(page) == []

    # Approved: it leaves the list; the next time it comes back, the baseline is this version
    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").filter(has_text="Approved")).to_be_visible()
    expect(page.get_by_role("heading", name="Spring sale starts Tuesday")).to_have_count(0)
    answer = chorus.call(
        "GET", f"/posts/{made['id']}/changes", team.owner.id_token, workspace=team.workspace_id
    )
    assert (answer.json()["approved"]["version"], answer.json()["changed"]) == (2, False)


def test_the_changes_fit_a_phone(browser: Any, chorus: Chorus, team: Team) -> None:
    acme = team.accounts["acme"]
    made = call(chorus, team, team.contributor.id_token, "POST", "/posts", accounts=[acme],
                text="A long announcement " + "word " * 60, scheduled_at="2031-03-03T09:00:00Z")  # fmt: skip
    call(chorus, team, team.owner.id_token, "POST", f"/posts/{made['id']}/approve", version=1)
    call(chorus, team, team.contributor.id_token, "PUT", f"/posts/{made['id']}", accounts=[acme],
         text="A longer announcement https://example.com/" + "x" * 120, scheduled_at="2031-03-03T09:00:00Z",
         version=1)  # fmt: skip
    phone = browser.new_context(viewport=PHONE).new_page()
    sign_in(phone, chorus, team.owner, team.workspace_id)
    phone.goto(chorus.rt.web_url + "/approvals")
    expect(phone.get_by_role("region", name="Changes since version 1")).to_be_visible()
    fits_a_phone(phone)
    phone.context.close()
