"""The media library: every upload of ``POST /media`` is an item of its workspace.

- ``register_upload`` (``POST /media``) names the upload and records the item (state ``uploading``)
  before the presigned URL is handed out;
- ``ingest`` (the media bucket's ObjectCreated event, ``functions/media_library``) reads the stored file:
  an image is decoded for its size and thumbnail, a video's MP4 header boxes give its length and
  dimensions (``chorus.library.mp4``); the item becomes ``ready`` (or ``failed``, saying why);
- search by name, tag and type; tags; each item's fitness for every platform (its type, size, length
  and aspect ratio against ``chorus.posts.validation``'s media rules);
- usage: the posts whose content (or a variant) names the upload (``track_usage``, called when posts
  are created, edited and deleted); deleting an item in use is a 409 listing those posts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from chorus.auth.keys import Principal
from chorus.errors import Conflict, FieldError, ValidationFailed
from chorus.library import keys, mp4, objects, thumbs
from chorus.library import store as repo
from chorus.library.access import may_change
from chorus.observability import logger
from chorus.posts.model import Content, MediaRef
from chorus.posts.validation import MIME_KINDS, PLATFORM_RULES, MediaKind, MediaSpec, media_fitness
from chorus.store.pages import Page, PageRequest
from chorus.tags import MAX_TAGS, clean_tags

MAX_IMAGE_BYTES = 64 * 1024 * 1024  # decoded for a thumbnail; no platform takes a larger image


@dataclass(frozen=True)
class Upload:
    media_id: str
    key: str
    upload_url: str


def _tags(raw: Sequence[str], field: str = "tags") -> set[str]:
    return set(clean_tags(raw, field, MAX_TAGS))


def safe_filename(filename: str) -> str:
    return "".join(c for c in filename if c.isalnum() or c in "._-")[:100].lstrip(".") or "file"


def register_upload(
    principal: Principal, filename: str, mime_type: str, size: int, tags: Sequence[str] = ()
) -> Upload:
    """The item of a new upload (state ``uploading``), written before its presigned PUT URL exists."""
    may_change(principal)
    if mime_type.lower() not in MIME_KINDS:
        allowed = ", ".join(sorted(MIME_KINDS))
        raise ValidationFailed.on("mime_type", f"unsupported type; allowed: {allowed}", "media_type")
    tag_set = _tags(tags)
    now = datetime.now(UTC)
    media_id = keys.new_media_id(now, uuid.uuid4().hex)
    key = keys.upload_key(principal.workspace_id, media_id, safe_filename(filename))
    repo.put_new(
        repo.MediaItem(
            keys.library_pk(principal.workspace_id),
            keys.media_sk(media_id),
            workspace_id=principal.workspace_id,
            media_id=media_id,
            key=key,
            name=filename.strip()[:200],
            mime_type=mime_type.lower(),
            size=size,
            tags=tag_set or None,
            created_by=principal.actor,
            created_at=now,
            updated_at=now,
        )
    )
    return Upload(media_id, key, objects.presign_put(key, mime_type))


# ------------------------------------------------------------------ on upload


@dataclass(frozen=True)
class Facts:
    """What reading the stored file found."""

    size: int
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    thumbnail: thumbs.Thumbnail | None = None
    error: str | None = None


def read_facts(key: str, mime_type: str, size: int) -> Facts:
    """Read the stored file ``key``: an image's dimensions and thumbnail, a video's header facts and its
    poster. A file that is not what its type says gives ``error`` (never an exception)."""
    kind = MIME_KINDS.get(mime_type.lower())
    try:
        if kind is MediaKind.VIDEO:
            info = mp4.read(lambda offset, length: objects.read_range(key, offset, length), size)
            if not info.has_video:
                return Facts(size, error="the file has no video track")
            poster = thumbs.poster(info.width, info.height, info.duration_s)
            return Facts(size, info.width, info.height, info.duration_s, poster)
        if kind in (MediaKind.IMAGE, MediaKind.GIF):
            if size > MAX_IMAGE_BYTES:
                return Facts(size, error=f"images over {MAX_IMAGE_BYTES} bytes are not read")
            thumb = thumbs.of_image(objects.read_range(key, 0, size), mime_type)
            return Facts(size, thumb.source_width, thumb.source_height, None, thumb)
    except (mp4.NotMp4, thumbs.NotAnImage) as exc:
        return Facts(size, error=str(exc))
    return Facts(size, error=f"unsupported type {mime_type}")


def ingest(key: str) -> str | None:
    """Make the upload at ``key`` a ready library item (thumbnail written) or a failed one; returns the
    item's state, None for a key that is no upload (a thumbnail, anything else in the bucket).
    Idempotent: S3 may deliver an event twice, and reading the same file again gives the same item.
    When reading fails unexpectedly (S3 or DynamoDB errors) the item is marked failed, saying so, and the
    error is raised again: EventBridge retries the event (a success makes the item ready) and then puts
    it in the rule's dead-letter queue, the item already failed."""
    key = unquote_plus(key)
    parsed = keys.parse_upload_key(key)
    if parsed is None:
        return None
    workspace_id, media_id = parsed
    item = repo.find_media(workspace_id, media_id)
    if item is None or item.key != key:  # uploaded without POST /media's record (or it was deleted)
        logger.info("upload without a library item", media_id=media_id)
        return None
    try:
        facts = read_facts(key, item.mime_type, objects.head(key).size)
        thumb_key = None
        if facts.thumbnail is not None:
            thumb_key = keys.thumbnail_key(workspace_id, media_id)
            objects.put(thumb_key, facts.thumbnail.data, "image/jpeg")
    except Exception as exc:
        logger.exception("media library item not read", media_id=media_id)
        item.state, item.error = "failed", f"the file could not be read ({type(exc).__name__}); retried"
        item.updated_at = datetime.now(UTC)
        repo.save_ingested(item)
        raise
    item.size = facts.size
    item.width, item.height, item.duration_s = facts.width, facts.height, facts.duration_s
    item.thumbnail_key = thumb_key
    item.state = "failed" if facts.error else "ready"
    item.error = facts.error
    item.updated_at = datetime.now(UTC)
    repo.save_ingested(item)
    return item.state


