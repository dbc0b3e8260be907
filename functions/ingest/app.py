"""SQS ingest queue consumer: a batch of webhook bodies (or polled pages), normalised, deduped,
threaded, judged, landed together and pushed to the workspaces' live connections (partial batch
failures: only the bodies whose work failed are redelivered)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.inbox.ingest import ingest_batch
from chorus.inbox.queue import IngestMessage
from chorus.inbox.wiring import ingest_deps
from chorus.observability import logger, metrics


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    failed: list[str] = []
    messages: list[IngestMessage] = []
    ids: list[str] = []
    for record in records:
        try:
            messages.append(IngestMessage.from_json(record["body"]))
            ids.append(record["messageId"])
        except (KeyError, TypeError, ValueError):  # not a queued body of ours: to the DLQ, not lost
            logger.exception("ingest record unreadable", extra={"message_id": record.get("messageId")})
            failed.append(record.get("messageId", ""))
    report = ingest_batch(messages, ingest_deps())
    failed += [ids[i] for i in report.failed]
    logger.info("ingested", stored=report.stored, duplicates=report.duplicates, ignored=report.ignored,
                deleted=report.deleted, revoked=report.revoked, unrouted=report.unrouted, pushed=report.pushed,
                transactions=report.transactions, failed=len(failed))  # fmt: skip
    if report.unrouted:  # events for no connected account, kept aside (chorus.inbox.unrouted)
        metrics.add_metric(name="InboundUnrouted", unit=MetricUnit.Count, value=report.unrouted)
        metrics.flush_metrics()
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}
