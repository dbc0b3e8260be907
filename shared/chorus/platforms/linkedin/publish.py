"""Publish to LinkedIn through the Posts API (``POST /rest/posts``), exactly once, media as steps.

A LinkedIn post is one part (the root ``"0"``), authored by the account: an organization page
(``urn:li:organization:{id}``, ``w_organization_social``) or a member (``urn:li:person:{id}``,
``w_member_social``). Every ``/rest/*`` call carries ``LinkedIn-Version`` and
``X-Restli-Protocol-Version: 2.0.0`` (``oauth.rest_headers``). The body is the documented one
(``fixtures/platform_api/publishing/linkedin/posts_create_request_*.json``): ``author``, ``commentary``,
``visibility: PUBLIC``, ``distribution {feedDistribution: MAIN_FEED, targetEntities: [],
thirdPartyDistributionChannels: []}``, ``lifecycleState: PUBLISHED``, ``isReshareDisabledByAuthor: false``
and, by kind:

- text: nothing more;
- link without media: ``content.article {source, title}`` (the link is the article's, not in the text);
  with media the link is appended to the commentary;
- one image: ``content.media {id: urn:li:image:…, altText}``; 2-20 images:
  ``content.multiImage.images [{id, altText}]``. Each image is one step, part ``"image:<n>"``:
  ``POST /rest/images?action=initializeUpload {initializeUploadRequest: {owner}}``, then the bytes PUT to
  the answered ``uploadUrl`` (with the token only when that URL is on a LinkedIn host); its URN is recorded once uploaded (an image initialized and never used is
  harmless, so the pair is safe to repeat);
- one video: ``content.media {id: urn:li:video:…}`` after the Videos API's three steps, each persisted:
  ``POST /rest/videos?action=initializeUpload {owner, fileSizeBytes, uploadCaptions: false,
  uploadThumbnail: false}`` (part ``"video:init"``: the video URN, ``uploadToken`` and the
  ``uploadInstructions`` byte ranges and URLs, kept so a resumed publish uploads only what is missing),
  one PUT per instruction (part ``"video:<i>"``: the part's ``ETag``; each range read from the media
  by a ``Range`` request, so a resumed upload reads only what it sends), then
  ``POST /rest/videos?action=finalizeUpload {finalizeUploadRequest: {video, uploadToken,
  uploadedPartIds: [ETags in order]}}`` (part ``"video"``). LinkedIn then processes the video:
  ``GET /rest/videos/{urn}`` until ``AVAILABLE`` (``PendingStep("poll_video")`` every
  ``POLL_DELAY_SECONDS``, at most ``MAX_POLLS`` times; ``PROCESSING_FAILED`` fails the target), and only
  then is the post created.

The commentary is LinkedIn's "little text" format: its reserved characters are escaped
(``little_text``), or LinkedIn would cut the post at the first one, and each ``#tag`` becomes the
hashtag template ``{hashtag|\\#|tag}``.

**The post id comes only in the ``x-restli-id`` header** of the 201 (``posts_create_response_201.http``;
the body is empty and never read). A 201 without it is an unknown outcome: verified.

Exactly once: the Posts API has no idempotency key, so the post is created through ``progress.step``
(marked sent before the call) and a lost answer is verified by ``find_published``: ``GET /rest/posts
?author={urn}&q=author&count=…&sortBy=LAST_MODIFIED`` (the Posts API's "find posts by author"), a post
created since the target started with the same commentary.

Errors (``{message, serviceErrorCode, status}``, ``chorus.platforms.http``): 401 (empty, expired or
revoked token) -> ``AuthError``; 429 ("Resource level throttle limit ...") -> ``RateLimited``: after its
``Retry-After`` when sent, else at the next midnight UTC, when LinkedIn's daily limits reset; 5xx ->
retry; 403 (a role or permission the token lacks) and other 4xx -> ``PermanentError`` with LinkedIn's
message. ``delete``: ``DELETE /rest/posts/{urn}`` (a post already gone counts as deleted).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote, urlsplit

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
    RateLimited,
    UnknownOutcome,
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget, timeout_seconds
from chorus.platforms.http import DEFAULT_TIMEOUT, bearer, call, json_body
from chorus.platforms.linkedin.oauth import API_URL, organization_urn, rest_headers
from chorus.platforms.stepped import SteppedPublisher
from chorus.platforms.uploads import media_range
from chorus.posts import text as textlib

logger = logging.getLogger(__name__)

PLATFORM = "linkedin"
TIMEOUT = DEFAULT_TIMEOUT
UPLOAD_TIMEOUT = DEFAULT_TIMEOUT
POLL_STEP = "poll_video"
CONTINUE_STEP = "continue"
CONTINUE_DELAY_S = 1
POLL_DELAY_SECONDS = 10
MAX_POLLS = 60
"""Video status reads (every ``POLL_DELAY_SECONDS``: 10 minutes) before the target fails."""
VIDEO = "video"
VIDEO_INIT = "video:init"
LISTING_COUNT = 20
RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
UNESCAPE = re.compile(r"\\([\\|{}@\[\]()<>#*_~])")
HASHTAG = re.compile(r"(?<![\w#])#([^\W_]+)(?![\w#])")
HASHTAG_TEMPLATE = re.compile(r"\{hashtag\|\\#\|([^\W_]+)\}")


def little_text(text: str) -> str:
    """``text`` as a LinkedIn commentary: every reserved character of the little text format escaped,
    and each ``#tag`` (letters and digits) written as LinkedIn's hashtag template ``{hashtag|\\#|tag}``."""
    written, done = [], 0
    for tag in HASHTAG.finditer(text):
        written += [RESERVED.sub(r"\\\1", text[done : tag.start()]), "{hashtag|\\#|" + tag.group(1) + "}"]
        done = tag.end()
    written.append(RESERVED.sub(r"\\\1", text[done:]))
    return "".join(written)


