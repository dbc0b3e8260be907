"""The composer's uploads, thread parts and first comment in Debian's chromium: a file chosen in the page
goes straight to the media bucket (the presigned PUT of ``POST /media``, through the bucket's CORS rule)
with its progress and preview, and the scheduled post carries it; a platform's media rule is shown before
sending; a thread of 3 parts and a first comment reach the API as parts of the X and Bluesky targets
only, the server's 422 shown at the part it names."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import Team, serious_violations, sign_in
from tests.browser.inbox_support import connect_page
from tests.browser.test_web_app import local_input
from tests.integration.harness import Chorus, eventually
from tests.mp4_sample import make_mp4


def call(chorus: Chorus, team: Team, method: str, path: str, **kw: Any) -> Any:
    answer = chorus.call(method, path, team.owner.id_token, workspace=team.workspace_id, **kw)
    assert answer.status_code < 300, answer.text
    return answer.json()


def picture(width: int, height: int, kind: str = "JPEG") -> bytes:
    made = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(made, kind)
    return made.getvalue()


SANDBOX = r"^@acme-\d+ \(sandbox\)"


def open_composer(page: Any, chorus: Chorus, team: Team, accounts: tuple[str, ...], text: str) -> None:
    """Signed in as the owner, the composer open with ``accounts`` (patterns of their labels) chosen and
    ``text`` written."""
    sign_in(page, chorus, team.owner, team.workspace_id)
    page.get_by_role("link", name="Compose").click()
    expect(page.get_by_role("heading", name="Compose")).to_be_visible()
    for label in accounts:
        page.get_by_role("checkbox", name=re.compile(label)).check()
    page.get_by_label("Text", exact=True).fill(text)


def test_an_uploaded_image_is_previewed_and_the_scheduled_post_carries_it(
    page: Any, chorus: Chorus, team: Team
) -> None:
    open_composer(page, chorus, team, (SANDBOX,), "Our new shop front")
    png = picture(800, 600, "PNG")
    page.get_by_label("Upload images or videos").set_input_files(
        files=[{"name": "shop.png", "mimeType": "image/png", "buffer": png}]
    )
    attachment = page.locator(".attachment")
    expect(attachment).to_have_count(1)
    expect(attachment.locator("img")).to_have_attribute("src", re.compile(r"^blob:"))  # the local preview
    expect(attachment.get_by_text("800×600")).to_be_visible()  # read from the file in the browser
    expect(attachment.get_by_role("status")).to_have_text("Uploaded", timeout=60_000)  # the library read it
    natural = attachment.locator("img").evaluate("img => img.naturalWidth")
    assert natural == 800  # the preview is the picture itself
    attachment.get_by_label("Description (alt text)").fill("The shop front in teal")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    at = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    page.get_by_label(re.compile(r"^Date and time")).fill(local_input(at, team.timezone))
    page.get_by_role("button", name="Create post").click()
    expect(page.get_by_role("status").filter(has_text="Created")).to_be_visible()

    [post] = call(chorus, team, "GET", "/posts")["posts"]
    [media] = post["content"]["media"]
    assert media["mime_type"] == "image/png"
    assert media["size"] == len(png)
    assert media["alt_text"] == "The shop front in teal"
    [item] = call(chorus, team, "GET", "/media")["media"]
    assert item["key"] == media["key"]
    assert item["state"] == "ready"
    assert (item["width"], item["height"]) == (800, 600)  # the stored file is the one chosen
    eventually(lambda: call(chorus, team, "GET", f"/media/{item['id']}")["used_by"] == [post["id"]])
    assert post["status"] == "scheduled"


def test_the_servers_422_on_an_attachment_is_shown_at_the_media(
    page: Any, chorus: Chorus, team: Team
) -> None:
    open_composer(page, chorus, team, (SANDBOX,), "Gone before it was posted")
    page.get_by_label("Upload images or videos").set_input_files(
        files=[{"name": "gone.png", "mimeType": "image/png", "buffer": picture(400, 400, "PNG")}]
    )
    expect(page.locator(".attachment").get_by_role("status")).to_have_text("Uploaded", timeout=60_000)
    [item] = call(chorus, team, "GET", "/media")["media"]
    gone = chorus.call("DELETE", f"/media/{item['id']}", team.owner.id_token, workspace=team.workspace_id)
    assert gone.status_code == 204, gone.text  # deleted from the library meanwhile
    page.get_by_label("Save as draft").check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert")).to_contain_text("The post was not created: see the fields marked.")
    expect(page.locator("#media-error")).to_contain_text("not in the media library")
    expect(page.get_by_role("group", name="Media")).to_have_attribute("aria-describedby", "media-error")
    assert call(chorus, team, "GET", "/posts")["posts"] == []


def test_a_broken_media_rule_is_shown_before_sending(page: Any, chorus: Chorus, team: Team) -> None:
    connect_page(team.workspace_id, f"ig-{team.workspace_id}", handle="acme.ig", platform="instagram")
    open_composer(page, chorus, team, (r"acme\.ig \(instagram\)",), "Autumn collection")
    create = page.get_by_role("button", name="Create post")
    expect(page.get_by_text("Instagram needs an image or a video (media.required)")).to_be_visible()
    expect(create).to_be_disabled()

    page.get_by_label("Upload images or videos").set_input_files(
        files=[{"name": "wide.jpg", "mimeType": "image/jpeg", "buffer": picture(1000, 400)}]
    )
    wide = page.locator(".attachment").filter(has_text="wide.jpg")
    expect(wide.get_by_text(
        "Instagram takes aspect ratios (width/height) of 0.80 to 1.91; this is 2.50 (media.aspect_ratio)"
    )).to_be_visible()  # fmt: skip
    expect(create).to_be_disabled()
    expect(page.get_by_text("An attachment breaks a chosen platform's media rules")).to_be_visible()
    assert serious_violations(page) == []

    page.get_by_role("button", name="Remove wide.jpg").click()
    # a file dropped on the upload area is uploaded too
    square = list(picture(1000, 1000))
    page.locator(".drop").evaluate(
        """(area, bytes) => {
            const dropped = new DataTransfer()
            dropped.items.add(new File([new Uint8Array(bytes)], 'square.jpg', { type: 'image/jpeg' }))
            area.dispatchEvent(new DragEvent('drop', { dataTransfer: dropped, bubbles: true, cancelable: true }))
        }""",
        square,
    )
    expect(page.locator(".attachment").filter(has_text="square.jpg").get_by_role("status")).to_have_text(
        "Uploaded", timeout=60_000
    )
    expect(page.locator(".attachment .error")).to_have_count(0)
    expect(create).to_be_enabled()
    assert call(chorus, team, "GET", "/posts")["posts"] == []  # nothing was sent meanwhile


def test_a_video_too_long_for_x_is_shown_with_its_length_before_sending(
    page: Any, chorus: Chorus, team: Team
) -> None:
    connect_page(team.workspace_id, f"x-{team.workspace_id}", handle="acme_x", platform="x")
    open_composer(page, chorus, team, (r"acme_x \(x\)",), "The whole keynote")
    page.get_by_label("Upload images or videos").set_input_files(
        files=[{"name": "keynote.mp4", "mimeType": "video/mp4", "buffer": make_mp4(1280, 720, 150.0)}]
    )
    video = page.locator(".attachment").filter(has_text="keynote.mp4")
    # the length and size as the library read them from the stored file (the browser may not decode it)
    expect(video.locator(".length")).to_have_text("2:30", timeout=60_000)
    expect(video).to_contain_text("1280×720")
    expect(
        video.get_by_text("X takes videos of 0.5 to 140 seconds; this is 150.0 (media.duration)")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Create post")).to_be_disabled()
    assert serious_violations(page) == []


def test_a_thread_of_three_parts_and_a_first_comment_reach_the_api_as_parts(
    page: Any, chorus: Chorus, team: Team
) -> None:
    ws = team.workspace_id
    x = connect_page(ws, f"x-{ws}", handle="acme_x", platform="x")
    bsky = connect_page(ws, f"did:plc:{ws}", handle="acme.bsky.social", platform="bluesky")
    li = connect_page(ws, f"li-{ws}", handle="acme_li", platform="linkedin")
    handles = tuple(re.escape(h) for h in ("acme_x", "acme.bsky.social", "acme_li"))
    open_composer(page, chorus, team, handles, "1/ Autumn is here")
    thread = page.locator("fieldset.thread")
    expect(thread).to_contain_text(
        re.compile(r"published as replies to the post on (X, Bluesky|Bluesky, X)\.")
    )
    expect(thread).to_contain_text("LinkedIn does not take threads: it gets the main text only.")
    thread.get_by_role("button", name="Add a thread part").click()
    page.get_by_label("Part 2", exact=True).fill("2/ New colours")
    thread.get_by_role("button", name="Add a thread part").click()
    page.get_by_label("Part 3", exact=True).fill("3/ " + "é" * 300)  # over X's and Bluesky's limits
    part3 = thread.locator(".part").nth(1)
    expect(part3.locator(".counter.over")).to_have_count(2)  # its own counter, for each platform
    expect(part3).to_contain_text("X allows 280 weighted characters; this has 303")
    page.get_by_label("Part 3", exact=True).fill("3/ In the shop on Friday")
    expect(part3.locator(".counter.over")).to_have_count(0)
    expect(part3).to_contain_text("X: 24 / 280 weighted characters")

    comment = page.locator("fieldset.first-comment")
    expect(comment).to_contain_text("Not for LinkedIn: it does not take a first comment.")
    page.get_by_label(re.compile(r"^First comment")).fill("Shop: https://example.com/autumn")
    expect(comment.locator(".counter")).to_have_count(2)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Save as draft").check()

    # an empty part: the server refuses it, and says so at the part
    thread.get_by_role("button", name="Add a thread part").click()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert")).to_contain_text("The post was not created")
    part4 = thread.locator(".part").nth(2)
    expect(part4.locator(".error")).to_contain_text("a thread part cannot be empty")
    expect(page.get_by_label("Part 4", exact=True)).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []
    part4.get_by_role("button", name="Remove part 4").click()

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Created")).to_be_visible()
    [post] = call(chorus, team, "GET", "/posts")["posts"]
    parts = ["2/ New colours", "3/ In the shop on Friday"]
    for account in (x, bsky):
        assert post["variants"][account]["text"] == "1/ Autumn is here"
        assert post["variants"][account]["thread"] == parts
        assert post["variants"][account]["first_comment"] == "Shop: https://example.com/autumn"
    assert li not in post["variants"]
    assert post["content"]["thread"] == []
    assert post["content"]["first_comment"] is None


def test_a_thread_and_a_first_comment_published_now_are_each_a_part_on_the_platform(
    page: Any, chorus: Chorus, team: Team
) -> None:
    open_composer(page, chorus, team, (SANDBOX,), "1/ Autumn is here")
    for n, text in ((2, "2/ New colours"), (3, "3/ In the shop on Friday")):
        page.get_by_role("button", name="Add a thread part").click()
        page.get_by_label(f"Part {n}", exact=True).fill(text)
    page.get_by_label(re.compile(r"^First comment")).fill("Shop: https://example.com/autumn")
    page.get_by_label("Publish now").check()
    page.get_by_role("button", name="Create post").click()
    expect(page.get_by_role("status").filter(has_text="Created")).to_be_visible()

    def published() -> dict[str, Any] | None:
        [post] = call(chorus, team, "GET", "/posts")["posts"]
        return post if post["status"] == "published" else None

    post = eventually(published, timeout=60, every=1)
    [target] = post["targets"]
    assert sorted(target["parts"]) == ["0", "1", "2", "comment"]  # the root, 2 replies, the comment
