"""Douyin comments in the inbox (enterprise accounts, 企业号, where Douyin granted ``item.comment``):
polled, normalised, and answered once.

**Polling** (no webhooks here). Comments are listed per video, so each poll reads the account's newest
videos (``GET /api/douyin/v1/video/video_list/?open_id=&cursor=0&count=VIDEOS``) and, for each, the
newest page of its comments (``GET /item/comment/list/?open_id=&item_id=&cursor=0&count=COUNT
&sort_type=time``; ``item_comment_list_response_skit.json``: ``comment_id``, ``comment_user_id``,
``content``, ``create_time``, ``nick_name``; ``item_id`` URL-encoded by ``requests``). The poller keeps one
cursor per account: the newest ``create_time`` seen; comments from that second on are queued again and
the ingest's dedupe drops the ones it has. An account whose scopes (kept at connect) lack
``item.comment`` is not asked at all. Replies under a comment (``reply_comment_total``) are not read.

**Normalising** (:func:`parse_comments`): each comment is a COMMENT on our video (the conversation and
the post are the ``item_id``). Answering needs the video and the comment, so a Douyin message id is
``"<item_id>~<comment_id>"`` (``~`` is in neither: both are base64 with ``@``).

**Replying** (:class:`DouyinCommentReplies`, the ``douyin`` inbox channel): ``POST /item/comment/reply/
?open_id=`` ``{item_id, comment_id, content}`` (``ItemCommentReplyReq``), answered with the new
``comment_id`` (``item_comment_reply_response_skit.json``). Exactly once: the reply goes through
``progress.step`` (its ReplyProgress persisted before the call); a lost answer is verified on
``GET /item/comment/reply/list/`` of that comment: a reply made since the reply was queued with the
same text. Errors: the one table of :mod:`chorus.platforms.douyin.api`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import requests

from chorus.inbox.normalized import InboundMessage, ParseResult
from chorus.platforms import video_comments
from chorus.platforms.base import ROOT, AccountCredentials, PermanentError, PublishResult
from chorus.platforms.codes import numeric
from chorus.platforms.douyin import api
from chorus.platforms.douyin.oauth import COMMENT_SCOPE, SCOPES
from chorus.platforms.parts import CLOCK_SKEW
from chorus.platforms.replies import ReplyRequest
from chorus.platforms.video_comments import message_id
from chorus.platforms.webhooks import MalformedWebhook, obj, text_of
from chorus.platforms.whoami import listed
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = api.PLATFORM
VIDEOS = 10
COUNT = 20  # Douyin: at most 20 a page


def split_message_id(value: str | None) -> tuple[str, str]:
    """(item id, comment id) of a Douyin message id; PermanentError when it names no comment."""
    return video_comments.split_message_id(value, PLATFORM, "Douyin")


def may_read_comments(creds: AccountCredentials) -> bool:
    return COMMENT_SCOPE in (creds.extra.get(SCOPES) or "").split(",")


def _get(session: requests.Session, creds: AccountCredentials, path: str, **params: str) -> dict[str, Any]:
    return api.request(session, "GET", f"{api.API_URL}/{path}", token=creds.access_token,
                       params={"open_id": creds.account_id, **params})  # fmt: skip


def fetch_comments(
    session: requests.Session | None, creds: AccountCredentials, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Comments on the account's newest videos from the cursor's second on, oldest first, each as
    ``{item_id, comment}``, and the cursor that follows them. Raises the platform errors."""
    if not may_read_comments(creds):
        return [], cursor
    http = session or requests.Session()
    since = numeric(cursor)
    videos = _get(http, creds, "api/douyin/v1/video/video_list/", cursor="0", count=str(VIDEOS))
    found: list[tuple[int, dict[str, Any]]] = []
    for video in listed(videos.get("list")):
        item_id = obj(video, "video_list.list[]").get("item_id")
        if not isinstance(item_id, str) or not item_id:
            continue
        page = _get(http, creds, "item/comment/list/", item_id=item_id, cursor="0", count=str(COUNT),
                    sort_type="time")  # fmt: skip
        for raw in listed(page.get("list")):
            comment = obj(raw, "item/comment/list.list[]")
            created = numeric(comment.get("create_time"))
            if created is None or not comment.get("comment_id"):
                raise MalformedWebhook("item/comment/list: a comment without comment_id or create_time")
            found.append((created, {"item_id": item_id, "comment": comment}))
    return video_comments.from_cursor(found, since)


def parse_comments(items: Iterable[Any], account_ref: str) -> ParseResult:
    """Polled ``{item_id, comment}`` items -> COMMENT messages on our videos."""
    events: list[InboundMessage] = []
    for i, raw in enumerate(items):
        where = f"douyin[{i}]"
        item = obj(raw, where)
        item_id = item.get("item_id")
        comment = obj(item.get("comment"), f"{where}.comment")
        comment_id, created = comment.get("comment_id"), numeric(comment.get("create_time"))
        if not isinstance(item_id, str) or not isinstance(comment_id, str) or created is None:
            raise MalformedWebhook(f"{where}: no item_id, comment_id or create_time")
        author = text_of(comment.get("comment_user_id"))
        events.append(
            video_comments.video_comment(
                PLATFORM, account_ref, item_id, comment_id, text=text_of(comment.get("content")), created=created,
                where=f"{where}.comment.create_time", author=author,
                author_name=text_of(comment.get("nick_name")) or None, raw_type="douyin.item.comment",
                authored_by_account=author == account_ref,
            )
        )  # fmt: skip
    return ParseResult(events=tuple(events), ignored=())


class DouyinCommentReplies:
    """Replies to Douyin comments (``item/comment/reply``), verified on the comment's replies."""

    verifiable = True

    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session or requests.Session()

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        item_id, comment_id = split_message_id(request.reply_to)

        def create() -> str:
            made = api.request(self.session, "POST", f"{api.API_URL}/item/comment/reply/", token=creds.access_token,
                               params={"open_id": creds.account_id},
                               json={"item_id": item_id, "comment_id": comment_id, "content": request.text})  # fmt: skip
            new_id = made.get("comment_id")
            if not isinstance(new_id, str) or not new_id:
                raise PermanentError("Douyin's reply answer names no comment_id", platform=PLATFORM)
            return message_id(item_id, new_id)

        return PublishResult(platform_post_id=request.progress.step(ROOT, create))

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        item_id, comment_id = split_message_id(request.reply_to)
        page = _get(self.session, creds, "item/comment/reply/list/", item_id=item_id, comment_id=comment_id,
                    cursor="0", count=str(COUNT), sort_type="time")  # fmt: skip
        since = (request.not_before - CLOCK_SKEW).timestamp()
        wanted = textlib.match_key(request.text)
        for raw in listed(page.get("list")):
            reply = obj(raw, "item/comment/reply/list.list[]")
            created = numeric(reply.get("create_time"))
            new_id = reply.get("comment_id")
            if created is None or created < since or not isinstance(new_id, str) or not new_id:
                continue
            if textlib.match_key(text_of(reply.get("content"))) == wanted:
                return PublishResult(platform_post_id=message_id(item_id, new_id))
        return None
