"""Publish to X (API v2, OAuth 2.0 user token), exactly once under faults.

- Post: ``POST /2/tweets`` with ``text``, ``media.media_ids`` and, for a reply or a thread part,
  ``reply.in_reply_to_tweet_id``. Thread parts reply to the previous part, the first comment to the
  first post. Every part (root ``"0"``, thread parts ``"1"``.., ``"comment"``) is created through
  ``request.progress.step``: a retry resumes at the first missing part and never re-creates one that
  landed. A failure of a later part is raised as it is (the publisher leaves the target
  ``partially_published`` on a refusal, retries a transient one), never skipped in silence.
- X has no idempotency key: a part sent without a known answer (timeout, reset, 502/504 after the POST)
  is verified before anything is sent again — ``find_published`` (root) and ``find_part`` (follow-ups)
  read the account's posts (``GET /2/users/:id/tweets`` from ``start_time``) for one whose text matches
  (X rewrites URLs to t.co and escapes ``&``, so texts are compared by ``text.match_key``) and, for a
  follow-up, that replies to the part it answers.
- Media (v2 media upload) is uploaded before the root, as steps: an image in one
  ``POST /2/media/upload``; a video or GIF chunked — ``POST /2/media/upload/initialize``, one
  ``POST /2/media/upload/{id}/append`` per 4 MB segment (each segment read from the media URL with a
  ``Range`` request), ``POST /2/media/upload/{id}/finalize``, then ``GET /2/media/upload?command=STATUS``
  as its own step every ``check_after_secs`` until processing succeeds, at most ``MAX_STATUS_POLLS``
  times (then the target fails with X's last state). Alt text through ``POST /2/media/metadata``.
  Media requests are safe to repeat (an unused upload expires), so their progress lives in the step state.
- One call sends at most ``request_budget_s`` worth of requests (``chorus.platforms.budget``); the rest
  continues as a ``PendingStep``.
- 429 -> ``RateLimited`` with ``retry_after`` from ``x-rate-limit-reset`` (``chorus.platforms.http``).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from functools import partial
from typing import Any

import requests

from chorus.net.fetch import fetch
from chorus.platforms import parts
from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    AuthError,
    MediaItem,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget, timeout_seconds
from chorus.platforms.http import DEFAULT_TIMEOUT, call, json_body
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "x"
API_URL = "https://api.x.com"
TIMEOUT = DEFAULT_TIMEOUT
"""Every request takes the default timeout (``chorus.platforms.http.default_timeout``); the budget counts it."""
CHUNK_BYTES = 4 * 1024 * 1024
MEDIA_STEP = "media"
CONTINUE_STEP = "continue"
CONTINUE_DELAY_S = 1
MAX_STATUS_POLLS = 60
"""STATUS checks of one video's processing before the target fails with X's last state."""
TIMELINE_PAGE = 100
MEDIA_LINK = re.compile(r"\s*https://t\.co/\S+\s*$")
"""X ends the text of a tweet with media with the media's t.co link: not part of what was posted."""


def post_url(tweet_id: str, handle: str | None = None) -> str:
    return f"https://x.com/{handle}/status/{tweet_id}" if handle else f"https://x.com/i/web/status/{tweet_id}"


def _category(item: MediaItem) -> str:
    if item.mime_type == "image/gif":
        return "tweet_gif"
    return "tweet_video" if item.mime_type.startswith("video/") else "tweet_image"


def _ids(value: str | None) -> list[str]:
    return [i for i in (value or "").split(",") if i]


