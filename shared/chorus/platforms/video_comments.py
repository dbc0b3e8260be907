"""Comments on an account's videos where a platform lists them video by video and answers a comment by
naming both (Douyin's ``item/comment``, TikTok's business ``comment`` endpoints): one message id for a
comment, the poll's cursor rule, and the inbox message a comment becomes.

* A message id is ``"<video id>~<comment id>"`` (``~`` is in neither platform's ids), the same for what
  arrives and what Chorus sends, so a reply can name the video and the comment it answers.
* The poll keeps one cursor, the newest ``create_time`` (seconds) seen: comments from that second on are
  queued again (the ingest's dedupe drops the ones it has), so a comment made in the same second as the
  last one seen is never skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.platforms.base import PermanentError
from chorus.platforms.webhooks import from_epoch

SEPARATOR = "~"
T = TypeVar("T")


def message_id(video_id: str, comment_id: str) -> str:
    return f"{video_id}{SEPARATOR}{comment_id}"


def split_message_id(value: str | None, platform: str, label: str) -> tuple[str, str]:
    """(video id, comment id) of a message id; PermanentError when it names no comment."""
    video_id, sep, comment_id = (value or "").partition(SEPARATOR)
    if not (sep and video_id and comment_id):
        raise PermanentError(f"{label}: {value!r} names no comment to answer", platform=platform)
    return video_id, comment_id


def from_cursor(found: Iterable[tuple[int, T]], since: int | None) -> tuple[list[T], str | None]:
    """The ``(create_time, comment)`` pairs made from the cursor's second on, oldest first, and the
    cursor that follows them (the newest time seen; the same cursor when nothing is newer)."""
    kept = sorted(((at, c) for at, c in found if since is None or at >= since), key=lambda f: f[0])
    newest = max([since or 0, *(at for at, _ in kept)]) if kept or since is not None else None
    return [c for _, c in kept], str(newest) if newest is not None else None


def video_comment(
    platform: str,
    account_ref: str,
    video_id: str,
    comment_id: str,
    *,
    text: str,
    created: int,
    where: str,
    author: str,
    author_name: str | None,
    raw_type: str,
    authored_by_account: bool,
) -> InboundMessage:
    """A comment on one of the account's videos: a COMMENT whose conversation and post are the video."""
    return InboundMessage(
        platform=platform,
        account_ref=account_ref,
        platform_message_id=message_id(video_id, comment_id),
        kind=MessageKind.COMMENT,
        conversation_ref=video_id,
        text=text,
        created_at=from_epoch(created, where),
        author_id=author,
        author_name=author_name,
        parent_ref=video_id,
        post_ref=video_id,
        raw_type=raw_type,
        authored_by_account=authored_by_account,
    )
