"""evaluate(): accuracy and macro-F1 on a labelled CSV, checked against hand-computed figures."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pytest

from chorus.listening.sentiment import SentimentLabel, SentimentResult, evaluate

ROWS = [
    # text, truth, what the fake analyzer answers
    ("p1", "positive", SentimentLabel.POSITIVE),
    ("p2", "positive", SentimentLabel.NEGATIVE),
    ("n1", "negative", SentimentLabel.NEGATIVE),
    ("n2", "negative", SentimentLabel.NEGATIVE),
    ("u1", "neutral", SentimentLabel.POSITIVE),
    ("u2", "neutral", SentimentLabel.UNKNOWN),
]


class ScriptedAnalyzer:
    def __init__(self, answers: dict[str, SentimentLabel]) -> None:
        self.answers = answers

    def analyze(self, text: str) -> SentimentResult:
        return SentimentResult(self.answers[text], 0.0, 1.0, "en")

    def analyze_batch(self, texts: Sequence[str]) -> list[SentimentResult]:
        return [self.analyze(text) for text in texts]


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def test_metrics_match_hand_computed_figures(tmp_path: Path) -> None:
    # Given six labelled rows and an analyzer that gets three right and answers UNKNOWN once
    path = write_csv(tmp_path / "tiny.csv", [(text, truth) for text, truth, _ in ROWS])
    analyzer = ScriptedAnalyzer({text: answer for text, _, answer in ROWS})
    # When evaluated
    metrics = evaluate(path, analyzer)
    # Then, by hand: accuracy 3/6; F1 positive 2*1/(2+2) = 0.5; negative 2*2/(3+2) = 0.8; neutral 0
    # (UNKNOWN is a miss for neutral and a false alarm for no class); macro (0.5 + 0.8 + 0) / 3
    assert metrics["n"] == 6
    assert metrics["accuracy"] == 0.5
    assert metrics["f1_positive"] == 0.5
    assert metrics["f1_negative"] == 0.8
    assert metrics["f1_neutral"] == 0.0
    assert metrics["macro_f1"] == pytest.approx(1.3 / 3, abs=1e-4)
    assert metrics["unknown"] == 1
    assert isinstance(metrics["ms_per_message"], float)


def test_a_perfect_analyzer_scores_one(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "tiny.csv", [(text, truth) for text, truth, _ in ROWS])
    analyzer = ScriptedAnalyzer({text: SentimentLabel(truth) for text, truth, _ in ROWS})
    metrics = evaluate(path, analyzer)
    assert (metrics["accuracy"], metrics["macro_f1"]) == (1.0, 1.0)


def test_labels_outside_the_three_classes_are_rejected(tmp_path: Path) -> None:
    # Given a CSV labelled "unknown" (not a class anyone can be scored on)
    path = write_csv(tmp_path / "bad.csv", [("x", "unknown")])
    # Then evaluation refuses it
    with pytest.raises(ValueError, match="positive/negative/neutral"):
        evaluate(path, ScriptedAnalyzer({"x": SentimentLabel.NEUTRAL}))


def test_default_analyzer_is_used_when_none_is_given(tmp_path: Path) -> None:
    # Given plain English rows and no analyzer
    path = write_csv(
        tmp_path / "plain.csv",
        [("I love this, it is wonderful!", "positive"), ("I hate this, it is awful.", "negative")],
    )
    # When evaluated, the offline default judges them
    metrics = evaluate(path)
    assert metrics["accuracy"] == 1.0
