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
from concurrent.futures import ThreadPoolExecutor
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

    def begin(self) -> None:
        with self._lock:
            self._busy += 1
            self.last_change = time.monotonic()

    def end(self) -> None:
        with self._lock:
            self._busy -= 1
            self.last_change = time.monotonic()

    def __enter__(self) -> Activity:
        self.begin()
        return self

    def __exit__(self, *exc: object) -> None:
        self.end()

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

    def receive(self, sqs: Any, wait_s: int) -> list[dict[str, Any]]:
        """One batch as Lambda's poller forms it: up to BatchSize messages, gathered for at most the
        batching window (the first receive long-polls for ``wait_s``)."""
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
            if not messages or time.monotonic() >= deadline:
                break
            if not got:
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return messages

    def deliver(self, messages: list[dict[str, Any]], region: str) -> list[dict[str, Any]]:
        """Invoke the function with one batch; answer the messages that succeeded (to delete)."""
        self.batches.append(len(messages))
        failed: set[str] = set()
        try:
            answer = self.function.invoke(self.event(messages, region))
            if self.report_failures and isinstance(answer, dict):
                failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        except Exception:
            log.exception("function %s failed on a batch of %d", self.function.logical_id, len(messages))
            failed = {m["MessageId"] for m in messages}
        return [m for m in messages if m["MessageId"] not in failed]


