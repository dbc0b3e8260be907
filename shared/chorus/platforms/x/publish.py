"""Publish to X (API v2, OAuth 2.0 user token).

- Post: ``POST /2/tweets`` with ``text``, ``media.media_ids`` and, for a reply or a thread part,
  ``reply.in_reply_to_tweet_id``.
- Media (v2 media upload): an image in one ``POST /2/media/upload`` (multipart ``media`` +
  ``media_category=tweet_image``); a video or GIF chunked — ``POST /2/media/upload/initialize``,
  ``POST /2/media/upload/{id}/append`` per 4 MB segment, ``POST /2/media/upload/{id}/finalize``, then
  ``GET /2/media/upload?command=STATUS&media_id=`` until processing succeeds. Alt text through
  ``POST /2/media/metadata``.
- Thread parts reply to the previous part, the first comment replies to the first post. X has no
  idempotency key, so once the first post exists a failure on a later part never fails the target: a
  transient failure returns ``PendingStep("thread")`` carrying the progress, and ``continue_publish``
  first looks for the part among the account's recent posts (the failed request may have gone through)
  before posting it. A part X refuses for good is logged and skipped.
- 429 -> ``RateLimited`` with ``retry_after`` from ``x-rate-limit-reset`` (``chorus.platforms.http``).
- ``find_published``: ``GET /2/users/:id/tweets`` from ``not_before`` whose text matches (X rewrites
  URLs to t.co and escapes ``&``, so texts are compared by ``text.match_key``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MediaItem,
    PendingStep,
    PermanentError,
    PlatformError,
    PublishRequest,
    PublishResult,
    TransientError,
)
from chorus.platforms.http import call, json_body
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "x"
API_URL = "https://api.x.com"
UPLOAD_TIMEOUT = (3.05, 120.0)
CHUNK_BYTES = 4 * 1024 * 1024
MEDIA_DEADLINE_SECONDS = 120.0
THREAD_STEP = "thread"
CLOCK_SKEW = timedelta(minutes=2)


def post_url(tweet_id: str, handle: str | None = None) -> str:
    return f"https://x.com/{handle}/status/{tweet_id}" if handle else f"https://x.com/i/web/status/{tweet_id}"


def _category(item: MediaItem) -> str:
    if item.mime_type == "image/gif":
        return "tweet_gif"
    return "tweet_video" if item.mime_type.startswith("video/") else "tweet_image"


class XPublisher:
    name = PLATFORM

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        media_deadline: float = MEDIA_DEADLINE_SECONDS,
    ) -> None:
        self.session = session or requests.Session()
        self.base_url = (base_url or API_URL).rstrip("/")
        self._sleep = sleep
        self._clock = clock
        self._media_deadline = media_deadline

    def _call(self, creds: AccountCredentials, method: str, path: str, **kw: Any) -> Any:
        headers = {**(kw.pop("headers", None) or {}), "Authorization": f"Bearer {creds.access_token}"}
        resp = call(self.session, method, f"{self.base_url}{path}", PLATFORM, headers=headers, **kw)
        return json_body(resp, PLATFORM) if resp.content else {}

    # -- media ---------------------------------------------------------------------------------------

    def upload_media(self, creds: AccountCredentials, item: MediaItem) -> str:
        data = call(self.session, "GET", item.url, PLATFORM, timeout=UPLOAD_TIMEOUT).content
        category = _category(item)
        if category == "tweet_image":
            body = self._call(
                creds,
                "POST",
                "/2/media/upload",
                files={"media": ("media", data, item.mime_type)},
                data={"media_category": category},
                timeout=UPLOAD_TIMEOUT,
                idempotent=True,  # an unused upload expires on its own
            )
            media_id = str(body["data"]["id"])
        else:
            media_id = self._chunked_upload(creds, item, data, category)
        if item.alt_text:
            self._call(
                creds,
                "POST",
                "/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": item.alt_text[:1000]}}},
                idempotent=True,
            )
        return media_id

    def _chunked_upload(self, creds: AccountCredentials, item: MediaItem, data: bytes, category: str) -> str:
        init = self._call(
            creds,
            "POST",
            "/2/media/upload/initialize",
            json={"media_type": item.mime_type, "total_bytes": len(data), "media_category": category},
            idempotent=True,
        )
        media_id = str(init["data"]["id"])
        for index, start in enumerate(range(0, len(data), CHUNK_BYTES)):
            self._call(
                creds,
                "POST",
                f"/2/media/upload/{media_id}/append",
                files={"media": ("chunk", data[start : start + CHUNK_BYTES], "application/octet-stream")},
                data={"segment_index": str(index)},
                timeout=UPLOAD_TIMEOUT,
                idempotent=True,
            )
        done = self._call(creds, "POST", f"/2/media/upload/{media_id}/finalize", idempotent=True)
        info = (done.get("data") or {}).get("processing_info")
        deadline = self._clock() + self._media_deadline
        while info and info.get("state") in ("pending", "in_progress"):
            if self._clock() >= deadline:
                raise TransientError(f"media {media_id} still processing", platform=PLATFORM, retry_after=60)
            self._sleep(float(info.get("check_after_secs") or 1))
            status = self._call(
                creds, "GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id}
            )
            info = (status.get("data") or {}).get("processing_info")
        if info and info.get("state") == "failed":
            error = info.get("error") or {}
            raise PermanentError(
                f"X could not process the media: {error.get('message') or error.get('name') or 'failed'}",
                platform=PLATFORM,
            )
        return media_id

    # -- posts ---------------------------------------------------------------------------------------

    def _tweet(
        self,
        creds: AccountCredentials,
        text: str,
        reply_to: str | None = None,
        media_ids: list[str] | None = None,
    ) -> str:
        body: dict[str, Any] = {"text": text}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to}
        answer = self._call(creds, "POST", "/2/tweets", json=body, idempotent=False)
        return str(answer["data"]["id"])

    def _followups(self, request: PublishRequest) -> list[tuple[str, bool]]:
        """(text, replies to the root?) for each thread part, then the first comment."""
        parts = [(part, False) for part in request.thread]
        if request.first_comment:
            parts.append((request.first_comment, True))
        return parts

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        media_ids = [self.upload_media(creds, item) for item in request.media]
        text = textlib.compose_text(request.text, request.link)
        root = self._tweet(creds, text, request.reply_to, media_ids)
        logger.info("x_published", extra={"target_id": request.target_id, "tweet_id": root})
        return self._continue_thread(
            creds, request, root, parent=root, start=0, part_ids=[], check_first=False
        )

    def _continue_thread(
        self,
        creds: AccountCredentials,
        request: PublishRequest,
        root: str,
        *,
        parent: str,
        start: int,
        part_ids: list[str],
        check_first: bool,
    ) -> PublishResult | PendingStep:
        followups = self._followups(request)
        for index in range(start, len(followups)):
            text, to_root = followups[index]
            reply_to = root if to_root else parent
            try:
                found = self._find_reply(creds, reply_to, text) if check_first and index == start else None
                tweet_id = found or self._tweet(creds, text, reply_to)
            except PlatformError as exc:
                if isinstance(exc, PermanentError) and not isinstance(exc, AuthError):
                    logger.warning("x_thread_part_refused", extra={"index": index, "reason": exc.message})
                    continue
                state = {
                    "root_id": root,
                    "parent_id": parent,
                    "next": str(index),
                    "part_ids": ",".join(part_ids),
                }
                return PendingStep(THREAD_STEP, state, delay_seconds=30)
            part_ids.append(tweet_id)
            if not to_root:
                parent = tweet_id
        return PublishResult(
            platform_post_id=root, url=post_url(root, creds.handle), part_ids=tuple(part_ids)
        )

    def _find_reply(self, creds: AccountCredentials, parent: str, text: str) -> str | None:
        body = self._call(
            creds,
            "GET",
            f"/2/users/{creds.account_id}/tweets",
            params={"max_results": 20, "tweet.fields": "created_at,referenced_tweets"},
        )
        wanted = textlib.match_key(text)
        for tweet in body.get("data") or []:
            refs = tweet.get("referenced_tweets") or []
            replies_to_parent = any(r.get("type") == "replied_to" and r.get("id") == parent for r in refs)
            if replies_to_parent and textlib.match_key(tweet.get("text") or "") == wanted:
                return str(tweet["id"])
        return None

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        if step.step != THREAD_STEP:
            raise PermanentError(f"X has no pending step {step.step!r}", platform=PLATFORM)
        state = step.state
        done = [i for i in state.get("part_ids", "").split(",") if i]
        return self._continue_thread(
            creds,
            request,
            state["root_id"],
            parent=state["parent_id"],
            start=int(state["next"]),
            part_ids=done,
            check_first=True,
        )

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        params: dict[str, Any] = {"max_results": 20, "tweet.fields": "created_at"}
        if request.not_before:
            start = (request.not_before - CLOCK_SKEW).astimezone(UTC)
            params["start_time"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        body = self._call(creds, "GET", f"/2/users/{creds.account_id}/tweets", params=params)
        wanted = textlib.match_key(textlib.compose_text(request.text, request.link))
        for tweet in body.get("data") or []:
            if textlib.match_key(tweet.get("text") or "") != wanted:
                continue
            created = tweet.get("created_at")
            if request.not_before and created and _parse(created) < request.not_before - CLOCK_SKEW:
                continue
            return PublishResult(
                platform_post_id=str(tweet["id"]), url=post_url(str(tweet["id"]), creds.handle)
            )
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        try:
            self._call(creds, "DELETE", f"/2/tweets/{platform_post_id}")
        except PermanentError as exc:
            if isinstance(exc, AuthError) or exc.status != 404:
                raise


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
