"""Fixtures of the fault tests: ``platform`` (a FakePlatform on 127.0.0.1) and ``bed`` (the real
publisher on moto, wired to it). See ``tests/faults/harness.py`` for the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import FakePlatform, PublisherBed, WorkerKilled, publisher_bed


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    fake = FakePlatform()
    yield fake
    fake.stop()


@pytest.fixture
def bed(monkeypatch: pytest.MonkeyPatch, platform: FakePlatform) -> Iterator[PublisherBed]:
    with publisher_bed(monkeypatch, platform) as made:
        yield made
    # A delivery that raised is redelivered as SQS would, so a bug would otherwise pass in silence.
    unexpected = [c for c in made.crashes if not isinstance(c, WorkerKilled)]
    assert not unexpected, f"the publisher crashed: {unexpected!r}"
