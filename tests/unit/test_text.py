"""How each platform counts text (twitter-text v3 weights, graphemes, Mastodon's URL rule)."""

from __future__ import annotations

import pytest

from chorus.posts import text as t


def test_x_counts_latin_as_one_and_cjk_as_two() -> None:
    # Given Latin and Chinese text
    # When X's weighted length is computed
    # Then Latin counts 1 per character and CJK 2
    assert t.x_weighted_length("hello") == 5
    assert t.x_weighted_length("你好") == 4
    assert t.x_weighted_length("a你") == 3


def test_x_counts_every_url_as_23_whatever_its_length() -> None:
    long_url = "https://example.com/" + "a" * 200
    assert t.x_weighted_length(long_url) == 23
    assert t.x_weighted_length("see example.com") == 4 + 23
    assert t.x_weighted_length("go https://t.co") == 3 + 23


def test_x_counts_an_emoji_sequence_as_two() -> None:
    # Given a skin-tone modified emoji, a flag and a ZWJ family (several code points each)
    assert t.x_weighted_length("👍🏽") == 2
    assert t.x_weighted_length("🇯🇵") == 2
    assert t.x_weighted_length("👨\u200d👩\u200d👧") == 2
    assert t.x_weighted_length("hi 😀") == 5


def test_x_normalises_to_nfc_before_counting() -> None:
    # Given "é" written as e + combining acute accent
    # Then it counts as the single composed character
    assert t.x_weighted_length("e\u0301") == 1


def test_x_280_latin_characters_fit_and_141_chinese_do_not() -> None:
    assert t.x_weighted_length("a" * 280) == 280
    assert t.x_weighted_length("字" * 140) == 280
    assert t.x_weighted_length("字" * 141) == 282


def test_graphemes_count_what_a_reader_sees() -> None:
    assert t.grapheme_length("👨\u200d👩\u200d👧 🇯🇵 e\u0301") == 5
    assert t.utf8_length("你好") == 6


def test_mastodon_counts_urls_as_23_and_remote_mentions_by_username() -> None:
    assert t.mastodon_length("https://example.com/" + "x" * 100) == 23
    assert t.mastodon_length("@alice@mastodon.social hi") == len("@alice hi")
    assert t.mastodon_length("你好👍🏽") == 3


def test_urls_are_found_with_and_without_scheme_and_trailing_punctuation_is_dropped() -> None:
    spans = t.extract_urls("Visit example.com, or (https://foo.org/x). Mail a@b.com")
    assert [s.url for s in spans] == ["example.com", "https://foo.org/x"]
    text = "Visit example.com, or (https://foo.org/x). Mail a@b.com"
    assert all(text[s.start : s.end] == s.url for s in spans)


def test_hashtags_need_a_letter_and_mentions_skip_email_addresses() -> None:
    assert t.hashtags("#one #2 #标签 x#no") == ["one", "标签"]
    assert t.mentions("hi @ann and bob@example.com @c.d") == ["ann", "c.d"]


@pytest.mark.parametrize(
    ("text", "link", "expected"),
    [
        ("Hello", None, "Hello"),
        ("Hello", "https://a.io", "Hello\n\nhttps://a.io"),
        ("Read https://a.io now", "https://a.io", "Read https://a.io now"),
        ("", "https://a.io", "https://a.io"),
    ],
)
def test_compose_text_appends_a_link_once(text: str, link: str | None, expected: str) -> None:
    assert t.compose_text(text, link) == expected


def test_match_key_ignores_html_escaping_url_rewrites_and_whitespace() -> None:
    # Given the text Chorus sent and the copy X stores (t.co link, &amp;)
    sent = "Fish & chips  https://example.com/menu"
    stored = "Fish &amp; chips https://t.co/AbC123"
    # Then both give the same comparison key, and a different text does not
    assert t.match_key(sent) == t.match_key(stored)
    assert t.match_key("Fish & chips!") != t.match_key(sent)


def test_html_to_text_keeps_line_breaks_of_mastodon_content() -> None:
    content = '<p>Hello &amp; welcome<br />line two</p><p>para <a href="https://x.y">x.y</a></p>'
    assert t.html_to_text(content) == "Hello & welcome\nline two\npara x.y"
