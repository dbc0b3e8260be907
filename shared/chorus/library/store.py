"""PynamoDB items of the content library (main table) and their repository functions.

Persistence models are not domain models: the services map them (``templates``, ``hashtags``,
``media``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from chorus.errors import Conflict, NotFound
from chorus.library import keys
from chorus.store.models import MainItem, bind, update
from chorus.store.pages import Page, PageRequest, prefix_page

T = TypeVar("T")


class TemplateItem(MainItem, discriminator="library_template"):
    workspace_id = UnicodeAttribute()
    template_id = UnicodeAttribute()
    name = UnicodeAttribute()
    body = JSONAttribute()  # text, variables [{name, default, description}], variants {platform: text}
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)


class HashtagGroupItem(MainItem, discriminator="hashtag_group"):
    workspace_id = UnicodeAttribute()
    group_id = UnicodeAttribute()
    name = UnicodeAttribute()
    hashtags = JSONAttribute()  # the tags in their order, without '#'
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class MediaItem(MainItem, discriminator="media_item"):
    workspace_id = UnicodeAttribute()
    media_id = UnicodeAttribute()
    key = UnicodeAttribute()  # the upload's key in the media bucket
    name = UnicodeAttribute()
    mime_type = UnicodeAttribute()
    state = UnicodeAttribute(default="uploading")  # uploading | ready | failed
    size = NumberAttribute(null=True)  # bytes: as declared, then as stored
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    duration_s = NumberAttribute(null=True)
    thumbnail_key = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)  # why the file could not be read (state failed)
    tags = UnicodeSetAttribute(null=True)
    used_by = UnicodeSetAttribute(null=True)  # ids of the posts whose content names this upload
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


def _get(model: Any, workspace_id: str, sk: str, what: str) -> Any:
    bind()
    try:
        return model.get(keys.library_pk(workspace_id), sk, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"{what} not found") from None


def put_new(item: MainItem) -> None:
    """Write an item that must not exist yet (its id is fresh)."""
    bind()
    try:
        item.save(condition=MainItem.pk.does_not_exist())
    except PutError as exc:
        if "ConditionalCheckFailed" in str(exc):
            raise Conflict("an item with this id exists") from None
        raise


def save(item: MainItem) -> None:
    bind()
    item.save()


def delete(item: MainItem, condition: Any = None) -> bool:
    """Delete ``item`` (False when ``condition`` no longer holds)."""
    bind()
    try:
        item.delete(condition=condition)
    except DeleteError as exc:
        if "ConditionalCheckFailed" in str(exc):
            return False
        raise
    return True


def get_template(workspace_id: str, template_id: str) -> TemplateItem:
    found: TemplateItem = _get(TemplateItem, workspace_id, keys.template_sk(template_id), "template")
    return found


def get_group(workspace_id: str, group_id: str) -> HashtagGroupItem:
    found: HashtagGroupItem = _get(
        HashtagGroupItem, workspace_id, keys.hashtags_sk(group_id), "hashtag group"
    )
    return found


def get_media(workspace_id: str, media_id: str) -> MediaItem:
    found: MediaItem = _get(MediaItem, workspace_id, keys.media_sk(media_id), "media item")
    return found


def find_media(workspace_id: str, media_id: str) -> MediaItem | None:
    try:
        return get_media(workspace_id, media_id)
    except NotFound:
        return None


def media_items(workspace_id: str, media_ids: set[str]) -> dict[str, MediaItem]:
    """The workspace's items of ``media_ids`` that exist, by id (one BatchGetItem per 100)."""
    if not media_ids:
        return {}
    bind()
    wanted = [(keys.library_pk(workspace_id), keys.media_sk(m)) for m in sorted(media_ids)]
    return {item.media_id: item for item in MediaItem.batch_get(wanted, consistent_read=True)}


def page_of(
    model: Any,
    workspace_id: str,
    prefix: str,
    page: PageRequest,
    keep: Any = None,
    newest_first: bool = False,
) -> Page[Any]:
    bind()
    return prefix_page(
        model, keys.library_pk(workspace_id), prefix, page, keep=keep, newest_first=newest_first
    )


def mapped_page(
    model: Any, workspace_id: str, prefix: str, page: PageRequest, to_domain: Callable[[Any], T]
) -> Page[T]:
    """A page of ``model``'s items as domain objects (``to_domain`` maps each)."""
    found = page_of(model, workspace_id, prefix, page)
    return Page([to_domain(i) for i in found.items], found.next_cursor)


def save_versioned(item: TemplateItem, expected: int) -> None:
    """Write a template edited from version ``expected`` (409 when someone saved another meanwhile)."""
    bind()
    try:
        item.save(condition=TemplateItem.version == expected)
    except PutError as exc:
        if "ConditionalCheckFailed" in str(exc):
            raise Conflict(f"template {item.template_id} changed meanwhile; read it again") from None
        raise


def mark_used(workspace_id: str, media_id: str, post_id: str, used: bool, at: datetime) -> bool:
    """Add ``post_id`` to (or take it from) the item's users; False when there is no such item (a file
    uploaded before the library, or deleted meanwhile)."""
    value = {post_id}
    action = MediaItem.used_by.add(value) if used else MediaItem.used_by.delete(value)
    try:
        update(
            MediaItem,
            keys.library_pk(workspace_id),
            keys.media_sk(media_id),
            [action, MediaItem.updated_at.set(at)],
            condition=MediaItem.pk.exists(),
        )
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc):
            return False
        raise
    return True


def media_unused() -> Any:
    """The condition that an item has no user (DynamoDB drops an emptied set)."""
    return MediaItem.used_by.does_not_exist()


def _set_or_remove(attribute: Any, value: Any) -> Any:
    return attribute.remove() if value is None else attribute.set(value)


def _update_media(item: MediaItem, actions: list[Any]) -> None:
    """Write only ``actions`` (never the whole item: ``used_by`` moves under it as posts change)."""
    try:
        update(MediaItem, item.pk, item.sk, actions, condition=MediaItem.pk.exists())
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc):
            raise NotFound("media item not found (deleted meanwhile)") from None
        raise


def save_ingested(item: MediaItem) -> None:
    """What reading the file found: its size, dimensions, length, thumbnail and state."""
    _update_media(
        item,
        [
            _set_or_remove(MediaItem.size, item.size),
            _set_or_remove(MediaItem.width, item.width),
            _set_or_remove(MediaItem.height, item.height),
            _set_or_remove(MediaItem.duration_s, item.duration_s),
            _set_or_remove(MediaItem.thumbnail_key, item.thumbnail_key),
            _set_or_remove(MediaItem.error, item.error),
            MediaItem.state.set(item.state),
            MediaItem.updated_at.set(item.updated_at),
        ],
    )


def save_edited(item: MediaItem) -> None:
    """A person's edit: the name and the tags."""
    _update_media(
        item,
        [
            MediaItem.name.set(item.name),
            _set_or_remove(MediaItem.tags, item.tags or None),
            MediaItem.updated_at.set(item.updated_at),
        ],
    )
