"""Scoring an analyzer on a labelled CSV (header ``text,label``; label positive/negative/neutral)."""

from __future__ import annotations

import csv
import time
from pathlib import Path

from .types import SentimentAnalyzer, SentimentLabel

JUDGED = (SentimentLabel.POSITIVE, SentimentLabel.NEGATIVE, SentimentLabel.NEUTRAL)


def read_labelled(csv_path: Path) -> tuple[list[str], list[SentimentLabel]]:
    with Path(csv_path).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [row["text"] for row in rows]
    labels = [SentimentLabel(row["label"].strip().lower()) for row in rows]
    unexpected = {label for label in labels if label not in JUDGED}
    if unexpected:
        raise ValueError(f"labels must be positive/negative/neutral, found {sorted(unexpected)}")
    return texts, labels


def evaluate(csv_path: Path, analyzer: SentimentAnalyzer | None = None) -> dict[str, object]:
    """Accuracy, macro-F1 over the three classes, per-class F1 and milliseconds per message.

    A prediction of UNKNOWN counts as wrong (a miss for the true class, a false alarm for none).
    The analyzer is warmed up on the first text before timing, so ``ms_per_message`` is the steady cost
    and ``first_call_ms`` the one-off cost of loading models."""
    if analyzer is None:
        from . import default_analyzer

        analyzer = default_analyzer()
    texts, truth = read_labelled(csv_path)
    first_call_ms = 0.0
    if texts:
        started = time.perf_counter()
        analyzer.analyze(texts[0])
        first_call_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    predicted = [result.label for result in analyzer.analyze_batch(texts)]
    elapsed_ms = (time.perf_counter() - started) * 1000
    metrics = metrics_for(truth, predicted)
    metrics["ms_per_message"] = round(elapsed_ms / len(texts), 4) if texts else 0.0
    metrics["first_call_ms"] = round(first_call_ms, 2)
    return metrics


def metrics_for(truth: list[SentimentLabel], predicted: list[SentimentLabel]) -> dict[str, object]:
    if len(truth) != len(predicted):
        raise ValueError("one prediction per labelled text")
    n = len(truth)
    correct = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p)
    f1: dict[str, float] = {}
    for label in JUDGED:
        true_positive = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p == label)
        predicted_count = sum(1 for p in predicted if p == label)
        actual_count = sum(1 for t in truth if t == label)
        denominator = predicted_count + actual_count
        f1[label.value] = 2 * true_positive / denominator if denominator else 0.0
    return {
        "n": n,
        "accuracy": round(correct / n, 4) if n else 0.0,
        "macro_f1": round(sum(f1.values()) / len(JUDGED), 4),
        "f1_positive": round(f1["positive"], 4),
        "f1_negative": round(f1["negative"], 4),
        "f1_neutral": round(f1["neutral"], 4),
        "unknown": sum(1 for p in predicted if p == SentimentLabel.UNKNOWN),
    }
