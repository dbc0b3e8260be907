"""Checks cfn-lint cannot make on a SAM template (it misses references inside Globals and policy
templates): every Ref, GetAtt and ${} in the template names a parameter, a resource or a pseudo
parameter; every function's CodeUri and handler module exist; every SQS consumer reports partial batch
failures and its queue has a redrive policy; every queue's visibility timeout is at least six times its
consumer's timeout. Exits 1 with one line per finding."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

from chorus.local.template import Template, load_yaml

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


def check(template_path: Path) -> list[str]:
    raw = load_yaml(template_path)
    tpl = Template.load(template_path)
    known = set(raw.get("Parameters", {})) | set(raw["Resources"]) | PSEUDO
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
    return problems


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
    problems = check(path)
    for p in problems:
        print(f"template: {p}")
    print(f"template checks: {len(problems)} finding(s) in {path}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
