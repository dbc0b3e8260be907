"""SQS reply queue consumer: each record sends (or verifies) one inbox reply, exactly once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.inbox.queue import ReplyMessage
from chorus.inbox.replies import handle
from chorus.inbox.wiring import replier_deps
from chorus.observability import logger

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    outcome = handle(
        ReplyMessage.from_json(record.body), int(record.attributes.approximate_receive_count), replier_deps()
    )
    logger.info("reply message handled", reply_id=outcome.reply_id, result=outcome.result)
    return outcome.result


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
