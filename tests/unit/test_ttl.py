"""TtlCache: one read per key per ttl, misses optionally not kept, forget and reset."""

from __future__ import annotations

from chorus.config import reset_caches
from chorus.ttl import TtlCache


def test_a_key_is_read_once_per_ttl_and_again_after_it() -> None:
    now = [0.0]
    reads: list[str] = []
    cache: TtlCache[str, str] = TtlCache(30.0, clock=lambda: now[0])

    def load(key: str) -> str:
        reads.append(key)
        return key.upper()

    assert [cache.get("a", load), cache.get("a", load)] == ["A", "A"]
    now[0] = 29.9
    assert cache.get("a", load) == "A"
    now[0] = 30.0
    assert cache.get("a", load) == "A"
    assert reads == ["a", "a"]


def test_a_miss_is_asked_again_when_empty_answers_are_not_kept() -> None:
    answers = iter([[], ["found"]])
    cache: TtlCache[str, list[str]] = TtlCache(30.0, cache_empty=False)
    assert cache.get("k", lambda _: next(answers)) == []
    assert cache.get("k", lambda _: next(answers)) == ["found"]


def test_forget_and_reset_caches_drop_entries() -> None:
    reads: list[str] = []
    cache: TtlCache[str, int] = TtlCache(30.0)

    def load(key: str) -> int:
        reads.append(key)
        return len(reads)

    assert cache.get("x", load) == 1
    cache.forget("x")
    assert cache.get("x", load) == 2
    reset_caches()
    assert cache.get("x", load) == 3
