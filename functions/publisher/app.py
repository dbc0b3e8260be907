"""SQS publish queue consumer: each record publishes (or verifies, or continues) one target, exactly once.

Hot path: no Tracer (its X-Ray import costs ~375 ms of cold start), no idempotency utility (the
target's conditional state transitions are the idempotency), one client per service created on first use.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.observability import logger
from chorus.posts.publisher import handle
from chorus.posts.queue import PublishMessage, by_due
from chorus.posts.wiring import publisher_deps

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    outcome = handle(
        PublishMessage.from_json(record.body),
        int(record.attributes.approximate_receive_count),
        publisher_deps(),
    )
    logger.info("publish message handled", target=outcome.target_id, result=outcome.result)
    return outcome.result


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ordered = {**event, "Records": by_due(event.get("Records", []))}
    return process_partial_response(
        event=ordered, record_handler=record_handler, processor=processor, context=context
    )
