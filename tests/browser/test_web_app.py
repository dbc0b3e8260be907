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

    # Signing out everywhere: the app's tokens are refused from then on, and the app is at sign-in
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert chorus.call("GET", "/workspace", token, workspace=team.workspace_id).status_code == 401
    assert page.evaluate("() => localStorage.getItem('chorus.session')") is None
