"""The one small interface every platform adapter implements, and the errors adapters raise.

Domain code (publishing, inbox replies, metrics collection) talks to platforms only through these
types. Adapters translate each platform's HTTP answers into the errors below, so the domain can
decide to retry, park, fail or verify without knowing any platform's quirks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from chorus.net.redact import redact


class PlatformError(Exception):
    """Base of everything an adapter raises. ``message`` is the platform's own wording, redacted."""

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        message = redact(message)  # no secret in any message (issue 14): platforms echo URLs and bodies
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


ROOT = "0"
"""The part name of the first post; thread parts are ``"1"``, ``"2"``, ...; the first comment is ``COMMENT``."""
COMMENT = "comment"
INBOX = "inbox"
"""A part an adapter records (its value the platform's id of the upload) when the post went to the
account's inbox on the platform, for a person to finish it in the platform's app (TikTok's "upload to
inbox"): the publisher ends such a target ``sent_to_inbox``, not ``published``."""


def thread_part(number: int) -> str:
    """The part name of thread part ``number`` (1-based: the first reply under the root is ``"1"``)."""
    return str(number)


def part_names(thread_parts: int, first_comment: bool) -> list[str]:
    """Every part of a publish, in the order they are created."""
    return [
        ROOT,
        *(thread_part(n) for n in range(1, thread_parts + 1)),
        *([COMMENT] if first_comment else []),
    ]


class ProgressStore(Protocol):
    """Where a target's progress is persisted (the publisher's store; nothing in memory-only tests)."""

    def part_sent(self, part: str) -> None:
        """``part``'s request is about to go out: persisted before the call."""
        ...

    def part_unsent(self, part: str) -> None:
        """``part``'s request certainly did not take effect (a definite refusal or transient error)."""
        ...

    def part_landed(self, part: str, platform_id: str, url: str | None) -> None:
        """``part`` exists on the platform as ``platform_id``: persisted before the next call."""
        ...


@dataclass
class Progress:
    """A target's idempotency material and per-part progress (decision 11).

    ``key`` and ``started_at`` are persisted before the first platform call and read back on every retry
    and verify, never recomputed: every Idempotency-Key, record key (Bluesky rkey) and client reference
    an adapter sends is derived from them (``idempotency_key(part)``). ``landed`` maps each part that
    exists on the platform to its platform id; ``sent`` names the parts whose request went out without a
    known answer (a timeout, a crash mid-call): those are verified before anything is sent again.

    Adapters create every part through :meth:`step`, so a retry resumes at the first missing part.

    Two writes the publisher folds into its own (docs/exactly_once.md): ``claimed`` is the part its
    ``queued -> publishing`` write already marked sent (the first step of that part writes no mark of
    its own; a first step of another part, or an error before any step, clears it: that request never
    went out); ``deferred`` is the part whose landing is kept in ``unsaved`` for the publisher's final
    transition to write (it stays marked sent in the store until then, so a crash in between is
    verified, never sent again blindly). Any further step persists it first.
    """

    key: str
    started_at: datetime
    landed: dict[str, str] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    root_url: str | None = None
    store: ProgressStore | None = None
    claimed: str | None = None
    deferred: str | None = None
    unsaved: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def idempotency_key(self, part: str = ROOT) -> str:
        """The persisted idempotency material for ``part`` (the same on every attempt)."""
        return self.key if part == ROOT else f"{self.key}:{part}"

    def done(self, part: str) -> str | None:
        """The platform id of ``part`` if it already exists."""
        return self.landed.get(part)

    def pending(self, order: list[str]) -> str | None:
        """The first part of ``order`` that was sent without a known answer (to verify), if any."""
        return next((p for p in order if p in self.sent and p not in self.landed), None)

    def record(self, part: str, platform_id: str, url: str | None = None) -> None:
        """``part`` exists as ``platform_id``: persisted now, before anything else is sent (the
        ``deferred`` part: by the publisher's next write, or by the next step, whichever comes first)."""
        if part == self.deferred:
            self.unsaved[part] = (platform_id, url)
        elif self.store is not None:
            self.store.part_landed(part, platform_id, url)
        self.landed[part] = platform_id
        self.sent.discard(part)
        if part == ROOT and url:
            self.root_url = url

    def step(
        self,
        part: str,
        create: Callable[[], str | tuple[str, str | None]],
        *,
        idempotent: bool = False,
    ) -> str:
        """Create ``part`` once: its platform id if it already landed; else mark it sent (persisted),
        call ``create`` (which returns the platform id, or ``(id, url)``) and record what landed.

        A part sent before without a known answer raises :class:`UnknownOutcome` so the publisher
        verifies it first, unless ``idempotent`` (the platform dedupes the repeated request itself:
        Mastodon's Idempotency-Key, Bluesky's fixed rkey). A definite refusal or transient error clears
        the mark (the platform did not act); an unknown outcome keeps it.
        """
        landed = self.landed.get(part)
        if landed is not None:
            return landed
        self.flush()
        if part == self.claimed:
            self.claimed = None  # marked sent by the claim, in the same write
        else:
            self.release()
            if part in self.sent and not idempotent:
                raise UnknownOutcome(
                    f"part {part} was sent without a known answer: verify it before sending again"
                )
            if self.store is not None:
                self.store.part_sent(part)
        self.sent.add(part)
        try:
            created = create()
        except UnknownOutcome:
            raise
        except PlatformError:
            if self.store is not None:
                self.store.part_unsent(part)
            self.sent.discard(part)
            raise
        platform_id, url = created if isinstance(created, tuple) else (created, None)
        self.record(part, platform_id, url)
        return platform_id

    def flush(self) -> None:
        """Persist the landings kept for the publisher's next write (it will not come: an error, or a
        further part to send)."""
        while self.unsaved:
            part, (platform_id, url) = self.unsaved.popitem()
            if self.store is not None:
                self.store.part_landed(part, platform_id, url)

    def release(self) -> None:
        """The claimed part's request did not go out: clear its sent mark."""
        part, self.claimed = self.claimed, None
        if part is not None:
            if self.store is not None:
                self.store.part_unsent(part)
            self.sent.discard(part)

    def take_unsaved(self) -> dict[str, tuple[str, str | None]]:
        """The landings the caller's next write persists (and clears from here)."""
        taken, self.unsaved = self.unsaved, {}
        return taken

    @classmethod
    def in_memory(cls, key: str, started_at: datetime | None = None) -> Progress:
        """Progress that lives only in memory (adapter tests, previews): nothing is persisted."""
        return cls(key=key, started_at=started_at or datetime.now(UTC))


