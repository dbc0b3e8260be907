"""Train the offline sentiment models shipped in shared/chorus/listening/sentiment/model.json.gz.

    .venv/bin/pip install scikit-learn   # training only; the Lambda layer does not need it
    .venv/bin/python bench/train_sentiment.py [--cv]

Reads ONLY the files the fixtures README allows for training: en_tweeteval_validation_rest.csv,
zh_smp2020ewect_usual_eval_rest.csv and zh_smp2020ewect_virus_train_eval.csv. The development samples
(*_sample500.csv) are never read here; bench/bench_sentiment.py reports on them. Hyper-parameters were
chosen by 5-fold cross-validation on the _rest files (`--cv` prints it), scored as on a balanced set.

English: 1,500 labelled tweets are too few to learn words from (word n-grams lowered cross-validated
macro-F1), so the English model is a logistic regression over VADER lexicon scores and a few tweet cues.
Chinese: a logistic regression over tf-idf weighted character 1-2-grams, trained on the ~10k epidemic
posts plus the general-domain rest, the latter weighted up since it is the domain Chorus sees.
Deterministic: the same files give the same model bytes.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import vstack
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.class_weight import compute_sample_weight

from chorus.listening.sentiment.features import chinese_grams, english_features
from chorus.listening.sentiment.model import MODEL_FILE, LinearModel, save_models

EN_TRAIN = "en_tweeteval_validation_rest.csv"
ZH_GENERAL = "zh_smp2020ewect_usual_eval_rest.csv"
ZH_EPIDEMIC = "zh_smp2020ewect_virus_train_eval.csv"
EN_C = 1.0
ZH_C = 10.0
ZH_GENERAL_WEIGHT = 3.0
ZH_MIN_DF = 2
CLASSES = ("negative", "neutral", "positive")


def fixtures_dir() -> Path:
    override = os.environ.get("CHORUS_FIXTURES")
    return Path(override) if override else Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


def load(name: str) -> tuple[list[str], np.ndarray]:
    if "sample500" in name:
        raise ValueError("development sets are for reporting only, never for training")
    with (fixtures_dir() / "sentiment" / name).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row["text"] for row in rows], np.array([row["label"] for row in rows])


def balanced_macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Macro-F1 as on a class-balanced sample (each class weighted to the same total)."""
    weights = compute_sample_weight("balanced", truth)
    return float(f1_score(truth, predicted, average="macro", sample_weight=weights))


def train_english(cv: bool) -> LinearModel:
    texts, labels = load(EN_TRAIN)
    vectorizer = DictVectorizer(sort=True)
    matrix = vectorizer.fit_transform([english_features(text) for text in texts])

    def fit(rows: Any, y: np.ndarray) -> LogisticRegression:
        return LogisticRegression(C=EN_C, class_weight="balanced", max_iter=5000).fit(rows, y)

    if cv:
        predicted = np.empty(len(labels), dtype=object)
        for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(matrix, labels):
            predicted[test] = fit(matrix[train], labels[train]).predict(matrix[test])
        print(f"en cv balanced macro-F1 {balanced_macro_f1(labels, predicted):.3f}")
    model = fit(matrix, labels)
    assert tuple(model.classes_) == CLASSES
    return LinearModel.from_rows(
        classes=CLASSES,
        bias=model.intercept_.tolist(),
        dense={
            name: model.coef_[:, column].tolist() for column, name in enumerate(vectorizer.feature_names_)
        },
        grams={},
    )


def train_chinese(cv: bool) -> LinearModel:
    epidemic_texts, epidemic_labels = load(ZH_EPIDEMIC)
    general_texts, general_labels = load(ZH_GENERAL)
    vectorizer = TfidfVectorizer(
        analyzer=chinese_grams, min_df=ZH_MIN_DF, sublinear_tf=True, dtype=np.float64
    )
    vectorizer.fit(epidemic_texts + general_texts)
    epidemic = vectorizer.transform(epidemic_texts)
    general = vectorizer.transform(general_texts)

    def fit(general_rows: np.ndarray) -> LogisticRegression:
        rows = vstack([epidemic, general[general_rows]])
        y = np.concatenate([epidemic_labels, general_labels[general_rows]])
        domain = np.concatenate(
            [np.ones(len(epidemic_labels)), np.full(len(general_rows), ZH_GENERAL_WEIGHT)]
        )
        weights = compute_sample_weight("balanced", y) * domain
        return LogisticRegression(C=ZH_C, max_iter=5000).fit(rows, y, sample_weight=weights)

    if cv:
        predicted = np.empty(len(general_labels), dtype=object)
        for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(general, general_labels):
            predicted[test] = fit(train).predict(general[test])
        print(f"zh cv (general domain) balanced macro-F1 {balanced_macro_f1(general_labels, predicted):.3f}")
    model = fit(np.arange(len(general_labels)))
    assert tuple(model.classes_) == CLASSES
    vocabulary = vectorizer.get_feature_names_out()
    grams = {
        str(gram): [float(vectorizer.idf_[column]), *model.coef_[:, column].tolist()]
        for column, gram in enumerate(vocabulary)
    }
    trained = LinearModel.from_rows(classes=CLASSES, bias=model.intercept_.tolist(), dense={}, grams=grams)
    # The pure-Python scorer must agree with scikit-learn on the training texts.
    sample = general_texts[:200]
    expected = model.predict_proba(vectorizer.transform(sample))
    for text, row in zip(sample, expected, strict=True):
        got = trained.probabilities(grams=chinese_grams(text))
        assert max(abs(a - b) for a, b in zip(got, row, strict=True)) < 0.01, text
    return trained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="print cross-validated macro-F1 on the rest files")
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args()
    models = {"en": train_english(args.cv), "zh": train_chinese(args.cv)}
    meta = {
        "trained_on": [EN_TRAIN, ZH_GENERAL, ZH_EPIDEMIC],
        "en": {"C": EN_C, "features": "vaderSentiment lexicon scores + tweet cues"},
        "zh": {
            "C": ZH_C,
            "features": "tf-idf char 1-2-grams",
            "min_df": ZH_MIN_DF,
            "general_weight": ZH_GENERAL_WEIGHT,
        },
    }
    save_models(models, args.out, meta)
    size = args.out.stat().st_size / 1024
    print(f"wrote {args.out} ({size:.0f} KiB, {len(models['zh'].vocabulary)} zh grams)")


if __name__ == "__main__":
    main()
