"""What Chorus costs on AWS: the requests each operation makes, counted on the embedded runtime, priced
with the one price table bench/prices.json (us-east-1, on-demand, no free tier).

Every AWS call the functions make goes through botocore's ``BaseClient._make_api_call`` in this
process (the functions run here, on threads, and so do the worker threads they start); the benchmark
wraps it and counts, per phase (``<operation>_aws_requests``: every call, whatever its price):

* DynamoDB read and write request units, from the sizes of the items read and written: every item a
  write puts, updates or deletes is read aside (uncounted) before and after it, and billed as AWS
  does: the larger of its two sizes; for each GSI one write when the item is in the index before and
  after under the same key, two when the write changes its index key (the old entry deleted, the new
  one put), one when it enters or leaves the index; a write whose condition failed, the size of the
  item as it was (at least 1); transactions count twice;
* SQS requests (a batch is one request, each 64 KB of payload one more); the receives and deletes
  Lambda's poller makes for an SQS event source (the runtime plays it on threads named ``sqs-*``)
  when they carry messages (an idle poller's empty receives are priced in the idle month below);
* EventBridge events (64 KB chunks), SNS publishes, S3, KMS and SES requests, WebSocket messages
  (PostToConnection, 32 KB chunks);
* Lambda: one request per invocation, GB-seconds = the handler's measured duration (a new execution
  environment's import excluded) x the function's MemorySize in template.yaml, at its architecture's
  price; X-Ray: one trace per invocation that starts one (not those of EventBridge rules, which carry
  their caller's trace); API Gateway: one REST request per invocation of a function behind it;
* CloudWatch Logs: the bytes the functions log at the template's INFO level (Powertools' JSON lines
  and metric blobs) plus PLATFORM_LOG_BYTES of Lambda's own start/report lines per invocation.

Not counted: what the runtime plays that AWS does not bill (DynamoDB stream reads by Lambda,
EventBridge delivering to a Lambda target, schedules firing) and what the benchmark itself asks.

Phases, in the order run: the idle ticks (each schedule fired once with an empty workspace), posts
created through the API (``post_create``), then published (``post``: one scheduler run hands them
out, the publisher publishes them, the table's stream links them and has them followed for metrics), metric points (one collection of the posts published), a report (JSON answered by
the API; a PDF built by the reports worker), and last webhooks (signed Meta comments POSTed to the
API, ingested, pushed to a connected browser; last, because the Meta page they need would otherwise be
collected from the real Graph API). The idle month adds Lambda's SQS pollers on idle queues, on paper (IDLE_POLLERS_*,
LONG_POLL_S). Writes bench/results/cost.json.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import math
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_inbox import PAGE, SECRET, Browser, bodies  # noqa: E402
from chorus.posts.scheduler import api_window  # noqa: E402
from tests.integration.harness import Chorus  # noqa: E402

PRICES_FILE = ROOT / "bench" / "prices.json"
RESULTS = ROOT / "bench" / "results" / "cost.json"
POSTS = 100
WEBHOOKS = 200
ACCOUNTS = 5
LOOKAHEAD_S = 20  # the scheduler's and the API's hand-out window in this run (production: 90 s)
CREATE_S = 30  # the posts are created within this (on a loaded machine 100 API calls take 10-20 s)
TICK_AHEAD_S = 11  # the scheduler runs this long before the first post is due (the last: 7 s later)
PLATFORM_LOG_BYTES = 600  # platform.start + platform.report JSON lines of one invocation (LogFormat: JSON)
# Lambda's SQS event source polls an idle queue with long polls (20 s, SQS's longest); with
# MaximumConcurrency set it keeps five pollers, without it may go down to two
# (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
IDLE_POLLERS_WITH_MAXIMUM = 5
IDLE_POLLERS_WITHOUT = 2
LONG_POLL_S = 20
MINUTES_A_MONTH = 30 * 24 * 60
RUNS_A_MONTH = {"rate(1 minute)": MINUTES_A_MONTH, "rate(5 minutes)": MINUTES_A_MONTH / 5,
                "rate(1 hour)": MINUTES_A_MONTH / 60, "cron(0 6 ? * MON *)": 30 / 7,
                "cron(0 6 1 * ? *)": 1}  # fmt: skip
KB = 1024


# ---------------------------------------------------------------------------- DynamoDB sizes
def value_size(value: dict[str, Any]) -> int:
    """An attribute value's size as DynamoDB bills it: strings and binaries by their length, a number
    one byte per two significant digits plus one, a map or list 3 bytes plus one a member plus the
    members (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)."""
    (kind, v), *_ = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":  # one byte per two significant digits, plus one
        digits = str(v).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(v) if isinstance(v, bytes | bytearray) else len(v) * 3 // 4
    if kind in {"SS", "NS", "BS"}:
        return sum(value_size({kind[0]: m}) for m in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + value_size(m) for k, m in v.items())
    if kind == "L":
        return 3 + sum(1 + value_size(m) for m in v)
    return 1  # BOOL, NULL


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(k.encode()) + value_size(v) for k, v in (item or {}).items())


@dataclass(frozen=True)
class Index:
    """A GSI as ``describe_table`` gives it: its key attributes, its ``Projection.ProjectionType``
    (ALL, KEYS_ONLY, INCLUDE) and, for INCLUDE, its ``NonKeyAttributes``."""

    keys: tuple[str, ...]
    projection: str = "ALL"
    include: tuple[str, ...] = ()

    def entry(self, item: dict[str, Any] | None, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
        """The index's entry for ``item`` (None: the item is not in the index): what it projects."""
        if not item or not all(n in item for n in self.keys):
            return None
        if self.projection == "ALL":
            return item
        kept = (*table_keys, *self.keys, *(self.include if self.projection == "INCLUDE" else ()))
        return {n: item[n] for n in kept if n in item}


