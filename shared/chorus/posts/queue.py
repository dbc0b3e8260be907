"""The publish queue: messages that ask the publisher to act on one target, and the port to send them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

MAX_DELAY_S = 900  # SQS DelaySeconds limit


@dataclass(frozen=True)
class PublishMessage:
    kind: str  # publish | verify | step
    workspace_id: str
    post_id: str
    account_id: str
    token: str | None  # the target's queue token (None: a target never handed out holds none)
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


SQS_BATCH = 10  # SendMessageBatch's most entries a request


class PublishQueue(Protocol):
    """Where publish messages go. A queue that also has ``send_batch(messages) -> list[int]`` (up to
    SQS_BATCH (message, delay) pairs in one request; the indexes of those not sent, raising when it cannot
    tell) is sent the scheduler's hand-out ten at a time (:func:`chorus.posts.scheduler.enqueue_all`)."""

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
            QueueUrl=self._url, MessageBody=message.to_json(), DelaySeconds=_delay(delay_s)
        )

    def send_batch(self, messages: Sequence[tuple[PublishMessage, int]]) -> list[int]:
        """Up to SQS_BATCH messages, each with its own delay, in one SendMessageBatch (one request, not
        ten); the indexes of the entries SQS refused."""
        if len(messages) > SQS_BATCH:
            raise ValueError(f"at most {SQS_BATCH} messages a batch, got {len(messages)}")
        answer = self._client.send_message_batch(
            QueueUrl=self._url,
            Entries=[
                {"Id": str(i), "MessageBody": m.to_json(), "DelaySeconds": _delay(d)}
                for i, (m, d) in enumerate(messages)
            ],
        )
        return sorted(int(f["Id"]) for f in answer.get("Failed", []))


def _delay(delay_s: int) -> int:
    return max(0, min(MAX_DELAY_S, int(delay_s)))


def default_queue() -> SqsPublishQueue:
    from chorus.aws import client
    from chorus.config import get_settings

    return SqsPublishQueue(client("sqs"), get_settings().publish_queue_url)
