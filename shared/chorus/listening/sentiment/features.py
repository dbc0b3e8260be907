"""What the offline models see of a message. The training script (bench/train_sentiment.py) uses these
same functions, so a model file and the code that reads it cannot drift apart."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import cache
from typing import Protocol

_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@[\w\-·]{1,20}(?![\w\-·])")
_SPACES = re.compile(r"\s+")
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|i'll|me|my|mine|myself)\b")
_EMOTICON_CODE = re.compile(r"\[[^\[\]\s]{1,10}\]")
_COMPOUND_BUCKETS = 10


def normalise(text: str) -> str:
    """HTML entities and literal ``\\uXXXX`` escapes (as some exports leave them) decoded; curly
    apostrophes made straight."""
    text = _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text)
    return html.unescape(text).replace("\u2019", "'")


class _Valence(Protocol):
    def polarity_scores(self, text: str) -> Mapping[str, float]: ...


@cache
def _vader() -> _Valence:
    # Imported here: the lexicon (7,500 words + 3,500 emoji) loads on the first English message.
    from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
        SentimentIntensityAnalyzer,
    )

    analyzer: _Valence = SentimentIntensityAnalyzer()
    return analyzer


def english_features(text: str) -> dict[str, float]:
    """Dense features of an English message: VADER's valence scores (lexicon, negation, intensifiers,
    "but" clauses, emoji) plus a few cues of tweets that the lexicon misses (links point to news,
    "!" to feeling, questions and first person)."""
    text = normalise(text)
    scores = _vader().polarity_scores(text)
    compound = float(scores["compound"])
    bucket = min(int((compound + 1) / 2 * _COMPOUND_BUCKETS), _COMPOUND_BUCKETS - 1)
    return {
        "v_compound": compound,
        "v_pos": float(scores["pos"]),
        "v_neg": float(scores["neg"]),
        "v_neu": float(scores["neu"]),
        f"vb{bucket}": 1.0,
        "url": 1.0 if "http" in text else 0.0,
        "excl": min(text.count("!"), 3) / 3,
        "q": 1.0 if "?" in text else 0.0,
        "i": 1.0 if _FIRST_PERSON.search(text.lower()) else 0.0,
    }


def chinese_grams(text: str, max_n: int = 2) -> list[str]:
    """Character 1..max_n-grams of a Chinese message (lower-cased; links and mentions replaced by one
    symbol each). Chinese has no spaces, so characters stand in for words; emoji and Weibo emoticon codes
    such as "[哈哈]" come through as characters too."""
    text = _URL.sub(" U ", normalise(text))
    text = _SPACES.sub(" ", _MENTION.sub(" @ ", text)).strip().lower()
    grams: list[str] = []
    for n in range(1, max_n + 1):
        grams.extend(text[i : i + n] for i in range(len(text) - n + 1))
    return grams


def has_emoticon_code(text: str) -> bool:
    """Weibo-style emoticon codes ("[good]", "[泪]")."""
    return _EMOTICON_CODE.search(text) is not None
