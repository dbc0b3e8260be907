"""Bluesky direct messages in the inbox (the ``bluesky.dm`` channel), through Bluesky's chat service.

**Where the calls go** (``fixtures/platform_api/replies/bluesky``: the ``chat.bsky.convo.*`` lexicons and
``atproto_proxy_header.json``). Chat methods are called on the account's own PDS with its session token and
the header ``atproto-proxy: did:web:api.bsky.chat#bsky_chat``; the PDS forwards them to the chat service
(the AppView answers 404 to chat calls). **How far verified**: the request and answer shapes are the
lexicons'; no recorded chat answer exists (the chat service is closed-source), so the answers the tests use
are built from the lexicons, and the proxy header's value comes from the official app's source.

**Polling** (no webhooks): ``GET chat.bsky.convo.getLog?cursor=`` returns the account's chat events since
the cursor (``{cursor, logs: [...]}``, a union of ``log*`` events) and the cursor to continue from. Pages
are read while they bring events and a new cursor, at most ``MAX_PAGES`` a poll (the next poll goes on
from the cursor). The log without a cursor starts at the account's first message, so the first read of it
keeps only messages sent in the last ``HISTORY`` (7 days), until it reaches the log's end. Only
``logCreateMessage`` events matter here; a deleted message (``deletedMessageView``, no text) is ignored.
Bluesky's poll keeps one cursor per account for its notifications (an ``indexedAt`` marker) and the chat
log (:class:`BlueskyCursor`).
The chat log is read after the notifications, and a chat failure other than a rate limit (the account's
app password may not allow direct messages) is logged and leaves the chat cursor where it was: the
notifications still land.

**Normalising** (:func:`parse_messages`): a message is a DM of the conversation ``convoId`` (the
conversation's reference, and the recipient of a reply), id the message's ``id``, written by
``message.sender.did`` (handle and display name from the event's ``relatedProfiles``). The account's own
messages (its did) land as the account's own, never as inbound (a reply sent from Chorus is deduped on
its id).

**Replying** (:class:`BlueskyChatSender`): ``POST chat.bsky.convo.sendMessage`` ``{convoId, message:
{text}}`` (text at most 1000 graphemes, 10000 bytes), answered with the ``messageView`` (its ``id`` is the
reply's platform id). The session is the publisher's (an expired token is refreshed once,
:meth:`~chorus.platforms.bluesky.publish.BlueskyPublisher.xrpc`). Exactly once: the call goes through
``progress.step`` (its "sent" mark persisted before it); the method takes no idempotency key, so after a
lost answer the conversation's newest messages are read (``GET chat.bsky.convo.getMessages?convoId=``,
the method the official app reads a conversation with; its lexicon is not among the stored fixtures) for
the account's message with the same text sent since the reply was queued; it is never sent again blind.
The lexicons' named errors (``MessagesDisabled``, ``NotFollowedBySender``, ``ConvoLocked``,
``InvalidConvo``, ...) fail the reply with the reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from chorus.inbox.normalized import InboundMessage, MessageKind, ParseResult
from chorus.net.fetch import guarded_session
from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    PermanentError,
    PlatformError,
    PublishResult,
)
from chorus.platforms.bluesky.notifications import PLATFORM, fetch_notifications, parse_notifications
from chorus.platforms.bluesky.publish import BlueskyPublisher
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.parts import CLOCK_SKEW
from chorus.platforms.replies import ReplyRequest
from chorus.platforms.webhooks import MalformedWebhook, from_iso, ident, obj, opt_obj, text_of
from chorus.posts import text as textlib
from chorus.store import keys

logger = logging.getLogger(__name__)

PROXY_HEADER = "atproto-proxy"
CHAT_SERVICE = "did:web:api.bsky.chat#bsky_chat"
CHAT_HEADERS = {PROXY_HEADER: CHAT_SERVICE}
GET_LOG = "chat.bsky.convo.getLog"
SEND = "chat.bsky.convo.sendMessage"
GET_MESSAGES = "chat.bsky.convo.getMessages"
CREATE_MESSAGE = "chat.bsky.convo.defs#logCreateMessage"
MESSAGE_VIEW = "chat.bsky.convo.defs#messageView"
DELETED_VIEW = "chat.bsky.convo.defs#deletedMessageView"
MAX_PAGES = 10
LOOK_LIMIT = 50  # getMessages: the newest messages read when looking for a reply whose answer was lost
REFUSALS = {  # the lexicons' named errors (getConvoForMembers, sendMessage), as a person reads them
    "MessagesDisabled": "the person does not accept direct messages",
    "NotFollowedBySender": "the person accepts direct messages only from accounts they follow",
    "BlockedActor": "the person has blocked the account",
    "BlockedSubject": "the account has blocked the person",
    "AccountSuspended": "the account is suspended",
    "RecipientNotFound": "the person's account no longer exists",
    "ConvoLocked": "the conversation is locked",
    "InvalidConvo": "the conversation no longer exists or the account left it",
    "ReplyTargetNotFound": "the message answered no longer exists",
}
NOTIFICATIONS_KEY = "notifications"
CHAT_KEY = "chat"
SINCE_KEY = "since"
HISTORY = timedelta(days=7)
"""How far back the first read of an account's chat log takes messages (the log starts at the account's
first message: the inbox starts with the last week's, not with years of history)."""


