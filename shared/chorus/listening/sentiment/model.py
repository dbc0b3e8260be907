"""A multinomial logistic regression stored as plain numbers: dense features plus tf-idf weighted
n-grams (sublinear tf, l2-normalised, as scikit-learn's TfidfVectorizer computes them). Pure Python, so
scoring one message costs microseconds and no numpy is needed in the Lambda layer.

On disk (gzipped JSON) the n-gram table is columnar so it loads in milliseconds: ``grams`` is the n-grams
joined by newlines and ``table`` is base64 of little-endian float32 rows (idf, then one weight per
class), one row per n-gram in the same order.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import sys
from array import array
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
    dense: Mapping[str, Sequence[float]]
    vocabulary: Mapping[str, int]  # n-gram -> its row in ``table``
    table: Sequence[float]  # rows of (idf, weight per class)

    @classmethod
    def from_rows(
        cls,
        classes: Sequence[str],
        bias: Sequence[float],
        dense: Mapping[str, Sequence[float]],
        grams: Mapping[str, Sequence[float]],
    ) -> LinearModel:
        """A model from n-gram rows ``{gram: (idf, weight per class)}``."""
        table = array("f")
        for row in grams.values():
            if len(row) != len(classes) + 1:
                raise ValueError("each n-gram row is idf followed by one weight per class")
            table.extend(row)
        return cls(
            classes=tuple(classes),
            bias=tuple(bias),
            dense=dict(dense),
            vocabulary={gram: index for index, gram in enumerate(grams)},
            table=table,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LinearModel:
        table = array("f")
        table.frombytes(base64.b64decode(data.get("table", "")))
        if sys.byteorder != "little":
            table.byteswap()
        grams = data.get("grams", "")
        vocabulary = {gram: index for index, gram in enumerate(grams.split("\n"))} if grams else {}
        return cls(
            classes=tuple(data["classes"]),
            bias=tuple(data["bias"]),
            dense=data.get("dense", {}),
            vocabulary=vocabulary,
            table=table,
        )

    def to_json(self) -> dict[str, Any]:
        table = array("f", self.table)
        if sys.byteorder != "little":
            table.byteswap()
        ordered = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        if any("\n" in gram for gram in ordered):
            raise ValueError("n-grams must not contain newlines")
        return {
            "classes": list(self.classes),
            "bias": [round(value, 6) for value in self.bias],
            "dense": {name: [round(value, 6) for value in weights] for name, weights in self.dense.items()},
            "grams": "\n".join(ordered),
            "table": base64.b64encode(table.tobytes()).decode("ascii"),
        }

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
        counts = Counter(gram for gram in grams if gram in self.vocabulary)
        if counts:
            stride = width + 1
            rows = []
            for gram, count in counts.items():
                start = self.vocabulary[gram] * stride
                rows.append((start, (1.0 + math.log(count)) * self.table[start]))
            norm = math.sqrt(sum(value * value for _, value in rows))
            for start, value in rows:
                scaled = value / norm
                for k in range(width):
                    logits[k] += scaled * self.table[start + 1 + k]
        top = max(logits)
        exps = [math.exp(logit - top) for logit in logits]
        total = sum(exps)
        return [value / total for value in exps]


def load_models(path: Path = MODEL_FILE) -> dict[str, LinearModel]:
    """The per-language models shipped with the package ({"en": ..., "zh": ...})."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    return {language: LinearModel.from_json(model) for language, model in data["models"].items()}


def save_models(models: Mapping[str, LinearModel], path: Path, meta: Mapping[str, Any]) -> None:
    payload = {"format": 2, "meta": dict(meta), "models": {k: v.to_json() for k, v in models.items()}}
    text = json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True)
    # mtime=0 and no file name: the same model gives the same bytes, so retraining leaves git clean.
    with path.open("wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(text.encode("utf-8"))