@dataclass(frozen=True)
class PublishRequest:
    target_id: str  # Chorus's id of this (post, account) target
    text: str
    media: tuple[MediaItem, ...] = ()
    link: str | None = None
    thread: tuple[str, ...] = ()  # further parts, published as replies to the first
    first_comment: str | None = None
    reply_to: str | None = None  # platform id of the post/comment/DM thread this answers
    not_before: datetime | None = None  # earliest time the post can exist (for verification)
    title: str | None = None  # the post's title where the platform has one (a WeChat article)
    # the link as the post gave it, before UTM tags and a short link: what names a link card (LinkedIn)
    link_original: str | None = None
    progress: Progress = None  # type: ignore[assignment]  # persisted idempotency material; see __post_init__
    options: Mapping[str, str] = field(default_factory=dict)  # the platform's own settings (Content.options)

    def __post_init__(self) -> None:
        if self.progress is None:  # adapter tests and one-off calls: in memory, keyed by the target id
            object.__setattr__(self, "progress", Progress.in_memory(self.target_id, self.not_before))

    @property
    def parts(self) -> list[str]:
        """Every part of this publish in creation order (root, thread parts, first comment)."""
        return part_names(len(self.thread), bool(self.first_comment))


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
        """Look on the platform for the root post made for ``request`` (used in `verifying`)."""
        ...

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        """Look on the platform for follow-up ``part`` (a thread part or the first comment) made for
        ``request``, under the parent ``request.progress`` holds; its platform id, or None. An adapter
        whose parts are created idempotently may look it up by its persisted key."""
        ...

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None: ...


@runtime_checkable
class MetricsCollector(Protocol):
    name: str

    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]: ...

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]: ...


@dataclass(frozen=True)
class TimelinePost:
    """One of an account's own posts as its platform's timeline lists it (made through Chorus or not)."""

    platform_post_id: str  # the id metric points carry as ``object_id``
    published_at: datetime  # timezone-aware
    text: str = ""
    url: str | None = None


TIMELINE_MAX_PAGES = 5  # pages one read may take: a bound on calls (and quota) per account a day


def newest_first(posts: Iterable[TimelinePost], since: datetime) -> list[TimelinePost]:
    """``posts`` published at or after ``since``, newest first, each id once."""
    unique = {p.platform_post_id: p for p in posts if p.published_at >= since}
    return sorted(unique.values(), key=lambda p: p.published_at, reverse=True)


def paged_timeline(
    page: Callable[[str | None], tuple[Iterable[TimelinePost | None], str | None]], since: datetime
) -> list[TimelinePost]:
    """A cursor-paged timeline read as :meth:`TimelineReader.recent_posts` reads one: ``page(cursor)``
    answers one page's posts (None for an item that is no post of the account's) and the next page's
    cursor (None: the last page); pages are read from the newest (cursor None) while a next one exists
    and the page has not reached back before ``since``, at most :data:`TIMELINE_MAX_PAGES`."""
    found: list[TimelinePost] = []
    cursor: str | None = None
    for _ in range(TIMELINE_MAX_PAGES):
        posts, cursor = page(cursor)
        kept = [post for post in posts if post is not None]
        found += kept
        if not cursor or any(post.published_at < since for post in kept):
            break
    return newest_first(found, since)


def timeline_time(value: Any, *, naive_is_utc: bool = False) -> datetime | None:
    """A platform's ISO 8601 time (``Z``, ``+00:00`` or ``+0000`` offsets) as aware UTC; None if not one.

    A time without an offset is not guessed, unless the platform is known to send UTC that way
    (``naive_is_utc``: Pinterest's recorded ``created_at``)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC) if naive_is_utc else None
    return parsed.astimezone(UTC)


@runtime_checkable
class TimelineReader(Protocol):
    """A collector that can list the account's own recent posts (its timeline, feed or media)."""

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        """The account's own posts published at or after ``since``, newest first: the newest page
        first, then older pages while they still reach ``since``, at most :data:`TIMELINE_MAX_PAGES`.
        Reposts of other accounts' posts are not the account's posts. Errors as ``post_metrics``."""
        ...