class Scaling:
    """How many batches of one SQS mapping may be worked at once, grown as Lambda grows it: five when
    messages become available, up to five more a second (300 a minute) while the receiver keeps finding
    full batches, never above MaximumConcurrency, and back to five when the queue runs dry.

    Besides being Lambda's behaviour, it is what makes batches form locally: sixteen idle workers would
    each take the one or two messages just sent, and pay a batch's fixed costs for each of them."""

    INITIAL = 5
    PER_SECOND = 5.0

    def __init__(self, maximum: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.maximum = maximum
        self.allowed = min(maximum, self.INITIAL)
        self.in_flight = 0
        self._clock = clock
        self._since: float | None = None  # since when every receive found a full batch
        self._cond = threading.Condition()

    def acquire(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.in_flight < self.allowed, timeout) and self._take()

    def _take(self) -> bool:
        self.in_flight += 1
        return True

    def release(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify()

    def received(self, count: int, full: int) -> None:
        """After each receive: ``count`` messages where ``full`` would fill a batch."""
        with self._cond:
            now = self._clock()
            if count < full:
                self._since = None  # the workers keep up: no credit to grow
                if count == 0:
                    self.allowed = min(self.maximum, self.INITIAL)
                return
            if self._since is None:
                self._since = now  # a backlog from now on
                return
            grow = int((now - self._since) * self.PER_SECOND)
            if grow > 0:
                self.allowed = min(self.maximum, self.allowed + grow)
                self._since += grow / self.PER_SECOND
                self._cond.notify_all()


class SqsPoller:
    """Lambda's SQS poller for one mapping: a single long-polling receiver hands batches to workers,
    as many at once as :class:`Scaling` allows (at most MaximumConcurrency), and deletes what they
    finished, in batches.

    One receiver per queue, not one per worker: idle queues cost one long poll each, and a message
    sent to an empty queue is received at once (moto wakes long pollers on send)."""

    LONG_POLL_S = 1

    def __init__(self, mapping: SqsMapping, sqs: Any, region: str, activity: Activity) -> None:
        self.mapping = mapping
        self.sqs = sqs
        self.region = region
        self.activity = activity
        self.slots = Scaling(mapping.concurrency)
        self.pool = ThreadPoolExecutor(
            max_workers=mapping.concurrency, thread_name_prefix=f"sqs-{mapping.function.logical_id}"
        )

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if not self.slots.acquire(timeout=0.5):
                continue
            try:
                messages = self.mapping.receive(self.sqs, self.LONG_POLL_S)
            except Exception:
                self.slots.release()
                if stop.is_set():
                    return
                log.exception("receive from %s failed", self.mapping.queue_url)
                stop.wait(0.5)
                continue
            self.slots.received(len(messages), self.mapping.batch_size)
            if not messages:
                self.slots.release()
                continue
            self.activity.begin()
            try:
                self.pool.submit(self._work, messages)
            except RuntimeError:  # the pool is shut down: the runtime is stopping
                self.activity.end()
                self.slots.release()
                return

    def _work(self, messages: list[dict[str, Any]]) -> None:
        try:
            done = self.mapping.deliver(messages, self.region)
            for start in range(0, len(done), 10):
                answer = self.sqs.delete_message_batch(
                    QueueUrl=self.mapping.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done[start : start + 10])
                    ],
                )
                if answer.get("Failed"):  # they will be delivered again after the visibility timeout
                    log.warning("%s: %d messages not deleted: %s", self.mapping.function.logical_id,
                                len(answer["Failed"]), answer["Failed"][:3])  # fmt: skip
        except Exception:
            log.exception("batch of %s not completed", self.mapping.function.logical_id)
        finally:
            self.activity.end()
            self.slots.release()

    def stop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class StreamMapping:
    """A DynamoDB stream event source mapping: batch size, batching window, starting position, retries,
    FilterCriteria (records that match no filter are dropped before the function sees them, as Lambda
    does).

    ``window_s`` (``MaximumBatchingWindowInSeconds``): a shard's records are gathered until ``batch_size``
    of them wait or the first of them has waited ``window_s``, then handed over in one batch, as Lambda's
    poller does; 0 hands over what each read found."""

    function: LocalFunction
    stream_arn: str
    batch_size: int
    starting_position: str
    max_retries: int
    filters: list[str] = field(default_factory=list)
    on_failure: Callable[[dict[str, Any]], None] | None = None
    window_s: float = 0.0
    iterators: dict[str, str] = field(default_factory=dict)
    _waiting: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _waiting_since: dict[str, float] = field(default_factory=dict)
    _shards: list[str] = field(default_factory=list)
    _shards_read_at: float = 0.0
    _patterns: list[Any] | None = None
    caught_up_at: float = float("-inf")
    """When (monotonic) the latest read that found the stream empty began: every record written before
    then has been handed to the function (what :meth:`LocalRuntime.wait_idle` waits for)."""

    SHARDS_TTL_S = 5.0

    def matches(self, record: dict[str, Any]) -> bool:
        if not self.filters:
            return True
        if self._patterns is None:
            from moto.events.models import EventPattern, EventPatternParser  # EventBridge's pattern language

            self._patterns = [
                (necessary(json.loads(f)), EventPattern(f, EventPatternParser(f).parse()))
                for f in self.filters
            ]
        return any(may_match(record, checks) and p.matches_event(record) for checks, p in self._patterns)

    def shards(self, streams: Any) -> list[str]:
        if time.monotonic() - self._shards_read_at > self.SHARDS_TTL_S:
            described = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
            self._shards = [shard["ShardId"] for shard in described]
            self._shards_read_at = time.monotonic()
        return self._shards

    def poll_once(self, streams: Any, region: str, activity: Activity) -> int:
        started = time.monotonic()
        delivered = 0
        for sid in self.shards(streams):
            if sid not in self.iterators:
                self.iterators[sid] = streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=sid, ShardIteratorType=self.starting_position
                )["ShardIterator"]
            out = get_records(streams.meta.endpoint_url, self.iterators[sid], self.batch_size)
            self.iterators[sid] = out.get("NextShardIterator") or self.iterators[sid]
            read = out.get("Records", [])
            delivered += len(read)
            records = [r for r in read if self.matches(r)]
            for r in records:
                r["eventSourceARN"] = self.stream_arn
                r["awsRegion"] = region
            if records and not self._waiting.get(sid):
                self._waiting_since[sid] = time.monotonic()
            waiting = self._waiting.setdefault(sid, [])
            waiting += records
            while waiting and (
                len(waiting) >= self.batch_size
                or time.monotonic() - self._waiting_since[sid] >= self.window_s
            ):
                batch, waiting[:] = waiting[: self.batch_size], waiting[self.batch_size :]
                self._hand_over(sid, batch, activity)
        if delivered == 0 and not any(self._waiting.values()):
            self.caught_up_at = started
        return delivered

    def _hand_over(self, shard_id: str, records: list[dict[str, Any]], activity: Activity) -> None:
        with activity:
            for attempt in range(self.max_retries + 1):
                try:
                    self.function.invoke({"Records": records})
                    return
                except Exception:
                    log.exception("stream consumer %s failed (attempt %d)", self.function.logical_id, attempt)
            self._give_up(shard_id, records)

    def _give_up(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        seqs = [r["dynamodb"].get("SequenceNumber") for r in records]
        info = {
            "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self.function.arn},
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": seqs[0],
                "endSequenceNumber": seqs[-1],
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        if self.on_failure is not None:
            self.on_failure(info)
        else:
            log.error("stream batch dropped after retries", extra=info["DDBStreamBatchInfo"])


Check = tuple[tuple[str, ...], frozenset[str], tuple[str, ...]]  # path, exact values, prefixes


def necessary(pattern: dict[str, Any], path: tuple[str, ...] = ()) -> list[Check]:
    """What an EventBridge pattern asks of a field in the simplest terms - one of these strings, or one
    starting with one of these prefixes - for the fields it asks only that of. A record failing one of
    them matches no way; one passing them all is matched by the pattern language proper (moto's), which
    was a tenth of the runtime's CPU when it read every record of a busy table's stream."""
    checks: list[Check] = []
    for key, value in pattern.items():
        if key.startswith("$"):  # "$or" and the like: no field is needed on every branch
            continue
        if isinstance(value, dict):
            checks += necessary(value, (*path, key))
        elif isinstance(value, list) and value:
            exact = [v for v in value if isinstance(v, str)]
            prefixes = [v["prefix"] for v in value if isinstance(v, dict) and list(v) == ["prefix"]]
            if len(exact) + len(prefixes) == len(value) and all(isinstance(p, str) for p in prefixes):
                checks.append(((*path, key), frozenset(exact), tuple(prefixes)))
    return checks


def may_match(record: dict[str, Any], checks: list[Check]) -> bool:
    for path, exact, prefixes in checks:
        value: Any = record
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return False  # a field such a pattern names must be there
        if not isinstance(value, str):
            continue  # arrays and the like: left to the pattern language
        if value not in exact and not value.startswith(prefixes):
            return False
    return True


_http = threading.local()


def get_records(endpoint: str, iterator: str, limit: int) -> dict[str, Any]:
    """DynamoDB Streams GetRecords, its JSON answer as is: the records exactly as Lambda hands them to a
    function (times as epoch numbers, not the SDK's datetimes), and without the SDK parsing every
    attribute value of every image, which was a tenth of the runtime's CPU in an inbox burst."""
    import requests

    session = getattr(_http, "session", None)
    if session is None:
        session = _http.session = requests.Session()
    answer = session.post(
        endpoint,
        data=json.dumps({"ShardIterator": iterator, "Limit": limit}),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDBStreams_20120810.GetRecords",
            # moto routes by the credential scope; it checks no signature
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=local",
        },
        timeout=30,
    )
    if answer.status_code != 200:
        raise RuntimeError(f"GetRecords answered {answer.status_code}: {answer.text[:300]}")
    found: dict[str, Any] = answer.json()
    return found


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
    a shadow SQS queue the runtime drains into the function: an asynchronous invocation (up to
    ``attempts`` tries), events worked concurrently, and an event that fails every try goes to the
    target's dead-letter queue when the template gives it one (logged as an error otherwise)."""

    rule: str
    bus: str
    shadow_queue_url: str
    deliver: Callable[[dict[str, Any]], None]
    dlq_url: str | None = None
    attempts: int = 3
    delivered: int = 0
    dead_lettered: int = 0
    _pool: ThreadPoolExecutor | None = None

    def poll_once(self, sqs: Any, activity: Activity, wait_s: int = 0) -> int:
        got = sqs.receive_message(
            QueueUrl=self.shadow_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s
        ).get("Messages", [])
        if not got:
            return 0
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"rule-{self.rule}")
        with activity:
            list(self._pool.map(lambda m: self._one(sqs, m), got))
            sqs.delete_message_batch(
                QueueUrl=self.shadow_queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
            )
        return len(got)

    def _one(self, sqs: Any, message: dict[str, Any]) -> None:
        event = json.loads(message["Body"])
        event.setdefault("account", "123456789012")
        for attempt in range(self.attempts):
            try:
                self.deliver(event)
                break
            except Exception:
                log.exception("rule %s target failed (attempt %d)", self.rule, attempt + 1)
        else:
            self.dead_lettered += 1
            if self.dlq_url:
                sqs.send_message(QueueUrl=self.dlq_url, MessageBody=json.dumps(event))
            else:
                log.error("rule %s dropped an event after %d attempts: no DLQ", self.rule, self.attempts)
        self.delivered += 1

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def utcnow() -> datetime:
    return datetime.now(UTC)
