"""The ingest and reply queues: their message shapes and the small ports that send them.

An ingest message is what a webhook receiver (or a poller) saw, untouched: the platform, when it
arrived, the few headers parsing needs and the raw body in base64, so the signature-covered bytes
reach the worker exactly. Polled pages use the same shape (``source="poll"`` and the account they
were fetched for), so dedupe and threading are one code path.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

KEPT_HEADERS = ("content-type",)


def headers_for_parse(headers: Mapping[str, str]) -> dict[str, str]:
    """Only what parsing may need: content type and platform ``x-`` headers; never cookies or auth."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        low = name.lower()
        if low in KEPT_HEADERS or (low.startswith("x-") and low != "x-api-key"):
            kept[low] = value
    return kept


@dataclass(frozen=True)
class IngestMessage:
    platform: str  # the /webhooks/{platform} segment, or the polled platform
    received_at: str  # ISO UTC
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    source: str = "webhook"  # webhook | poll
    workspace_id: str | None = None  # poll: the account the page was fetched for
    account_id: str | None = None
    account_ref: str | None = None  # poll: the platform's id of that account

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "v": 1,
            "platform": self.platform,
            "received_at": self.received_at,
            "headers": dict(self.headers),
            "body": base64.b64encode(self.body).decode("ascii"),
            "source": self.source,
        }
        for name in ("workspace_id", "account_id", "account_ref"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> IngestMessage:
        data = json.loads(text)
        return cls(
            platform=str(data["platform"]),
            received_at=str(data["received_at"]),
            body=base64.b64decode(data["body"], validate=True),
            headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
            source=str(data.get("source") or "webhook"),
            workspace_id=data.get("workspace_id"),
            account_id=data.get("account_id"),
            account_ref=data.get("account_ref"),
        )


class IngestQueue(Protocol):
    def send(self, message: IngestMessage) -> None: ...


class InMemoryIngestQueue:
    """A fake for tests and benchmarks."""

    def __init__(self) -> None:
        self.sent: list[IngestMessage] = []

    def send(self, message: IngestMessage) -> None:
        self.sent.append(message)


class SqsIngestQueue:
    def __init__(self, client: Any, url: str) -> None:
        self._client = client
        self._url = url

    def send(self, message: IngestMessage) -> None:
        self._client.send_message(QueueUrl=self._url, MessageBody=message.to_json())


@dataclass(frozen=True)
class ReplyMessage:
    workspace_id: str
    reply_id: str
    token: str
    kind: str = "send"  # send | verify

    def to_json(self) -> str:
        return json.dumps(
            {"v": 1, "workspace_id": self.workspace_id, "reply_id": self.reply_id, "token": self.token,
             "kind": self.kind}
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> ReplyMessage:
        data = json.loads(text)
        return cls(
            str(data["workspace_id"]),
            str(data["reply_id"]),
            str(data["token"]),
            str(data.get("kind", "send")),
        )


class ReplyQueue(Protocol):
    def send(self, message: ReplyMessage, delay_s: int = 0) -> None: ...


class InMemoryReplyQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[ReplyMessage, int]] = []

    def send(self, message: ReplyMessage, delay_s: int = 0) -> None:
        self.sent.append((message, delay_s))


class SqsReplyQueue:
    def __init__(self, client: Any, url: str) -> None:
        self._client = client
        self._url = url

    def send(self, message: ReplyMessage, delay_s: int = 0) -> None:
        self._client.send_message(
            QueueUrl=self._url, MessageBody=message.to_json(), DelaySeconds=max(0, min(900, int(delay_s)))
        )


def default_ingest_queue() -> SqsIngestQueue:
    from chorus.aws import client
    from chorus.inbox.settings import inbox_settings

    return SqsIngestQueue(client("sqs"), inbox_settings().ingest_queue_url)


def default_reply_queue() -> SqsReplyQueue:
    from chorus.aws import client
    from chorus.inbox.settings import inbox_settings

    return SqsReplyQueue(client("sqs"), inbox_settings().reply_queue_url)
