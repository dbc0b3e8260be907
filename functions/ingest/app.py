"""SQS ingest queue consumer: each record is one webhook body (or polled page), normalised, deduped,
threaded, judged and pushed to the workspace's live connections (partial batch failures)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.inbox.ingest import ingest
from chorus.inbox.queue import IngestMessage
from chorus.inbox.wiring import ingest_deps
from chorus.observability import logger

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> int:
    report = ingest(IngestMessage.from_json(record.body), ingest_deps())
    logger.info("ingested", stored=report.stored, duplicates=report.duplicates, ignored=report.ignored,
                deleted=report.deleted, revoked=report.revoked, unrouted=report.unrouted, pushed=report.pushed)  # fmt: skip
    return report.stored


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
