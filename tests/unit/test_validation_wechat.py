"""WeChat article rules in the validation table: a title of at most 32 characters (the post's title, else
the text's first line), content of at most 20,000 characters, a required cover image, images only, the
link a field of its own; a 422 names the account and the rule."""

from __future__ import annotations

import pytest

from chorus.errors import ValidationFailed
from chorus.posts.model import Content, MediaRef
from chorus.posts.service import Compose, check_content
from chorus.posts.validation import MediaSpec, title_and_body, validate

JPEG = MediaSpec("image/jpeg", 200_000)


def rules_broken(text: str, media: tuple[MediaSpec, ...] = (JPEG,), **kw: object) -> list[tuple[str, str]]:
    return [(v.rule, v.field) for v in validate("wechat", text, media, **kw)]  # type: ignore[arg-type]


def test_a_title_line_of_32_chinese_characters_passes_and_33_is_refused_naming_the_text() -> None:
    assert rules_broken("柠" * 32 + "\n正文") == []
    assert rules_broken("柠" * 33 + "\n正文") == [("title.too_long", "text")]


def test_a_title_of_its_own_is_checked_instead_of_the_first_line() -> None:
    long_first_line = "今天" * 40 + "\n更多"
    assert rules_broken(long_first_line, title="新品上市") == []
    assert rules_broken("正文", title="标" * 33) == [("title.too_long", "title")]


def test_the_content_is_limited_to_20000_characters() -> None:
    assert rules_broken("标题\n" + "字" * 19_997) == []
    assert ("text.too_long", "text") in rules_broken("标题\n" + "字" * 20_000)


def test_an_article_needs_a_cover_image_and_takes_images_only() -> None:
    assert ("media.required", "media") in rules_broken("标题\n正文", media=())
    assert ("media.unsupported_type", "media[1]") in rules_broken(
        "标题\n正文", media=(JPEG, MediaSpec("video/mp4"))
    )
    assert ("media.too_large", "media[0]") in rules_broken(
        "标题\n正文", media=(MediaSpec("image/png", 11 * 1024 * 1024),)
    )


def test_the_link_is_a_field_of_its_own_and_there_is_no_first_comment_or_thread() -> None:
    assert rules_broken("标" * 32, link="https://example.com/" + "a" * 100) == []
    assert ("first_comment.unsupported", "first_comment") in rules_broken("标题", first_comment="hi")
    assert ("thread.unsupported", "thread") in rules_broken("标题", thread=("two",))


def test_title_and_body_split_the_first_line_or_keep_the_text_whole() -> None:
    assert title_and_body("标题\n\n正文一\n正文二", None) == ("标题", "正文一\n正文二")
    assert title_and_body("只有标题", None) == ("只有标题", "只有标题")
    assert title_and_body("全文", " 自己的标题 ") == ("自己的标题", "全文")


def test_a_refusal_is_a_422_naming_the_account_and_the_rule() -> None:
    compose = Compose(
        accounts=("acct-wechat",),
        content=Content(
            text="柠" * 33 + "\n正文",
            media=(MediaRef(mime_type="image/jpeg", url="https://example.com/a.jpg"),),
        ),
    )
    with pytest.raises(ValidationFailed) as refused:
        check_content("ws-1", {"acct-wechat": "wechat"}, compose)
    (error,) = refused.value.errors
    assert (error.field, error.rule) == ("accounts[acct-wechat].text", "title.too_long")
    assert error.message.startswith(
        "wechat: WeChat allows a title (the text's first line) of 32 characters; this has 33"
    )
    assert refused.value.status == 422


def test_the_digest_author_and_comment_options_are_checked_naming_the_option() -> None:
    from chorus.posts.validation import check_options

    good = {
        "wechat": {
            "digest": "摘" * 128,
            "author": "作" * 16,
            "open_comment": "true",
            "fans_only_comment": "false",
        }
    }
    assert check_options("wechat", good) == []
    bad = {"wechat": {"digest": "摘" * 129, "author": "作" * 17, "open_comment": "yes", "cover": "x"}}
    assert sorted((v.rule, v.field) for v in check_options("wechat", bad)) == [
        ("options.invalid", "options.wechat.author"),
        ("options.invalid", "options.wechat.digest"),
        ("options.invalid", "options.wechat.open_comment"),
        ("options.unknown", "options.wechat.cover"),
    ]
