"""Per-platform validation: every violation names the rule and the field."""

from __future__ import annotations

from chorus.posts.validation import PLATFORM_RULES, MediaSpec, Violation, check_account_options, validate

JPEG = MediaSpec("image/jpeg", 100_000)
PNG = MediaSpec("image/png", 100_000)
GIF = MediaSpec("image/gif", 100_000)
MP4 = MediaSpec("video/mp4", 10_000_000)


def rules(found: list[Violation]) -> set[tuple[str, str]]:
    return {(v.rule, v.field) for v in found}


def test_every_listed_platform_has_rules() -> None:
    assert set(PLATFORM_RULES) >= {
        "x",
        "bluesky",
        "mastodon",
        "instagram",
        "facebook",
        "threads",
        "linkedin",
        "youtube",
        "tiktok",
    }


def test_a_plain_short_post_is_valid_where_text_alone_is_allowed() -> None:
    for platform in ("x", "bluesky", "mastodon", "facebook", "threads", "linkedin"):
        assert validate(platform, "Hello world", [], None, [], None) == [], platform


def test_x_rejects_141_chinese_characters_but_accepts_280_latin() -> None:
    assert validate("x", "a" * 280, [], None, [], None) == []
    found = validate("x", "字" * 141, [], None, [], None)
    assert rules(found) == {("text.too_long", "text")}
    assert "282" in found[0].message


def test_x_counts_a_long_url_as_23() -> None:
    text = "a" * 250 + " https://example.com/" + "x" * 300
    assert validate("x", text, [], None, [], None) == []


def test_x_counts_the_link_it_will_append() -> None:
    # Given 270 characters and a link that the publisher appends on X (2 newlines + 23)
    found = validate("x", "a" * 270, [], "https://example.com/page", [], None)
    assert rules(found) == {("text.too_long", "text")}


def test_x_takes_four_images_or_one_video_or_one_gif() -> None:
    assert validate("x", "hi", [JPEG] * 4, None, [], None) == []
    assert ("media.too_many", "media") in rules(validate("x", "hi", [JPEG] * 5, None, [], None))
    assert ("media.mixed", "media") in rules(validate("x", "hi", [JPEG, MP4], None, [], None))
    assert ("media.mixed", "media") in rules(validate("x", "hi", [JPEG, GIF], None, [], None))
    assert validate("x", "hi", [GIF], None, [], None) == []


def test_x_checks_sizes_per_type() -> None:
    found = validate("x", "hi", [MediaSpec("image/png", 6 * 1024 * 1024)], None, [], None)
    assert rules(found) == {("media.too_large", "media[0]")}
    assert validate("x", "hi", [MediaSpec("image/gif", 6 * 1024 * 1024)], None, [], None) == []


def test_bluesky_limits_graphemes_and_bytes() -> None:
    # 300 family emoji are 300 graphemes but 5,400 bytes
    family = "👨\u200d👩\u200d👧" * 300
    assert rules(validate("bluesky", family, [], None, [], None)) == {("text.too_many_bytes", "text")}
    assert rules(validate("bluesky", "a" * 301, [], None, [], None)) == {("text.too_long", "text")}
    assert validate("bluesky", "字" * 300, [], None, [], None) == []


def test_bluesky_images_are_limited_to_one_megabyte_and_four() -> None:
    big = MediaSpec("image/jpeg", 1_000_001)
    assert rules(validate("bluesky", "hi", [JPEG, big], None, [], None)) == {("media.too_large", "media[1]")}
    assert ("media.too_many", "media") in rules(validate("bluesky", "hi", [JPEG] * 5, None, [], None))


def test_bluesky_link_is_a_card_without_images_and_text_with_them() -> None:
    text = "a" * 295
    assert validate("bluesky", text, [], "https://example.com", [], None) == []
    assert rules(validate("bluesky", text, [JPEG], "https://example.com", [], None)) == {
        ("text.too_long", "text")
    }


def test_mastodon_counts_urls_as_23() -> None:
    text = "a" * 470 + " https://example.com/" + "x" * 100
    assert validate("mastodon", text, [], None, [], None) == []
    assert rules(validate("mastodon", "a" * 501, [], None, [], None)) == {("text.too_long", "text")}


