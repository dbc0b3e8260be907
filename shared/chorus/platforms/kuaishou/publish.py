"""Publish a video to Kuaishou (快手) through the open platform, exactly once, as steps.

A Kuaishou post is one video with its caption (the root ``"0"``), scope ``user_video_publish``:

1. ``POST /openapi/photo/start_upload?app_id=&access_token=`` (``photo_start_upload_response_docs.json``):
   an ``upload_token`` and the upload ``endpoint`` host — part ``"upload"`` (an unused token is harmless,
   so this step is safe to repeat);
2. the file sent to ``http://{endpoint}`` with the upload token only (never the access token):
   below ``DIRECT_MAX_BYTES`` (10 MB) in one binary ``POST /api/upload?upload_token=``
   (``upload_direct_request_docs.txt``: the body is the file, nothing else); larger files as fragments of
   at most ``FRAGMENT_BYTES`` (10 MB), ``POST /api/upload/fragment?upload_token=&fragment_id=`` (from 0;
   part ``"fragment:<i>"`` recorded once Kuaishou confirmed it, so a resumed upload never sends a
   confirmed fragment again), then ``POST /api/upload/complete?upload_token=&fragment_count=`` — part
   ``"media"`` once the file is complete;
3. ``POST /openapi/photo/publish?app_id=&access_token=&upload_token=`` (multipart ``caption``, and
   ``cover``: the image given beside the video, read through the guarded fetcher, when there is one): the
   ``photo_id`` of the new video (``video_info.photo_id``). Kuaishou has no idempotency key: the publish
   goes through ``progress.step`` and a lost answer is verified by ``find_published`` on the account's
   video list (``GET /openapi/photo/list``): a video made since the target started with the same caption.

The fragment, complete, publish and list payloads were not retrievable from Kuaishou's pages
(``kuaishou/_endpoints.json`` marks them UNVERIFIED): their URLs and fields follow the clients that use
them, and Chorus reads only ``result``, ``error_msg``, ``video_info.photo_id`` and the list's
``photo_id`` / ``caption`` / ``create_time``. ``delete``: ``POST /openapi/photo/delete?photo_id=`` (also from
the clients). Error codes: one table, ``chorus.platforms.kuaishou.api.ERRORS``.
"""

from __future__ import annotations

import json
import logging
import re
from functools import partial
from typing import Any

from chorus.platforms import parts
from chorus.platforms.base import (
    AccountCredentials,
    MediaItem,
    PermanentError,
    PublishRequest,
    PublishResult,
)
from chorus.platforms.budget import CallBudget
from chorus.platforms.codes import numeric
from chorus.platforms.http import DEFAULT_TIMEOUT
from chorus.platforms.kuaishou import api
from chorus.platforms.kuaishou.api import API_URL, APP_ID, PLATFORM
from chorus.platforms.uploads import MB, byte_spans, media_size, media_whole
from chorus.platforms.videos import MEDIA, UPLOAD, VideoPostPublisher, cover_of, send_parts
from chorus.platforms.whoami import listed, obj
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

TIMEOUT = DEFAULT_TIMEOUT
UPLOAD_TIMEOUT = DEFAULT_TIMEOUT
DIRECT_MAX_BYTES = 10 * MB
FRAGMENT_BYTES = 10 * MB
LIST_COUNT = 20
EPOCH_MS_FLOOR = 10**11
"""A ``create_time`` below this is in seconds (10^11 s is the year 5138), above it in milliseconds."""
ENDPOINT = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")
"""An upload endpoint is a host (and port) Kuaishou names, nothing more: no path, no user info."""


def fragment_part(index: int) -> str:
    """The progress part of fragment ``index`` (from 0, as Kuaishou numbers them)."""
    return f"fragment:{index}"


def photo_url(photo_id: str) -> str:
    return f"https://www.kuaishou.com/short-video/{photo_id}"


def app_id(creds: AccountCredentials) -> str:
    found = creds.extra.get(APP_ID)
    if not found:
        raise PermanentError("the Kuaishou account holds no app id: connect it again", platform=PLATFORM,
                             code="app_required")  # fmt: skip
    return found


