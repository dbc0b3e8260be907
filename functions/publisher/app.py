"""SQS publish queue consumer: each record publishes (or verifies, or continues) one target, exactly once.

The records of a batch are handled concurrently: each waits in-process for its own due second, so a
batch of ten posts due within the same second all go out in that second (a sequential loop would add
every earlier record's platform call to the later ones' lag).

Hot path: no Tracer (its X-Ray import costs ~375 ms of cold start), no idempotency utility (the
target's conditional state transitions are the idempotency), one client per service created on first use.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.observability import logger
from chorus.posts.publisher import handle
from chorus.posts.queue import PublishMessage, by_due
from chorus.posts.wiring import publisher_deps

processor = AsyncBatchProcessor(event_type=EventType.SQS)
workers = ThreadPoolExecutor(max_workers=10, thread_name_prefix="publish")  # BatchSize in template.yaml


def publish_record(record: SQSRecord) -> str:
    outcome = handle(
        PublishMessage.from_json(record.body),
        int(record.attributes.approximate_receive_count),
        publisher_deps(),
    )
    # the happy path is in the target's attempt log already: at INFO only what went otherwise
    # (CloudWatch Logs bills every byte: docs/scaling.md)
    log = logger.debug if outcome.result == "published" else logger.info
    log("publish message handled", target=outcome.target_id, result=outcome.result)
    return outcome.result


async def record_handler(record: SQSRecord) -> str:
    return await asyncio.get_running_loop().run_in_executor(workers, publish_record, record)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ordered = {**event, "Records": by_due(event.get("Records", []))}
    return async_process_partial_response(
        event=ordered, record_handler=record_handler, processor=processor, context=context
    )
