"""A platform's adapters take the API base URL the deployment configured (``CHORUS_<PLATFORM>_API_URL``:
``chorus dev`` and ``make demo`` point them at the sandbox answering as the platform), and their own
default when none is configured."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chorus.config import reset_caches
from chorus.platforms import registry


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    reset_caches()
    yield
    reset_caches()


def test_configured_api_urls_reach_the_publisher_and_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_LINKEDIN_API_URL", "http://127.0.0.1:9/as/linkedin/")
    monkeypatch.setenv("CHORUS_X_API_URL", "http://127.0.0.1:9/as/x")
    reset_caches()
    assert registry.publisher("linkedin").base_url == "http://127.0.0.1:9/as/linkedin"  # type: ignore[attr-defined]
    assert registry.collector("linkedin").base_url == "http://127.0.0.1:9/as/linkedin/rest"  # type: ignore[union-attr]
    assert registry.publisher("x").base_url == "http://127.0.0.1:9/as/x"  # type: ignore[attr-defined]
    assert registry.collector("x").base_url == "http://127.0.0.1:9/as/x"  # type: ignore[union-attr]


def test_without_configuration_each_adapter_keeps_its_platform_s_own_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CHORUS_LINKEDIN_API_URL", raising=False)
    monkeypatch.delenv("CHORUS_X_API_URL", raising=False)
    reset_caches()
    assert registry.publisher("linkedin").base_url == "https://api.linkedin.com"  # type: ignore[attr-defined]
    assert registry.collector("linkedin").base_url == "https://api.linkedin.com/rest"  # type: ignore[union-attr]
    assert registry.publisher("x").base_url == "https://api.x.com"  # type: ignore[attr-defined]


def test_youtube_s_upload_address_is_its_own_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHORUS_YOUTUBE_UPLOAD_URL", raising=False)
    reset_caches()
    assert registry.publisher("youtube").upload_url == "https://www.googleapis.com/upload/youtube/v3"  # type: ignore[attr-defined]
    monkeypatch.setenv("CHORUS_YOUTUBE_UPLOAD_URL", "http://127.0.0.1:9/as/youtube/upload/youtube/v3")
    reset_caches()
    assert registry.publisher("youtube").upload_url == "http://127.0.0.1:9/as/youtube/upload/youtube/v3"  # type: ignore[attr-defined]