# ------------------------------------------------------------------ reading


def spec_of(item: repo.MediaItem) -> MediaSpec:
    """What validation needs to know of the item's file."""
    return MediaSpec(
        item.mime_type,
        int(item.size) if item.size is not None else None,
        int(item.width) if item.width else None,
        int(item.height) if item.height else None,
        float(item.duration_s) if item.duration_s is not None else None,
    )


def fitness(item: repo.MediaItem) -> dict[str, dict[str, Any]]:
    """Per platform: whether the file fits as a post's attachment, and the rules it breaks (its type,
    size, a video's length, the aspect ratio). Nothing until the file has been read."""
    if item.state != "ready":
        return {}
    spec = spec_of(item)
    found = {}
    for platform in sorted(PLATFORM_RULES):
        broken = [{"rule": v.rule, "message": v.message} for v in media_fitness(platform, spec)]
        found[platform] = {"fits": not broken, "problems": broken}
    return found


def public(item: repo.MediaItem) -> dict[str, Any]:
    kind = MIME_KINDS.get(item.mime_type)
    width, height = item.width, item.height
    return {
        "id": item.media_id,
        "key": item.key,
        "name": item.name,
        "mime_type": item.mime_type,
        "type": kind.value if kind else None,
        "state": item.state,
        "error": item.error,
        "size": item.size,
        "width": width,
        "height": height,
        "aspect_ratio": round(width / height, 4) if width and height else None,
        "duration_s": item.duration_s,
        "thumbnail_url": objects.presign_get(item.thumbnail_key) if item.thumbnail_key else None,
        "tags": sorted(item.tags or ()),
        "usage_count": len(item.used_by or ()),
        "used_by": sorted(item.used_by or ()),
        "fitness": fitness(item),
        "created_by": item.created_by,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def get(principal: Principal, media_id: str) -> repo.MediaItem:
    return repo.get_media(principal.workspace_id, media_id)


def search(
    principal: Principal,
    request: PageRequest,
    text: str | None = None,
    tag: str | None = None,
    kind: str | None = None,
) -> Page[repo.MediaItem]:
    """A page of the workspace's items, newest first, whose name contains ``text`` (any case), which
    carry ``tag``, and of ``kind`` (image, gif, video)."""
    if kind is not None and kind not in {k.value for k in MediaKind}:
        raise ValidationFailed.on("type", f"one of {', '.join(k.value for k in MediaKind)}", "enum")
    needle = (text or "").strip().casefold()
    wanted = (tag or "").strip().lower()

    def keep(item: repo.MediaItem) -> bool:
        found_kind = MIME_KINDS.get(item.mime_type)
        return (
            (not needle or needle in item.name.casefold())
            and (not wanted or wanted in (item.tags or ()))
            and (kind is None or (found_kind is not None and found_kind.value == kind))
        )

    return repo.page_of(
        repo.MediaItem, principal.workspace_id, keys.MEDIA_PREFIX, request, keep, newest_first=True
    )


# ------------------------------------------------------------------ changing


def edit(principal: Principal, media_id: str, name: str | None, tags: Sequence[str] | None) -> repo.MediaItem:
    may_change(principal)
    item = repo.get_media(principal.workspace_id, media_id)
    if name is not None:
        if not name.strip():
            raise ValidationFailed.on("name", "cannot be empty", "required")
        item.name = name.strip()[:200]
    if tags is not None:
        item.tags = _tags(tags) or None
    item.updated_at = datetime.now(UTC)
    repo.save_edited(item)
    return repo.get_media(principal.workspace_id, media_id)


def remove(principal: Principal, media_id: str) -> None:
    """Delete an item and its files; a 409 listing the posts that use it while any does."""
    may_change(principal)
    item = repo.get_media(principal.workspace_id, media_id)
    if item.used_by or not repo.delete(item, condition=repo.media_unused()):
        users = sorted(repo.get_media(principal.workspace_id, media_id).used_by or ())
        raise Conflict(
            f"media {media_id} is used by {len(users)} post(s): {', '.join(users)}; edit or delete them first",
            [FieldError(f"used_by[{i}]", post_id, "in_use") for i, post_id in enumerate(users)],
        )
    objects.delete([item.key] + ([item.thumbnail_key] if item.thumbnail_key else []))


# ------------------------------------------------------------------ posts naming library files


def library_specs(workspace_id: str, refs: Iterable[MediaRef]) -> dict[str, MediaSpec | FieldError]:
    """For each upload of this workspace that ``refs`` name (by key): what validation should know of it,
    the library's facts (the stored size, dimensions, a video's length), so a post is checked against
    each platform's length and aspect-ratio bounds too; or why it cannot be used (deleted, never
    registered, or not readable), as the error to report at the key's field."""
    wanted = {ref.key: parsed[1] for ref in refs if ref.key and (parsed := keys.parse_upload_key(ref.key))
              and parsed[0] == workspace_id}  # fmt: skip
    items = repo.media_items(workspace_id, set(wanted.values()))
    found: dict[str, MediaSpec | FieldError] = {}
    for key, media_id in wanted.items():
        item = items.get(media_id)
        if item is None or item.key != key:
            found[key] = FieldError(
                "key", "not in the media library (deleted, or not made by POST /media)", "media_key"
            )
        elif item.state == "failed":
            found[key] = FieldError("key", f"the file could not be read: {item.error}", "media_failed")
        else:
            found[key] = spec_of(item)
    return found


# ------------------------------------------------------------------ usage by posts


def media_ids(workspace_id: str, contents: Iterable[Content]) -> set[str]:
    """The library items the contents name (uploads of this workspace)."""
    found: set[str] = set()
    for content in contents:
        for ref in content.media:
            parsed = keys.parse_upload_key(ref.key) if ref.key else None
            if parsed is not None and parsed[0] == workspace_id:
                found.add(parsed[1])
    return found


def track_usage(workspace_id: str, post_id: str, before: Iterable[Content], after: Iterable[Content]) -> None:
    """Record that post ``post_id`` now names the uploads in ``after`` and no longer those only in
    ``before`` (a new post: nothing before; a deleted one: nothing after)."""
    old, new = media_ids(workspace_id, before), media_ids(workspace_id, after)
    now = datetime.now(UTC)
    for media_id in sorted(new - old):
        repo.mark_used(workspace_id, media_id, post_id, True, now)
    for media_id in sorted(old - new):
        repo.mark_used(workspace_id, media_id, post_id, False, now)
