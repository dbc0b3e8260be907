"""EventBridge schedule: collect competitors' public accounts (followers, posts with their counts)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.competitors.collector import collect_all
from chorus.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = collect_all().as_dict()
    logger.info("competitor collection", **report)
    return report
