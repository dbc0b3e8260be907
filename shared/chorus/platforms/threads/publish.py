"""Publish to Threads (Meta's Threads API): containers, then ``threads_publish``, each part as steps.

Every part of a publish (the root ``"0"``, thread parts ``"1"``.., the first comment ``"comment"``, which
on Threads is a reply by the account itself) goes out in two moves, each within the call's
``request_budget_s`` (``chorus.platforms.budget``):

1. **Container**: ``POST /{threads-user-id}/threads`` with ``media_type`` TEXT (``text``, and
   ``link_attachment`` for a text post with a link), IMAGE (``image_url``, ``alt_text``), VIDEO
   (``video_url``) or CAROUSEL (``children``: item containers made first with ``is_carousel_item=true``,
   video items waited for until FINISHED); a thread part or the first comment is a TEXT container with
   ``reply_to_id`` = the part it answers. A container is invisible until published, so creating it is
   safe to repeat; its id is recorded in ``request.progress`` as it is made (``"container"`` for the
   root, ``"container:<part>"`` for the others, ``"child:<n>"`` for carousel items), never made twice.
2. **Status, then publish**: ``GET /{container-id}?fields=status,error_message``. FINISHED ->
   ``POST /{threads-user-id}/threads_publish`` (``creation_id``) through ``progress.step``; IN_PROGRESS
   -> ``PendingStep("poll_container")`` after ``POLL_DELAY_SECONDS``, at most ``MAX_POLLS`` times (the
   docs: "once per minute, for no more than 5 minutes"), then the target fails with the last status;
   ERROR / EXPIRED -> ``PermanentError`` with Threads' ``error_message`` (FAILED_DOWNLOADING_VIDEO..);
   PUBLISHED (an earlier publish whose answer was lost) -> the post is looked up, never published again.

Unknown means verify: a container is published at most once, so its status decides. ``find_published``
and ``find_part`` read it first (anything but PUBLISHED: the post does not exist, and publishing the
same container again is safe), then look the post up: the root in ``GET /{threads-user-id}/threads``
(``since`` the earliest time it can exist), a reply in ``GET /{parent-id}/replies`` (by the account),
by its text. Both listings are Meta's documented retrieval endpoints (developers.facebook.com/docs/
threads/threads-media and reply-management).

``quota(creds)`` reads ``GET /{threads-user-id}/threads_publishing_limit`` (250 posts in 24 hours) so
the publisher parks a target rather than failing it. ``delete``: ``DELETE /{threads-media-id}``.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import requests

from chorus.platforms import parts
from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    MediaItem,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
    UnknownOutcome,
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget
from chorus.platforms.facebook.publish import TIMEOUT, Graph, parse_time
from chorus.platforms.instagram.publish import PublishingQuota, permalink
from chorus.platforms.stepped import SteppedPublisher
from chorus.platforms.threads.oauth import API_URL
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "threads"
POLL_STEP = "poll_container"
CONTINUE_STEP = "continue"
CONTINUE_DELAY_S = 1
POLL_DELAY_SECONDS = 60
MAX_POLLS = 5
"""Status reads after the first one, a minute apart (the docs: once per minute, for no more than 5 minutes)."""
CONTAINER = "container"
LISTING_PAGE = 25
REFUSED = frozenset({"ERROR", "EXPIRED"})


def container_part(part: str) -> str:
    """The progress part holding the container of ``part`` (``"container"`` for the root)."""
    return CONTAINER if part == ROOT else f"{CONTAINER}:{part}"


def child_part(index: int) -> str:
    """The progress part of carousel item ``index`` (0-based)."""
    return f"child:{index}"


def _is_video(item: MediaItem) -> bool:
    return item.mime_type.startswith("video/")


def root_text(request: PublishRequest) -> str:
    """The root's text as published: a text post carries its link as ``link_attachment``; with media
    the link is appended to the text."""
    return request.text if not request.media else textlib.compose_text(request.text, request.link)


def part_text(request: PublishRequest, part: str) -> str:
    return root_text(request) if part == ROOT else parts.followup_text(request, part)


class ThreadsPublisher(SteppedPublisher):
    name = PLATFORM
    label = "Threads"
    steps = (POLL_STEP, CONTINUE_STEP)
    request_budget_s: float = requests_budget(CALL_REQUESTS, TIMEOUT)

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.graph = Graph(session or requests.Session(), base_url or API_URL, PLATFORM)

    def quota(self, creds: AccountCredentials) -> PublishingQuota:
        body = self.graph.get(
            creds, f"{creds.account_id}/threads_publishing_limit", fields="quota_usage,config"
        )
        return PublishingQuota.from_answer(body)

    # -- publishing ----------------------------------------------------------------------------------

    def refuse(self, creds: AccountCredentials, request: PublishRequest) -> None:
        if not request.text.strip() and not request.media:
            raise PermanentError("a Threads post needs text or media", platform=PLATFORM)

    def run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PublishResult | PendingStep:
        progress = request.progress
        try:
            for part in request.parts:
                if progress.done(part) is not None:
                    continue
                waiting = self._part(creds, request, part, state, budget)
                if waiting is not None:
                    return waiting
            if progress.root_url is None and not request.reply_to:
                budget.spend(TIMEOUT)
                progress.root_url = permalink(self.graph, creds, progress.landed[ROOT])
        except OutOfBudget:
            return PendingStep(CONTINUE_STEP, {}, delay_seconds=CONTINUE_DELAY_S)
        return parts.published(request)

    def _part(
        self,
        creds: AccountCredentials,
        request: PublishRequest,
        part: str,
        state: dict[str, str],
        budget: CallBudget,
    ) -> PendingStep | None:
        """Make ``part``'s container, wait until it is FINISHED, publish it: a step to come back to
        later, or None once the part landed."""
        progress = request.progress
        if not parts.unanswered(request, part):
            container = progress.done(container_part(part))
            if container is None:
                if part == ROOT and len(request.media) > 1:
                    waiting = self._children(creds, request, state, budget)
                    if waiting is not None:
                        return waiting
                budget.spend(TIMEOUT)
                make = partial(self._container, creds, request, part)
                container = progress.step(container_part(part), make, idempotent=True)
            budget.spend(TIMEOUT)
            status, error = self._status(creds, container)
            if status == "PUBLISHED":  # an earlier publish went through: look it up, never publish again
                budget.spend(TIMEOUT)
                found = self._lookup(creds, request, part)
                if found is None:
                    raise UnknownOutcome(
                        f"container {container} is PUBLISHED but the post is not listed yet",
                        platform=PLATFORM,
                    )
                progress.record(part, *found)
                return None
            if status != "FINISHED":
                return self._wait(state, container, status, error)
        budget.spend(TIMEOUT)  # a part sent without a known answer raises UnknownOutcome here: verified
        progress.step(part, partial(self._publish, creds, request, part))
        return None

    def _wait(self, state: dict[str, str], waited_for: str, status: str, error: str | None) -> PendingStep:
        """The same step again after a minute, at most ``MAX_POLLS`` times for one container."""
        polls = int(state.get("polls", "0")) if state.get("container_id") == waited_for else 0
        polls += 1
        if polls > MAX_POLLS:
            raise PermanentError(
                f"Threads container still {status} after {polls} checks: {error or status}",
                platform=PLATFORM,
                code=status,
            )
        return PendingStep(
            POLL_STEP, {"container_id": waited_for, "polls": str(polls)}, delay_seconds=POLL_DELAY_SECONDS
        )

    def _children(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PendingStep | None:
        """Make a carousel's item containers (each recorded as it is made) and wait until the video
        items are FINISHED; None when the carousel container may be made."""
        progress = request.progress
        children = []
        for index, item in enumerate(request.media):
            if progress.done(child_part(index)) is None:
                budget.spend(TIMEOUT)
            make = partial(self._media_container, creds, item, is_carousel_item="true")
            children.append(progress.step(child_part(index), make, idempotent=True))
        for child, item in zip(children, request.media, strict=True):
            if not _is_video(item):
                continue
            budget.spend(TIMEOUT)
            status, error = self._status(creds, child)
            if status != "FINISHED":
                return self._wait(state, child, status, error)
        return None

    def _container(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str:
        if part != ROOT:
            fields = {"media_type": "TEXT", "text": part_text(request, part)}
            fields["reply_to_id"] = parts.parent_id(request, part) or ""
            return self._make(creds, fields)
        extra: dict[str, str] = {}
        if request.reply_to:
            extra["reply_to_id"] = request.reply_to
        text = root_text(request)
        if text:
            extra["text"] = text
        if not request.media:
            if request.link:
                extra["link_attachment"] = request.link
            return self._make(creds, {"media_type": "TEXT", **extra})
        if len(request.media) == 1:
            return self._media_container(creds, request.media[0], **extra)
        children = [request.progress.landed[child_part(i)] for i in range(len(request.media))]
        return self._make(creds, {"media_type": "CAROUSEL", "children": ",".join(children), **extra})

    def _media_container(self, creds: AccountCredentials, item: MediaItem, **extra: str) -> str:
        fields = dict(extra)
        if _is_video(item):
            fields.update(media_type="VIDEO", video_url=item.url)
        else:
            fields.update(media_type="IMAGE", image_url=item.url)
        if item.alt_text:
            fields["alt_text"] = item.alt_text
        return self._make(creds, fields)

    def _make(self, creds: AccountCredentials, fields: dict[str, str]) -> str:
        body = self.graph.post(creds, f"{creds.account_id}/threads", idempotent=True, **fields)
        return str(body["id"])

    def _publish(self, creds: AccountCredentials, request: PublishRequest, part: str) -> tuple[str, None]:
        container = request.progress.landed[container_part(part)]
        body = self.graph.post(creds, f"{creds.account_id}/threads_publish", creation_id=container)
        media_id = str(body["id"])
        logger.info(
            "threads_published", extra={"target_id": request.target_id, "part": part, "media_id": media_id}
        )
        return media_id, None

    def _read_status(self, creds: AccountCredentials, container: str) -> tuple[str, str | None]:
        body = self.graph.get(creds, container, fields="status,error_message")
        error = body.get("error_message")
        return str(body.get("status")), str(error) if error else None

    def _status(self, creds: AccountCredentials, container: str) -> tuple[str, str | None]:
        """The container's status; one that will never publish (ERROR, EXPIRED) fails the target."""
        status, error = self._read_status(creds, container)
        if status in REFUSED:
            raise PermanentError(
                f"Threads container {status}: {error or status}", platform=PLATFORM, code=status
            )
        return status, error

    # -- verification --------------------------------------------------------------------------------

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        found = self._verify(creds, request, ROOT)
        return PublishResult(platform_post_id=found[0], url=found[1]) if found else None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        if part == ROOT or parts.parent_id(request, part) is None:
            return None
        found = self._verify(creds, request, part)
        return found[0] if found else None

    def _verify(
        self, creds: AccountCredentials, request: PublishRequest, part: str
    ) -> tuple[str, str | None] | None:
        container = request.progress.done(container_part(part))
        if container is not None and self._read_status(creds, container)[0] != "PUBLISHED":
            return None  # a container is published once, and this one was not
        return self._lookup(creds, request, part)

    def _lookup(
        self, creds: AccountCredentials, request: PublishRequest, part: str
    ) -> tuple[str, str | None] | None:
        """``part`` among the account's posts (the root) or the parent's replies, by its text."""
        since = parts.not_before(request)
        parent = request.reply_to if part == ROOT else parts.parent_id(request, part)
        fields = "id,text,username,permalink,timestamp"
        if parent is None:
            body = self.graph.get(
                creds,
                f"{creds.account_id}/threads",
                fields=fields,
                since=str(int(since.timestamp())),
                limit=LISTING_PAGE,
            )
        else:
            body = self.graph.get(creds, f"{parent}/replies", fields=fields)
        wanted = textlib.match_key(part_text(request, part))
        for post in body.get("data") or []:
            if not isinstance(post, dict) or textlib.match_key(str(post.get("text") or "")) != wanted:
                continue
            author = post.get("username")
            if parent is not None and creds.handle and author and _handle(author) != _handle(creds.handle):
                continue
            stamp = post.get("timestamp")
            if stamp and parse_time(stamp) < since:
                continue
            permalink = post.get("permalink")
            return str(post["id"]), str(permalink) if permalink else None
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        self.graph.delete(creds, platform_post_id)


def _handle(username: Any) -> str:
    return str(username).lstrip("@").lower()