class Meter:
    """What one phase used, counted from the calls the functions make."""

    def __init__(self, chorus: Chorus) -> None:
        self.rt = chorus.rt
        self.phase: str | None = None
        self.units: dict[str, Counter[str]] = defaultdict(Counter)
        self.calls: dict[str, Counter[str]] = defaultdict(Counter)
        self.local = threading.local()
        self.lock = threading.Lock()
        self.memory = {f.logical_id: f.memory_mb for f in self.rt.functions.values()}
        # the template's Globals are merged into each function's properties
        self.arch = {f.logical_id: (f.properties.get("Architectures") or ["x86_64"])[0]
                     for f in self.rt.functions.values()}  # fmt: skip
        events = {f.logical_id: {e["Type"] for e in (f.properties.get("Events") or {}).values()}
                  for f in self.rt.functions.values()}  # fmt: skip
        # a function whose LoggingConfig sets SystemLogLevel WARN sends no platform.start/report lines
        self.platform_logs = {
            f.logical_id for f in self.rt.functions.values()
            if (f.properties.get("LoggingConfig") or {}).get("SystemLogLevel", "INFO") != "WARN"
        }  # fmt: skip
        self.api_functions = {fn for fn, kinds in events.items() if "Api" in kinds}
        self.joins_trace = {fn for fn, kinds in events.items() if kinds == {"EventBridgeRule"}}
        # X-Ray records a trace only for a function whose Tracing (the template's Tracing parameter) is Active
        self.traced = {
            f.logical_id for f in self.rt.functions.values() if self._tracing(f.properties) == "Active"
        }
        ddb = self.rt.client("dynamodb")
        self.keys: dict[str, list[str]] = {}  # a table's key attributes
        self.indexes: dict[str, list[Index]] = {}  # each GSI's keys and projection
        for name in ddb.list_tables()["TableNames"]:
            table = ddb.describe_table(TableName=name)["Table"]
            self.keys[name] = [k["AttributeName"] for k in table["KeySchema"]]
            self.indexes[name] = [
                Index(
                    tuple(k["AttributeName"] for k in i["KeySchema"]),
                    i.get("Projection", {}).get("ProjectionType", "ALL"),
                    tuple(i.get("Projection", {}).get("NonKeyAttributes", ())),
                )
                for i in table.get("GlobalSecondaryIndexes", [])
            ]

    # ------------------------------------------------------------------ what is counted
    def add(self, what: str, amount: float = 1) -> None:
        if self.phase is not None:
            with self.lock:
                self.units[self.phase][what] += amount  # type: ignore[assignment]
                if what in {"dynamodb_rru", "dynamodb_wru"}:  # which function spends them
                    by = self.caller() or "?"
                    self.units[self.phase][f"{what.removeprefix('dynamodb_')}_{by}"] += amount  # type: ignore[assignment]

    def install(self) -> None:
        from botocore.client import BaseClient
        from botocore.exceptions import ClientError

        from chorus.local.functions import LocalFunction

        meter, local = self, self.local
        call, invoke, load = BaseClient._make_api_call, LocalFunction.invoke, LocalFunction.load

        def counted_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            by = meter.caller()
            if meter.phase is None or getattr(local, "quiet", False) or by is None:
                return call(client, operation, params)
            service = client.meta.service_model.service_name

            def aside(
                op: str, args: dict[str, Any]
            ) -> Any:  # the benchmark's own read: not the function's time
                local.quiet, started = True, time.perf_counter()
                try:
                    return call(client, op, args)
                finally:
                    local.quiet = False
                    local.aside = getattr(local, "aside", 0.0) + time.perf_counter() - started

            before = meter.before_write(service, operation, params, aside)
            try:
                answer = call(client, operation, params)
            except ClientError as error:  # a condition that failed is billed all the same
                if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    meter.add("dynamodb_wru", max(1, math.ceil(item_size(before[0]) / KB)) if before else 1)
                raise
            if by == "poller" and operation == "ReceiveMessage" and not answer.get("Messages"):
                return answer  # an empty poll: priced in the idle month
            with meter.lock:
                meter.calls[meter.phase][f"{service}.{operation}"] += 1
            try:
                meter.count(service, operation, params, answer, before, aside)
            except Exception as error:  # the benchmark's own fault: never the function's
                print(f"bench_cost: {service}.{operation} not counted: {error!r}", file=sys.__stderr__)
                meter.add("not_counted")
            return answer

        def timed_invoke(function: Any, event: Any) -> Any:
            outer = getattr(local, "fn", None)
            local.fn, local.loading = function.logical_id, 0.0
            aside_before = getattr(local, "aside", 0.0)
            started = time.perf_counter()
            try:
                return invoke(function, event)
            finally:
                # less the import of a new environment and the benchmark's reads on this thread (those
                # on threads the function starts, e.g. the publisher's workers, are not taken off)
                took = (
                    time.perf_counter()
                    - started
                    - local.loading
                    - (getattr(local, "aside", 0.0) - aside_before)
                )
                local.fn = outer
                meter.invoked(function.logical_id, took)

        def timed_load(function: Any) -> Any:
            started = time.perf_counter()
            try:
                return load(function)
            finally:
                local.loading = getattr(local, "loading", 0.0) + time.perf_counter() - started

        BaseClient._make_api_call = counted_call  # type: ignore[method-assign]
        LocalFunction.invoke = timed_invoke  # type: ignore[method-assign]
        LocalFunction.load = timed_load  # type: ignore[method-assign]

    def caller(self) -> str | None:
        """Who makes a call: the function being invoked on this thread; ``poller`` for Lambda's SQS
        poller; a thread a function started (the publisher's and the scheduler's workers) by its
        name; None for what AWS does not bill or the benchmark itself (the main thread, the runtime's
        stream readers, rule deliveries and schedule clock)."""
        fn: str | None = getattr(self.local, "fn", None)
        if fn is not None:
            return fn
        thread = threading.current_thread()
        if thread is threading.main_thread() or thread.name.startswith(("rule-", "stream-", "schedules")):
            return None
        if thread.name.startswith("sqs-"):
            return "poller"
        return "thread:" + thread.name.split("_")[0]

    def _tracing(self, properties: dict[str, Any]) -> str:
        mode = properties.get("Tracing") or "PassThrough"
        if isinstance(mode, dict) and "Ref" in mode:
            mode = self.rt.stack.refs.get(mode["Ref"], "PassThrough")  # type: ignore[union-attr]
        return str(mode)

    def invoked(self, fn: str, seconds: float) -> None:
        billed_s = math.ceil(max(seconds, 0.001) * 1000) / 1000  # billed by the millisecond
        self.add("lambda_requests")
        self.add(f"lambda_gb_s_{self.arch[fn]}", billed_s * self.memory[fn] / 1024)
        if fn in self.platform_logs:
            self.add("log_bytes", PLATFORM_LOG_BYTES)
        if fn in self.api_functions:
            self.add("api_requests")
        if fn in self.traced and fn not in self.joins_trace:
            self.add("xray_traces")
        self.add(f"invocations_{fn}")
        self.add(f"seconds_{fn}", billed_s)

    Written = tuple[str, str, dict[str, Any], dict[str, Any] | None]

    def written(self, operation: str, params: dict[str, Any]) -> list[Written]:
        """(table, Put | Update | Delete, key, the item put) of each item a write request writes."""

        def entry(kind: str, table: str, body: dict[str, Any]) -> Meter.Written:
            item = body.get("Item")
            key = body["Key"] if "Key" in body else {k: body["Item"][k] for k in self.keys.get(table, [])}
            return table, kind, key, item

        if operation in {"PutItem", "UpdateItem", "DeleteItem"}:
            return [entry(operation.removesuffix("Item"), params["TableName"], params)]
        if operation == "TransactWriteItems":
            return [entry(kind, e[kind]["TableName"], e[kind]) for e in params["TransactItems"]
                    for kind in ("Put", "Update", "Delete") if kind in e]  # fmt: skip
        if operation == "BatchWriteItem":
            return [entry("Put", t, r["PutRequest"]) if "PutRequest" in r else entry("Delete", t, r["DeleteRequest"])
                    for t, requests in params["RequestItems"].items() for r in requests]  # fmt: skip
        return []

    def before_write(self, service: str, operation: str, params: dict[str, Any], aside: Any) -> list[Any]:
        """The items a write request puts, updates or deletes, as they were before it (read aside)."""
        if service != "dynamodb":
            return []
        return [
            aside("GetItem", {"TableName": t, "Key": k}).get("Item")
            for t, _, k, _ in self.written(operation, params)
        ]

    def write_units(self, table: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> int:
        """Units of changing an item from ``before`` to ``after`` (None: absent), as DynamoDB bills them:
        the larger of the two sizes for the table; for each GSI, by its entry (what it projects: the
        whole item for ALL, the table's and the index's keys for KEYS_ONLY, and the ``NonKeyAttributes``
        too for INCLUDE): one write where the item enters or leaves the index, two (the old entry
        deleted, the new one put) where an update changes its key, and where the key stays, one write
        of the larger entry if a projected attribute changed, none otherwise (an update of attributes a
        KEYS_ONLY index does not hold costs it nothing)
        (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes)."""

        def units(item: dict[str, Any] | None) -> int:
            return max(1, math.ceil(item_size(item) / KB)) if item else 0

        total = max(units(before), units(after), 1)
        table_keys = tuple(self.keys.get(table, ()))
        for index in self.indexes.get(table, []):
            was, now = index.entry(before, table_keys), index.entry(after, table_keys)
            if was and now and all(was[n] == now[n] for n in index.keys):
                total += max(units(was), units(now)) if was != now else 0  # the entry rewritten, or not
            else:
                total += units(was) + units(now)
        return total

    def count(self, service: str, operation: str, params: dict[str, Any], answer: dict[str, Any],
              before: list[Any], aside: Any) -> None:  # fmt: skip
        body = len(json.dumps(params, default=str).encode())
        if service == "dynamodb":
            self.count_dynamodb(operation, params, answer, before, aside)
        elif service == "sqs":
            self.add("sqs_requests", max(1, math.ceil(body / (64 * KB))))
        elif service == "events" and operation == "PutEvents":
            for entry in params.get("Entries", []):
                self.add(
                    "eventbridge_events",
                    max(1, math.ceil(len(json.dumps(entry, default=str).encode()) / (64 * KB))),
                )
        elif service == "sns":
            self.add("sns_publishes", max(1, math.ceil(body / (64 * KB))))
        elif service == "apigatewaymanagementapi" and operation == "PostToConnection":
            data = params.get("Data", b"")
            self.add("websocket_messages", max(1, math.ceil(len(data) / (32 * KB))))
        elif service == "s3":
            self.add("s3_put_requests" if operation.startswith(("Put", "Copy", "List", "Create", "Upload"))
                     else "s3_get_requests")  # fmt: skip
        elif service == "kms":
            self.add("kms_requests")
        elif service in {"ses", "sesv2"}:
            self.add("ses_emails")
        else:
            self.add(f"other_{service}_{operation}")

    def count_dynamodb(self, operation: str, params: dict[str, Any], answer: dict[str, Any],
                       before: list[Any], aside: Any) -> None:  # fmt: skip
        def read_units(size: int, consistent: bool) -> float:
            return max(1, math.ceil(size / (4 * KB))) * (1 if consistent else 0.5)

        self.add("dynamodb_requests")
        if operation == "GetItem":
            self.add(
                "dynamodb_rru", read_units(item_size(answer.get("Item")), bool(params.get("ConsistentRead")))
            )
        elif operation in {"Query", "Scan"}:
            size = sum(item_size(i) for i in answer.get("Items", []))
            self.add("dynamodb_rru", read_units(size, bool(params.get("ConsistentRead"))))
        elif operation == "BatchGetItem":
            for table, items in answer.get("Responses", {}).items():
                consistent = bool(params["RequestItems"][table].get("ConsistentRead"))
                self.add("dynamodb_rru", sum(read_units(item_size(i), consistent) for i in items))
        elif operation == "TransactGetItems":
            self.add("dynamodb_rru", sum(2 * read_units(item_size(r.get("Item")), True)
                                         for r in answer.get("Responses", [])))  # fmt: skip
        elif operation in {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}:
            units = 0
            for (table, kind, key, put), was in zip(self.written(operation, params), before, strict=True):
                if kind == "Update":  # the item as the update left it
                    put = aside("GetItem", {"TableName": table, "Key": key}).get("Item")
                now = None if kind == "Delete" else put
                units += self.write_units(table, was, now)
            if operation == "TransactWriteItems":  # transactions bill twice; a condition check as a write
                units = 2 * units + 2 * sum(1 for e in params["TransactItems"] if "ConditionCheck" in e)
            self.add("dynamodb_wru", units)

    # ------------------------------------------------------------------ phases
    def start(self, phase: str) -> None:
        self.phase = phase

    def stop(self) -> None:
        self.phase = None


class LogSink(io.TextIOBase):
    """Where the functions' log lines go: counted for the phase, not printed."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def write(self, text: str) -> int:
        self.meter.add("log_bytes", len(text.encode()))
        if '"level":"ERROR"' in text or "Traceback" in text:
            sys.__stderr__.write(text[:3000] + "\n")  # still seen: a failure would skew what is counted
        return len(text)


# ---------------------------------------------------------------------------- prices
def load_prices() -> dict[str, Any]:
    table: dict[str, Any] = json.loads(PRICES_FILE.read_text())
    return table


def usd(units: Counter[str], prices: dict[str, Any]) -> dict[str, float]:
    p = {k: v["usd"] for k, v in prices["prices"].items()}
    lines = {
        "lambda": units["lambda_requests"] * p["lambda_request"]
        + units["lambda_gb_s_arm64"] * p["lambda_gb_second_arm64"]
        + units["lambda_gb_s_x86_64"] * p["lambda_gb_second_x86_64"],
        "dynamodb": units["dynamodb_rru"] * p["dynamodb_read_request_unit"]
        + units["dynamodb_wru"] * p["dynamodb_write_request_unit"],
        "sqs": units["sqs_requests"] * p["sqs_request"],
        "eventbridge": units["eventbridge_events"] * p["eventbridge_custom_event"],
        "sns": units["sns_publishes"] * p["sns_publish"],
        "api_gateway": units["api_requests"] * p["apigateway_rest_request"]
        + units["websocket_messages"] * p["apigateway_websocket_message"],
        "s3": units["s3_put_requests"] * p["s3_put_request"] + units["s3_get_requests"] * p["s3_get_request"],
        "kms": units["kms_requests"] * p["kms_request"],
        "ses": units["ses_emails"] * p["ses_email"],
        "logs": units["log_bytes"] / KB**3 * p["cloudwatch_logs_ingest_gb"],
        "xray": units["xray_traces"] * p["xray_trace_recorded"],
    }
    return lines


def per(units: Counter[str], n: float) -> Counter[str]:
    return Counter({k: v / n for k, v in units.items()})


# ---------------------------------------------------------------------------- phases
def idle(chorus: Chorus, meter: Meter) -> Counter[str]:
    """Every schedule fired once with nothing to do, each weighted by its runs a month."""
    month: Counter[str] = Counter()
    for name, source in sorted(chorus.rt.schedules.items()):
        runs = RUNS_A_MONTH.get(source.expression)
        if runs is None:
            raise SystemExit(f"bench_cost: no runs a month known for {source.expression!r} ({name})")
        chorus.rt.tick(name)  # warm: the first run of an environment imports
        meter.start("idle")
        before = Counter(meter.units["idle"])
        chorus.rt.tick(name)
        meter.stop()
        assert chorus.rt.wait_idle(timeout=30)
        once = meter.units["idle"] - before
        month.update({k: v * runs for k, v in once.items()})
    return month


def idle_polling(chorus: Chorus) -> tuple[float, int]:
    """SQS receives a month of Lambda's pollers on the template's idle queues, and the queues."""
    requests = 0.0
    for mapping in chorus.rt.sqs_mappings:
        scaling = mapping.function.properties["Events"] or {}
        has_maximum = any("MaximumConcurrency" in (e.get("Properties", {}).get("ScalingConfig") or {})
                          for e in scaling.values() if e["Type"] == "SQS")  # fmt: skip
        pollers = IDLE_POLLERS_WITH_MAXIMUM if has_maximum else IDLE_POLLERS_WITHOUT
        requests += pollers * (60 / LONG_POLL_S) * MINUTES_A_MONTH
    return requests, len(chorus.rt.sqs_mappings)


def posts(chorus: Chorus, meter: Meter, key: str, accounts: list[str]) -> list[dict[str, Any]]:
    """POSTS posts through the API, due just beyond the API's own hand-out window so that one
    scheduler run hands them out, as it does posts scheduled days ahead. The window (the lookahead,
    90 s in production, plus the scheduler's API_MARGIN) is built on LOOKAHEAD_S here, so the run waits
    less; what is read, written and sent is the same."""
    t0 = datetime.now(UTC)
    first = t0 + timedelta(seconds=CREATE_S) + api_window(LOOKAHEAD_S)  # beyond it until all are created
    due = [(first + timedelta(seconds=i % 8)).replace(microsecond=0) for i in range(POSTS)]
    meter.start("post_create")
    created = []
    for i, at in enumerate(due):
        answer = chorus.call("POST", "/posts", key, json={"text": f"Cost post {i}", "scheduled_at": at.isoformat(),
                                                           "accounts": [accounts[i % len(accounts)]]})  # fmt: skip
        assert answer.status_code == 201, answer.text
        created.append(answer.json())
    meter.stop()
    assert datetime.now(UTC) < t0 + timedelta(seconds=CREATE_S), (
        "posts created too slowly: the API handed some out"
    )
    tick_at = first - timedelta(seconds=TICK_AHEAD_S)  # all due within the scheduler's lookahead
    while datetime.now(UTC) < tick_at:
        time.sleep(0.2)
    meter.start("post")
    chorus.rt.tick("SchedulerFunction")
    deadline = time.monotonic() + 90
    while len(chorus.platform_posts()) < POSTS and time.monotonic() < deadline:
        time.sleep(0.5)
    assert chorus.rt.wait_idle(timeout=60)
    meter.stop()
    published = chorus.platform_posts()
    assert len(published) == POSTS, f"{len(published)} of {POSTS} published"
    return published


def webhooks(chorus: Chorus, meter: Meter, owner: Browser) -> int:
    payloads = bodies(count=WEBHOOKS)

    def send(item: tuple[str, bytes]) -> int:
        signature = "sha256=" + hmac.new(SECRET.encode(), item[1], hashlib.sha256).hexdigest()
        answer = chorus.http.post(chorus.rt.api_url + "/webhooks/meta", data=item[1], timeout=30,
                                  headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})  # fmt: skip
        return answer.status_code

    meter.start("webhook")
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(send, payloads))
    deadline = time.monotonic() + 120
    while len(owner.arrivals) < WEBHOOKS and time.monotonic() < deadline:
        time.sleep(0.1)
    assert chorus.rt.wait_idle(timeout=60)
    meter.stop()
    assert statuses == [200] * WEBHOOKS, Counter(statuses)
    return len(owner.arrivals)


def raw_points(chorus: Chorus) -> int:
    ddb = chorus.rt.client("dynamodb")
    table = chorus.rt.stack.refs["MetricsTable"]  # type: ignore[union-attr]
    count, start = 0, None
    while True:
        page = ddb.scan(TableName=table, FilterExpression="begins_with(pk, :r)", Select="COUNT",
                        ExpressionAttributeValues={":r": {"S": "R#"}}, **({"ExclusiveStartKey": start} if start else {}))  # fmt: skip
        count += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return count


def metric_points(chorus: Chorus, meter: Meter, published: list[dict[str, Any]]) -> int:
    for i, post in enumerate(published):
        chorus.engage(post["id"], impressions=100 + i, likes=i % 7, comments=i % 3, shares=i % 2)
    before = raw_points(chorus)
    meter.start("metrics")
    chorus.tick_at("MetricsFanoutFunction", datetime.now(UTC) + timedelta(minutes=61))
    assert chorus.rt.wait_idle(timeout=120)
    meter.stop()
    return raw_points(chorus) - before


def reports(chorus: Chorus, meter: Meter, key: str) -> None:
    today = datetime.now(UTC).date()
    params = {"from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()}
    meter.start("report")
    answer = chorus.call("GET", "/reports", key, params={**params, "format": "json"})
    meter.stop()
    assert answer.status_code == 200, answer.text
    meter.start("report_pdf")
    queued = chorus.call("GET", "/reports", key, params={**params, "format": "pdf"})
    assert queued.status_code == 202, queued.text
    assert chorus.rt.wait_idle(timeout=120)
    job = chorus.call("GET", queued.json()["status_url"], key).json()
    meter.stop()
    assert job["state"] == "done", job


# ---------------------------------------------------------------------------- the run
def main() -> int:
    prices = load_prices()
    chorus = Chorus(
        parameters={"MetaAppSecret": SECRET},
        extra_env={"POWERTOOLS_LOG_LEVEL": "INFO", "CHORUS_SCHEDULE_LOOKAHEAD_S": str(LOOKAHEAD_S)},
    )
    started = time.monotonic()
    try:
        meter = Meter(chorus)
        meter.install()
        sink = LogSink(meter)
        real_stdout, sys.stdout = sys.stdout, sink  # type: ignore[assignment]
        chorus_log = logging.getLogger("chorus")
        chorus_log.setLevel(logging.INFO)
        for handler in chorus_log.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sink)  # type: ignore[arg-type]
        try:
            _, key = chorus.workspace("Cost bench")
            idle_month = idle(chorus, meter)
            accounts = [chorus.sandbox_account(key, f"cost{i}") for i in range(ACCOUNTS)]
            print("posts", file=sys.stderr, flush=True)
            published = posts(chorus, meter, key, accounts)
            print("metric points", file=sys.stderr, flush=True)
            points = metric_points(chorus, meter, published)
            print("reports", file=sys.stderr, flush=True)
            reports(chorus, meter, key)
            # last: the Meta page is not collected (its metrics would be asked of the real Graph API)
            print("webhooks", file=sys.stderr, flush=True)
            chorus.proven_account(key, "facebook", PAGE, handle="page")
            owner = Browser(chorus.rt.ws_url + f"/?key={key}")
            pushed = webhooks(chorus, meter, owner)
            owner.socket.close()
        finally:
            sys.stdout = real_stdout
        results = summarise(chorus, meter, prices, idle_month, points, pushed)
        results["run_s"] = round(time.monotonic() - started, 1)
    finally:
        chorus.close()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


COUNTED = ("lambda_requests", "lambda_gb_s_arm64", "lambda_gb_s_x86_64", "dynamodb_requests", "dynamodb_rru",
           "dynamodb_wru", "sqs_requests", "eventbridge_events", "sns_publishes", "api_requests",
           "websocket_messages", "s3_put_requests", "s3_get_requests", "kms_requests", "ses_emails",
           "log_bytes", "xray_traces")  # fmt: skip


def summarise(chorus: Chorus, meter: Meter, prices: dict[str, Any], idle_month: Counter[str],
              points: int, pushed: int) -> dict[str, Any]:  # fmt: skip
    post = per(meter.units["post"], POSTS)
    created = per(meter.units["post_create"], POSTS)
    webhook = per(meter.units["webhook"], WEBHOOKS)
    point = per(meter.units["metrics"], max(points, 1))
    report, pdf = meter.units["report"], meter.units["report_pdf"]
    polls, queues = idle_polling(chorus)
    idle_month["sqs_requests"] += polls
    p = {k: v["usd"] for k, v in prices["prices"].items()}
    alarms = len(chorus.rt.template.of_type("AWS::CloudWatch::Alarm"))
    keys = len(chorus.rt.template.of_type("AWS::KMS::Key"))
    out: dict[str, Any] = {
        "usd_per_million_posts": round(sum(usd(post, prices).values()) * 1e6, 2),
        "usd_per_million_posts_created_and_published": round(
            sum(usd(post + created, prices).values()) * 1e6, 2
        ),
        "usd_per_million_webhooks": round(sum(usd(webhook, prices).values()) * 1e6, 2),
        "usd_per_million_metric_points": round(sum(usd(point, prices).values()) * 1e6, 2),
        "usd_per_report": round(sum(usd(report, prices).values()), 6),
        "usd_per_pdf_report": round(sum(usd(pdf, prices).values()), 6),
        "usd_idle_month": round(sum(usd(idle_month, prices).values()), 3),
        "usd_idle_month_schedules": round(
            sum(usd(idle_month - Counter({"sqs_requests": polls}), prices).values()), 3
        ),
        "usd_idle_month_sqs_polling": round(polls * p["sqs_request"], 3),
        "idle_sqs_polled_queues": queues,
        "usd_fixed_month": round(keys * p["kms_key_month"] + alarms * p["cloudwatch_alarm_month"], 2),
        "fixed_kms_keys": keys,
        "fixed_alarms": alarms,
        "goal": "usd_per_million_posts <= 5; usd_idle_month <= 1",
        "prices_date": prices["date"],
        "prices_region": prices["region"],
        "posts": POSTS,
        "webhooks": WEBHOOKS,
        "webhooks_pushed": pushed,
        "metric_points": points,
        "calls_not_counted": sum(u["not_counted"] for u in meter.units.values()),
    }
    for name, phase, n in (("post", "post", POSTS), ("post_create", "post_create", POSTS),
                           ("webhook", "webhook", WEBHOOKS), ("metric_point", "metrics", max(points, 1)),
                           ("report", "report", 1), ("pdf_report", "report_pdf", 1)):  # fmt: skip
        out[f"{name}_aws_requests"] = float(f"{sum(meter.calls[phase].values()) / n:.4g}")
    for name, units in (("post", post), ("post_create", created), ("webhook", webhook), ("metric_point", point), ("report", report),
                        ("pdf_report", pdf), ("idle_month", idle_month)):  # fmt: skip
        for what, amount in usd(units, prices).items():
            if amount:
                out[f"{name}_usd_{what}"] = float(f"{amount:.3g}")
        for what in COUNTED:
            if units[what]:
                out[f"{name}_{what}"] = float(f"{units[what]:.4g}")
        for what in sorted(units):
            if what.startswith(("invocations_", "seconds_", "wru_", "rru_")):
                out[f"{name}_{what}"] = float(f"{units[what]:.3g}")
    return out


if __name__ == "__main__":
    sys.exit(main())
