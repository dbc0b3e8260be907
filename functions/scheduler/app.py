"""EventBridge schedule (every minute): hand targets due soon to the publish queue, delayed to the second;
catch up an outage a bounded chunk per run (see chorus.posts.scheduler). On the hour, warn owners whose
tokens cannot be refreshed and expire within a week (chorus.accounts.expiry). Reminder-published posts
nobody marked posted in time become overdue, with one alert (chorus.posts.reminders). Inbox conversations
past a service-level target alert the people they are for, once (chorus.inbox.sla)."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.accounts import expiry
from chorus.config import get_settings
from chorus.events.bus import default_publisher
from chorus.inbox import sla
from chorus.observability import logger
from chorus.posts import scheduler
from chorus.posts.queue import default_queue


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now, events = scheduler.utcnow(), default_publisher()
    report = scheduler.run(
        now, default_queue(), get_settings().schedule_lookahead_s, events=events, settle=time.sleep
    )
    warned = expiry.on_the_hour(now, events)
    breaches = sla.sweep(now, events)
    answer = {**asdict(report), "expiry_warned": len(warned), "sla_alerts": len(breaches)}
    busy = report.items_read or report.enqueued or report.resent or report.missed or report.behind
    # An empty tick (43,200 a month) logs at DEBUG: its line was half of an idle month's log bytes.
    (logger.info if busy or warned or breaches else logger.debug)("scheduler run", **answer)
    return answer
