"""Amazon Comprehend as a sentiment backend (an adapter: the client is injected, never created here).

Per message: DetectDominantLanguage, then DetectSentiment in that language when Comprehend supports it;
a batch uses BatchDetectDominantLanguage and BatchDetectSentiment (25 texts a call, grouped by
language). Comprehend's MIXED becomes NEUTRAL (the message is neither for nor against; its score still
shows which side weighs more), a language Comprehend cannot judge becomes UNKNOWN, and service errors
become SentimentServiceError (retryable for throttling and server faults).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .language import UNDETERMINED
from .types import SentimentLabel, SentimentResult, SentimentServiceError

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_comprehend.literals import LanguageCodeType

# DetectSentiment's LanguageCode values (Comprehend documentation, "Supported languages").
COMPREHEND_SENTIMENT_LANGUAGES = frozenset(
    {"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"}
)
BATCH_SIZE = 25  # the most texts one Batch* call accepts
MAX_TEXT_BYTES = 5000  # DetectSentiment's limit per text, UTF-8
_RETRYABLE = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "InternalServerException", "ServiceUnavailable"}
)
_LABELS = {
    "POSITIVE": SentimentLabel.POSITIVE,
    "NEGATIVE": SentimentLabel.NEGATIVE,
    "NEUTRAL": SentimentLabel.NEUTRAL,
    "MIXED": SentimentLabel.NEUTRAL,
}
_SCORE_KEYS = {"POSITIVE": "Positive", "NEGATIVE": "Negative", "NEUTRAL": "Neutral", "MIXED": "Mixed"}
_T = TypeVar("_T")


class ComprehendSentimentAnalyzer:
    def __init__(
        self,
        client: ComprehendClient,
        *,
        languages: Collection[str] = COMPREHEND_SENTIMENT_LANGUAGES,
        language_hint: Callable[[str], str | None] | None = None,
    ) -> None:
        """``language_hint`` (optional) names a text's language when it can tell for sure (e.g.
        :func:`~chorus.listening.sentiment.language.confident_language`); DetectDominantLanguage is
        then skipped for that text (one paid call instead of two)."""
        self._client = client
        self._languages = frozenset(languages)
        self._hint = language_hint

    def analyze(self, text: str) -> SentimentResult:
        text = _truncate(text)
        if not text.strip():
            return SentimentResult.unknown(UNDETERMINED)
        language = self._hint(text) if self._hint is not None else None
        if language is None:
            with _translated_errors():
                detected = self._client.detect_dominant_language(Text=text)
            language = _dominant(detected.get("Languages", []))
        if language not in self._languages:
            return SentimentResult.unknown(_iso(language))
        with _translated_errors():
            response = self._client.detect_sentiment(Text=text, LanguageCode=_code(language))
        return _result(response, language)

    def analyze_batch(self, texts: Sequence[str]) -> list[SentimentResult]:
        prepared = [_truncate(text) for text in texts]
        results = [SentimentResult.unknown(UNDETERMINED)] * len(prepared)
        todo = [index for index, text in enumerate(prepared) if text.strip()]
        by_language: dict[str, list[int]] = {}
        for chunk in _chunks(todo, BATCH_SIZE):
            with _translated_errors():
                detected = self._client.batch_detect_dominant_language(
                    TextList=[prepared[index] for index in chunk]
                )
            for item in detected.get("ResultList", []):
                index = chunk[item["Index"]]
                language = _dominant(item.get("Languages", []))
                if language in self._languages:
                    by_language.setdefault(language, []).append(index)
                else:
                    results[index] = SentimentResult.unknown(_iso(language))
        for language, indexes in by_language.items():
            for chunk in _chunks(indexes, BATCH_SIZE):
                with _translated_errors():
                    judged = self._client.batch_detect_sentiment(
                        TextList=[prepared[index] for index in chunk], LanguageCode=_code(language)
                    )
                for result in judged.get("ResultList", []):
                    results[chunk[result["Index"]]] = _result(result, language)
                for error in judged.get("ErrorList", []):
                    results[chunk[error["Index"]]] = SentimentResult.unknown(_iso(language))
        return results


@contextmanager
def _translated_errors() -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        raise SentimentServiceError(
            f"Comprehend: {error}", code=code, retryable=code in _RETRYABLE
        ) from error
    except BotoCoreError as error:  # connection and timeout failures
        raise SentimentServiceError(f"Comprehend: {error}", retryable=True) from error


def _code(language: str) -> LanguageCodeType:
    return cast("LanguageCodeType", language)


def _truncate(text: str) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_TEXT_BYTES:
        return text
    return encoded[:MAX_TEXT_BYTES].decode("utf-8", errors="ignore")


def _chunks(items: Sequence[_T], size: int) -> list[Sequence[_T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _dominant(languages: Sequence[Mapping[str, Any]]) -> str:
    if not languages:
        return UNDETERMINED
    best = max(languages, key=lambda language: float(language.get("Score", 0.0)))
    return str(best.get("LanguageCode", UNDETERMINED))


def _iso(language: str) -> str:
    return "zh" if language == "zh-TW" else language


def _result(response: Mapping[str, Any], language: str) -> SentimentResult:
    sentiment = str(response.get("Sentiment", ""))
    scores: Mapping[str, float] = response.get("SentimentScore", {})
    label = _LABELS.get(sentiment)
    if label is None:
        return SentimentResult.unknown(_iso(language))
    positive = float(scores.get("Positive", 0.0))
    negative = float(scores.get("Negative", 0.0))
    return SentimentResult(
        label=label,
        score=round(max(-1.0, min(1.0, positive - negative)), 4),
        confidence=round(float(scores.get(_SCORE_KEYS[sentiment], 0.0)), 4),
        language=_iso(language),
    )
