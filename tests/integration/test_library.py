"""The content library on the embedded runtime: uploads through POST /media become media library items
(the bucket's Object Created event -> EventBridge -> MediaLibraryFunction reads the file and writes its
thumbnail), search, tags, usage by posts, platform fitness, deleting a file in use refused; templates
rendered into a post; hashtag groups; workspaces never see each other's items; bad input is a 4xx
naming the field."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import requests
from PIL import Image

from chorus.posts.validation import PLATFORM_RULES
from tests.integration.harness import Chorus, eventually
from tests.mp4_sample import make_mp4

FAR = "2031-03-02T09:00:00Z"  # scheduled far ahead: nothing publishes during the test


def png(width: int, height: int) -> bytes:
    image = Image.new("RGBA", (width, height), (30, 120, 200, 255))
    for x in range(0, width, 7):
        image.putpixel((x, x * height // width), (255, 0, 0, 128))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(
    chorus: Chorus, key: str, filename: str, mime: str, data: bytes, tags: list[str] | None = None
) -> str:
    answer = chorus.call(
        "POST",
        "/media",
        key,
        json={"filename": filename, "mime_type": mime, "size": len(data), "tags": tags or []},
    )
    assert answer.status_code == 201, answer.text
    made = answer.json()
    put = requests.put(made["upload_url"], data=data, headers={"Content-Type": mime}, timeout=30)
    assert put.status_code == 200, put.text
    return str(made["id"])


def settled(chorus: Chorus, key: str, media_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        item = chorus.call("GET", f"/media/{media_id}", key).json()
        return item if item["state"] != "uploading" else None

    return eventually(probe, timeout=60)


def scheduled(
    chorus: Chorus, key: str, accounts: list[str], text: str, media: list[dict[str, Any]]
) -> requests.Response:
    """POST /posts: ``text`` with ``media`` for ``accounts``, scheduled far ahead."""
    body = {"text": text, "media": media, "accounts": accounts, "scheduled_at": FAR}
    return chorus.call("POST", "/posts", key, json=body)


def thumbnail(item: dict[str, Any]) -> Image.Image:
    answer = requests.get(item["thumbnail_url"], timeout=30)
    assert answer.status_code == 200
    return Image.open(io.BytesIO(answer.content))


@pytest.fixture(scope="module")
def owner(chorus: Chorus) -> tuple[str, str]:
    _, key = chorus.workspace("Library")
    return key, chorus.sandbox_account(key, "library")


@pytest.fixture(scope="module")
def image_id(chorus: Chorus, owner: tuple[str, str]) -> str:
    return upload(chorus, owner[0], "Summer banner.png", "image/png", png(1200, 800), ["Summer", "banner"])


@pytest.fixture(scope="module")
def video_id(chorus: Chorus, owner: tuple[str, str]) -> str:
    return upload(chorus, owner[0], "teaser.mp4", "video/mp4", make_mp4(1080, 1920, 12.5), ["summer"])


def test_an_uploaded_png_gets_its_size_a_thumbnail_and_its_fitness(
    chorus: Chorus, owner: tuple[str, str], image_id: str
) -> None:
    item = settled(chorus, owner[0], image_id)
    assert item["state"] == "ready", item
    assert (item["width"], item["height"], item["aspect_ratio"], item["type"]) == (1200, 800, 1.5, "image")
    assert item["tags"] == ["banner", "summer"]
    thumb = thumbnail(item)
    assert (thumb.format, thumb.size) == ("JPEG", (320, 213))
    fitness = item["fitness"]
    assert fitness["x"] == {"fits": True, "problems": []}
    assert fitness["instagram"]["fits"] is False  # Instagram publishes JPEG only
    assert fitness["instagram"]["problems"][0]["rule"] == "media.unsupported_type"
    assert fitness["youtube"]["fits"] is False  # a video platform
    assert fitness["bluesky"]["fits"] is (item["size"] <= 1_000_000)


def test_an_uploaded_mp4_gets_its_length_and_dimensions_from_its_header(
    chorus: Chorus, owner: tuple[str, str], video_id: str
) -> None:
    item = settled(chorus, owner[0], video_id)
    assert item["state"] == "ready", item
    assert (item["duration_s"], item["width"], item["height"], item["type"]) == (12.5, 1080, 1920, "video")
    assert item["aspect_ratio"] == 0.5625
    assert thumbnail(item).size == (180, 320)  # a poster of the video's own shape
    # 12.5 s and 9:16 are inside every platform's bounds (X: 1:3..3:1 and 140 s; LinkedIn 1:2.4..2.4:1):
    # only the platforms that take no video at all refuse it
    no_video = {p for p, rules in PLATFORM_RULES.items() if "video/mp4" not in rules.media.types}
    assert {p for p, f in item["fitness"].items() if not f["fits"]} == no_video
    assert "x" not in no_video
    assert "tiktok" not in no_video


def test_a_video_too_long_for_x_is_reported_by_rule(chorus: Chorus, owner: tuple[str, str]) -> None:
    media_id = upload(chorus, owner[0], "long.mp4", "video/mp4", make_mp4(1920, 1080, 200.0, moov_last=True))
    item = settled(chorus, owner[0], media_id)
    assert item["duration_s"] == 200.0
    assert [p["rule"] for p in item["fitness"]["x"]["problems"]] == ["media.duration"]
    assert [p["rule"] for p in item["fitness"]["bluesky"]["problems"]] == ["media.duration"]
    assert item["fitness"]["youtube"]["fits"] is True


def test_a_file_that_is_not_what_its_type_says_is_marked_failed_saying_why(
    chorus: Chorus, owner: tuple[str, str]
) -> None:
    fake_png = upload(chorus, owner[0], "fake.png", "image/png", b"GIF89a not really an image at all")
    fake_mp4 = upload(chorus, owner[0], "fake.mp4", "video/mp4", png(10, 10))
    for media_id in (fake_png, fake_mp4):
        item = settled(chorus, owner[0], media_id)
        assert item["state"] == "failed", item
        assert item["error"]
        assert item["fitness"] == {}
        assert item["thumbnail_url"] is None


def test_search_by_name_tag_and_type(
    chorus: Chorus, owner: tuple[str, str], image_id: str, video_id: str
) -> None:
    key = owner[0]

    def ids(**params: str) -> set[str]:
        answer = chorus.call("GET", "/media", key, params=params)
        assert answer.status_code == 200, answer.text
        return {m["id"] for m in answer.json()["media"]}

    assert {image_id, video_id} <= ids()
    listed = [m["id"] for m in chorus.call("GET", "/media", key).json()["media"]]
    assert listed == sorted(listed, reverse=True)  # newest first: an id starts with its upload time
    assert ids(q="BANNER") == {image_id}
    assert ids(tag="summer") == {image_id, video_id}
    assert video_id in ids(type="video")
    assert image_id not in ids(type="video")
    edited = chorus.call("PATCH", f"/media/{video_id}", key, json={"tags": ["Teaser", "q3"]})
    assert edited.status_code == 200
    assert edited.json()["tags"] == ["q3", "teaser"]
    assert ids(tag="summer") == {image_id}
    assert ids(tag="q3") == {video_id}


def test_a_template_rendered_into_a_post(chorus: Chorus, owner: tuple[str, str]) -> None:
    key, account = owner
    made = chorus.call(
        "POST",
        "/templates",
        key,
        json={
            "name": "Welcome",
            "text": "Welcome {{first_name}}! Join us in {{city}}.",
            "variables": [{"name": "first_name"}, {"name": "city", "default": "Lisbon"}],
            "variants": {"sandbox": "Hey {{first_name}}, {{city}} awaits"},
        },
    )
    assert made.status_code == 201, made.text
    template_id = made.json()["id"]
    rendered = chorus.call(
        "POST", f"/templates/{template_id}/render", key, json={"variables": {"first_name": "Ana"}}
    )
    assert rendered.status_code == 200, rendered.text
    out = rendered.json()
    assert out["text"] == "Welcome Ana! Join us in Lisbon."
    assert out["variants"] == {"sandbox": "Hey Ana, Lisbon awaits"}
    post = chorus.call(
        "POST",
        "/posts",
        key,
        json={"text": out["text"], "variants": {account: {"text": out["variants"]["sandbox"]}},
              "accounts": [account], "scheduled_at": FAR},
    )  # fmt: skip
    assert post.status_code == 201, post.text
    stored = chorus.call("GET", f"/posts/{post.json()['id']}", key).json()
    assert stored["content"]["text"] == "Welcome Ana! Join us in Lisbon."
    assert stored["variants"][account]["text"] == "Hey Ana, Lisbon awaits"
    listed = chorus.call("GET", "/templates", key).json()["templates"]
    assert template_id in {t["id"] for t in listed}


def test_rendering_with_an_unknown_variable_is_a_422_naming_it(
    chorus: Chorus, owner: tuple[str, str]
) -> None:
    key = owner[0]
    made = chorus.call(
        "POST", "/templates", key, json={"name": "T", "text": "Hi {{name}}", "variables": [{"name": "name"}]}
    ).json()
    answer = chorus.call("POST", f"/templates/{made['id']}/render", key, json={"variables": {"nmae": "Ana"}})
    assert answer.status_code == 422
    fields = {e["field"]: e["rule"] for e in answer.json()["errors"]}
    assert fields == {"variables.nmae": "unknown_variable", "variables.name": "required"}


def test_templates_are_edited_by_version_and_deleted(chorus: Chorus, owner: tuple[str, str]) -> None:
    key = owner[0]
    made = chorus.call("POST", "/templates", key, json={"name": "V", "text": "v1"}).json()
    body = {"name": "V", "text": "v2", "version": 1}
    assert chorus.call("PUT", f"/templates/{made['id']}", key, json=body).json()["version"] == 2
    assert chorus.call("PUT", f"/templates/{made['id']}", key, json=body).status_code == 409  # stale
    assert chorus.call("DELETE", f"/templates/{made['id']}", key).status_code == 204
    assert chorus.call("GET", f"/templates/{made['id']}", key).status_code == 404


def test_media_in_use_cannot_be_deleted_until_its_post_is(
    chorus: Chorus, owner: tuple[str, str], image_id: str, video_id: str
) -> None:
    key, account = owner
    item = settled(chorus, key, image_id)
    media = [{"mime_type": "image/png", "key": item["key"], "size": item["size"]}]
    post = scheduled(chorus, key, [account], "with a banner", media)
    assert post.status_code == 201, post.text
    post_id = post.json()["id"]
    used = chorus.call("GET", f"/media/{image_id}", key).json()
    assert (used["usage_count"], used["used_by"]) == (1, [post_id])

    refused = chorus.call("DELETE", f"/media/{image_id}", key)
    assert refused.status_code == 409
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert post_id in refused.json()["detail"]
    assert [e["message"] for e in refused.json()["errors"]] == [post_id]

    # an edit that swaps the banner for the video moves the usage
    video = settled(chorus, key, video_id)
    swapped = [{"mime_type": "video/mp4", "key": video["key"], "size": video["size"]}]
    edit = chorus.call(
        "PUT",
        f"/posts/{post_id}",
        key,
        json={"text": "with a video", "media": swapped, "accounts": [account], "scheduled_at": FAR},
    )
    assert edit.status_code == 200, edit.text
    assert chorus.call("GET", f"/media/{image_id}", key).json()["usage_count"] == 0
    assert chorus.call("GET", f"/media/{video_id}", key).json()["used_by"] == [post_id]
    assert chorus.call("DELETE", f"/media/{video_id}", key).status_code == 409

    assert chorus.call("DELETE", f"/posts/{post_id}", key).status_code == 200
    assert chorus.call("GET", f"/media/{video_id}", key).json()["usage_count"] == 0
    assert chorus.call("DELETE", f"/media/{video_id}", key).status_code == 204
    assert chorus.call("GET", f"/media/{video_id}", key).status_code == 404
    s3 = chorus.rt.client("s3")
    bucket = chorus.rt.stack.refs["MediaBucket"] if chorus.rt.stack else ""
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=video["key"].split("/media/")[0]).get("Contents", [])
    assert not [o for o in listed if video_id in o["Key"]]  # the file and its thumbnail are gone


def test_hashtag_groups_with_their_fitness(chorus: Chorus, owner: tuple[str, str]) -> None:
    key = owner[0]
    tags = [f"#tag{i}" for i in range(31)]
    made = chorus.call("POST", "/hashtag-groups", key, json={"name": "Lots", "hashtags": tags})
    assert made.status_code == 201, made.text
    group = made.json()
    assert group["hashtags"][0] == "tag0"
    assert group["text"].startswith("#tag0 #tag1")
    assert group["fitness"]["instagram"] == {
        "count": 31,
        "limit": 30,
        "fits": False,
        "problems": [
            {"rule": "text.too_many_hashtags", "message": "Instagram allows 30 hashtags; this has 31"}
        ],
    }
    fixed = chorus.call(
        "PUT", f"/hashtag-groups/{group['id']}", key, json={"name": "Lots", "hashtags": tags[:30]}
    )
    assert fixed.json()["fitness"]["instagram"]["fits"] is True
    assert group["id"] in {
        g["id"] for g in chorus.call("GET", "/hashtag-groups", key).json()["hashtag_groups"]
    }
    assert chorus.call("DELETE", f"/hashtag-groups/{group['id']}", key).status_code == 204
    assert chorus.call("GET", f"/hashtag-groups/{group['id']}", key).status_code == 404


def test_another_workspace_never_sees_or_uses_the_library(
    chorus: Chorus, owner: tuple[str, str], image_id: str
) -> None:
    _, other = chorus.workspace("Someone else")
    other_account = chorus.sandbox_account(other, "someone-else")
    item = settled(chorus, owner[0], image_id)
    assert chorus.call("GET", f"/media/{image_id}", other).status_code == 404
    assert chorus.call("PATCH", f"/media/{image_id}", other, json={"tags": ["mine"]}).status_code == 404
    assert chorus.call("DELETE", f"/media/{image_id}", other).status_code == 404
    assert chorus.call("GET", "/media", other).json()["media"] == []
    stolen = [{"mime_type": "image/png", "key": item["key"]}]
    answer = scheduled(chorus, other, [other_account], "x", stolen)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "media[0].key"
    template = chorus.call("POST", "/templates", owner[0], json={"name": "Mine", "text": "mine"}).json()
    assert chorus.call("GET", f"/templates/{template['id']}", other).status_code == 404
    assert chorus.call("POST", f"/templates/{template['id']}/render", other, json={}).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/media", {"filename": "a.bmp", "mime_type": "image/bmp", "size": 10}, "mime_type"),
        (
            "POST",
            "/media",
            {"filename": "a.png", "mime_type": "image/png", "size": 10, "tags": ["a,b"]},
            "tags[0]",
        ),
        ("POST", "/templates", {"name": "T", "text": "Hi {{who}}"}, "text"),
        ("POST", "/templates", {"name": "T", "text": "Hi", "variants": {"myspace": "x"}}, "variants.myspace"),
        (
            "POST",
            "/templates",
            {"name": "T", "text": "Hi", "variables": [{"name": "1x"}]},
            "variables[0].name",
        ),
        ("POST", "/templates", {"name": "T"}, "text"),
        ("POST", "/hashtag-groups", {"name": "G", "hashtags": ["ok", "not ok"]}, "hashtags[1]"),
        ("POST", "/hashtag-groups", {"name": "G", "hashtags": []}, "hashtags"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(
    chorus: Chorus, owner: tuple[str, str], method: str, path: str, body: dict[str, Any], field: str
) -> None:
    answer = chorus.call(method, path, owner[0], json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json()["errors"]]


def test_search_with_an_unknown_type_is_a_422_naming_it(chorus: Chorus, owner: tuple[str, str]) -> None:
    answer = chorus.call("GET", "/media", owner[0], params={"type": "audio"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "type"


def test_a_viewer_reads_the_library_but_cannot_change_it(
    chorus: Chorus, owner: tuple[str, str], image_id: str
) -> None:
    made = chorus.call("POST", "/keys", owner[0], json={"name": "viewer", "role": "viewer"})
    assert made.status_code == 201, made.text
    viewer = made.json()["key"]
    assert chorus.call("GET", f"/media/{image_id}", viewer).status_code == 200
    assert chorus.call("DELETE", f"/media/{image_id}", viewer).status_code == 403
    assert chorus.call("POST", "/templates", viewer, json={"name": "T", "text": "t"}).status_code == 403


def test_an_upload_event_that_keeps_failing_ends_in_the_dlq_with_its_item_failed(
    chorus: Chorus, owner: tuple[str, str]
) -> None:
    """The file of this item never reaches the bucket: reading it fails on every try (S3 answers 404),
    so the event goes to the rule's dead-letter queue and the item says it failed."""
    key = owner[0]
    made = chorus.call(
        "POST", "/media", key, json={"filename": "lost.png", "mime_type": "image/png", "size": 9}
    )
    assert made.status_code == 201, made.text
    bucket = chorus.rt.stack.refs["MediaBucket"] if chorus.rt.stack else ""
    detail = {
        "bucket": {"name": bucket},
        "object": {"key": made.json()["key"], "size": 9},
        "reason": "PutObject",
    }
    sent = chorus.rt.client("events").put_events(
        Entries=[{"Source": "aws.s3", "DetailType": "Object Created", "Detail": json.dumps(detail)}]
    )
    assert sent["FailedEntryCount"] == 0
    sqs = chorus.rt.client("sqs")
    dlq = sqs.get_queue_url(QueueName="MediaLibraryFunctionUploadedQueue")["QueueUrl"]

    def dead_lettered() -> list[dict[str, Any]]:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        return [json.loads(m["Body"]) for m in got]

    events = eventually(dead_lettered, timeout=60)
    assert events[0]["detail"]["object"]["key"] == made.json()["key"]
    item = chorus.call("GET", f"/media/{made.json()['id']}", key).json()
    assert item["state"] == "failed"
    assert "could not be read" in item["error"]


