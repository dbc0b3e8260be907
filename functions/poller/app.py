"""Every minute: poll the accounts of platforms without webhooks (Mastodon, Bluesky, sandbox), fanned
out per account, into the ingest queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.config import get_settings
from chorus.inbox.poller import PollerDeps, poll_all
from chorus.inbox.queue import default_ingest_queue
from chorus.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = poll_all(PollerDeps(queue=default_ingest_queue(), sandbox_url=get_settings().sandbox_url))
    answer = {"accounts": report.accounts, "queued_items": report.queued_items, "failed": report.failed}
    (logger.info if report.accounts else logger.debug)("polled", **answer)  # an empty tick: DEBUG
    return answer
