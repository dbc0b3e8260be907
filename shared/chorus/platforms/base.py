"""The one small interface every platform adapter implements, and the errors adapters raise.

Domain code (publishing, inbox replies, metrics collection) talks to platforms only through these
types. Adapters translate each platform's HTTP answers into the errors below, so the domain can
decide to retry, park, fail or verify without knowing any platform's quirks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class PlatformError(Exception):
    """Base of everything an adapter raises. ``message`` is the platform's own wording."""

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.code = code
        self.status = status


class TransientError(PlatformError):
    """5xx, connection refused, throttling: try again later (after ``retry_after`` if known)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class RateLimited(TransientError):
    """429 or an exhausted quota. The target waits (it is parked, not failed)."""


class PermanentError(PlatformError):
    """The platform refused the request for good (4xx): retrying cannot help."""


class AuthError(PermanentError):
    """The token is revoked or expired and cannot be refreshed: the account needs re-authorisation."""


class UnknownOutcome(PlatformError):
    """The request may or may not have taken effect (timeout after sending): verify before retrying."""


@dataclass(frozen=True)
class AccountCredentials:
    """What an adapter needs to act as one connected account (decrypted, in memory only)."""

    platform: str
    account_id: str  # the platform's id of the account: page id, IG user id, DID, user id
    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    handle: str | None = None
    base_url: str | None = None  # Mastodon instance, Bluesky PDS, or a loopback server in tests
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MediaItem:
    url: str  # an HTTP(S) URL the adapter can GET (a presigned S3 URL for uploads)
    mime_type: str
    alt_text: str = ""
    size: int | None = None


@dataclass(frozen=True)
class PublishRequest:
    target_id: str  # Chorus's id of this (post, account) target: the idempotency key
    text: str
    media: tuple[MediaItem, ...] = ()
    link: str | None = None
    thread: tuple[str, ...] = ()  # further parts, published as replies to the first
    first_comment: str | None = None
    reply_to: str | None = None  # platform id of the post/comment/DM thread this answers
    not_before: datetime | None = None  # earliest time the post can exist (for verification)


@dataclass(frozen=True)
class PublishResult:
    platform_post_id: str
    url: str | None = None
    part_ids: tuple[str, ...] = ()  # ids of thread parts / first comment, in order


@dataclass(frozen=True)
class PendingStep:
    """An asynchronous publish (Instagram container, video processing) needs another step later.

    The publisher stores ``state`` on the target and calls ``continue_publish`` after ``delay_seconds``,
    each step its own message, so a crash between steps is detected rather than repeated.
    """

    step: str
    state: Mapping[str, str]
    delay_seconds: int = 5


class MetricScope(StrEnum):
    ACCOUNT = "account"
    POST = "post"


@dataclass(frozen=True)
class MetricPoint:
    """One observed value. Canonical metric names: followers, follows, impressions, reach, views,
    profile_visits, likes, comments, shares, quotes, saves, clicks, video_views, engagements.
    A metric a platform does not offer is absent, never zero."""

    scope: MetricScope
    object_id: str  # platform account id or platform post id
    metric: str
    value: int
    at: datetime  # when the value holds (platform end_time, else collection time), UTC
    period: str = "lifetime"  # lifetime | day | week | days_28


def counted_points(
    scope: MetricScope, object_id: str, body: Any, names: Mapping[str, str], at: datetime
) -> list[MetricPoint]:
    """Points for the integer counters ``names`` maps (platform field -> metric) that ``body`` has.

    A field that is missing, null or not an integer gives no point: absent, never zero."""
    if not isinstance(body, Mapping):
        return []
    points = []
    for field_name, metric in names.items():
        value = body.get(field_name)
        if isinstance(value, int) and not isinstance(value, bool):
            points.append(MetricPoint(scope, object_id, metric, value, at))
    return points


@runtime_checkable
class PublishingAdapter(Protocol):
    name: str

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep: ...

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep: ...

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        """Look on the platform for a post made for ``request`` (used in `verifying`)."""
        ...

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None: ...


@runtime_checkable
class MetricsCollector(Protocol):
    name: str

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]: ...

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]: ...
