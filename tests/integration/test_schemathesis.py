"""schemathesis against GET /openapi.json on the embedded runtime: every route, authenticated with a
workspace key, answers no 5xx and every answer matches its documented schema.

Bounded in ``make test`` (a few examples per route, a fixed seed); ``make fuzz`` sets CHORUS_FUZZ_EXAMPLES,
CHORUS_FUZZ_PHASES and CHORUS_FUZZ_SEED for a longer, randomised run. Path parameters are the ids of
things made beforehand (a post, an account, a monitor, a saved reply, a key to revoke), so the generated
bodies reach the domain code instead of a 404."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.harness import REPO, Chorus

EXAMPLES = os.environ.get("CHORUS_FUZZ_EXAMPLES", "5")
PHASES = os.environ.get("CHORUS_FUZZ_PHASES", "coverage,fuzzing")
SEED = os.environ.get("CHORUS_FUZZ_SEED", "1")  # "random": a new seed each run
BUDGET_S = float(os.environ.get("CHORUS_FUZZ_BUDGET_S", "240"))


def api_events() -> list[object]:
    from chorus.local.template import Template

    events = Template.load(REPO / "template.yaml").resources["ApiFunction"]["Properties"]["Events"]
    return [e for e in events.values() if e["Type"] == "Api"]


def things(chorus: Chorus, key: str) -> dict[str, str]:
    """Ids of one of each thing a route's path can name, made through the API."""
    account = chorus.sandbox_account(key, "fuzz-brand")
    post = chorus.call(
        "POST",
        "/posts",
        key,
        json={"text": "fuzz", "accounts": [account], "scheduled_at": "2031-01-01T09:00:00Z"},
    )
    monitor = chorus.call(
        "POST", "/monitors", key, json={"name": "brand", "kind": "brand", "terms": ["chorus"]}
    )
    saved = chorus.call("POST", "/saved_replies", key, json={"title": "thanks", "text": "Thank you!"})
    spare = chorus.call("POST", "/keys", key, json={"name": "spare", "role": "viewer"})
    template = chorus.call(
        "POST",
        "/templates",
        key,
        json={"name": "hello", "text": "Hi {{n}}", "variables": [{"name": "n", "default": "you"}]},
    )
    group = chorus.call("POST", "/hashtag-groups", key, json={"name": "tags", "hashtags": ["chorus"]})
    upload = chorus.call(
        "POST", "/media", key, json={"filename": "a.png", "mime_type": "image/png", "size": 10}
    )
    campaign = chorus.call("POST", "/campaigns", key, json={"name": "fuzz", "starts_on": "2031-01-01"})
    for answer in (post, monitor, saved, spare, template, group, upload, campaign):
        assert answer.status_code == 201, answer.text
    return {
        "account_id": account,
        "post_id": post.json()["id"],
        "monitor_id": monitor.json()["id"],
        "saved_id": saved.json()["id"],
        "key_id": spare.json()["key_id"],
        "template_id": template.json()["id"],
        "group_id": group.json()["id"],
        "media_id": upload.json()["id"],
        "campaign_id": campaign.json()["id"],
        "token": campaign.json()["pixel_url"].rsplit("/", 1)[1],
        "platform": "sandbox",
    }


@pytest.mark.timeout(int(BUDGET_S) + 120)
def test_no_route_answers_a_5xx_and_every_answer_matches_its_schema(chorus: Chorus, tmp_path: Path) -> None:
    # Given an owner key and one of each thing the paths name
    _, key = chorus.workspace("Fuzz")
    ids = things(chorus, key)
    config = tmp_path / "schemathesis.toml"
    config.write_text("[parameters]\n" + "".join(f'"path.{k}" = {json.dumps(v)}\n' for k, v in ids.items()))
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        chorus.rt.api_url + "/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--max-examples",
        EXAMPLES,
        "--phases",
        PHASES,
        "--workers",
        "1",  # hypothesis' lambda descriptions are not thread-safe on 3.11 (a spurious AST error)
        "--generation-database",
        "none",
        "--no-color",
        "--output-sanitize",
        "true",
    ]
    if SEED != "random":
        command += ["--seed", SEED]
    # When schemathesis runs every operation of the document
    started = time.monotonic()
    run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=BUDGET_S + 60, check=False
    )
    took = time.monotonic() - started
    (tmp_path / "schemathesis.txt").write_text(run.stdout + run.stderr)
    # Then nothing failed: no 5xx, no answer outside its schema
    summary = run.stdout[-20_000:]
    assert run.returncode == 0, (
        f"schemathesis exit {run.returncode} after {took:.0f} s ({tmp_path}/schemathesis.txt)\n{summary}\n{run.stderr[-3000:]}"
    )
    selected = re.search(r"Operations:\s+(\d+) selected / (\d+) total", run.stdout)
    assert selected is not None, summary
    # every operation but GET /openapi.json itself, which schemathesis leaves out of its run
    assert int(selected[1]) == int(selected[2]) == len(api_events()) - 1
