"""Checks cfn-lint cannot make on a SAM template (it misses references inside Globals and policy
templates): every Ref, GetAtt and ${} in the template names a parameter, a resource or a pseudo
parameter; every function's CodeUri and handler module exist; every SQS consumer reports partial batch
failures and its queue has a redrive policy; every queue's visibility timeout is at least six times its
consumer's timeout; every table, queue, bucket and key is kept by an upgrade (Retain) and every
dead-letter queue alarms to the alerts topic; no platform call outlives its function: a function that runs platform adapters
has a Timeout of at least its wait before the call, plus the longest ``request_budget_s`` of those
adapters, plus ``MARGIN_S`` (see ``ADAPTER_FUNCTIONS``). Exits 1 with one line per finding."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

from chorus.local.template import Template, load_yaml
from chorus.platforms.registry import PLATFORMS, adapter_class
from chorus.posts.publisher import WAIT_FOR_DUE_MAX_S

PSEUDO = {
    "AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::Partition", "AWS::URLSuffix",
    "AWS::StackId", "AWS::NoValue", "AWS::NotificationARNs",
}  # fmt: skip
SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


def references(node: Any, path: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Ref" and isinstance(v, str):
                found.append((path, v))
            elif k == "Fn::GetAtt":
                name = v[0] if isinstance(v, list) else str(v).split(".")[0]
                found.append((path, name))
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) else v
                local = set(v[1]) if isinstance(v, list) and len(v) > 1 else set()
                found += [(path, m.split(".")[0]) for m in SUB_VAR.findall(text) if m not in local]
                if isinstance(v, list) and len(v) > 1:
                    found += references(v[1], path)
            else:
                found += references(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += references(v, f"{path}[{i}]")
    return found


@dataclass(frozen=True)
class Runs:
    """The adapters a function calls: kinds of the registry (``PlatformInfo.publisher`` /
    ``.collector``), and how long an invocation may wait before its call."""

    kinds: tuple[str, ...]
    waits_s: float = 0.0


# Which functions call platform adapters, by CodeUri. A function that starts calling adapters is
# added here (a CodeUri no function has is a finding, so a rename cannot drop one silently). The
# publisher waits in-process up to WAIT_FOR_DUE_MAX_S for the due second, then calls; the replier
# answers through the publishing adapters; the collector reads metrics. The inbox poller's
# notification fetchers are module functions, not registry adapters: they have no budget yet.
ADAPTER_FUNCTIONS: Mapping[str, Runs] = {
    "functions/publisher/": Runs(("publisher",), waits_s=WAIT_FOR_DUE_MAX_S),
    "functions/replier/": Runs(("publisher",)),
    "functions/collector/": Runs(("collector",)),
}
MARGIN_S = 3.0  # the store's reads and writes around the call, a token's decryption, a slow start
STRICT_KINDS = frozenset({"publisher"})  # an adapter of these kinds must declare request_budget_s
# Platforms whose adapters run only on the embedded runtime (no platform to reach in AWS).
LOCAL_ONLY = frozenset({"sandbox"})


def registered_adapters(kind: str) -> dict[str, type]:
    """Platform -> the adapter class of ``kind`` the registry names (imported, not built)."""
    return {
        name: adapter_class(spec)
        for name, info in PLATFORMS.items()
        if (spec := getattr(info, kind)) is not None and name not in LOCAL_ONLY
    }


def budget_problems(
    tpl: Template,
    functions: Mapping[str, Runs] = ADAPTER_FUNCTIONS,
    adapters: Callable[[str], Mapping[str, type]] = registered_adapters,
) -> list[str]:
    """No call outlives its function: Timeout >= waits + the longest request budget + MARGIN_S."""
    by_code = {
        str(res["Properties"].get("CodeUri", "")).rstrip("/") + "/": (name, res["Properties"])
        for name, res in tpl.of_type("AWS::Serverless::Function").items()
    }
    problems = []
    for code, runs in functions.items():
        if code not in by_code:
            problems.append(f"{code}: listed in ADAPTER_FUNCTIONS, but no function has this CodeUri")
            continue
        name, props = by_code[code]
        budgets: dict[str, float] = {}
        for kind in runs.kinds:
            for platform, cls in adapters(kind).items():
                budget = getattr(cls, "request_budget_s", None)
                if budget is not None:
                    budgets[f"{platform} {kind}"] = float(budget)
                elif kind in STRICT_KINDS:
                    problems.append(
                        f"{name}: the {platform} {kind} adapter ({cls.__name__}) declares no "
                        "request_budget_s: the timeouts its requests may take in one call"
                    )
        if not budgets:
            continue
        longest = max(budgets, key=lambda k: budgets[k])
        needed = runs.waits_s + budgets[longest] + MARGIN_S
        timeout = float(props.get("Timeout", 3))
        if timeout < needed:
            problems.append(
                f"{name}: Timeout {timeout:g} s < {needed:g} s: a call of the {longest} adapter may take "
                f"{budgets[longest]:g} s (request_budget_s), after up to {runs.waits_s:g} s of waiting, "
                f"plus a {MARGIN_S:g} s margin (no call outlives its function)"
            )
    return problems


# What deploying a new version must never delete or replace empty: the data, the work waiting in queues,
# the key the tokens are encrypted with. Every resource of these types keeps Retain on delete and replace.
STATEFUL = frozenset(
    {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::KMS::Key",
     "AWS::SecretsManager::Secret", "AWS::Cognito::UserPool"}
)  # fmt: skip


def dead_letter_queues(raw: Mapping[str, Any]) -> set[str]:
    """Logical ids of the queues named as dead letters (redrive targets, rule and stream failures)."""
    found: set[str] = set()

    def visit(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            if key in {"deadLetterTargetArn", "Arn", "Destination"} and "Fn::GetAtt" in node:
                found.add(str(node["Fn::GetAtt"][0]))
            for k, v in node.items():
                visit(v, k)
        elif isinstance(node, list):
            for v in node:
                visit(v, key)

    for res in raw["Resources"].values():
        props = res.get("Properties", {})
        visit(props.get("RedrivePolicy", {}), "RedrivePolicy")
        for ev in (props.get("Events") or {}).values():
            ev_props = ev.get("Properties", {})
            visit(ev_props.get("DeadLetterConfig", {}), "DeadLetterConfig")
            visit(ev_props.get("DestinationConfig", {}), "DestinationConfig")
    return {q for q in found if raw["Resources"].get(q, {}).get("Type") == "AWS::SQS::Queue"}


def shipping_problems(raw: Mapping[str, Any]) -> list[str]:
    """An upgrade keeps the state (Retain), and every dead-letter queue alarms to the alerts topic."""
    problems = []
    for name, res in raw["Resources"].items():
        if res.get("Type") in STATEFUL:
            for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
                if res.get(policy) != "Retain":
                    problems.append(f"{name}: {res['Type']} holds state: {policy} must be Retain")
    alarmed = {
        str(dim["Value"]["Fn::GetAtt"][0])
        for res in raw["Resources"].values()
        if res.get("Type") == "AWS::CloudWatch::Alarm"
        and res["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and res["Properties"].get("AlarmActions") == [{"Ref": "AlertsTopic"}]
        for dim in res["Properties"].get("Dimensions", [])
        if isinstance(dim.get("Value"), dict) and "Fn::GetAtt" in dim["Value"]
    }
    for queue in sorted(dead_letter_queues(raw) - alarmed):
        problems.append(f"{queue}: a dead-letter queue with no depth alarm to AlertsTopic")
    return problems


def check(template_path: Path) -> list[str]:
    raw = load_yaml(template_path)
    tpl = Template.load(template_path)
    known = set(raw.get("Parameters", {})) | set(raw["Resources"]) | PSEUDO
    # SAM's own references to what it generates for an API: <Api>.Stage and <Api>.Deployment
    known |= {
        f"{name}.{generated}"
        for name, res in raw["Resources"].items()
        if res.get("Type") == "AWS::Serverless::Api"
        for generated in ("Stage", "Deployment")
    }
    problems = [
        f"{where}: reference to unknown {name!r}" for where, name in references(raw) if name not in known
    ]
    for name, res in tpl.of_type("AWS::Serverless::Function").items():
        props = res["Properties"]
        code = tpl.root / props.get("CodeUri", ".")
        module = props["Handler"].rsplit(".", 1)[0].replace(".", "/") + ".py"
        if not (code / module).exists():
            problems.append(f"{name}: handler module {code / module} does not exist")
        for ev_name, ev in (props.get("Events") or {}).items():
            if ev["Type"] != "SQS":
                continue
            ev_props = ev["Properties"]
            if "ReportBatchItemFailures" not in (ev_props.get("FunctionResponseTypes") or []):
                problems.append(f"{name}.{ev_name}: SQS consumer must report partial batch failures")
            queue_ref = ev_props["Queue"]
            queue = queue_ref.get("Fn::GetAtt", [""])[0] if isinstance(queue_ref, dict) else ""
            qprops = raw["Resources"].get(queue, {}).get("Properties", {})
            if "RedrivePolicy" not in qprops:
                problems.append(f"{name}.{ev_name}: queue {queue} has no redrive DLQ")
            vis_raw = qprops.get("VisibilityTimeout", 30)
            if isinstance(vis_raw, dict) and "Ref" in vis_raw:
                vis_raw = raw.get("Parameters", {}).get(vis_raw["Ref"], {}).get("Default", 30)
            vis = int(vis_raw)
            if vis < 6 * int(props.get("Timeout", 3)):
                problems.append(f"{name}.{ev_name}: {queue} VisibilityTimeout {vis} < 6 x function timeout")
    return problems + budget_problems(tpl) + shipping_problems(raw)


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
    problems = check(path)
    for p in problems:
        print(f"template: {p}")
    print(f"template checks: {len(problems)} finding(s) in {path}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
