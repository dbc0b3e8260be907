"""The acceptance line: macro-F1 >= 0.60 on each development set, at <= 5 ms per message."""

from __future__ import annotations

import pytest

from chorus.listening.sentiment import OfflineSentimentAnalyzer, evaluate
from tests.support import fixtures_dir


@pytest.mark.parametrize(
    "name", ["en_tweeteval_validation_sample500.csv", "zh_smp2020ewect_usual_eval_sample500.csv"]
)
def test_offline_analyzer_meets_the_bar_on_the_development_set(name: str) -> None:
    # Given a balanced development set of tweets or Weibo posts (never used for training)
    path = fixtures_dir() / "sentiment" / name
    # When the offline analyzer is evaluated on it
    metrics = evaluate(path, OfflineSentimentAnalyzer())
    # Then it clears macro-F1 0.60 and stays within the Lambda budget per message
    assert metrics["n"] == 500
    assert metrics["macro_f1"] >= 0.60, metrics
    assert metrics["ms_per_message"] <= 5.0, metrics
