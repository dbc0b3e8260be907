"""docs/platforms.md's table is what the code declares, platform by platform: publishing adapters and
collectors (``chorus.platforms.registry``) and the kinds of post an adapter declares (``publish_types``), text limits, threads and first comments (the composer's
``PLATFORM_RULES``), connecting by OAuth (``OAUTH_PLATFORMS``), how messages arrive and which inbox
channels can be answered (``chorus.inbox.channels``)."""

from __future__ import annotations

import re
from pathlib import Path

from chorus.accounts.oauth import OAUTH_PLATFORMS
from chorus.inbox.channels import CHANNELS
from chorus.platforms.registry import PLATFORMS, adapter_class
from chorus.posts.validation import PLATFORM_RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "platforms.md"
HEADER = (
    "| Platform | Publish | Text | Threads | First comment | Connect | Inbox arrives by | Replies | Metrics |"
)


def yes(flag: bool) -> str:
    return "yes" if flag else "—"


def connect_by(name: str) -> str:
    if PLATFORMS[name].publishing == "manual":
        return "profile URL"
    if name in OAUTH_PLATFORMS:
        return "OAuth"
    return {"sandbox": "local", "bluesky": "app password"}.get(name, "token")


def publish_cell(name: str) -> str:
    """ "reminder", the kinds of post an adapter declares (``publish_types``, read without building it),
    "yes" for an adapter that declares none, "—" without one."""
    info = PLATFORMS[name]
    if info.publishing == "manual":
        return "reminder"
    if info.publisher is None:
        return "—"
    return ", ".join(getattr(adapter_class(info.publisher), "publish_types", ())) or "yes"


def declared_rows() -> list[str]:
    rows = []
    for name, info in PLATFORMS.items():
        rules = PLATFORM_RULES.get(name)
        manual = info.publishing == "manual"  # reminder publishing: a person posts it, Chorus reminds
        publishes = info.publisher is not None or manual
        answered = sorted(c.label for c in CHANNELS.values() if c.platform == name and c.can_reply)
        text = f"{rules.max_length:,} {rules.length_unit}" if rules and publishes else "—"
        cells = [
            info.label,
            publish_cell(name),
            text,
            yes(bool(rules and publishes and rules.supports_thread)),
            yes(bool(rules and publishes and rules.supports_first_comment)),
            connect_by(name),
            "webhooks"
            if info.webhooks
            else "polling"
            if any(c.platform == name for c in CHANNELS.values())
            else "—",
            ", ".join(answered) if answered else "—",
            yes(info.collector is not None),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def doc_rows() -> list[str]:
    text = DOC.read_text()
    table = text[text.index(HEADER) :].splitlines()[2:]
    return [line for line in table if line.startswith("|")][: len(PLATFORMS)] if table else []


def test_docs_platforms_md_shows_what_the_adapters_declare() -> None:
    expected = "\n".join([HEADER, "|" + "---|" * 9, *declared_rows()])
    assert doc_rows() == declared_rows(), f"docs/platforms.md's table should read:\n{expected}"


def test_every_platform_has_a_section_on_connecting_it() -> None:
    sections = set(re.findall(r"^### (.+)$", DOC.read_text(), re.M))
    assert {info.label for info in PLATFORMS.values()} <= sections
