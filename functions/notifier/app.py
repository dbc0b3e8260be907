"""EventBridge rule: publishing failures and accounts needing re-authorisation become alerts on the
workspace's SNS topic (e-mail, Slack or any webhook URL subscribe to it)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.events.envelope import DomainEvent
from chorus.notifications import default_notifier, notify
from chorus.observability import logger


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    message_id = notify(DomainEvent.from_eventbridge(event.raw_event), default_notifier())
    return {"message_id": message_id}
