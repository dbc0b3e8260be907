"""The production event publisher: EventBridge, on the bus the template names."""

from __future__ import annotations

from chorus.events.envelope import EventBridgePublisher


def default_publisher() -> EventBridgePublisher:
    from chorus.aws import client
    from chorus.config import get_settings

    return EventBridgePublisher(get_settings().event_bus, client("events"))
