"""EventBridge schedules (weekly on Mondays, monthly on the 1st): e-mail (SES) every workspace's report of
the week or month just ended to its recipients. The schedule's input names the cadence."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.observability import logger
from chorus.reports.delivery import default_mailer
from chorus.reports.service import send_scheduled


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    run = send_scheduled(str(event.get("cadence", "weekly")), datetime.now(UTC), default_mailer())
    logger.info("scheduled reports", **asdict(run))
    return asdict(run)
