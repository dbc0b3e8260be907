"""Shipping Chorus (issue 15): the locked install, the layer built from the lock, the checks on the
built artefacts, an upgrade that keeps the state, the alarms, and `make deploy`'s logic before AWS."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from chorus.local.template import load_yaml
from tests.support import REPO


def load(path: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


requirements = load("infra/deploy/requirements.py", "requirements")
layer = load("infra/deploy/layer.py", "layer")
check_build = load("infra/deploy/check_build.py", "check_build")
deploy = load("infra/deploy/deploy.py", "deploy")
check_template = load("infra/lint/check_template.py", "check_template")

LOCK = (REPO / "requirements.lock").read_text()
PYPROJECT = (REPO / "pyproject.toml").read_text()
TEMPLATE = load_yaml(REPO / "template.yaml")


def lock_pins() -> dict[str, str]:
    return {p.name: p.version for p in requirements.read_lock(LOCK)}


class TestLock:
    def test_the_layer_requirements_are_pins_of_the_lock(self) -> None:
        # Given the lock make install uses
        pins = lock_pins()
        # When the layer's requirements are derived (what make package stages for sam build)
        shipped = requirements.layer_pins(LOCK, PYPROJECT)
        # Then each is a pin of the lock, at the locked version
        assert shipped
        for pin in shipped:
            assert pins.get(pin.name) == pin.version, pin.line()

    def test_every_runtime_dependency_is_shipped_but_chalice_cli_and_tools_are_not(self) -> None:
        names = {p.name for p in requirements.layer_pins(LOCK, PYPROJECT)}
        runtime = requirements.runtime_names(PYPROJECT)
        assert runtime - requirements.VENDORED <= names
        for not_for_lambda in (
            "chalice",
            "pip",
            "setuptools",
            "wheel",
            "click",
            "inquirer",
            "moto",
            "pytest",
        ):
            assert not_for_lambda not in names

    def test_every_requirement_of_pyproject_is_locked_at_a_version_it_allows(self) -> None:
        # Given pyproject.toml's runtime and dev requirements (a new one needs `make lock`)
        project = tomllib.loads(PYPROJECT)["project"]
        wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
        pins = lock_pins()
        # Then the lock pins each at a version its range allows
        for req in wanted:
            name = canonicalize_name(req.name)
            assert name in pins, f"{req.name} is not in requirements.lock: run make lock"
            assert req.specifier.contains(pins[name], prereleases=True), f"{req} vs {pins[name]}"

    def test_the_closure_follows_via_annotations_markers_and_leaves_vendored_dependencies_out(self) -> None:
        # Given a lock where chalice needs click and botocore, boto3 needs botocore, and a Windows-only pin
        lock = """
boto3==1.0
    # via chorus (pyproject.toml)
botocore==2.0
    # via
    #   boto3
    #   chalice
chalice==3.0
    # via chorus (pyproject.toml)
click==4.0
    # via chalice
colorama==0.4 ; sys_platform == 'win32'
    # via boto3
pytest==8.0
    # via chorus (pyproject.toml)
