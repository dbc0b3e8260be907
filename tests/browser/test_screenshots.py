"""PNGs of the web app's pages with demo data: ``make screenshots`` writes them to docs/screenshots/
(``CHORUS_SCREENSHOTS``); under ``make test`` they go to a temporary directory and are only checked."""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import new_team, sign_in
from tests.browser.inbox_support import inbox_demo
from tests.integration.harness import REPO, Chorus, eventually

PAGES = (
    "sign-in",
    "calendar-month",
    "calendar-week",
    "composer",
    "approvals",
    "calendar-phone",
    "inbox",
    "inbox-phone",
)


def screenshots_dir(tmp_path: Path) -> Path:
    """Where the PNGs go: ``CHORUS_SCREENSHOTS`` (relative to the repository), else ``tmp_path``."""
    out = Path(os.environ.get("CHORUS_SCREENSHOTS") or tmp_path)
    if not out.is_absolute():
        out = REPO / out
    out.mkdir(parents=True, exist_ok=True)
    return out


def demo_posts(
    chorus: Chorus, ws: str, owner: str, contributor: str, accounts: dict[str, str], handles: dict[str, str]
) -> None:
    def post(token: str, **body: Any) -> str:
        answer = chorus.call("POST", "/posts", token, workspace=ws, json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    everyone = list(accounts.values())
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    chorus.fault(kind="status", account=handles["acme_jp"], status=400,
                 message="Duplicate status: this text was posted already", times=1)  # fmt: skip
    sent = post(
        owner, text="Our autumn blend is here 🍂 https://example.com/autumn", accounts=everyone, mode="now"
    )
    texts = [
        "Tasting event this Saturday, 10:00 to 14:00 ☕",
        "Behind the roast: meet our team in Lyon",
        "5 ways to brew at home #coffee #homebrew",
        "Holiday gift boxes are live 🎁",
        "Customer story: a café in Kyoto 京都",
    ]
    tags = {2: ["tips"], 3: ["holidays", "shop"]}
    for i, text in enumerate(texts):
        at = now + timedelta(days=1 + 2 * i, hours=i)
        post(
            owner,
            text=text,
            accounts=everyone[: 1 + i % 3],
            scheduled_at=at.isoformat(),
            tags=tags.get(i, []),
        )
    # the queue posts on weekdays at 09:00: the calendar shows the slots no queued post holds
    slots = {"slots": [{"weekday": d, "time": "09:00"} for d in range(5)]}
    assert chorus.call("PUT", "/queue/slots", owner, workspace=ws, json=slots).status_code == 200
    post(owner, text="From the queue: our roaster's tip of the week", accounts=everyone[:1], mode="queue")
    post(owner, text="Draft: winter menu teaser", accounts=everyone[:1], mode="draft",
         scheduled_at=(now + timedelta(days=3)).isoformat())  # fmt: skip
    post(contributor, text="New mugs in store, 20% off this week only!", accounts=everyone[:2],
         scheduled_at=(now + timedelta(days=2, hours=3)).isoformat())  # fmt: skip

    def settled() -> bool:
        found = chorus.call("GET", f"/posts/{sent}", owner, workspace=ws).json()
        return all(t["state"] in {"published", "failed"} for t in found["targets"])

    eventually(settled, timeout=30)


def test_screenshots_of_every_page_with_demo_data(browser: Any, chorus: Chorus, tmp_path: Path) -> None:
    out = screenshots_dir(tmp_path)
    team = new_team(chorus, handles=("acme", "acme_eu", "acme_jp"))
    handles = {
        a["id"]: a["handle"]
        for a in chorus.call("GET", "/accounts", team.owner.id_token, workspace=team.workspace_id).json()[
            "accounts"
        ]
    }
    by_name = {name: handles[account] for name, account in team.accounts.items()}
    demo_posts(
        chorus, team.workspace_id, team.owner.id_token, team.contributor.id_token, team.accounts, by_name
    )

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(chorus.rt.web_url + "/sign-in")
    page.get_by_label("E-mail").fill(team.owner.email)
    page.screenshot(path=out / "sign-in.png")
    sign_in(page, chorus, team.owner, team.workspace_id)
    expect(page.locator("article.entry.published").first).to_be_visible()
    expect(page.locator("article.entry.failed")).to_have_count(1)
    page.screenshot(path=out / "calendar-month.png", full_page=True)
    page.get_by_role("button", name="Week").click()
    page.screenshot(path=out / "calendar-week.png", full_page=True)
    page.get_by_role("link", name="Compose").click()
    expect(page.get_by_role("checkbox")).to_have_count(3)
    for box in page.get_by_role("checkbox").all():
        box.check()
    page.get_by_label("Text", exact=True).fill(
        "Autumn blend tasting in Lyon this Saturday ☕ https://example.com/tasting"
    )
    page.locator("section.variant textarea").last.fill("x" * 510)
    picture = io.BytesIO()
    Image.new("RGB", (1200, 800), (120, 72, 40)).save(picture, "JPEG")
    page.get_by_label("Upload images or videos").set_input_files(
        files=[{"name": "tasting.jpg", "mimeType": "image/jpeg", "buffer": picture.getvalue()}]
    )
    expect(page.locator(".attachment").get_by_role("status")).to_have_text("Uploaded", timeout=60_000)
    page.get_by_role("button", name="Add a thread part").click()
    page.get_by_label("Part 2", exact=True).fill("Tickets at the door, first come first served.")
    page.screenshot(path=out / "composer.png", full_page=True)
    page.get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("button", name="Approve")).to_be_visible()
    page.screenshot(path=out / "approvals.png", full_page=True)
    opened = inbox_demo(chorus, team.owner.id_token, team.workspace_id, team.accounts, by_name)
    page.get_by_role("link", name="Inbox").click()
    page.locator("section.conversations button.row", has_text=opened).click()
    expect(page.locator("section.thread article.message")).to_have_count(1)
    expect(page.locator(".badge.sla.nearing").first).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    page.screenshot(path=out / "inbox.png", full_page=True)
    page.context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, chorus, team.owner, team.workspace_id)
    expect(phone.locator("article.entry").first).to_be_visible()
    phone.screenshot(path=out / "calendar-phone.png")
    phone.get_by_role("link", name="Inbox").click()
    expect(phone.locator("section.conversations button.row")).to_have_count(4)
    expect(phone.get_by_role("status").filter(has_text="Live")).to_be_visible()
    phone.screenshot(path=out / "inbox-phone.png")
    phone.context.close()
    for name in PAGES:
        assert (out / f"{name}.png").stat().st_size > 5_000, name


