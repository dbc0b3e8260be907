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
The chat log is read after the notifications; whatever happens to it, the notifications land and their
marker moves.

**When the chat log is refused** (:func:`refusal`), it is left alone for a while (``WAITS``: 1 h, then 6 h,
then 24 h for every later refusal in a row) instead of being asked on every poll, and the account shows
why (``direct_messages`` in ``GET /accounts``, written by the poller: :mod:`chorus.accounts.features`):

* an app password created without "Allow access to your direct messages": the PDS answers 400
  ``InvalidToken`` "Bad token method" (the reference PDS's ``pipethrough``, ``PRIVILEGED_METHODS``);
* a PDS without a chat service to forward to: 400 ``InvalidRequest`` "could not resolve proxy did
  [service url]" or "No service configured for ...", or a 404 / 501 (a PDS that does not proxy chat).

A transient failure (5xx, a timeout, a rate limit) is tried again on the next poll, as before; only when
the log has failed on every poll for ``FAILING_FOR`` (1 h) is it left alone like a refusal. (The local
atproto network of ``make e2e`` is such a case: its PDS cannot resolve ``did:web:api.bsky.chat`` offline
and answers 500 ``InternalServerError``, observed with @atproto/dev-env's PDS.) A pause holds only while the
account still shows the refusal: reconnecting the account (a new app password) clears it there, and the
next poll asks the log at once, with the waits starting again from 1 h. The pause lives on the cursor
(``failing``, ``paused``, ``why``, ``misses``); a successful read clears it.

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
``InvalidConvo``, ...) fail the reply with the reason, and so does an app password without access to
direct messages (a failed reply, not an account to reconnect: its posts go on).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
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
from chorus.platforms.bluesky.publish import BlueskyPublisher, scope_refused
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
FAILING_KEY, PAUSED_KEY, WHY_KEY, MISSES_KEY = "failing", "paused", "why", "misses"
NO_DM_ACCESS = "no_dm_access"
NO_CHAT_SERVICE = "no_chat_service"
CHAT_FAILING = "chat_failing"
WHY = {  # why the chat log is left alone, as the account shows it ("Direct messages: ...")
    NO_DM_ACCESS: "not allowed by this app password (create one with \"Allow access to your direct messages\" "
                  "and reconnect the account)",
    NO_CHAT_SERVICE: "the account's PDS has no chat service",
    CHAT_FAILING: "the chat service has failed on every poll for an hour",
}  # fmt: skip
WAITS = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24))
"""How long the chat log is left alone after the first, the second and every later refusal in a row."""
FAILING_FOR = timedelta(hours=1)
"""How long transient failures of the chat log go on, tried again every poll, before it is left alone."""
NO_SERVICE_MESSAGES = ("could not resolve proxy did", "no service configured for")
HISTORY = timedelta(days=7)
"""How far back the first read of an account's chat log takes messages (the log starts at the account's
first message: the inbox starts with the last week's, not with years of history)."""


# -------------------------------------------------------------------------------------- the cursor
@dataclass(frozen=True)
class BlueskyCursor:
    """What a Bluesky account's one poll cursor holds: the notifications' ``indexedAt`` marker, the chat
    log's cursor, and while the log is still being caught up, the oldest ``sentAt`` taken from it. While
    the log fails: since when (``failing``), until when it is left alone (``paused``), why, and how many
    pauses in a row (``misses``, which picks the next wait)."""

    notifications: str | None = None
    chat: str | None = None
    since: str | None = None
    failing: str | None = None
    paused: str | None = None
    why: str | None = None
    misses: int = 0

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
        misses = held.get(MISSES_KEY)
        return cls(ident(held.get(NOTIFICATIONS_KEY)), ident(held.get(CHAT_KEY)), ident(held.get(SINCE_KEY)),
                   ident(held.get(FAILING_KEY)), ident(held.get(PAUSED_KEY)), ident(held.get(WHY_KEY)),
                   misses if isinstance(misses, int) and misses > 0 else 0)  # fmt: skip

    def dumps(self) -> str | None:
        held = {NOTIFICATIONS_KEY: self.notifications, CHAT_KEY: self.chat, SINCE_KEY: self.since,
                FAILING_KEY: self.failing, PAUSED_KEY: self.paused, WHY_KEY: self.why,
                MISSES_KEY: self.misses or None}  # fmt: skip
        if all(v is None for k, v in held.items() if k != NOTIFICATIONS_KEY):
            return self.notifications
        return json.dumps({k: v for k, v in held.items() if v is not None}, sort_keys=True)

    @property
    def refused(self) -> str | None:
        """Why the chat log is left alone, as a person reads it (None while it is read)."""
        return WHY.get(self.why or "", self.why) if self.paused else None

    def resting(self, now: datetime) -> bool:
        """Whether the chat log is left alone at ``now``."""
        return self.paused is not None and from_iso(self.paused, "paused") > now

    def cleared(self) -> BlueskyCursor:
        """The chat log's failures forgotten (a new authorisation of the account: asked at once)."""
        return replace(self, failing=None, paused=None, why=None, misses=0)

    def failed(self, error: PlatformError, now: datetime) -> BlueskyCursor:
        """After the chat log failed with ``error`` at ``now``: left alone for the next wait if it was
        refused, or if it has failed on every poll for ``FAILING_FOR``; else asked again next poll."""
        failing = self.failing or keys.iso(now)
        why = refusal(error)
        detail = {"error": error.message, "code": error.code, "status": error.status}
        if why is None and now - from_iso(failing, "failing") < FAILING_FOR:
            logger.info("bluesky chat not polled", extra=detail)  # the next poll tries again
            return replace(self, failing=failing, paused=None)
        why = why or (self.why if self.why in WHY else CHAT_FAILING)
        until = keys.iso(now + WAITS[min(self.misses, len(WAITS) - 1)])
        logger.warning("bluesky chat left alone", extra={**detail, "why": why, "until": until})
        return replace(self, failing=failing, paused=until, why=why, misses=self.misses + 1)


