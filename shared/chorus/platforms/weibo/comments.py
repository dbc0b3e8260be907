"""Weibo comments in the inbox: polled with cursors, normalised, and answered once.

**Polling** (Weibo has no webhooks for ordinary apps). Two feeds, each with its own ``since_id``:
``GET 2/comments/to_me.json`` (comments on the account's statuses) and ``GET 2/comments/mentions.json``
(comments that @mention it). Each answers ``{comments: [...], previous_cursor, next_cursor,
total_number}``, newest first (``comments_list_cursored_springsocialweibo.json``). With a cursor, pages
(``page=1,2,..``, ``count=COUNT``) are read until one is short or only holds what was seen; the first
poll of an account reads only the newest page (history is not back-filled). The poller keeps one
cursor string per account: ``"<to_me since_id>|<mentions since_id>"``, moved only after the items were
queued (:mod:`chorus.inbox.poller`). Ids are ``idstr`` (:func:`chorus.platforms.weibo.api.id_of`).

**Normalising** (:func:`parse_comments`): a comment answering one of ours (``reply_comment``) is a REPLY,
another comment on our status a COMMENT, a comment mentioning us a MENTION; the conversation is the
status. ``comments/reply`` needs both the comment and its status, so a Weibo message's id is
``"<status id>_<comment id>"`` (:func:`message_id`), the same for what arrives and what Chorus sends.

**Replying** (:class:`WeiboCommentReplies`, the ``weibo`` inbox channel): ``POST 2/comments/reply.json``
(form ``cid``, ``id``, ``comment`` <= 140 Chinese characters, ``without_mention=0`` (Weibo adds
``回复@name:``), ``comment_ori=0``, and ``rip`` when
configured; ``comments_reply_request_form_springsocialweibo.txt``), answered with the new comment
(``comment_single_springsocialweibo.json``). Exactly once: the reply goes through ``progress.step``; a
lost answer (or 20019, repeated content) is verified on ``GET 2/comments/show.json?id=<status>``: a
comment by the account, made since the reply was queued, ending with the reply's text (Weibo prefixes
``回复@name:``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import requests

from chorus.inbox.normalized import InboundMessage, MessageKind, ParseResult
from chorus.platforms.base import ROOT, AccountCredentials, PermanentError, PublishResult, UnknownOutcome
from chorus.platforms.parts import CLOCK_SKEW
from chorus.platforms.replies import ReplyRequest
from chorus.platforms.webhooks import MalformedWebhook, obj, opt_obj, text_of
from chorus.platforms.weibo.api import PLATFORM, RepeatContent, WeiboApi, id_of, parse_time
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

FEEDS = ("to_me", "mentions")
COUNT = 50
MAX_PAGES = 10
SEPARATOR = "_"
SHOW_COUNT = "50"


def message_id(status_id: str, comment_id: str) -> str:
    return f"{status_id}{SEPARATOR}{comment_id}"


def split_message_id(value: str | None) -> tuple[str, str]:
    """(status id, comment id) of a Weibo message id; PermanentError when it names no comment."""
    status_id, sep, comment_id = (value or "").partition(SEPARATOR)
    if not (sep and status_id.isdigit() and comment_id.isdigit()):
        raise PermanentError(f"Weibo: {value!r} names no comment to answer", platform=PLATFORM)
    return status_id, comment_id


def read_cursor(cursor: str | None) -> dict[str, str | None]:
    """Each feed's ``since_id`` from the stored cursor (None: never polled)."""
    found = (cursor or "").split("|")
    return {
        feed: (found[i] if i < len(found) and found[i].isdigit() else None) for i, feed in enumerate(FEEDS)
    }


def write_cursor(since: dict[str, str | None]) -> str | None:
    if not any(since.values()):
        return None
    return "|".join(since.get(feed) or "" for feed in FEEDS)


