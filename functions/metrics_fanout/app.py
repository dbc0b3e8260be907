"""EventBridge schedule (hourly): one collection message per followed account with metrics due at the
schedule's time (the event's ``time``), to the metrics queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.metrics.service import fan_out, schedule_time
from chorus.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    sent = fan_out(schedule_time(event, lambda: datetime.now(UTC)))
    logger.info("collection fan-out", accounts=sent)
    return {"accounts": sent}