"""
        pyproject = '[project]\ndependencies = ["boto3>=1", "chalice>=1"]\n'
        # When the layer's pins are derived for Lambda
        lines = [p.line() for p in requirements.layer_pins(lock, pyproject)]
        # Then boto3's closure ships; chalice's own dependencies, Windows' and dev's do not
        assert lines == ["boto3==1.0", "botocore==2.0"]

    def test_a_runtime_dependency_missing_from_the_lock_is_refused(self) -> None:
        with pytest.raises(ValueError, match="regex"):
            requirements.layer_pins("boto3==1.0\n    # via chorus (pyproject.toml)\n", PYPROJECT)

    def test_make_install_uses_the_lock_and_reinstalls_when_it_changes(self) -> None:
        makefile = (REPO / "Makefile").read_text()
        assert "STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum" in makefile
        assert "$(STAMP): pyproject.toml $(LOCK)" in makefile
        assert "pip install -q -r $(LOCK)" in makefile


class TestLayerSource:
    def test_the_staged_package_leaves_out_the_embedded_runtime_and_caches(self, tmp_path: Path) -> None:
        # Given a package with an embedded runtime, a cache and package data
        package = tmp_path / "chorus"
        for rel in (
            "__init__.py",
            "posts/queue.py",
            "local/runtime.py",
            "posts/__pycache__/q.pyc",
            "data/m.json",
        ):
            (package / rel).parent.mkdir(parents=True, exist_ok=True)
            (package / rel).write_text("x")
        # When the layer's files are listed
        files = {p.as_posix() for p in layer.shipped_files(package)}
        # Then chorus/local and the cache stay out, the package data goes in
        assert files == {"chorus/__init__.py", "chorus/posts/queue.py", "chorus/data/m.json"}


def fake_layer(root: Path, pins: dict[str, str]) -> Path:
    python = root / "ChorusLayer" / "python"
    for name, version in pins.items():
        info = python / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (python / "chorus").mkdir(parents=True)
    (python / "chorus" / "__init__.py").write_text("import boto3\n")
    (python / "chalice").mkdir()
    (python / "chalice" / "app.py").write_text("import json\n")
    (python / "requirements.txt").write_text("".join(f"{n}=={v}\n" for n, v in pins.items()))
    return python


class TestBuiltLayer:
    def test_a_layer_with_exactly_its_requirements_has_no_findings(self, tmp_path: Path) -> None:
        python = fake_layer(tmp_path, {"boto3": "1.0"})
        pins = requirements.read_lock((python / "requirements.txt").read_text())
        assert check_build.content_findings(python, pins) == []

    def test_the_embedded_runtime_pip_chalice_cli_and_foreign_modules_are_findings(
        self, tmp_path: Path
    ) -> None:
        # Given a layer that ships chorus/local, pip, chalice's CLI and an x86-64 extension module
        python = fake_layer(tmp_path, {"boto3": "1.0"})
        pins = requirements.read_lock((python / "requirements.txt").read_text())
        (python / "chorus" / "local").mkdir()
        (python / "pip").mkdir()
        (python / "pip-24.0.dist-info").mkdir()
        (python / "pip-24.0.dist-info" / "METADATA").write_text("Name: pip\nVersion: 24.0\n")
        (python / "chalice" / "cli").mkdir()
        (python / "chalice" / "cli" / "__init__.py").write_text("import click\n")
        elf = bytearray(20)
        elf[:4] = b"\x7fELF"
        elf[18:20] = (62).to_bytes(2, "little")  # EM_X86_64
        (python / "_native.cpython-312-x86_64-linux-gnu.so").write_bytes(bytes(elf))
        # When its contents are checked
        findings = "\n".join(check_build.content_findings(python, pins))
        # Then each is named
        assert "ships chorus/local" in findings
        assert "ships pip 24.0, which its requirements do not name" in findings
        assert "ships pip (not for Lambda)" in findings
        assert "chalice beyond its runtime module: chalice/cli/__init__.py" in findings
        assert "_native.cpython-312-x86_64-linux-gnu.so is not an arm64 module" in findings

    def test_a_pinned_version_the_layer_does_not_ship_is_a_finding(self, tmp_path: Path) -> None:
        python = fake_layer(tmp_path, {"boto3": "1.0"})
        pins = requirements.read_lock("boto3==2.0\n")
        assert check_build.content_findings(python, pins) == ["layer: boto3==2.0 is required, shipped: 1.0"]

    def test_an_import_the_layer_cannot_satisfy_is_a_finding_but_type_checking_imports_are_not(
        self, tmp_path: Path
    ) -> None:
        # Given shipped code importing yaml at run time and mypy_boto3 for types only
        python = fake_layer(tmp_path, {"boto3": "1.0"})
        (python / "boto3").mkdir()
        function = tmp_path / "PublisherFunction"
        function.mkdir()
        (function / "app.py").write_text(
            "from typing import TYPE_CHECKING\nimport json\nimport boto3\nfrom chorus import x\n"
            "if TYPE_CHECKING:\n    import mypy_boto3_sqs\n"
            "def f():\n    import yaml\n"
        )
        # When the imports are checked against the layer
        findings = check_build.import_findings(python, [function], {"json", "typing"})
        # Then only the run-time import the layer lacks is named
        assert len(findings) == 1
        assert findings[0].endswith("imports yaml, which the layer does not ship")


class TestUpgradeKeepsState:
    def test_every_stateful_resource_of_the_template_is_retained_on_delete_and_replace(self) -> None:
        stateful = {
            name: res for name, res in TEMPLATE["Resources"].items() if res["Type"] in check_template.STATEFUL
        }
        assert {"MainTable", "MetricsTable", "TokenKey", "MediaBucket", "PublishQueue", "IngestQueue"} <= set(
            stateful
        )
        for name, res in stateful.items():
            assert res.get("DeletionPolicy") == "Retain", name
            assert res.get("UpdateReplacePolicy") == "Retain", name

    def test_the_template_check_names_a_queue_that_an_upgrade_would_lose(self) -> None:
        # Given a template whose queue is not retained and whose DLQ has no alarm
        raw: dict[str, Any] = {
            "Resources": {
                "Work": {
                    "Type": "AWS::SQS::Queue",
                    "DeletionPolicy": "Retain",
                    "UpdateReplacePolicy": "Retain",
                    "Properties": {
                        "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["WorkDLQ", "Arn"]}}
                    },
                },
                "WorkDLQ": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain"},
            }
        }
        # When it is checked
        problems = check_template.shipping_problems(raw)
        # Then both are named
        assert problems == [
            "WorkDLQ: AWS::SQS::Queue holds state: UpdateReplacePolicy must be Retain",
            "WorkDLQ: a dead-letter queue with no depth alarm to AlertsTopic",
        ]

    def test_the_template_has_no_shipping_findings(self) -> None:
        assert check_template.shipping_problems(TEMPLATE) == []


def alarms() -> dict[str, dict[str, Any]]:
    return {
        name: res["Properties"]
        for name, res in TEMPLATE["Resources"].items()
        if res["Type"] == "AWS::CloudWatch::Alarm"
    }


def watched(props: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(namespace, metric, the resource its dimension names) of an alarm, metric math included."""
    stats = [(props.get("Namespace"), props.get("MetricName"), props.get("Dimensions", []))]
    stats += [
        (m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"],
         m["MetricStat"]["Metric"].get("Dimensions", []))
        for m in props.get("Metrics", []) if "MetricStat" in m
    ]  # fmt: skip
    found = []
    for namespace, metric, dims in stats:
        for dim in dims:
            value = dim["Value"]
            ref = value.get("Ref") or value.get("Fn::GetAtt", [None])[0] if isinstance(value, dict) else value
            found.append((str(namespace), str(metric), str(ref)))
    return found


