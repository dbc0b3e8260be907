"""A multinomial logistic regression stored as plain numbers: dense features plus tf-idf weighted
n-grams (sublinear tf, l2-normalised, as scikit-learn's TfidfVectorizer computes them). Pure Python, so
scoring one message costs microseconds and no numpy is needed in the Lambda layer."""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_FILE = Path(__file__).with_name("model.json.gz")


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    dense: Mapping[str, tuple[float, ...]]
    grams: Mapping[str, tuple[float, ...]]  # gram -> (idf, weight per class)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LinearModel:
        return cls(
            classes=tuple(data["classes"]),
            bias=tuple(data["bias"]),
            dense={name: tuple(weights) for name, weights in data.get("dense", {}).items()},
            grams={gram: tuple(row) for gram, row in data.get("grams", {}).items()},
        )

    def probabilities(
        self, dense: Mapping[str, float] | None = None, grams: Iterable[str] = ()
    ) -> list[float]:
        """P(class) for each of ``classes``."""
        logits = list(self.bias)
        width = len(logits)
        for name, value in (dense or {}).items():
            weights = self.dense.get(name)
            if weights is not None and value:
                for k in range(width):
                    logits[k] += value * weights[k]
        counts = Counter(gram for gram in grams if gram in self.grams)
        if counts:
            rows = [
                (self.grams[gram], (1.0 + math.log(count)) * self.grams[gram][0])
                for gram, count in counts.items()
            ]
            norm = math.sqrt(sum(value * value for _, value in rows))
            for row, value in rows:
                scaled = value / norm
                for k in range(width):
                    logits[k] += scaled * row[k + 1]
        top = max(logits)
        exps = [math.exp(logit - top) for logit in logits]
        total = sum(exps)
        return [value / total for value in exps]

    def to_json(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),
            "bias": list(self.bias),
            "dense": {name: list(weights) for name, weights in self.dense.items()},
            "grams": {gram: list(row) for gram, row in self.grams.items()},
        }


def load_models(path: Path = MODEL_FILE) -> dict[str, LinearModel]:
    """The per-language models shipped with the package ({"en": ..., "zh": ...})."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    return {language: LinearModel.from_json(model) for language, model in data["models"].items()}


def save_models(models: Mapping[str, LinearModel], path: Path, meta: Mapping[str, Any]) -> None:
    payload = {"format": 1, "meta": dict(meta), "models": {k: v.to_json() for k, v in models.items()}}
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # mtime=0: the same model gives the same bytes, so retraining without change leaves git clean.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as handle:
        handle.write(text.encode("utf-8"))


def round_weights(values: Sequence[float], digits: int = 4) -> tuple[float, ...]:
    return tuple(round(float(value), digits) for value in values)
