"""Handlers against the sample events in events/: the edge parses what AWS sends."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from chorus.posts.queue import PublishMessage, by_due
from tests.support import REPO, load_event


def load_handler(function: str) -> ModuleType:
    path = REPO / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"handler_{function}", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_publish_batch_is_handled_in_the_order_its_calls_are_due() -> None:
    event = load_event("sqs", "publish_batch")
    ordered = by_due(event["Records"])
    assert [PublishMessage.from_json(r["body"]).post_id for r in ordered] == ["p2", "p1"]


def test_an_unreadable_record_sorts_first_so_it_fails_fast() -> None:
    event = load_event("sqs", "publish_batch")
    broken = {**event["Records"][0], "body": "not json"}
    assert by_due([*event["Records"], broken])[0]["body"] == "not json"


def test_the_websocket_connect_without_a_key_is_refused_with_401() -> None:
    realtime = load_handler("realtime")

    class Context:
        function_name = "realtime"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:realtime"
        aws_request_id = "req"

    answer = realtime.handler(load_event("websocket", "connect_without_key"), Context())
    assert answer["statusCode"] == 401


def test_sample_events_are_valid_json_files() -> None:
    files = sorted((Path(REPO) / "events").rglob("*.json"))
    assert len(files) >= 4
    for f in files:
        assert load_event(f.parent.name, f.stem) is not None
