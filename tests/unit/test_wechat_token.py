"""The WeChat token service's rules, on an in-memory store (the main table's store is exercised by
tests/faults/test_wechat.py): kept in the process until its refresh time, fetched again five minutes
before it expires, a worker that finds the lease taken uses the still-valid token or waits for the
refresher, and a refused token is never handed out again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chorus.platforms.base import TransientError
from chorus.platforms.wechat.token import EARLY_S, AccessTokens, HeldToken
from tests.contract.wechat import MemoryAppTokens

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
BASE = "https://api.weixin.qq.com"


class CountingStore(MemoryAppTokens):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def held(self, app_id: str) -> HeldToken | None:
        self.reads += 1
        return super().held(app_id)


def service(store: MemoryAppTokens, now: list[datetime], fetched: list[str]) -> AccessTokens:
    tokens = AccessTokens(store=store, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0]))

    def fetch(base: str, app_id: str, secret: str, *, force: bool) -> tuple[str, float]:
        fetched.append("force" if force else "normal")
        return f"T{len(fetched)}", 7200.0

    tokens._fetch = fetch  # type: ignore[method-assign]
    return tokens


def test_a_token_is_read_once_per_lifetime_and_fetched_again_five_minutes_before_it_expires() -> None:
    store, now, fetched = CountingStore(), [NOW], []
    tokens = service(store, now, fetched)
    assert tokens.get(BASE, "APPID", "S") == "T1"
    reads = store.reads
    now[0] = NOW + timedelta(seconds=7200 - EARLY_S - 1)
    assert tokens.get(BASE, "APPID", "S") == "T1"
    assert store.reads == reads  # kept in the process: no read, no decryption
    now[0] = NOW + timedelta(seconds=7200 - EARLY_S + 1)
    assert tokens.get(BASE, "APPID", "S") == "T2"
    assert fetched == ["normal", "normal"]


def test_another_workers_fresh_token_is_used_without_a_fetch() -> None:
    store, now, fetched = MemoryAppTokens(), [NOW], []
    store.keep("APPID", HeldToken("THEIRS", NOW + timedelta(hours=2), NOW + timedelta(minutes=115)))
    assert service(store, now, fetched).get(BASE, "APPID", "S") == "THEIRS"
    assert fetched == []


def test_while_another_worker_refreshes_the_still_valid_token_is_used() -> None:
    store, now, fetched = MemoryAppTokens(), [NOW], []
    store.keep("APPID", HeldToken("OLD", NOW + timedelta(minutes=3), NOW - timedelta(minutes=2)))
    assert store.lease("APPID", NOW, NOW + timedelta(seconds=30))  # another worker is fetching
    assert service(store, now, fetched).get(BASE, "APPID", "S") == "OLD"
    assert fetched == []


def test_with_no_usable_token_a_worker_waits_for_the_refresher_then_gives_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, now, fetched = MemoryAppTokens(), [NOW], []
    assert store.lease("APPID", NOW, NOW + timedelta(seconds=30))
    tokens = service(store, now, fetched)
    waits: list[float] = []

    def the_refresher_answers(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            store.keep("APPID", HeldToken("FRESH", NOW + timedelta(hours=2), NOW + timedelta(minutes=115)))

    tokens.sleep = the_refresher_answers
    assert tokens.get(BASE, "APPID", "S") == "FRESH"
    assert fetched == []
    assert len(waits) == 3
    # and a refresher that never answers is a transient error (retried later), never a second fetch
    import chorus.platforms.wechat.token as module

    monkeypatch.setattr(module, "WAIT_S", 0.0)
    stuck = service(MemoryAppTokens(), now, fetched)
    assert stuck.store.lease("APPID", NOW, NOW + timedelta(seconds=30))
    with pytest.raises(TransientError, match="another worker is fetching"):
        stuck.get(BASE, "APPID", "S")
    assert fetched == []


def test_a_refused_token_is_never_handed_out_again_and_force_mode_is_used_if_normal_mode_repeats_it() -> None:
    store, now, fetched = MemoryAppTokens(), [NOW], []
    tokens = service(store, now, fetched)
    answers = iter([("T1", 7200.0), ("T1", 7200.0), ("T2", 7200.0)])

    def fetch(base: str, app_id: str, secret: str, *, force: bool) -> tuple[str, float]:
        fetched.append("force" if force else "normal")
        return next(answers)

    tokens._fetch = fetch  # type: ignore[method-assign]
    assert tokens.get(BASE, "APPID", "S") == "T1"
    tokens.refused("APPID", "T1")
    assert tokens.get(BASE, "APPID", "S") == "T2"
    assert fetched == ["normal", "normal", "force"]


def test_a_failed_fetch_releases_the_lease() -> None:
    store, now = MemoryAppTokens(), [NOW]
    tokens = AccessTokens(store=store, clock=lambda: now[0])

    def broken(*args: Any, **kw: Any) -> tuple[str, float]:
        raise TransientError("WeChat is busy")

    tokens._fetch = broken  # type: ignore[method-assign]
    with pytest.raises(TransientError):
        tokens.get(BASE, "APPID", "S")
    assert store.lease("APPID", NOW, NOW + timedelta(seconds=30))  # free again
