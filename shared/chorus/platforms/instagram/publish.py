"""Publish to an Instagram professional account (Instagram API with Facebook Login, content publishing).

Publishing is asynchronous and modelled as steps, each its own message (DESIGN decision 7), each call
within ``request_budget_s`` (``chorus.platforms.budget``):

1. ``publish``: create the container — ``POST /{ig-user-id}/media`` with ``image_url`` or
   ``media_type=REELS`` + ``video_url``, and ``caption``; for a carousel, one child container per item
   (``is_carousel_item=true``), then (once video children are ``FINISHED``: ``PendingStep("poll_children")``)
   ``media_type=CAROUSEL`` + ``children``. Containers are invisible until published, so creating one is
   safe to repeat; each container id is recorded in ``request.progress`` (parts ``"child:<n>"`` and
   ``"container"``) as it is created, so a retry never re-creates one. Returns
   ``PendingStep("poll_container", {"container_id": ..., "polls": "0"})``.
2. ``continue_publish("poll_container")``: ``GET /{container-id}?fields=status_code,status``.
   IN_PROGRESS -> the same step again, at most ``MAX_POLLS`` times (then the target fails with the
   container's last ``status_code`` / ``status``); ERROR/EXPIRED -> ``PermanentError`` with the status;
   FINISHED -> ``POST /{ig-user-id}/media_publish`` (``creation_id``) as the root part (``"0"``) through
   ``progress.step``; PUBLISHED (an earlier ``media_publish`` whose answer was lost) -> the media is
   looked up, never published again.
3. The first comment (``POST /{media-id}/comments``), through ``progress.step`` as part ``"comment"``,
   and ``GET /{media-id}?fields=permalink`` for the post's URL (a failure there does not fail the post).

Unknown means verify: ``find_published`` first reads the container's status — anything but PUBLISHED
means the media does not exist — then ``GET /{ig-user-id}/media`` for recent media whose caption
matches; ``find_part`` reads ``GET /{ig-media-id}/comments`` for the account's comment with that text.

Replies to a comment (``request.reply_to``): ``POST /{comment-id}/replies``. ``quota(creds)`` reads
``GET /{ig-user-id}/content_publishing_limit`` so the publisher can park a target instead of failing it;
the "publishing limit reached" error (code 9) is raised as ``RateLimited``. ``delete``: ``DELETE /{media-id}``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
    MediaItem,
    PendingStep,
    PermanentError,
    PlatformError,
    PublishRequest,
    PublishResult,
    RateLimited,
    UnknownOutcome,
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget
from chorus.platforms.facebook.publish import GRAPH_URL, TIMEOUT, Graph, parse_time
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "instagram"
POLL_STEP = "poll_container"
CHILDREN_STEP = "poll_children"
CONTINUE_STEP = "continue"
CONTINUE_DELAY_S = 1
POLL_DELAY_SECONDS = 10
MAX_POLLS = 90
"""Status reads of one container (every ``POLL_DELAY_SECONDS``: 15 minutes) before the target fails."""
PUBLISH_LIMIT_CODE = "9"
CONTAINER = "container"
"""The progress part holding the (carousel or single) container's id; children are ``child:<n>``."""
MEDIA_PAGE = 25
COMMENTS_PAGE = 100


def child_part(index: int) -> str:
    """The progress part of carousel child ``index`` (0-based)."""
    return f"child:{index}"


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

    @classmethod
    def from_answer(cls, body: Any) -> PublishingQuota:
        """The quota a ``{data: [{quota_usage, config: {quota_total, quota_duration}}]}`` answer gives
        (Instagram's ``content_publishing_limit``, Threads' ``threads_publishing_limit``)."""
        entry = ((body or {}).get("data") or [{}])[0]
        config = entry.get("config") or {}
        duration = config.get("quota_duration")
        return cls(
            usage=int(entry.get("quota_usage", 0)),
            total=int(config.get("quota_total", 0)),
            duration_seconds=int(duration) if duration is not None else None,
        )


def _caption(request: PublishRequest) -> str:
    """Instagram has no link attachment: a link is appended to the caption (not clickable there)."""
    return textlib.compose_text(request.text, request.link)


def _is_video(item: MediaItem) -> bool:
    return item.mime_type.startswith("video/")


