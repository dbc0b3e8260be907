"""Share of voice: brand and competitor monitors' mentions over whole UTC days, from day counters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from moto import mock_aws

from chorus.config import reset_caches
from chorus.listening import service
from chorus.listening.monitors import Mention, Monitor

WS = "ws-voice"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHORUS_TABLE", "chorus-listening-voice")
    with mock_aws():
        reset_caches()
        from chorus.store.models import MainItem, bind

        bind()
        MainItem.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        yield
    reset_caches()


def monitors() -> list[Monitor]:
    service.create_monitor(WS, {"name": "Acme", "kind": "brand", "terms": ["acme"]})
    service.create_monitor(WS, {"name": "Globex", "kind": "competitor", "terms": ["globex"]})
    service.create_monitor(WS, {"name": "Coffee talk", "kind": "keyword", "terms": ["acme"]})
    return service.list_monitors(WS)


def hear(found: list[Monitor], pid: str, text: str, sentiment: str, at: datetime) -> None:
    mention = Mention("bluesky", pid, None, "someone", "did:someone", text, at, "en")
    service.record_mention(WS, mention, sentiment, found)


def day(d: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 3, d, hour, minute, tzinfo=UTC)


def load(found: list[Monitor]) -> None:
    hear(found, "p1", "acme is great", "positive", day(10))
    hear(found, "p2", "acme support is awful", "negative", day(10))
    hear(found, "p3", "globex is fine I guess", "neutral", day(11))
    hear(found, "p4", "acme vs globex: acme wins", "positive", day(11))
    hear(found, "p5", "globex outage again", "negative", day(12, 23, 59))
    hear(found, "p6", "acme rocks", "positive", day(12, 0, 0))
    hear(found, "p6", "acme rocks", "positive", day(12, 0, 0))  # the same post heard twice
    hear(found, "p7", "acme again", "negative", day(9, 23, 59))  # the day before the range
    hear(found, "p8", "acme tomorrow", "positive", day(13, 0, 0))  # the day after


def test_share_of_voice_counts_brand_and_competitor_mentions_over_whole_days(table: None) -> None:
    # Given a brand, a competitor and a keyword monitor, and mentions in and around 10-12 March
    found = monitors()
    load(found)
    # When the share of voice over 10-12 March is asked for
    shares = service.share_of_voice(WS, date(2026, 3, 10), date(2026, 3, 12))
    # Then Acme has p1, p2, p4, p6 (3 positive, 1 negative) and Globex p3, p4, p5 (1 positive, 1 negative):
    # a mention naming both counts for both, with its one sentiment; the keyword monitor is not a voice
    by_name = {s.name: s for s in shares}
    assert set(by_name) == {"Acme", "Globex"}
    acme, globex = by_name["Acme"], by_name["Globex"]
    assert (acme.role, acme.mentions, acme.positive, acme.negative) == ("brand", 4, 3, 1)
    assert (globex.role, globex.mentions, globex.positive, globex.negative) == ("competitor", 3, 1, 1)
    # And the shares are of the 7 monitor mentions, summing to 1, most mentioned first
    assert acme.share == pytest.approx(4 / 7)
    assert globex.share == pytest.approx(3 / 7)
    assert sum(s.share for s in shares) == pytest.approx(1.0)
    assert [s.name for s in shares] == ["Acme", "Globex"]
    assert acme.monitor_id == next(m.id for m in found if m.name == "Acme")


def test_share_of_voice_of_a_single_day_and_of_a_silent_range(table: None) -> None:
    # Given the same mentions
    found = monitors()
    load(found)
    # When one day is asked for, then only that UTC day counts (p5 at 23:59 and p6 at 00:00 are in)
    one = {s.name: s.mentions for s in service.share_of_voice(WS, date(2026, 3, 12), date(2026, 3, 12))}
    assert one == {"Acme": 1, "Globex": 1}
    # When a range without mentions is asked for, then every monitor is listed with no share
    silent = service.share_of_voice(WS, date(2026, 4, 1), date(2026, 4, 30))
    assert [(s.mentions, s.share) for s in silent] == [(0, 0.0), (0, 0.0)]


def test_overrides_are_counted_over_whole_days(table: None) -> None:
    # Given overrides made on 10 and 12 March and on 13 March
    for at in (day(10, 0, 0), day(12, 23, 59), day(13, 0, 0)):
        service.record_override(
            WS, {"target": "mention", "ref": "x", "from": "neutral", "to": "negative", "by": "k"}, at
        )
    # When they are counted over 10-12 March, then the two inside are counted
    assert service.overrides_count(WS, date(2026, 3, 10), date(2026, 3, 12)) == 2
    assert service.overrides_count(WS, date(2026, 3, 13), date(2026, 3, 13)) == 1
    assert service.overrides_count("ws-other", date(2026, 3, 1), date(2026, 3, 31)) == 0
