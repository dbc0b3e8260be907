"""The Amazon Comprehend backend, against botocore's Stubber (no AWS is reached)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chorus.listening.sentiment import (
    ComprehendSentimentAnalyzer,
    SentimentLabel,
    SentimentResult,
    SentimentServiceError,
)


@pytest.fixture
def stubbed() -> Iterator[tuple[ComprehendSentimentAnalyzer, Stubber]]:
    client = boto3.client("comprehend", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield ComprehendSentimentAnalyzer(client), stubber
        stubber.assert_no_pending_responses()


def languages(code: str, score: float = 0.99) -> dict[str, Any]:
    return {"Languages": [{"LanguageCode": code, "Score": score}, {"LanguageCode": "xx", "Score": 0.01}]}


def scores(positive: float, negative: float, neutral: float, mixed: float) -> dict[str, float]:
    return {"Positive": positive, "Negative": negative, "Neutral": neutral, "Mixed": mixed}


def test_english_positive_maps_to_positive(stubbed: tuple[ComprehendSentimentAnalyzer, Stubber]) -> None:
    analyzer, stubber = stubbed
    # Given Comprehend finds English and a positive sentiment
    text = "I love the new release"
    stubber.add_response("detect_dominant_language", languages("en"), {"Text": text})
    stubber.add_response(
        "detect_sentiment",
        {"Sentiment": "POSITIVE", "SentimentScore": scores(0.9, 0.02, 0.07, 0.01)},
        {"Text": text, "LanguageCode": "en"},
    )
    # When the text is analyzed
    result = analyzer.analyze(text)
    # Then the label is positive, the score Positive - Negative, the confidence Positive's probability
    assert result == SentimentResult(SentimentLabel.POSITIVE, 0.88, 0.9, "en")


def test_mixed_maps_to_neutral_with_the_balance_as_score(
    stubbed: tuple[ComprehendSentimentAnalyzer, Stubber],
) -> None:
    analyzer, stubber = stubbed
    # Given a message Comprehend calls MIXED, leaning negative
    text = "Great camera, but the battery died after an hour"
    stubber.add_response("detect_dominant_language", languages("en"), {"Text": text})
    stubber.add_response(
        "detect_sentiment",
        {"Sentiment": "MIXED", "SentimentScore": scores(0.3, 0.4, 0.05, 0.25)},
        {"Text": text, "LanguageCode": "en"},
    )
    result = analyzer.analyze(text)
    # Then it is neutral (neither for nor against) and the score still leans negative
    assert result == SentimentResult(SentimentLabel.NEUTRAL, -0.1, 0.25, "en")


def test_traditional_chinese_is_judged_as_zh_tw_and_reported_as_zh(
    stubbed: tuple[ComprehendSentimentAnalyzer, Stubber],
) -> None:
    analyzer, stubber = stubbed
    text = "這家店的服務太差了"
    stubber.add_response("detect_dominant_language", languages("zh-TW"), {"Text": text})
    stubber.add_response(
        "detect_sentiment",
        {"Sentiment": "NEGATIVE", "SentimentScore": scores(0.01, 0.95, 0.03, 0.01)},
        {"Text": text, "LanguageCode": "zh-TW"},
    )
    assert analyzer.analyze(text) == SentimentResult(SentimentLabel.NEGATIVE, -0.94, 0.95, "zh")


def test_unsupported_language_is_unknown_without_a_sentiment_call(
    stubbed: tuple[ComprehendSentimentAnalyzer, Stubber],
) -> None:
    analyzer, stubber = stubbed
    # Given Swedish, which DetectSentiment does not support (no detect_sentiment response is queued,
    # so a call would fail the Stubber)
    text = "Det här är verkligen bra"
    stubber.add_response("detect_dominant_language", languages("sv"), {"Text": text})
    # Then the result is UNKNOWN in Swedish
    assert analyzer.analyze(text) == SentimentResult.unknown("sv")


def test_blank_text_is_unknown_without_any_call(stubbed: tuple[ComprehendSentimentAnalyzer, Stubber]) -> None:
    analyzer, _ = stubbed
    assert analyzer.analyze("   ") == SentimentResult.unknown("und")


def test_text_is_cut_to_5000_utf8_bytes_on_a_character_boundary(
    stubbed: tuple[ComprehendSentimentAnalyzer, Stubber],
) -> None:
    analyzer, stubber = stubbed
    # Given a 6,000-byte Chinese text (3 bytes per character) that starts with one ASCII letter
    text = "a" + "好" * 2000
    cut = "a" + "好" * 1666  # 4,999 bytes: the 1,667th character would pass 5,000
    stubber.add_response("detect_dominant_language", languages("zh"), {"Text": cut})
    stubber.add_response(
        "detect_sentiment",
        {"Sentiment": "POSITIVE", "SentimentScore": scores(0.8, 0.1, 0.1, 0.0)},
        {"Text": cut, "LanguageCode": "zh"},
    )
    assert analyzer.analyze(text).label == SentimentLabel.POSITIVE


def test_batch_groups_by_language_and_keeps_order(
    stubbed: tuple[ComprehendSentimentAnalyzer, Stubber],
) -> None:
    analyzer, stubber = stubbed
    # Given an English, a blank, a Swedish, a French and a second English text
    texts = ["Love it", "", "Det är bra", "C'est nul", "Meeting at noon"]
    stubber.add_response(
        "batch_detect_dominant_language",
        {
            "ResultList": [
                {"Index": 0, **languages("en")},
                {"Index": 1, **languages("sv")},
                {"Index": 2, **languages("fr")},
                {"Index": 3, **languages("en")},
            ],
            "ErrorList": [],
        },
        {"TextList": ["Love it", "Det är bra", "C'est nul", "Meeting at noon"]},
    )
    stubber.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [
                {"Index": 0, "Sentiment": "POSITIVE", "SentimentScore": scores(0.9, 0.0, 0.1, 0.0)},
            ],
            "ErrorList": [{"Index": 1, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "try later"}],
        },
        {"TextList": ["Love it", "Meeting at noon"], "LanguageCode": "en"},
    )
    stubber.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [
                {"Index": 0, "Sentiment": "NEGATIVE", "SentimentScore": scores(0.05, 0.9, 0.05, 0.0)},
            ],
            "ErrorList": [],
        },
        {"TextList": ["C'est nul"], "LanguageCode": "fr"},
    )
    # When analyzed as a batch
    results = analyzer.analyze_batch(texts)
    # Then each result sits at its text's position; the blank, the unsupported and the failed one are UNKNOWN
    assert results == [
        SentimentResult(SentimentLabel.POSITIVE, 0.9, 0.9, "en"),
        SentimentResult.unknown("und"),
        SentimentResult.unknown("sv"),
        SentimentResult(SentimentLabel.NEGATIVE, -0.85, 0.9, "fr"),
        SentimentResult.unknown("en"),
    ]


def test_batches_are_split_into_calls_of_25(stubbed: tuple[ComprehendSentimentAnalyzer, Stubber]) -> None:
    analyzer, stubber = stubbed
    # Given 30 English texts
    texts = [f"message {i}" for i in range(30)]
    for chunk in (texts[:25], texts[25:]):
        stubber.add_response(
            "batch_detect_dominant_language",
            {"ResultList": [{"Index": i, **languages("en")} for i in range(len(chunk))], "ErrorList": []},
            {"TextList": chunk},
        )
    for chunk in (texts[:25], texts[25:]):
        stubber.add_response(
            "batch_detect_sentiment",
            {
                "ResultList": [
                    {"Index": i, "Sentiment": "NEUTRAL", "SentimentScore": scores(0.1, 0.1, 0.8, 0.0)}
                    for i in range(len(chunk))
                ],
                "ErrorList": [],
            },
            {"TextList": chunk, "LanguageCode": "en"},
        )
    # Then two calls of each kind (25 + 5) judge all 30
    results = analyzer.analyze_batch(texts)
    assert [result.label for result in results] == [SentimentLabel.NEUTRAL] * 30


def test_throttling_becomes_a_retryable_service_error(
    stubbed: tuple[ComprehendSentimentAnalyzer, Stubber],
) -> None:
    analyzer, stubber = stubbed
    stubber.add_client_error(
        "detect_dominant_language", service_error_code="ThrottlingException", http_status_code=400
    )
    with pytest.raises(SentimentServiceError) as caught:
        analyzer.analyze("hello there")
    assert (caught.value.code, caught.value.retryable) == ("ThrottlingException", True)


def test_a_rejected_request_is_a_permanent_service_error(
    stubbed: tuple[ComprehendSentimentAnalyzer, Stubber],
) -> None:
    analyzer, stubber = stubbed
    stubber.add_response("detect_dominant_language", languages("en"), {"Text": "hello there"})
    stubber.add_client_error(
        "detect_sentiment", service_error_code="TextSizeLimitExceededException", http_status_code=400
    )
    with pytest.raises(SentimentServiceError) as caught:
        analyzer.analyze("hello there")
    assert (caught.value.code, caught.value.retryable) == ("TextSizeLimitExceededException", False)
