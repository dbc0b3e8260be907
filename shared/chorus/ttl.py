"""A small per-process cache whose entries live a few seconds.

Hot handlers (ingest above all) read the same few things for every message of a burst: which accounts
a platform account routes to, a workspace's inbox rules, its sentiment backend, its live connections.
Each is read at most once per ``ttl_s`` per process; every cache is cleared with ``reset_caches()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from chorus.config import register_reset

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(
        self,
        ttl_s: float,
        *,
        max_entries: int = 5000,
        cache_empty: bool = True,
        clock: Callable[[], float] = time.monotonic,
        reset_with_caches: bool = True,  # False for short-lived owners that reset it themselves
    ) -> None:
        self.ttl_s = ttl_s
        self._max = max_entries
        self._cache_empty = cache_empty  # False: a miss (empty answer) is asked again next time
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[K, tuple[float, V]] = {}
        if reset_with_caches:
            register_reset(self.forget)

    def get(self, key: K, load: Callable[[K], V]) -> V:
        now = self._clock()
        with self._lock:
            hit = self._hits.get(key)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        found = load(key)
        if not found and not self._cache_empty:
            return found
        with self._lock:
            if len(self._hits) >= self._max:
                self._hits.clear()
            self._hits[key] = (now, found)
        return found

    def forget(self, key: K | None = None) -> None:
        """Drop one entry (after this process changed it) or all of them."""
        with self._lock:
            if key is None:
                self._hits.clear()
            else:
                self._hits.pop(key, None)