def test_a_published_post_sends_the_library_file_and_keeps_using_it(
    chorus: Chorus, owner: tuple[str, str]
) -> None:
    key, account = owner
    data = png(64, 48)
    media_id = upload(chorus, key, "now.png", "image/png", data)
    item = settled(chorus, key, media_id)
    media = [{"mime_type": "image/png", "key": item["key"], "size": item["size"]}]
    post = chorus.call(
        "POST", "/posts", key, json={"text": "out now", "media": media, "accounts": [account], "mode": "now"}
    )
    assert post.status_code == 201, post.text

    def published() -> dict[str, Any] | None:
        return next((p for p in chorus.platform_posts() if p.get("text") == "out now"), None)

    sent = eventually(published, timeout=60)
    assert requests.get(sent["media"][0], timeout=30).content == data  # the publisher's link to the upload
    # published, the post cannot be deleted: the file stays in use
    assert chorus.call("GET", f"/media/{media_id}", key).json()["used_by"] == [post.json()["id"]]
    assert chorus.call("DELETE", f"/media/{media_id}", key).status_code == 409


def test_a_post_is_checked_with_what_the_library_read_of_its_files(
    chorus: Chorus, owner: tuple[str, str]
) -> None:
    key, account = owner
    x_account = chorus.proven_account(key, "x", "library-x", "library_x")
    long_id = upload(chorus, key, "long-for-x.mp4", "video/mp4", make_mp4(1280, 720, 150.0))
    long = settled(chorus, key, long_id)
    # the post says nothing of the video's length: the library knows it, and X takes 140 s at most
    media = [{"mime_type": "video/mp4", "key": long["key"]}]
    answer = scheduled(chorus, key, [account, x_account], "trailer", media)
    assert answer.status_code == 422, answer.text
    assert {(e["field"], e["rule"]) for e in answer.json()["errors"]} == {
        (f"accounts[{x_account}].media[0]", "media.duration")
    }
    # the sandbox account (Mastodon's rules: no length bound) takes it
    fine = scheduled(chorus, key, [account], "trailer", media)
    assert fine.status_code == 201, fine.text


def test_a_post_cannot_name_a_deleted_or_unreadable_file(chorus: Chorus, owner: tuple[str, str]) -> None:
    key, account = owner
    gone_id = upload(chorus, key, "gone.png", "image/png", png(20, 20))
    gone = settled(chorus, key, gone_id)
    assert chorus.call("DELETE", f"/media/{gone_id}", key).status_code == 204
    broken_id = upload(chorus, key, "broken.png", "image/png", b"not a png at all")
    broken = settled(chorus, key, broken_id)
    for item, rule in ((gone, "media_key"), (broken, "media_failed")):
        media = [{"mime_type": "image/png", "key": item["key"]}]
        answer = scheduled(chorus, key, [account], "x", media)
        assert answer.status_code == 422, answer.text
        assert [(e["field"], e["rule"]) for e in answer.json()["errors"]] == [("media[0].key", rule)]