class TestAlarms:
    def test_every_alarm_goes_to_the_alerts_topic(self) -> None:
        for name, props in alarms().items():
            assert props["AlarmActions"] == [{"Ref": "AlertsTopic"}], name

    @pytest.mark.parametrize(
        ("namespace", "metric", "resource"),
        [
            ("AWS/Lambda", "Errors", "PublisherFunction"),
            ("AWS/Lambda", "Errors", "WebhookFunction"),
            ("Chorus", "WebhookServerError", "chorus"),
            ("AWS/SQS", "ApproximateAgeOfOldestMessage", "PublishQueue"),
            ("AWS/SQS", "ApproximateAgeOfOldestMessage", "IngestQueue"),
        ],
    )
    def test_the_named_signals_are_alarmed(self, namespace: str, metric: str, resource: str) -> None:
        signals = {s for props in alarms().values() for s in watched(props)}
        assert (namespace, metric, resource) in signals

    def test_every_dead_letter_queue_alarms_when_not_empty(self) -> None:
        dlqs = check_template.dead_letter_queues(TEMPLATE)
        assert {"PublishDLQ", "IngestDLQ", "ReplyDLQ", "InboxStreamDLQ", "ListeningInboxDLQ"} <= dlqs
        signals = {s for props in alarms().values() for s in watched(props)}
        for queue in dlqs:
            assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue) in signals

    def test_every_function_is_watched_for_throttles(self) -> None:
        functions = {n for n, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
        throttled = {r for props in alarms().values() for _, m, r in watched(props) if m == "Throttles"}
        assert throttled == functions


class TestDeploy:
    def test_the_first_deploy_is_guided_and_later_ones_read_samconfig(self, tmp_path: Path) -> None:
        config, template = tmp_path / "samconfig.toml", tmp_path / "template.yaml"
        assert deploy.deploy_command("sam", template, config)[-1] == "--guided"
        config.write_text('[default.deploy.parameters]\nstack_name = "chorus"\nregion = "eu-west-1"\n')
        assert "--guided" not in deploy.deploy_command("sam", template, config)
        assert deploy.saved_stack(config) == ("chorus", "eu-west-1")

    def test_the_report_gives_the_urls_and_the_first_owner_steps(self) -> None:
        text = deploy.report(
            {
                "ApiUrl": "https://a.example/prod",
                "WebSocketUrl": "wss://w.example/prod",
                "MainTableName": "T1",
                "UserPoolId": "eu-west-1_P1",
                "UserPoolClientId": "c1",
            },
            "eu-west-1",
        )
        assert "HTTP API   https://a.example/prod" in text
        assert "WebSocket  wss://w.example/prod" in text
        assert "CHORUS_TABLE=T1 AWS_REGION=eu-west-1 .venv/bin/chorus workspace create" in text
        people = "CHORUS_COGNITO_USER_POOL_ID=eu-west-1_P1 CHORUS_COGNITO_CLIENT_ID=c1 .venv/bin/chorus user create"
        assert people in text
        assert "https://a.example/prod/me" in text
        assert "https://a.example/prod/workspace" in text

    def test_the_template_outputs_what_the_report_reads(self) -> None:
        assert {"ApiUrl", "WebSocketUrl", "MainTableName", "UserPoolId", "UserPoolClientId"} <= set(
            TEMPLATE["Outputs"]
        )

    def test_a_dry_run_calls_no_aws_and_a_missing_build_is_refused(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        built = tmp_path / "template.yaml"
        assert (
            deploy.main(["--template", str(built), "--config", str(tmp_path / "none.toml"), "--dry-run"]) == 1
        )
        built.write_text("Resources: {}\n")
        assert deploy.main(["--sam", "/x/sam", "--template", str(built), "--dry-run"]) == 0
        assert "would run: /x/sam deploy --template-file" in capsys.readouterr().out


class TestHandlerImports:
    def test_a_handler_needing_a_module_outside_the_build_is_a_finding(self, tmp_path: Path) -> None:
        # Given a build of two functions: one imports from the layer, one needs yaml (only in .venv here)
        build = tmp_path / "build"
        python = fake_layer(build, {})
        (python / "chorus" / "__init__.py").write_text("NAME = 'chorus'\n")
        for name, code in (
            ("Good", "from chorus import NAME\nhandler = print\n"),
            ("Bad", "import yaml\nhandler = print\n"),
        ):
            (build / name).mkdir()
            (build / name / "app.py").write_text(code)
        (build / "template.yaml").write_text(
            "Resources:\n"
            + "".join(
                f"  {n}Function:\n    Type: AWS::Serverless::Function\n    Properties: {{CodeUri: {n}, Handler: app.handler}}\n"
                for n in ("Good", "Bad")
            )
        )
        # When the handlers are imported as Lambda would (no site-packages, no PYTHONPATH)
        findings = check_build.handler_findings(build, python, sys.executable)
        # Then only the one reaching outside the build is named
        assert len(findings) == 1
        assert findings[0].startswith("BadFunction: handler app.handler does not import from the build alone")
        assert "yaml" in findings[0]