def _newer(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if int(a) >= int(b) else b


def fetch_comments(
    session: requests.Session | None, token: str, cursor: str | None, *, base_url: str | None = None,
    max_pages: int = MAX_PAGES,
) -> tuple[list[dict[str, Any]], str | None]:  # fmt: skip
    """Comments newer than the cursor in both feeds, oldest first, each as ``{feed, comment}``, and the
    cursor that follows them. Raises the :mod:`chorus.platforms.base` errors."""
    api = WeiboApi(session, base_url)
    since = read_cursor(cursor)
    items: list[tuple[int, str, dict[str, Any]]] = []
    for feed in FEEDS:
        seen = since[feed]
        newest = seen
        for page in range(1, max_pages + 1):
            params = {"count": str(COUNT), "page": str(page), **({"since_id": seen} if seen else {})}
            body = obj(api.get(token, f"comments/{feed}", **params), f"comments/{feed}")
            listed = body.get("comments")
            if not isinstance(listed, list):
                raise MalformedWebhook(f"comments/{feed}.comments: expected an array")
            fresh = 0
            for raw in listed:
                comment = obj(raw, f"comments/{feed}.comments[]")
                cid = id_of(comment)
                if cid is None:
                    raise MalformedWebhook(f"comments/{feed}.comments[].idstr: missing")
                if seen is not None and int(cid) <= int(seen):
                    continue
                fresh += 1
                newest = _newer(newest, cid)
                items.append((int(cid), feed, comment))
            if not seen or len(listed) < COUNT or not fresh:
                break
        since[feed] = newest
    items.sort(key=lambda found: found[0])
    unique: dict[tuple[str, int], dict[str, Any]] = {}
    for number, feed, comment in items:
        unique[(feed, number)] = {"feed": feed, "comment": comment}
    return list(unique.values()), write_cursor(since)


def parse_comments(items: Iterable[Any], account_ref: str) -> ParseResult:
    """Polled ``{feed, comment}`` items -> REPLY / COMMENT / MENTION messages; anything else ignored."""
    events: list[InboundMessage] = []
    ignored: list[str] = []
    for i, raw in enumerate(items):
        where = f"weibo[{i}]"
        item = obj(raw, where)
        feed = item.get("feed")
        if feed not in FEEDS:
            ignored.append(f"feed_{feed}")
            continue
        events.append(_message(obj(item.get("comment"), f"{where}.comment"), str(feed), account_ref, where))
    return ParseResult(events=tuple(events), ignored=tuple(ignored))


def _message(comment: dict[str, Any], feed: str, account_ref: str, where: str) -> InboundMessage:
    cid = id_of(comment)
    status = opt_obj(comment.get("status"), f"{where}.comment.status")
    sid = id_of(status, status=True)
    if cid is None or sid is None:
        raise MalformedWebhook(f"{where}.comment: no comment or status id")
    author = obj(comment.get("user"), f"{where}.comment.user")
    author_id = id_of(author)
    if author_id is None:
        raise MalformedWebhook(f"{where}.comment.user.idstr: missing")
    created = parse_time(comment.get("created_at"))
    if created is None:
        raise MalformedWebhook(f"{where}.comment.created_at: not a Weibo time")
    owner = id_of(opt_obj(status.get("user"), f"{where}.comment.status.user"))
    answered = opt_obj(comment.get("reply_comment"), f"{where}.comment.reply_comment")
    parent_cid = id_of(answered) if answered else None
    if feed == "mentions":
        kind = MessageKind.MENTION
    else:
        kind = MessageKind.REPLY if parent_cid else MessageKind.COMMENT
    return InboundMessage(
        platform=PLATFORM,
        account_ref=account_ref,
        platform_message_id=message_id(sid, cid),
        kind=kind,
        conversation_ref=sid,
        text=text_of(comment.get("text")),
        created_at=created,
        author_id=author_id,
        author_name=text_of(author.get("screen_name")) or text_of(author.get("name")) or None,
        author_handle=text_of(author.get("domain")) or None,
        parent_ref=message_id(sid, parent_cid) if parent_cid else sid,
        post_ref=sid if owner in (None, account_ref) and feed == "to_me" else None,
        raw_type=f"weibo.comment.{feed}",
        authored_by_account=author_id == account_ref,
    )


class WeiboCommentReplies:
    """Replies to Weibo comments (``comments/reply``), verified on the status's comments."""

    verifiable = True

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.api = WeiboApi(session, base_url)

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        status_id, comment_id = split_message_id(request.reply_to)

        def create() -> str:
            from chorus.platforms.weibo.publish import settings

            _, rip = settings()
            form = {"cid": comment_id, "id": status_id, "comment": request.text, "without_mention": "0",
                "comment_ori": "0",
                    **({"rip": rip} if rip else {})}  # fmt: skip
            try:
                made = self.api.post(creds.access_token, "comments/reply", data=form)
            except RepeatContent as exc:
                raise UnknownOutcome(f"Weibo says repeated content ({exc.message}): looking for the reply",
                                     platform=PLATFORM, code=exc.code) from None  # fmt: skip
            new_id = id_of(made) if isinstance(made, dict) else None
            if new_id is None:
                raise UnknownOutcome("Weibo's reply answer names no comment id", platform=PLATFORM)
            return message_id(status_id, new_id)

        return PublishResult(platform_post_id=request.progress.step(ROOT, create))

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        status_id, comment_id = split_message_id(request.reply_to)
        body = self.api.get(creds.access_token, "comments/show", id=status_id, count=SHOW_COUNT)
        listed = body.get("comments") if isinstance(body, dict) else None
        since = request.not_before - CLOCK_SKEW
        wanted = textlib.match_key(request.text)
        for comment in listed if isinstance(listed, list) else []:
            if (
                not isinstance(comment, dict)
                or id_of(obj(comment.get("user") or {}, "user")) != creds.account_id
            ):
                continue
            created = parse_time(comment.get("created_at"))
            answered = comment.get("reply_comment")
            if created is not None and created < since:
                continue
            if isinstance(answered, dict) and id_of(answered) not in (None, comment_id):
                continue
            new_id = id_of(comment)
            if new_id and textlib.match_key(text_of(comment.get("text"))).endswith(wanted):
                return PublishResult(platform_post_id=message_id(status_id, new_id))
        return None
