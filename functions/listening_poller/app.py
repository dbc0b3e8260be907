"""EventBridge schedule: search the platforms for each monitor's terms and record new mentions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.listening.poller import poll_all
from chorus.listening.wiring import workspace_sentiment
from chorus.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = poll_all(workspace_sentiment())
    logger.info("listening poll", **asdict(report))
    return asdict(report)
