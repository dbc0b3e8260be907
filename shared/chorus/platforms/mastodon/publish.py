"""Publish to a Mastodon instance (REST API, bearer token).

- Media: ``POST /api/v2/media`` (multipart ``file`` + ``description``). 200 means processed; 202 means
  processing: the call returns ``PendingStep(MEDIA_STEP)`` with the uploaded ids in its state, and each
  later step polls ``GET /api/v1/media/:id`` once per attachment (206 while processing, 200 when done),
  at most ``MAX_MEDIA_POLLS`` steps; then the target fails with the instance's last answer. Uploaded ids
  are kept in the step state, so a step never uploads an attachment again.
- Status: ``POST /api/v1/statuses`` with ``Idempotency-Key: progress.idempotency_key(part)`` (persisted
  before the first call, never recomputed). Mastodon remembers a key for an hour after the status was
  made and answers a repeated request with the status it already created, so while the target started
  less than ``KEY_TRUST`` ago a part sent without a known answer is simply sent again
  (``Progress.step(idempotent=True)``); after that the part is verified first (``find_part``).
- Parts go through ``request.progress``: a retry resumes at the first missing part. Thread parts reply
  to the part before them (``in_reply_to_id`` = the landed parent's id), the first comment to the root.
- Each call spends at most ``request_budget_s`` of request timeouts (``chorus.platforms.budget``); when
  the next request would not fit, it returns ``PendingStep(RESUME_STEP)`` and the next step continues.
- ``find_published``: ``GET /api/v1/accounts/:id/statuses`` and a status whose text (HTML stripped,
  URLs ignored) matches and which was created at or after ``not_before`` (less the clock skew).
  ``find_part``: ``GET /api/v1/statuses/:parent/context``, a descendant of ours replying to the landed
  parent with the part's text.
- ``delete``: ``DELETE /api/v1/statuses/:id``.

The instance URL comes from ``creds.base_url`` (each account lives on its own instance).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import requests

from chorus.net.fetch import fetch, guarded_session
from chorus.platforms import parts as partlib
from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    MediaItem,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget, timeout_seconds
from chorus.platforms.http import DEFAULT_TIMEOUT, call, default_timeout, json_body
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "mastodon"
UPLOAD_TIMEOUT = DEFAULT_TIMEOUT
KEY_MEMORY = timedelta(hours=1)
"""How long an instance remembers an ``Idempotency-Key`` (after the status it made)."""
KEY_TRUST = KEY_MEMORY - timedelta(minutes=10)
"""Until this long after the target started, a part is resent under its key instead of verified."""
MEDIA_STEP = "media_processing"
RESUME_STEP = "resume"
MEDIA_POLL_DELAY_S = 5
MAX_MEDIA_POLLS = 60  # five minutes of processing


def _ids(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


class MastodonPublisher:
    name = PLATFORM
    request_budget_s: float = requests_budget(CALL_REQUESTS)
    """Two requests a call: one attachment (download + upload) or two statuses."""

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session = session or guarded_session()  # the instance / PDS is the account's base_url
        self.base_url = base_url
        self._now = now

    # -- helpers -----------------------------------------------------------------------------------

    def _base(self, creds: AccountCredentials) -> str:
        base = creds.base_url or self.base_url
        if not base:
            raise PermanentError("no Mastodon instance URL for this account", platform=PLATFORM)
        return base.rstrip("/")

    def _call(
        self,
        creds: AccountCredentials,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> requests.Response:
        """One request to the account's instance (``path`` under its URL), with the account's token."""
        auth = {"Authorization": f"Bearer {creds.access_token}", **(headers or {})}
        return call(self.session, method, f"{self._base(creds)}{path}", PLATFORM, headers=auth, **kw)

    @staticmethod
    def _download(item: MediaItem) -> bytes:
        """The attachment's bytes, through the guarded fetcher (the URL may come from a user)."""
        return fetch(
            item.url, field_name="media", platform=PLATFORM, deadline_s=timeout_seconds(UPLOAD_TIMEOUT)
        ).content

    def upload_media(self, creds: AccountCredentials, item: MediaItem) -> tuple[str, bool]:
        """Upload one attachment: its id, and whether the instance has processed it already."""
        self._base(creds)  # an account without an instance URL is refused before the download
        filename = item.url.rsplit("/", 1)[-1].split("?", 1)[0] or "media"
        resp = self._call(
            creds,
            "POST",
            "/api/v2/media",
            files={"file": (filename, self._download(item), item.mime_type)},
            data={"description": item.alt_text} if item.alt_text else None,
            timeout=default_timeout(),
            idempotent=True,  # a repeated upload only leaves an unattached attachment behind
        )
        media = json_body(resp, PLATFORM)
        return str(media["id"]), resp.status_code != 202 and media.get("url") is not None

    def _post_status(
        self,
        creds: AccountCredentials,
        text: str,
        key: str,
        in_reply_to: str | None = None,
        media_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"status": text}
        if media_ids:
            body["media_ids"] = media_ids
        if in_reply_to:
            body["in_reply_to_id"] = in_reply_to
        if creds.extra.get("visibility"):
            body["visibility"] = creds.extra["visibility"]
        if creds.extra.get("language"):
            body["language"] = creds.extra["language"]
        resp = self._call(
            creds,
            "POST",
            "/api/v1/statuses",
            headers={"Idempotency-Key": key},
            json=body,
            timeout=default_timeout(),
            idempotent=False,
        )
        status: dict[str, Any] = json_body(resp, PLATFORM)
        return status

    def key_remembered(self, request: PublishRequest) -> bool:
        """True while the instance surely still remembers the Idempotency-Keys of this target's parts."""
        return self._now() - request.progress.started_at < KEY_TRUST

    # -- steps ---------------------------------------------------------------------------------------

    def _upload(
        self,
        creds: AccountCredentials,
        request: PublishRequest,
        state: MutableMapping[str, str],
        budget: CallBudget,
    ) -> bool:
        """Upload the attachments not uploaded yet (ids kept in ``state``); True when all are processed."""
        ids = _ids(state.get("media_ids"))
        processing = _ids(state.get("processing"))
        for item in request.media[len(ids) :]:
            budget.spend(UPLOAD_TIMEOUT, default_timeout())
            media_id, ready = self.upload_media(creds, item)
            ids.append(media_id)
            if not ready:
                processing.append(media_id)
            state["media_ids"], state["processing"] = ",".join(ids), ",".join(processing)
        return not processing

    def _poll(self, creds: AccountCredentials, state: MutableMapping[str, str], budget: CallBudget) -> bool:
        """Look once at each attachment still processing; True when none is left."""
        processing = _ids(state.get("processing"))
        for media_id in list(processing):
            budget.spend(default_timeout())
            resp = self._call(
                creds, "GET", f"/api/v1/media/{media_id}", timeout=default_timeout()
            )  # 206 while processing, 200 when done; a failed processing is answered with an error
            state["last_status"] = str(resp.status_code)
            if resp.status_code == 200:
                processing.remove(media_id)
                state["processing"] = ",".join(processing)
        return not processing

    def _create(
        self, creds: AccountCredentials, request: PublishRequest, part: str, media_ids: list[str]
    ) -> tuple[str, str | None]:
        """Post ``part``'s status under its persisted key: (status id, url)."""
        key = request.progress.idempotency_key(part)
        if part == ROOT:
            text = textlib.compose_text(request.text, request.link)
            made = self._post_status(creds, text, key, request.reply_to, media_ids)
        else:
            text = partlib.followup_text(request, part)
            made = self._post_status(creds, text, key, partlib.parent_id(request, part))
        return str(made["id"]), made.get("url")

    def _statuses(
        self,
        creds: AccountCredentials,
        request: PublishRequest,
        state: MutableMapping[str, str],
        budget: CallBudget,
    ) -> PublishResult:
        """Create every part not landed yet, in order; the result once all exist."""
        progress = request.progress
        idempotent = self.key_remembered(request)
        media_ids = _ids(state.get("media_ids"))
        for part in request.parts:
            if progress.done(part) is None:
                budget.spend(default_timeout())
                progress.step(
                    part, partial(self._create, creds, request, part, media_ids), idempotent=idempotent
                )
        root = progress.landed[ROOT]
        logger.info("mastodon_published", extra={"target_id": request.target_id, "status_id": root})
        return PublishResult(
            platform_post_id=root,
            url=progress.root_url,
            part_ids=tuple(progress.landed[p] for p in request.parts if p != ROOT),
        )

    def _advance(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], polling: bool
    ) -> PublishResult | PendingStep:
        budget = CallBudget(self.request_budget_s)
        try:
            if request.progress.done(ROOT) is None:
                ready = (
                    self._poll(creds, state, budget)
                    if polling
                    else self._upload(creds, request, state, budget)
                )
                if not ready:
                    return self._processing(state, counted=polling)
            return self._statuses(creds, request, state, budget)
        except OutOfBudget:
            if polling and _ids(state.get("processing")):
                return self._processing(state, counted=True)
            return PendingStep(RESUME_STEP, state, delay_seconds=0)

    @staticmethod
    def _processing(state: dict[str, str], counted: bool) -> PendingStep:
        polls = int(state.get("polls", "0")) + (1 if counted else 0)
        if polls >= MAX_MEDIA_POLLS:
            raise PermanentError(
                f"media {state.get('processing')} still processing after {polls} polls "
                f"(the instance last answered HTTP {state.get('last_status', '202')})",
                platform=PLATFORM,
                code="media_processing",
                status=int(state.get("last_status", "202")),
            )
        state["polls"] = str(polls)
        return PendingStep(MEDIA_STEP, state, delay_seconds=MEDIA_POLL_DELAY_S)

    # -- PublishingAdapter ---------------------------------------------------------------------------

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        return self._advance(creds, request, {}, polling=False)

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        state = partlib.resumed_state(step, (MEDIA_STEP, RESUME_STEP), PLATFORM, "Mastodon")
        # a resume uploads what a cut-short call did not, then posts; a media step polls first
        return self._advance(creds, request, state, polling=step.step == MEDIA_STEP)

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        resp = self._call(
            creds,
            "GET",
            f"/api/v1/accounts/{creds.account_id}/statuses",
            params={"limit": 40, "exclude_reblogs": "true"},
        )
        wanted = textlib.match_key(textlib.compose_text(request.text, request.link))
        since = partlib.not_before(request)
        for status in json_body(resp, PLATFORM):
            if textlib.match_key(textlib.html_to_text(status.get("content") or "")) != wanted:
                continue
            if request.reply_to and str(status.get("in_reply_to_id")) != request.reply_to:
                continue
            if _parse_time(status.get("created_at")) < since:
                continue
            return PublishResult(platform_post_id=str(status["id"]), url=status.get("url"))
        return None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        """A status of this account replying to ``part``'s landed parent with ``part``'s text."""
        parent = partlib.parent_id(request, part)
        if parent is None:
            return None  # the parent does not exist yet: neither can the part
        resp = self._call(creds, "GET", f"/api/v1/statuses/{parent}/context")
        wanted = textlib.match_key(partlib.followup_text(request, part))
        taken = set(request.progress.landed.values())  # a thread part and the comment may share a text
        for status in json_body(resp, PLATFORM).get("descendants") or []:
            status_id = str(status.get("id"))
            if str(status.get("in_reply_to_id")) != parent or status_id in taken:
                continue
            if str((status.get("account") or {}).get("id")) != creds.account_id:
                continue
            if textlib.match_key(textlib.html_to_text(status.get("content") or "")) == wanted:
                return status_id
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        """Delete a status; one that is already gone (404) counts as deleted."""
        try:
            self._call(creds, "DELETE", f"/api/v1/statuses/{platform_post_id}")
        except PermanentError as exc:
            if exc.status != 404:
                raise


def _parse_time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
