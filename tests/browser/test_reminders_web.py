"""Reminder publishing in the web app (chromium): a Xiaohongshu post waiting for a person shows on the
calendar as "Post it by hand" and is marked posted there with its URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Team, sign_in
from tests.integration.harness import Chorus, eventually


def test_a_post_waiting_for_a_person_is_marked_posted_from_the_calendar(
    page: Any, chorus: Chorus, team: Team
) -> None:
    def call(method: str, path: str, **kw: Any) -> Any:
        return chorus.call(method, path, team.owner.id_token, workspace=team.workspace_id, **kw)

    added = call("POST", "/accounts", json={"platform": "xiaohongshu", "display_name": "品牌",
                                            "profile_url": "https://www.xiaohongshu.com/user/profile/5f1"})  # fmt: skip
    assert added.status_code == 201, added.text
    account = added.json()["id"]
    due = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    made = call("POST", "/posts", json={"title": "春天", "text": "春季限定", "accounts": [account],
                                        "media": [{"mime_type": "image/jpeg", "url": "https://cdn.brand.example/a.jpg"}],
                                        "scheduled_at": due.isoformat()})  # fmt: skip
    assert made.status_code == 201, made.text
    post_id = made.json()["id"]
    eventually(lambda: call("GET", f"/posts/{post_id}").json()["status"] == "awaiting_manual", timeout=40)

    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("button", name="Week").click()
    entry = page.locator("article.entry.awaiting_manual")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Post it by hand")
    entry.get_by_label("The post's URL").fill("https://www.xiaohongshu.com/explore/64f1a2b3")
    entry.get_by_role("button", name="Mark posted").click()
    expect(page.get_by_role("status").filter(has_text="Marked posted.")).to_be_visible()
    published = page.locator("article.entry.published")
    expect(published).to_have_count(1)
    expect(published.get_by_role("link", name="View the post")).to_have_attribute(
        "href", "https://www.xiaohongshu.com/explore/64f1a2b3"
    )
    target = call("GET", f"/posts/{post_id}").json()["targets"][0]
    assert (target["state"], target["url"]) == ("published", "https://www.xiaohongshu.com/explore/64f1a2b3")
