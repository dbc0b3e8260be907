"""Replies to comments on an organisation's LinkedIn posts, through the Comments API
(fixtures/platform_api/replies/linkedin: endpoint, headers and permissions from the docs' page text; no
sample bodies are published, so the bodies here follow the documented field list).

``POST /rest/socialActions/{target}/comments`` with ``LinkedIn-Version`` and ``X-Restli-Protocol-Version``
(``w_organization_social_feed``), the body ``{actor, object, message: {text}, parentComment}``:

* a reply to a comment (``urn:li:comment:({activity},{id})``, what a comment notification names):
  ``target`` is that comment, ``object`` the post it is on (the activity inside the comment's URN) and
  ``parentComment`` the comment itself, so the answer is nested under it;
* a reply to a post (a mention of the organisation in someone's share): ``target`` and ``object`` are
  the post, without ``parentComment``.

The answer is 201 with the new comment's URN in the ``x-restli-id`` header only (like the Posts API);
a 201 without it is an unknown outcome. The API takes no idempotency key, so a reply sent without a
known answer is looked for first: ``GET /rest/socialActions/{target}/comments``, a comment by the same
actor with the same text, created since the reply was queued.
"""

from __future__ import annotations

import re
from typing import Any

import requests

from chorus.platforms.base import ROOT, AccountCredentials, PermanentError, PublishResult, UnknownOutcome
from chorus.platforms.linkedin.publish import LinkedInPublisher, author_urn, encoded_urn
from chorus.platforms.parts import CLOCK_SKEW
from chorus.platforms.replies import ReplyRequest
from chorus.posts import text as textlib

PLATFORM = "linkedin"
COMMENT_URN = re.compile(r"^urn:li:comment:\((?P<object>urn:li:[A-Za-z]+:[^,()]+),(?P<id>[^()]+)\)$")


def addressed(reply_to: str) -> tuple[str, str, str | None]:
    """(path target, object, parentComment) of a reply to ``reply_to``: a comment URN or a post URN."""
    found = COMMENT_URN.match(reply_to)
    if found:
        return reply_to, found.group("object"), reply_to
    if reply_to.startswith("urn:li:"):
        return reply_to, reply_to, None
    raise PermanentError(f"LinkedIn: {reply_to!r} is neither a comment nor a post URN", platform=PLATFORM)


class LinkedInCommentReplies:
    verifiable = True

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.api = LinkedInPublisher(session, base_url)

    def _target(self, request: ReplyRequest) -> tuple[str, str, str | None]:
        if not request.reply_to:
            raise PermanentError("LinkedIn: the reply names no comment or post to answer", platform=PLATFORM)
        return addressed(request.reply_to)

    def body(self, creds: AccountCredentials, request: ReplyRequest) -> dict[str, Any]:
        _, obj, parent = self._target(request)
        body: dict[str, Any] = {
            "actor": author_urn(creds.account_id),
            "object": obj,
            "message": {"text": request.text},
        }
        if parent:
            body["parentComment"] = parent
        return body

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        target, _, _ = self._target(request)
        body = self.body(creds, request)

        def create() -> str:
            resp = self.api.rest(creds, "POST", f"socialActions/{encoded_urn(target)}/comments", json=body)
            urn = resp.headers.get("x-restli-id")
            if not urn:
                raise UnknownOutcome("LinkedIn answered 201 without x-restli-id", platform=PLATFORM)
            return urn

        return PublishResult(platform_post_id=request.progress.step(ROOT, create))

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        target, _, _ = self._target(request)
        listing = self.api.rest_json(creds, "GET", f"socialActions/{encoded_urn(target)}/comments")
        actor = author_urn(creds.account_id)
        wanted = textlib.match_key(request.text)
        since_ms = (request.not_before - CLOCK_SKEW).timestamp() * 1000
        for comment in listing.get("elements") or []:
            if not isinstance(comment, dict) or comment.get("actor") != actor:
                continue
            text = (comment.get("message") or {}).get("text") or ""
            created = (comment.get("created") or {}).get("time")
            if textlib.match_key(str(text)) != wanted or (
                isinstance(created, int | float) and created < since_ms
            ):
                continue
            urn = comment.get("commentUrn") or comment.get("$URN") or comment.get("id")
            if isinstance(urn, str) and urn:
                return PublishResult(platform_post_id=urn)
        return None
