"""Publish a pin to a Pinterest board (API v5), exactly once.

A pin is one part (the root ``"0"``): ``POST /v5/pins`` with ``board_id`` (the post's own board,
``options.pinterest.board_id``, one of the boards listed at connect; else the account's chosen board,
``creds.extra["board_id"]``), ``media_source``, ``description``,
``title``, ``link`` and ``alt_text``:

- an image: ``media_source = {source_type: image_url, url}`` (``api_reference.json``
  ``PinMediaSourceImageURL``);
- a video, as steps (DESIGN decision 7): register ``POST /v5/media {media_type: video}``, then the
  file POSTed as multipart to the answered ``upload_url`` with **all** its ``upload_parameters``
  (a pre-signed S3 form: no Pinterest token goes there) — together part ``"media"`` of the progress,
  recorded once uploaded (a registration never uploaded is harmless, so the pair is safe to repeat);
  then ``GET /v5/media/{media_id}`` until ``succeeded`` (``PendingStep("poll_media")`` every
  ``POLL_DELAY_SECONDS``, at most ``MAX_POLLS`` times; ``failed`` fails the target), then the pin with
  ``{source_type: video_id, media_id, cover_image_key_frame_time: 0}`` (``PinMediaSourceVideoID``).

Title and description: Pinterest shows a title (<= 100 characters) above the pin; Chorus's post has one
text, so a text whose first line is short enough (and is followed by more) gives that line as the
title and the rest as the description; any other text is all description.

Exactly once: the Pins API has no idempotency key, so the pin is created through ``progress.step``
(marked sent before the call) and a lost answer is verified: ``find_published`` reads
``GET /v5/boards/{board_id}/pins`` (Pinterest's documented list of a board's pins, boards/list_pins) for
a pin made since the target started with the same title, description and link.

Errors (``{code, message}``, ``chorus.platforms.http``): 429 / code 8 -> ``RateLimited`` (Retry-After
when sent); 401 -> ``AuthError``; 5xx -> retry; code 1 (invalid URL), 40 (board not found), 233/235
(image too small / broken) and other 4xx -> ``PermanentError`` with Pinterest's message.
``delete``: ``DELETE /v5/pins/{pin_id}`` (a pin already gone counts as deleted).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

import requests

from chorus.net.fetch import fetch
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
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget, timeout_seconds
from chorus.platforms.http import DEFAULT_TIMEOUT, bearer, call, json_body
from chorus.platforms.pinterest.oauth import API_URL
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "pinterest"
TIMEOUT = DEFAULT_TIMEOUT
UPLOAD_TIMEOUT = DEFAULT_TIMEOUT
MEDIA = "media"
"""The progress part holding a video's media id (registered and uploaded)."""
POLL_STEP = "poll_media"
CONTINUE_STEP = "continue"
CONTINUE_DELAY_S = 1
POLL_DELAY_SECONDS = 10
MAX_POLLS = 60
"""Media status reads (every ``POLL_DELAY_SECONDS``: 10 minutes) before the target fails."""
TITLE_MAX = 100
PINS_PAGE = 25
BOARD = "board_id"


def pin_url(pin_id: str) -> str:
    return f"https://www.pinterest.com/pin/{pin_id}/"


def title_and_description(text: str) -> tuple[str | None, str]:
    """(title, description): the first line is the title when it is at most ``TITLE_MAX`` characters
    and more text follows it; otherwise no title and the whole text is the description."""
    first, newline, rest = text.strip().partition("\n")
    if newline and first.strip() and rest.strip() and len(first.strip()) <= TITLE_MAX:
        return first.strip(), rest.strip()
    return None, text.strip()


def _is_video(item: MediaItem) -> bool:
    return item.mime_type.startswith("video/")


