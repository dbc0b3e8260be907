"""The sentiment port: labels, one result per message, and the analyzer interface every backend meets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class SentimentLabel(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    UNKNOWN = "unknown"  # a language (or a text) the backend cannot judge


@dataclass(frozen=True)
class SentimentResult:
    """One message's sentiment.

    ``score`` runs from -1 (clearly negative) to 1 (clearly positive): P(positive) - P(negative).
    ``confidence`` (0..1) is the backend's probability for ``label``. ``language`` is an ISO 639-1 code
    ("en", "zh", ...) or "und" when no language could be told.
    """

    label: SentimentLabel
    score: float
    confidence: float
    language: str

    @classmethod
    def unknown(cls, language: str) -> SentimentResult:
        return cls(SentimentLabel.UNKNOWN, 0.0, 0.0, language)


class SentimentAnalyzer(Protocol):
    def analyze(self, text: str) -> SentimentResult: ...

    def analyze_batch(self, texts: Sequence[str]) -> list[SentimentResult]: ...


class SentimentServiceError(Exception):
    """A sentiment backend failed (a remote service's error, translated). ``retryable`` for throttling."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
