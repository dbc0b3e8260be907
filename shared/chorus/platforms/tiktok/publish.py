"""Publish a video to TikTok through the Content Posting API (Direct Post), exactly once.

The steps (``fixtures/platform_api/publishing/tiktok``, ``content_posting_reference.json``), each
persisted before the next is sent:

1. **creator info** (``POST /v2/post/publish/creator_info/query/``): the privacy levels the creator may
   post with and whether comments, duets and stitches are off. The post's options are checked against
   it **before anything is sent**: a ``privacy_level`` not among ``privacy_level_options``, or comments /
   duets / stitches allowed where the creator turned them off, fail the target naming the rule
   (``privacy_level_option_mismatch`` / ``interaction_disabled``). The level found is recorded (part
   ``"creator"``).
2. **init** (part ``"init"``: ``POST /v2/post/publish/video/init/`` with ``post_info {title,
   privacy_level, disable_duet, disable_comment, disable_stitch, video_cover_timestamp_ms}`` and
   ``source_info``): ``FILE_UPLOAD`` (``video_size``, ``chunk_size``, ``total_chunk_count``) or, where the
   account names a verified URL prefix (``extra["pull_from_url"]``) the media is under,
   ``PULL_FROM_URL`` (``video_url``). The answer's ``publish_id``, ``upload_url`` and the chunk plan are
   the part's value. A ``FILE_UPLOAD`` init is repeatable (TikTok posts nothing until the bytes arrive:
   an init never uploaded to expires in an hour), so a lost answer inits again; a ``PULL_FROM_URL``
   init starts the post at once, so a lost answer is verified (``find_published``), never sent again.
3. **chunks** (parts ``"chunk:<i>"``): ``PUT {upload_url}`` with ``Content-Type``, ``Content-Range:
   bytes first-last/total`` (206 for each, 201 after the last), in order; chunks of ``CHUNK_SIZE`` (a
   video up to that size whole; the last chunk takes the trailing bytes, ≤ 128 MB). A lost connection
   asks ``status/fetch`` for ``uploaded_bytes`` and resumes at that chunk.
4. **status** (``POST /v2/post/publish/status/fetch/ {publish_id}``, a ``PendingStep("poll_status")``
   every ``POLL_DELAY_SECONDS``, at most ``MAX_POLLS``): ``PUBLISH_COMPLETE`` makes the root ``"0"``, the
   post. **The answer is HTTP 200 with ``error.code: ok`` even when the post FAILED**: ``data.status ==
   "FAILED"`` fails the target (no post exists) with ``fail_reason`` (``status_fetch_failed.json``). The
   public post id (``publicaly_available_post_id``, TikTok's spelling) comes only after moderation: it is
   the post's id when present (``https://www.tiktok.com/@{username}/video/{id}``), else the
   ``publish_id``.

Options (``request.options``, the account's ``extra`` as defaults): ``privacy_level`` (required:
TikTok asks that the creator choose it), ``allow_comment`` / ``allow_duet`` / ``allow_stitch``
(``true``/``false``, default: allowed where the creator allows it), ``cover_ms``. The caption is the
post's text (2,200 characters).

Verification (``find_published``): the recorded init's publish, complete; without one (a lost
``PULL_FROM_URL`` init), the creator's recent videos (``POST /v2/video/list/``) are searched for the
caption since the target started. ``delete``: TikTok's API deletes nothing: refused (``PermanentError``).
"""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any

import requests

from chorus.platforms import parts
from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    MediaItem,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
    TransientError,
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget
from chorus.platforms.http import DEFAULT_TIMEOUT, call
from chorus.platforms.stepped import SteppedPublisher
from chorus.platforms.tiktok.api import API_URL, PLATFORM, v2
from chorus.platforms.tiktok.oauth import CreatorInfo, creator_info
from chorus.platforms.uploads import media_range, media_size
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

