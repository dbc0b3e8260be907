"""Publish to an Instagram professional account (Instagram API with Facebook Login, content publishing).

Publishing is asynchronous and modelled as steps, each its own message (DESIGN decision 7):

1. ``publish``: create the container — ``POST /{ig-user-id}/media`` with ``image_url`` or
   ``media_type=REELS`` + ``video_url``, and ``caption``; for a carousel, one child container per item
   (``is_carousel_item=true``) then ``media_type=CAROUSEL`` + ``children``. Returns
   ``PendingStep("poll_container", {"container_id": ...})``.
2. ``continue_publish("poll_container")``: ``GET /{container-id}?fields=status_code,status``.
   IN_PROGRESS -> the same PendingStep again; FINISHED -> ``POST /{ig-user-id}/media_publish``
   (``creation_id``) and ``GET /{media-id}?fields=permalink``; ERROR/EXPIRED -> ``PermanentError``.
   A container can be published only once, so a repeated ``media_publish`` cannot post twice.
3. The first comment (``POST /{media-id}/comments``) follows; if it fails transiently the result is
   ``PendingStep("first_comment", ...)`` so only the comment is retried.

Replies to a comment (``request.reply_to``): ``POST /{comment-id}/replies``. ``quota(creds)`` reads
``GET /{ig-user-id}/content_publishing_limit`` so the publisher can park a target instead of failing it;
the "publishing limit reached" error (code 9) is raised as ``RateLimited``. ``find_published`` looks
for recent media whose caption matches. ``delete``: ``DELETE /{media-id}``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests

from chorus.platforms.base import (
    AccountCredentials,
    AuthError,
    MediaItem,
    PendingStep,
    PermanentError,
    PlatformError,
    PublishRequest,
    PublishResult,
    RateLimited,
)
from chorus.platforms.facebook.publish import GRAPH_URL, Graph, parse_time
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "instagram"
POLL_STEP = "poll_container"
CHILDREN_STEP = "poll_children"
FIRST_COMMENT_STEP = "first_comment"
POLL_DELAY_SECONDS = 10
PUBLISH_LIMIT_CODE = "9"
CLOCK_SKEW = timedelta(minutes=2)


@dataclass(frozen=True)
class PublishingQuota:
    """``content_publishing_limit``: posts used in the rolling window and the window's allowance."""

    usage: int
    total: int
    duration_seconds: int | None = None

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.usage)

    @property
    def exhausted(self) -> bool:
        return self.remaining == 0


def _caption(request: PublishRequest) -> str:
    """Instagram has no link attachment: a link is appended to the caption (not clickable there)."""
    return textlib.compose_text(request.text, request.link)


def _is_video(item: MediaItem) -> bool:
    return item.mime_type.startswith("video/")


