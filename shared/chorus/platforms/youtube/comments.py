"""YouTube comments in the inbox: polled with ``commentThreads.list``, answered with ``comments.insert``
(fixtures/platform_api/replies/youtube; OAuth scope ``youtube.force-ssl``).

YouTube sends no webhook for comments (its push notifications announce videos), so the poller asks, per
channel: ``GET /commentThreads?part=snippet,replies&allThreadsRelatedToChannelId={channel}&order=time
&maxResults=100``. Each thread is a conversation (its id is the top-level comment's), each comment in it
a message: the top-level comment and the replies the thread carries inline; the channel's own comments
are its replies. The cursor is the newest ``publishedAt`` seen: a poll keeps what is newer, and stops
paging at a page with nothing newer (at most ``MAX_PAGES`` pages a poll). A channel's first poll takes
only its newest page (the inbox starts now, not with years of history).

A thread carries at most a few of its replies inline: a thread with more (``totalReplyCount``) shows the
ones it carries; the rest arrive when the thread is next active.

Quota (``quota_costs_docs.json``): every call is charged to the project's daily budget before it is
sent (:mod:`chorus.platforms.youtube.quota`): ``commentThreads.list`` and ``comments.list`` 1 unit,
``comments.insert`` 50. A spent budget stops polling and replying until the next quota day (Pacific
midnight) with the reason; the budget is never exceeded.

A reply is ``POST /comments?part=snippet`` with ``snippet.parentId`` (a top-level comment: a reply to a
reply, ``<parent>.<reply>``, goes to its thread's top-level comment, as YouTube nests only one level)
and ``snippet.textOriginal``. It takes no idempotency key: a reply sent without a known answer is looked
for among the thread's replies (``GET /comments?part=snippet&parentId=``), one by the channel with the
same text made since the reply was queued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests

from chorus.inbox.normalized import InboundMessage, MessageKind, ParseResult
from chorus.platforms.base import ROOT, AccountCredentials, PermanentError, PublishResult
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.parts import CLOCK_SKEW
from chorus.platforms.replies import ReplyRequest
from chorus.platforms.youtube.quota import Quota
from chorus.posts import text as textlib
from chorus.store.keys import iso, parse_iso

PLATFORM = "youtube"
MAX_PAGES = 3
PAGE_SIZE = 100
MAX_CHARS = 10_000  # commentTextTooLong beyond it


def api_url() -> str:
    from chorus.accounts.apps import get_apps

    return get_apps().youtube_api_url.rstrip("/")


def _published(comment: dict[str, Any]) -> datetime | None:
    stamp = (comment.get("snippet") or {}).get("publishedAt")
    try:
        return parse_iso(stamp) if isinstance(stamp, str) else None
    except ValueError:
        return None


def comments_of(thread: dict[str, Any]) -> list[dict[str, Any]]:
    """The thread's comments as polled items: the top-level comment, then its inline replies."""
    snippet = thread.get("snippet") or {}
    top = snippet.get("topLevelComment")
    if not isinstance(top, dict) or not isinstance(thread.get("id"), str):
        return []
    video = snippet.get("videoId")
    found = [{"thread": thread["id"], "video": video, "comment": top}]
    for reply in (thread.get("replies") or {}).get("comments") or []:
        if isinstance(reply, dict):
            found.append({"thread": thread["id"], "video": video, "comment": reply})
    return found


