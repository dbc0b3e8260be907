"""Publish to a Facebook Page (Graph API, page access token).

- Text and/or link: ``POST /{page-id}/feed`` (``message``, ``link``). With media there is no link
  preview, so the link is appended to the text.
- One image: ``POST /{page-id}/photos`` (``url``, ``message``); the post id is the answer's ``post_id``.
- Several images: each ``POST /{page-id}/photos`` with ``published=false``, then ``POST /{page-id}/feed``
  with ``attached_media[i]={"media_fbid": ...}``.
- One video: ``POST /{page-id}/videos`` (``file_url``, ``description``).
- First comment: ``POST /{post-id}/comments``.
- Reply (``request.reply_to`` = a post or comment id): ``POST /{id}/comments``.
- ``delete``: ``DELETE /{post-id}`` (an already deleted post counts as deleted).

Exactly once (issue 13): the post (part ``"0"``) and the first comment (``"comment"``) are each created
through ``request.progress.step``, so a retry resumes at the first missing part and a failure of the
comment leaves the post alone (the publisher marks the target ``partially_published``; a retry adds only
the comment). The Graph API has no idempotency key: a part sent without a known answer (a timeout, a
reset, a 502/504 after the POST) is verified before anything is sent again — ``find_published`` reads
``GET /{page-id}/feed`` for a post whose message matches, created at or after ``not_before``;
``find_part`` reads ``GET /{post-id}/comments`` for a comment from the page with the comment's message.
Unpublished photos of a multi-image post are invisible until the post attaches them, so they are
uploaded as safe-to-repeat requests and kept in the step state (``PendingStep("photos")``) when a call's
``request_budget_s`` runs out.
The token travels as the documented ``access_token`` parameter (form body for writes, query for reads).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from functools import partial
from typing import Any

import requests

from chorus.platforms import parts
from chorus.platforms.base import (
    COMMENT,
    ROOT,
    AccountCredentials,
    AuthError,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget
from chorus.platforms.http import DEFAULT_TIMEOUT, call, json_body
from chorus.platforms.stepped import SteppedPublisher
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "facebook"
GRAPH_URL = "https://graph.facebook.com/v21.0"
TIMEOUT = DEFAULT_TIMEOUT
"""Every request takes the default timeout (``chorus.platforms.http.default_timeout``); the budget counts it."""
PHOTOS_STEP = "photos"
CONTINUE_STEP = "continue"
CONTINUE_DELAY_S = 1
COMMENTS_PAGE = 100


class Graph:
    """A thin Graph API client: the token as ``access_token``, errors mapped by ``chorus.platforms.http``."""

    def __init__(self, session: requests.Session, base_url: str, platform: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.platform = platform

    def get(self, creds: AccountCredentials, path: str, **params: Any) -> Any:
        resp = call(
            self.session,
            "GET",
            f"{self.base_url}/{path}",
            self.platform,
            params={**params, "access_token": creds.access_token},
        )
        return json_body(resp, self.platform)

    def post(self, creds: AccountCredentials, path: str, *, idempotent: bool = False, **data: Any) -> Any:
        """A write. ``idempotent``: repeating it is harmless (an unpublished photo, a container), so a
        timeout is transient; else a timeout or reset after sending is an unknown outcome."""
        resp = call(
            self.session,
            "POST",
            f"{self.base_url}/{path}",
            self.platform,
            data={**data, "access_token": creds.access_token},
            idempotent=idempotent,
        )
        return json_body(resp, self.platform)

    def delete(self, creds: AccountCredentials, path: str) -> None:
        try:
            call(
                self.session,
                "DELETE",
                f"{self.base_url}/{path}",
                self.platform,
                params={"access_token": creds.access_token},
            )
        except PermanentError as exc:
            if isinstance(exc, AuthError) or (exc.status != 404 and exc.code != "100"):
                raise
            logger.info("already_deleted", extra={"platform": self.platform, "object_id": path})


def post_url(post_id: str) -> str:
    """``https://www.facebook.com/<page>_<post>`` opens the post."""
    return f"https://www.facebook.com/{post_id}"


