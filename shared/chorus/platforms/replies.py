"""Reply senders: one small interface for answering a conversation on its own channel.

A sender sends one reply through :meth:`Progress.step` (part ``ROOT``), so the reply's idempotency
material and its "sent" mark are persisted before the call and a retry never sends blind
(docs/exactly_once.md). ``verifiable`` says whether the platform documents a way to look for a reply
whose answer was lost; where it does not (the messaging APIs: Send API, WhatsApp, X DMs), a reply
with an unknown outcome is never sent again (a duplicate private message is the worse error).

Channels whose reply is a post or a comment (Facebook comments, X replies, Mastodon, Bluesky, the
sandbox) are answered by the platform's publishing adapter with ``reply_to``
(:class:`PublisherReplies`), which already creates through ``request.progress`` and verifies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import requests

from chorus.platforms.base import (
    AccountCredentials,
    PermanentError,
    Progress,
    PublishingAdapter,
    PublishRequest,
    PublishResult,
)


@dataclass(frozen=True)
class ReplyRequest:
    reply_id: str
    text: str
    progress: Progress  # persisted idempotency material (the reply's key, started_at, sent/landed)
    not_before: datetime  # the reply cannot exist before this (verification)
    reply_to: str | None = None  # the platform id of the message, comment or post answered
    recipient: str | None = None  # the other party of a private conversation (PSID, IGSID, wa_id, user id)
    tag: str | None = None  # HUMAN_AGENT outside the standard window (Meta)
    template: Mapping[str, Any] | None = None  # WhatsApp: name, language, components


@runtime_checkable
class ReplySender(Protocol):
    verifiable: bool

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        """Send the reply once (through ``request.progress.step``); raise a PlatformError."""
        ...

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        """Look on the platform for the reply made for ``request`` (only when ``verifiable``)."""
        ...


class MessagingSender:
    """The base of senders on a messaging API that documents no read of a sent message (not
    ``verifiable``): a session, and the endpoint's URL when a test gives one (else read at each call)."""

    verifiable = False
    label = ""

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.session = session or requests.Session()
        self.base_url = base_url

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        raise PermanentError(f"{self.label} documents no way to read a sent message back")


class PublisherReplies:
    """A reply that is a post or comment, made by the platform's publishing adapter."""

    verifiable = True

    def __init__(self, adapter: PublishingAdapter, visibility: str | None = None) -> None:
        self.adapter = adapter
        self.visibility = visibility

    def _creds(self, creds: AccountCredentials) -> AccountCredentials:
        if self.visibility is None:
            return creds
        return replace(creds, extra={**creds.extra, "visibility": self.visibility})

    @staticmethod
    def _publish_request(request: ReplyRequest) -> PublishRequest:
        return PublishRequest(
            target_id=request.reply_id,
            text=request.text,
            reply_to=request.reply_to,
            not_before=request.not_before,
            progress=request.progress,
        )

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        result = self.adapter.publish(self._creds(creds), self._publish_request(request))
        if not isinstance(result, PublishResult):
            raise PermanentError("the platform answered with an asynchronous step a reply cannot take")
        return result

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        return self.adapter.find_published(self._creds(creds), self._publish_request(request))


_built: dict[str, ReplySender] = {}


def sender_for(spec: str, platform: str, visibility: str | None = None) -> ReplySender:
    """The sender a channel names: ``"publisher"`` (the platform's publishing adapter) or a
    ``"module:Class"`` of ``chorus.platforms``, built once per process (it reads its endpoint's URL
    at each call, from :func:`chorus.accounts.apps.get_apps`)."""
    from chorus.platforms import registry

    if spec == "publisher":  # the registry keeps the adapter (and forgets it on its reset)
        return PublisherReplies(registry.publisher(platform), visibility)
    if spec not in _built:
        _built[spec] = registry.adapter_class(spec)()
    return _built[spec]


def reset() -> None:
    _built.clear()


def _register_reset() -> None:
    from chorus.config import register_reset

    register_reset(reset)


_register_reset()
