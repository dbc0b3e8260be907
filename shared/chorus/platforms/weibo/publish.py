"""Publish a text or image status to Weibo through ``POST 2/statuses/share.json``, exactly once.

Ordinary apps cannot call ``statuses/update`` (10014); ``statuses/share`` publishes the ``status`` text
(<= 140 Chinese characters, no ``#话题#``) only when it holds a URL under the app's bound safe domain
(安全域名, ``CHORUS_WEIBO_SAFE_DOMAIN``; 10017 otherwise), with one optional ``pic`` (JPEG/GIF/PNG
< 5 MB, multipart/form-data) and ``rip``, the operating user's real IP (``CHORUS_WEIBO_RIP``: the
deployment's public address, sent when configured). The link rule is checked before anything is
sent (and at validation, 422 naming the account and the rule: :mod:`chorus.posts.validation`).

A status is one part (the root ``"0"``), created through ``progress.step`` (marked sent before the
call). Weibo takes no idempotency key, so a lost answer is verified: ``find_published`` reads the
account's own timeline (``GET 2/statuses/user_timeline.json``, which for an ordinary app lists the
statuses it published) for a status made since the target started whose text (links aside: Weibo
rewrites them as t.cn short links) is the post's. **20019 repeat content** after a send means Weibo
already has this text from this account: after a timeout it is indistinguishable from our own status,
so it is an :class:`UnknownOutcome` (verified on the timeline), never a resend and never a failure.

Ids are ``idstr`` / ``mid`` (:func:`chorus.platforms.weibo.api.id_of`). ``delete``:
``POST 2/statuses/destroy.json`` (20101, already gone, counts as deleted).
"""

from __future__ import annotations

import logging
import re
from functools import partial
from typing import Any

import requests

from chorus.net.fetch import fetch
from chorus.platforms import parts
from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
    UnknownOutcome,
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget, timeout_seconds
from chorus.platforms.codes import numeric
from chorus.platforms.http import DEFAULT_TIMEOUT
from chorus.platforms.stepped import SteppedPublisher
from chorus.platforms.weibo.api import (
    PLATFORM,
    RepeatContent,
    WeiboApi,
    id_of,
    parse_time,
    status_url,
)
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

TIMEOUT = DEFAULT_TIMEOUT
CONTINUE_STEP = "continue"
TIMELINE_COUNT = "50"
GONE = 20101  # Target weibo does not exist
PICTURE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def share_text(request: PublishRequest) -> str:
    """The ``status`` sent: the text with the post's link appended (the safe-domain URL, typically)."""
    return textlib.compose_text(request.text, request.link)


def matching(text: str) -> str:
    """A status text compared without its links (Weibo shows them as t.cn short links)."""
    return textlib.match_key(_URL.sub(" ", text))


def settings() -> tuple[str, str]:
    """(safe domain, reported IP) of the deployment's Weibo app."""
    from chorus.accounts.apps import get_apps

    apps = get_apps()
    return apps.weibo_safe_domain, apps.weibo_rip


class WeiboPublisher(SteppedPublisher):
    name = PLATFORM
    label = "Weibo"
    request_budget_s: float = requests_budget(CALL_REQUESTS, TIMEOUT)
    steps = (CONTINUE_STEP,)

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.api = WeiboApi(session, base_url)

    def refuse(self, creds: AccountCredentials, request: PublishRequest) -> None:
        if request.reply_to or request.thread or request.first_comment:
            raise PermanentError(
                "a Weibo status has no thread parts or first comment here; comments are answered from the inbox",
                platform=PLATFORM,
            )
        if len(request.media) > 1 or any(m.mime_type not in PICTURE_TYPES for m in request.media):
            raise PermanentError("Weibo's share API takes one JPEG, GIF or PNG picture", platform=PLATFORM)
        domain, _ = settings()
        problem = textlib.weibo_share_problem(share_text(request), domain)
        if problem:
            raise PermanentError(problem, platform=PLATFORM, code="link_rule")

    def run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PublishResult | PendingStep:
        try:
            if request.progress.done(ROOT) is None:
                budget.spend(TIMEOUT, TIMEOUT)  # the picture's download, the share
                request.progress.step(ROOT, partial(self._share, creds, request))
        except OutOfBudget:
            return PendingStep(CONTINUE_STEP, {}, delay_seconds=1)
        return parts.published(request)

    def _share(self, creds: AccountCredentials, request: PublishRequest) -> tuple[str, str]:
        _, rip = settings()
        data = {"status": share_text(request), **({"rip": rip} if rip else {})}
        files: dict[str, Any] | None = None
        if request.media:
            item = request.media[0]
            picture = fetch(item.url, field_name="media", platform=PLATFORM,
                            deadline_s=timeout_seconds(TIMEOUT)).content  # fmt: skip
            files = {"pic": ("picture", picture, item.mime_type)}
        try:
            made = self.api.post(creds.access_token, "statuses/share", data=data, files=files)
        except RepeatContent as exc:
            raise UnknownOutcome(
                f"Weibo already has this text from the account ({exc.message}): looking for it, not resending",
                platform=PLATFORM, code=exc.code, status=exc.status,
            ) from None  # fmt: skip
        status_id = id_of(made if isinstance(made, dict) else {}, status=True)
        if status_id is None:
            raise UnknownOutcome("Weibo's share answer names no status id", platform=PLATFORM)
        logger.info("weibo_shared", extra={"target_id": request.target_id, "status_id": status_id})
        return status_id, status_url(creds.account_id, status_id)

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        listing = self.api.get(
            creds.access_token, "statuses/user_timeline", count=TIMELINE_COUNT, trim_user="1"
        )
        wanted = matching(share_text(request))
        since = parts.not_before(request)
        statuses = listing.get("statuses") if isinstance(listing, dict) else None
        for status in statuses if isinstance(statuses, list) else []:
            if not isinstance(status, dict) or matching(str(status.get("text") or "")) != wanted:
                continue
            created = parse_time(status.get("created_at"))
            status_id = id_of(status, status=True)
            if status_id is None or (created is not None and created < since):
                continue
            return PublishResult(platform_post_id=status_id, url=status_url(creds.account_id, status_id))
        return None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        return None  # a status is one part

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        try:
            self.api.post(creds.access_token, "statuses/destroy", data={"id": platform_post_id})
        except PermanentError as exc:
            if numeric(exc.code) != GONE:
                raise
            logger.info("already_deleted", extra={"platform": PLATFORM, "object_id": platform_post_id})
