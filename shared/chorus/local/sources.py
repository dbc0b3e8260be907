"""Event sources the embedded runtime drives, each read from template.yaml:
SQS event source mappings, DynamoDB streams, schedules, and EventBridge rules with function targets."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chorus.local.functions import LocalFunction
from chorus.local.schedules import next_fire

log = logging.getLogger("chorus.local")


class Activity:
    """Counts work in flight so tests and the demo can wait until the system is quiet."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = 0
        self.last_change = time.monotonic()

    def __enter__(self) -> Activity:
        with self._lock:
            self._busy += 1
            self.last_change = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._busy -= 1
            self.last_change = time.monotonic()

    @property
    def busy(self) -> int:
        return self._busy


@dataclass
class SqsMapping:
    """An SQS event source mapping: batch size, batching window, partial batch responses, concurrency."""

    function: LocalFunction
    queue_url: str
    queue_arn: str
    batch_size: int
    window_s: float
    report_failures: bool
    concurrency: int
    enabled: bool = True
    batches: list[int] = field(default_factory=list)  # sizes of the batches delivered, for tests

    def event(self, messages: list[dict[str, Any]], region: str) -> dict[str, Any]:
        records = []
        for m in messages:
            attrs = m.get("Attributes", {})
            records.append(
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {
                        "ApproximateReceiveCount": attrs.get("ApproximateReceiveCount", "1"),
                        "SentTimestamp": attrs.get("SentTimestamp", str(int(time.time() * 1000))),
                        "SenderId": attrs.get("SenderId", "local"),
                        "ApproximateFirstReceiveTimestamp": attrs.get(
                            "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
                        ),
                        **{
                            k: v
                            for k, v in attrs.items()
                            if k in {"MessageGroupId", "MessageDeduplicationId"}
                        },
                    },
                    "messageAttributes": {
                        k: {
                            "stringValue": v.get("StringValue"),
                            "binaryValue": v.get("BinaryValue"),
                            "stringListValues": [],
                            "binaryListValues": [],
                            "dataType": v["DataType"],
                        }
                        for k, v in m.get("MessageAttributes", {}).items()
                    },
                    "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": region,
                }
            )
        return {"Records": records}

    def poll_once(self, sqs: Any, region: str, activity: Activity, wait_s: int = 0) -> int:
        """Receive one batch (honouring size and window), invoke, delete what succeeded."""
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.window_s
        while len(messages) < self.batch_size:
            got = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                WaitTimeSeconds=wait_s if not messages else 0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(got)
            if not got and (not messages or time.monotonic() >= deadline):
                break
            if time.monotonic() >= deadline:
                break
        if not messages:
            return 0
        with activity:
            self.batches.append(len(messages))
            failed: set[str] = set()
            try:
                answer = self.function.invoke(self.event(messages, region))
                if self.report_failures and isinstance(answer, dict):
                    failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
            except Exception:
                log.exception("function %s failed on a batch of %d", self.function.logical_id, len(messages))
                failed = {m["MessageId"] for m in messages}
            done = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done[start : start + 10])
                    ],
                )
        return len(messages)


@dataclass
class StreamMapping:
    function: LocalFunction
    stream_arn: str
    batch_size: int
    starting_position: str
    max_retries: int
    iterators: dict[str, str] = field(default_factory=dict)

    def poll_once(self, streams: Any, region: str, activity: Activity) -> int:
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        delivered = 0
        for shard in shards:
            sid = shard["ShardId"]
            if sid not in self.iterators:
                self.iterators[sid] = streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=sid, ShardIteratorType=self.starting_position
                )["ShardIterator"]
            out = streams.get_records(ShardIterator=self.iterators[sid], Limit=self.batch_size)
            self.iterators[sid] = out.get("NextShardIterator") or self.iterators[sid]
            records = out.get("Records", [])
            if not records:
                continue
            for r in records:
                r["eventSourceARN"] = self.stream_arn
                r["awsRegion"] = region
            with activity:
                for attempt in range(self.max_retries + 1):
                    try:
                        self.function.invoke({"Records": records})
                        break
                    except Exception:
                        log.exception(
                            "stream consumer %s failed (attempt %d)", self.function.logical_id, attempt
                        )
            delivered += len(records)
        return delivered


@dataclass
class ScheduleSource:
    name: str
    function: LocalFunction
    expression: str
    input: Any | None
    rule_arn: str
    enabled: bool = True
    next_at: datetime | None = None
    fired: int = 0

    def event(self, at: datetime) -> Any:
        if self.input is not None:
            return json.loads(self.input) if isinstance(self.input, str) else self.input
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [self.rule_arn],
            "detail": {},
        }

    def due(self, now: datetime) -> bool:
        if self.next_at is None:
            self.next_at = next_fire(self.expression, now)
        return self.enabled and self.next_at is not None and now >= self.next_at

    def advance(self, now: datetime) -> None:
        self.next_at = next_fire(self.expression, now)


@dataclass
class RuleTarget:
    """An EventBridge rule whose target the runtime plays (a function or an SNS topic).

    The rule itself lives in moto, so moto's own pattern matching decides what matches; its target is
    a shadow SQS queue the runtime drains into the function (asynchronous invocation, two retries)."""

    rule: str
    bus: str
    shadow_queue_url: str
    deliver: Callable[[dict[str, Any]], None]
    delivered: int = 0

    def poll_once(self, sqs: Any, activity: Activity, wait_s: int = 0) -> int:
        got = sqs.receive_message(
            QueueUrl=self.shadow_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s
        ).get("Messages", [])
        for m in got:
            with activity:
                event = json.loads(m["Body"])
                event.setdefault("account", "123456789012")
                for attempt in range(3):
                    try:
                        self.deliver(event)
                        break
                    except Exception:
                        log.exception("rule %s target failed (attempt %d)", self.rule, attempt + 1)
                self.delivered += 1
                sqs.delete_message(QueueUrl=self.shadow_queue_url, ReceiptHandle=m["ReceiptHandle"])
        return len(got)


def utcnow() -> datetime:
    return datetime.now(UTC)