def test_instagram_needs_media_and_limits_carousels_hashtags_and_mentions() -> None:
    assert rules(validate("instagram", "hi", [], None, [], None)) == {("media.required", "media")}
    assert validate("instagram", "hi", [JPEG], None, [], None) == []
    assert validate("instagram", "hi", [JPEG, MP4, JPEG], None, [], None) == []
    assert ("media.too_many", "media") in rules(validate("instagram", "hi", [JPEG] * 11, None, [], None))
    tags = " ".join(f"#t{i}" for i in range(31))
    assert rules(validate("instagram", tags, [JPEG], None, [], None)) == {("text.too_many_hashtags", "text")}
    people = " ".join(f"@p{i}" for i in range(21))
    assert rules(validate("instagram", people, [JPEG], None, [], None)) == {
        ("text.too_many_mentions", "text")
    }
    assert rules(validate("instagram", "x" * 2201, [JPEG], None, [], None)) == {("text.too_long", "text")}


def test_instagram_takes_only_jpeg_images() -> None:
    assert rules(validate("instagram", "hi", [PNG], None, [], None)) == {
        ("media.unsupported_type", "media[0]")
    }


def test_facebook_allows_63206_characters_and_keeps_the_link_apart() -> None:
    assert validate("facebook", "a" * 63_206, [], "https://example.com", [], None) == []
    assert rules(validate("facebook", "a" * 63_207, [], None, [], None)) == {("text.too_long", "text")}


def test_linkedin_takes_up_to_20_images_or_one_video_alone_a_link_card_and_no_first_comment() -> None:
    assert validate("linkedin", "hi", [JPEG] * 20, None, [], None) == []
    assert ("media.too_many", "media") in rules(validate("linkedin", "hi", [JPEG] * 21, None, [], None))
    assert ("media.mixed", "media") in rules(validate("linkedin", "hi", [JPEG, MP4], None, [], None))
    # the link of a text post is its article card, not counted in the 3,000 characters
    assert validate("linkedin", "a" * 3000, [], "https://example.com/" + "x" * 50, [], None) == []
    assert ("text.too_long", "text") in rules(
        validate("linkedin", "a" * 3000, [JPEG], "https://example.com/x", [], None)
    )
    assert {r for r, _ in rules(validate("linkedin", "hi", [], None, [], "first!"))} == {
        "first_comment.unsupported"
    }


def test_threads_and_linkedin_limits() -> None:
    assert rules(validate("threads", "a" * 501, [], None, [], None)) == {("text.too_long", "text")}
    assert validate("linkedin", "a" * 3000, [], None, [], None) == []
    assert rules(validate("linkedin", "a" * 3001, [], None, [], None)) == {("text.too_long", "text")}


def test_youtube_needs_a_video_and_tiktok_a_video_or_photos() -> None:
    tiktok = {"tiktok": {"privacy_level": "SELF_ONLY"}}
    assert ("media.video_required", "media") in rules(validate("youtube", "hi", [], None, [], None))
    assert ("media.required", "media") in rules(validate("tiktok", "hi", [], None, [], None, options=tiktok))
    for platform in ("youtube", "tiktok"):
        assert validate(platform, "hi", [MP4], None, [], None, options=tiktok) == []
    assert ("media.unsupported_type", "media[0]") in rules(validate("tiktok", "hi", [PNG], None, [], None))
    # on YouTube an image is the video's thumbnail (JPEG/PNG, at most 2 MB), never a post of its own
    assert rules(validate("youtube", "hi", [JPEG], None, [], None)) == {("media.video_required", "media")}
    assert validate("youtube", "hi", [MP4, JPEG], None, [], None) == []
    assert ("media.too_large", "media[1]") in rules(
        validate("youtube", "hi", [MP4, MediaSpec("image/png", 3 * 1024 * 1024)], None, [], None)
    )
    assert ("first_comment.unsupported", "first_comment") in rules(
        validate("youtube", "hi", [MP4], None, [], "c")
    )


def test_tiktok_options_are_checked_against_the_creator_info_kept_on_the_account() -> None:
    extra = {"privacy_level_options": "SELF_ONLY,MUTUAL_FOLLOW_FRIENDS",
             "creator_info": '{"comment_disabled": true, "duet_disabled": false, "stitch_disabled": false}'}  # fmt: skip
    wanted = {
        "tiktok": {"privacy_level": "PUBLIC_TO_EVERYONE", "allow_comment": "true", "allow_duet": "true"}
    }
    assert rules(check_account_options("tiktok", wanted, extra)) == {
        ("options.creator", "options.tiktok.privacy_level"), ("options.creator", "options.tiktok.allow_comment")}  # fmt: skip
    assert check_account_options("tiktok", {"tiktok": {"privacy_level": "SELF_ONLY"}}, extra) == []
    assert (
        check_account_options("tiktok", wanted, {}) == []
    )  # nothing kept (a pasted token): TikTok checks it
    assert check_account_options("youtube", {"youtube": {"privacy": "public"}}, extra) == []


