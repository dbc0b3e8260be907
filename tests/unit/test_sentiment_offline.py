"""The offline analyzer: obvious sentiment in English and Chinese, UNKNOWN elsewhere, cheap to import."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from chorus.listening.sentiment import (
    OfflineSentimentAnalyzer,
    SentimentLabel,
    SentimentResult,
    default_analyzer,
)
from chorus.listening.sentiment.model import LinearModel


@pytest.fixture(scope="module")
def analyzer() -> OfflineSentimentAnalyzer:
    return OfflineSentimentAnalyzer()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I absolutely love this new update, great job team! 😍", SentimentLabel.POSITIVE),
        ("Thank you so much for the quick help, you made my day", SentimentLabel.POSITIVE),
        ("Worst customer service ever. I am so angry and disappointed.", SentimentLabel.NEGATIVE),
        ("My package arrived broken and nobody answers. Terrible.", SentimentLabel.NEGATIVE),
        ("The store opens at 9am on Monday.", SentimentLabel.NEUTRAL),
        ("Our quarterly report will be published on the website on Thursday", SentimentLabel.NEUTRAL),
    ],
)
def test_obvious_english_sentiment(
    analyzer: OfflineSentimentAnalyzer, text: str, label: SentimentLabel
) -> None:
    # Given an English message whose sentiment nobody would dispute
    # When it is analyzed
    result = analyzer.analyze(text)
    # Then the label is that sentiment and the language English
    assert (result.label, result.language) == (label, "en")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("太棒了，今天收到礼物真开心！", SentimentLabel.POSITIVE),
        ("谢谢大家的祝福，爱你们[心]", SentimentLabel.POSITIVE),
        ("气死我了，客服态度太差，再也不买了", SentimentLabel.NEGATIVE),
        ("好难过，一个人哭了一晚上", SentimentLabel.NEGATIVE),
        ("明天上午九点在三楼会议室开会。", SentimentLabel.NEUTRAL),
        ("本店营业时间为周一至周五。", SentimentLabel.NEUTRAL),
    ],
)
def test_obvious_chinese_sentiment(
    analyzer: OfflineSentimentAnalyzer, text: str, label: SentimentLabel
) -> None:
    result = analyzer.analyze(text)
    assert (result.label, result.language) == (label, "zh")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("C'est vraiment nul, je suis très déçu", "fr"),
        ("最悪の一日だった。もう二度と行かない", "ja"),
        ("@brand https://t.co/xyz", "und"),
    ],
)
def test_languages_it_cannot_judge_are_unknown(
    analyzer: OfflineSentimentAnalyzer, text: str, language: str
) -> None:
    # Given French, Japanese, or no words at all
    # When analyzed
    result = analyzer.analyze(text)
    # Then the analyzer says it does not know, and which language it saw
    assert result == SentimentResult(SentimentLabel.UNKNOWN, 0.0, 0.0, language)


def test_weibo_emoticon_codes_alone_are_judged(analyzer: OfflineSentimentAnalyzer) -> None:
    # Given a Weibo reply that is only emoticon codes
    result = analyzer.analyze("[good][good][good]")
    # Then the Chinese model (which learnt them from Weibo) judges it, with no language claimed
    assert (result.label, result.language) == (SentimentLabel.POSITIVE, "und")


def test_score_and_confidence_agree_with_the_label(analyzer: OfflineSentimentAnalyzer) -> None:
    # Given a clearly negative and a clearly positive message
    negative = analyzer.analyze("This is awful, I hate it")
    positive = analyzer.analyze("This is wonderful, I love it")
    # Then scores point the right way and confidences are probabilities above chance
    assert -1.0 <= negative.score < 0 < positive.score <= 1.0
    assert 1 / 3 < negative.confidence <= 1.0
    assert 1 / 3 < positive.confidence <= 1.0


def test_batch_gives_the_same_results_in_order(analyzer: OfflineSentimentAnalyzer) -> None:
    texts = ["I love it", "太差了", "Bonjour à tous, merci beaucoup", "The meeting is at noon."]
    assert analyzer.analyze_batch(texts) == [analyzer.analyze(text) for text in texts]


def test_models_load_on_first_use_not_before(tmp_path: Path) -> None:
    # Given an analyzer pointed at a model file that does not exist
    analyzer = OfflineSentimentAnalyzer(model_path=tmp_path / "missing.json.gz")
    # When it only sees text it does not judge, nothing is loaded
    assert analyzer.analyze("Merci beaucoup, c'est très gentil").label == SentimentLabel.UNKNOWN
    # Then the first English message is what reads the model
    with pytest.raises(FileNotFoundError):
        analyzer.analyze("I love it")


def test_importing_the_package_loads_no_model_or_lexicon() -> None:
    # Given a fresh interpreter (a Lambda cold start)
    code = (
        "import sys, chorus.listening.sentiment;"
        " print('vaderSentiment' in sys.modules, 'boto3' in sys.modules)"
    )
    # When the package is imported
    output = subprocess.check_output([sys.executable, "-c", code], text=True).split()
    # Then neither the English lexicon nor boto3 has been imported
    assert output == ["False", "False"]


def test_default_analyzer_is_one_cached_instance() -> None:
    assert default_analyzer() is default_analyzer()
    assert isinstance(default_analyzer(), OfflineSentimentAnalyzer)


def test_linear_model_scores_sublinear_tfidf_l2_normalised_grams() -> None:
    # Given a two-gram model: "a" (idf 2) votes negative, "b" (idf 1) votes positive, twice as hard
    model = LinearModel.from_rows(
        classes=("negative", "neutral", "positive"),
        bias=(0.0, 0.5, 0.0),
        dense={"x": (0.0, 0.0, 1.0)},
        grams={"a": (2.0, 1.0, 0.0, -1.0), "b": (1.0, 0.0, 0.0, 2.0)},
    )
    # When "a" appears twice, "b" once, an unknown gram once, and dense feature x is 0.5
    got = model.probabilities(dense={"x": 0.5}, grams=["a", "a", "b", "zz"])
    # (and the same after a round trip through the file format)
    again = LinearModel.from_json(model.to_json()).probabilities(
        dense={"x": 0.5}, grams=["a", "a", "b", "zz"]
    )
    # Then tf is 1 + ln(count), times idf, l2-normalised over known grams, then softmax
    a = (1 + math.log(2)) * 2.0
    b = 1.0
    norm = math.hypot(a, b)
    logits = [a / norm, 0.5, -a / norm + 2 * b / norm + 0.5]
    exps = [math.exp(value) for value in logits]
    expected = [value / sum(exps) for value in exps]
    assert got == pytest.approx(expected)
    assert again == pytest.approx(expected)


def test_long_messages_are_judged_on_their_first_thousand_characters(
    analyzer: OfflineSentimentAnalyzer,
) -> None:
    # Given a 2,000-character message whose second half is furious
    calm = ("The parcel came on Tuesday and I opened it in the kitchen. " * 20)[:1000]
    text = calm + "I hate this awful broken junk. " * 33
    # When analyzed, only the start is read (which keeps the cost per message bounded)
    assert analyzer.analyze(text) == analyzer.analyze(calm)
    assert analyzer.analyze(calm + "I hate this awful broken junk.") == analyzer.analyze(calm)
