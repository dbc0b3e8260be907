"""What Chorus listens for (a :class:`Monitor`) and what it hears (a :class:`Mention`).

A monitor belongs to one workspace and names the terms to look for on the platforms it covers:

* ``brand`` — your own brand: the name, product names, your handles (``acme``, ``"acme cloud"``, ``@acme``);
* ``keyword`` — any topic worth following;
* ``hashtag`` — hashtags only (terms are stored without ``#``: ``acme`` watches ``#acme``);
* ``competitor`` — someone else's brand, kept apart in reports (``is_competitor`` is always true).

Term syntax (see :mod:`chorus.listening.matching`): ``acme`` is a word, ``"acme cloud"`` (straight or
curly quotes) an exact phrase, ``acme cloud`` unquoted means both words anywhere, ``#acme`` only the
hashtag, ``@acme`` only the handle. Terms are compared case-insensitively after NFKC normalisation.

:class:`Mention` is the one shape every platform search client returns; :class:`SearchPage` adds the
opaque cursor that the next poll passes back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chorus.errors import ValidationFailed


class MonitorKind(StrEnum):
    BRAND = "brand"
    KEYWORD = "keyword"
    HASHTAG = "hashtag"
    COMPETITOR = "competitor"


KNOWN_PLATFORMS = frozenset(
    {
        "bluesky",
        "mastodon",
        "x",
        "facebook",
        "instagram",
        "threads",
        "linkedin",
        "youtube",
        "tiktok",
        "wechat",
        "whatsapp",
    }
)
"""Platforms a monitor may name; an empty ``platforms`` means every platform Chorus hears from."""

SEARCHABLE_PLATFORMS = frozenset({"bluesky", "mastodon", "x"})
"""Platforms with a search client (the others only feed monitors through the inbox)."""

MAX_NAME = 100
MAX_TERMS = 50
MAX_TERM_LENGTH = 100
MAX_LANGUAGES = 20
QUOTES = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201c", "\u300c": "\u300d"}
"""Opening -> closing quote pairs that make a term an exact phrase ("...", “...”, „...“, 「...」)."""

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
_HASHTAG = re.compile(r"^\w+$")


def _fail(field_name: str, message: str, rule: str = "invalid") -> ValidationFailed:
    return ValidationFailed.on(field_name, message, rule)


def normalize_text(value: str) -> str:
    """NFKC (full-width letters and ``#`` become ASCII ones) and case folding."""
    return unicodedata.normalize("NFKC", value).casefold()


def is_phrase(term: str) -> bool:
    """True for a quoted term (an exact phrase)."""
    return len(term) >= 2 and QUOTES.get(term[0]) == term[-1]


def _clean_terms(
    values: Iterable[str] | str, field_name: str, *, kind: MonitorKind | None, required: bool
) -> tuple[str, ...]:
    if isinstance(values, str):
        raise _fail(field_name, "must be a list of strings, not one string", "type")
    cleaned: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(values):
        where = f"{field_name}[{i}]"
        if not isinstance(raw, str):
            raise _fail(where, "must be a string", "type")
        term = " ".join(unicodedata.normalize("NFKC", raw).split())
        if kind is MonitorKind.HASHTAG:
            term = term.removeprefix("#")
            if not _HASHTAG.match(term):
                raise _fail(where, "a hashtag is letters, digits or _ only (no spaces)", "hashtag")
        inner = term[1:-1].strip() if is_phrase(term) else term
        if not inner.strip("#@"):
            raise _fail(where, "must not be empty", "required")
        if len(term) > MAX_TERM_LENGTH:
            raise _fail(where, f"at most {MAX_TERM_LENGTH} characters", "max_length")
        key = term.casefold()
        if key not in seen:
            seen.add(key)
            cleaned.append(term)
    if required and not cleaned:
        raise _fail(field_name, "at least one term is required", "required")
    if len(cleaned) > MAX_TERMS:
        raise _fail(field_name, f"at most {MAX_TERMS} terms", "max_items")
    return tuple(cleaned)


@dataclass(frozen=True)
class Monitor:
    """A saved search of one workspace. Construct it with the raw values: it validates and normalises
    itself (terms trimmed and de-duplicated, hashtags without ``#``, languages lower-cased) and raises
    :class:`~chorus.errors.ValidationFailed` naming the first bad field."""

    id: str
    workspace_id: str
    name: str
    kind: MonitorKind
    terms: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # ISO 639-1 codes; empty = every language
    platforms: tuple[str, ...] = ()  # empty = every platform
    is_competitor: bool = False

    def __post_init__(self) -> None:
        for name in ("id", "workspace_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise _fail(name, "is required", "required")
        if not isinstance(self.name, str) or not self.name.strip():
            raise _fail("name", "is required", "required")
        if len(self.name.strip()) > MAX_NAME:
            raise _fail("name", f"at most {MAX_NAME} characters", "max_length")
        try:
            kind = MonitorKind(self.kind)
        except ValueError:
            allowed = ", ".join(k.value for k in MonitorKind)
            raise _fail("kind", f"must be one of {allowed}", "enum") from None
        terms = _clean_terms(self.terms, "terms", kind=kind, required=True)
        exclude = _clean_terms(self.exclude, "exclude", kind=None, required=False)
        languages = self._languages()
        platforms = self._platforms()
        if not isinstance(self.is_competitor, bool):
            raise _fail("is_competitor", "must be true or false", "type")
        if kind is MonitorKind.BRAND and self.is_competitor:
            raise _fail(
                "is_competitor", "a brand monitor watches your own brand; use kind competitor", "conflict"
            )
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "exclude", exclude)
        object.__setattr__(self, "languages", languages)
        object.__setattr__(self, "platforms", platforms)
        object.__setattr__(self, "is_competitor", self.is_competitor or kind is MonitorKind.COMPETITOR)

    def _languages(self) -> tuple[str, ...]:
        if isinstance(self.languages, str):
            raise _fail("languages", "must be a list of language codes", "type")
        found: list[str] = []
        for i, raw in enumerate(self.languages):
            code = raw.strip().lower().replace("_", "-") if isinstance(raw, str) else ""
            if not _LANGUAGE.match(code):
                raise _fail(f"languages[{i}]", "must be an ISO 639-1 code such as en or zh", "language")
            if code not in found:
                found.append(code)
        if len(found) > MAX_LANGUAGES:
            raise _fail("languages", f"at most {MAX_LANGUAGES} languages", "max_items")
        return tuple(found)

    def _platforms(self) -> tuple[str, ...]:
        if isinstance(self.platforms, str):
            raise _fail("platforms", "must be a list of platform names", "type")
        found: list[str] = []
        for i, raw in enumerate(self.platforms):
            name = raw.strip().lower() if isinstance(raw, str) else ""
            if name not in KNOWN_PLATFORMS:
                allowed = ", ".join(sorted(KNOWN_PLATFORMS))
                raise _fail(f"platforms[{i}]", f"unknown platform; one of {allowed}", "enum")
            if name not in found:
                found.append(name)
        return tuple(found)

    def covers(self, platform: str | None, lang: str | None = None) -> bool:
        """Whether a mention on ``platform`` in ``lang`` is in scope (``None``, unknown, is kept)."""
        if self.platforms and platform is not None and platform not in self.platforms:
            return False
        if not self.languages or not lang:
            return True
        primary = lang.strip().lower().replace("_", "-").split("-")[0]
        return any(code.split("-")[0] == primary for code in self.languages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "name": self.name,
            "kind": self.kind.value,
            "terms": list(self.terms),
            "exclude": list(self.exclude),
            "languages": list(self.languages),
            "platforms": list(self.platforms),
            "is_competitor": self.is_competitor,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Monitor:
        """Build (and validate) a monitor from a request body or a stored item."""

        def seq(name: str) -> tuple[Any, ...]:
            value = data.get(name) or ()
            if isinstance(value, str) or not isinstance(value, list | tuple):
                raise _fail(name, "must be a list", "type")
            return tuple(value)

        return cls(
            id=data.get("id", ""),
            workspace_id=data.get("workspace_id", ""),
            name=data.get("name", ""),
            kind=data.get("kind", ""),
            terms=seq("terms"),
            exclude=seq("exclude"),
            languages=seq("languages"),
            platforms=seq("platforms"),
            is_competitor=bool(data.get("is_competitor", False)),
        )


@dataclass(frozen=True)
class Mention:
    """One public post that a platform search returned, in Chorus's shape.

    ``platform_id`` is the platform's id (tweet id, status id on the searched instance, post AT-URI);
    ``created_at`` is aware UTC; ``lang`` is the platform's language tag when it gives one.
    """

    platform: str
    platform_id: str
    url: str | None
    author_handle: str | None
    author_id: str
    text: str
    created_at: datetime
    lang: str | None = None


@dataclass(frozen=True)
class SearchPage:
    """What one poll found (oldest first, no duplicates of earlier polls) and the cursor to store.

    ``cursor`` is opaque: pass it back unchanged on the next poll. ``complete`` is False when the poll
    stopped at its page limit with older results still to fetch; the cursor remembers where, so the
    next poll continues there before moving on (no gap).
    """

    mentions: tuple[Mention, ...]
    cursor: str | None
    complete: bool = True