def fetch_comments(
    session: requests.Session,
    base_url: str,
    token: str,
    channel_id: str,
    cursor: str | None,
    quota: Quota | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The channel's comments newer than ``cursor`` (oldest first) and the new cursor."""
    quota = quota or Quota()
    since = parse_iso(cursor) if cursor else None
    newest = since
    found: list[dict[str, Any]] = []
    page_token: str | None = None
    for _ in range(MAX_PAGES if since else 1):
        params: dict[str, Any] = {
            "part": "snippet,replies",
            "allThreadsRelatedToChannelId": channel_id,
            "order": "time",
            "maxResults": PAGE_SIZE,
        }
        if page_token:
            params["pageToken"] = page_token
        quota.charge("commentThreads.list")
        with quota.watch("commentThreads.list"):
            resp = call(
                session, "GET", f"{base_url}/commentThreads", PLATFORM, headers=bearer(token), params=params
            )
        body = json_body(resp, PLATFORM)
        fresh = 0
        for thread in body.get("items") or [] if isinstance(body, dict) else []:
            for item in comments_of(thread):
                at = _published(item["comment"])
                if at is None or (since is not None and at <= since):
                    continue
                found.append(item)
                fresh += 1
                newest = at if newest is None or at > newest else newest
        page_token = body.get("nextPageToken") if isinstance(body, dict) else None
        if not fresh or not page_token:
            break
    found.sort(key=lambda i: _published(i["comment"]) or datetime.min)
    return found, iso(newest) if newest else cursor


def parse_comments(items: list[Any], channel_id: str) -> ParseResult:
    """Polled items -> inbox messages (one conversation per thread)."""
    events: list[InboundMessage] = []
    ignored: list[str] = []
    for item in items:
        comment = item.get("comment") if isinstance(item, dict) else None
        snippet = (comment or {}).get("snippet") or {}
        at = _published(comment or {})
        if not isinstance(comment, dict) or not isinstance(comment.get("id"), str) or at is None:
            ignored.append("malformed")
            continue
        author = str((snippet.get("authorChannelId") or {}).get("value") or "")
        top = comment["id"] == item.get("thread")
        events.append(
            InboundMessage(
                platform=PLATFORM,
                account_ref=channel_id,
                platform_message_id=comment["id"],
                kind=MessageKind.COMMENT if top else MessageKind.REPLY,
                conversation_ref=str(item.get("thread")),
                text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
                created_at=at,
                author_id=author,
                author_name=snippet.get("authorDisplayName"),
                parent_ref=None if top else str(item.get("thread")),
                post_ref=item.get("video") if isinstance(item.get("video"), str) else None,
                raw_type="youtube.comment" if top else "youtube.reply",
                authored_by_account=author == channel_id,
            )
        )
    return ParseResult(events=tuple(events), ignored=tuple(ignored))


def top_level(comment_id: str) -> str:
    """The thread's top-level comment of ``comment_id`` (a reply's id is ``<parent>.<reply>``)."""
    return comment_id.split(".", 1)[0]


class YouTubeCommentReplies:
    verifiable = True

    def __init__(
        self, session: requests.Session | None = None, base_url: str | None = None, quota: Quota | None = None
    ) -> None:
        self.session = session or requests.Session()
        self.base_url = base_url
        self.quota = quota or Quota()

    def _base(self) -> str:
        return (self.base_url or api_url()).rstrip("/")

    def _parent(self, request: ReplyRequest) -> str:
        if not request.reply_to:
            raise PermanentError("YouTube: the reply names no comment to answer", platform=PLATFORM)
        return top_level(request.reply_to)

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        parent = self._parent(request)
        body = {"snippet": {"parentId": parent, "textOriginal": request.text}}

        def create() -> str:
            with self.quota.watch("comments.insert"):
                resp = call(self.session, "POST", f"{self._base()}/comments", PLATFORM,
                            headers=bearer(creds.access_token), params={"part": "snippet"}, json=body)  # fmt: skip
            return str(json_body(resp, PLATFORM)["id"])

        if request.progress.done(ROOT) is None and ROOT not in request.progress.sent:
            self.quota.charge("comments.insert")  # charged before the call, outside the step
        return PublishResult(platform_post_id=request.progress.step(ROOT, create))

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        parent = self._parent(request)
        self.quota.charge("comments.list")
        with self.quota.watch("comments.list"):
            resp = call(self.session, "GET", f"{self._base()}/comments", PLATFORM, headers=bearer(creds.access_token),
                        params={"part": "snippet", "parentId": parent, "maxResults": PAGE_SIZE,
                                "textFormat": "plainText"})  # fmt: skip
        body = json_body(resp, PLATFORM)
        wanted = textlib.match_key(request.text)
        since = request.not_before - CLOCK_SKEW
        for reply in body.get("items") or [] if isinstance(body, dict) else []:
            snippet = reply.get("snippet") or {}
            if (snippet.get("authorChannelId") or {}).get("value") != creds.account_id:
                continue
            at = _published(reply)
            if at is not None and at < since:
                continue
            if (
                textlib.match_key(str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""))
                == wanted
            ):
                return PublishResult(platform_post_id=str(reply["id"]))
        return None