def parse_time(value: Any) -> datetime:
    """Graph times look like ``2024-05-01T10:00:00+0000``."""
    text = str(value)
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class FacebookPublisher(SteppedPublisher):
    name = PLATFORM
    label = "Facebook"
    steps = (PHOTOS_STEP, CONTINUE_STEP)
    request_budget_s: float = requests_budget(CALL_REQUESTS, TIMEOUT)

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.graph = Graph(session or requests.Session(), base_url or GRAPH_URL, PLATFORM)

    def _page(self, creds: AccountCredentials) -> str:
        return creds.account_id

    def run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PublishResult | PendingStep:
        progress = request.progress
        try:
            if progress.done(ROOT) is None and ROOT not in progress.sent:
                self._photos(creds, request, state, budget)
            parts.create_missing(request, budget, partial(self._create, creds, request, state))
        except OutOfBudget:
            if progress.done(ROOT) is None:
                return PendingStep(PHOTOS_STEP, state, delay_seconds=CONTINUE_DELAY_S)
            return PendingStep(CONTINUE_STEP, {}, delay_seconds=CONTINUE_DELAY_S)
        return parts.published(request, progress.root_url or post_url(progress.landed[ROOT]))

    def _text(self, request: PublishRequest) -> str:
        # a link preview exists only on a text post; with media the link goes into the text
        return textlib.compose_text(request.text, request.link) if request.media else request.text

    def _photos(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> None:
        """Upload the unpublished photos of a multi-image post, resuming from ``state``."""
        images = [m for m in request.media if not m.mime_type.startswith("video/")]
        if len(images) < 2 or len(images) < len(request.media):
            return
        done = [i for i in state.get("photo_ids", "").split(",") if i]
        for image in images[len(done) :]:
            budget.spend(TIMEOUT)
            photo = self.graph.post(
                creds, f"{self._page(creds)}/photos", url=image.url, published="false", idempotent=True
            )
            done.append(str(photo["id"]))
            state["photo_ids"] = ",".join(done)

    def _create(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], part: str
    ) -> str | tuple[str, str | None]:
        if part == COMMENT:
            comment = self.graph.post(
                creds, f"{request.progress.landed[ROOT]}/comments", message=request.first_comment
            )
            return str(comment["id"])
        if part != ROOT:
            raise PermanentError("a Facebook post has no thread parts", platform=PLATFORM)
        if request.reply_to:
            body = self.graph.post(creds, f"{request.reply_to}/comments", message=request.text)
            return str(body["id"]), None
        post_id, url = self._post(creds, request, state)
        logger.info("facebook_published", extra={"target_id": request.target_id, "post_id": post_id})
        return post_id, url

    def _post(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str]
    ) -> tuple[str, str]:
        """Create the post itself; returns (post id, url)."""
        page = self._page(creds)
        text = self._text(request)
        images = [m for m in request.media if not m.mime_type.startswith("video/")]
        videos = [m for m in request.media if m.mime_type.startswith("video/")]
        if videos:
            body = self.graph.post(creds, f"{page}/videos", file_url=videos[0].url, description=text)
            video_id = str(body["id"])
            return video_id, f"https://www.facebook.com/{page}/videos/{video_id}"
        if len(images) == 1:
            fields: dict[str, Any] = {"url": images[0].url, "message": text}
            if images[0].alt_text:
                fields["alt_text_custom"] = images[0].alt_text
            body = self.graph.post(creds, f"{page}/photos", **fields)
            post_id = str(body.get("post_id") or body["id"])
            return post_id, post_url(post_id)
        fields = {"message": text}
        if request.link and not images:
            fields["link"] = request.link
        photo_ids = [i for i in state.get("photo_ids", "").split(",") if i]
        for index, photo_id in enumerate(photo_ids):
            fields[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        body = self.graph.post(creds, f"{page}/feed", **fields)
        post_id = str(body["id"])
        return post_id, post_url(post_id)

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        since = parts.not_before(request)
        if request.reply_to:
            found = self._comment(creds, request.reply_to, request.text, self._page(creds), since)
            return PublishResult(platform_post_id=found) if found else None
        params: dict[str, Any] = {"fields": "id,message,created_time,permalink_url", "limit": 25}
        params["since"] = int(since.timestamp())
        body = self.graph.get(creds, f"{self._page(creds)}/feed", **params)
        wanted = textlib.match_key(self._text(request))
        for post in body.get("data", []):
            if textlib.match_key(post.get("message") or "") != wanted:
                continue
            if parse_time(post["created_time"]) < since:
                continue
            post_id = str(post["id"])
            return PublishResult(platform_post_id=post_id, url=post.get("permalink_url") or post_url(post_id))
        return None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        root = request.progress.done(ROOT)
        if part != COMMENT or root is None:
            return None
        return self._comment(
            creds, root, request.first_comment or "", self._page(creds), parts.not_before(request)
        )

    def _comment(
        self, creds: AccountCredentials, parent: str, text: str, author: str, since: datetime
    ) -> str | None:
        """The id of a comment under ``parent`` by ``author`` with ``text``, made since ``since``."""
        body = self.graph.get(
            creds,
            f"{parent}/comments",
            fields="id,message,from,created_time",
            filter="stream",
            order="reverse_chronological",
            limit=COMMENTS_PAGE,
        )
        wanted = textlib.match_key(text)
        for comment in body.get("data", []):
            if (comment.get("from") or {}).get("id") not in (None, author):
                continue
            created = comment.get("created_time")
            if created and parse_time(created) < since:
                continue
            if textlib.match_key(comment.get("message") or "") == wanted:
                return str(comment["id"])
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        self.graph.delete(creds, platform_post_id)