WORKSPACE_PAGES = ("members", "keys", "accounts", "reports", "listening", "listening-phone")


def test_screenshots_of_the_workspace_reports_and_listening_pages(
    browser: Any, chorus: Chorus, tmp_path: Path
) -> None:
    from chorus.accounts import service as accounts
    from tests.browser.listening_support import crisis

    out = screenshots_dir(tmp_path)
    team = new_team(chorus, handles=("acme", "acme_eu", "acme_jp"))
    ws, token = team.workspace_id, team.owner.id_token
    for name, role in (("Zapier", "editor"), ("Dashboard", "viewer")):
        made = chorus.call("POST", "/keys", token, workspace=ws, json={"name": name, "role": role})
        assert made.status_code == 201, made.text
    sent = chorus.call("POST", "/posts", token, workspace=ws,
                       json={"text": "Our autumn blend is here", "accounts": list(team.accounts.values()), "mode": "now"})  # fmt: skip
    assert sent.status_code == 201, sent.text

    def settled() -> bool:
        found = chorus.call("GET", f"/posts/{sent.json()['id']}", token, workspace=ws).json()
        return all(t["state"] == "published" for t in found["targets"])

    eventually(settled, timeout=30)
    accounts.mark_needs_reauth(ws, team.accounts["acme_jp"], "the platform refused the token")
    crisis(chorus, team)

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, chorus, team.owner, ws)
    page.get_by_role("link", name="Members").click()
    expect(page.get_by_role("table", name="Members of the workspace")).to_contain_text(team.contributor.email)
    page.screenshot(path=out / "members.png", full_page=True)
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Looker Studio")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_label("reports").check()
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_label("Secret")).to_be_visible()
    page.screenshot(path=out / "keys.png", full_page=True)
    page.get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("button", name="Reconnect")).to_be_visible()
    page.screenshot(path=out / "accounts.png", full_page=True)
    page.get_by_role("link", name="Reports").click()
    today = datetime.now(UTC).date()
    page.get_by_label("From", exact=True).fill((today - timedelta(days=6)).isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("img", name="Engagements and posts per platform")).to_have_attribute(
        "data-drawn", "true"
    )
    page.screenshot(path=out / "reports.png", full_page=True)
    page.get_by_role("link", name="Listening").click()
    expect(page.get_by_role("img", name=re.compile("Mentions per hour"))).to_have_attribute(
        "data-drawn", "true"
    )
    expect(page.locator("li.incident")).to_have_count(1)
    page.screenshot(path=out / "listening.png", full_page=True)
    page.context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, chorus, team.owner, ws)
    phone.goto(chorus.rt.web_url + "/listening")
    expect(phone.locator("li.incident")).to_have_count(1)
    phone.screenshot(path=out / "listening-phone.png")
    phone.context.close()
    for name in WORKSPACE_PAGES:
        assert (out / f"{name}.png").stat().st_size > 5_000, name