class InstagramPublisher:
    name = PLATFORM
    request_budget_s: float = requests_budget(CALL_REQUESTS, TIMEOUT)

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.graph = Graph(session or requests.Session(), base_url or GRAPH_URL, PLATFORM)

    def _post(self, creds: AccountCredentials, path: str, *, idempotent: bool = False, **data: Any) -> Any:
        try:
            return self.graph.post(creds, path, idempotent=idempotent, **data)
        except PermanentError as exc:
            if exc.code == PUBLISH_LIMIT_CODE and not isinstance(exc, AuthError):
                raise RateLimited(exc.message, platform=PLATFORM, code=exc.code, status=exc.status) from exc
            raise

    def quota(self, creds: AccountCredentials) -> PublishingQuota:
        body = self.graph.get(
            creds, f"{creds.account_id}/content_publishing_limit", fields="quota_usage,config"
        )
        return PublishingQuota.from_answer(body)

    # -- publishing ----------------------------------------------------------------------------------

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        if not request.reply_to and not request.media:
            raise PermanentError("Instagram needs an image or a video", platform=PLATFORM)
        return self._run(creds, request, {})

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        state = parts.resumed_state(step, (POLL_STEP, CHILDREN_STEP, CONTINUE_STEP), PLATFORM, "Instagram")
        return self._run(creds, request, state)

    def _run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str]
    ) -> PublishResult | PendingStep:
        progress = request.progress
        budget = CallBudget(self.request_budget_s)
        try:
            if progress.done(ROOT) is None and ROOT not in progress.sent and not request.reply_to:
                waiting = self._until_publishable(creds, request, state, budget)
                if waiting is not None:
                    return waiting
            parts.create_missing(request, budget, partial(self._create, creds, request))
            if progress.root_url is None and not request.reply_to:
                budget.spend(TIMEOUT)
                progress.root_url = self._permalink(creds, progress.landed[ROOT])
        except OutOfBudget:
            if progress.done(ROOT) is None and progress.done(CONTAINER) is None:
                return PendingStep(CHILDREN_STEP, state, delay_seconds=CONTINUE_DELAY_S)
            if progress.done(ROOT) is None:
                return PendingStep(POLL_STEP, state, delay_seconds=CONTINUE_DELAY_S)
            return PendingStep(CONTINUE_STEP, {}, delay_seconds=CONTINUE_DELAY_S)
        return parts.published(request)

    def _create(
        self, creds: AccountCredentials, request: PublishRequest, part: str
    ) -> str | tuple[str, str | None]:
        progress = request.progress
        if part == COMMENT:
            comment = self._post(creds, f"{progress.landed[ROOT]}/comments", message=request.first_comment)
            return str(comment["id"])
        if part != ROOT:
            raise PermanentError("an Instagram post has no thread parts", platform=PLATFORM)
        if request.reply_to:
            body = self._post(creds, f"{request.reply_to}/replies", message=request.text)
            return str(body["id"]), None
        published = self._post(
            creds, f"{creds.account_id}/media_publish", creation_id=progress.landed[CONTAINER]
        )
        media_id = str(published["id"])
        logger.info("instagram_published", extra={"target_id": request.target_id, "media_id": media_id})
        return media_id, None

    def _until_publishable(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PendingStep | None:
        """Create the container (children first) and read its status until it can be published: a step
        to come back later, or None when ``media_publish`` may go out. PUBLISHED records the root."""
        progress = request.progress
        container = progress.done(CONTAINER)
        if container is None:
            waiting = self._children(creds, request, state, budget)
            if waiting is not None:
                return waiting
            budget.spend(TIMEOUT)
            container = progress.step(CONTAINER, partial(self._container_of, creds, request), idempotent=True)
            logger.info(
                "instagram_container_created", extra={"target_id": request.target_id, "container": container}
            )
            return PendingStep(
                POLL_STEP, {"container_id": container, "polls": "0"}, delay_seconds=POLL_DELAY_SECONDS
            )
        polls = int(state.get("polls", "0"))
        budget.spend(TIMEOUT)
        code, status = self._status(creds, container)
        if code == "FINISHED":
            return None
        if code == "PUBLISHED":  # an earlier media_publish went through: find the media, never publish again
            budget.spend(TIMEOUT)
            found = self._media_with_caption(creds, request)
            if found is None:
                raise UnknownOutcome(
                    f"container {container} is PUBLISHED but its media is not listed yet", platform=PLATFORM
                )
            progress.record(ROOT, found.platform_post_id, found.url)
            return None
        polls += 1
        if polls >= MAX_POLLS:
            raise PermanentError(
                f"Instagram container still {code} after {polls} checks: {status or code}",
                platform=PLATFORM,
                code=code,
            )
        return PendingStep(
            POLL_STEP, {"container_id": container, "polls": str(polls)}, delay_seconds=POLL_DELAY_SECONDS
        )

    def _children(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PendingStep | None:
        """Create a carousel's child containers (each recorded as it is made) and wait until video
        children are FINISHED; None when the carousel container may be created."""
        if len(request.media) < 2:
            return None
        progress = request.progress
        children = []
        for index, item in enumerate(request.media):
            if progress.done(child_part(index)) is None:
                budget.spend(TIMEOUT)
            create = partial(self._container, creds, item, is_carousel_item="true")
            children.append(progress.step(child_part(index), create, idempotent=True))
        videos = [c for c, item in zip(children, request.media, strict=True) if _is_video(item)]
        if not videos:
            return None
        polls = int(state.get("polls", "0"))
        budget.spend(TIMEOUT)
        body = self.graph.get(creds, "", ids=",".join(videos), fields="status_code,status")
        waiting = None
        for child in videos:
            entry = body.get(child) or {}
            code = str(entry.get("status_code"))
            _refuse(code, entry.get("status"))
            if code != "FINISHED":
                waiting = (code, entry.get("status"))
        if waiting is None:
            return None
        polls += 1
        if polls >= MAX_POLLS:
            raise PermanentError(
                f"Instagram carousel item still {waiting[0]} after {polls} checks: {waiting[1] or waiting[0]}",
                platform=PLATFORM,
                code=waiting[0],
            )
        return PendingStep(CHILDREN_STEP, {"polls": str(polls)}, delay_seconds=POLL_DELAY_SECONDS)

    def _container_of(self, creds: AccountCredentials, request: PublishRequest) -> str:
        if len(request.media) == 1:
            return self._container(creds, request.media[0], caption=_caption(request))
        children = [request.progress.landed[child_part(i)] for i in range(len(request.media))]
        body = self._post(
            creds,
            f"{creds.account_id}/media",
            media_type="CAROUSEL",
            children=",".join(children),
            caption=_caption(request),
            idempotent=True,
        )
        return str(body["id"])

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
        body = self._post(creds, f"{creds.account_id}/media", idempotent=True, **fields)
        return str(body["id"])

    def _status(self, creds: AccountCredentials, container: str) -> tuple[str, str | None]:
        body = self.graph.get(creds, container, fields="status_code,status")
        code = str(body.get("status_code"))
        _refuse(code, body.get("status"))
        return code, body.get("status")

    def _permalink(self, creds: AccountCredentials, media_id: str) -> str | None:
        return permalink(self.graph, creds, media_id)

    # -- verification --------------------------------------------------------------------------------

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        if request.reply_to:
            found = self._comment(
                creds, f"{request.reply_to}/replies", request.text, creds.handle, parts.not_before(request)
            )
            return PublishResult(platform_post_id=found) if found else None
        container = request.progress.done(CONTAINER)
        if container is not None and self._status(creds, container)[0] != "PUBLISHED":
            return None  # a container is published once, and this one was not
        return self._media_with_caption(creds, request)

    def _media_with_caption(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        body = self.graph.get(
            creds, f"{creds.account_id}/media", fields="id,caption,permalink,timestamp", limit=MEDIA_PAGE
        )
        wanted = textlib.match_key(_caption(request))
        since = parts.not_before(request)
        for media in body.get("data", []):
            if textlib.match_key(media.get("caption") or "") != wanted:
                continue
            stamp = media.get("timestamp")
            if stamp and parse_time(stamp) < since:
                continue
            return PublishResult(platform_post_id=str(media["id"]), url=media.get("permalink"))
        return None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        root = request.progress.done(ROOT)
        if part != COMMENT or root is None:
            return None
        return self._comment(
            creds, f"{root}/comments", request.first_comment or "", creds.handle, parts.not_before(request)
        )

    def _comment(
        self, creds: AccountCredentials, edge: str, text: str, username: str | None, since: datetime
    ) -> str | None:
        """The id of a comment on ``edge`` (``{media}/comments``, ``{comment}/replies``) with ``text``, by
        the account (``username`` when known), made since ``since``."""
        body = self.graph.get(creds, edge, fields="id,text,username,timestamp", limit=COMMENTS_PAGE)
        wanted = textlib.match_key(text)
        for comment in body.get("data", []):
            author = comment.get("username")
            if username and author and _handle(author) != _handle(username):
                continue
            stamp = comment.get("timestamp")
            if stamp and parse_time(stamp) < since:
                continue
            if textlib.match_key(comment.get("text") or "") == wanted:
                return str(comment["id"])
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        self.graph.delete(creds, platform_post_id)


def permalink(graph: Graph, creds: AccountCredentials, media_id: str) -> str | None:
    """``GET /{media-id}?fields=permalink`` (Instagram, Threads). The post exists now: a failure to read
    its permalink must not fail (and repeat) the publish."""
    try:
        body = graph.get(creds, media_id, fields="permalink")
    except PlatformError as exc:
        logger.warning(
            "permalink_unavailable",
            extra={"platform": graph.platform, "media_id": media_id, "reason": exc.message},
        )
        return None
    found = body.get("permalink")
    return str(found) if found else None


def _handle(username: str) -> str:
    """A username as compared: the account's handle may be stored with an ``@`` or other capitals."""
    return username.lstrip("@").lower()


def _refuse(code: str, status: Any) -> None:
    """A container that will never publish (ERROR, EXPIRED) fails the target with Instagram's status."""
    if code in ("ERROR", "EXPIRED"):
        raise PermanentError(f"Instagram container {code}: {status or code}", platform=PLATFORM, code=code)
