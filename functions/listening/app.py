"""EventBridge schedule (every 5 minutes): the crisis early-warning over each listening workspace's
closed mention windows; raises incidents, alerts once, escalates, and pauses publishing when enabled."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.events.bus import default_publisher
from chorus.listening.service import pause_publishing, run_detection
from chorus.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = run_detection(datetime.now(UTC), default_publisher(), pauser=pause_publishing)
    logger.info("crisis detection run", **asdict(report))
    return asdict(report)
