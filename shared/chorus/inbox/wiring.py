"""Production wiring of the inbox's ports (SQS, API Gateway management API, EventBridge), built once
per process and reset with the other caches."""

from __future__ import annotations

from chorus.config import cached
from chorus.inbox.ingest import IngestDeps
from chorus.inbox.replies import ReplierDeps


@cached
def live_sender() -> object:
    from chorus.inbox.live import default_sender

    return default_sender()


@cached
def ingest_deps() -> IngestDeps:
    from chorus.events.bus import default_publisher
    from chorus.inbox.live import ApiGatewaySender
    from chorus.inbox.settings import webhook_secrets
    from chorus.listening.sentiment import default_analyzer
    from chorus.listening.wiring import workspace_sentiment

    sender = live_sender()
    assert isinstance(sender, ApiGatewaySender)
    return IngestDeps(
        analyzer=default_analyzer(),
        secrets=webhook_secrets(),
        sender=sender,
        events=default_publisher(),
        sentiment=workspace_sentiment(),
    )


@cached
def replier_deps() -> ReplierDeps:
    from chorus.inbox.live import ApiGatewaySender
    from chorus.inbox.queue import default_reply_queue
    from chorus.inbox.settings import inbox_settings

    settings = inbox_settings()
    sender = live_sender()
    assert isinstance(sender, ApiGatewaySender)
    return ReplierDeps(
        queue=default_reply_queue(),
        sender=sender,
        max_attempts=settings.reply_max_attempts,
        max_receives=settings.reply_max_receives,
        human_agent=settings.meta_human_agent,
    )
