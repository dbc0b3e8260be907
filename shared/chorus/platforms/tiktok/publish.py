"""Publish to TikTok through the Content Posting API, exactly once: a video or a photo post (1 to
``MAX_PHOTOS`` JPEG/WebP images), posted directly (``options.mode`` ``"direct"``, the default) or sent to
the creator's TikTok inbox as a draft to finish in the app (``"draft"``).

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

**Photo posts** (``POST /v2/post/publish/content/init/``, ``content_init_request_photo_direct_post.json``):
``media_type: PHOTO``, ``post_mode`` ``DIRECT_POST`` or ``MEDIA_UPLOAD``, ``post_info {title,
description, privacy_level, disable_comment, auto_add_music}`` (the title is the post's title, at most 90
characters; the description its text) and ``source_info {source: PULL_FROM_URL, photo_cover_index,
photo_images}``: TikTok pulls the images itself, so their URLs must be under a URL prefix verified for the
app (the media bucket's, docs/platforms.md); where the account names one (``extra["pull_from_url"]``) an
image elsewhere is refused before anything is sent (``url_ownership_unverified``). Such an init starts
the post at once: a lost answer is verified, never sent again. There are no chunks: the status is polled
as for a video (``PROCESSING_DOWNLOAD`` until complete).

**Drafts** (``mode: "draft"``, TikTok's "upload content"): a video goes to ``POST
/v2/post/publish/inbox/video/init/`` (``source_info`` only: TikTok takes no caption, privacy or
interaction settings there, the creator sets them in the app; ``inbox_video_init_response_file_upload.json``)
and is uploaded as above; photos go to ``content/init`` with ``post_mode: MEDIA_UPLOAD`` and ``post_info
{title, description}``. Creator info is not read (nothing is posted by Chorus). When the status says
``SEND_TO_USER_INBOX`` the part ``INBOX`` is recorded (the ``publish_id``) and the root is the publish id:
the publisher ends the target ``sent_to_inbox`` (the creator finishes it in the TikTok app, then it may be
marked posted with its URL); a status already ``PUBLISH_COMPLETE`` (the creator was quick) is published.
At most 5 drafts may wait in an inbox in 24 hours (``spam_risk_too_many_pending_share``: a deferral).

Options (``request.options``, the account's ``extra`` as defaults): ``mode`` (``direct`` | ``draft``),
``privacy_level`` (required for a direct post: TikTok asks that the creator choose it),
``allow_comment`` / ``allow_duet`` / ``allow_stitch`` (``true``/``false``, default: allowed where the
creator allows it; a photo post has comments only), ``cover_ms`` (a video's cover frame),
``photo_cover_index`` (the photo that is the cover, from 0), ``auto_add_music`` (photos). The caption is
the post's text (2,200 characters).

Verification (``find_published``): the recorded init's publish, complete (or in the inbox); without one
(a lost ``PULL_FROM_URL`` init), the creator's recent posts (``POST /v2/video/list/``) are searched for
the caption since the target started. A lost draft init that pulls from a URL cannot be verified (a draft
is on no list): the target fails (``inbox_unknown``) rather than send a second draft. ``delete``: TikTok's
API deletes nothing: refused (``PermanentError``).
"""

from __future__ import annotations

import json
import logging
import re
from functools import partial
from typing import Any

import requests