def plain_text(commentary: str) -> str:
    """A commentary read back from LinkedIn as the text it was made from: templates and escapes undone."""
    return UNESCAPE.sub(r"\1", HASHTAG_TEMPLATE.sub(r"#\1", commentary))


def author_urn(account_id: str) -> str:
    """The post author: the account's URN (an organization's bare numeric id made one)."""
    return account_id if account_id.startswith("urn:") else organization_urn(account_id)


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


def image_part(index: int) -> str:
    return f"image:{index}"


def video_part(index: int) -> str:
    return f"video:{index}"


def _is_video(item: MediaItem) -> bool:
    return item.mime_type.startswith("video/")


def encoded_urn(urn: str) -> str:
    return quote(urn, safe="")


def commentary(request: PublishRequest) -> str:
    """The post's text as published: with media, the link is appended to it (no article card then)."""
    return request.text if not request.media else textlib.compose_text(request.text, request.link)


def until_midnight_utc(now: datetime | None = None) -> float:
    """Seconds until LinkedIn's daily limits reset (midnight UTC; api_reference.json ``rate_limits``)."""
    current = now or datetime.now(UTC)
    midnight = (current + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - current).total_seconds()


@contextmanager
def daily_limits() -> Iterator[None]:
    """A 429 without ``Retry-After`` waits for the daily reset at midnight UTC."""
    try:
        yield
    except RateLimited as exc:
        if exc.retry_after is not None:
            raise
        raise RateLimited(exc.message, retry_after=until_midnight_utc(), platform=PLATFORM,
                          code=exc.code, status=exc.status) from None  # fmt: skip


