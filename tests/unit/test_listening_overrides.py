"""A person's sentiment override of a mention: kept beside the machine's label, counted, and moved
between the counters the series, share of voice and crisis detector read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime

import pytest
from moto import mock_aws

from chorus.config import reset_caches
from chorus.errors import NotFound, ValidationFailed
from chorus.listening import overrides, service
from chorus.listening.monitors import Mention
from chorus.listening.scoring import COMPREHEND, OFFLINE, WorkspaceSentiment
from chorus.listening.sentiment import SentimentLabel, SentimentResult, SentimentServiceError
from chorus.listening.sentiment.language import confident_language

WS = "ws-overrides"
AT = datetime(2026, 3, 10, 12, 2, tzinfo=UTC)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHORUS_TABLE", "chorus-listening-overrides")
    with mock_aws():
        reset_caches()
        from chorus.store.models import MainItem, bind

        bind()
        MainItem.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        yield
    reset_caches()


def heard(sentiment: str) -> str:
    service.create_monitor(WS, {"name": "Acme", "kind": "brand", "terms": ["acme"]})
    mention = Mention("bluesky", "at://did:plc:x/app.bsky.feed.post/1", None, "a", "did:a", "acme broke", AT)
    assert service.record_mention(WS, mention, sentiment, service.list_monitors(WS)).stored
    return service.mention_id(mention.platform, mention.platform_id)


def counts(key: str) -> tuple[int, int]:
    (window,) = service.series(WS, key, AT.replace(minute=0), AT)
    return window["negatives"], window["total"]


def test_overriding_a_mention_keeps_the_original_counts_it_and_moves_its_counters(table: None) -> None:
    # Given a mention the machine called negative, matching the brand monitor
    mention_id = heard("negative")
    monitor_id = service.list_monitors(WS)[0].id
    assert counts("all") == (1, 1)
    # When a person says it is positive
    view = overrides.override_mention(WS, mention_id, "positive", "key-editor", now=AT)
    # Then the mention has the person's label, the machine's is kept with who/when/from/to
    assert view["sentiment"] == "positive"
    assert view["sentiment_original"] == "negative"
    assert {k: view["sentiment_override"][k] for k in ("from", "to", "by")} == {
        "from": "negative",
        "to": "positive",
        "by": "key-editor",
    }
    # And the window counters (workspace and monitor) lose a negative, keeping the total
    assert counts("all") == (0, 1)
    assert counts(monitor_id) == (0, 1)
    # And share of voice counts it positive; the override is counted once
    (voice,) = service.share_of_voice(WS, date(2026, 3, 10), date(2026, 3, 10))
    assert (voice.mentions, voice.positive, voice.negative) == (1, 1, 0)
    assert service.overrides_count(WS, date(2026, 3, 10), date(2026, 3, 10)) == 1
    # When the same label is given again, then nothing changes and nothing more is counted
    overrides.override_mention(WS, mention_id, "positive", "key-editor", now=AT)
    assert service.overrides_count(WS, date(2026, 3, 10), date(2026, 3, 10)) == 1


def test_a_bad_label_names_the_field_and_an_unknown_mention_is_not_found(table: None) -> None:
    mention_id = heard("neutral")
    with pytest.raises(ValidationFailed) as bad:
        overrides.override_mention(WS, mention_id, "furious", "key-editor")
    assert [e.field for e in bad.value.errors] == ["sentiment"]
    with pytest.raises(NotFound):
        overrides.override_mention(WS, service.mention_id("bluesky", "nope"), "positive", "key-editor")
    with pytest.raises(NotFound):
        overrides.override_mention(WS, "!!not-an-id", "positive", "key-editor")


# ------------------------------------------------------------------------------ the backend switch
class Fixed:
    def __init__(self, label: SentimentLabel, fail: bool = False) -> None:
        self.label, self.fail, self.calls = label, fail, 0

    def analyze(self, text: str) -> SentimentResult:
        self.calls += 1
        if self.fail:
            raise SentimentServiceError("Comprehend: throttled", code="ThrottlingException", retryable=True)
        return SentimentResult(self.label, 0.0, 1.0, "en")

    def analyze_batch(self, texts: Sequence[str]) -> list[SentimentResult]:
        return [self.analyze(t) for t in texts]


def test_each_workspace_is_scored_by_its_backend_and_comprehend_failures_fall_back_offline() -> None:
    # Given one workspace on Comprehend and one offline
    offline, comprehend = Fixed(SentimentLabel.NEUTRAL), Fixed(SentimentLabel.POSITIVE)
    chosen = {"ws-c": COMPREHEND, "ws-o": OFFLINE}
    reads: list[str] = []

    def backend_of(ws: str) -> str:
        reads.append(ws)
        return chosen[ws]

    scorer = WorkspaceSentiment(offline, comprehend=lambda: comprehend, backend_of=backend_of)
    # When each scores a message, then each backend is used and named
    assert (scorer.score("ws-c", "x").source, scorer.score("ws-c", "x").result.label) == (
        COMPREHEND,
        SentimentLabel.POSITIVE,
    )
    assert scorer.score("ws-o", "x").source == OFFLINE
    # And the settings are read once per workspace (cached), until forgotten
    assert reads == ["ws-c", "ws-o"]
    scorer.forget("ws-c")
    scorer.score("ws-c", "x")
    assert reads == ["ws-c", "ws-o", "ws-c"]
    # When Comprehend fails, then the offline analyzer scores the message and the source says so
    comprehend.fail = True
    fallback = scorer.score("ws-c", "x")
    assert (fallback.source, fallback.result.label) == (OFFLINE, SentimentLabel.NEUTRAL)


def test_the_language_hint_names_only_languages_the_text_shows() -> None:
    assert confident_language("This is an example.") == "en"
    assert confident_language("hello, world!") is None  # English only by default
    assert confident_language("今天的服务太差了") == "zh"
    assert confident_language("🔥🔥") is None


def test_with_a_language_hint_comprehend_is_asked_for_the_sentiment_only() -> None:
    import boto3
    from botocore.stub import Stubber

    from chorus.listening.sentiment import ComprehendSentimentAnalyzer

    client = boto3.client("comprehend", region_name="us-east-1")
    analyzer = ComprehendSentimentAnalyzer(client, language_hint=confident_language)
    scores = {"Positive": 0.1, "Negative": 0.8, "Neutral": 0.05, "Mixed": 0.05}
    with Stubber(client) as stubber:
        # Given a text whose language is clear, and one whose is not
        stubber.add_response(
            "detect_sentiment",
            {"Sentiment": "NEGATIVE", "SentimentScore": scores},
            {"Text": "this is the worst", "LanguageCode": "en"},
        )
        stubber.add_response(
            "detect_dominant_language", {"Languages": [{"LanguageCode": "es", "Score": 0.9}]}, {"Text": "ok!"}
        )
        stubber.add_response(
            "detect_sentiment",
            {"Sentiment": "NEGATIVE", "SentimentScore": scores},
            {"Text": "ok!", "LanguageCode": "es"},
        )
        # When both are analysed, then only the unclear one costs a DetectDominantLanguage call
        assert analyzer.analyze("this is the worst").label is SentimentLabel.NEGATIVE
        assert analyzer.analyze("ok!").language == "es"
        stubber.assert_no_pending_responses()
