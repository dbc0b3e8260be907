"""EventBridge rule (``PostPublished``): the published post is recorded in the metrics table and followed
by metric collection (first collection one hour after publishing)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.events.envelope import DomainEvent
from chorus.metrics.service import follow_published_event
from chorus.observability import logger


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    info = follow_published_event(DomainEvent.from_eventbridge(event.raw_event))
    return {"platform_post_id": info.platform_post_id}
