"""TikTok comments in the inbox, through TikTok API for Business (the "Accounts API" of business
accounts): polled, normalised, and answered once.

**How far the shapes are verified.** TikTok's own portal pages (business-api.tiktok.com/portal/docs) are
not in the stored documentation (``fixtures/platform_api/replies/tiktok/_endpoints_UNVERIFIED.json``).
What is here agrees with that summary and with two independent public sources read through the search
tools: the python-tiktok SDK (sns-sdks/python-tiktok, ``BusinessAccountApi``: paths, parameter names,
the ``Access-Token`` header, the ``{code, message, request_id, data}`` envelope with ``code`` 0 on
success; its usage docs quote whole answers of ``comment/list``, ``comment/reply/list`` and
``comment/reply/create``) and the ``tiktok-business`` crate's API list (``business/comment/list``,
``business/comment/reply/create``). Verified that far: paths, parameters, the envelope and the comment
fields. NOT verified against TikTok's own pages: the error codes (below), the scope names (quoted from
the SDK's recorded token answer: ``comment.list``, ``comment.list.manage``) and the page limits.

**Who is polled.** Only accounts whose TikTok business authorisation (the second connect step,
:mod:`chorus.platforms.tiktok.business_auth`; Login Kit never grants these scopes) granted
``comment.list``; replying needs ``comment.list.manage``. The poller and the replier call with the
business grant's token and scopes (``chorus.accounts.grants.grant_credentials``); an account without
them is never asked and :func:`capability` says why (logged by the poller, the reply's failure reason).

**Polling** (TikTok sends no comment webhooks). Comments are listed per video: each poll reads the
account's newest videos (``GET business/video/list/?business_id=&fields=["item_id","create_time"]
&max_count=VIDEOS``) and, for each, its comments newest first (``GET business/comment/list/
?business_id=&video_id=&sort_field=create_time&sort_order=desc&max_count=COUNT``), the next page (the
answer's ``cursor``) read while ``has_more`` and the page is all newer than the poll's cursor, at most
``MAX_PAGES`` pages (a first poll reads only the newest page: the inbox starts now, not with years of
history). ``business_id`` is the account's id (the creator's ``open_id``). The poller keeps one cursor
per account: the newest ``create_time`` (seconds) seen; comments from that second on are queued again and
the ingest's dedupe drops the ones it has. Replies under a comment are not read (only top-level comments open
conversations); a comment by the account itself (``owner``) lands as the account's own.

**Normalising** (:func:`parse_comments`): each comment is a COMMENT on our video (the conversation and the
post are the video). Answering needs the video and the comment, so a TikTok message id is
``"<video_id>~<comment_id>"`` (:mod:`chorus.platforms.video_comments`, as Douyin's).

**Replying** (:class:`TikTokCommentReplies`, the ``tiktok`` inbox channel): ``POST business/comment/
reply/create/`` ``{business_id, video_id, comment_id, text}`` (text at most 150 characters), answered with
the new comment (``data.comment_id``). Exactly once: the reply goes through ``progress.step`` (its
progress persisted before the call); the API takes no idempotency key, so a lost answer is verified on
``GET business/comment/reply/list/`` of that comment: a reply by the account (``owner``) made since the
reply was queued with the same text.

**Errors** (:data:`ERRORS`, UNVERIFIED codes as public integrations report them): 40100 (requests too
frequent) defers a minute; 40102/40104/40105 (access token expired, missing, invalid or revoked) and
40001 (no permission for the scope) ask the owner to authorise again; 50000/50002 (TikTok's system
errors) and HTTP 5xx retry; any other code is permanent with TikTok's message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import requests

from chorus.inbox.normalized import InboundMessage, ParseResult
from chorus.platforms import video_comments
from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    AuthError,
    PermanentError,
    PublishResult,
    TransientError,
)
from chorus.platforms.codes import Action, ErrorTable, mapped_error, numeric
from chorus.platforms.http import call, json_body
from chorus.platforms.parts import CLOCK_SKEW
from chorus.platforms.replies import ReplyRequest
from chorus.platforms.tiktok.api import PLATFORM
from chorus.platforms.video_comments import message_id
from chorus.platforms.webhooks import MalformedWebhook, obj, text_of
from chorus.platforms.whoami import listed
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

LIST_SCOPE = "comment.list"
MANAGE_SCOPE = "comment.list.manage"
SCOPES = "scopes"
"""The credentials' ``extra`` key holding the business grant's scopes (comma-separated;
``chorus.accounts.grants`` fills it from the grant, never from the Login Kit token's scopes)."""
GRANT = "tiktok_business"
"""The account's second authorisation (TikTok API for Business), and the code of its AuthErrors."""
VIDEOS = 10
COUNT = 30  # business/comment/list: max_count 1..30
MAX_PAGES = 3  # of one video's comments in one poll
MAX_CHARS = 150
RATE_LIMIT_WAIT_S = 60.0

ERRORS: ErrorTable = {
    40100: (Action.DEFER, RATE_LIMIT_WAIT_S),  # requests too frequent
    40001: (Action.REAUTH, None),  # no permission (the scope was not granted)
    40102: (Action.REAUTH, None),  # access token expired
    40104: (Action.REAUTH, None),  # access token empty
    40105: (Action.REAUTH, None),  # access token incorrect or revoked
    50000: (Action.RETRY, None),  # system error
    50002: (Action.RETRY, None),  # system busy
}


def api_url() -> str:
    from chorus.accounts.apps import get_apps

    return get_apps().tiktok_business_api_url.rstrip("/")


def granted(creds: AccountCredentials) -> set[str]:
    return {s.strip() for s in (creds.extra.get(SCOPES) or "").split(",") if s.strip()}


def capability(creds: AccountCredentials, scope: str = LIST_SCOPE) -> str | None:
    """Why this account's comments cannot be read (or answered, ``MANAGE_SCOPE``); None when they can."""
    if scope in granted(creds):
        return None
    doing = "answered from Chorus" if scope == MANAGE_SCOPE else "read into the inbox"
    return (
        f"TikTok comments are {doing} only for accounts whose TikTok business authorisation granted "
        f"{scope}; enable comments for the account on the Accounts page (Enable comments)"
    )


def split_message_id(value: str | None) -> tuple[str, str]:
    """(video id, comment id) of a TikTok message id; PermanentError when it names no comment."""
    return video_comments.split_message_id(value, PLATFORM, "TikTok")


def business(
    session: requests.Session,
    method: str,
    path: str,
    token: str | None,
    *,
    base_url: str | None = None,
    params: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    timeout: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """One call to TikTok API for Business (``Access-Token`` header, no ``Bearer``; none for the token
    endpoints, ``token`` None): its ``data`` when the envelope's ``code`` is 0, else the error
    :data:`ERRORS` maps the code to. An error that asks for a new authorisation is an ``AuthError`` with
    code :data:`GRANT`: it is the business grant that died, not the account's Login Kit token."""
    url = f"{(base_url or api_url()).rstrip('/')}/{path}"
    headers = {"Access-Token": token} if token is not None else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    resp = call(
        session, method, url, PLATFORM, headers=headers, params=params or {}, json=body, timeout=timeout
    )
    answer = json_body(resp, PLATFORM)
    if not isinstance(answer, dict):
        raise TransientError("TikTok answered something that is not a JSON object", platform=PLATFORM)
    code = numeric(answer.get("code"))
    if code is None:
        raise TransientError("TikTok's answer has no code", platform=PLATFORM)
    if code != 0:
        error = mapped_error(ERRORS, code, text_of(answer.get("message")), PLATFORM, "TikTok")
        if isinstance(error, AuthError):
            raise AuthError(error.message, platform=PLATFORM, code=GRANT)
        raise error
    data = answer.get("data")
    return data if isinstance(data, dict) else {}


def _get(
    session: requests.Session, creds: AccountCredentials, path: str, base_url: str | None, **params: str
) -> dict[str, Any]:
    return business(session, "GET", path, creds.access_token, base_url=base_url,
                    params={"business_id": creds.account_id, **params})  # fmt: skip


def fetch_comments(
    session: requests.Session | None,
    creds: AccountCredentials,
    cursor: str | None,
    base_url: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Comments on the account's newest videos from the cursor's second on, oldest first (each the
    comment object, which names its ``video_id``), and the cursor that follows them."""
    why = capability(creds)
    if why is not None:
        logger.info("tiktok comments not polled", extra={"account": creds.account_id, "reason": why})
        return [], cursor
    http = session or requests.Session()
    since = numeric(cursor)
    videos = _get(http, creds, "business/video/list/", base_url, fields=json.dumps(["item_id", "create_time"]),
                  max_count=str(VIDEOS))  # fmt: skip
    found: list[tuple[int, dict[str, Any]]] = []
    for raw in listed(videos.get("videos")):
        video_id = text_of(obj(raw, "business/video/list.videos[]").get("item_id"))
        if not video_id:
            continue
        found += _video_comments(http, creds, base_url, video_id, since)
    return video_comments.from_cursor(found, since)


def _video_comments(
    http: requests.Session, creds: AccountCredentials, base_url: str | None, video_id: str, since: int | None
) -> list[tuple[int, dict[str, Any]]]:
    """One video's comments newest first, page after page while each is all newer than ``since``."""
    found: list[tuple[int, dict[str, Any]]] = []
    params = {
        "video_id": video_id,
        "sort_field": "create_time",
        "sort_order": "desc",
        "max_count": str(COUNT),
    }
    for _ in range(MAX_PAGES if since is not None else 1):
        page = _get(http, creds, "business/comment/list/", base_url, **params)
        times = []
        for item in listed(page.get("comments")):
            comment = obj(item, "business/comment/list.comments[]")
            created = numeric(comment.get("create_time"))
            if created is None or not text_of(comment.get("comment_id")):
                raise MalformedWebhook("business/comment/list: a comment without comment_id or create_time")
            times.append(created)
            found.append((created, {**comment, "video_id": text_of(comment.get("video_id")) or video_id}))
        cursor = numeric(page.get("cursor"))
        if (
            not times
            or page.get("has_more") is not True
            or cursor is None
            or (since is not None and min(times) < since)
        ):
            break
        params["cursor"] = str(cursor)
    return found


def parse_comments(items: Iterable[Any], account_ref: str) -> ParseResult:
    """Polled comments -> COMMENT messages on our videos."""
    events: list[InboundMessage] = []
    for i, raw in enumerate(items):
        where = f"tiktok[{i}]"
        comment = obj(raw, where)
        video_id, comment_id = text_of(comment.get("video_id")), text_of(comment.get("comment_id"))
        created = numeric(comment.get("create_time"))
        if not video_id or not comment_id or created is None:
            raise MalformedWebhook(f"{where}: no video_id, comment_id or create_time")
        events.append(
            video_comments.video_comment(
                PLATFORM, account_ref, video_id, comment_id, text=text_of(comment.get("text")), created=created,
                where=f"{where}.create_time",
                author=text_of(comment.get("unique_identifier")) or text_of(comment.get("user_id")),
                author_name=text_of(comment.get("username")) or None, raw_type="tiktok.business.comment",
                authored_by_account=comment.get("owner") is True,
            )
        )  # fmt: skip
    return ParseResult(events=tuple(events), ignored=())


class TikTokCommentReplies:
    """Replies to comments on a business account's videos, verified on the comment's replies."""

    verifiable = True

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.session = session or requests.Session()
        self.base_url = base_url

    @staticmethod
    def _target(creds: AccountCredentials, request: ReplyRequest) -> tuple[str, str]:
        why = capability(creds, MANAGE_SCOPE)
        if why is not None:
            raise PermanentError(why, platform=PLATFORM)
        return split_message_id(request.reply_to)

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        video_id, comment_id = self._target(creds, request)
        body = {"business_id": creds.account_id, "video_id": video_id, "comment_id": comment_id,
                "text": request.text}  # fmt: skip

        def create() -> str:
            made = business(self.session, "POST", "business/comment/reply/create/", creds.access_token,
                            base_url=self.base_url, body=body)  # fmt: skip
            new_id = text_of(made.get("comment_id"))
            if not new_id:
                raise PermanentError("TikTok's reply answer names no comment_id", platform=PLATFORM)
            return message_id(video_id, new_id)

        return PublishResult(platform_post_id=request.progress.step(ROOT, create))

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        video_id, comment_id = self._target(creds, request)
        page = _get(self.session, creds, "business/comment/reply/list/", self.base_url, video_id=video_id,
                    comment_id=comment_id, sort_field="create_time", sort_order="desc", max_count=str(COUNT))  # fmt: skip
        since = (request.not_before - CLOCK_SKEW).timestamp()
        wanted = textlib.match_key(request.text)
        for raw in listed(page.get("comments")):
            reply = obj(raw, "business/comment/reply/list.comments[]")
            created = numeric(reply.get("create_time"))
            new_id = text_of(reply.get("comment_id"))
            if reply.get("owner") is not True or created is None or created < since or not new_id:
                continue
            if textlib.match_key(text_of(reply.get("text"))) == wanted:
                return PublishResult(platform_post_id=message_id(video_id, new_id))
        return None
