"""Write web/src/rules.json: each platform's text rules as the server checks them
(chorus.posts.validation.PLATFORM_RULES), for the composer's live counters. ``--check``: exit 1 when the
file differs from what the server's rules give (tests/unit/test_web_counts.py runs it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from chorus.posts import text as textlib
from chorus.posts.validation import PLATFORM_RULES

OUT = Path(__file__).resolve().parents[1] / "src" / "rules.json"

#: the server's count functions, as the browser's counters name them (web/src/counts.js).
COUNTERS = {
    textlib.x_weighted_length: "x",
    textlib.grapheme_length: "graphemes",
    textlib.mastodon_length: "mastodon",
    textlib.codepoint_length: "codepoints",
    textlib.half_width_length: "half_width",
    textlib.weibo_length: "weibo",
}


def rules() -> dict[str, dict[str, object]]:
    return {
        platform: {
            "name": r.name,
            "max_length": r.max_length,
            "counter": COUNTERS[r.count],
            "unit": r.length_unit,
            "max_bytes": r.max_bytes,
            "max_hashtags": r.max_hashtags,
            "max_mentions": r.max_mentions,
            "supports_thread": r.supports_thread,
            "supports_first_comment": r.supports_first_comment,
        }
        for platform, r in sorted(PLATFORM_RULES.items())
    }


def main() -> int:
    wanted = json.dumps(rules(), indent=2, ensure_ascii=False) + "\n"
    if "--check" in sys.argv:
        if not OUT.is_file() or OUT.read_text(encoding="utf-8") != wanted:
            print(f"{OUT} differs from the server's rules: run python web/tools/export_rules.py")
            return 1
        return 0
    OUT.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