def _created(value: Any) -> datetime | None:
    """A pin's ``created_at`` (``2020-01-01T20:10:40-00:00``, or without an offset: UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class PinterestPublisher:
    name = PLATFORM
    request_budget_s: float = requests_budget(CALL_REQUESTS, TIMEOUT)

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.session = session or requests.Session()
        self.base_url = (base_url or API_URL).rstrip("/")

    def _api(self, creds: AccountCredentials, method: str, path: str, **kw: Any) -> Any:
        resp = call(
            self.session,
            method,
            f"{self.base_url}/{path}",
            PLATFORM,
            headers=bearer(creds.access_token),
            **kw,
        )
        return json_body(resp, PLATFORM)

    # -- publishing ----------------------------------------------------------------------------------

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        if request.reply_to or request.thread or request.first_comment:
            raise PermanentError("a pin has no replies, thread parts or comments", platform=PLATFORM)
        if len(request.media) != 1:
            raise PermanentError("a pin needs exactly one image or video", platform=PLATFORM)
        _board(creds, request)
        return self._run(creds, request, {})

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        state = parts.resumed_state(step, (POLL_STEP, CONTINUE_STEP), PLATFORM, "Pinterest")
        return self._run(creds, request, state)

    def _run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str]
    ) -> PublishResult | PendingStep:
        progress = request.progress
        budget = CallBudget(self.request_budget_s)
        try:
            if progress.done(ROOT) is None:
                source: dict[str, Any] = {}
                if not parts.unanswered(request, ROOT):  # else the step below raises UnknownOutcome: verified
                    ready = self._source(creds, request, state, budget)
                    if isinstance(ready, PendingStep):
                        return ready
                    source = ready
                budget.spend(TIMEOUT)
                progress.step(ROOT, partial(self._pin, creds, request, source))
        except OutOfBudget:
            return PendingStep(CONTINUE_STEP, {}, delay_seconds=CONTINUE_DELAY_S)
        return parts.published(request)

    def _source(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> dict[str, Any] | PendingStep:
        """The pin's ``media_source``, or a step to wait for a video Pinterest is still processing."""
        item = request.media[0]
        if not _is_video(item):
            return {"source_type": "image_url", "url": item.url}
        progress = request.progress
        media_id = progress.done(MEDIA)
        if media_id is None:
            budget.spend(TIMEOUT, UPLOAD_TIMEOUT, UPLOAD_TIMEOUT)  # register, download, upload
            media_id = progress.step(MEDIA, partial(self._upload, creds, item), idempotent=True)
        budget.spend(TIMEOUT)
        status = str(self._api(creds, "GET", f"media/{media_id}").get("status"))
        if status == "succeeded":
            return {"source_type": "video_id", "media_id": media_id, "cover_image_key_frame_time": 0}
        if status == "failed":
            raise PermanentError(f"Pinterest could not process the video (media {media_id}: failed)",
                                 platform=PLATFORM, code="failed")  # fmt: skip
        polls = int(state.get("polls", "0")) + 1
        if polls > MAX_POLLS:
            raise PermanentError(
                f"Pinterest media {media_id} still {status} after {polls} checks",
                platform=PLATFORM,
                code=status,
            )
        return PendingStep(
            POLL_STEP, {"media_id": media_id, "polls": str(polls)}, delay_seconds=POLL_DELAY_SECONDS
        )

    def _upload(self, creds: AccountCredentials, item: MediaItem) -> str:
        """Register a video upload and send the file to the pre-signed URL Pinterest answered."""
        registered = self._api(creds, "POST", "media", json={"media_type": "video"}, idempotent=True)
        media_id = str(registered["media_id"])
        upload_url = str(registered["upload_url"])
        fields = {str(k): str(v) for k, v in (registered.get("upload_parameters") or {}).items()}
        data = fetch(
            item.url, field_name="media", platform=PLATFORM, deadline_s=timeout_seconds(UPLOAD_TIMEOUT)
        ).content
        call(
            self.session,
            "POST",
            upload_url,
            PLATFORM,
            data=fields,
            files={"file": ("video", data, item.mime_type)},
            timeout=UPLOAD_TIMEOUT,
            idempotent=True,  # the same key of the same upload: a repeat overwrites it
        )
        logger.info("pinterest_media_uploaded", extra={"media_id": media_id, "bytes": len(data)})
        return media_id

    def _pin(
        self, creds: AccountCredentials, request: PublishRequest, source: dict[str, Any]
    ) -> tuple[str, str]:
        body = {"board_id": _board(creds, request), "media_source": source, **_described(request)}
        alt = request.media[0].alt_text
        if alt and not _is_video(request.media[0]):
            body["alt_text"] = alt
        made = self._api(creds, "POST", "pins", json=body)
        pin_id = str(made["id"])
        logger.info("pinterest_pinned", extra={"target_id": request.target_id, "pin_id": pin_id})
        return pin_id, pin_url(pin_id)

    # -- verification --------------------------------------------------------------------------------

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        board = _board(creds, request)
        listing = self._api(creds, "GET", f"boards/{board}/pins", params={"page_size": str(PINS_PAGE)})
        wanted = _described(request)
        since = parts.not_before(request)
        for pin in listing.get("items") or []:
            if not isinstance(pin, dict) or str(pin.get("board_id") or board) != board:
                continue
            if any(textlib.match_key(str(pin.get(k) or "")) != textlib.match_key(str(wanted.get(k) or ""))
                   for k in ("title", "description")):  # fmt: skip
                continue
            if (pin.get("link") or None) != wanted.get("link"):
                continue
            created = _created(pin.get("created_at"))
            if created is not None and created < since:
                continue
            return PublishResult(platform_post_id=str(pin["id"]), url=pin_url(str(pin["id"])))
        return None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        return None  # a pin is one part

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        try:
            call(self.session, "DELETE", f"{self.base_url}/pins/{platform_post_id}", PLATFORM,
                 headers=bearer(creds.access_token))  # fmt: skip
        except PermanentError as exc:
            if isinstance(exc, AuthError) or exc.status != 404:
                raise
            logger.info("already_deleted", extra={"platform": PLATFORM, "object_id": platform_post_id})


def _board(creds: AccountCredentials, request: PublishRequest) -> str:
    """The post's own board (``options.pinterest.board_id``, checked against the account's boards when
    the post was saved), else the account's chosen board: the same on every retry and verification."""
    board = request.options.get(BOARD) or creds.extra.get(BOARD)
    if not board:
        raise PermanentError(
            "the Pinterest account has no board chosen: connect it again once it has a board",
            platform=PLATFORM,
            code="board_required",
        )
    return board


def _described(request: PublishRequest) -> dict[str, str]:
    """``title``, ``description`` and ``link`` of the pin, each only when there is one."""
    title, description = title_and_description(request.text)
    fields = {"title": title, "description": description, "link": request.link}
    return {k: v for k, v in fields.items() if v}
