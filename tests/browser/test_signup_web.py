"""Creating an account in Debian's chromium, against the embedded runtime's user pool (moto, with the
confirmation code the local runtime plays: chorus.local.webapp): e-mail and password, the code, signed
in, then the first workspace; the pool's refusals shown at their field."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Team, fits_a_phone, serious_violations
from tests.integration.harness import PASSWORD, Chorus


def test_a_new_person_creates_an_account_confirms_it_and_makes_their_first_workspace(
    page: Any, chorus: Chorus, team: Team
) -> None:
    page.goto(chorus.rt.web_url + "/sign-in")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    assert serious_violations(page) == []

    # The pool's password policy, at the password field
    page.get_by_label("E-mail").fill("new.person@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    password = page.get_by_label("Password")
    expect(page.locator("#password-error")).to_contain_text("This password is not accepted")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_attribute("aria-describedby", re.compile(r"password-error"))
    # An e-mail that has an account already, at the e-mail field
    page.get_by_label("E-mail").fill(team.owner.email)
    password.fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#email-error")).to_have_text(
        "An account with this e-mail exists already: sign in instead."
    )
    expect(page.locator("#password-error")).to_have_count(0)
    assert serious_violations(page) == []

    # A new one: the code is asked for; a wrong code is refused at the code field
    email = f"new.person.{team.workspace_id}@example.com"
    page.get_by_label("E-mail").fill(email)
    password.fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your e-mail")
    expect(page.get_by_text("On the local runtime no e-mail is sent")).to_be_visible()
    assert chorus.rt.web is not None
    code = chorus.rt.web.confirmation_codes[email]
    wrong = "000000" if code != "000000" else "111111"
    page.get_by_label("Confirmation code").fill(wrong)
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.locator("#code-error")).to_have_text(
        "That code is not right: check the e-mail and type it again."
    )
    assert serious_violations(page) == []
    # a new code replaces the first
    page.get_by_role("button", name="Send a new code").click()
    expect(page.get_by_role("status")).to_contain_text("A new code is on its way")
    fresh = chorus.rt.web.confirmation_codes[email]
    page.get_by_label("Confirmation code").fill(fresh)
    page.get_by_role("button", name="Confirm and sign in").click()

    # Signed in with no workspace: the first one is made here, and the app opens on its calendar
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your workspace")
    page.get_by_label("Name").fill("New Person's Shop")
    page.get_by_label("Time zone").fill("Europe/Lisbonne")  # the API's 422, at the field it names
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#ws-timezone-error")).to_contain_text("unknown IANA time zone 'Europe/Lisbonne'")
    expect(page.get_by_label("Time zone")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Time zone").fill("Europe/Lisbon")
    page.get_by_role("button", name="Create").click()
    switcher = page.get_by_label("Workspace")
    expect(switcher).to_be_visible()
    expect(switcher.locator("option:checked")).to_have_text("New Person's Shop (owner)")
    expect(page.locator(".email")).to_have_text(email)  # confirmed: the pool says the e-mail is verified
    assert page.evaluate("() => location.pathname") == "/calendar"


def test_the_sign_up_form_fits_a_phone(browser: Any, chorus: Chorus) -> None:
    phone = browser.new_context(viewport=PHONE).new_page()
    phone.goto(chorus.rt.web_url + "/sign-up")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Create an account")
    fits_a_phone(phone)
    phone.context.close()
