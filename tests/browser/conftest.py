"""The web app in a real browser: Debian's ``chromium`` driven by Playwright (headless; ``make test-deps``
installs it; Playwright's own browsers are never downloaded), against the embedded runtime serving
web/dist (built here by ``make web`` when a source changed)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chorus.auth.members import add_member
from chorus.auth.roles import Role
from tests.integration.harness import PASSWORD, REPO, Chorus, Person

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"


@dataclass
class Team:
    """A workspace made by its owner in the API, with sandbox accounts and a contributor."""

    workspace_id: str
    timezone: str
    owner: Person
    contributor: Person
    accounts: dict[str, str]  # handle -> account id


@pytest.fixture(scope="session")
def built() -> Path:
    subprocess.run(["make", "-s", "web"], cwd=REPO, check=True)
    return REPO / "web" / "dist"


@pytest.fixture(scope="module")
def chorus(built: Path) -> Iterator[Chorus]:
    c = Chorus()
    yield c
    c.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        launched = play.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


_made = iter(range(1_000_000))


def new_team(
    chorus: Chorus, timezone: str = "Europe/Paris", handles: tuple[str, ...] = ("acme", "acme_eu")
) -> Team:
    n = next(_made)
    owner = chorus.person(f"owner{n}-{id(chorus)}@example.com")
    made = chorus.call(
        "POST", "/workspaces", owner.id_token, json={"name": f"Acme {n}", "timezone": timezone}
    )
    assert made.status_code == 201, made.text
    ws = made.json()["id"]
    accounts = {}
    for handle in handles:
        answer = chorus.call(
            "POST",
            "/accounts",
            owner.id_token,
            workspace=ws,
            json={"platform": "sandbox", "platform_account_id": f"{handle}-{n}", "access_token": f"tok-{handle}-{n}",
                  "handle": f"{handle}-{n}"},
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        accounts[handle] = answer.json()["id"]
    contributor = chorus.person(f"intern{n}-{id(chorus)}@example.com")
    add_member(ws, contributor.user_id, contributor.email, Role.CONTRIBUTOR)
    return Team(ws, timezone, owner, contributor, accounts)


@pytest.fixture
def team(chorus: Chorus) -> Team:
    return new_team(chorus)


def sign_in(page: Any, chorus: Chorus, person: Person, workspace_id: str) -> None:
    """Sign in through the app's form; the workspace chosen in the switcher."""
    page.goto(chorus.rt.web_url + "/sign-in")
    page.get_by_label("E-mail").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    switcher = page.get_by_label("Workspace")
    switcher.wait_for()
    switcher.select_option(workspace_id)


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in found
        if v["impact"] in {"serious", "critical"}
    ]


PHONE = {"width": 390, "height": 844}


def fits_a_phone(page: Any) -> None:
    """The page as it is, in a phone-sized context (``PHONE``): no sideways scroll, no serious axe finding."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide at a phone's {PHONE['width']}"
    assert serious_violations(page) == []
