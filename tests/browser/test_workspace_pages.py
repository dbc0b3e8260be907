"""The workspace's own pages in Debian's chromium: members and invitations, API keys, and accounts
connected through a platform's OAuth (a fake X on 127.0.0.1; the consent page at x.com is played by the
browser's request routing, so nothing leaves the machine)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Team, serious_violations, sign_in
from tests.integration import test_oauth
from tests.integration.harness import PASSWORD, Chorus
from tests.integration.test_oauth import X_USER_ID, FakeProvider
from tests.integration.test_people import sent_invitation_token

MAIL_FROM = "invitations@chorus.test"
provider = test_oauth.provider  # its fake X (a module fixture)


@pytest.fixture(scope="module")
def chorus(built: Any, provider: FakeProvider) -> Iterator[Chorus]:
    c = Chorus(
        parameters={"MailFrom": MAIL_FROM, "XClientId": "x-client", "XClientSecret": "x-secret"},
        extra_env={"CHORUS_X_TOKEN_URL": f"{provider.url}/2/oauth2/token", "CHORUS_X_API_URL": provider.url},
    )
    yield c
    c.close()


def consent(page: Any, code: str = "good") -> list[str]:
    """X's consent page, as a user who allows: back to the app's redirect_uri with the code and the state.
    Answers the authorize URLs the browser was sent to."""
    seen: list[str] = []

    def allow(route: Any) -> None:
        seen.append(route.request.url)
        query = parse_qs(urlsplit(route.request.url).query)
        back = query["redirect_uri"][0] + "?" + urlencode({"code": code, "state": query["state"][0]})
        route.fulfill(status=302, headers={"Location": back})

    page.route(re.compile(r"^https://x\.com/"), allow)
    return seen


def test_an_admin_invites_a_member_sees_the_invitation_and_revokes_it(
    page: Any, chorus: Chorus, team: Team
) -> None:
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Members").click()
    members = page.get_by_role("table", name="Members of the workspace")
    expect(members).to_contain_text(team.owner.email + " (you)")
    expect(members).to_contain_text(team.contributor.email)

    # A bad address is named at its field, not as a page error
    page.get_by_label("E-mail").fill("not-an-address")
    page.get_by_role("button", name="Invite").click()
    expect(page.locator("#invite-email-error")).to_be_visible()
    expect(page.get_by_label("E-mail")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("E-mail").fill("newcomer@example.com")
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("status")).to_have_text("Invitation sent to newcomer@example.com.")
    card = page.locator("li.card", has_text="newcomer@example.com")
    expect(card).to_contain_text("as editor")
    listed = chorus.call("GET", "/invitations", team.owner.id_token, workspace=team.workspace_id).json()
    assert [(i["email"], i["role"], i["state"]) for i in listed["invitations"]] == [
        ("newcomer@example.com", "editor", "pending")
    ]

    # The contributor becomes an editor from the table
    page.get_by_label(f"Role of {team.contributor.email}").select_option("editor")
    expect(page.get_by_role("status")).to_have_text(f"{team.contributor.email} is now editor.")
    people = chorus.call("GET", "/members", team.owner.id_token, workspace=team.workspace_id).json()
    assert {m["email"]: m["role"] for m in people["members"]}[team.contributor.email] == "editor"

    page.get_by_role("button", name="Revoke the invitation of newcomer@example.com").click()
    expect(page.get_by_text("No pending invitations.")).to_be_visible()
    listed = chorus.call("GET", "/invitations", team.owner.id_token, workspace=team.workspace_id).json()
    assert [i["state"] for i in listed["invitations"]] == ["revoked"]


def test_an_invitee_follows_the_e_mailed_link_signs_in_and_joins(
    browser: Any, page: Any, chorus: Chorus, team: Team
) -> None:
    invitee = chorus.person(f"invitee-{team.workspace_id}@example.com")
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Members").click()
    page.get_by_label("E-mail").fill(invitee.email)
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("status")).to_have_text(f"Invitation sent to {invitee.email}.")
    token = sent_invitation_token(chorus, invitee.email)

    # The invitee opens the link signed out: signs in, comes back to it, and joins with one click
    other = browser.new_context().new_page()
    other.goto(f"{chorus.rt.web_url}/invitations/accept?token={token}")
    other.get_by_label("E-mail").fill(invitee.email)
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("heading", name="Join a workspace")).to_be_visible()
    other.get_by_role("button", name="Join the workspace").click()
    expect(other.get_by_label("Workspace")).to_have_value(team.workspace_id)
    assert urlsplit(other.url).path == "/calendar"
    # An editor reads the members but issues no keys: the menu has no API keys for them
    expect(other.get_by_role("link", name="Members")).to_be_visible()
    expect(other.get_by_role("link", name="API keys")).to_have_count(0)
    other.context.close()

    page.reload()
    members = page.get_by_role("table", name="Members of the workspace")
    expect(members.get_by_role("row", name=re.compile(re.escape(invitee.email)))).to_contain_text("editor")
    expect(page.get_by_text("No pending invitations.")).to_be_visible()


def test_an_api_key_is_made_its_secret_shown_once_and_revoked(page: Any, chorus: Chorus, team: Team) -> None:
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    page.get_by_label("Name").fill("CI bot")
    page.get_by_label("Role").select_option("editor")
    page.get_by_label("publish").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("Secret")
    expect(secret).to_be_visible()
    key = secret.input_value()
    assert len(key) > 20
    assert chorus.call("GET", "/workspace", key).status_code == 200
    row = page.get_by_role("row", name=re.compile("CI bot"))
    expect(row).to_contain_text("publish")
    expect(row).to_contain_text("Active")

    # Shown once: after a reload the page holds it nowhere
    page.reload()
    expect(page.get_by_role("row", name=re.compile("CI bot"))).to_be_visible()
    assert key not in page.content()
    expect(page.get_by_label("Secret")).to_have_count(0)

    page.get_by_role("button", name="Revoke CI bot").click()
    expect(page.get_by_role("status")).to_have_text("The key CI bot was revoked.")
    expect(page.get_by_role("row", name=re.compile("CI bot"))).to_contain_text("Revoked")
    assert chorus.call("GET", "/workspace", key).status_code == 401


def test_an_account_is_connected_through_oauth_back_to_the_page_and_reconnected_when_it_needs_it(
    page: Any, chorus: Chorus, team: Team
) -> None:
    from chorus.accounts import service as accounts

    asked = consent(page)
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Accounts").click()
    expect(page.locator("li.card.account")).to_have_count(2)  # the team's sandbox accounts
    page.get_by_label("Platform").select_option("x")
    page.get_by_role("button", name="Connect").click()

    # X sent the browser back to the Accounts page, which finished the connection
    expect(page.get_by_role("status")).to_have_text("Connected @TwitterDev (x).")
    assert (urlsplit(page.url).path, urlsplit(page.url).query) == ("/accounts", "")
    assert len(asked) == 1
    sent = parse_qs(urlsplit(asked[0]).query)
    assert sent["client_id"] == ["x-client"]
    assert sent["redirect_uri"] == [chorus.rt.web_url + "/accounts"]
    card = page.locator("li.card.account", has_text="@TwitterDev (x)")
    expect(card.locator(".health")).to_have_text(re.compile(r"Healthy"))
    listed = chorus.call("GET", "/accounts", team.owner.id_token, workspace=team.workspace_id).json()
    [x] = [a for a in listed["accounts"] if a["platform"] == "x"]
    assert x["platform_account_id"] == X_USER_ID

    # The token is refused later: the account offers to reconnect, and reconnecting heals it
    accounts.mark_needs_reauth(team.workspace_id, x["id"], "the token was revoked on X")
    page.reload()
    expect(card.locator(".health")).to_have_text(re.compile("Needs reconnecting: the token was revoked on X"))
    page.get_by_role("button", name="Reconnect @TwitterDev (x)").click()
    expect(page.get_by_role("status")).to_have_text("Connected @TwitterDev (x).")
    expect(card.locator(".health")).to_have_text(re.compile(r"Healthy"))
    expect(page.get_by_role("button", name=re.compile("Reconnect"))).to_have_count(0)
    assert len(asked) == 2
    again = chorus.call("GET", "/accounts", team.owner.id_token, workspace=team.workspace_id).json()
    assert [a["status"] for a in again["accounts"] if a["id"] == x["id"]] == ["active"]

    # A state this tab did not start is refused with a clear message, and nothing is connected
    page.goto(chorus.rt.web_url + "/accounts?code=good&state=forged")
    expect(page.get_by_role("alert")).to_contain_text("not started here")


def test_with_a_done_url_configured_the_connection_still_ends_on_the_accounts_page(
    page: Any, chorus: Chorus, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chorus.accounts.apps import get_apps

    # The API answers the callback with a 302 to that URL: the page does not follow it, and says so
    monkeypatch.setattr(get_apps(), "oauth_done_url", "https://elsewhere.example/connected")
    consent(page)
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Accounts").click()
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("status")).to_have_text("Connected to x.")
    assert urlsplit(page.url).path == "/accounts"
    expect(page.locator("li.card.account", has_text="@TwitterDev (x)")).to_be_visible()


def test_a_token_account_that_needs_it_is_reconnected_with_a_new_token(
    page: Any, chorus: Chorus, team: Team
) -> None:
    from chorus.accounts import service as accounts

    accounts.mark_needs_reauth(team.workspace_id, team.accounts["acme_eu"], "refused by the platform")
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Accounts").click()
    card = page.locator("li.card.account", has_text="@acme_eu-")
    expect(card.locator(".health")).to_have_text(re.compile("Needs reconnecting: refused by the platform"))
    expect(page.locator("li.card.account", has_text="@acme-").locator(".health")).to_have_text(
        re.compile("Healthy")
    )
    # A token of another account is refused at the field (the platform says whose it is)
    card.get_by_label("New access token").fill("tok-someone-else")
    card.get_by_role("button", name="Reconnect").click()
    expect(card.get_by_label("New access token")).to_have_attribute("aria-invalid", "true")
    expect(card.locator(".error")).to_contain_text("belongs to another account")
    own = next(a for a in chorus.call("GET", "/accounts", team.owner.id_token, workspace=team.workspace_id)
               .json()["accounts"] if a["id"] == team.accounts["acme_eu"])  # fmt: skip
    card.get_by_label("New access token").fill(
        f"tok-{own['platform_account_id']}"
    )  # the sandbox's token for it
    card.get_by_role("button", name="Reconnect").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Reconnected @acme_eu-"))
    expect(card.locator(".health")).to_have_text(re.compile("Healthy"))
    listed = chorus.call("GET", "/accounts", team.owner.id_token, workspace=team.workspace_id).json()[
        "accounts"
    ]
    assert sorted(a["status"] for a in listed) == ["active", "active"]


def test_the_workspace_pages_have_no_serious_accessibility_violation_and_fit_a_phone(
    browser: Any, page: Any, chorus: Chorus, team: Team
) -> None:
    from chorus.accounts import service as accounts

    accounts.mark_needs_reauth(team.workspace_id, team.accounts["acme_eu"], "refused by the platform")
    chorus.call("POST", "/invitations", team.owner.id_token, workspace=team.workspace_id,
                json={"email": "pending@example.com", "role": "viewer"})  # fmt: skip
    sign_in(page, chorus, team.owner, team.workspace_id)
    found = {}
    pages = (
        ("/members", "pending@example.com"),
        ("/keys", "No API keys yet."),
        ("/accounts", "Needs reconnecting"),
    )
    for path, ready in pages:
        page.goto(chorus.rt.web_url + path)
        expect(page.get_by_text(ready).first).to_be_visible()
        found[path] = serious_violations(page)
    assert found == {path: [] for path in found}

    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, chorus, team.owner, team.workspace_id)
    for path, ready in pages:
        phone.goto(chorus.rt.web_url + path)
        expect(phone.get_by_text(ready).first).to_be_visible()
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide at a phone's 390"
    phone.context.close()
