"""Weibo's count (a 汉字, full-width character or emoji one; two half-width characters one; a link 10) and
its share rule (a link under the app's safe domain, no #话题#), as the composer applies them."""

from __future__ import annotations

import pytest

from chorus.posts.text import WEIBO_URL_LENGTH, under_domain, weibo_length, weibo_share_problem


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("微博", 2),
        ("ab", 1),
        ("abc", 2),  # three half-width characters: one and a half, rounded up
        ("新品 ok", 4),  # 2 + (space, o, k: three halves) rounded up
        ("，。！", 3),  # full-width punctuation counts one each
        ("😀", 1),
        ("👍🏽", 1),  # an emoji with a skin tone is one grapheme
        ("http://t.cn/A6ZxYq1B", WEIBO_URL_LENGTH // 2),
        ("看 https://chorus-cafe.example/a/very/long/path?utm_source=weibo", 1 + 1 + WEIBO_URL_LENGTH // 2),
    ],
)
def test_weibo_counts_as_weibo_does(text: str, count: int) -> None:
    assert weibo_length(text) == count


def test_the_share_rule_wants_a_link_under_the_safe_domain_and_no_topic() -> None:
    assert weibo_share_problem("新品 https://shop.chorus-cafe.example/x", "chorus-cafe.example") is None
    assert weibo_share_problem("新品 https://chorus-cafe.example", "chorus-cafe.example") is None
    refused = weibo_share_problem("新品 https://evil-chorus-cafe.example/x", "chorus-cafe.example")
    assert refused is not None
    assert "chorus-cafe.example" in refused
    assert weibo_share_problem("#新品# https://chorus-cafe.example", "chorus-cafe.example") is not None
    assert weibo_share_problem("＃新品＃ https://chorus-cafe.example", "chorus-cafe.example") is not None
    assert weibo_share_problem("no link", "") is not None  # no safe domain configured: any link is needed
    assert weibo_share_problem("a https://x.example", "") is None


def test_a_subdomain_is_under_its_domain_and_a_lookalike_is_not() -> None:
    assert under_domain("https://a.b.example.com/x", "example.com")
    assert under_domain("https://EXAMPLE.com.", "example.com")
    assert not under_domain("https://badexample.com", "example.com")
    assert not under_domain("https://example.com.evil.net", "example.com")
    assert not under_domain("https://example.com", "")