from chorus.platforms import parts
from chorus.platforms.base import (
    INBOX,
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
COMPLETE = "PUBLISH_COMPLETE"
IN_INBOX = "SEND_TO_USER_INBOX"
MAX_PHOTOS = 35
"""Images in a photo post (content/init's ``photo_images``)."""
PHOTO_TYPES = frozenset({"image/jpeg", "image/webp"})
"""What TikTok takes in a photo post (``content_posting_reference.json``: WebP, JPEG; ≤ 20 MB each)."""
DIRECT, DRAFT = "direct", "draft"


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


def mode_of(request: PublishRequest, creds: AccountCredentials) -> str:
    """``direct`` (posted by Chorus) or ``draft`` (sent to the creator's TikTok inbox)."""
    mode = (_option(request, creds, "mode") or DIRECT).strip().lower()
    if mode not in (DIRECT, DRAFT):
        raise PermanentError(f"options.mode {mode!r}: TikTok posts are direct or draft", platform=PLATFORM,
                             code="mode")  # fmt: skip
    return mode


def is_photo_post(request: PublishRequest) -> bool:
    return bool(request.media) and all(m.mime_type.startswith("image/") for m in request.media)


def photo_info(request: PublishRequest) -> dict[str, Any]:
    """A photo post's title (the post's title, where it has one) and description (its text)."""
    info: dict[str, Any] = {"description": request.text}
    if request.title:
        info["title"] = request.title
    return info


def post_info(
    request: PublishRequest, creds: AccountCredentials, creator: CreatorInfo, *, photo: bool = False
) -> dict[str, Any]:
    """``post_info`` for a direct post's init, checked against what the creator may do (PermanentError
    naming the rule); a photo post's has comments only (no duet, stitch or cover frame)."""
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
    info: dict[str, Any] = {"privacy_level": privacy}
    info |= photo_info(request) if photo else {"title": request.text}
    interactions = [("allow_comment", creator.comment_disabled, "disable_comment")]
    if not photo:
        interactions += [("allow_duet", creator.duet_disabled, "disable_duet"),
                         ("allow_stitch", creator.stitch_disabled, "disable_stitch")]  # fmt: skip
    for name, disabled, key in interactions:
        wanted = _flag(_option(request, creds, name))
        if wanted and disabled:
            raise PermanentError(f"{name}: the creator turned {key.removeprefix('disable_')}s off on TikTok",
                                 platform=PLATFORM, code="interaction_disabled")  # fmt: skip
        info[key] = disabled or wanted is False
    if photo:
        music = _flag(_option(request, creds, "auto_add_music"))
        if music is not None:
            info["auto_add_music"] = music
        return info
    cover = _option(request, creds, "cover_ms")
    if cover and cover.isdigit():
        info["video_cover_timestamp_ms"] = int(cover)
    return info


def photo_source(request: PublishRequest, creds: AccountCredentials) -> dict[str, Any]:
    """``source_info`` of a photo post: TikTok pulls the images from their URLs (a verified prefix)."""
    cover = _option(request, creds, "photo_cover_index") or "0"
    if not cover.isdigit() or int(cover) >= len(request.media):
        raise PermanentError(f"photo_cover_index {cover}: the post has {len(request.media)} photos (0 is the first)",
                             platform=PLATFORM, code="photo_cover_index")  # fmt: skip
    prefix = str(creds.extra.get("pull_from_url") or "")
    outside = [m.url for m in request.media if prefix and not m.url.startswith(prefix)]
    if outside:
        raise PermanentError(f"TikTok pulls photos only from the verified URL prefix {prefix}; "
                             f"{len(outside)} photo(s) are elsewhere", platform=PLATFORM,
                             code="url_ownership_unverified")  # fmt: skip
    return {"source": "PULL_FROM_URL", "photo_cover_index": int(cover),
            "photo_images": [m.url for m in request.media]}  # fmt: skip


def post_url(username: str | None, post_id: str, kind: str = "video") -> str | None:
    return f"https://www.tiktok.com/@{username}/{kind}/{post_id}" if username else None


class TikTokPublisher(SteppedPublisher):
    name = PLATFORM
    label = "TikTok"
    publish_types = ("video", "photos", "inbox draft")  # docs/platforms.md's Publish column
    # a post's URL (a draft finished in the app, marked posted): its video id (registry.post_id_in_url)
    post_id_in_url = re.compile(r"https://(?:www\.)?tiktok\.com/@[^/?#]+/(?:video|photo)/(\d+)")
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
        mode_of(request, creds)
        if is_photo_post(request):
            unsupported = sorted({m.mime_type for m in request.media} - PHOTO_TYPES)
            if unsupported or len(request.media) > MAX_PHOTOS:
                raise PermanentError(f"a TikTok photo post is 1 to {MAX_PHOTOS} JPEG or WebP images "
                                     f"({len(request.media)}: {', '.join(unsupported) or 'too many'})",
                                     platform=PLATFORM, code="photos")  # fmt: skip
            return
        if len(request.media) != 1 or not request.media[0].mime_type.startswith("video/"):
            raise PermanentError(f"a TikTok post is one video, or 1 to {MAX_PHOTOS} photos", platform=PLATFORM,
                                 code="video_required")  # fmt: skip

    def run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PublishResult | PendingStep:
        progress = request.progress
        item = request.media[0]
        try:
            if progress.done(ROOT) is None:
                plan = json.loads(progress.done(INIT) or "{}")
                if not plan:
                    pull = self._pulled(creds, request)
                    draft = mode_of(request, creds) == DRAFT
                    info: dict[str, Any] = photo_info(request) if draft and is_photo_post(request) else {}
                    lost_pull = pull and parts.unanswered(request, INIT)  # verified, never sent again
                    if draft and not pull:
                        budget.spend(UPLOAD_TIMEOUT)  # the file's size (a draft reads no creator info)
                    elif not draft and not lost_pull:
                        budget.spend(TIMEOUT, UPLOAD_TIMEOUT)  # creator info, the media's size
                        creator = creator_info(
                            creds.access_token, session=self.session, api_url=self.base_url
                        )
                        info = post_info(request, creds, creator, photo=is_photo_post(request))
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

    def _pulled(self, creds: AccountCredentials, request: PublishRequest) -> bool:
        """TikTok pulls the media itself (``PULL_FROM_URL``): always a photo post's images, a video from a
        URL prefix the account verified."""
        if is_photo_post(request):
            return True
        prefix = creds.extra.get("pull_from_url")
        return bool(prefix) and request.media[0].url.startswith(str(prefix))

    def _init(
        self, creds: AccountCredentials, request: PublishRequest, item: MediaItem, info: dict[str, Any]
    ) -> str:
        """Init the post: the publish (id, upload URL, chunk plan), as the persisted plan (JSON)."""
        draft = mode_of(request, creds) == DRAFT
        if is_photo_post(request):
            body = {"post_info": info, "source_info": photo_source(request, creds),
                    "post_mode": "MEDIA_UPLOAD" if draft else "DIRECT_POST", "media_type": "PHOTO"}  # fmt: skip
            data = self._v2(creds, "post/publish/content/init/", body, idempotent=False)
            return self._planned(request, data, {"photo": True})
        pulled = self._pulled(creds, request)
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
        if draft:  # the inbox takes the file only: the creator writes the caption in the app
            data = self._v2(
                creds, "post/publish/inbox/video/init/", {"source_info": source}, idempotent=not pulled
            )
        else:
            data = self._v2(creds, "post/publish/video/init/", {"post_info": info, "source_info": source},
                            idempotent=not pulled)  # a lost FILE_UPLOAD init is only retried  # fmt: skip
        return self._planned(request, data, plan)

    def _planned(self, request: PublishRequest, data: dict[str, Any], plan: dict[str, Any]) -> str:
        """The persisted plan (JSON): ``plan`` with init's publish id and upload URL."""
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
        if status == IN_INBOX:  # a draft: the creator finishes it in the TikTok app
            request.progress.record(INBOX, str(publish_id))
            logger.info(
                "tiktok_sent_to_inbox", extra={"target_id": request.target_id, "publish_id": publish_id}
            )
            return PublishResult(platform_post_id=str(publish_id))
        if status == COMPLETE:
            public = data.get("publicaly_available_post_id") or data.get("publicly_available_post_id") or []
            post_id = str(public[0]) if isinstance(public, list) and public else str(publish_id)
            url = (
                post_url(creds.handle, post_id, "photo" if plan.get("photo") else "video") if public else None
            )
            logger.info("tiktok_published", extra={"target_id": request.target_id, "post_id": post_id})
            return PublishResult(platform_post_id=post_id, url=url)
        if status == "FAILED":
            reason = str(data.get("fail_reason") or "unknown")
            what = "photos" if plan.get("photo") else "video"
            raise PermanentError(
                f"TikTok could not publish the {what}: {reason}", platform=PLATFORM, code=reason
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
        if mode_of(request, creds) == DRAFT:  # a draft is on no list: a second one is not sent blindly
            raise PermanentError("TikTok's answer to the draft was lost and a draft cannot be looked up: "
                                 "look in the creator's TikTok inbox before posting it again",
                                 platform=PLATFORM, code="inbox_unknown")  # fmt: skip
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