# -------------------------------------------------------------------------------------- the cursor
@dataclass(frozen=True)
class BlueskyCursor:
    """What a Bluesky account's one poll cursor holds: the notifications' ``indexedAt`` marker, the chat
    log's cursor, and while the log is still being caught up, the oldest ``sentAt`` taken from it."""

    notifications: str | None = None
    chat: str | None = None
    since: str | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> BlueskyCursor:
        """A stored cursor (a bare marker, from before direct messages: no chat cursor yet)."""
        if not cursor:
            return cls()
        if not cursor.startswith("{"):
            return cls(notifications=cursor)
        try:
            held = json.loads(cursor)
        except ValueError:
            return cls()
        if not isinstance(held, dict):
            return cls()
        return cls(ident(held.get(NOTIFICATIONS_KEY)), ident(held.get(CHAT_KEY)), ident(held.get(SINCE_KEY)))

    def dumps(self) -> str | None:
        if self.chat is None and self.since is None:
            return self.notifications
        held = {NOTIFICATIONS_KEY: self.notifications, CHAT_KEY: self.chat, SINCE_KEY: self.since}
        return json.dumps({k: v for k, v in held.items() if v is not None}, sort_keys=True)


# -------------------------------------------------------------------------------------- polling
def fetch_log(
    session: requests.Session,
    base_url: str,
    token: str,
    cursor: str | None,
    *,
    since: datetime | None = None,
    max_pages: int | None = None,
) -> tuple[list[dict[str, Any]], str | None, bool]:
    """The ``logCreateMessage`` events of the account's chat log after ``cursor`` (in the log's order;
    with ``since``, only messages sent from then on), the cursor to continue from, and whether the log's
    end was reached (else the next poll goes on from the cursor)."""
    url = base_url.rstrip("/") + "/xrpc/" + GET_LOG
    found: list[dict[str, Any]] = []
    headers = {**bearer(token), **CHAT_HEADERS}
    for _ in range(max_pages or MAX_PAGES):
        params = {"cursor": cursor} if cursor else {}
        page = obj(json_body(call(session, "GET", url, PLATFORM, params=params, headers=headers), PLATFORM),
                   "getLog")  # fmt: skip
        logs = page.get("logs")
        if not isinstance(logs, list):
            raise MalformedWebhook("getLog.logs: missing")
        for raw in logs:
            event = obj(raw, "getLog.logs[]")
            if event.get("$type") == CREATE_MESSAGE and (since is None or _sent_at(event) >= since):
                found.append(event)
        after = ident(page.get("cursor"))
        if not logs or after is None or after == cursor:
            return found, after or cursor, True
        cursor = after
    return found, cursor, False


def _sent_at(event: dict[str, Any]) -> datetime:
    message = opt_obj(event.get("message"), "getLog.logs[].message")
    return from_iso(message.get("sentAt"), "getLog.logs[].message.sentAt")


