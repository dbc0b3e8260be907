"""Publish a video to a YouTube channel through the resumable upload protocol, exactly once.

A YouTube post is one video (the root ``"0"``), uploaded as persisted steps
(``fixtures/platform_api/publishing/youtube/resumable_upload_session.http``):

1. **session** (part ``"session:<n>"``): ``POST /upload/youtube/v3/videos?uploadType=resumable
   &part=snippet,status&notifySubscribers=…`` with the metadata as JSON and ``X-Upload-Content-Length`` /
   ``X-Upload-Content-Type``; the answer's ``Location`` is the session URI, **persisted before the first
   byte is sent**. A session holds no video until its last byte arrives, so starting one again after a
   lost answer is harmless (the quota unit is spent again, never a second video).
2. **chunks** (parts ``"chunk:<n>:<first byte>"``, each recorded once YouTube acknowledged it): ``PUT
   {session}`` with ``Content-Range: bytes first-last/total``, every chunk but the last a multiple of
   256 KiB, each read from the media with a ``Range`` request. Non-final chunks are answered ``308
   Resume Incomplete`` with ``Range: bytes=0-N`` (what the server holds). A connection lost mid-chunk
   (or a 5xx) is answered by asking the server where it stands — ``PUT {session}`` with ``Content-Range:
   bytes */total`` → ``308`` + ``Range`` — and the upload **resumes at the server's offset**, never from
   the start and never as a second video. A continued call (a later step) asks the same first.
3. **the video** (the root): the last chunk's answer ``201`` (or ``200``) is the video resource; its
   ``id`` is the post (``https://www.youtube.com/watch?v={id}``). Sent through ``progress.step`` as
   repeatable: the session is the idempotency key, and a lost answer is read back from the session.
4. **thumbnail** (part ``"thumbnail"``, when the post has an image beside the video): ``POST
   /upload/youtube/v3/thumbnails/set?videoId={id}`` with the image's bytes (JPEG/PNG, ≤ 2 MB).

An expired session (``404``) starts the next one (``session:<n+1>``).

Metadata (``snippet`` / ``status``, ``videos_insert_request_body_docs.json``) from the post and its
YouTube options (``request.options``; the account's ``extra`` gives defaults): ``title`` (option, else
the text's first line, ≤ 100 characters), ``description`` (the rest of the text, ≤ 5,000 bytes), ``tags``
(option ``tags`` comma-separated, else the text's ``#hashtags``), ``categoryId`` (option ``category_id``,
default ``22`` People & Blogs), ``privacyStatus`` (``privacy``: public / unlisted / private),
``publishAt`` (``publish_at``, ISO 8601: YouTube then publishes the private video at that time),
``selfDeclaredMadeForKids`` (``made_for_kids``), and ``notifySubscribers`` (``notify_subscribers``,
default true) in the query.

Quota (:mod:`chorus.platforms.youtube.quota`): every ``videos.insert`` and ``thumbnails.set`` is charged
before it is sent; a day's budget spent means the post waits for the next quota day (``RateLimited``
with the reason), never a call over budget.

Verification (``find_published``): the session is asked where it stands; a complete upload answers the
video resource. Errors (Google's ``{error: {errors: [{reason}], code, message}}``): ``401`` →
``AuthError``; ``quotaExceeded`` → wait for the next quota day; ``rateLimitExceeded`` /
``userRateLimitExceeded`` → ``RateLimited``; ``uploadLimitExceeded`` (the channel's own daily cap) → wait
for the next quota day too; 5xx → retry; other 4xx → ``PermanentError`` with Google's message.
``delete``: ``DELETE /youtube/v3/videos?id={id}`` (50 units; a video already gone counts as deleted).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any

import requests

from chorus.platforms import parts
from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    AuthError,
    MediaItem,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
    RateLimited,
    TransientError,
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget
from chorus.platforms.http import DEFAULT_TIMEOUT, bearer, call, raise_for_platform
from chorus.platforms.uploads import media_range, media_size
from chorus.platforms.youtube.quota import Quota, until_next_quota_day

logger = logging.getLogger(__name__)

PLATFORM = "youtube"
API_URL = "https://www.googleapis.com/youtube/v3"
UPLOAD_URL = "https://www.googleapis.com/upload/youtube/v3"
TIMEOUT = DEFAULT_TIMEOUT
UPLOAD_TIMEOUT = DEFAULT_TIMEOUT
CHUNK_UNIT = 256 * 1024
"""Every chunk but the last is a multiple of 256 KiB (the resumable protocol's rule)."""
CHUNK_SIZE = 32 * CHUNK_UNIT  # 8 MiB
CONTINUE_STEP = "continue"
CONTINUE_DELAY_S = 1
LOST_CONNECTIONS = 3
"""Connections lost in one call (each answered by asking the server's offset) before it backs off."""
SESSION = "session"
THUMBNAIL = "thumbnail"
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500
DEFAULT_CATEGORY = "22"  # People & Blogs
PRIVACY = ("public", "unlisted", "private")
DAILY_REASONS = frozenset({"uploadLimitExceeded"})
"""The channel's own daily upload cap: it lifts with the quota day."""
HASHTAG = re.compile(r"(?<![\w#])#(\w{1,100})")


@contextmanager
def daily_caps() -> Iterator[None]:
    """The channel's own daily upload cap (``uploadLimitExceeded``) lifts with the quota day: the post
    waits for it, with the reason."""
    try:
        yield
    except PermanentError as exc:
        if exc.code not in DAILY_REASONS or isinstance(exc, AuthError):
            raise
        raise RateLimited(f"{exc.message} (the channel's daily uploads: waiting for the next day)",
                          retry_after=until_next_quota_day(datetime.now(UTC)), platform=PLATFORM,
                          code=exc.code, status=exc.status) from None  # fmt: skip


def video_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _option(request: PublishRequest, creds: AccountCredentials, name: str) -> str | None:
    """A YouTube option of the post, else the account's default for it."""
    value = request.options.get(name)
    return value if value not in (None, "") else creds.extra.get(name)


def title_and_description(text: str) -> tuple[str, str]:
    """The first line as the title (cut to ``TITLE_MAX`` characters) and the rest as the description;
    a one-line text is the title and the description both."""
    first, _newline, rest = text.strip().partition("\n")
    title = first.strip()[:TITLE_MAX].strip() or "Video"
    return title, (rest.strip() or text.strip())


def metadata(request: PublishRequest, creds: AccountCredentials) -> dict[str, Any]:
    """The video resource's ``snippet`` and ``status`` for ``videos.insert``."""
    own_title = request.options.get("title")
    title, description = title_and_description(request.text)
    if own_title:
        title, description = own_title.strip()[:TITLE_MAX], request.text.strip()
    description = description.replace("<", "").replace(">", "")  # YouTube refuses angle brackets
    description = description.encode()[:DESCRIPTION_MAX_BYTES].decode(errors="ignore")
    tags_option = request.options.get("tags")
    tags = ([t.strip() for t in tags_option.split(",") if t.strip()] if tags_option
            else list(dict.fromkeys(HASHTAG.findall(request.text))))  # fmt: skip
    kept: list[str] = []
    for tag in tags:
        if sum(len(t) + 1 for t in [*kept, tag]) <= TAGS_MAX_CHARS:
            kept.append(tag)
    snippet: dict[str, Any] = {
        "title": title.replace("<", "").replace(">", ""),
        "description": description,
        "categoryId": _option(request, creds, "category_id") or DEFAULT_CATEGORY,
        **({"tags": kept} if kept else {}),
    }
    privacy = (_option(request, creds, "privacy") or "public").lower()
    if privacy not in PRIVACY:
        raise PermanentError(
            f"privacy must be one of {', '.join(PRIVACY)}", platform=PLATFORM, code="privacy"
        )
    status: dict[str, Any] = {
        "privacyStatus": privacy,
        "selfDeclaredMadeForKids": _flag(_option(request, creds, "made_for_kids"), False),
    }
    publish_at = request.options.get("publish_at")
    if publish_at:
        status["privacyStatus"] = "private"  # publishAt can be set only on a private video
        status["publishAt"] = publish_at
    return {"snippet": snippet, "status": status}


def session_part(generation: int) -> str:
    return f"{SESSION}:{generation}"


def chunk_part(generation: int, first: int) -> str:
    return f"chunk:{generation}:{first}"


def _committed(resp: requests.Response) -> int:
    """The bytes the server holds, from a 308's ``Range: bytes=0-N`` (none: nothing yet)."""
    found = re.fullmatch(r"\s*bytes=0-(\d+)\s*", resp.headers.get("Range", ""))
    return int(found.group(1)) + 1 if found else 0


def _video(resp: requests.Response) -> tuple[str, str]:
    try:
        body = resp.json()
    except ValueError:
        body = None
    video_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(video_id, str) or not video_id:
        raise TransientError(
            f"the upload ended (HTTP {resp.status_code}) without a video id", platform=PLATFORM
        )
    return video_id, video_url(video_id)


class YouTubePublisher:
    name = PLATFORM
    request_budget_s: float = requests_budget(CALL_REQUESTS, TIMEOUT)

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        upload_url: str | None = None,
        *,
        quota: Quota | None = None,
        chunk_size: int | None = None,
    ) -> None:
        chunk_size = chunk_size or CHUNK_SIZE
        if chunk_size % CHUNK_UNIT:
            raise ValueError(f"chunk_size must be a multiple of {CHUNK_UNIT} bytes")
        self.session = session or requests.Session()
        self.base_url = (base_url or API_URL).rstrip("/")
        self.upload_url = (upload_url or UPLOAD_URL).rstrip("/")
        self.daily_quota = quota or Quota()
        self.chunk_size = chunk_size

    # -- publishing ----------------------------------------------------------------------------------

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        if request.reply_to or request.thread or request.first_comment:
            raise PermanentError("a YouTube video has no replies, thread parts or first comment here",
                                 platform=PLATFORM)  # fmt: skip
        videos = [m for m in request.media if m.mime_type.startswith("video/")]
        if len(videos) != 1:
            raise PermanentError(
                "a YouTube post is exactly one video", platform=PLATFORM, code="video_required"
            )
        metadata(request, creds)  # a bad option fails before anything is sent
        return self._run(creds, request)

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        parts.resumed_state(step, (CONTINUE_STEP,), PLATFORM, "YouTube")
        return self._run(creds, request)

    def _run(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        progress = request.progress
        budget = CallBudget(self.request_budget_s)
        try:
            with daily_caps():
                if progress.done(ROOT) is None:
                    self._upload(creds, request, budget)
                thumb = _thumbnail(request)
                if thumb is not None and progress.done(THUMBNAIL) is None:
                    budget.spend(UPLOAD_TIMEOUT, UPLOAD_TIMEOUT)  # read the image, send it
                    progress.step(THUMBNAIL, partial(self._set_thumbnail, creds, progress.landed[ROOT], thumb),
                                  idempotent=True)  # fmt: skip
        except OutOfBudget:
            return PendingStep(CONTINUE_STEP, {}, delay_seconds=CONTINUE_DELAY_S)
        return parts.published(request)

    def _session(self, request: PublishRequest) -> tuple[int, str | None]:
        """The current session's generation and URI (None: none started yet)."""
        generation = 1
        while request.progress.done(session_part(generation + 1)) is not None:
            generation += 1
        return generation, request.progress.done(session_part(generation))

    def _upload(self, creds: AccountCredentials, request: PublishRequest, budget: CallBudget) -> None:
        progress = request.progress
        item = next(m for m in request.media if m.mime_type.startswith("video/"))
        generation, uri = self._session(request)
        offset: int | None = None  # None: ask the server where it stands before sending
        budget.spend(UPLOAD_TIMEOUT)
        size = media_size(item, PLATFORM, UPLOAD_TIMEOUT)
        if uri is None:
            budget.spend(TIMEOUT)
            uri = progress.step(session_part(generation), partial(self._start, creds, request, item, size),
                                idempotent=True)  # fmt: skip
            offset = 0
        progress.release()  # a claimed root goes out only with the last chunk (its own step)
        lost = 0
        while progress.done(ROOT) is None:
            if offset is None:
                budget.spend(TIMEOUT)
                try:
                    answer = self._status(creds, uri, size)
                except PermanentError as exc:
                    if exc.status != 404 or isinstance(exc, AuthError):
                        raise
                    logger.info("youtube_session_expired", extra={"target_id": request.target_id})
                    generation += 1
                    budget.spend(UPLOAD_TIMEOUT, TIMEOUT)
                    uri = progress.step(session_part(generation),
                                        partial(self._start, creds, request, item, size), idempotent=True)  # fmt: skip
                    offset = 0
                    continue
                if isinstance(answer, tuple):
                    progress.record(ROOT, *answer)  # the last byte had arrived: the video exists
                    break
                offset = answer
            last = min(offset + self.chunk_size, size) - 1
            budget.spend(UPLOAD_TIMEOUT, UPLOAD_TIMEOUT)  # read the range, send it
            try:
                if last + 1 >= size:
                    progress.step(ROOT, partial(self._final, creds, item, uri, offset, size), idempotent=True)
                    break
                first, offset = offset, self._chunk(creds, item, uri, offset, last, size)
                progress.record(chunk_part(generation, first), str(offset))  # what the server holds
            except TransientError as exc:
                if isinstance(exc, RateLimited) or lost >= LOST_CONNECTIONS:
                    raise
                lost += 1
                logger.info("youtube_upload_interrupted", extra={"target_id": request.target_id,
                                                                 "error": exc.message})  # fmt: skip
                offset = None

    def _start(self, creds: AccountCredentials, request: PublishRequest, item: MediaItem, size: int) -> str:
        """Start a resumable session (one ``videos.insert``, charged first); its URI."""
        self.daily_quota.charge("videos.insert")
        notify = _flag(_option(request, creds, "notify_subscribers"), True)
        params = {
            "uploadType": "resumable",
            "part": "snippet,status",
            "notifySubscribers": str(notify).lower(),
        }
        headers = {**bearer(creds.access_token), "Content-Type": "application/json; charset=UTF-8",
                   "X-Upload-Content-Length": str(size), "X-Upload-Content-Type": item.mime_type}  # fmt: skip
        with self.daily_quota.watch("videos.insert"):
            resp = call(self.session, "POST", f"{self.upload_url}/videos", PLATFORM, params=params,
                        headers=headers, json=metadata(request, creds), idempotent=True)  # fmt: skip
        uri = resp.headers.get("Location")
        if not uri:
            raise TransientError("YouTube started no upload session (no Location)", platform=PLATFORM)
        logger.info("youtube_session_started", extra={"target_id": request.target_id, "bytes": size})
        return uri

    def _put(self, creds: AccountCredentials, uri: str, data: bytes, content_range: str) -> requests.Response:
        """One PUT to the session (a chunk, or an empty status query); 308 is not a redirect here."""
        return call(self.session, "PUT", uri, PLATFORM, data=data,
                    headers={**bearer(creds.access_token), "Content-Range": content_range},
                    allow_redirects=False)  # fmt: skip

    def _status(self, creds: AccountCredentials, uri: str, size: int) -> int | tuple[str, str]:
        """Where the session stands: the bytes the server holds, or the video once complete."""
        resp = self._put(creds, uri, b"", f"bytes */{size}")
        if resp.status_code == 308:
            return _committed(resp)
        return _video(resp)

    def _chunk(
        self, creds: AccountCredentials, item: MediaItem, uri: str, first: int, last: int, size: int
    ) -> int:
        data = media_range(item, first, last, PLATFORM, UPLOAD_TIMEOUT)[0]
        resp = self._put(creds, uri, data, f"bytes {first}-{last}/{size}")
        if resp.status_code != 308:
            raise_for_platform(resp, PLATFORM)
            raise PermanentError(f"YouTube answered a middle chunk with HTTP {resp.status_code}",
                                 platform=PLATFORM, status=resp.status_code)  # fmt: skip
        return _committed(resp)

    def _final(
        self, creds: AccountCredentials, item: MediaItem, uri: str, first: int, size: int
    ) -> tuple[str, str]:
        data = media_range(item, first, size - 1, PLATFORM, UPLOAD_TIMEOUT)[0]
        resp = self._put(creds, uri, data, f"bytes {first}-{size - 1}/{size}")
        if resp.status_code == 308:  # the server lacks earlier bytes: ask it, resume there
            raise TransientError(f"YouTube holds {_committed(resp)} of {size} bytes", platform=PLATFORM)
        video_id, url = _video(resp)
        logger.info("youtube_uploaded", extra={"video_id": video_id, "bytes": size})
        return video_id, url

    def _set_thumbnail(self, creds: AccountCredentials, video_id: str, image: MediaItem) -> str:
        data, size = media_range(image, 0, THUMBNAIL_MAX_BYTES - 1, PLATFORM, UPLOAD_TIMEOUT)
        if size > THUMBNAIL_MAX_BYTES:
            raise PermanentError(f"a YouTube thumbnail is at most 2 MB; this image has {size} bytes",
                                 platform=PLATFORM, code="thumbnail_too_large")  # fmt: skip
        self.daily_quota.charge("thumbnails.set")
        with self.daily_quota.watch("thumbnails.set"):
            call(self.session, "POST", f"{self.upload_url}/thumbnails/set", PLATFORM, params={"videoId": video_id},
                 data=data, headers={**bearer(creds.access_token), "Content-Type": image.mime_type},
                 idempotent=True)  # fmt: skip
        return video_id

    # -- verification --------------------------------------------------------------------------------

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        """The video of the target's session, when its upload completed."""
        _generation, uri = self._session(request)
        item = next((m for m in request.media if m.mime_type.startswith("video/")), None)
        if uri is None or item is None:
            return None
        size = media_size(item, PLATFORM, UPLOAD_TIMEOUT)
        try:
            answer = self._status(creds, uri, size)
        except PermanentError as exc:
            if exc.status == 404 and not isinstance(exc, AuthError):
                return None  # the session expired: no video was made through it since
            raise
        if isinstance(answer, tuple):
            return PublishResult(platform_post_id=answer[0], url=answer[1])
        return None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        return None  # a video is one part

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        self.daily_quota.charge("videos.delete")
        try:
            call(self.session, "DELETE", f"{self.base_url}/videos", PLATFORM, params={"id": platform_post_id},
                 headers=bearer(creds.access_token))  # fmt: skip
        except PermanentError as exc:
            if isinstance(exc, AuthError) or exc.status != 404:
                raise
            logger.info("already_deleted", extra={"platform": PLATFORM, "object_id": platform_post_id})


def _thumbnail(request: PublishRequest) -> MediaItem | None:
    return next((m for m in request.media if m.mime_type.startswith("image/")), None)