TIMEOUT = DEFAULT_TIMEOUT
UPLOAD_TIMEOUT = DEFAULT_TIMEOUT
CHUNK_SIZE = 10_000_000
"""Between TikTok's 5 MB and 64 MB; a video up to this size goes whole (under 5 MB it must)."""
CREATOR = "creator"
INIT = "init"
POLL_STEP = "poll_status"
CONTINUE_STEP = "continue"
CONTINUE_DELAY_S = 1
POLL_DELAY_SECONDS = 10
MAX_POLLS = 90
"""Status reads (every ``POLL_DELAY_SECONDS``: 15 minutes) before the target fails."""
LOST_CONNECTIONS = 3
LIST_COUNT = 20
DONE = frozenset({"PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"})


def chunk_part(index: int) -> str:
    return f"chunk:{index}"


def chunk_plan(size: int, chunk_size: int = CHUNK_SIZE) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) for ``size`` bytes: whole up to ``chunk_size``, else
    ``size // chunk_size`` chunks, the last one taking the trailing bytes."""
    if size <= chunk_size:
        return size, 1
    return chunk_size, size // chunk_size


def chunk_range(index: int, chunk_size: int, count: int, size: int) -> tuple[int, int]:
    first = index * chunk_size
    return first, (size - 1 if index == count - 1 else first + chunk_size - 1)


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def _option(request: PublishRequest, creds: AccountCredentials, name: str) -> str | None:
    value = request.options.get(name)
    return value if value not in (None, "") else creds.extra.get(name)


def post_info(request: PublishRequest, creds: AccountCredentials, creator: CreatorInfo) -> dict[str, Any]:
    """``post_info`` for init, checked against what the creator may do (PermanentError naming the rule)."""
    privacy = _option(request, creds, "privacy_level")
    if not privacy:
        raise PermanentError("TikTok needs a privacy_level chosen for the post (options.privacy_level)",
                             platform=PLATFORM, code="privacy_level_required")  # fmt: skip
    if privacy not in creator.privacy_level_options:
        raise PermanentError(
            f"privacy_level {privacy} is not one this creator may post with: "
            f"{', '.join(creator.privacy_level_options) or 'none'}",
            platform=PLATFORM,
            code="privacy_level_option_mismatch",
        )
    info: dict[str, Any] = {"title": request.text, "privacy_level": privacy}
    for name, disabled, key in (("allow_comment", creator.comment_disabled, "disable_comment"),
                                ("allow_duet", creator.duet_disabled, "disable_duet"),
                                ("allow_stitch", creator.stitch_disabled, "disable_stitch")):  # fmt: skip
        wanted = _flag(_option(request, creds, name))
        if wanted and disabled:
            raise PermanentError(f"{name}: the creator turned {key.removeprefix('disable_')}s off on TikTok",
                                 platform=PLATFORM, code="interaction_disabled")  # fmt: skip
        info[key] = disabled or wanted is False
    cover = _option(request, creds, "cover_ms")
    if cover and cover.isdigit():
        info["video_cover_timestamp_ms"] = int(cover)
    return info


def post_url(username: str | None, post_id: str) -> str | None:
    return f"https://www.tiktok.com/@{username}/video/{post_id}" if username else None


