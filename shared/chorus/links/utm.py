"""UTM tagging: every link of a post carries source = platform, medium = social, campaign, content = the
post (or its variant) and term, from the workspace's defaults, the post's campaign and the post's own values.

Values a URL already carries (``utm_source=newsletter`` typed by a person) are kept: tagging never
overrides what someone wrote on purpose."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chorus.errors import FieldError, ValidationFailed

FIELDS = ("source", "medium", "campaign", "content", "term")
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'`]+")
TRAILING = ".,;:!?)]}'\""
MAX_VALUE = 100


@dataclass(frozen=True)
class UtmDefaults:
    """A workspace's defaults (``GET/PUT /links/settings``)."""

    enabled: bool = True
    shorten: bool = True
    medium: str = "social"
    campaign: str = ""
    term: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "shorten": self.shorten,
            "medium": self.medium,
            "campaign": self.campaign,
            "term": self.term,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | None) -> UtmDefaults:
        data = data or {}
        return cls(
            enabled=bool(data.get("enabled", True)),
            shorten=bool(data.get("shorten", True)),
            medium=str(data.get("medium") or "social"),
            campaign=str(data.get("campaign") or ""),
            term=str(data.get("term") or ""),
        )


def check_values(values: Mapping[str, object], where: str = "utm") -> dict[str, str]:
    """A post's (or the workspace's) UTM values: known names, short strings; a 422 naming the field else."""
    errors = []
    clean: dict[str, str] = {}
    for name, value in values.items():
        field = f"{where}.{name}"
        if name == "enabled":
            if not isinstance(value, bool):
                errors.append(FieldError(field, "true or false", "type"))
            else:
                clean[name] = "true" if value else "false"
            continue
        if name not in FIELDS:
            allowed = ", ".join(("enabled", *FIELDS))
            errors.append(FieldError(field, f"unknown UTM value; allowed: {allowed}", "unknown"))
        elif not isinstance(value, str) or len(value) > MAX_VALUE or any(c in value for c in "\r\n\t"):
            errors.append(
                FieldError(field, f"a single-line string of at most {MAX_VALUE} characters", "type")
            )
        else:
            clean[name] = value.strip()
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    return clean


def values_for(
    defaults: UtmDefaults,
    post_values: Mapping[str, str],
    *,
    platform: str,
    content: str,
    campaign: str = "",
) -> dict[str, str] | None:
    """The UTM values of one account's links, or None when tagging is off (workspace or post)."""
    enabled = post_values.get("enabled")
    if enabled == "false" or (enabled is None and not defaults.enabled):
        return None
    found = {
        "source": post_values.get("source") or platform,
        "medium": post_values.get("medium") or defaults.medium or "social",
        "campaign": post_values.get("campaign") or campaign or defaults.campaign,
        "content": post_values.get("content") or content,
        "term": post_values.get("term") or defaults.term,
    }
    return {k: v for k, v in found.items() if v}


def tag(url: str, values: Mapping[str, str]) -> str:
    """``url`` with ``utm_<name>=<value>`` added for each value it does not carry yet."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {k for k, _ in query}
    query += [(f"utm_{k}", v) for k, v in values.items() if f"utm_{k}" not in present]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def links_in(*texts: str | None) -> list[str]:
    """Every distinct http(s) URL of ``texts``, in order of first appearance (trailing punctuation off)."""
    found: list[str] = []
    for text in texts:
        for match in URL_IN_TEXT.finditer(text or ""):
            url = match.group(0).rstrip(TRAILING)
            if url not in found:
                found.append(url)
    return found


def replace_links(text: str, replacements: Mapping[str, str]) -> str:
    """``text`` with each URL of ``replacements`` swapped for its replacement (exact URLs only)."""
    if not replacements:
        return text

    def swap(match: re.Match[str]) -> str:
        whole = match.group(0)
        url = whole.rstrip(TRAILING)
        return replacements.get(url, url) + whole[len(url) :]

    return URL_IN_TEXT.sub(swap, text)


def post_of_content(value: str) -> str:
    """The post id a ``utm_content`` value names (``<post>`` or ``<post>-<account>`` for a variant)."""
    return value.split("-", 1)[0]