class KuaishouPublisher(VideoPostPublisher):
    name = PLATFORM
    label = "Kuaishou"
    cover_allowed = True
    create_requests = 2  # the cover read, the publish

    def _openapi(self, creds: AccountCredentials, method: str, name: str, **kw: Any) -> dict[str, Any]:
        params = {"app_id": app_id(creds), "access_token": creds.access_token, **kw.pop("params", {})}
        return api.request(self.session, method, f"{self.base_url}/openapi/photo/{name}", params=params, **kw)

    def _uploader(self, endpoint: str, path: str, params: dict[str, str], data: bytes | None = None) -> None:
        api.request(self.session, "POST", f"http://{endpoint}/api/{path}", params=params, data=data,
                    headers={"Content-Type": "video/mp4"} if data is not None else {},
                    timeout=UPLOAD_TIMEOUT, idempotent=True)  # fmt: skip

    def api_url(self) -> str:
        return API_URL

    # -- publishing ----------------------------------------------------------------------------------

    def check(self, creds: AccountCredentials) -> None:
        app_id(creds)

    def upload(self, creds: AccountCredentials, request: PublishRequest, item: MediaItem, plan: str | None,
               budget: CallBudget) -> str:  # fmt: skip
        """The upload token of the post's video, its file sent (directly or in fragments)."""
        progress = request.progress
        if plan is None:
            budget.spend(UPLOAD_TIMEOUT, TIMEOUT)  # the size, start_upload
            size = media_size(item, PLATFORM, UPLOAD_TIMEOUT)
            plan = progress.step(UPLOAD, partial(self._start, creds, size), idempotent=True)
        upload = json.loads(plan)
        token, endpoint, size = str(upload["upload_token"]), str(upload["endpoint"]), int(upload["size"])
        if size < DIRECT_MAX_BYTES:
            budget.spend(UPLOAD_TIMEOUT, UPLOAD_TIMEOUT)  # download, upload
            return progress.step(MEDIA, partial(self._direct, item, endpoint, token), idempotent=True)
        fragments = byte_spans(size, FRAGMENT_BYTES)
        send_parts(request, item, fragments, fragment_part, partial(self._fragment, endpoint, token), budget,
                   PLATFORM, UPLOAD_TIMEOUT)  # fmt: skip
        budget.spend(UPLOAD_TIMEOUT)
        params = {"upload_token": token, "fragment_count": str(len(fragments))}
        return progress.step(MEDIA, partial(self._complete, endpoint, params), idempotent=True)

    def _start(self, creds: AccountCredentials, size: int) -> str:
        answer = self._openapi(creds, "POST", "start_upload", idempotent=True)
        token, endpoint = answer.get("upload_token"), answer.get("endpoint")
        if (
            not isinstance(token, str)
            or not token
            or not isinstance(endpoint, str)
            or not ENDPOINT.match(endpoint)
        ):
            raise PermanentError("Kuaishou's start_upload answered no upload_token or endpoint host",
                                 platform=PLATFORM)  # fmt: skip
        return json.dumps({"upload_token": token, "endpoint": endpoint, "size": size})

    def _direct(self, item: MediaItem, endpoint: str, token: str) -> str:
        data = media_whole(item, PLATFORM, UPLOAD_TIMEOUT)
        self._uploader(endpoint, "upload", {"upload_token": token}, data)
        logger.info("kuaishou_video_uploaded", extra={"bytes": len(data)})
        return token

    def _fragment(self, endpoint: str, token: str, index: int, chunk: bytes) -> str:
        self._uploader(endpoint, "upload/fragment", {"upload_token": token, "fragment_id": str(index)}, chunk)
        return str(index)

    def _complete(self, endpoint: str, params: dict[str, str]) -> str:
        self._uploader(endpoint, "upload/complete", params)
        return params["upload_token"]

    def create(self, creds: AccountCredentials, request: PublishRequest, uploaded: str) -> tuple[str, str]:
        files: dict[str, tuple[str | None, str | bytes] | tuple[str, bytes, str]] = {
            "caption": (None, textlib.compose_text(request.text, request.link))
        }
        cover = cover_of(request)
        if cover is not None:
            files["cover"] = ("cover", media_whole(cover, PLATFORM, UPLOAD_TIMEOUT), cover.mime_type)
        answer = self._openapi(creds, "POST", "publish", params={"upload_token": uploaded}, files=files)
        photo_id = obj(answer.get("video_info")).get("photo_id")
        if not isinstance(photo_id, str) or not photo_id:
            raise PermanentError("Kuaishou's publish answered no video_info.photo_id", platform=PLATFORM)
        logger.info("kuaishou_video_published", extra={"target_id": request.target_id, "photo_id": photo_id})
        return photo_id, photo_url(photo_id)

    # -- verification --------------------------------------------------------------------------------

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        answer = self._openapi(creds, "GET", "list", params={"count": str(LIST_COUNT)})
        wanted = textlib.match_key(textlib.compose_text(request.text, request.link))
        since_ms = parts.not_before(request).timestamp() * 1000
        for video in listed(answer.get("video_list")):
            found = obj(video)
            photo_id = found.get("photo_id")
            if not isinstance(photo_id, str) or not photo_id:
                continue
            if textlib.match_key(str(found.get("caption") or "")) != wanted:
                continue
            created = numeric(found.get("create_time"))
            if created is not None and created * (1000 if created < EPOCH_MS_FLOOR else 1) < since_ms:
                continue  # made before this target started (seconds or milliseconds since the epoch)
            return PublishResult(platform_post_id=photo_id, url=photo_url(photo_id))
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        self._openapi(creds, "POST", "delete", params={"photo_id": platform_post_id}, idempotent=True)
