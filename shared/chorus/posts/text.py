"""How each platform counts a post's text, and the small text helpers adapters share.

Platforms disagree on what a "character" is:

- X counts a *weighted* length (twitter-text v3 configuration): after NFC normalisation, code points in
  a few ranges (Latin, general punctuation) weigh 1, everything else (CJK, most symbols) weighs 2, every
  URL counts 23 whatever its length and every emoji sequence counts 2; the limit is 280.
- Bluesky counts extended grapheme clusters (300) and UTF-8 bytes (3000).
- Mastodon counts grapheme clusters, every http(s) URL as 23 and a remote mention ``@user@domain`` as
  ``@user``.
- The others (Instagram, Facebook, Threads, LinkedIn, TikTok, YouTube) count code points.
- Chinese apps (Xiaohongshu's note editor) count a full-width character (汉字, full-width punctuation)
  or an emoji as one and a half-width one (Latin letters, digits, ASCII punctuation) as half, rounded
  up: ``half_width_length``. Weibo counts the same way, with every link as ``WEIBO_URL_LENGTH``
  half-width characters (``weibo_length``).

URL detection is an approximation of twitter-text's (which knows every TLD): scheme URLs, ``www.`` URLs
and bare ``domain.tld`` for common TLDs, with trailing punctuation trimmed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import regex

#: twitter-text v3: weight 100 (= 1 character) for these code point ranges, 200 (= 2) for the rest.
X_LIGHT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x10FF),
    (0x2000, 0x200D),
    (0x2010, 0x201F),
    (0x2032, 0x2037),
)
X_MAX_WEIGHTED_LENGTH = 280
X_URL_LENGTH = 23
MASTODON_URL_LENGTH = 23

_COMMON_TLDS = (
    "com|org|net|edu|gov|io|co|dev|app|me|info|biz|ai|tv|uk|de|fr|jp|cn|in|us|ca|au|nl|es|it|ru|br|"
    "ch|se|no|fi|dk|pl|be|at|nz|kr|hk|tw|sg|social|online|site|xyz|tech|news|blog|page|link|ly"
)
_URL_RE = re.compile(
    r"(?<![\w@.])(?:"
    r"https?://[^\s<>\"]+"
    r"|www\.[^\s<>\"]+"
    rf"|(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_COMMON_TLDS})(?![a-z0-9-])(?:[/?#][^\s<>\"]*)?"
    r")",
    re.IGNORECASE,
)
_SCHEME_URL_RE = re.compile(r"(?<![\w@.])https?://[^\s<>\"]+", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?'\"\u00bb\u201d\u2019"
_MASTODON_REMOTE_MENTION_RE = re.compile(r"(?<![\w/])@(\w+)@[\w.-]+\w", re.UNICODE)
_HASHTAG_RE = regex.compile(r"(?<![\w&])[#\uFF03](\w*\p{L}\w*)")
_MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9._]+)")
_GRAPHEME_RE = regex.compile(r"\X")
_EMOJI_RE = regex.compile(r"\p{Emoji_Presentation}|\p{Regional_Indicator}|\uFE0F|\u20E3")
_TAG_RE = re.compile(r"<[^>]*>")
_BREAK_RE = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class UrlSpan:
    """A URL found in a text: ``text[start:end] == url`` (string indices, not bytes)."""

    start: int
    end: int
    url: str


def _trim(candidate: str) -> str:
    """Trailing punctuation and an unbalanced closing parenthesis are not part of a URL."""
    while candidate:
        last = candidate[-1]
        if last in _TRAILING_PUNCTUATION or (last == ")" and candidate.count("(") < candidate.count(")")):
            candidate = candidate[:-1]
            continue
        break
    return candidate


def _find(pattern: re.Pattern[str], text: str) -> list[UrlSpan]:
    spans: list[UrlSpan] = []
    for match in pattern.finditer(text):
        url = _trim(match.group(0))
        if url and "." in url:
            spans.append(UrlSpan(match.start(), match.start() + len(url), url))
    return spans


def extract_urls(text: str) -> list[UrlSpan]:
    """URLs as X and most platforms see them (with or without a scheme)."""
    return _find(_URL_RE, text)


def extract_scheme_urls(text: str) -> list[UrlSpan]:
    """Only ``http://`` / ``https://`` URLs (Mastodon and Bluesky link only these)."""
    return _find(_SCHEME_URL_RE, text)


def graphemes(text: str) -> list[str]:
    """Extended grapheme clusters (what a reader sees as one character)."""
    return list(_GRAPHEME_RE.findall(text))


def grapheme_length(text: str) -> int:
    return len(graphemes(text))


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def codepoint_length(text: str) -> int:
    return len(text)


#: Code points Chinese editors count as one character where a half-width one is half: the CJK and
#: full-width blocks (East Asian Width W/F, as the web app's counter has them too: web/src/counts.js).
WIDE_RANGES: tuple[tuple[int, int], ...] = (
    (0x1100, 0x115F),  # Hangul Jamo
    (0x2E80, 0x303E),  # CJK radicals, Kangxi, CJK symbols and punctuation (、。「」)
    (0x3041, 0x33FF),  # kana, Bopomofo, Hangul compatibility, enclosed and compatibility CJK
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs (汉字)
    (0xA000, 0xA4CF),  # Yi
    (0xAC00, 0xD7A3),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFF60),  # full-width forms (full-width punctuation and Latin)
    (0xFFE0, 0xFFE6),  # full-width signs (￥)
    (0x20000, 0x3FFFD),  # CJK Extensions B and later
)


