"""EventBridge rule (the media bucket's ``Object Created``): an upload of ``POST /media`` becomes a ready
media library item - its dimensions, a video's length, its thumbnail (``chorus.library.media.ingest``).
Anything else written to the bucket (thumbnails) is ignored. A failure is retried by EventBridge, then
the event goes to the rule's dead-letter queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.library.media import ingest
from chorus.observability import logger


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    return {"state": ingest(str(event.detail["object"]["key"]))}
