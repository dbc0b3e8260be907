"""The content library in the web composer (Debian's chromium): a template rendered with a variable (its
platform variant lands in the account's variant), a hashtag group added, a media library file attached;
the post made is the one the pickers composed, and the file counts it as a user."""

from __future__ import annotations

import io
import re
from typing import Any

import requests
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import Team, serious_violations, sign_in
from tests.integration.harness import Chorus, eventually


def call(chorus: Chorus, team: Team, method: str, path: str, **kw: Any) -> Any:
    answer = chorus.call(method, path, team.owner.id_token, workspace=team.workspace_id, **kw)
    assert answer.status_code < 300, answer.text
    return answer.json()


def test_a_post_composed_from_a_template_a_hashtag_group_and_a_library_file(
    page: Any, chorus: Chorus, team: Team
) -> None:
    call(chorus, team, "POST", "/templates", json={
        "name": "Greeting", "text": "Hello {{city}}!", "variables": [{"name": "city", "default": "Paris"}],
        "variants": {"sandbox": "Salut {{city}}"},
    })  # fmt: skip
    call(chorus, team, "POST", "/hashtag-groups", json={"name": "Autumn", "hashtags": ["autumn", "launch"]})
    image = io.BytesIO()
    Image.new("RGB", (800, 600), "orange").save(image, "PNG")
    made = call(chorus, team, "POST", "/media", json={"filename": "banner.png", "mime_type": "image/png",
                                                     "size": len(image.getvalue())})  # fmt: skip
    assert requests.put(made["upload_url"], data=image.getvalue(), headers={"Content-Type": "image/png"},
                        timeout=30).status_code == 200  # fmt: skip
    eventually(lambda: call(chorus, team, "GET", f"/media/{made['id']}")["state"] == "ready", timeout=60)

    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Compose").click()
    page.get_by_role("checkbox", name=re.compile(r"^@acme-\d+ \(sandbox\)")).check()
    page.get_by_label("Template", exact=True).select_option(label="Greeting")
    expect(page.get_by_label("city")).to_have_value("Paris")  # the variable's default
    page.get_by_label("city").fill("Lyon")
    page.get_by_role("button", name="Use template").click()
    expect(page.get_by_label("Text", exact=True)).to_have_value("Hello Lyon!")
    variant = page.get_by_label(re.compile(r"^Text for @acme-"))
    expect(variant).to_have_value("Salut Lyon")  # the sandbox variant, for the sandbox account

    page.get_by_label("Hashtag group").select_option(label="Autumn (2)")
    page.get_by_role("button", name="Add hashtags").click()
    expect(page.get_by_label("Text", exact=True)).to_have_value("Hello Lyon!\n\n#autumn #launch")
    expect(variant).to_have_value("Salut Lyon\n\n#autumn #launch")

    page.get_by_role("checkbox", name=re.compile("banner.png")).check()
    expect(page.locator(".media-library img")).to_have_count(1)
    assert serious_violations(page) == []
    page.get_by_label("Save as draft").check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Created")).to_be_visible()

    posts = call(chorus, team, "GET", "/posts")["posts"]
    assert len(posts) == 1
    account = team.accounts["acme"]
    assert posts[0]["content"]["text"] == "Hello Lyon!\n\n#autumn #launch"
    assert posts[0]["variants"][account]["text"] == "Salut Lyon\n\n#autumn #launch"
    assert [m["key"] for m in posts[0]["content"]["media"]] == [made["key"]]
    assert call(chorus, team, "GET", f"/media/{made['id']}")["used_by"] == [posts[0]["id"]]
