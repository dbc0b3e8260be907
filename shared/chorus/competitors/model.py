"""A competitor (a public account of another brand), its collected posts and its follower readings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from chorus.errors import ValidationFailed

PLATFORMS = ("bluesky", "mastodon", "x", "youtube", "instagram")
MAX_HANDLE = 300


class ContentType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    LINK = "link"


@dataclass(frozen=True)
class Profile:
    """What a platform's public lookup says about an account."""

    platform_id: str
    handle: str
    display_name: str | None
    url: str | None
    followers: int | None
    base_url: str | None = None  # Mastodon: the account's instance
    extra: Mapping[str, str] = field(default_factory=dict)  # YouTube: the uploads playlist


@dataclass(frozen=True)
class CompetitorPost:
    """One public post of a competitor, with its counts when last collected."""

    platform_post_id: str
    created_at: datetime
    content_type: ContentType
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    views: int | None = None
    url: str | None = None
    text: str = ""

    @property
    def engagements(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform_post_id": self.platform_post_id,
            "created_at": self.created_at.isoformat(),
            "content_type": self.content_type.value,
            "likes": self.likes,
            "reposts": self.reposts,
            "replies": self.replies,
            "quotes": self.quotes,
            "views": self.views,
            "url": self.url,
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompetitorPost:
        return cls(
            platform_post_id=str(data["platform_post_id"]),
            created_at=datetime.fromisoformat(str(data["created_at"])),
            content_type=ContentType(str(data["content_type"])),
            likes=int(data.get("likes") or 0),
            reposts=int(data.get("reposts") or 0),
            replies=int(data.get("replies") or 0),
            quotes=int(data.get("quotes") or 0),
            views=None if data.get("views") is None else int(data["views"]),
            url=data.get("url"),
            text=str(data.get("text") or ""),
        )


@dataclass(frozen=True)
class FollowerPoint:
    day: date
    followers: int


@dataclass(frozen=True)
class Competitor:
    id: str
    workspace_id: str
    platform: str
    handle: str
    platform_id: str
    display_name: str | None
    url: str | None
    added_at: datetime
    base_url: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def resolved(self) -> bool:
        """False until the platform's lookup named the account (an Instagram competitor: the collector)."""
        return bool(self.platform_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "platform": self.platform,
            "handle": self.handle,
            "platform_id": self.platform_id,
            "display_name": self.display_name,
            "url": self.url,
            "added_at": self.added_at.isoformat(),
            "base_url": self.base_url,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Competitor:
        return cls(
            id=str(data["id"]),
            workspace_id=str(data["workspace_id"]),
            platform=str(data["platform"]),
            handle=str(data["handle"]),
            platform_id=str(data["platform_id"]),
            display_name=data.get("display_name"),
            url=data.get("url"),
            added_at=datetime.fromisoformat(str(data["added_at"])),
            base_url=data.get("base_url"),
            extra={str(k): str(v) for k, v in dict(data.get("extra") or {}).items()},
        )

    def public(self) -> dict[str, Any]:
        out = self.to_dict()
        out.pop("extra")
        out.pop("workspace_id")
        out["platform_id"] = self.platform_id or None
        out["resolved"] = self.resolved
        if "via_account" in self.extra:
            out["via_account"] = self.extra["via_account"]
        return out


def check_platform(platform: str) -> str:
    value = platform.strip().lower()
    if value not in PLATFORMS:
        raise ValidationFailed.on("platform", f"must be one of {', '.join(PLATFORMS)}", "enum")
    return value


def split_handle(platform: str, raw: str) -> tuple[str, str | None]:
    """``(handle, instance host)`` from what a person typed: a handle (``@acme``, ``acme.bsky.social``,
    ``acme@mastodon.social``) or the account's profile URL. Anything else is a 422 naming ``handle``."""
    text = raw.strip()
    if not text or len(text) > MAX_HANDLE:
        raise ValidationFailed.on("handle", "a handle or profile URL is required", "required")
    host: str | None = None
    if text.startswith(("https://", "http://")):
        from urllib.parse import urlsplit

        parts = urlsplit(text)
        path = [p for p in parts.path.split("/") if p]
        host = (parts.hostname or "").lower() or None
        if platform == "bluesky" and len(path) >= 2 and path[0] == "profile":
            text, host = path[1], None
        elif platform in ("x", "youtube", "instagram") and path:
            text, host = path[0], None
        elif platform == "mastodon" and path and path[0].startswith("@"):
            text = path[0]
        else:
            raise ValidationFailed.on("handle", "not a profile URL of this platform", "invalid")
    text = text.removeprefix("@")
    if platform == "mastodon":
        user, _, at_host = text.partition("@")
        host = at_host.lower() or host
        if not user or not host:
            raise ValidationFailed.on(
                "handle", "a Mastodon handle needs its server: user@server.example", "invalid"
            )
        return user, host
    if not text or any(c.isspace() or c in "/?#@" for c in text):
        raise ValidationFailed.on("handle", "not a valid handle", "invalid")
    return text, None