REVIEW_PAGES = ("approvals-changes", "notifications", "sign-up")


def test_screenshots_of_the_changes_to_approve_notifications_and_sign_up(
    browser: Any, chorus: Chorus, tmp_path: Path
) -> None:
    out = screenshots_dir(tmp_path)
    team = new_team(chorus)
    acme, eu = team.accounts["acme"], team.accounts["acme_eu"]

    def call(token: str, method: str, path: str, **body: Any) -> dict[str, Any]:
        answer = chorus.call(method, path, token, workspace=team.workspace_id, json=body)
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json())

    at = (datetime.now(UTC) + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)
    first = {"text": "Autumn blend tasting in Lyon this Saturday, 10:00 to 14:00 ☕", "accounts": [acme, eu],
             "variants": {eu: {"text": "Dégustation à Lyon samedi, de 10 h à 14 h ☕"}},
             "media": [{"mime_type": "image/jpeg", "url": "https://cdn.example/autumn/beans.jpg", "alt_text": "roasted beans"}],
             "scheduled_at": at.isoformat()}  # fmt: skip
    made = call(team.contributor.id_token, "POST", "/posts", **first)
    call(team.owner.id_token, "POST", f"/posts/{made['id']}/approve", version=1, comment="Lovely")
    second = {**first, "text": "Autumn blend tasting in Lyon this Sunday, 11:00 to 15:00 ☕",
              "variants": {eu: {"text": "Dégustation à Lyon dimanche, de 11 h à 15 h ☕"}},
              "media": [{"mime_type": "image/jpeg", "url": "https://cdn.example/autumn/cups.jpg", "alt_text": "two cups"}],
              "scheduled_at": (at + timedelta(days=1, hours=1)).isoformat(), "version": 1}  # fmt: skip
    call(team.contributor.id_token, "PUT", f"/posts/{made['id']}", **second)
    other = call(team.contributor.id_token, "POST", "/posts", text="20% off every mug, today only!",
                 accounts=[acme], scheduled_at=at.isoformat())  # fmt: skip
    call(team.owner.id_token, "POST", f"/posts/{other['id']}/reject", comment="No discounts this month")

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("region", name=re.compile("Changes since version 1"))).to_be_visible()
    page.screenshot(path=out / "approvals-changes.png", full_page=True)
    page.context.close()

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, chorus, team.contributor, team.workspace_id)
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    expect(page.get_by_role("article")).to_have_count(2)
    page.screenshot(path=out / "notifications.png", full_page=True)
    page.context.close()

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(chorus.rt.web_url + "/sign-up")
    page.get_by_label("E-mail").fill("new.barista@example.com")
    page.get_by_label("Password").fill("coffee")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_be_visible()
    page.screenshot(path=out / "sign-up.png")
    page.context.close()
    for name in REVIEW_PAGES:
        assert (out / f"{name}.png").stat().st_size > 5_000, name
