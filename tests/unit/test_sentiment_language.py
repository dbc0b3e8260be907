"""Per-message language identification for tweets and Weibo posts."""

from __future__ import annotations

import pytest

from chorus.listening.sentiment import detect_language


@pytest.mark.parametrize(
    "text",
    [
        "Just got my new phone and I really like it",
        "@acme_support my order still hasn't arrived https://t.co/abc123 #fail",
        "LOL same",
        "Watched 你好 with friends tonight, what a movie",
    ],
)
def test_english_tweets_are_english(text: str) -> None:
    # Given English text, with mentions, links, hashtags or a stray Chinese name
    # When its language is detected
    # Then it is English
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "今天的天气真不错",
        "回复@小明:说得对！//@老王:这家店的服务太差了[怒]",
        "#周末去哪儿# 今天去爬山了 http://t.cn/A6abcd",
        "这次的meeting好boring",
    ],
)
def test_chinese_posts_are_chinese(text: str) -> None:
    # Given Chinese text with Weibo repost chains, emoticon codes, topics, links or English words
    # When its language is detected
    # Then it is Chinese
    assert detect_language(text) == "zh"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Merci beaucoup, c'est vraiment gentil de votre part", "fr"),
        ("Hola, ¿qué tal? Muchas gracias por todo", "es"),
        ("Das ist sehr gut, danke schön", "de"),
        ("Obrigado pela ajuda, você é muito gentil", "pt"),
        ("今日はとても楽しかったです", "ja"),
        ("안녕하세요 반갑습니다", "ko"),
        ("Привет, как дела?", "ru"),
        ("مرحبا بكم جميعا", "ar"),
    ],
)
def test_other_languages_are_named(text: str, language: str) -> None:
    # Given text in a language other than English or Chinese (Japanese shares Han characters)
    # When its language is detected
    # Then that language's code comes back
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["", "   ", "😂😂😂", "@user https://t.co/x 123", "[good][good]"])
def test_text_without_words_is_undetermined(text: str) -> None:
    # Given nothing but emoji, numbers, mentions, links or Weibo emoticon codes
    # Then no language is claimed
    assert detect_language(text) == "und"
