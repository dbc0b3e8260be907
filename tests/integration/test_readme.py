"""The README's "Using it locally" commands work as written (curl's -d sends a form Content-Type: the API
reads the JSON anyway)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.integration.harness import REPO, Chorus


def readme_block() -> str:
    text = (REPO / "README.md").read_text()
    found = re.search(r"## Using it locally\s+```sh\n(.*?)```", text, re.S)
    assert found is not None, "the README has no 'Using it locally' sh block"
    lines = found[1].splitlines()
    assert lines[0].startswith("make dev")  # terminal 1; the rest is terminal 2
    return "\n".join(lines[1:]) + "\n"


def test_the_readme_commands_work_as_written(chorus: Chorus, tmp_path: Path) -> None:
    # Given what `make dev` leaves for terminal 2: .chorus/dev.json, in a checkout with its .venv
    (tmp_path / ".chorus").mkdir()
    env = {k: v for k, v in os.environ.items() if k.startswith(("CHORUS_", "AWS_"))}
    (tmp_path / ".chorus" / "dev.json").write_text(json.dumps({"api_url": chorus.rt.api_url, "env": env}))
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    # When terminal 2's commands run, each curl failing on an HTTP error
    script = (
        "set -euo pipefail\n"
        'curl() { command curl --silent --show-error --fail-with-body "$@"; echo; }\n' + readme_block()
    )
    run = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    # Then every one succeeded: the post was scheduled, the page and the document answered
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    answers = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{") and line != "{"]
    created = [a for a in answers if a.get("status") == "scheduled"]
    assert created, run.stdout[-3000:]
    assert any("next_cursor" in a and "posts" in a for a in answers)
    assert any(a.get("openapi") == "3.1.0" for a in answers)
    # And the person the CLI made signed in with a real token: /me lists her workspace, /members her
    assert any(a.get("email") == "ana@acme.test" and a["workspaces"][0]["role"] == "owner" for a in answers)
    assert any(a.get("members", [{}])[0].get("email") == "ana@acme.test" for a in answers if "members" in a)
