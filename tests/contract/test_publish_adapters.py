"""Every publishing adapter implements the port and is built with an injected session and base URL."""

from __future__ import annotations

import pytest
import requests

from chorus.platforms.base import PublishingAdapter
from chorus.platforms.bluesky.publish import BlueskyPublisher
from chorus.platforms.facebook.publish import FacebookPublisher
from chorus.platforms.instagram.publish import InstagramPublisher
from chorus.platforms.mastodon.publish import MastodonPublisher
from chorus.platforms.pinterest.publish import PinterestPublisher
from chorus.platforms.threads.publish import ThreadsPublisher
from chorus.platforms.x.publish import XPublisher

ADAPTERS = [
    ("mastodon", MastodonPublisher),
    ("bluesky", BlueskyPublisher),
    ("facebook", FacebookPublisher),
    ("instagram", InstagramPublisher),
    ("x", XPublisher),
    ("threads", ThreadsPublisher),
    ("pinterest", PinterestPublisher),
]


@pytest.mark.parametrize(("name", "cls"), ADAPTERS)
def test_adapter_implements_the_publishing_port(name: str, cls: type) -> None:
    adapter = cls(session=requests.Session(), base_url="http://127.0.0.1:9")
    assert isinstance(adapter, PublishingAdapter)
    assert adapter.name == name


@pytest.mark.parametrize(("name", "cls"), ADAPTERS)
def test_adapter_has_a_default_session(name: str, cls: type) -> None:
    adapter = cls()
    session = getattr(adapter, "session", None) or adapter.graph.session
    assert isinstance(session, requests.Session)
