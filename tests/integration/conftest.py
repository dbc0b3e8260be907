"""What every integration test module shares: one local deployment of the template per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.harness import Chorus


@pytest.fixture(scope="module")
def chorus() -> Iterator[Chorus]:
    """The template deployed on a local runtime with its default parameters (a module that needs other
    parameters defines its own ``chorus``)."""
    c = Chorus()
    yield c
    c.close()
