"""The embedded runtime plays every event source of a template against the real moto server.

The template under ``minitemplate/`` declares its functions only there: that they run at all proves
the runtime reads its wiring from the template.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from chorus.local.runtime import LocalRuntime

TEMPLATE = Path(__file__).parent / "minitemplate" / "template.yaml"


@pytest.fixture(scope="module")
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(TEMPLATE, clock="manual") as runtime:
        yield runtime


def records(rt: LocalRuntime, kind: str) -> list[Any]:
    out = rt.client("dynamodb").query(
        TableName=rt.stack.refs["LogTable"],  # type: ignore[union-attr]
        KeyConditionExpression="pk = :k",
        ExpressionAttributeValues={":k": {"S": kind}},
    )
    return [json.loads(i["data"]["S"]) for i in out["Items"]]


def wait_for(predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met before the deadline")


def test_sqs_batches_respect_batch_size_and_window(rt: LocalRuntime) -> None:
    # Given 12 messages sent at once to a queue whose mapping has BatchSize 5 and a 1 s window
    sqs = rt.client("sqs")
    url = rt.queue_url("WorkQueue")
    for start in range(0, 12, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": f"ok-{i}"} for i in range(start, min(start + 10, 12))],
        )
    # When the runtime drains the queue
    assert rt.wait_idle(20)
    # Then every message was delivered once, in batches of at most 5
    batches = [b for b in records(rt, "batch") if b["bodies"][0].startswith("ok-")]
    bodies = sorted(b for batch in batches for b in batch["bodies"])
    assert bodies == sorted(f"ok-{i}" for i in range(12))
    assert max(b["size"] for b in batches) <= 5
    assert max(b["size"] for b in batches) > 1  # the window gathered messages into a batch


def test_partial_batch_failure_returns_only_failed_records_and_redrives_to_dlq(rt: LocalRuntime) -> None:
    # Given a batch where one message fails and the others succeed
    sqs = rt.client("sqs")
    url = rt.queue_url("WorkQueue")
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "a", "MessageBody": "good-a"}, {"Id": "b", "MessageBody": "fail-b"}],
    )
    # When the queue's visibility timeout (2 s) lets the failed message come back until maxReceiveCount (2)
    dlq = rt.queue_url("WorkDLQ")

    def in_dlq() -> list[dict[str, Any]]:
        return rt.client("sqs").receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])

    dead = wait_for(in_dlq, timeout=20)
    # Then only the failed record was retried and it ended in the DLQ; the good one was received once
    received = records(rt, "receive")
    assert [r["count"] for r in received if r["body"] == "good-a"] == ["1"]
    assert sorted(r["count"] for r in received if r["body"] == "fail-b") == ["1", "2"]
    assert [m["Body"] for m in dead] == ["fail-b"]


def test_visibility_timeout_hides_a_crashed_batch_until_it_expires(rt: LocalRuntime) -> None:
    # Given a message whose handler crashes (the whole batch fails)
    sqs = rt.client("sqs")
    sent = time.monotonic()
    sqs.send_message(QueueUrl=rt.queue_url("WorkQueue"), MessageBody="crash")

    # When it is received again
    def crash_batches() -> list[Any]:
        return [b for b in records(rt, "batch") if b["bodies"] == ["crash"]]

    wait_for(lambda: len(crash_batches()) >= 2, timeout=20)
    # Then the second receive came no sooner than the 2 s visibility timeout
    assert time.monotonic() - sent >= 2.0


def test_schedule_tick_invokes_the_function_with_its_input(rt: LocalRuntime) -> None:
    # Given the Ticker's rate(1 minute) schedule, in manual clock mode
    before = len(records(rt, "tick"))
    # When a test ticks it
    rt.tick("Ticker")
    # Then the function ran with the template's Input
    ticks = records(rt, "tick")
    assert len(ticks) == before + 1
    assert ticks[-1] == {"kind": "tick"}


def test_eventbridge_rule_delivers_only_matching_events(rt: LocalRuntime) -> None:
    # Given a rule on the custom bus matching source mini.app, Ping, detail.level >= 3
    events = rt.client("events")
    entries = [
        {"Source": "mini.app", "DetailType": "Ping", "Detail": json.dumps({"level": 5, "n": 1})},
        {"Source": "mini.app", "DetailType": "Ping", "Detail": json.dumps({"level": 1, "n": 2})},
        {"Source": "other.app", "DetailType": "Ping", "Detail": json.dumps({"level": 9, "n": 3})},
    ]
    # When three events are put on the bus
    events.put_events(Entries=[{**e, "EventBusName": "mini-bus"} for e in entries])
    # Then only the matching one reaches the function, as an EventBridge event
    pings = wait_for(lambda: records(rt, "Ping"))
    assert rt.wait_idle(10)
    pings = records(rt, "Ping")
    assert [p["detail"]["n"] for p in pings] == [1]
    assert pings[0]["source"] == "mini.app"


def test_dynamodb_stream_delivers_changes(rt: LocalRuntime) -> None:
    # Given a table with a stream consumed by StreamReader
    ddb = rt.client("dynamodb")
    # When an item is written and then deleted
    ddb.put_item(TableName=rt.stack.refs["SourceTable"], Item={"pk": {"S": "item-1"}})  # type: ignore[union-attr]
    ddb.delete_item(TableName=rt.stack.refs["SourceTable"], Key={"pk": {"S": "item-1"}})  # type: ignore[union-attr]
    # Then the consumer sees both changes in order
    changes = wait_for(
        lambda: [c["name"] for c in records(rt, "stream")] if len(records(rt, "stream")) >= 2 else None
    )
    assert changes[:2] == ["INSERT", "REMOVE"]


def test_wait_idle_waits_for_a_stream_record_its_reader_has_not_read_yet(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chorus.local import sources

    # Given a stream reader that lags: each of its reads of the shard comes a second late
    read = sources.get_records

    def late(*args: Any) -> dict[str, Any]:
        time.sleep(1.0)
        return read(*args)

    monkeypatch.setattr(sources, "get_records", late)
    assert rt.wait_idle(20)
    before = len(records(rt, "stream"))
    # When an item is written and the runtime is then waited on until idle
    ddb = rt.client("dynamodb")
    ddb.put_item(TableName=rt.stack.refs["SourceTable"], Item={"pk": {"S": "item-late"}})  # type: ignore[union-attr]
    assert rt.wait_idle(20)
    # Then the unread record counted as work: the consumer had seen it when wait_idle returned
    assert [c["keys"] for c in records(rt, "stream")[before:]] == [{"pk": {"S": "item-late"}}]


def test_http_api_routes_by_template_path_and_method(rt: LocalRuntime) -> None:
    # When requests reach the API's routes
    greet = requests.get(f"{rt.api_url}/hello/ada?shout=1", timeout=5)
    echo = requests.post(f"{rt.api_url}/echo", data=b'{"x": 1}', timeout=5)
    missing = requests.get(f"{rt.api_url}/nothing", timeout=5)
    wrong_method = requests.delete(f"{rt.api_url}/echo", timeout=5)
    # Then path parameters, query strings, bodies and status codes flow through the proxy event
    assert greet.status_code == 200
    assert greet.json() == {"text": "hello ada!"}
    assert echo.status_code == 201
    assert echo.json() == {"x": 1}
    assert missing.status_code == 404
    assert wrong_method.status_code == 405


def test_websocket_round_trip_through_post_to_connection(rt: LocalRuntime) -> None:
    # Given a client that connects with a token the $connect route accepts
    with connect(f"{rt.ws_url}/?token=ok", open_timeout=5) as ws:
        # When it sends a message routed to $default
        ws.send("hi")
        # Then the handler's post_to_connection reaches this client
        assert ws.recv(timeout=5) == "echo:hi"
    # And $disconnect ran when the client left
    wait_for(lambda: records(rt, "disconnect"))


def test_websocket_connect_can_be_refused(rt: LocalRuntime) -> None:
    # When $connect answers 401, the handshake is refused with that status
    with pytest.raises(InvalidStatus) as refused, connect(f"{rt.ws_url}/?token=bad", open_timeout=5):
        pass
    assert refused.value.response.status_code == 401


def test_post_to_an_unknown_connection_is_gone(rt: LocalRuntime) -> None:
    import boto3

    client = boto3.client("apigatewaymanagementapi", endpoint_url=__import__("os").environ["WS_CALLBACK"])
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="nobody", Data=b"x")


def test_a_cancelled_transaction_loses_no_concurrent_write_and_leaves_nothing_behind(
    rt: LocalRuntime,
) -> None:
    import threading

    ddb = rt.client("dynamodb")
    table = rt.stack.refs["LogTable"]  # type: ignore[union-attr]

    def writes() -> None:
        for i in range(150):
            ddb.put_item(
                TableName=table, Item={"pk": {"S": "race"}, "sk": {"S": f"{i:04d}"}, "data": {"S": "{}"}}
            )

    def cancelled() -> None:
        for i in range(40):
            with pytest.raises(ddb.exceptions.TransactionCanceledException):
                ddb.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": table, "Item": {"pk": {"S": "txn"}, "sk": {"S": f"{i}"}, "data": {"S": "{}"}}}},
                        {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "absent"}, "sk": {"S": "x"}},
                                            "ConditionExpression": "attribute_exists(pk)"}},
                    ]
                )  # fmt: skip

    # Given writes racing transactions that are cancelled by a failed condition
    threads = [threading.Thread(target=writes), threading.Thread(target=cancelled)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then every write is there and nothing of the cancelled transactions is
    def count(pk: str) -> int:
        out = ddb.query(
            TableName=table, KeyConditionExpression="pk = :k", ExpressionAttributeValues={":k": {"S": pk}}
        )
        return int(out["Count"])

    assert count("race") == 150
    assert count("txn") == 0


def test_an_event_its_target_keeps_refusing_ends_in_the_rules_dead_letter_queue(rt: LocalRuntime) -> None:
    # Given a rule whose target fails every time, with DeadLetterConfig Type SQS (SAM's own queue)
    rule = next(r for r in rt.rules if r.rule == "RefuserRefusals")
    assert rule.dlq_url is not None
    # When an event matches it
    detail = {"order": 7}
    rt.client("events").put_events(
        Entries=[
            {
                "Source": "mini.app",
                "DetailType": "Refuse",
                "Detail": json.dumps(detail),
                "EventBusName": "mini-bus",
            }
        ]
    )
    # Then the target was tried three times (an asynchronous invocation) and the event is in the DLQ
    sqs = rt.client("sqs")
    got = wait_for(lambda: sqs.receive_message(QueueUrl=rule.dlq_url, WaitTimeSeconds=1).get("Messages"))
    assert json.loads(got[0]["Body"])["detail"] == detail
    assert len(records(rt, "refused")) == 3


def test_moto_servers_started_at_once_each_listen_on_a_port_of_their_own() -> None:
    import boto3

    from chorus.local.runtime import MotoProcess

    servers = [MotoProcess().launch() for _ in range(3)]  # as three runtimes starting together
    try:
        for server in servers:
            server.wait_ready()
        assert len({s.port for s in servers}) == 3
        for i, server in enumerate(servers):
            sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=server.url,
                               aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip
            sqs.create_queue(QueueName=f"q{i}")
            assert [u.rsplit("/", 1)[-1] for u in sqs.list_queues().get("QueueUrls", [])] == [f"q{i}"]
    finally:
        for server in servers:
            server.stop()
