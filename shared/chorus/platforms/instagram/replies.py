"""Replies to Instagram comments (fixtures/platform_api/replies/instagram).

``POST /{ig-comment-id}/replies`` with the ``message`` parameter (a form/query parameter, not JSON);
the answer is the new reply's ``{id}``. Replying to a reply lands on the top-level comment (Meta's
documented limitation), and hidden or live-video comments cannot be replied to: the platform's refusal
is kept as the reason.

The Graph API takes no idempotency key, so a reply sent without a known answer is looked for first:
``GET /{ig-comment-id}/replies`` (``id``, ``text``, ``timestamp``), a reply with the same text made
since the reply was queued.
"""

from __future__ import annotations

import requests

from chorus.platforms.base import ROOT, AccountCredentials, PermanentError, PublishResult
from chorus.platforms.facebook.publish import Graph, parse_time
from chorus.platforms.meta.messaging import graph_url, refusal
from chorus.platforms.parts import CLOCK_SKEW
from chorus.platforms.replies import ReplyRequest
from chorus.posts import text as textlib

PLATFORM = "instagram"


class InstagramCommentReplies:
    verifiable = True

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.session = session or requests.Session()
        self.base_url = base_url

    def _graph(self) -> Graph:
        return Graph(self.session, self.base_url or graph_url(), PLATFORM)

    def _comment(self, request: ReplyRequest) -> str:
        if not request.reply_to:
            raise PermanentError("Instagram: the reply names no comment to answer", platform=PLATFORM)
        return request.reply_to

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        comment = self._comment(request)

        def create() -> str:
            return str(self._graph().post(creds, f"{comment}/replies", message=request.text)["id"])

        try:
            reply_id = request.progress.step(ROOT, create)
        except PermanentError as error:
            raise refusal(error, "Instagram") from None
        return PublishResult(platform_post_id=reply_id)

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        body = self._graph().get(creds, f"{self._comment(request)}/replies", fields="id,text,timestamp")
        since = request.not_before - CLOCK_SKEW
        wanted = textlib.match_key(request.text)
        for reply in body.get("data", []):
            stamp = reply.get("timestamp")
            if stamp and parse_time(stamp) < since:
                continue
            if textlib.match_key(reply.get("text") or "") == wanted:
                return PublishResult(platform_post_id=str(reply["id"]))
        return None