class LinkedInPublisher(SteppedPublisher):
    name = PLATFORM
    label = "LinkedIn"
    steps = (POLL_STEP, CONTINUE_STEP)
    request_budget_s: float = requests_budget(CALL_REQUESTS, TIMEOUT)

    def __init__(self, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.session = session or requests.Session()
        self.base_url = (base_url or API_URL).rstrip("/")

    def rest(self, creds: AccountCredentials, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {**bearer(creds.access_token), **rest_headers(), **kw.pop("headers", {})}
        with daily_limits():
            return call(self.session, method, f"{self.base_url}/rest/{path}", PLATFORM, headers=headers, **kw)

    def _linkedins(self, url: str) -> bool:
        """An upload URL on LinkedIn's own hosts (or the API's host): the only place the token may go."""
        host = (urlsplit(url).hostname or "").lower()
        return (
            host == urlsplit(self.base_url).hostname
            or host == "linkedin.com"
            or host.endswith(".linkedin.com")
        )

    def rest_json(self, creds: AccountCredentials, method: str, path: str, **kw: Any) -> dict[str, Any]:
        body = json_body(self.rest(creds, method, path, **kw), PLATFORM)
        return body if isinstance(body, dict) else {}

    # -- publishing ----------------------------------------------------------------------------------

    def refuse(self, creds: AccountCredentials, request: PublishRequest) -> None:
        if request.reply_to or request.thread or request.first_comment:
            raise PermanentError(
                "a LinkedIn post has no replies, thread parts or first comment here", platform=PLATFORM
            )
        if not request.text.strip() and not request.media and not request.link:
            raise PermanentError("a LinkedIn post needs text, a link or media", platform=PLATFORM)
        videos = [m for m in request.media if _is_video(m)]
        if videos and len(request.media) > 1:
            raise PermanentError("a LinkedIn video post has one video and nothing else", platform=PLATFORM)

    def run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PublishResult | PendingStep:
        progress = request.progress
        try:
            if progress.done(ROOT) is None:
                content: dict[str, Any] | None = None
                if not parts.unanswered(request, ROOT):  # else the step below raises UnknownOutcome: verified
                    ready = self._content(creds, request, state, budget)
                    if isinstance(ready, PendingStep):
                        return ready
                    content = ready
                budget.spend(TIMEOUT)
                progress.step(ROOT, partial(self._post, creds, request, content))
        except OutOfBudget:
            return PendingStep(CONTINUE_STEP, {}, delay_seconds=CONTINUE_DELAY_S)
        return parts.published(request)

    def _content(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> dict[str, Any] | PendingStep | None:
        """The post's ``content`` (None for a text post), or a step to wait for a video in processing."""
        media = request.media
        if not media:
            if request.link:
                title = _article_title(
                    request.link_original or request.link
                )  # the page's, not a short link's
                return {"article": {"source": request.link, "title": title}}
            return None
        if _is_video(media[0]):
            return self._video(creds, request, media[0], state, budget)
        images = []
        for index, item in enumerate(media):
            urn = request.progress.done(image_part(index))
            if urn is None:
                budget.spend(TIMEOUT, UPLOAD_TIMEOUT, UPLOAD_TIMEOUT)  # initialize, download, upload
                urn = request.progress.step(
                    image_part(index), partial(self._upload_image, creds, item), idempotent=True
                )
            images.append({"id": urn, **({"altText": item.alt_text} if item.alt_text else {})})
        if len(images) == 1:
            return {"media": images[0]}
        return {"multiImage": {"images": images}}

    def _upload_image(self, creds: AccountCredentials, item: MediaItem) -> str:
        owner = author_urn(creds.account_id)
        answer = self.rest_json(creds, "POST", "images?action=initializeUpload",
                            json={"initializeUploadRequest": {"owner": owner}}, idempotent=True)  # fmt: skip
        value = answer.get("value") or {}
        upload_url, urn = str(value.get("uploadUrl") or ""), str(value.get("image") or "")
        if not upload_url or not urn:
            raise PermanentError("initializeUpload answered no uploadUrl or image", platform=PLATFORM)
        data = _download(item)
        token = bearer(creds.access_token) if self._linkedins(upload_url) else {}
        call(self.session, "PUT", upload_url, PLATFORM, data=data, timeout=UPLOAD_TIMEOUT,
             headers={**token, "Content-Type": "application/octet-stream"})  # fmt: skip
        logger.info("linkedin_image_uploaded", extra={"image": urn, "bytes": len(data)})
        return urn

    # -- video: initialize -> upload parts -> finalize -> wait until AVAILABLE ---------------------

    def _video(
        self,
        creds: AccountCredentials,
        request: PublishRequest,
        item: MediaItem,
        state: dict[str, str],
        budget: CallBudget,
    ) -> dict[str, Any] | PendingStep:
        progress = request.progress
        urn = progress.done(VIDEO)
        if urn is None:
            raw_plan = progress.done(VIDEO_INIT)
            if raw_plan is None:
                budget.spend(UPLOAD_TIMEOUT, TIMEOUT)  # the size, initialize
                size = media_range(item, 0, 0, PLATFORM, UPLOAD_TIMEOUT)[1]
                raw_plan = progress.step(VIDEO_INIT, partial(self._init_video, creds, size),
                                         idempotent=True)  # fmt: skip
            plan = json.loads(raw_plan)
            etags: list[str] = []
            for index, (first, last, url) in enumerate(plan["parts"]):
                etag = progress.done(video_part(index))
                if etag is None:
                    budget.spend(UPLOAD_TIMEOUT, UPLOAD_TIMEOUT)  # read the range, upload it
                    chunk = media_range(item, int(first), int(last), PLATFORM, UPLOAD_TIMEOUT)[0]
                    etag = progress.step(video_part(index), partial(self._upload_part, url, chunk),
                                         idempotent=True)  # fmt: skip
                etags.append(etag)
            budget.spend(TIMEOUT)
            finalize = {"video": plan["video"], "uploadToken": plan["token"], "uploadedPartIds": etags}
            urn = progress.step(VIDEO, partial(self._finalize, creds, finalize), idempotent=True)
        budget.spend(TIMEOUT)
        status = str(self.rest_json(creds, "GET", f"videos/{encoded_urn(urn)}").get("status") or "")
        if status == "AVAILABLE":
            return {"media": {"id": urn}}
        if status == "PROCESSING_FAILED":
            raise PermanentError(f"LinkedIn could not process the video ({urn}: {status})",
                                 platform=PLATFORM, code=status)  # fmt: skip
        polls = int(state.get("polls", "0")) + 1
        if polls > MAX_POLLS:
            raise PermanentError(f"LinkedIn video {urn} still {status or 'unknown'} after {polls} checks",
                                 platform=PLATFORM, code=status or None)  # fmt: skip
        return PendingStep(POLL_STEP, {"video": urn, "polls": str(polls)}, delay_seconds=POLL_DELAY_SECONDS)

    def _init_video(self, creds: AccountCredentials, size: int) -> str:
        """``initializeUpload`` for ``size`` bytes; what the upload needs, as the persisted plan (JSON)."""
        body = {"initializeUploadRequest": {"owner": author_urn(creds.account_id), "fileSizeBytes": size,
                                            "uploadCaptions": False, "uploadThumbnail": False}}  # fmt: skip
        value = self.rest_json(
            creds, "POST", "videos?action=initializeUpload", json=body, idempotent=True
        ).get("value")
        value = value if isinstance(value, dict) else {}
        urn = value.get("video")
        instructions = value.get("uploadInstructions")
        if not isinstance(urn, str) or not urn or not isinstance(instructions, list) or not instructions:
            raise PermanentError(
                "initializeUpload answered no video or uploadInstructions", platform=PLATFORM
            )
        planned = [
            [int(i["firstByte"]), int(i["lastByte"]), str(i["uploadUrl"])]
            for i in instructions
            if isinstance(i, dict)
        ]
        return json.dumps({"video": urn, "token": str(value.get("uploadToken") or ""), "parts": planned})

    def _upload_part(self, url: str, chunk: bytes) -> str:
        """PUT one byte range to its upload URL (signed: no token sent); the part's ETag."""
        resp = call(self.session, "PUT", url, PLATFORM, data=chunk, timeout=UPLOAD_TIMEOUT,
                    headers={"Content-Type": "application/octet-stream"})  # fmt: skip
        etag = resp.headers.get("ETag")
        if not etag:
            raise PermanentError("an uploaded video part was answered without an ETag", platform=PLATFORM)
        return etag

    def _finalize(self, creds: AccountCredentials, finalize: dict[str, Any]) -> str:
        self.rest(creds, "POST", "videos?action=finalizeUpload",
                   json={"finalizeUploadRequest": finalize}, idempotent=True)  # fmt: skip
        return str(finalize["video"])

    # -- the post ------------------------------------------------------------------------------------

    def _post(
        self, creds: AccountCredentials, request: PublishRequest, content: dict[str, Any] | None
    ) -> tuple[str, str]:
        body: dict[str, Any] = {
            "author": author_urn(creds.account_id),
            "commentary": little_text(commentary(request)),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            **({"content": content} if content else {}),
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        resp = self.rest(creds, "POST", "posts", json=body)
        urn = resp.headers.get("x-restli-id")
        if not urn:  # created (201) but not named: look for it rather than post again
            raise UnknownOutcome("LinkedIn answered 201 without x-restli-id", platform=PLATFORM)
        logger.info("linkedin_posted", extra={"target_id": request.target_id, "post": urn})
        return urn, post_url(urn)

    # -- verification --------------------------------------------------------------------------------

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        author = author_urn(creds.account_id)
        query = f"author={encoded_urn(author)}&q=author&count={LISTING_COUNT}&sortBy=LAST_MODIFIED"
        listing = self.rest_json(creds, "GET", f"posts?{query}")
        wanted = textlib.match_key(commentary(request))
        since_ms = parts.not_before(request).timestamp() * 1000
        for post in listing.get("elements") or []:
            if not isinstance(post, dict) or not isinstance(post.get("id"), str):
                continue
            if post.get("author", author) != author:
                continue
            if textlib.match_key(plain_text(str(post.get("commentary") or ""))) != wanted:
                continue
            created = post.get("createdAt") or post.get("publishedAt")
            if isinstance(created, int | float) and created < since_ms:
                continue
            return PublishResult(platform_post_id=post["id"], url=post_url(post["id"]))
        return None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        return None  # a LinkedIn post is one part

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        try:
            self.rest(
                creds,
                "DELETE",
                f"posts/{encoded_urn(platform_post_id)}",
                headers={"X-RestLi-Method": "DELETE"},
            )
        except PermanentError as exc:
            if isinstance(exc, AuthError) or exc.status != 404:
                raise
            logger.info("already_deleted", extra={"platform": PLATFORM, "object_id": platform_post_id})


def _article_title(link: str) -> str:
    """An article needs a title; without the page's own, its address (scheme dropped)."""
    return re.sub(r"^https?://", "", link).rstrip("/")[:400]


def _download(item: MediaItem) -> bytes:
    return fetch(
        item.url, field_name="media", platform=PLATFORM, deadline_s=timeout_seconds(UPLOAD_TIMEOUT)
    ).content