class InstagramPublisher:
    name = PLATFORM

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.graph = Graph(session or requests.Session(), base_url or GRAPH_URL, PLATFORM)

    def _post(self, creds: AccountCredentials, path: str, **data: Any) -> Any:
        try:
            return self.graph.post(creds, path, **data)
        except PermanentError as exc:
            if exc.code == PUBLISH_LIMIT_CODE and not isinstance(exc, AuthError):
                raise RateLimited(exc.message, platform=PLATFORM, code=exc.code, status=exc.status) from exc
            raise

    def quota(self, creds: AccountCredentials) -> PublishingQuota:
        body = self.graph.get(
            creds, f"{creds.account_id}/content_publishing_limit", fields="quota_usage,config"
        )
        entry = (body.get("data") or [{}])[0]
        config = entry.get("config") or {}
        duration = config.get("quota_duration")
        return PublishingQuota(
            usage=int(entry.get("quota_usage", 0)),
            total=int(config.get("quota_total", 0)),
            duration_seconds=int(duration) if duration is not None else None,
        )

    def _container(self, creds: AccountCredentials, item: MediaItem, **extra: str) -> str:
        fields: dict[str, str] = dict(extra)
        if _is_video(item):
            fields.update(
                media_type="REELS" if "is_carousel_item" not in extra else "VIDEO", video_url=item.url
            )
        else:
            fields["image_url"] = item.url
            if item.alt_text:
                fields["alt_text"] = item.alt_text
        body = self._post(creds, f"{creds.account_id}/media", **fields)
        return str(body["id"])

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        if request.reply_to:
            body = self._post(creds, f"{request.reply_to}/replies", message=request.text)
            return PublishResult(platform_post_id=str(body["id"]))
        if not request.media:
            raise PermanentError("Instagram needs an image or a video", platform=PLATFORM)
        if len(request.media) == 1:
            container = self._container(creds, request.media[0], caption=_caption(request))
        else:
            children = [self._container(creds, item, is_carousel_item="true") for item in request.media]
            if any(_is_video(item) for item in request.media):
                # video children must be FINISHED before the carousel container can reference them
                state = {"children": ",".join(children)}
                return PendingStep(CHILDREN_STEP, state, delay_seconds=POLL_DELAY_SECONDS)
            container = self._carousel(creds, request, children)
        logger.info(
            "instagram_container_created", extra={"target_id": request.target_id, "container": container}
        )
        return PendingStep(POLL_STEP, {"container_id": container}, delay_seconds=POLL_DELAY_SECONDS)

    def _carousel(self, creds: AccountCredentials, request: PublishRequest, children: list[str]) -> str:
        body = self._post(
            creds,
            f"{creds.account_id}/media",
            media_type="CAROUSEL",
            children=",".join(children),
            caption=_caption(request),
        )
        return str(body["id"])

    def _status(self, creds: AccountCredentials, container: str) -> str:
        status = self.graph.get(creds, container, fields="status_code,status")
        code = str(status.get("status_code"))
        if code in ("ERROR", "EXPIRED"):
            reason = status.get("status") or code
            raise PermanentError(f"Instagram container {code}: {reason}", platform=PLATFORM, code=code)
        return code

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        if step.step == POLL_STEP:
            return self._poll_and_publish(creds, request, step)
        if step.step == CHILDREN_STEP:
            children = step.state["children"].split(",")
            if any(self._status(creds, child) != "FINISHED" for child in children):
                return PendingStep(CHILDREN_STEP, dict(step.state), delay_seconds=POLL_DELAY_SECONDS)
            container = self._carousel(creds, request, children)
            return PendingStep(POLL_STEP, {"container_id": container}, delay_seconds=POLL_DELAY_SECONDS)
        if step.step == FIRST_COMMENT_STEP:
            return self._first_comment_again(creds, request, step)
        raise PermanentError(f"Instagram has no pending step {step.step!r}", platform=PLATFORM)

    def _poll_and_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        container = step.state["container_id"]
        if (
            self._status(creds, container) != "FINISHED"
        ):  # IN_PROGRESS (PUBLISHED: media_publish below answers with the error)
            return PendingStep(POLL_STEP, {"container_id": container}, delay_seconds=POLL_DELAY_SECONDS)
        published = self._post(creds, f"{creds.account_id}/media_publish", creation_id=container)
        media_id = str(published["id"])
        url = self._permalink(creds, media_id)
        logger.info("instagram_published", extra={"target_id": request.target_id, "media_id": media_id})
        return self._with_first_comment(creds, request, media_id, url)

    def _permalink(self, creds: AccountCredentials, media_id: str) -> str | None:
        """The post exists now: a failure to read its permalink must not fail (and repeat) the publish."""
        try:
            body = self.graph.get(creds, media_id, fields="permalink")
        except PlatformError as exc:
            logger.warning(
                "instagram_permalink_unavailable", extra={"media_id": media_id, "reason": exc.message}
            )
            return None
        permalink = body.get("permalink")
        return str(permalink) if permalink else None

    def _with_first_comment(
        self, creds: AccountCredentials, request: PublishRequest, media_id: str, url: str | None
    ) -> PublishResult | PendingStep:
        if not request.first_comment:
            return PublishResult(platform_post_id=media_id, url=url)
        try:
            comment = self._post(creds, f"{media_id}/comments", message=request.first_comment)
        except PlatformError as exc:
            if isinstance(exc, PermanentError) and not isinstance(exc, AuthError):
                logger.warning("first_comment_refused", extra={"media_id": media_id, "reason": exc.message})
                return PublishResult(platform_post_id=media_id, url=url)
            state = {"media_id": media_id, "url": url or ""}
            return PendingStep(FIRST_COMMENT_STEP, state, delay_seconds=30)
        return PublishResult(platform_post_id=media_id, url=url, part_ids=(str(comment["id"]),))

    def _first_comment_again(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        media_id, url = step.state["media_id"], step.state.get("url") or None
        if not request.first_comment:
            return PublishResult(platform_post_id=media_id, url=url)
        existing = self.graph.get(creds, f"{media_id}/comments", fields="id,text,username", limit=50)
        wanted = textlib.match_key(request.first_comment)
        for comment in existing.get("data", []):
            if textlib.match_key(comment.get("text") or "") == wanted:
                return PublishResult(platform_post_id=media_id, url=url, part_ids=(str(comment["id"]),))
        comment = self._post(creds, f"{media_id}/comments", message=request.first_comment)
        return PublishResult(platform_post_id=media_id, url=url, part_ids=(str(comment["id"]),))

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        body = self.graph.get(
            creds, f"{creds.account_id}/media", fields="id,caption,permalink,timestamp", limit=25
        )
        wanted = textlib.match_key(_caption(request))
        for media in body.get("data", []):
            if textlib.match_key(media.get("caption") or "") != wanted:
                continue
            stamp = media.get("timestamp")
            if request.not_before and stamp and parse_time(stamp) < request.not_before - CLOCK_SKEW:
                continue
            return PublishResult(platform_post_id=str(media["id"]), url=media.get("permalink"))
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        self.graph.delete(creds, platform_post_id)
