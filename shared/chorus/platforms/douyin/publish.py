"""Publish a video to Douyin (抖音) through the open platform, exactly once, as steps.

A Douyin post is one video with its caption (the root ``"0"``). Its steps, each persisted in the
target's progress before the next call (DESIGN decision 11):

1. the video uploaded, part ``"media"`` = its ``video_id``:

   - a file up to ``SINGLE_MAX_BYTES`` (50 MB: Douyin advises parts above that) in one request,
     ``POST /api/douyin/v1/video/upload_video/?open_id=`` (multipart field ``video``);
   - a larger one (parts are required above 128 MB, up to 4 GB) in parts of ``PART_BYTES`` (20 MB, the
     advised size; at least 5 MB): ``init_video_part_upload`` (part ``"upload"``: the ``upload_id``,
     valid 2 hours: a publish resumed after that opens a new one and sends its parts again, recorded as
     ``"chunk:<generation>.<n>"``), one ``upload_video_part`` per part (``upload_id`` URL-encoded, ``part_number`` from
     1; part ``"chunk:<n>"`` recorded once Douyin confirmed it, so a resumed upload never sends a
     confirmed part again and reads only the byte ranges it still sends), then
     ``complete_video_part_upload`` (the ``video_id``).

   An upload is safe to repeat (an unused ``video_id`` is harmless), so these steps are idempotent.
2. the video created, ``POST /api/douyin/v1/video/create_video/?open_id=`` ``{video_id, text}``
   (scope ``video.create.bind``): the ``item_id``, and its ``share_url`` read at once from ``video_data``
   (the target's URL; a failed read leaves it without one, never fails the publish). Douyin has no idempotency key, so the create goes
   through ``progress.step`` (marked sent first); a lost answer is verified by ``find_published``:
   ``video_basic_info`` for the persisted ``video_id`` names the item made from it (every create needs
   a fresh ``video_id``, so that item is this target's, and nothing is created twice).

The create scope is granted per app: an account connected without it (its scopes are kept at connect,
``extra["scopes"]``) fails at once with a clear permanent error, before anything is uploaded, as does
Douyin's 28001018 (应用未获得该能力). A new video is under review (visible only to its author) until
Douyin approves it. Error codes: one table, ``chorus.platforms.douyin.api.ERRORS``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from chorus.platforms.base import (
    AccountCredentials,
    MediaItem,
    PermanentError,
    PlatformError,
    PublishRequest,
    PublishResult,
)
from chorus.platforms.budget import CallBudget
from chorus.platforms.douyin import api, oauth
from chorus.platforms.douyin.api import API_URL, PLATFORM
from chorus.platforms.facebook.metrics import utc_now
from chorus.platforms.http import DEFAULT_TIMEOUT
from chorus.platforms.uploads import MB, byte_spans, media_size, media_whole
from chorus.platforms.videos import MEDIA, UPLOAD, VideoPostPublisher, send_parts
from chorus.platforms.whoami import listed, obj
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

TIMEOUT = DEFAULT_TIMEOUT
UPLOAD_TIMEOUT = DEFAULT_TIMEOUT
SINGLE_MAX_BYTES = 50 * MB
PART_BYTES = 20 * MB
UPLOAD_ID_LIFETIME = timedelta(hours=2)  # "upload_id: 分片上传的标记。有限时间为2小时"
UPLOAD_ID_MARGIN = timedelta(minutes=10)
clock: Callable[[], datetime] = utc_now
VIDEO_PATH = "api/douyin/v1/video"


def chunk_part(number: int, generation: int = 1) -> str:
    """The progress part of upload part ``number`` (from 1, as Douyin numbers them) of the account's
    ``generation``-th part upload for this target (a new one opens when the first's upload_id expired)."""
    return f"chunk:{number}" if generation == 1 else f"chunk:{generation}.{number}"


def stale(upload: dict[str, Any], now: datetime) -> bool:
    """The part upload's ``upload_id`` is (nearly) past the 2 hours Douyin keeps it."""
    opened = upload.get("opened_at")
    if not isinstance(opened, str):
        return False
    return now - datetime.fromisoformat(opened) > UPLOAD_ID_LIFETIME - UPLOAD_ID_MARGIN


def granted_scopes(creds: AccountCredentials) -> list[str] | None:
    """The scopes recorded at connect (None: an account connected before they were recorded)."""
    raw = creds.extra.get(oauth.SCOPES)
    return None if raw is None else [s for s in raw.split(",") if s]


def check_create_scope(creds: AccountCredentials) -> None:
    scopes = granted_scopes(creds)
    if scopes is not None and not oauth.can_publish(scopes):
        raise PermanentError(
            "the Douyin app was not granted video.create.bind for this account: ask Douyin to enable "
            "video publishing for the app, then connect the account again",
            platform=PLATFORM,
            code="scope_missing",
        )


class DouyinPublisher(VideoPostPublisher):
    name = PLATFORM
    label = "Douyin"
    create_requests = 2  # the create, the share_url read

    def _video_api(self, creds: AccountCredentials, name: str, **kw: Any) -> dict[str, Any]:
        params = {"open_id": creds.account_id, **kw.pop("params", {})}
        return api.request(self.session, "POST", f"{self.base_url}/{VIDEO_PATH}/{name}/", token=creds.access_token,
                       params=params, **kw)  # fmt: skip

    def api_url(self) -> str:
        return API_URL

    # -- publishing ----------------------------------------------------------------------------------

    def check(self, creds: AccountCredentials) -> None:
        check_create_scope(creds)

    def upload(self, creds: AccountCredentials, request: PublishRequest, item: MediaItem, plan: str | None,
               budget: CallBudget) -> str:  # fmt: skip
        """The ``video_id`` of the post's video (uploaded in one request or in parts)."""
        progress = request.progress
        if plan is None:
            if item.size is None:
                budget.spend(UPLOAD_TIMEOUT)
            size = media_size(item, PLATFORM, UPLOAD_TIMEOUT)
            if size <= SINGLE_MAX_BYTES:
                budget.spend(UPLOAD_TIMEOUT, UPLOAD_TIMEOUT)  # download, upload
                return progress.step(MEDIA, partial(self._upload_whole, creds, item), idempotent=True)
            budget.spend(TIMEOUT)
            plan = progress.step(UPLOAD, partial(self._init_parts, creds, size), idempotent=True)
        upload = json.loads(plan)
        if stale(upload, clock()):  # its upload_id is dead: the parts go again under a new one
            budget.spend(TIMEOUT)
            plan = self._init_parts(creds, int(upload["size"]), int(upload.get("generation", 1)) + 1)
            progress.record(UPLOAD, plan)
            upload = json.loads(plan)
        upload_id, total, generation = (
            str(upload["upload_id"]),
            int(upload["size"]),
            int(upload.get("generation", 1)),
        )
        send_parts(request, item, byte_spans(total, int(upload["part_bytes"])), lambda i: chunk_part(i + 1, generation),
                   lambda i, chunk: self._upload_part(creds, upload_id, i + 1, chunk), budget, PLATFORM,
                   UPLOAD_TIMEOUT)  # fmt: skip
        budget.spend(TIMEOUT)
        return progress.step(MEDIA, partial(self._complete, creds, upload_id), idempotent=True)

    def _upload_whole(self, creds: AccountCredentials, item: MediaItem) -> str:
        data = media_whole(item, PLATFORM, UPLOAD_TIMEOUT)
        answer = self._video_api(creds, "upload_video", files={"video": ("video.mp4", data, item.mime_type)},
                                 timeout=UPLOAD_TIMEOUT, idempotent=True)  # fmt: skip
        logger.info("douyin_video_uploaded", extra={"bytes": len(data)})
        return _video_id(answer)

    def _init_parts(self, creds: AccountCredentials, size: int, generation: int = 1) -> str:
        answer = self._video_api(creds, "init_video_part_upload", idempotent=True)
        upload_id = answer.get("upload_id")
        if not isinstance(upload_id, str) or not upload_id:
            raise PermanentError("Douyin's part upload init answered no upload_id", platform=PLATFORM)
        return json.dumps({"upload_id": upload_id, "size": size, "part_bytes": PART_BYTES, "generation": generation,
                           "opened_at": clock().isoformat()})  # fmt: skip

    def _upload_part(self, creds: AccountCredentials, upload_id: str, number: int, chunk: bytes) -> str:
        self._video_api(creds, "upload_video_part", params={"upload_id": upload_id, "part_number": str(number)},
                        files={"video": ("video.mp4", chunk, "video/mp4")}, timeout=UPLOAD_TIMEOUT,
                        idempotent=True)  # fmt: skip
        return str(number)

    def _complete(self, creds: AccountCredentials, upload_id: str) -> str:
        answer = self._video_api(creds, "complete_video_part_upload", params={"upload_id": upload_id},
                                 idempotent=True)  # fmt: skip
        return _video_id(answer)

    def create(
        self, creds: AccountCredentials, request: PublishRequest, uploaded: str
    ) -> str | tuple[str, str]:
        body = {"video_id": uploaded, "text": textlib.compose_text(request.text, request.link)}
        answer = self._video_api(creds, "create_video", json=body)
        item_id = answer.get("item_id")
        if not isinstance(item_id, str) or not item_id:
            raise PermanentError("Douyin's create answered no item_id", platform=PLATFORM)
        logger.info("douyin_video_created", extra={"target_id": request.target_id, "item_id": item_id})
        url = self._share_url(creds, item_id)
        return (item_id, url) if url else item_id

    def _share_url(self, creds: AccountCredentials, item_id: str) -> str | None:
        """The video's ``share_url`` (``video_data``). The video exists now: a failure to read it must not
        fail (and repeat) the publish."""
        try:
            answer = self._video_api(creds, "video_data", json={"item_ids": [item_id]}, idempotent=True)
        except PlatformError as exc:
            logger.warning("share_url_unavailable", extra={"platform": PLATFORM, "item_id": item_id,
                                                           "reason": exc.message})  # fmt: skip
            return None
        for video in listed(answer.get("list")):
            found = obj(video)
            url = found.get("share_url")
            if found.get("item_id") == item_id and isinstance(url, str) and url.startswith("https://"):
                return url
        return None

    # -- verification --------------------------------------------------------------------------------

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        video_id = request.progress.done(MEDIA)
        if video_id is None:
            return None  # nothing uploaded: nothing can have been created
        answer = self._video_api(creds, "video_basic_info", json={"video_ids": [video_id]}, idempotent=True)
        for video in listed(answer.get("list")):
            found = obj(video)
            item_id = found.get("item_id")
            if str(found.get("video_id") or "") == video_id and isinstance(item_id, str) and item_id:
                return PublishResult(platform_post_id=item_id)
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        raise PermanentError(
            "Douyin's open platform lets apps create videos, not delete them: delete it in the Douyin app",
            platform=PLATFORM,
            code="unsupported",
        )


def _video_id(answer: dict[str, Any]) -> str:
    video_id = obj(answer.get("video")).get("video_id")
    if not isinstance(video_id, str) or not video_id:
        raise PermanentError("Douyin's upload answered no video_id", platform=PLATFORM)
    return video_id
