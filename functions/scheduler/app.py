"""EventBridge schedule (every minute): hand targets due soon to the publish queue, delayed to the second;
catch up an outage a bounded chunk per run (see chorus.posts.scheduler)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.config import get_settings
from chorus.events.bus import default_publisher
from chorus.observability import logger
from chorus.posts import scheduler
from chorus.posts.queue import default_queue


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = scheduler.run(
        scheduler.utcnow(), default_queue(), get_settings().schedule_lookahead_s, events=default_publisher()
    )
    logger.info("scheduler run", **asdict(report))
    return asdict(report)
