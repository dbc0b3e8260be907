"""Key builders of the content library's items in the main table (never inline f-strings elsewhere).

WS#<ws> / TEMPLATE#<template_id>     a text template (variables, per-platform variants)
WS#<ws> / HASHTAGS#<group_id>        a named hashtag group
WS#<ws> / MEDIA#<media_id>           a media library item: one upload of POST /media

A media item's id (its upload time, then random hex digits: newest first is the reverse key order) is
the middle part of its upload key (``<ws>/media/<media_id>/<file name>``), so the
upload, the item and its thumbnail (``<ws>/thumbs/<media_id>.jpg``) name each other without a lookup.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chorus.store.keys import media_prefix, workspace_pk

TEMPLATE_PREFIX = "TEMPLATE#"
HASHTAGS_PREFIX = "HASHTAGS#"
MEDIA_PREFIX = "MEDIA#"


def library_pk(workspace_id: str) -> str:
    return workspace_pk(workspace_id)


def template_sk(template_id: str) -> str:
    return f"{TEMPLATE_PREFIX}{template_id}"


def hashtags_sk(group_id: str) -> str:
    return f"{HASHTAGS_PREFIX}{group_id}"


def media_sk(media_id: str) -> str:
    return f"{MEDIA_PREFIX}{media_id}"


def new_media_id(at: datetime, random_hex: str) -> str:
    """The upload's time (UTC, to the second) then 16 random hex digits: items sort by upload time."""
    return at.astimezone(UTC).strftime("%Y%m%d%H%M%S") + random_hex[:16]


def upload_key(workspace_id: str, media_id: str, filename: str) -> str:
    return f"{media_prefix(workspace_id)}{media_id}/{filename}"


def thumbnail_key(workspace_id: str, media_id: str) -> str:
    return f"{workspace_id}/thumbs/{media_id}.jpg"


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """(workspace id, media id) of an upload key ``<ws>/media/<media_id>/<name>``; None for any other
    key (a thumbnail, a report, a key with a path trick)."""
    parts = key.split("/")
    if len(parts) != 4 or parts[1] != "media" or not all(parts) or ".." in parts:
        return None
    return parts[0], parts[2]