def _wide(code_point: int) -> bool:
    return any(low <= code_point <= high for low, high in WIDE_RANGES)


def half_width_length(text: str) -> int:
    """Characters as Chinese editors count them: a wide character (``WIDE_RANGES``: 汉字, kana, full-width
    punctuation) or an emoji sequence is one, anything else half, rounded up ("小红书" 3, "abcd" 2,
    "小红书 ok" 5)."""
    halves = 0
    for cluster in graphemes(unicodedata.normalize("NFC", text)):
        halves += 2 if _is_emoji(cluster) or _wide(ord(cluster[0])) else 1
    return (halves + 1) // 2


WEIBO_URL_LENGTH = 20
"""Half-width characters a link counts for on Weibo (10 汉字): Weibo shows every link as a t.cn short
link, ``http://t.cn/`` and an 8-character code. The fixtures document no number; see docs/platforms.md."""
_WEIBO_TOPIC_RE = re.compile(r"[#\uFF03][^#\uFF03\n]+[#\uFF03]")


def weibo_length(text: str) -> int:
    """Weibo's count: a 汉字, full-width character or emoji is one, two half-width characters one
    (``half_width_length``), every http(s) link ``WEIBO_URL_LENGTH`` half-width characters."""
    spans = extract_scheme_urls(text)
    for span in reversed(spans):
        text = text[: span.start] + "x" * WEIBO_URL_LENGTH + text[span.end :]
    return half_width_length(text)


def under_domain(url: str, domain: str) -> bool:
    """``url``'s host is ``domain`` or one of its subdomains."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    domain = domain.lower().strip().strip(".")
    return bool(domain) and (host == domain or host.endswith("." + domain))


def weibo_share_problem(text: str, safe_domain: str) -> str | None:
    """Why Weibo's ``statuses/share`` would refuse ``text`` (10017), or None: it must hold a link under
    the app's bound safe domain (安全域名), and no ``#话题#``."""
    if _WEIBO_TOPIC_RE.search(text):
        return "Weibo's share API refuses a #topic# (话题) in the text"
    urls = [span.url for span in extract_scheme_urls(text)]
    if not safe_domain:
        if urls:
            return None
        return "Weibo's share API publishes a status only with a link to the app's safe domain: add one"
    if any(under_domain(url, safe_domain) for url in urls):
        return None
    return (
        f"Weibo's share API publishes a status only with a link under the app's safe domain {safe_domain}: "
        "add one to the text or as the post's link"
    )


def _is_emoji(cluster: str) -> bool:
    return bool(_EMOJI_RE.search(cluster))


def _x_weight(code_point: int) -> int:
    for low, high in X_LIGHT_RANGES:
        if low <= code_point <= high:
            return 1
    return 2


def x_weighted_length(text: str) -> int:
    """The length X enforces (twitter-text v3 ``weightedLength``): <= 280 is valid."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for span in extract_urls(text):
        total += _x_weight_plain(text[position : span.start]) + X_URL_LENGTH
        position = span.end
    return total + _x_weight_plain(text[position:])


def _x_weight_plain(text: str) -> int:
    total = 0
    for cluster in graphemes(text):
        if _is_emoji(cluster):
            total += 2
        else:
            total += sum(_x_weight(ord(char)) for char in cluster)
    return total


def mastodon_length(text: str) -> int:
    """Mastodon's count: grapheme clusters, URLs as 23, ``@user@domain`` as ``@user``."""
    text = _MASTODON_REMOTE_MENTION_RE.sub(lambda m: "@" + m.group(1), text)
    total = 0
    position = 0
    for span in extract_scheme_urls(text):
        total += grapheme_length(text[position : span.start]) + MASTODON_URL_LENGTH
        position = span.end
    return total + grapheme_length(text[position:])


def hashtags(text: str) -> list[str]:
    """Hashtags without the ``#`` (a tag needs at least one letter: ``#1`` is not a tag)."""
    return [m.group(1) for m in _HASHTAG_RE.finditer(text)]


def mentions(text: str) -> list[str]:
    """``@name`` mentions without the ``@`` (e-mail addresses are not mentions)."""
    return [m.group(1).rstrip(".") for m in _MENTION_RE.finditer(text)]


def compose_text(text: str, link: str | None) -> str:
    """The text with ``link`` appended (on a new line) unless the text already contains it."""
    if not link or link in text:
        return text
    return f"{text}\n\n{link}" if text else link


def html_to_text(content: str) -> str:
    """Plain text of a platform's HTML rendering (Mastodon ``content``): breaks kept, tags dropped."""
    content = _BREAK_RE.sub("\n", content)
    return html.unescape(_TAG_RE.sub("", content))


def match_key(text: str) -> str:
    """A comparison key for finding a published post by its text.

    Platforms rewrite what they store: HTML escaping (X ``&amp;``, Mastodon HTML), shortened or
    re-rendered URLs (t.co), whitespace. The key unescapes HTML, replaces every URL by one placeholder,
    normalises Unicode (NFC) and collapses whitespace, so the original text and the platform's copy match.
    """
    text = unicodedata.normalize("NFC", html.unescape(text))
    text = _URL_RE.sub("\x00", text)
    return " ".join(text.split())
