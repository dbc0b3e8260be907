"""Sentiment of inbox messages and brand mentions, behind one small interface (SentimentAnalyzer).

``default_analyzer()`` is the offline analyzer (English and Chinese, models shipped in the package, no
network); ``ComprehendSentimentAnalyzer`` uses Amazon Comprehend with an injected boto3 client.
Importing this package is cheap: models load on first use.
"""

from __future__ import annotations

from functools import cache

from .comprehend import COMPREHEND_SENTIMENT_LANGUAGES, ComprehendSentimentAnalyzer
from .evaluation import evaluate
from .language import detect_language
from .offline import OfflineSentimentAnalyzer
from .types import SentimentAnalyzer, SentimentLabel, SentimentResult, SentimentServiceError

__all__ = [
    "COMPREHEND_SENTIMENT_LANGUAGES",
    "ComprehendSentimentAnalyzer",
    "OfflineSentimentAnalyzer",
    "SentimentAnalyzer",
    "SentimentLabel",
    "SentimentResult",
    "SentimentServiceError",
    "default_analyzer",
    "detect_language",
    "evaluate",
]


@cache
def default_analyzer() -> SentimentAnalyzer:
    """The process-wide offline analyzer (one per Lambda container)."""
    return OfflineSentimentAnalyzer()
