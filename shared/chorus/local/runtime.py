"""The embedded runtime: AWS on 127.0.0.1, provisioned and wired from template.yaml.

A moto server plays the AWS APIs (DynamoDB, SQS, SNS, S3, EventBridge, KMS, ...). What moto does not
do, this runtime does, from the same template: it fires schedules, polls SQS event source mappings
(batch size, batching window, partial batch responses; moto keeps visibility timeouts and redrive),
reads DynamoDB streams, delivers EventBridge rules to function targets, serves the REST API and the
WebSocket API. Adding a function and its events to template.yaml is all it takes to run it here.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from chorus.config import reset_caches
from chorus.local.functions import LocalFunction
from chorus.local.gateways import RestApi, Route, WebSocketApi
from chorus.local.provision import ACCOUNT, Stack, provision
from chorus.local.sources import Activity, RuleTarget, ScheduleSource, SqsMapping, SqsPoller, StreamMapping
from chorus.local.template import Template
from chorus.local.webapp import WebApp, web_config

log = logging.getLogger("chorus.local")

STREAM_POLL_S = 0.25  # Lambda reads a stream shard about four times a second

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


# moto serves these services from a process of their own, on another core: DynamoDB and its streams
# carry most of the traffic. The rest share one process, as moto's cross-service deliveries need
# (EventBridge -> SQS, SNS -> SQS). Clients find their process through botocore's per-service
# endpoint variables (AWS_ENDPOINT_URL_<SERVICE>), so handler code knows nothing of it.
SHARDS: dict[str, tuple[str, ...]] = {"dynamodb": ("dynamodb", "dynamodbstreams")}
ENDPOINT_ENV = {
    "dynamodb": "AWS_ENDPOINT_URL_DYNAMODB",
    "dynamodbstreams": "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
}


class MotoProcess:
    """A moto server in a process of its own: AWS answers on another core than the handlers.

    The server binds a free port itself and writes it to a file: a port picked here and handed over
    could be taken meanwhile by another runtime starting on the same machine (two test runs at once
    then talked to each other's AWS)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.port = 0
        self._port_file: Path | None = None

    def launch(self) -> MotoProcess:
        handle, name = tempfile.mkstemp(prefix="chorus-moto-", suffix=".port")
        os.close(handle)
        self._port_file = Path(name)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chorus.local.motoserver",
                "-H",
                "127.0.0.1",
                "-p",
                "0",
                "--port-file",
                name,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def wait_ready(self, timeout: float = 30.0) -> MotoProcess:
        assert self.proc is not None
        assert self._port_file is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the moto server exited at start")
            written = self._port_file.read_text().strip()
            if written:
                self.port = int(written)
                self.url = f"http://127.0.0.1:{self.port}"
                self._port_file.unlink(missing_ok=True)
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the moto server did not start in time")

    def start(self, timeout: float = 30.0) -> MotoProcess:
        return self.launch().wait_ready(timeout)

    def stop(self) -> None:
        if self._port_file is not None:
            self._port_file.unlink(missing_ok=True)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class LocalRuntime:
    def __init__(
        self,
        template_path: Path | str,
        *,
        clock: str = "wall",  # "wall": schedules tick on the wall clock; "manual": only tick() fires them
        region: str = "us-east-1",
        extra_env: dict[str, str] | None = None,
        log_level: str = "WARNING",
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.template = Template.load(Path(template_path).resolve())
        self.clock = clock
        self.region = region
        self.extra_env = extra_env or {}
        self.log_level = log_level
        self.parameters = parameters or {}
        self.namespace = f"chorus_local_{uuid.uuid4().hex[:6]}"
        self.activity = Activity()
        self.functions: dict[str, LocalFunction] = {}
        self.sqs_mappings: list[SqsMapping] = []
        self.stream_mappings: list[StreamMapping] = []
        self.schedules: dict[str, ScheduleSource] = {}
        self.rules: list[RuleTarget] = []
        self.rest: RestApi | None = None
        self.ws: WebSocketApi | None = None
        self.stack: Stack | None = None
        self.moto: Any = None
        self.endpoint = ""  # the moto process of every service not in SHARDS
        self.endpoints: dict[str, str] = {}  # service -> its moto process, for those in SHARDS
        self._shards: dict[str, MotoProcess] = {}
        self.api_url = ""
        self.ws_url = ""
        self.web: WebApp | None = None
        self.web_url = ""  # the web app (web/dist), its /config.json and the API under /api
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pollers: list[SqsPoller] = []
        self._saved_env: dict[str, str | None] = {}
        self._clients: dict[str, Any] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalRuntime:
        for noisy in ("werkzeug", "moto", "botocore", "urllib3", "websockets"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        self.moto = MotoProcess().launch()
        shards = {name: MotoProcess().launch() for name in SHARDS}
        self.moto.wait_ready()
        for name, proc in shards.items():
            self._shards[name] = proc.wait_ready()
            for service in SHARDS[name]:
                self.endpoints[service] = proc.url
        self.endpoint = self.moto.url
        self._set_env({**FAKE_AWS_ENV, "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region})
        self._set_env({"AWS_ENDPOINT_URL": self.endpoint})
        self._set_env({ENDPOINT_ENV[service]: url for service, url in self.endpoints.items()})
        self.stack = provision(self.template, self.client, self.region, parameters=self.parameters)
        self._build_functions()
        self._wire()
        self._apply_function_env()
        reset_caches()
        self._start_threads()
        return self

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        for poller in self._pollers:
            poller.stop()
        for rule in self.rules:
            rule.stop()
        if self.web:
            self.web.stop()
        if self.rest:
            self.rest.stop()
        if self.ws:
            self.ws.stop()
        if self.moto:
            self.moto.stop()
        for proc in self._shards.values():
            proc.stop()
        for k, v in self._saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self._saved_env.clear()
        reset_caches()

    def aws_pids(self) -> list[int]:
        """The process ids of the moto servers playing AWS (benchmarks count their CPU time)."""
        procs = [self.moto, *self._shards.values()]
        return [p.proc.pid for p in procs if p is not None and p.proc is not None]

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3
            from botocore.config import Config

            self._clients[service] = boto3.session.Session().client(  # type: ignore[call-overload]
                service,
                config=Config(max_pool_connections=64),
                region_name=self.region,
                endpoint_url=self.endpoints.get(service, self.endpoint),
                aws_access_key_id="local",
                aws_secret_access_key="local",  # noqa: S106 - moto's fake credentials
            )
        return self._clients[service]

    def _set_env(self, values: dict[str, str]) -> None:
        for k, v in values.items():
            if k not in self._saved_env:
                self._saved_env[k] = os.environ.get(k)
            os.environ[k] = v

    # ------------------------------------------------------------------ wiring from the template
    def _build_functions(self) -> None:
        assert self.stack is not None
        for logical, res in self.template.of_type("AWS::Serverless::Function").items():
            props = res["Properties"]
            code_uri = props.get("CodeUri", ".")
            env = self.stack.resolve(props.get("Environment", {}).get("Variables", {}))
            self.functions[logical] = LocalFunction(
                logical_id=logical,
                name=self.stack.refs[logical],
                arn=self.stack.attrs[(logical, "Arn")],
                code_dir=(self.template.root / code_uri).resolve(),
                handler=props["Handler"],
                environment={k: str(v) for k, v in env.items()},
                timeout_s=float(props.get("Timeout", 3)),
                memory_mb=int(props.get("MemorySize", 128)),
                properties=props,
                namespace=self.namespace,
            )

    def _queue_url_by_arn(self, arn: str) -> str:
        name = arn.rsplit(":", 1)[-1]
        return f"{self.endpoint}/{ACCOUNT}/{name}"

    def _function_by_arn(self, arn: str) -> LocalFunction | None:
        for fn in self.functions.values():
            if arn == fn.arn or arn.startswith(fn.arn + ":"):
                return fn
        return None

    def _wire(self) -> None:
        assert self.stack is not None
        stack = self.stack
        routes: list[Route] = []
        for fn in self.functions.values():
            for ev_name, ev in (fn.properties.get("Events") or {}).items():
                kind, props = ev["Type"], stack.resolve(ev.get("Properties", {}))
                if kind == "SQS":
                    scaling = props.get("ScalingConfig", {}) or {}
                    self.sqs_mappings.append(
                        SqsMapping(
                            function=fn,
                            queue_url=self._queue_url_by_arn(props["Queue"]),
                            queue_arn=props["Queue"],
                            batch_size=int(props.get("BatchSize", 10)),
                            window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                            report_failures="ReportBatchItemFailures"
                            in (props.get("FunctionResponseTypes") or []),
                            # Lambda runs up to MaximumConcurrency batches at once (or the function's
                            # ReservedConcurrentExecutions); threads play them here.
                            concurrency=max(
                                2,
                                min(
                                    int(
                                        scaling.get("MaximumConcurrency")
                                        or fn.properties.get("ReservedConcurrentExecutions")
                                        or 4
                                    ),
                                    16,
                                ),
                            ),
                            enabled=bool(props.get("Enabled", True)),
                        )
                    )
                elif kind == "DynamoDB":
                    self.stream_mappings.append(
                        StreamMapping(
                            function=fn,
                            stream_arn=props["Stream"],
                            batch_size=int(props.get("BatchSize", 100)),
                            window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                            starting_position="LATEST"
                            if props.get("StartingPosition") == "LATEST"
                            else "TRIM_HORIZON",
                            max_retries=int(props.get("MaximumRetryAttempts", 2)),
                            filters=[
                                f["Pattern"] for f in (props.get("FilterCriteria") or {}).get("Filters", [])
                            ],
                            on_failure=self._on_failure_destination(props),
                        )
                    )
                elif kind in {"Schedule", "ScheduleV2"}:
                    expression = props.get("Schedule") or props.get("ScheduleExpression")
                    enabled = props.get("Enabled", True) and props.get("State", "ENABLED") != "DISABLED"
                    self.schedules[f"{fn.logical_id}.{ev_name}"] = ScheduleSource(
                        name=f"{fn.logical_id}.{ev_name}",
                        function=fn,
                        expression=expression,
                        input=props.get("Input"),
                        rule_arn=f"arn:aws:events:{self.region}:{ACCOUNT}:rule/{fn.logical_id}{ev_name}",
                        enabled=bool(enabled),
                    )
                elif kind in {"EventBridgeRule", "CloudWatchEvent"}:
                    self._rule(
                        f"{fn.logical_id}{ev_name}",
                        props.get("EventBusName", "default"),
                        props["Pattern"],
                        self._async(fn, props.get("InputPath")),
                        dlq=self._rule_dlq(f"{fn.logical_id}{ev_name}", props.get("DeadLetterConfig")),
                    )
                elif kind == "Api":
                    routes.append(Route.build(props.get("Method", "ANY"), props["Path"], fn))
                else:
                    log.warning("event type %s of %s is not played locally", kind, fn.logical_id)
        for logical, res in self.template.of_type("AWS::Events::Rule").items():
            props = stack.resolve(res.get("Properties", {}))
            if props.get("ScheduleExpression"):
                for target in props.get("Targets", []):
                    scheduled = self._function_by_arn(target["Arn"])
                    if scheduled:
                        self.schedules[logical] = ScheduleSource(
                            logical, scheduled, props["ScheduleExpression"], target.get("Input"),
                            f"arn:aws:events:{self.region}:{ACCOUNT}:rule/{logical}",
                            props.get("State", "ENABLED") != "DISABLED",
                        )  # fmt: skip
                continue
            for target in props.get("Targets", []):
                arn = target["Arn"]
                targeted = self._function_by_arn(arn)
                if targeted is not None:
                    deliver = self._async(targeted, target.get("InputPath"))
                elif arn.startswith("arn:aws:sns:"):
                    deliver = self._to_topic(arn)
                elif arn.startswith("arn:aws:sqs:"):
                    self._native_rule(logical, props, target)
                    continue
                else:
                    log.warning("rule %s target %s is not played locally", logical, arn)
                    continue
                self._rule(
                    f"{logical}-{target['Id']}",
                    props.get("EventBusName", "default"),
                    props["EventPattern"],
                    deliver,
                )
        stage = str(stack.refs.get("Stage", "prod"))
        self.rest = RestApi(routes, stage, self.activity)
        self._wire_websocket(stage)

    def _on_failure_destination(self, props: dict[str, Any]) -> Callable[[dict[str, Any]], None] | None:
        """A stream mapping's OnFailure destination (an SQS queue): what Lambda sends there when a batch
        has failed every retry (the batch's metadata, not its records)."""
        import json

        arn = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if not arn or not str(arn).startswith("arn:aws:sqs:"):
            return None
        url = self._queue_url_by_arn(str(arn))

        def send(info: dict[str, Any]) -> None:
            self.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(info, default=str))

        return send

    def _async(self, fn: LocalFunction, input_path: str | None) -> Callable[[dict[str, Any]], None]:
        def deliver(event: dict[str, Any]) -> None:
            payload: Any = event
            if input_path and input_path.startswith("$."):
                for part in input_path[2:].split("."):
                    payload = payload[part]
            fn.invoke(payload)

        return deliver

    def _to_topic(self, topic_arn: str) -> Callable[[dict[str, Any]], None]:
        import json

        def deliver(event: dict[str, Any]) -> None:
            self.client("sns").publish(TopicArn=topic_arn, Message=json.dumps(event))

        return deliver

    def _native_rule(self, logical: str, props: dict[str, Any], target: dict[str, Any]) -> None:
        import json

        bus = props.get("EventBusName", "default")
        pattern = props["EventPattern"]
        self.client("events").put_rule(
            Name=logical,
            EventBusName=bus,
            EventPattern=json.dumps(pattern) if isinstance(pattern, dict) else pattern,
        )
        self.client("events").put_targets(
            Rule=logical, EventBusName=bus, Targets=[{"Id": target["Id"], "Arn": target["Arn"]}]
        )

    def _rule_dlq(self, name: str, config: dict[str, Any] | None) -> str | None:
        """The dead-letter queue of a rule's target: the queue ``Arn`` names, or the one SAM creates for
        ``Type: SQS`` (created here under the name SAM's logical id would have)."""
        if not config:
            return None
        if config.get("Arn"):
            return self._queue_url_by_arn(str(config["Arn"]))
        if config.get("Type") == "SQS":
            url: str = self.client("sqs").create_queue(QueueName=f"{name}Queue"[:80])["QueueUrl"]
            return url
        return None

    def _rule(
        self,
        name: str,
        bus: str,
        pattern: Any,
        deliver: Callable[[dict[str, Any]], None],
        dlq: str | None = None,
    ) -> None:
        import json

        events, sqs = self.client("events"), self.client("sqs")
        bus_name = bus.rsplit("/", 1)[-1]
        shadow = sqs.create_queue(QueueName=f"local-rule-{name}"[:80])["QueueUrl"]
        shadow_arn = sqs.get_queue_attributes(QueueUrl=shadow, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name=name[:64],
            EventBusName=bus_name,
            EventPattern=json.dumps(pattern) if not isinstance(pattern, str) else pattern,
        )
        events.put_targets(
            Rule=name[:64], EventBusName=bus_name, Targets=[{"Id": "local", "Arn": shadow_arn}]
        )
        self.rules.append(RuleTarget(name, bus_name, shadow, deliver, dlq_url=dlq))

    def _wire_websocket(self, stage: str) -> None:
        assert self.stack is not None
        stack = self.stack
        for api_logical, res in self.template.of_type("AWS::ApiGatewayV2::Api").items():
            props = res.get("Properties", {})
            if props.get("ProtocolType") != "WEBSOCKET":
                continue
            integrations: dict[str, LocalFunction] = {}
            for logical, integ in self.template.of_type("AWS::ApiGatewayV2::Integration").items():
                uri = str(stack.resolve(integ["Properties"].get("IntegrationUri", "")))
                for fn in self.functions.values():
                    if fn.arn in uri:
                        integrations[logical] = fn
            routes: dict[str, LocalFunction] = {}
            for route in self.template.of_type("AWS::ApiGatewayV2::Route").values():
                rprops = route["Properties"]
                target = rprops.get("Target")
                text = str(target)
                for integ_logical, fn in integrations.items():
                    if integ_logical in text:
                        routes[rprops["RouteKey"]] = fn
            selection = props.get("RouteSelectionExpression", "$request.body.action")
            self.ws = WebSocketApi(routes, selection, stage, self.activity)
            self._ws_api_id = str(stack.refs[api_logical])
            return

    def _apply_function_env(self) -> None:
        merged: dict[str, str] = {}
        for fn in self.functions.values():
            for k, v in fn.environment.items():
                if k in merged and merged[k] != v:
                    log.warning("env %s differs between functions; the first value is used locally", k)
                    continue
                merged[k] = v
        if self.rest is not None:
            port = self.rest.start()
            self.api_url = f"http://127.0.0.1:{port}"
        if self.ws is not None:
            ws_port, mgmt_port = self.ws.start()
            self.ws_url = f"ws://127.0.0.1:{ws_port}"
            local_callback = f"http://127.0.0.1:{mgmt_port}/{self.ws.stage}"
            for k, v in list(merged.items()):
                if v.startswith(f"https://{self._ws_api_id}.execute-api."):
                    merged[k] = local_callback
        merged["POWERTOOLS_LOG_LEVEL"] = self.log_level
        merged["CHORUS_API_URL"] = self.api_url
        merged["CHORUS_EMBEDDED"] = "true"  # the guarded fetcher accepts http and loopback here only
        pool = merged.get("CHORUS_COGNITO_USER_POOL_ID")
        if pool:  # tokens name the AWS issuer; their keys come from moto's own JWKS endpoint
            cognito = self.endpoints.get("cognito-idp", self.endpoint)
            merged["CHORUS_COGNITO_JWKS_URL"] = f"{cognito}/{pool}/.well-known/jwks.json"
        merged.update(self.extra_env)
        self._set_env(merged)
        if self.rest is not None:
            self._start_web(merged)

    def _start_web(self, env: dict[str, str]) -> None:
        """The built web app on 127.0.0.1 with its runtime config (as CloudFront serves it in AWS)."""
        assert self.rest is not None
        pool, client = env.get("CHORUS_COGNITO_USER_POOL_ID", ""), env.get("CHORUS_COGNITO_CLIENT_ID", "")
        config = web_config(self.ws_url, self.region, pool, client)
        cognito = self.endpoints.get("cognito-idp", self.endpoint)
        self.web = WebApp(self.template.root / "web" / "dist", self.rest.handle, config, cognito)
        self.web_url = f"http://127.0.0.1:{self.web.start()}"

    # ------------------------------------------------------------------ driving
    def _loop(self, name: str, body: Callable[[], int], idle_sleep: float) -> None:
        def run() -> None:
            while not self._stop.is_set():
                try:
                    if body() == 0 and idle_sleep:
                        self._stop.wait(idle_sleep)
                except Exception:
                    if self._stop.is_set():
                        return
                    log.exception("runtime loop %s failed", name)
                    self._stop.wait(0.5)

        t = threading.Thread(target=run, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _start_threads(self) -> None:
        sqs, streams = self.client("sqs"), self.client("dynamodbstreams")
        for m in self.sqs_mappings:
            if not m.enabled:
                continue
            poller = SqsPoller(m, sqs, self.region, self.activity)
            self._pollers.append(poller)
            t = threading.Thread(
                target=poller.run, args=(self._stop,), name=f"sqs-{m.function.logical_id}", daemon=True
            )
            t.start()
            self._threads.append(t)
        for s in self.stream_mappings:
            # Lambda reads each shard about four times a second
            self._loop(
                f"stream-{s.function.logical_id}",
                partial(s.poll_once, streams, self.region, self.activity),
                STREAM_POLL_S,
            )
        for r in self.rules:
            self._loop(f"rule-{r.rule}", partial(r.poll_once, sqs, self.activity, SqsPoller.LONG_POLL_S), 0)
        if self.clock == "wall" and self.schedules:
            self._loop("schedules", self._tick_due, 0.2)

    def _tick_due(self) -> int:
        now = datetime.now(UTC)
        fired = 0
        for source in self.schedules.values():
            if source.due(now):
                source.advance(now)
                threading.Thread(target=self._fire, args=(source, now), daemon=True).start()
                fired += 1
        return fired

    def _fire(self, source: ScheduleSource, at: datetime) -> Any:
        with self.activity:
            source.fired += 1
            try:
                return source.function.invoke(source.event(at))
            except Exception:
                log.exception("scheduled function %s failed", source.name)
                return None

    def tick(self, name: str) -> Any:
        """Fire a schedule now (``Function.Event`` or the function's logical id if it has one schedule)."""
        matches = [s for key, s in self.schedules.items() if key == name or key.split(".")[0] == name]
        if len(matches) != 1:
            raise KeyError(f"no single schedule named {name!r}; have {sorted(self.schedules)}")
        source = matches[0]
        with self.activity:
            source.fired += 1
            return source.function.invoke(source.event(datetime.now(UTC)))

    def invoke(self, function: str, event: Any) -> Any:
        return self.functions[function].invoke(event)

    def queue_depth(self, url: str) -> int:
        attrs = self.client("sqs").get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(v) for v in attrs.values())

    def wait_idle(self, timeout: float = 30.0, quiet: float = 0.3) -> bool:
        """Wait until no message is queued or in flight, every stream was read to its end since the call
        and since the last function ran (a record not yet read is work queued too, however late its
        reader), and no function has run for ``quiet`` seconds."""
        urls = [m.queue_url for m in self.sqs_mappings if m.enabled] + [
            r.shadow_queue_url for r in self.rules
        ]
        called = time.monotonic()
        deadline = called + timeout
        while time.monotonic() < deadline:
            if (
                self.activity.busy == 0
                and time.monotonic() - self.activity.last_change >= quiet
                and all(
                    s.caught_up_at >= max(called, self.activity.last_change) for s in self.stream_mappings
                )
                and all(self.queue_depth(u) == 0 for u in urls)
            ):
                return True
            time.sleep(0.05)
        return False

    def queue_url(self, logical: str) -> str:
        assert self.stack is not None
        return str(self.stack.refs[logical])
