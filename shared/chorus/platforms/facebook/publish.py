"""Publish to a Facebook Page (Graph API, page access token).

- Text and/or link: ``POST /{page-id}/feed`` (``message``, ``link``). With media there is no link
  preview, so the link is appended to the text.
- One image: ``POST /{page-id}/photos`` (``url``, ``message``); the post id is the answer's ``post_id``.
- Several images: each ``POST /{page-id}/photos`` with ``published=false``, then ``POST /{page-id}/feed``
  with ``attached_media[i]={"media_fbid": ...}``.
- One video: ``POST /{page-id}/videos`` (``file_url``, ``description``).
- First comment: ``POST /{post-id}/comments``. If it fails transiently after the post exists, publish
  returns ``PendingStep("first_comment")`` so only the comment is retried; ``continue_publish`` first looks
  for the comment among the post's comments so an unknown outcome is not repeated.
- Reply (``request.reply_to`` = a post or comment id): ``POST /{id}/comments``.
- ``find_published``: ``GET /{page-id}/feed`` posts whose message matches and ``created_time`` is at or
  after ``not_before``.
- ``delete``: ``DELETE /{post-id}`` (an already deleted post counts as deleted).

The Graph API has no idempotency key: exactly-once rests on the publisher's ``verifying`` state.
The token travels as the documented ``access_token`` parameter (form body for writes, query for reads).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import requests

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    PendingStep,
    PermanentError,
    PlatformError,
    PublishRequest,
    PublishResult,
)
from chorus.platforms.http import call, json_body
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "facebook"
GRAPH_URL = "https://graph.facebook.com/v21.0"
UPLOAD_TIMEOUT = (3.05, 120.0)
CLOCK_SKEW = timedelta(minutes=2)
FIRST_COMMENT_STEP = "first_comment"


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

    def post(
        self, creds: AccountCredentials, path: str, *, timeout: tuple[float, float] | None = None, **data: Any
    ) -> Any:
        kw: dict[str, Any] = {"timeout": timeout} if timeout else {}
        resp = call(
            self.session,
            "POST",
            f"{self.base_url}/{path}",
            self.platform,
            data={**data, "access_token": creds.access_token},
            idempotent=False,
            **kw,
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


class FacebookPublisher:
    name = PLATFORM

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.graph = Graph(session or requests.Session(), base_url or GRAPH_URL, PLATFORM)

    def _page(self, creds: AccountCredentials) -> str:
        return creds.account_id

    def _publish_post(self, creds: AccountCredentials, request: PublishRequest) -> tuple[str, str]:
        """Create the post itself; returns (post id, url)."""
        page = self._page(creds)
        images = [m for m in request.media if not m.mime_type.startswith("video/")]
        # a link preview exists only on a text post; with media the link goes into the text
        text = textlib.compose_text(request.text, request.link) if request.media else request.text
        videos = [m for m in request.media if m.mime_type.startswith("video/")]
        if videos:
            body = self.graph.post(
                creds,
                f"{page}/videos",
                file_url=videos[0].url,
                description=text,
                timeout=UPLOAD_TIMEOUT,
            )
            video_id = str(body["id"])
            return video_id, f"https://www.facebook.com/{page}/videos/{video_id}"
        if len(images) == 1:
            fields: dict[str, Any] = {"url": images[0].url, "message": text}
            if images[0].alt_text:
                fields["alt_text_custom"] = images[0].alt_text
            body = self.graph.post(creds, f"{page}/photos", timeout=UPLOAD_TIMEOUT, **fields)
            post_id = str(body.get("post_id") or body["id"])
            return post_id, post_url(post_id)
        fields = {"message": text}
        if request.link and not images:
            fields["link"] = request.link
        for index, image in enumerate(images):
            photo = self.graph.post(
                creds, f"{page}/photos", url=image.url, published="false", timeout=UPLOAD_TIMEOUT
            )
            fields[f"attached_media[{index}]"] = json.dumps({"media_fbid": str(photo["id"])})
        body = self.graph.post(creds, f"{page}/feed", **fields)
        post_id = str(body["id"])
        return post_id, post_url(post_id)

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        if request.reply_to:
            body = self.graph.post(creds, f"{request.reply_to}/comments", message=request.text)
            return PublishResult(platform_post_id=str(body["id"]))
        post_id, url = self._publish_post(creds, request)
        logger.info("facebook_published", extra={"target_id": request.target_id, "post_id": post_id})
        if not request.first_comment:
            return PublishResult(platform_post_id=post_id, url=url)
        try:
            comment = self.graph.post(creds, f"{post_id}/comments", message=request.first_comment)
        except PlatformError as exc:
            # The post exists: never fail the target now. A refused comment is logged and dropped; any
            # other failure (throttled, 5xx, timeout, token) retries only the comment, as its own step.
            if isinstance(exc, PermanentError) and not isinstance(exc, AuthError):
                logger.warning("first_comment_refused", extra={"post_id": post_id, "reason": exc.message})
                return PublishResult(platform_post_id=post_id, url=url)
            return PendingStep(FIRST_COMMENT_STEP, {"post_id": post_id, "url": url}, delay_seconds=30)
        return PublishResult(platform_post_id=post_id, url=url, part_ids=(str(comment["id"]),))

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        if step.step != FIRST_COMMENT_STEP or not request.first_comment:
            raise PermanentError(f"Facebook has no pending step {step.step!r}", platform=PLATFORM)
        post_id, url = step.state["post_id"], step.state.get("url")
        existing = self.graph.get(creds, f"{post_id}/comments", fields="id,message,from", limit=50)
        wanted = textlib.match_key(request.first_comment)
        for comment in existing.get("data", []):
            by_page = (comment.get("from") or {}).get("id") in (None, self._page(creds))
            if by_page and textlib.match_key(comment.get("message") or "") == wanted:
                return PublishResult(platform_post_id=post_id, url=url, part_ids=(str(comment["id"]),))
        comment = self.graph.post(creds, f"{post_id}/comments", message=request.first_comment)
        return PublishResult(platform_post_id=post_id, url=url, part_ids=(str(comment["id"]),))

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        params: dict[str, Any] = {"fields": "id,message,created_time,permalink_url", "limit": 25}
        if request.not_before:
            params["since"] = int((request.not_before - CLOCK_SKEW).timestamp())
        body = self.graph.get(creds, f"{self._page(creds)}/feed", **params)
        sent = textlib.compose_text(request.text, request.link) if request.media else request.text
        wanted = textlib.match_key(sent)
        for post in body.get("data", []):
            if textlib.match_key(post.get("message") or "") != wanted:
                continue
            if request.not_before and parse_time(post["created_time"]) < request.not_before - CLOCK_SKEW:
                continue
            post_id = str(post["id"])
            return PublishResult(platform_post_id=post_id, url=post.get("permalink_url") or post_url(post_id))
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        self.graph.delete(creds, platform_post_id)