def fetch_inbox(
    session: requests.Session | None,
    base_url: str,
    token: str,
    cursor: str | None,
    *,
    now: datetime | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One poll of a Bluesky account: its reply/mention/quote notifications, then its chat log; the items
    (notifications first) and the account's next cursor."""
    http = session or guarded_session()
    held = BlueskyCursor.parse(cursor)
    items, marker = fetch_notifications(http, base_url, token, held.notifications)
    since = held.since
    if held.chat is None and since is None:  # the first read of the log: only the last days' messages
        since = keys.iso((now or datetime.now(UTC)) - HISTORY)
    chat = held.chat
    try:
        messages, chat, at_end = fetch_log(http, base_url, token, chat,
                                           since=from_iso(since, "since") if since else None)  # fmt: skip
    except PlatformError as error:  # the notifications still land; the chat is read next time
        logger.info("bluesky chat not polled", extra={"error": error.message, "code": error.code})
        messages, at_end = [], False
    return items + messages, BlueskyCursor(marker, chat, None if at_end else since).dumps()


# -------------------------------------------------------------------------------------- normalising
def _profiles(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    related = event.get("relatedProfiles")
    found = {}
    for raw in related if isinstance(related, list) else []:
        if isinstance(raw, dict) and ident(raw.get("did")):
            found[str(raw["did"])] = raw
    return found


def parse_messages(items: Iterable[Any], account_ref: str) -> ParseResult:
    """Polled ``logCreateMessage`` events -> DM messages of their conversations (``convoId``)."""
    events: list[InboundMessage] = []
    ignored: list[str] = []
    for i, raw in enumerate(items):
        where = f"logs[{i}]"
        event = obj(raw, where)
        convo = ident(event.get("convoId"))
        message = obj(event.get("message"), f"{where}.message")
        if convo is None:
            raise MalformedWebhook(f"{where}.convoId: missing")
        if message.get("$type") == DELETED_VIEW or "text" not in message:
            ignored.append("deleted")
            continue
        message_id = ident(message.get("id"))
        did = ident(opt_obj(message.get("sender"), f"{where}.message.sender").get("did"))
        if message_id is None or did is None:
            raise MalformedWebhook(f"{where}.message: no id or sender.did")
        profile = _profiles(event).get(did, {})
        events.append(
            InboundMessage(
                platform=PLATFORM,
                account_ref=account_ref,
                platform_message_id=message_id,
                kind=MessageKind.DM,
                conversation_ref=convo,
                text=text_of(message.get("text")),
                created_at=from_iso(message.get("sentAt"), f"{where}.message.sentAt"),
                author_id=did,
                author_name=text_of(profile.get("displayName")) or None,
                author_handle=text_of(profile.get("handle")) or None,
                raw_type="bluesky.dm",
                authored_by_account=did == account_ref,
            )
        )
    return ParseResult(events=tuple(events), ignored=tuple(ignored))


def parse_inbox(items: Iterable[Any], account_ref: str) -> ParseResult:
    """A polled Bluesky page: notifications and chat log events (told apart by the event's ``$type``)."""
    listed = list(items)
    chat = [i for i in listed if isinstance(i, dict) and i.get("$type") == CREATE_MESSAGE]
    posts = parse_notifications([i for i in listed if not (isinstance(i, dict) and i.get("$type") == CREATE_MESSAGE)],
                                account_ref)  # fmt: skip
    dms = parse_messages(chat, account_ref)
    return ParseResult(events=posts.events + dms.events, ignored=posts.ignored + dms.ignored)


# -------------------------------------------------------------------------------------- replying
class BlueskyChatSender:
    """Replies in a Bluesky chat conversation, verified on the conversation's newest messages."""

    verifiable = True

    def __init__(self, publisher: BlueskyPublisher | None = None) -> None:
        self.given = publisher

    def publisher(self) -> BlueskyPublisher:
        """The given publisher, else the registry's (it keeps the account's session)."""
        if self.given is not None:
            return self.given
        from chorus.platforms import registry

        found = registry.publisher(PLATFORM)
        assert isinstance(found, BlueskyPublisher)
        return found

    @staticmethod
    def _convo(request: ReplyRequest) -> str:
        convo = request.recipient or request.reply_to
        if not convo:
            raise PermanentError("Bluesky: the reply names no conversation", platform=PLATFORM)
        return convo

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        body = {"convoId": self._convo(request), "message": {"text": request.text}}

        def create() -> str:
            try:
                resp = self.publisher().xrpc(creds, "POST", SEND, json=body, headers=dict(CHAT_HEADERS))
            except PermanentError as error:
                why = REFUSALS.get(error.code or "")
                if why is None:
                    raise
                raise PermanentError(f"Bluesky refused the message: {why} ({error.code})", platform=PLATFORM,
                                     code=error.code, status=error.status) from error  # fmt: skip
            sent = obj(json_body(resp, PLATFORM), "sendMessage")
            message_id = ident(sent.get("id"))
            if message_id is None:
                raise PermanentError("Bluesky's sendMessage answer names no message id", platform=PLATFORM)
            return message_id

        return PublishResult(platform_post_id=request.progress.step(ROOT, create))

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        resp = self.publisher().xrpc(creds, "GET", GET_MESSAGES, params={"convoId": self._convo(request),
                                     "limit": str(LOOK_LIMIT)}, headers=dict(CHAT_HEADERS))  # fmt: skip
        page = obj(json_body(resp, PLATFORM), "getMessages")
        since = request.not_before - CLOCK_SKEW
        wanted = textlib.match_key(request.text)
        messages = page.get("messages")
        for raw in messages if isinstance(messages, list) else []:
            if not isinstance(raw, dict) or "text" not in raw or raw.get("$type") == DELETED_VIEW:
                continue
            sender = ident(opt_obj(raw.get("sender"), "getMessages.messages[].sender").get("did"))
            message_id = ident(raw.get("id"))
            if sender != creds.account_id or message_id is None:
                continue
            if from_iso(raw.get("sentAt"), "getMessages.messages[].sentAt") < since:
                continue
            if textlib.match_key(text_of(raw.get("text"))) == wanted:
                return PublishResult(platform_post_id=message_id)
        return None
