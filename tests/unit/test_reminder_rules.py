"""Reminder publishing's pure rules: how Xiaohongshu and Zhihu count and limit a note, which URLs may be
a post's address on them, which targets go by reminder, and a post's status while a person is to act."""

from __future__ import annotations

import pytest

from chorus.platforms.registry import platform_url_problem, publishes_by_hand
from chorus.posts.model import Content, MediaRef, TargetState, status_of
from chorus.posts.reminders import kind_of
from chorus.posts.text import half_width_length
from chorus.posts.validation import MediaSpec, validate

PHOTO = [MediaSpec("image/jpeg", 10_000)]


@pytest.mark.parametrize(
    ("text", "length"),
    [("", 0), ("小红书", 3), ("abcd", 2), ("abc", 2), ("小红书 ok", 5), ("☕", 1), ("👍🏽", 1), ("，。", 2)],
)
def test_a_han_character_or_an_emoji_is_one_two_latin_letters_are_one(text: str, length: int) -> None:
    assert half_width_length(text) == length


def rules(
    platform: str, text: str = "正文", title: str | None = None, media: list[MediaSpec] = PHOTO
) -> list[str]:
    return [f"{v.field}:{v.rule}" for v in validate(platform, text, media, title=title)]


def test_a_xiaohongshu_title_is_20_characters_as_the_app_counts() -> None:
    assert rules("xiaohongshu", title="标" * 20) == []
    assert rules("xiaohongshu", title="a" * 40) == []
    assert rules("xiaohongshu", title="标" * 21) == ["title:title.too_long"]
    assert rules("xiaohongshu", title="a" * 41) == ["title:title.too_long"]
    [message] = [v.message for v in validate("xiaohongshu", "x", PHOTO, title="标" * 21)]
    assert message == (
        "Xiaohongshu allows a title of 20 characters (two Latin letters or digits count as one); this has 21"
    )


def test_a_xiaohongshu_body_is_1000_characters_and_a_note_needs_an_image_or_a_video() -> None:
    assert rules("xiaohongshu", "字" * 1000) == []
    assert rules("xiaohongshu", "字" * 1001) == ["text:text.too_long"]
    assert rules("xiaohongshu", "字", media=[]) == ["media:media.required"]
    assert rules("xiaohongshu", media=[MediaSpec("image/png")] * 19) == ["media:media.too_many"]


def test_zhihu_takes_a_title_of_100_characters_and_a_text_only_article() -> None:
    assert rules("zhihu", "x" * 100_000, title="标" * 100, media=[]) == []
    assert rules("zhihu", title="标" * 101, media=[]) == ["title:title.too_long"]
    assert rules("zhihu", "x" * 100_001, media=[]) == ["text:text.too_long"]


def test_a_title_where_the_platform_has_none_is_refused() -> None:
    assert rules("x", "hello", title="A title", media=[]) == ["title:title.unsupported"]


@pytest.mark.parametrize(
    ("platform", "url", "problem"),
    [
        ("xiaohongshu", "https://www.xiaohongshu.com/explore/64f1a2b3", None),
        ("xiaohongshu", "https://xhslink.com/a/Ab12", None),
        ("xiaohongshu", "http://www.xiaohongshu.com/explore/1", "must be an https URL"),
        (
            "xiaohongshu",
            "https://xiaohongshu.com.evil.example/explore/1",
            "must be on xiaohongshu.com or xhslink.com",
        ),
        ("zhihu", "https://zhuanlan.zhihu.com/p/123", None),
        ("zhihu", "https://evilzhihu.com/p/1", "must be on zhihu.com"),
        ("zhihu", "https://user:pw@www.zhihu.com/p/1", "must not carry a user name or password"),
        ("zhihu", "https://[::1", "must be an https URL"),
        ("zhihu", "javascript:alert(1)", "must be an https URL"),
    ],
)
def test_a_posts_url_is_https_on_the_platforms_domain(platform: str, url: str, problem: str | None) -> None:
    found = platform_url_problem(platform, url)
    if problem is None:
        assert found is None
    else:
        assert (found or "").startswith(problem), found


def test_what_goes_by_reminder() -> None:
    video = Content("a reel", media=(MediaRef("video/mp4", url="https://cdn.example/r.mp4"),))
    photo = Content("a look", media=(MediaRef("image/jpeg", url="https://cdn.example/l.jpg"),))
    assert (kind_of(video), kind_of(photo), kind_of(Content("words"))) == ("video", "image", "text")
    assert publishes_by_hand("xiaohongshu", "image")
    assert publishes_by_hand("zhihu", "text")
    assert not publishes_by_hand("mastodon", "video")  # its adapter declares no manual-only kind
    assert not publishes_by_hand("nowhere", "text")


def test_a_posts_status_while_a_person_is_to_act() -> None:
    assert status_of({TargetState.AWAITING_MANUAL}) == "awaiting_manual"
    assert status_of({TargetState.AWAITING_MANUAL, TargetState.PUBLISHED}) == "awaiting_manual"
    assert status_of({TargetState.OVERDUE, TargetState.AWAITING_MANUAL}) == "overdue"
    assert status_of({TargetState.OVERDUE, TargetState.QUEUED}) == "publishing"
