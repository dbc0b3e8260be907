"""The embedded runtime's quick reading of stream FilterCriteria refuses only records the pattern
language (moto's EventBridge matcher) refuses too, and decides the template's own filters alone."""

from __future__ import annotations

import itertools
import json
from typing import Any

from moto.events.models import EventPattern, EventPatternParser

from chorus.local.sources import may_match, necessary
from chorus.local.template import Template
from tests.support import REPO

PATTERNS = [
    {"dynamodb": {"NewImage": {"kind": {"S": ["target"]}, "state": {"S": ["published"]}}}},
    {"eventName": ["INSERT", "REMOVE"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "ACCOUNT#"}]}}}},
    {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 3]}]}}}},
    {"dynamodb": {"NewImage": {"kind": {"S": [{"anything-but": "target"}]}}}},
    {"dynamodb": {"NewImage": {"kind": {"S": [{"exists": False}]}}}},
    {"$or": [{"eventName": ["INSERT"]}, {"dynamodb": {"Keys": {"sk": {"S": ["x"]}}}}]},
    {"eventName": ["INSERT", {"prefix": "MOD"}], "dynamodb": {"NewImage": {"tags": {"SS": ["a"]}}}},
    {"eventName": ["INSERT", None]},
]


def records() -> list[dict[str, Any]]:
    out = []
    for name, kind, state, sk, n, tags in itertools.product(
        ["INSERT", "MODIFY", "REMOVE", None],
        ["target", "message", None],
        ["published", "queued", None],
        ["ACCOUNT#1", "MSG#1", "x"],
        ["2", "5"],
        [["a", "b"], None],
    ):
        image: dict[str, Any] = {"n": {"N": n}}
        if kind:
            image["kind"] = {"S": kind}
        if state:
            image["state"] = {"S": state}
        if tags:
            image["tags"] = {"SS": tags}
        record: dict[str, Any] = {"dynamodb": {"Keys": {"sk": {"S": sk}}, "NewImage": image}}
        if name:
            record["eventName"] = name
        out.append(record)
    return out


def test_a_record_refused_quickly_is_refused_by_the_pattern_language() -> None:
    refused = 0
    for pattern in PATTERNS:
        text = json.dumps(pattern)
        full = EventPattern(text, EventPatternParser(text).parse())
        checks = necessary(pattern)
        for record in records():
            if not may_match(record, checks):
                refused += 1
                assert not full.matches_event(record), (pattern, record)
    assert refused > 500  # it does refuse most of them


def test_the_templates_stream_filters_are_decided_by_the_quick_reading_alone() -> None:
    template = Template.load(REPO / "template.yaml")
    filters = [
        json.loads(f["Pattern"])
        for res in template.of_type("AWS::Serverless::Function").values()
        for ev in (res["Properties"].get("Events") or {}).values()
        if ev["Type"] == "DynamoDB"
        for f in (ev["Properties"].get("FilterCriteria") or {}).get("Filters", [])
    ]
    assert filters
    for pattern in filters:
        text = json.dumps(pattern)
        full = EventPattern(text, EventPatternParser(text).parse())
        checks = necessary(pattern)
        for record in records():
            assert may_match(record, checks) == full.matches_event(record), (pattern, record)
