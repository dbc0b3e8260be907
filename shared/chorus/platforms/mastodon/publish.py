"""Publish to a Mastodon instance (REST API, bearer token).

- Media: ``POST /api/v2/media`` (multipart ``file`` + ``description``). 200 means processed; 202 means
  processing, so ``GET /api/v1/media/:id`` is polled (206 while processing, 200 when done) until a
  deadline.
- Status: ``POST /api/v1/statuses`` with ``Idempotency-Key: <target_id>``. Mastodon remembers the key
  (for an hour) and answers a repeated request with the status it already created, so a retry after a
  timeout cannot post twice. Thread parts and the first comment are replies (``in_reply_to_id``), each
  with its own derived key (``<target_id>:part:<n>``, ``<target_id>:comment``), so a whole publish can be
  retried safely.
- ``find_published``: ``GET /api/v1/accounts/:id/statuses`` and a status whose text (HTML stripped,
  URLs ignored) matches and which was created at or after ``not_before``.
- ``delete``: ``DELETE /api/v1/statuses/:id``.

The instance URL comes from ``creds.base_url`` (each account lives on its own instance).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests

from chorus.platforms.base import (
    AccountCredentials,
    MediaItem,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
    TransientError,
)
from chorus.platforms.http import call, json_body
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "mastodon"
UPLOAD_TIMEOUT = (3.05, 120.0)
MEDIA_POLL_SECONDS = 1.0
MEDIA_DEADLINE_SECONDS = 60.0
CLOCK_SKEW = timedelta(minutes=2)


def idempotency_key(target_id: str, part: int | None = None, comment: bool = False) -> str:
    """The ``Idempotency-Key`` for the first status (the target id), a thread part or the comment."""
    if comment:
        return f"{target_id}:comment"
    return target_id if not part else f"{target_id}:part:{part}"


class MastodonPublisher:
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
        self.base_url = base_url
        self._sleep = sleep
        self._clock = clock
        self._media_deadline = media_deadline

    # -- helpers -----------------------------------------------------------------------------------

    def _base(self, creds: AccountCredentials) -> str:
        base = creds.base_url or self.base_url
        if not base:
            raise PermanentError("no Mastodon instance URL for this account", platform=PLATFORM)
        return base.rstrip("/")

    @staticmethod
    def _auth(creds: AccountCredentials) -> dict[str, str]:
        return {"Authorization": f"Bearer {creds.access_token}"}

    def _download(self, item: MediaItem) -> bytes:
        return call(self.session, "GET", item.url, PLATFORM, timeout=UPLOAD_TIMEOUT).content

    def upload_media(self, creds: AccountCredentials, item: MediaItem) -> str:
        """Upload one attachment and wait until the instance has processed it; returns its id."""
        base = self._base(creds)
        filename = item.url.rsplit("/", 1)[-1].split("?", 1)[0] or "media"
        resp = call(
            self.session,
            "POST",
            f"{base}/api/v2/media",
            PLATFORM,
            headers=self._auth(creds),
            files={"file": (filename, self._download(item), item.mime_type)},
            data={"description": item.alt_text} if item.alt_text else None,
            timeout=UPLOAD_TIMEOUT,
            idempotent=True,  # a repeated upload only leaves an unattached attachment behind
        )
        media = json_body(resp, PLATFORM)
        media_id = str(media["id"])
        if resp.status_code == 202 or media.get("url") is None:
            self._wait_processed(creds, media_id)
        return media_id

    def _wait_processed(self, creds: AccountCredentials, media_id: str) -> None:
        deadline = self._clock() + self._media_deadline
        while True:
            resp = call(
                self.session,
                "GET",
                f"{self._base(creds)}/api/v1/media/{media_id}",
                PLATFORM,
                headers=self._auth(creds),
            )
            if resp.status_code == 200:
                return
            if self._clock() >= deadline:
                raise TransientError(f"media {media_id} still processing", platform=PLATFORM, retry_after=30)
            self._sleep(MEDIA_POLL_SECONDS)

    def _post_status(
        self,
        creds: AccountCredentials,
        text: str,
        key: str,
        in_reply_to: str | None = None,
        media_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"status": text}
        if media_ids:
            body["media_ids"] = media_ids
        if in_reply_to:
            body["in_reply_to_id"] = in_reply_to
        if creds.extra.get("visibility"):
            body["visibility"] = creds.extra["visibility"]
        if creds.extra.get("language"):
            body["language"] = creds.extra["language"]
        resp = call(
            self.session,
            "POST",
            f"{self._base(creds)}/api/v1/statuses",
            PLATFORM,
            headers={**self._auth(creds), "Idempotency-Key": key},
            json=body,
            idempotent=False,
        )
        status: dict[str, Any] = json_body(resp, PLATFORM)
        return status

    # -- PublishingAdapter ---------------------------------------------------------------------------

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        media_ids = [self.upload_media(creds, item) for item in request.media]
        text = textlib.compose_text(request.text, request.link)
        first = self._post_status(
            creds, text, idempotency_key(request.target_id), request.reply_to, media_ids
        )
        parent = str(first["id"])
        part_ids: list[str] = []
        for number, part in enumerate(request.thread, start=1):
            status = self._post_status(creds, part, idempotency_key(request.target_id, number), parent)
            parent = str(status["id"])
            part_ids.append(parent)
        if request.first_comment:
            comment = self._post_status(
                creds,
                request.first_comment,
                idempotency_key(request.target_id, comment=True),
                str(first["id"]),
            )
            part_ids.append(str(comment["id"]))
        logger.info("mastodon_published", extra={"target_id": request.target_id, "status_id": first["id"]})
        return PublishResult(
            platform_post_id=str(first["id"]), url=first.get("url"), part_ids=tuple(part_ids)
        )

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        raise PermanentError(f"Mastodon has no pending step {step.step!r}", platform=PLATFORM)

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        resp = call(
            self.session,
            "GET",
            f"{self._base(creds)}/api/v1/accounts/{creds.account_id}/statuses",
            PLATFORM,
            headers=self._auth(creds),
            params={"limit": 40, "exclude_reblogs": "true"},
        )
        wanted = textlib.match_key(textlib.compose_text(request.text, request.link))
        for status in json_body(resp, PLATFORM):
            if textlib.match_key(textlib.html_to_text(status.get("content") or "")) != wanted:
                continue
            if request.reply_to and str(status.get("in_reply_to_id")) != request.reply_to:
                continue
            if request.not_before and _parse_time(status.get("created_at")) < request.not_before - CLOCK_SKEW:
                continue
            return PublishResult(platform_post_id=str(status["id"]), url=status.get("url"))
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        """Delete a status; one that is already gone (404) counts as deleted."""
        try:
            call(
                self.session,
                "DELETE",
                f"{self._base(creds)}/api/v1/statuses/{platform_post_id}",
                PLATFORM,
                headers=self._auth(creds),
            )
        except PermanentError as exc:
            if exc.status != 404:
                raise


def _parse_time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