class XPublisher:
    name = PLATFORM
    request_budget_s: float = requests_budget(CALL_REQUESTS, TIMEOUT)

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.session = session or requests.Session()
        self.base_url = (base_url or API_URL).rstrip("/")

    def _call(self, creds: AccountCredentials, method: str, path: str, **kw: Any) -> Any:
        headers = {**(kw.pop("headers", None) or {}), "Authorization": f"Bearer {creds.access_token}"}
        resp = call(self.session, method, f"{self.base_url}{path}", PLATFORM, headers=headers, **kw)
        return json_body(resp, PLATFORM) if resp.content else {}

    # -- publishing ----------------------------------------------------------------------------------

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        return self._run(creds, request, {}, CallBudget(self.request_budget_s))

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        state = parts.resumed_state(step, (MEDIA_STEP, CONTINUE_STEP), PLATFORM, "X")
        return self._run(creds, request, state, CallBudget(self.request_budget_s))

    def _run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PublishResult | PendingStep:
        progress = request.progress
        try:
            media_ids: list[str] = []
            if request.media and progress.done(ROOT) is None and ROOT not in progress.sent:
                uploaded = self._media(creds, request, state, budget)
                if isinstance(uploaded, PendingStep):
                    return uploaded
                media_ids = uploaded
            parts.create_missing(request, budget, partial(self._create, creds, request, media_ids))
        except OutOfBudget:
            name = MEDIA_STEP if progress.done(ROOT) is None and request.media else CONTINUE_STEP
            return PendingStep(name, state if name == MEDIA_STEP else {}, delay_seconds=CONTINUE_DELAY_S)
        return parts.published(request, progress.root_url or post_url(progress.landed[ROOT], creds.handle))

    def _create(
        self, creds: AccountCredentials, request: PublishRequest, media_ids: list[str], part: str
    ) -> str | tuple[str, str]:
        if part == ROOT:
            text = textlib.compose_text(request.text, request.link)
            tweet_id = self._tweet(creds, text, request.reply_to, media_ids)
            logger.info("x_published", extra={"target_id": request.target_id, "tweet_id": tweet_id})
            return tweet_id, post_url(tweet_id, creds.handle)
        return self._tweet(creds, parts.followup_text(request, part), parts.parent_id(request, part))

    def _tweet(
        self,
        creds: AccountCredentials,
        text: str,
        reply_to: str | None = None,
        media_ids: list[str] | None = None,
    ) -> str:
        body: dict[str, Any] = {"text": text}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to}
        answer = self._call(creds, "POST", "/2/tweets", json=body, idempotent=False)
        return str(answer["data"]["id"])

    # -- media ---------------------------------------------------------------------------------------

    def _media(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> list[str] | PendingStep:
        """Upload every item, resuming from ``state`` (updated in place as each request lands)."""
        done = _ids(state.get("media_ids"))
        while len(done) < len(request.media):
            item = request.media[len(done)]
            phase = state.get("phase", "")
            if not phase:
                self._start_upload(creds, item, state, budget)
            elif phase == "append":
                self._append(creds, item, state, budget)
            elif phase == "finalize":
                budget.spend(TIMEOUT)
                body = self._call(
                    creds, "POST", f"/2/media/upload/{state['upload']}/finalize", idempotent=True
                )
                waiting = self._processing(state, body)
                if waiting is not None:
                    return waiting
            elif phase == "status":
                polls = int(state.get("polls", "0"))
                if polls >= MAX_STATUS_POLLS:
                    raise PermanentError(
                        f"X was still processing the media after {polls} checks "
                        f"(last state: {state.get('last_state') or 'unknown'})",
                        platform=PLATFORM,
                        code=state.get("last_state") or None,
                    )
                budget.spend(TIMEOUT)
                body = self._call(
                    creds, "GET", "/2/media/upload", params={"command": "STATUS", "media_id": state["upload"]}
                )
                state["polls"] = str(polls + 1)
                waiting = self._processing(state, body)
                if waiting is not None:
                    return waiting
            else:  # "alt": the upload is done; its alt text goes with it
                if item.alt_text:
                    budget.spend(TIMEOUT)
                    self._call(
                        creds,
                        "POST",
                        "/2/media/metadata",
                        json={
                            "id": state["upload"],
                            "metadata": {"alt_text": {"text": item.alt_text[:1000]}},
                        },
                        idempotent=True,
                    )
                done.append(state["upload"])
                state.clear()
                state["media_ids"] = ",".join(done)
        return done

    def _start_upload(
        self, creds: AccountCredentials, item: MediaItem, state: dict[str, str], budget: CallBudget
    ) -> None:
        category = _category(item)
        if category == "tweet_image":
            budget.spend(TIMEOUT, TIMEOUT)
            data = self._segment(item, None)[0]
            body = self._call(
                creds,
                "POST",
                "/2/media/upload",
                files={"media": ("media", data, item.mime_type)},
                data={"media_category": category},
                idempotent=True,  # an unused upload expires on its own
            )
            state.update(upload=str(body["data"]["id"]), phase="alt")
            return
        total = item.size
        if total is None:
            budget.spend(TIMEOUT)
            total = self._segment(item, 0)[1]
        budget.spend(TIMEOUT)
        init = self._call(
            creds,
            "POST",
            "/2/media/upload/initialize",
            json={"media_type": item.mime_type, "total_bytes": total, "media_category": category},
            idempotent=True,
        )
        state.update(upload=str(init["data"]["id"]), total=str(total), segment="0", phase="append")

    def _append(
        self, creds: AccountCredentials, item: MediaItem, state: dict[str, str], budget: CallBudget
    ) -> None:
        total = int(state["total"])
        index = int(state["segment"])
        while index * CHUNK_BYTES < total:
            budget.spend(TIMEOUT, TIMEOUT)
            chunk = self._segment(item, index)[0]
            self._call(
                creds,
                "POST",
                f"/2/media/upload/{state['upload']}/append",
                files={"media": ("chunk", chunk, "application/octet-stream")},
                data={"segment_index": str(index)},
                idempotent=True,
            )
            index += 1
            state["segment"] = str(index)
        state["phase"] = "finalize"

    @staticmethod
    def _segment(item: MediaItem, index: int | None) -> tuple[bytes, int]:
        """Segment ``index`` of the media (``None``: all of it) and the media's total size (a ``Range``
        read; a server that ignores ``Range`` sends it whole), through the guarded fetcher: the URL
        may come from a user (decision 14)."""
        if index is None:
            got = fetch(item.url, field_name="media", platform=PLATFORM, deadline_s=timeout_seconds(TIMEOUT))
            return got.content, len(got.content)
        start = index * CHUNK_BYTES
        headers = {"Range": f"bytes={start}-{start + CHUNK_BYTES - 1}"}
        got = fetch(
            item.url,
            field_name="media",
            platform=PLATFORM,
            headers=headers,
            deadline_s=timeout_seconds(TIMEOUT),
        )
        if got.status == 206:
            total = got.headers.get("Content-Range", "").rpartition("/")[2]
            if total.isdigit():
                return got.content, int(total)
        return got.content[start : start + CHUNK_BYTES], len(got.content)

    def _processing(self, state: dict[str, str], body: Any) -> PendingStep | None:
        """After FINALIZE or STATUS: a step to check again later, None once processed; a failure raises."""
        info = (body.get("data") or {}).get("processing_info") if isinstance(body, dict) else None
        status = (info or {}).get("state")
        if status in ("pending", "in_progress"):
            state.update(phase="status", last_state=str(status))
            delay = max(1, int((info or {}).get("check_after_secs") or 1))
            return PendingStep(MEDIA_STEP, dict(state), delay_seconds=delay)
        if status == "failed":
            error = (info or {}).get("error") or {}
            raise PermanentError(
                f"X could not process the media: {error.get('message') or error.get('name') or 'failed'}",
                platform=PLATFORM,
                code="failed",
            )
        state["phase"] = "alt"
        return None

    # -- verification --------------------------------------------------------------------------------

    def _recent(self, creds: AccountCredentials, request: PublishRequest) -> list[dict[str, Any]]:
        """The account's posts since ``request``'s first part could exist (newest first)."""
        since = parts.not_before(request)
        body = self._call(
            creds,
            "GET",
            f"/2/users/{creds.account_id}/tweets",
            params={
                "max_results": TIMELINE_PAGE,
                "tweet.fields": "created_at,referenced_tweets",
                "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        tweets = [t for t in body.get("data") or [] if isinstance(t, dict)]
        return [t for t in tweets if not t.get("created_at") or _parse(t["created_at"]) >= since]

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        text = textlib.compose_text(request.text, request.link)
        found = self._find(creds, request, text, request.reply_to)
        return PublishResult(platform_post_id=found, url=post_url(found, creds.handle)) if found else None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        parent = parts.parent_id(request, part)
        if parent is None:
            return None
        return self._find(creds, request, parts.followup_text(request, part), parent)

    def _find(
        self, creds: AccountCredentials, request: PublishRequest, text: str, replying_to: str | None
    ) -> str | None:
        """The id of the account's recent tweet with ``text`` (replying to ``replying_to`` when given)."""
        wanted = textlib.match_key(text)
        for tweet in self._recent(creds, request):
            refs = tweet.get("referenced_tweets") or []
            answers = any(r.get("type") == "replied_to" and str(r.get("id")) == replying_to for r in refs)
            shown = str(tweet.get("text") or "")
            if replying_to is not None and not answers:
                continue
            if wanted in (textlib.match_key(shown), textlib.match_key(MEDIA_LINK.sub("", shown))):
                return str(tweet["id"])
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        try:
            self._call(creds, "DELETE", f"/2/tweets/{platform_post_id}")
        except PermanentError as exc:
            if isinstance(exc, AuthError) or exc.status != 404:
                raise


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
