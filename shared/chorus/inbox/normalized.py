"""The one shape every platform's inbound traffic is normalised into before it reaches the inbox.

Platform parsers (``chorus.platforms.<name>.webhook`` and the pollers) return a list of these;
the ingest worker stores messages, applies deletions and revocations, and counts what it ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MessageKind(StrEnum):
    COMMENT = "comment"  # a top-level comment on one of our posts
    REPLY = "reply"  # a reply to a comment or to a post in a thread
    MENTION = "mention"  # our account mentioned elsewhere
    DM = "dm"  # a direct/private message
    REVIEW = "review"  # a rating or review


@dataclass(frozen=True)
class InboundMedia:
    url: str
    type: str  # image | video | audio | file | sticker | location | other
    platform_media_id: str | None = None  # an id to download by when there is no URL (WhatsApp, WeChat)


@dataclass(frozen=True)
class InboundMessage:
    platform: str
    account_ref: str  # the platform's id of OUR account it arrived for (page id, IG id, for_user_id, ...)
    platform_message_id: str  # dedupe key together with platform
    kind: MessageKind
    conversation_ref: str  # groups a thread: our post's id for comments, the other party for DMs
    text: str
    created_at: datetime  # UTC
    author_id: str
    author_name: str | None = None
    author_handle: str | None = None
    parent_ref: str | None = None  # platform id of the message or post this one answers
    post_ref: str | None = None  # platform id of our post it concerns (links it to a Chorus post)
    media: tuple[InboundMedia, ...] = ()
    raw_type: str = ""  # e.g. "page.feed.comment.add", for logs and debugging
    edited: bool = False  # a new version of a message already delivered: update its text, do not notify
    authored_by_account: bool = False  # written by OUR account (e.g. the page replying on Facebook itself)


@dataclass(frozen=True)
class Deletion:
    """A message (or post) was deleted on the platform: mark it deleted, keep the record."""

    platform: str
    account_ref: str
    platform_message_id: str


@dataclass(frozen=True)
class Revocation:
    """The user removed our app's access: disable the account and tell its owner."""

    platform: str
    account_ref: str
    reason: str


@dataclass(frozen=True)
class DeliveryFailed:
    """A message OUR account sent was not delivered after the platform accepted it (WhatsApp's
    ``failed`` status, e.g. 131047 once the customer-service window closed): the reply shows it."""

    platform: str
    account_ref: str
    platform_message_id: str
    reason: str


REPLY_REFERENCE = "chorus-reply:"


def reply_reference(reply_id: str, key: str) -> str:
    """What a reply carries for the platform to echo in its status webhooks (WhatsApp's
    ``biz_opaque_callback_data``): ``chorus-reply:<reply id>:<its persisted idempotency key>``."""
    return f"{REPLY_REFERENCE}{reply_id}:{key}"


@dataclass(frozen=True)
class DeliveryConfirmed:
    """The platform reports a message OUR account sent, echoing the reference Chorus gave it (WhatsApp's
    ``biz_opaque_callback_data`` on a sent/delivered/read status): confirms a reply whose answer was lost."""

    platform: str
    account_ref: str
    platform_message_id: str
    reference: str


InboundEvent = InboundMessage | Deletion | Revocation | DeliveryFailed | DeliveryConfirmed


@dataclass(frozen=True)
class ParseResult:
    events: tuple[InboundEvent, ...]
    ignored: tuple[str, ...] = ()  # one reason per ignored item: "echo", "reaction", "read", "typing", ...