def test_platform_options_are_checked_by_name_and_value_and_tiktok_needs_a_privacy_level() -> None:
    assert rules(validate("tiktok", "hi", [MP4], None, [], None)) == {
        ("options.required", "options.tiktok.privacy_level")}  # fmt: skip
    bad = {
        "tiktok": {"privacy_level": "EVERYONE", "allow_duet": "maybe", "colour": "red"},
        "youtube": {"privacy": "friends", "publish_at": "tomorrow", "title": "<b>", "made_for_kids": "true"},
    }
    assert rules(validate("tiktok", "hi", [MP4], None, [], None, options=bad)) == {
        ("options.invalid", "options.tiktok.privacy_level"), ("options.invalid", "options.tiktok.allow_duet"),
        ("options.unknown", "options.tiktok.colour")}  # fmt: skip
    assert rules(validate("youtube", "hi", [MP4], None, [], None, options=bad)) == {
        ("options.invalid", "options.youtube.privacy"), ("options.invalid", "options.youtube.publish_at"),
        ("options.invalid", "options.youtube.title")}  # fmt: skip
    good = {"youtube": {"privacy": "unlisted", "publish_at": "2026-12-24T18:00:00Z", "category_id": "22"}}
    assert validate("youtube", "hi", [MP4], None, [], None, options=good) == []
    assert ("options.unknown", "options.x.privacy") in rules(validate("x", "hi", [], None, [], None,
                                                                       options={"x": {"privacy": "public"}}))  # fmt: skip


def test_unknown_media_type_is_named_by_index() -> None:
    found = validate("mastodon", "hi", [JPEG, MediaSpec("application/pdf")], None, [], None)
    assert rules(found) == {("media.unsupported_type", "media[1]")}


def test_thread_parts_are_checked_by_the_same_rules_with_their_index() -> None:
    found = validate("x", "first", [], None, ["ok", "字" * 141, ""], None)
    assert rules(found) == {("text.too_long", "thread[1]"), ("text.empty", "thread[2]")}


def test_threads_are_refused_where_unsupported() -> None:
    assert rules(validate("facebook", "hi", [], None, ["part"], None)) == {("thread.unsupported", "thread")}


def test_first_comment_is_checked_and_refused_on_tiktok() -> None:
    assert rules(validate("bluesky", "hi", [], None, [], "a" * 301)) == {("text.too_long", "first_comment")}
    chosen = {"tiktok": {"privacy_level": "SELF_ONLY"}}
    assert rules(validate("tiktok", "hi", [MP4], None, [], "c", options=chosen)) == {
        ("first_comment.unsupported", "first_comment")
    }
    assert validate("facebook", "hi", [], None, [], "first!") == []


def test_an_empty_post_is_refused() -> None:
    assert rules(validate("mastodon", "  ", [], None, [], None)) == {("text.empty", "text")}


def test_unknown_platform_is_a_violation_not_a_crash() -> None:
    assert rules(validate("myspace", "hi", [], None, [], None)) == {("platform.unknown", "platform")}


def test_facebook_counts_the_link_when_media_leaves_no_preview() -> None:
    found = validate("facebook", "a" * 63_200, [JPEG], "https://example.com/x", [], None)
    assert rules(found) == {("text.too_long", "text")}


def test_pinterest_takes_one_image_or_video_and_800_characters() -> None:
    # Given Pinterest's limits (PinCreate: description <= 800; one image or one video per pin)
    assert validate("pinterest", "a" * 800, [JPEG], "https://shop.example/p", [], None) == []
    assert validate("pinterest", "Recipe", [MP4], None, [], None) == []
    # Then a pin needs media, one item, no GIF, no thread, no first comment; its link is never counted
    assert rules(validate("pinterest", "a" * 801, [JPEG], None, [], None)) == {("text.too_long", "text")}
    assert ("media.required", "media") in rules(validate("pinterest", "Hi", [], None, [], None))
    assert ("media.too_many", "media") in rules(validate("pinterest", "Hi", [JPEG, PNG], None, [], None))
    assert rules(validate("pinterest", "Hi", [GIF], None, [], None)) == {
        ("media.unsupported_type", "media[0]")
    }
    found = validate("pinterest", "Hi", [JPEG], None, ["two"], "first")
    assert rules(found) == {("thread.unsupported", "thread"), ("first_comment.unsupported", "first_comment")}
    assert rules(validate("pinterest", "Hi", [MediaSpec("image/png", 21 * 1024 * 1024)], None, [], None)) == {
        ("media.too_large", "media[0]")
    }
    assert validate("pinterest", "a" * 800, [JPEG], "https://example.com/" + "x" * 500, [], None) == []


