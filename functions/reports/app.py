"""SQS reports queue consumer: each record builds one queued report (PDF, long ranges), writes the file to
the reports bucket and marks its job done (GET /reports/jobs/{id} then answers with a presigned link)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.observability import logger
from chorus.reports.delivery import S3ReportFiles, parse_job_message
from chorus.reports.service import run_job

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    workspace_id, job_id = parse_job_message(record.body)
    job = run_job(workspace_id, job_id, S3ReportFiles())
    logger.info("report job handled", job_id=job_id, state=job.state)
    return job.state


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
