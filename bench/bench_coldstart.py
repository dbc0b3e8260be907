"""Cold start: the import time of every handler module of template.yaml, each in a fresh interpreter
with the environment Lambda would give it. Writes bench/results/coldstart.json (`<function>_import_ms`,
the median of five runs). Goal: <= 400 ms for the webhook receiver and the publisher."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "shared"))

from chorus.local.template import Template  # noqa: E402

PROBE = """
import sys, time
sys.path.insert(0, {code!r})
t = time.perf_counter()
import importlib.util
spec = importlib.util.spec_from_file_location("handler_module", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
getattr(module, {attr!r})
print((time.perf_counter() - t) * 1000)
"""

ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "POWERTOOLS_SERVICE_NAME": "chorus",
    "POWERTOOLS_METRICS_NAMESPACE": "Chorus",
    "CHORUS_TABLE": "t",
    "CHORUS_PUBLISH_QUEUE_URL": "http://127.0.0.1:9/q",
}


def measure(code_dir: Path, handler: str, runs: int = 5) -> float:
    module_file, attr = handler.rsplit(".", 1)
    path = code_dir / (module_file.replace(".", "/") + ".py")
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [
                sys.executable,
                "-X",
                "frozen_modules=on",
                "-c",
                PROBE.format(code=str(code_dir), path=str(path), attr=attr),
            ],
            capture_output=True,
            text=True,
            env={**{k: v for k, v in os.environ.items() if k in {"PATH", "HOME"}}, **ENV},
            check=True,
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return round(statistics.median(samples), 1)


def main() -> None:
    template = Template.load(REPO / "template.yaml")
    results: dict[str, float | str] = {}
    for logical, res in sorted(template.of_type("AWS::Serverless::Function").items()):
        props = res["Properties"]
        name = logical.removesuffix("Function").lower()
        results[f"{name}_import_ms"] = measure(REPO / props.get("CodeUri", "."), props["Handler"])
        print(f"{name:<12} {results[f'{name}_import_ms']:>8.1f} ms", flush=True)
    results["goal_ms"] = 400
    out = REPO / "bench" / "results" / "coldstart.json"
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
