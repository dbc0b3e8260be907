"""The default analyzer: offline, English and Chinese, no network and no numpy at run time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from .features import chinese_grams, english_features, has_emoticon_code
from .language import UNDETERMINED, detect_language
from .model import MODEL_FILE, LinearModel, load_models
from .types import SentimentLabel, SentimentResult

logger = logging.getLogger(__name__)

# Long messages are judged on their start: a tweet is 280 characters, and VADER's cost grows faster than
# the text, so this bounds the cost per message (~1.5 ms at worst) whatever arrives.
MAX_CHARS = 1000


class OfflineSentimentAnalyzer:
    """English and Chinese sentiment from models shipped inside the package (see
    bench/train_sentiment.py). Other languages are UNKNOWN. A message without words (language "und") is
    UNKNOWN too, unless it carries Weibo emoticon codes ("[good][good]"), which the Chinese model learnt
    from Weibo posts; emoji alone are not judged (lexicons read "🔥" as fire, not as praise).

    The model file is read on first use, not at import (cold starts). Only the first MAX_CHARS characters
    of a message are read."""

    languages = frozenset({"en", "zh"})

    def __init__(self, model_path: Path = MODEL_FILE) -> None:
        self._model_path = model_path
        self._models: Mapping[str, LinearModel] | None = None
        self._loading = threading.Lock()

    def _model(self, language: str) -> LinearModel:
        if self._models is None:
            with self._loading:  # threads that score at once (the embedded runtime's) read the file once
                if self._models is None:
                    self._models = load_models(self._model_path)
                    logger.debug("sentiment models loaded", extra={"path": str(self._model_path)})
        return self._models[language]

    def analyze(self, text: str) -> SentimentResult:
        text = text[:MAX_CHARS]
        language = detect_language(text)
        if language == "en":
            probabilities = self._model("en").probabilities(dense=english_features(text))
        elif language == "zh" or (language == UNDETERMINED and has_emoticon_code(text)):
            probabilities = self._model("zh").probabilities(grams=chinese_grams(text))
        else:
            return SentimentResult.unknown(language)
        return _result(self._model("en").classes, probabilities, language)

    def analyze_batch(self, texts: Sequence[str]) -> list[SentimentResult]:
        return [self.analyze(text) for text in texts]


def _result(classes: Sequence[str], probabilities: Sequence[float], language: str) -> SentimentResult:
    by_label = dict(zip(classes, probabilities, strict=True))
    best = max(by_label, key=by_label.__getitem__)
    score = by_label["positive"] - by_label["negative"]
    return SentimentResult(
        label=SentimentLabel(best),
        score=round(score, 4),
        confidence=round(by_label[best], 4),
        language=language,
    )
