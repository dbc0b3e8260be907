"""EventBridge rule (InboxItemReceived): match each new inbox message against the workspace's monitors
and record it as a mention (deduplicated) for the mention list, the series and the crisis detector."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.events.envelope import DomainEvent
from chorus.listening.inbox import on_inbox_item
from chorus.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    recorded = on_inbox_item(DomainEvent.from_eventbridge(event))
    logger.info("inbox item heard", stored=recorded.stored, monitors=list(recorded.monitors))
    return {"stored": recorded.stored, "monitors": list(recorded.monitors)}