class TikTokPublisher(SteppedPublisher):
    name = PLATFORM
    label = "TikTok"
    request_budget_s: float = requests_budget(CALL_REQUESTS, TIMEOUT)
    steps = (POLL_STEP, CONTINUE_STEP)

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        chunk_size: int | None = None,
    ) -> None:
        self.session = session or requests.Session()
        self.base_url = (base_url or API_URL).rstrip("/")
        self.chunk_size = chunk_size or CHUNK_SIZE

    def _v2(self, creds: AccountCredentials, path: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return v2(self.session, self.base_url, path, creds.access_token, body, **kw)

    # -- publishing ----------------------------------------------------------------------------------

    def refuse(self, creds: AccountCredentials, request: PublishRequest) -> None:
        if request.reply_to or request.thread or request.first_comment:
            raise PermanentError(
                "a TikTok post has no replies, thread parts or first comment", platform=PLATFORM
            )
        if len(request.media) != 1 or not request.media[0].mime_type.startswith("video/"):
            raise PermanentError(
                "a TikTok post is exactly one video", platform=PLATFORM, code="video_required"
            )

    def run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PublishResult | PendingStep:
        progress = request.progress
        item = request.media[0]
        try:
            if progress.done(ROOT) is None:
                plan = json.loads(progress.done(INIT) or "{}")
                if not plan:
                    pull = self._pulled(creds, item)
                    info: dict[str, Any] = {}
                    if not (pull and parts.unanswered(request, INIT)):  # a lost pull: verified, not sent
                        budget.spend(TIMEOUT, UPLOAD_TIMEOUT)  # creator info, the media's size
                        creator = creator_info(
                            creds.access_token, session=self.session, api_url=self.base_url
                        )
                        info = post_info(request, creds, creator)
                        progress.step(CREATOR, lambda: str(info["privacy_level"]), idempotent=True)
                    budget.spend(TIMEOUT)
                    # a FILE_UPLOAD init is repeatable: TikTok posts nothing until the bytes arrive
                    raw = progress.step(
                        INIT, partial(self._init, creds, request, item, info), idempotent=not pull
                    )
                    plan = json.loads(raw)
                if plan.get("url"):
                    self._upload(creds, request, item, plan, budget)
                budget.spend(TIMEOUT)
                found = self._poll(creds, request, plan, state)
                if isinstance(found, PendingStep):
                    return found
                progress.release()  # the root is TikTok's to make; it is recorded as it is read
                progress.record(ROOT, found.platform_post_id, found.url)
        except OutOfBudget:
            return PendingStep(CONTINUE_STEP, {}, delay_seconds=CONTINUE_DELAY_S)
        return parts.published(request)

    def _pulled(self, creds: AccountCredentials, item: MediaItem) -> bool:
        """TikTok pulls the video itself from a URL prefix the account verified (``PULL_FROM_URL``)."""
        prefix = creds.extra.get("pull_from_url")
        return bool(prefix) and item.url.startswith(str(prefix))

    def _init(
        self, creds: AccountCredentials, request: PublishRequest, item: MediaItem, info: dict[str, Any]
    ) -> str:
        """Init the post: the publish (id, upload URL, chunk plan), as the persisted plan (JSON)."""
        pulled = self._pulled(creds, item)
        if pulled:
            source: dict[str, Any] = {"source": "PULL_FROM_URL", "video_url": item.url}
            plan: dict[str, Any] = {}
        else:
            size = media_size(item, PLATFORM, UPLOAD_TIMEOUT)
            chunk, count = chunk_plan(size, self.chunk_size)
            source = {
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": chunk,
                "total_chunk_count": count,
            }
            plan = {"size": size, "chunk": chunk, "count": count}
        data = self._v2(creds, "post/publish/video/init/", {"post_info": info, "source_info": source},
                        idempotent=not pulled)  # a lost FILE_UPLOAD init is only retried  # fmt: skip
        publish_id = str(data.get("publish_id") or "")
        if not publish_id:
            raise TransientError("TikTok answered init without a publish_id", platform=PLATFORM)
        plan |= {"publish_id": publish_id, "url": str(data.get("upload_url") or "")}
        logger.info("tiktok_init", extra={"target_id": request.target_id, "publish_id": publish_id})
        return json.dumps(plan)

    def _upload(
        self, creds: AccountCredentials, request: PublishRequest, item: MediaItem, plan: dict[str, Any],
        budget: CallBudget,
    ) -> None:  # fmt: skip
        progress = request.progress
        size, chunk, count = int(plan["size"]), int(plan["chunk"]), int(plan["count"])
        index = next((i for i in range(count) if progress.done(chunk_part(i)) is None), count)
        lost = 0
        while index < count:
            first, last = chunk_range(index, chunk, count, size)
            budget.spend(UPLOAD_TIMEOUT, UPLOAD_TIMEOUT)  # read the range, send it
            try:
                progress.step(
                    chunk_part(index), partial(self._chunk, item, plan, first, last), idempotent=True
                )
                index += 1
            except TransientError as exc:
                if lost >= LOST_CONNECTIONS or exc.status is not None:
                    raise
                lost += 1
                budget.spend(TIMEOUT)  # where does TikTok stand?
                held = _int(self._status(creds, plan).get("uploaded_bytes"))
                if held is not None and held >= size:  # the last answer was lost, not the bytes
                    for taken in range(index, count):
                        progress.record(chunk_part(taken), "taken")
                    break
                index = min(held // chunk, count - 1) if held is not None else index
                logger.info("tiktok_upload_resumed", extra={"target_id": request.target_id, "chunk": index})

    def _chunk(self, item: MediaItem, plan: dict[str, Any], first: int, last: int) -> str:
        data = media_range(item, first, last, PLATFORM, UPLOAD_TIMEOUT)[0]
        resp = call(self.session, "PUT", str(plan["url"]), PLATFORM, data=data,
                    headers={"Content-Type": item.mime_type, "Content-Range": f"bytes {first}-{last}/{plan['size']}"})  # fmt: skip
        return str(resp.status_code)

    def _status(self, creds: AccountCredentials, plan: dict[str, Any]) -> dict[str, Any]:
        return self._v2(creds, "post/publish/status/fetch/", {"publish_id": plan["publish_id"]})

    def _poll(
        self, creds: AccountCredentials, request: PublishRequest, plan: dict[str, Any], state: dict[str, str]
    ) -> PublishResult | PendingStep:
        publish_id = plan["publish_id"]
        data = self._status(creds, {"publish_id": publish_id})
        status = str(data.get("status") or "")
        if status in DONE:
            public = data.get("publicaly_available_post_id") or data.get("publicly_available_post_id") or []
            post_id = str(public[0]) if isinstance(public, list) and public else str(publish_id)
            url = post_url(creds.handle, post_id) if public else None
            logger.info("tiktok_published", extra={"target_id": request.target_id, "post_id": post_id})
            return PublishResult(platform_post_id=post_id, url=url)
        if status == "FAILED":
            reason = str(data.get("fail_reason") or "unknown")
            raise PermanentError(
                f"TikTok could not publish the video: {reason}", platform=PLATFORM, code=reason
            )
        polls = int(state.get("polls", "0")) + 1
        if polls > MAX_POLLS:
            raise PermanentError(f"TikTok publish {publish_id} still {status or 'unknown'} after {polls} checks",
                                 platform=PLATFORM, code=status or None)  # fmt: skip
        return PendingStep(POLL_STEP, {"polls": str(polls)}, delay_seconds=POLL_DELAY_SECONDS)

    # -- verification --------------------------------------------------------------------------------

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        """The publish the target made, once TikTok says it is complete; without one (a lost
        ``PULL_FROM_URL`` init), the creator's recent video with this caption since the target started."""
        plan = json.loads(request.progress.done(INIT) or "{}")
        if plan.get("publish_id"):
            found = self._poll(creds, request, plan, {})
            return found if isinstance(found, PublishResult) else None
        data = self._v2(creds, "video/list/", {"max_count": LIST_COUNT},
                        params={"fields": "id,title,video_description,create_time,share_url"})  # fmt: skip
        since = parts.not_before(request).timestamp()
        wanted = textlib.match_key(request.text)
        for video in data.get("videos") or []:
            if not isinstance(video, dict) or not video.get("id"):
                continue
            caption = str(video.get("video_description") or video.get("title") or "")
            created = _int(video.get("create_time"))
            if textlib.match_key(caption) == wanted and (created is None or created >= since):
                return PublishResult(platform_post_id=str(video["id"]), url=video.get("share_url") or None)
        return None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        return None  # a TikTok post is one part

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        raise PermanentError("TikTok's API cannot delete a post: delete it in the TikTok app", platform=PLATFORM,
                             code="unsupported")  # fmt: skip


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
