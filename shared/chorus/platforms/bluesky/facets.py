"""Rich-text facets for Bluesky posts: links, mentions and hashtags with UTF-8 byte ranges.

A facet's ``index`` is ``{"byteStart": s, "byteEnd": e}`` where s and e are offsets into the UTF-8
encoding of the post text (end exclusive), not string indices: "你好 #标签" puts the tag at bytes 7..14.
Mentions carry the DID the handle resolves to (``com.atproto.identity.resolveHandle``); a handle that
does not resolve is left as plain text, as the official clients do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import regex

from chorus.posts import text as textlib

LINK = "app.bsky.richtext.facet#link"
MENTION = "app.bsky.richtext.facet#mention"
TAG = "app.bsky.richtext.facet#tag"

MAX_TAG_LENGTH = 64  # graphemes, without the '#'

# A handle is a domain name: labels joined by dots, the last one not all digits.
_MENTION_RE = re.compile(
    r"(?:^|(?<=[\s(]))@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)"
)
_TAG_RE = regex.compile(r"(?:^|(?<=\s))[#\uFF03]((?!\uFE0F)[^\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20E2]+)")
_TAG_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")

Facet = dict[str, Any]


def byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of string index ``index`` in ``text``."""
    return len(text[:index].encode("utf-8"))


def _facet(text: str, start: int, end: int, feature: dict[str, str]) -> Facet:
    return {
        "index": {"byteStart": byte_offset(text, start), "byteEnd": byte_offset(text, end)},
        "features": [feature],
    }


def link_facets(text: str) -> list[Facet]:
    facets: list[Facet] = []
    for span in textlib.extract_urls(text):
        uri = span.url if span.url.lower().startswith(("http://", "https://")) else f"https://{span.url}"
        facets.append(_facet(text, span.start, span.end, {"$type": LINK, "uri": uri}))
    return facets


def tag_facets(text: str) -> list[Facet]:
    facets: list[Facet] = []
    for match in _TAG_RE.finditer(text):
        tag = _TAG_TRAILING_PUNCTUATION.sub("", match.group(1))
        if not tag or tag.isdigit() or textlib.grapheme_length(tag) > MAX_TAG_LENGTH:
            continue
        start = match.start()
        end = match.start(1) + len(tag)
        facets.append(_facet(text, start, end, {"$type": TAG, "tag": tag}))
    return facets


def mention_facets(
    text: str,
    resolve_handle: Callable[[str], str | None],
    skip: Callable[[int, int], bool] = lambda start, end: False,
) -> list[Facet]:
    """Mentions whose handle resolves; ``skip(start, end)`` (string indices) drops a candidate unresolved."""
    facets: list[Facet] = []
    for match in _MENTION_RE.finditer(text):
        handle = match.group(1).rstrip(".")
        start = match.start(1) - 1  # include the '@'
        end = match.start(1) + len(handle)
        if skip(start, end):
            continue
        did = resolve_handle(handle.lower())
        if did:
            facets.append(_facet(text, start, end, {"$type": MENTION, "did": did}))
    return facets


def detect_facets(text: str, resolve_handle: Callable[[str], str | None]) -> list[Facet]:
    """All facets of ``text``, ordered by byteStart. Mentions inside a URL are not mentions."""
    links = link_facets(text)
    urls = [(span.start, span.end) for span in textlib.extract_urls(text)]

    def inside_url(start: int, end: int) -> bool:
        return any(start < e and end > s for s, e in urls)

    taken = [(f["index"]["byteStart"], f["index"]["byteEnd"]) for f in links]

    def free(facet: Facet) -> bool:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        return all(end <= s or start >= e for s, e in taken)

    facets = links + mention_facets(text, resolve_handle, skip=inside_url)
    facets += [f for f in tag_facets(text) if free(f)]
    return sorted(facets, key=lambda f: int(f["index"]["byteStart"]))
