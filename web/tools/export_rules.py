"""Write web/src/rules.json: each platform's text rules as the server checks them
(chorus.posts.validation.PLATFORM_RULES), for the composer's live counters; and web/src/media_rules.json:
the MIME types Chorus takes and each platform's media rules (types, sizes, counts, a video's length,
aspect ratios), for the composer's check of its attachments before sending. ``--check``: exit 1 when a
file differs from what the server's rules give (tests/unit/test_web_counts.py runs it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from chorus.posts import text as textlib
from chorus.posts.validation import MIME_KINDS, PLATFORM_RULES, MediaRules

SRC = Path(__file__).resolve().parents[1] / "src"
OUT = SRC / "rules.json"
MEDIA_OUT = SRC / "media_rules.json"

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


def media(limits: MediaRules) -> dict[str, object]:
    return {
        "types": sorted(limits.types),
        "max_size": dict(sorted(limits.max_size.items())),
        "max_images": limits.max_images,
        "max_videos": limits.max_videos,
        "gif_alone": limits.gif_alone,
        "video_alone": limits.video_alone,
        "requires": limits.requires,
        "min_items_if_many": limits.min_items_if_many,
        "max_items": limits.max_items,
        "video_seconds": limits.video_seconds,
        "image_aspect": limits.image_aspect,
        "video_aspect": limits.video_aspect,
    }


def media_rules() -> dict[str, object]:
    return {
        "kinds": {mime: kind.value for mime, kind in sorted(MIME_KINDS.items())},
        "platforms": {
            platform: {"name": r.name, **media(r.media)} for platform, r in sorted(PLATFORM_RULES.items())
        },
    }


def main() -> int:
    failed = 0
    for out, made in ((OUT, rules()), (MEDIA_OUT, media_rules())):
        wanted = json.dumps(made, indent=2, ensure_ascii=False) + "\n"
        if "--check" not in sys.argv:
            out.write_text(wanted, encoding="utf-8")
        elif not out.is_file() or out.read_text(encoding="utf-8") != wanted:
            print(f"{out} differs from the server's rules: run python web/tools/export_rules.py")
            failed = 1
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
