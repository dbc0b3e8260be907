"""The publish queue: messages that ask the publisher to act on one target, and the port to send them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Protocol

MAX_DELAY_S = 900  # SQS DelaySeconds limit


@dataclass(frozen=True)
class PublishMessage:
    kind: str  # publish | verify | step
    workspace_id: str
    post_id: str
    account_id: str
    token: str
    due_at: str  # ISO UTC: when the platform call should happen

    def to_json(self) -> str:
        return json.dumps({"v": 1, **asdict(self)})

    @classmethod
    def from_json(cls, body: str) -> PublishMessage:
        data = json.loads(body)
        return cls(
            kind=data["kind"],
            workspace_id=data["workspace_id"],
            post_id=data["post_id"],
            account_id=data["account_id"],
            token=data["token"],
            due_at=data["due_at"],
        )


def by_due(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SQS records in the order their calls are due (a batch is handled in this order, so each record
    waits only for its own due second). Unreadable bodies come first, to fail fast."""

    def due(record: dict[str, Any]) -> str:
        try:
            return str(json.loads(record.get("body") or "")["due_at"])
        except (ValueError, KeyError, TypeError):
            return ""

    return sorted(records, key=due)


class PublishQueue(Protocol):
    def send(self, message: PublishMessage, delay_s: int) -> None: ...


class InMemoryPublishQueue:
    """A fake for domain tests."""

    def __init__(self) -> None:
        self.sent: list[tuple[PublishMessage, int]] = []

    def send(self, message: PublishMessage, delay_s: int) -> None:
        self.sent.append((message, delay_s))


class SqsPublishQueue:
    """Adapter: one SQS message per target action, delayed up to the 900 s SQS limit."""

    def __init__(self, client: Any, url: str) -> None:
        self._client = client
        self._url = url

    def send(self, message: PublishMessage, delay_s: int) -> None:
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=message.to_json(),
            DelaySeconds=max(0, min(MAX_DELAY_S, int(delay_s))),
        )


def default_queue() -> SqsPublishQueue:
    from chorus.aws import client
    from chorus.config import get_settings

    return SqsPublishQueue(client("sqs"), get_settings().publish_queue_url)