def refusal(error: PlatformError) -> str | None:
    """Why the account cannot read its chat log for now (``NO_DM_ACCESS``, ``NO_CHAT_SERVICE``), or None
    for a failure that the next poll may not meet (5xx, a timeout, a rate limit, an expired session)."""
    if scope_refused(error):  # "Bad token method": the app password does not allow chat.bsky.*
        return NO_DM_ACCESS
    message = (error.message or "").lower()
    if error.status in (404, 501) or any(m in message for m in NO_SERVICE_MESSAGES):
        return NO_CHAT_SERVICE
    return None


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
    refusal_shown: bool = True,
) -> tuple[list[dict[str, Any]], str | None]:
    """One poll of a Bluesky account: its reply/mention/quote notifications, then its chat log unless it is
    left alone (:meth:`BlueskyCursor.failed`); the items (notifications first) and the account's next
    cursor. ``refusal_shown``: whether the account still shows the chat log's refusal (False once it was
    reconnected: the log is asked at once)."""
    http = session or guarded_session()
    at = now or datetime.now(UTC)
    held = BlueskyCursor.parse(cursor)
    items, marker = fetch_notifications(http, base_url, token, held.notifications)
    held = replace(held, notifications=marker)
    if held.paused and not refusal_shown:
        held = held.cleared()
    if held.resting(at):
        return items, held.dumps()
    since = held.since
    if held.chat is None and since is None:  # the first read of the log: only the last days' messages
        since = keys.iso(at - HISTORY)
    try:
        messages, chat, at_end = fetch_log(http, base_url, token, held.chat,
                                           since=from_iso(since, "since") if since else None)  # fmt: skip
    except PlatformError as error:  # the notifications still land; the chat cursor stays where it was
        return items, replace(held, since=since).failed(error, at).dumps()
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

    def _call(self, creds: AccountCredentials, method: str, nsid: str, **kw: Any) -> requests.Response:
        """A chat call with the publisher's session. A refusal (a lexicon's named error, an app password
        without access to direct messages, no chat service) fails with its reason, and never as an
        ``AuthError``: the account itself stays connected (its posts go on)."""
        try:
            return self.publisher().xrpc(creds, method, nsid, headers=dict(CHAT_HEADERS), **kw)
        except PermanentError as error:
            kind = refusal(error)
            why = REFUSALS.get(error.code or "") or (WHY[kind] if kind else None)
            if why is None:
                raise
            raise PermanentError(f"Bluesky refused the message: {why} ({error.code})", platform=PLATFORM,
                                 code=error.code, status=error.status) from error  # fmt: skip

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        body = {"convoId": self._convo(request), "message": {"text": request.text}}

        def create() -> str:
            resp = self._call(creds, "POST", SEND, json=body)
            sent = obj(json_body(resp, PLATFORM), "sendMessage")
            message_id = ident(sent.get("id"))
            if message_id is None:
                raise PermanentError("Bluesky's sendMessage answer names no message id", platform=PLATFORM)
            return message_id

        return PublishResult(platform_post_id=request.progress.step(ROOT, create))

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        resp = self._call(
            creds, "GET", GET_MESSAGES, params={"convoId": self._convo(request), "limit": str(LOOK_LIMIT)}
        )
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
