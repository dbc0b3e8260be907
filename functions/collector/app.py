"""SQS metrics queue consumer: each record collects what is due for one account (posts on the age
ladder, account metrics daily) and records it idempotently in the metrics table."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.metrics.service import CollectMessage, collect
from chorus.observability import logger

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    message = CollectMessage.from_json(record.body)
    result = collect(message)
    logger.info(
        "account collected",
        account_id=message.account_id,
        status=result.status,
        posts=result.posts,
        written=result.recorded.written,
    )
    return result.status


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
