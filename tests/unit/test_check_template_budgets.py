"""No call outlives its function: the template check (infra/lint/check_template.py, run by `make lint`)
finds a function whose Timeout is shorter than its wait before a platform call, plus the longest
``request_budget_s`` of the adapters it runs, plus a margin; and a publishing adapter with no budget."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import pytest

from chorus.local.template import Template
from tests.support import REPO


def load_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_template", REPO / "infra/lint/check_template.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_template"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


check = load_check()

TEMPLATE = """
Globals:
  Function:
    Timeout: {default}
Resources:
  PublisherFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/publisher/
      Handler: app.handler
      Timeout: {publisher}
  CollectorFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/collector
      Handler: app.handler
"""


class Quick:
    request_budget_s = 4.0


class Slow:
    request_budget_s = 26.1


class Unbudgeted:
    pass


def template(tmp_path: Path, publisher: float, default: float = 30) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.format(publisher=publisher, default=default))
    return Template.load(path)


def registry_of(**kinds: Mapping[str, type]) -> object:
    return lambda kind: kinds.get(kind, {})


RUNS = {
    "functions/publisher/": check.Runs(("publisher",), waits_s=5.0),
    "functions/collector/": check.Runs(("collector",)),
}


def test_a_timeout_shorter_than_wait_plus_longest_budget_plus_margin_is_a_finding(tmp_path: Path) -> None:
    # Given a publisher that waits up to 5 s, then calls adapters of which the slowest may take 26.1 s
    adapters = registry_of(publisher={"quick": Quick, "slow": Slow})
    # When its Timeout is 30 s (it needs 5 + 26.1 + the margin)
    found = check.budget_problems(template(tmp_path, publisher=30), RUNS, adapters)
    # Then the check names the function, the adapter and what it needs
    needed = 5.0 + 26.1 + check.MARGIN_S
    assert found == [
        f"PublisherFunction: Timeout 30 s < {needed:g} s: a call of the slow publisher adapter may take "
        f"26.1 s (request_budget_s), after up to 5 s of waiting, plus a {check.MARGIN_S:g} s margin "
        "(no call outlives its function)"
    ]


@pytest.mark.parametrize("timeout", [5.0 + 26.1 + check.MARGIN_S, 60])
def test_a_timeout_that_holds_the_longest_call_passes(tmp_path: Path, timeout: float) -> None:
    adapters = registry_of(publisher={"quick": Quick, "slow": Slow})
    assert check.budget_problems(template(tmp_path, publisher=timeout), RUNS, adapters) == []


def test_a_function_without_its_own_timeout_is_held_to_the_global_one(tmp_path: Path) -> None:
    # Given a collector with no Timeout of its own, under a 3 s global one, and a 4 s collector
    adapters = registry_of(collector={"quick": Quick})
    found = check.budget_problems(template(tmp_path, publisher=60, default=3), RUNS, adapters)
    assert len(found) == 1
    assert found[0].startswith("CollectorFunction: Timeout 3 s < 7 s: a call of the quick collector")


def test_a_publishing_adapter_without_a_budget_is_a_finding_a_collector_is_not(tmp_path: Path) -> None:
    adapters = registry_of(publisher={"quick": Quick, "new": Unbudgeted}, collector={"old": Unbudgeted})
    found = check.budget_problems(template(tmp_path, publisher=60), RUNS, adapters)
    assert found == [
        "PublisherFunction: the new publisher adapter (Unbudgeted) declares no request_budget_s: "
        "the timeouts its requests may take in one call"
    ]


def test_a_listed_function_that_no_longer_exists_is_a_finding(tmp_path: Path) -> None:
    runs = {**RUNS, "functions/renamed/": check.Runs(("publisher",))}
    found = check.budget_problems(template(tmp_path, publisher=60), runs, registry_of())
    assert found == ["functions/renamed/: listed in ADAPTER_FUNCTIONS, but no function has this CodeUri"]


def test_the_project_template_holds_every_registered_adapters_longest_call() -> None:
    # The real template, the real registry: every publishing adapter declares a budget, and the
    # publisher, replier and collector functions outlast their adapters' longest calls
    assert check.budget_problems(Template.load(REPO / "template.yaml")) == []
    assert all(
        isinstance(getattr(cls, "request_budget_s", None), float)
        for cls in check.registered_adapters("publisher").values()
    )
