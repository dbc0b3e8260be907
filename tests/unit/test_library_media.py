"""Media library pieces without AWS: upload keys, thumbnails (size, type check, transparency, EXIF
rotation), video posters, the media of posts' contents, and per-platform fitness of a file."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from chorus.library.keys import new_media_id, parse_upload_key, thumbnail_key, upload_key
from chorus.library.media import media_ids, safe_filename
from chorus.library.thumbs import NotAnImage, fit, of_image, poster
from chorus.posts.model import Content, MediaRef
from chorus.posts.validation import MediaSpec, media_fitness


def encoded(image: Image.Image, fmt: str, **kw: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


def test_upload_keys_name_their_workspace_and_item() -> None:
    key = upload_key("ws1", "abc", "banner.png")
    assert key == "ws1/media/abc/banner.png"
    assert parse_upload_key(key) == ("ws1", "abc")
    assert parse_upload_key(thumbnail_key("ws1", "abc")) is None  # a thumbnail is no upload
    assert parse_upload_key("ws1/media/../x/y") is None
    assert parse_upload_key("ws1/media/abc/sub/file.png") is None
    assert safe_filename("../../etc/pass wd") == "etcpasswd"
    assert safe_filename("..") == "file"


def test_media_ids_sort_by_upload_time() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    early = new_media_id(datetime(2026, 12, 7, 23, 59, 59, tzinfo=UTC), "f" * 32)
    later = new_media_id(datetime(2026, 12, 8, 9, 0, tzinfo=timezone(timedelta(hours=8))), "0" * 32)
    assert early == "20261207235959" + "f" * 16
    assert later == "20261208010000" + "0" * 16 > early  # compared in UTC


def test_the_media_of_a_post_are_its_workspace_uploads_in_content_and_variants() -> None:
    contents = [
        Content(
            "a",
            (
                MediaRef("image/png", "ws1/media/m1/a.png"),
                MediaRef("image/png", url="https://x.example/b.png"),
            ),
        ),
        Content(
            "b", (MediaRef("video/mp4", "ws1/media/m2/v.mp4"), MediaRef("image/png", "ws2/media/m3/c.png"))
        ),
    ]
    assert media_ids("ws1", contents) == {"m1", "m2"}


def test_an_image_thumbnail_keeps_its_aspect_within_320() -> None:
    thumb = of_image(encoded(Image.new("RGB", (1200, 800), "red"), "PNG"), "image/png")
    assert (thumb.width, thumb.height, thumb.source_width, thumb.source_height) == (320, 213, 1200, 800)
    assert Image.open(io.BytesIO(thumb.data)).format == "JPEG"
    small = of_image(encoded(Image.new("RGB", (40, 30)), "JPEG"), "image/jpeg")
    assert (small.width, small.height) == (40, 30)  # never enlarged


def test_transparency_is_laid_on_white() -> None:
    thumb = of_image(encoded(Image.new("RGBA", (10, 10), (0, 0, 0, 0)), "PNG"), "image/png")
    pixel = Image.open(io.BytesIO(thumb.data)).convert("RGB").getpixel((5, 5))
    assert isinstance(pixel, tuple)
    assert min(pixel) > 240


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees clockwise when shown
    data = encoded(Image.new("RGB", (400, 100), "blue"), "JPEG", exif=exif.tobytes())
    thumb = of_image(data, "image/jpeg")
    assert (thumb.source_width, thumb.source_height) == (100, 400)


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (b"GIF89a not an image", "image/png"),
        (encoded(Image.new("RGB", (5, 5)), "GIF"), "image/png"),  # a GIF said to be a PNG
        (encoded(Image.new("RGB", (5, 5)), "PNG")[:30], "image/png"),  # cut short
    ],
)
def test_what_is_not_the_declared_image_is_refused(data: bytes, mime: str) -> None:
    with pytest.raises(NotAnImage):
        of_image(data, mime)


def test_a_video_poster_has_the_video_s_shape() -> None:
    assert fit(1080, 1920) == (180, 320)
    made = poster(1080, 1920, 75.0)
    assert (made.width, made.height) == (180, 320)
    assert Image.open(io.BytesIO(made.data)).size == (180, 320)
    assert (poster(None, None, 1.0).width, poster(None, None, 1.0).height) == (320, 320)


def test_fitness_of_one_file_by_platform_rules() -> None:
    vertical = MediaSpec("video/mp4", 10_000_000, 1080, 1920, 45.0)
    assert media_fitness("x", vertical) == []
    assert [v.rule for v in media_fitness("tiktok", MediaSpec("video/mp4", 1000, 1080, 1920, 2.0))] == [
        "media.duration"
    ]
    panorama = MediaSpec("image/jpeg", 1000, 3000, 1000)
    assert [v.rule for v in media_fitness("instagram", panorama)] == ["media.aspect_ratio"]
    assert [v.rule for v in media_fitness("linkedin", MediaSpec("video/mp4", 1000, 3000, 1000, 10.0))] == [
        "media.aspect_ratio"
    ]
    assert [v.rule for v in media_fitness("bluesky", MediaSpec("image/png", 2_000_000, 10, 10))] == [
        "media.too_large"
    ]
    assert "media.video_required" in [
        v.rule for v in media_fitness("youtube", MediaSpec("image/png", 10, 10, 10))
    ]
    assert media_fitness("mastodon", MediaSpec("video/mp4", 1000, 4000, 100, 3600.0)) == []  # no such bounds
