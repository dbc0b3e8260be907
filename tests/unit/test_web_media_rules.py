"""The composer's media check and the server's agree: web/test/media_cases.json is checked here against
chorus.posts.validation (the media rules a post's attachments break) and by ``node --test``
(web/test/media.test.js) against web/src/media.js; web/src/media_rules.json is the server's
PLATFORM_RULES and MIME_KINDS (web/tools/export_rules.py --check, run by tests/unit/test_web_counts.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chorus.posts.validation import MediaSpec, validate

CASES = json.loads(
    (Path(__file__).resolve().parents[2] / "web" / "test" / "media_cases.json").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_server_finds_the_media_rules_the_browser_finds(case: dict[str, object]) -> None:
    media = [MediaSpec(**m) for m in case["media"]]  # type: ignore[attr-defined]
    found = [
        {"rule": v.rule, "field": v.field, "message": v.message}
        for v in validate(str(case["platform"]), "a text", media)
        if v.rule.startswith("media.")
    ]
    assert found == case["broken"]


def test_the_cases_cover_every_media_rule_the_composer_shows_before_sending() -> None:
    rules = {b["rule"] for c in CASES for b in c["broken"]}
    assert {"media.duration", "media.aspect_ratio", "media.too_large", "media.unsupported_type",
            "media.required", "media.mixed", "media.too_many"} <= rules  # fmt: skip
