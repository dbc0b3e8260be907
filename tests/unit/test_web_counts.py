"""The web app's live counters and the server count alike: web/test/count_cases.json is checked here
against chorus.posts.text and by ``node --test`` (web/test/counts.test.js) against web/src/counts.js;
the browser's per-platform limits (web/src/rules.json) are the server's PLATFORM_RULES."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chorus.posts import text as textlib

WEB = Path(__file__).resolve().parents[2] / "web"
CASES = json.loads((WEB / "test" / "count_cases.json").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_server_counts_the_shared_strings_as_the_browser_does(case: dict[str, object]) -> None:
    text = str(case["text"])
    got = {
        "x": textlib.x_weighted_length(text),
        "graphemes": textlib.grapheme_length(text),
        "mastodon": textlib.mastodon_length(text),
        "codepoints": textlib.codepoint_length(text),
        "utf8_bytes": textlib.utf8_length(text),
        "hashtags": len(textlib.hashtags(text)),
        "mentions": len(textlib.mentions(text)),
        "half_width": textlib.half_width_length(text),
        "weibo": textlib.weibo_length(text),
    }
    assert got == {name: case[name] for name in got}


def test_the_browsers_rules_are_the_servers() -> None:
    check = subprocess.run(
        [sys.executable, str(WEB / "tools" / "export_rules.py"), "--check"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
