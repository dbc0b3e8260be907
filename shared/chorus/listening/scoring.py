"""Which sentiment backend scores a workspace's messages: the per-workspace switch.

A workspace chooses ``offline`` (the default: no network, English and Chinese) or ``comprehend``
(Amazon Comprehend, paid per request) in its listening settings. :class:`WorkspaceSentiment` reads
that choice (cached for a few seconds per process: one settings read per workspace, not per message),
scores with the chosen backend and says which backend did (:class:`Scored.source`). A Comprehend
failure (throttling, an outage, a region without the service) never loses a message: the offline
analyzer scores it instead and the source says ``offline``.

The Comprehend analyzer is built by a factory the wiring injects (the adapter creates the boto3
client), on first use only: a workspace that never enables Comprehend never pays for its client.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from chorus.listening.sentiment import SentimentAnalyzer, SentimentResult, SentimentServiceError
from chorus.ttl import TtlCache

log = logging.getLogger(__name__)

OFFLINE = "offline"
COMPREHEND = "comprehend"
BACKEND_TTL_S = 30.0

_scorers: weakref.WeakSet[WorkspaceSentiment] = weakref.WeakSet()


def forget_backend(workspace_id: str | None = None) -> None:
    """Drop the cached choice of one workspace (after it changed it here) or of all of them."""
    for scorer in list(_scorers):
        scorer.forget(workspace_id)


def _register_reset() -> None:
    from chorus.config import register_reset

    register_reset(forget_backend)


_register_reset()


def stored_backend(workspace_id: str) -> str:
    """The backend the workspace's settings name (``offline`` when none or no workspace)."""
    from pynamodb.exceptions import DoesNotExist

    from chorus.listening.service import listening_settings

    try:
        return str(listening_settings(workspace_id).get("sentiment_backend") or OFFLINE)
    except DoesNotExist:
        return OFFLINE


@dataclass(frozen=True)
class Scored:
    result: SentimentResult
    source: str  # the backend that scored the text: "offline" | "comprehend"


class WorkspaceSentiment:
    def __init__(
        self,
        offline: SentimentAnalyzer,
        comprehend: Callable[[], SentimentAnalyzer] | None = None,
        backend_of: Callable[[str], str] = stored_backend,
        ttl_s: float = BACKEND_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._offline = offline
        self._comprehend_factory = comprehend
        self._comprehend: SentimentAnalyzer | None = None
        self._backend_of = backend_of
        self._backends: TtlCache[str, str] = TtlCache(
            ttl_s, max_entries=10_000, clock=clock, reset_with_caches=False
        )
        _scorers.add(self)

    def forget(self, workspace_id: str | None = None) -> None:
        self._backends.forget(workspace_id)

    def backend(self, workspace_id: str) -> str:
        """The workspace's chosen backend, read at most once per ``ttl_s`` per process."""
        return self._backends.get(workspace_id, self._backend_of)

    def _comprehend_analyzer(self) -> SentimentAnalyzer | None:
        if self._comprehend is None and self._comprehend_factory is not None:
            self._comprehend = self._comprehend_factory()
        return self._comprehend

    def score(self, workspace_id: str, text: str) -> Scored:
        """``text`` scored by the workspace's backend (offline when Comprehend fails)."""
        if self.backend(workspace_id) == COMPREHEND:
            analyzer = self._comprehend_analyzer()
            if analyzer is not None:
                try:
                    return Scored(analyzer.analyze(text), COMPREHEND)
                except SentimentServiceError as error:
                    log.warning(
                        "comprehend failed; scored offline",
                        extra={
                            "workspace_id": workspace_id,
                            "code": error.code,
                            "retryable": error.retryable,
                        },
                    )
        return Scored(self._offline.analyze(text), OFFLINE)

    def label(self, workspace_id: str, text: str) -> str:
        return self.score(workspace_id, text).result.label.value


def offline_only(analyzer: SentimentAnalyzer) -> WorkspaceSentiment:
    """Every workspace scored by ``analyzer`` (tests, and callers without settings)."""
    return WorkspaceSentiment(analyzer, backend_of=lambda _ws: OFFLINE)