def test_a_threads_text_post_carries_its_link_as_an_attachment_a_media_post_in_the_text() -> None:
    link = "https://example.com/" + "x" * 30
    assert validate("threads", "a" * 500, [], link, [], None) == []
    assert rules(validate("threads", "a" * 500, [JPEG], link, [], None)) == {("text.too_long", "text")}


WEBP = MediaSpec("image/webp", 100_000)


def test_a_tiktok_photo_post_is_1_to_35_jpeg_or_webp_images_with_a_title_of_90_characters() -> None:
    chosen = {"tiktok": {"privacy_level": "SELF_ONLY", "photo_cover_index": "34", "auto_add_music": "true"}}
    assert validate("tiktok", "Cakes", [JPEG, WEBP] * 17 + [JPEG], None, [], None, "Cakes", chosen) == []
    assert rules(validate("tiktok", "Cakes", [JPEG] * 36, None, [], None, options=chosen)) == {
        ("media.too_many", "media")}  # fmt: skip
    assert rules(validate("tiktok", "hi", [JPEG, MP4], None, [], None, options=chosen)) == {
        ("media.mixed", "media"), ("options.unsupported", "options.tiktok.photo_cover_index"),
        ("options.unsupported", "options.tiktok.auto_add_music")}  # fmt: skip
    assert rules(validate("tiktok", "hi", [JPEG], None, [], None, "t" * 91, chosen)) == {
        ("title.too_long", "title"), ("options.invalid", "options.tiktok.photo_cover_index")}  # fmt: skip
    assert rules(validate("tiktok", "hi", [MediaSpec("image/jpeg", 21 * 1024 * 1024)], None, [], None,
                          options={"tiktok": {"privacy_level": "SELF_ONLY"}})) == {("media.too_large", "media[0]")}  # fmt: skip


def test_a_tiktok_video_has_no_title_and_no_photo_options_and_a_photo_post_no_duets_or_stitches() -> None:
    video = {"tiktok": {"privacy_level": "SELF_ONLY", "photo_cover_index": "0"}}
    assert rules(validate("tiktok", "hi", [MP4], None, [], None, "A title", video)) == {
        ("title.unsupported", "title"), ("options.unsupported", "options.tiktok.photo_cover_index")}  # fmt: skip
    photo = {"tiktok": {"privacy_level": "SELF_ONLY", "allow_duet": "true", "cover_ms": "100"}}
    assert rules(validate("tiktok", "hi", [JPEG], None, [], None, options=photo)) == {
        ("options.unsupported", "options.tiktok.allow_duet"), ("options.unsupported", "options.tiktok.cover_ms")}  # fmt: skip


def test_a_tiktok_draft_needs_no_privacy_level_a_direct_post_does() -> None:
    assert validate("tiktok", "hi", [MP4], None, [], None, options={"tiktok": {"mode": "draft"}}) == []
    assert rules(validate("tiktok", "hi", [JPEG], None, [], None, options={"tiktok": {"mode": "direct"}})) == {
        ("options.required", "options.tiktok.privacy_level")}  # fmt: skip
    assert rules(validate("tiktok", "hi", [MP4], None, [], None, options={"tiktok": {"mode": "inbox"}})) == {
        ("options.invalid", "options.tiktok.mode"), ("options.required", "options.tiktok.privacy_level")}  # fmt: skip


def test_a_tiktok_draft_carries_no_post_settings_the_creator_sets_them_in_the_app() -> None:
    draft = {
        "tiktok": {
            "mode": "draft",
            "privacy_level": "SELF_ONLY",
            "allow_duet": "false",
            "photo_cover_index": "0",
        }
    }
    assert rules(validate("tiktok", "hi", [MP4], None, [], None, options=draft)) == {
        ("options.unsupported", "options.tiktok.privacy_level"), ("options.unsupported", "options.tiktok.allow_duet"),
        ("options.unsupported", "options.tiktok.photo_cover_index")}  # fmt: skip
    photos = {"tiktok": {"mode": "draft", "photo_cover_index": "1", "auto_add_music": "true"}}
    assert rules(validate("tiktok", "hi", [JPEG, WEBP], None, [], None, "Title", photos)) == {
        ("options.unsupported", "options.tiktok.auto_add_music")}  # fmt: skip
