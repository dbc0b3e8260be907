"""Publish articles on a WeChat Official Account through the draft box, as persisted steps, exactly once.

A Chorus post becomes one news article (``article_type: news``,
``fixtures/platform_api/china/wechat/draft_add_request_*.json``): the post's title, else its first line,
is the title (WeChat: at most 32 characters), the rest the content (HTML paragraphs, at most 20,000 characters), the first
image the cover and the others images in the content, the link the article's "read more"
(``content_source_url``); the post's WeChat options give the ``digest`` (128 characters), ``author`` (16)
and whether comments are open (``open_comment``, ``fans_only_comment``). Steps, each persisted before
the next (``request.progress``):

1. ``image:<n>``: ``POST /cgi-bin/material/add_material?type=image`` (multipart ``media``) per image:
   a permanent material, its ``media_id`` and ``url`` recorded (the cover's ``media_id`` is the article's
   ``thumb_media_id``; the others' ``url`` are used in the content: WeChat filters images from outside
   its own domains). Repeating an upload only adds an unused material: safe to repeat.
2. ``draft``: ``POST /cgi-bin/draft/add`` ``{articles: [...]}`` -> the draft's ``media_id``. The body is
   sent as UTF-8 JSON without ``\\uXXXX`` escapes (WeChat: "注意不要使用Unicode转义格式"). A lost answer is
   repeated: at worst one unused draft stays in the draft box, never published.
3. root ``"0"``: ``POST /cgi-bin/freepublish/submit`` ``{media_id}`` -> ``publish_id`` (a string), persisted
   before anything else. ``errcode 0`` only means the publish job was accepted. Not safe to repeat: a
   lost answer is verified (:meth:`WeChatPublisher.find_published`), never submitted again blindly.
4. ``POST /cgi-bin/freepublish/get`` ``{publish_id}`` as steps (``PendingStep("poll")`` every
   ``POLL_DELAY_SECONDS``, at most ``MAX_POLLS``) until ``publish_status`` is final: 0 is published
   (``article_id``, and ``article_detail.item[0].article_url`` recorded on the target); 1 is publishing
   (poll again); 2 原创 check failed, 3 failed, 4 rejected by review, 5 deleted, 6 banned fail the target
   with the reason (``fail_idx``, 1-based, named where given).

Verification: ``POST /cgi-bin/freepublish/batchget {offset: 0, count: 20, no_content: 1}`` lists the
account's published articles; an article with the same title updated since the target started is the
one submitted. WeChat lists an article only once it is published, so a job still publishing is looked
for again (the publisher looks several times, minutes apart) before the submit is repeated.

Only verified (认证) accounts may publish (48001 otherwise); every ``errcode`` is read by the one table
of :mod:`chorus.platforms.wechat.errors` (45009: the target waits until the daily quota resets). The
access token is the AppID's shared one (:mod:`chorus.platforms.wechat.token`).
"""

from __future__ import annotations

import html
import json
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
    MediaItem,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
)
from chorus.platforms.budget import CALL_REQUESTS, CallBudget, OutOfBudget, requests_budget, timeout_seconds
from chorus.platforms.http import DEFAULT_TIMEOUT, call, json_body
from chorus.platforms.stepped import SteppedPublisher
from chorus.platforms.wechat.errors import raise_for_errcode
from chorus.platforms.wechat.token import AccessTokens, SharedTokenUser, api_url, with_token
from chorus.posts.validation import title_and_body

logger = logging.getLogger(__name__)

PLATFORM = "wechat"
TIMEOUT = DEFAULT_TIMEOUT
UPLOAD_TIMEOUT = DEFAULT_TIMEOUT
DRAFT = "draft"
POLL_STEP = "poll"
CONTINUE_STEP = "continue"
CONTINUE_DELAY_S = 1
POLL_DELAY_SECONDS = 30
MAX_POLLS = 40
"""freepublish/get reads (every ``POLL_DELAY_SECONDS``: 20 minutes; 100 a day are allowed) before the
target fails."""
LISTING_COUNT = 20
TITLE_MAX = 32
PUBLISHED, PUBLISHING = 0, 1
FINAL_FAILURES = {
    2: "the originality (原创) check failed",
    3: "publishing failed",
    4: "the platform's review rejected it",
    5: "it was published, then all its articles were deleted by the account",
    6: "it was published, then banned by the platform",
}


def image_part(index: int) -> str:
    return f"image:{index}"


def content_html(body: str, image_urls: list[str]) -> str:
    """The article's HTML: each paragraph (blank-line separated) a ``<p>`` with its line breaks, escaped,
    then each further image."""
    paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    written = [
        "<p>" + "<br/>".join(html.escape(line) for line in p.strip().splitlines()) + "</p>"
        for p in paragraphs
    ]
    written += [f'<p><img src="{html.escape(url, quote=True)}"/></p>' for url in image_urls]
    return "".join(written)


def _answer(resp: requests.Response, what: str) -> dict[str, Any]:
    body = json_body(resp, PLATFORM)
    raise_for_errcode(body, what)
    return body if isinstance(body, dict) else {}


class WeChatPublisher(SharedTokenUser, SteppedPublisher):
    name = PLATFORM
    label = "WeChat"
    steps = (POLL_STEP, CONTINUE_STEP)
    request_budget_s: float = requests_budget(CALL_REQUESTS, TIMEOUT)

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        tokens: AccessTokens | None = None,
    ) -> None:
        self.session = session or requests.Session()
        self._base_url = base_url
        self._tokens = tokens

    @property
    def base_url(self) -> str:
        return (self._base_url or api_url()).rstrip("/")

    def _call(
        self, creds: AccountCredentials, what: str, path: str, *, idempotent: bool = False, **kw: Any
    ) -> dict[str, Any]:
        """One API call with the account's token (fetched again and repeated once when stale), its
        ``errcode`` read by the table."""
        base = self.base_url
        extra_params = kw.pop("params", {})

        def send(token: str) -> dict[str, Any]:
            params = {"access_token": token, **extra_params}
            resp = call(self.session, "POST", f"{base}/cgi-bin/{path}", PLATFORM, params=params,
                        idempotent=idempotent, **kw)  # fmt: skip
            return _answer(resp, what)

        return with_token(self.tokens, base, creds, send)

    def _json_call(
        self,
        creds: AccountCredentials,
        what: str,
        path: str,
        body: dict[str, Any],
        *,
        idempotent: bool = False,
    ) -> dict[str, Any]:
        """A JSON call, its body UTF-8 without ``\\uXXXX`` escapes (WeChat would show them as written)."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return self._call(creds, what, path, idempotent=idempotent, data=data, headers=headers)

    # -- publishing ----------------------------------------------------------------------------------

    def refuse(self, creds: AccountCredentials, request: PublishRequest) -> None:
        if request.reply_to or request.thread or request.first_comment:
            raise PermanentError(
                "a WeChat article has no replies, thread parts or first comment here", platform=PLATFORM
            )
        if not request.media:
            raise PermanentError("a WeChat article needs a cover image", platform=PLATFORM)
        if any(not m.mime_type.startswith("image/") for m in request.media):
            raise PermanentError("a WeChat article takes images only", platform=PLATFORM)

    def run(
        self, creds: AccountCredentials, request: PublishRequest, state: dict[str, str], budget: CallBudget
    ) -> PublishResult | PendingStep:
        progress = request.progress
        try:
            publish_id = progress.done(ROOT)
            if publish_id is None:
                draft: str | None = None
                if not parts.unanswered(request, ROOT):  # else the step below raises UnknownOutcome: verified
                    draft = self._draft(creds, request, budget)
                budget.spend(TIMEOUT)
                publish_id = progress.step(ROOT, partial(self._submit, creds, request, draft))
                return PendingStep(POLL_STEP, {"polls": "0"}, delay_seconds=POLL_DELAY_SECONDS)
            budget.spend(TIMEOUT)
            return self._poll(creds, publish_id, int(state.get("polls", "0")))
        except OutOfBudget:
            return PendingStep(CONTINUE_STEP, dict(state), delay_seconds=CONTINUE_DELAY_S)

    def _draft(self, creds: AccountCredentials, request: PublishRequest, budget: CallBudget) -> str:
        progress = request.progress
        images: list[dict[str, str]] = []
        for index, item in enumerate(request.media):
            raw = progress.done(image_part(index))
            if raw is None:
                budget.spend(UPLOAD_TIMEOUT, UPLOAD_TIMEOUT)  # download, upload
                raw = progress.step(image_part(index), partial(self._upload, creds, item), idempotent=True)
            images.append(json.loads(raw))
        draft = progress.done(DRAFT)
        if draft is None:
            budget.spend(TIMEOUT)
            article = self.article(request, images)
            draft = progress.step(DRAFT, partial(self._add_draft, creds, article), idempotent=True)
        return draft

    def _upload(self, creds: AccountCredentials, item: MediaItem) -> str:
        """A permanent image material: ``{"media_id", "url"}`` (JSON, as the part records it)."""
        data = fetch(
            item.url, field_name="media", platform=PLATFORM, deadline_s=timeout_seconds(UPLOAD_TIMEOUT)
        ).content
        extension = item.mime_type.split("/")[-1].replace("jpeg", "jpg")
        answer = self._call(creds, "the image", "material/add_material", idempotent=True, params={"type": "image"},
                            files={"media": (f"image.{extension}", data, item.mime_type)},
                            timeout=UPLOAD_TIMEOUT)  # fmt: skip
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise PermanentError("add_material answered no media_id", platform=PLATFORM)
        return json.dumps({"media_id": media_id, "url": str(answer.get("url") or "")})

    @staticmethod
    def article(request: PublishRequest, images: list[dict[str, str]]) -> dict[str, Any]:
        """The draft's one news article (``images``: the uploaded materials, the cover first)."""
        title, body = title_and_body(request.text, request.title)
        options = request.options
        article: dict[str, Any] = {
            "article_type": "news",
            "title": title,
            **{name: options[name] for name in ("author", "digest") if options.get(name)},
            "content": content_html(body, [i["url"] for i in images[1:] if i.get("url")]),
            "thumb_media_id": images[0]["media_id"],
            "need_open_comment": int(options.get("open_comment") == "true"),
            "only_fans_can_comment": int(options.get("fans_only_comment") == "true"),
        }
        if request.link:
            article["content_source_url"] = request.link
        return article

    def _add_draft(self, creds: AccountCredentials, article: dict[str, Any]) -> str:
        answer = self._json_call(creds, "the draft", "draft/add", {"articles": [article]}, idempotent=True)
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise PermanentError("draft/add answered no media_id", platform=PLATFORM)
        return media_id

    def _submit(self, creds: AccountCredentials, request: PublishRequest, draft: str | None) -> str:
        if draft is None:  # unreachable: a root sent without an answer is verified, not submitted again
            raise PermanentError("no draft to submit", platform=PLATFORM)
        answer = self._json_call(creds, "publishing", "freepublish/submit", {"media_id": draft})
        publish_id = answer.get("publish_id")
        if publish_id is None or str(publish_id) == "":
            raise PermanentError("freepublish/submit answered no publish_id", platform=PLATFORM)
        logger.info("wechat_submitted", extra={"target_id": request.target_id, "publish_id": str(publish_id)})
        return str(publish_id)

    def _poll(self, creds: AccountCredentials, publish_id: str, polls: int) -> PublishResult | PendingStep:
        answer = self._json_call(creds, "the publish status", "freepublish/get", {"publish_id": publish_id},
                                 idempotent=True)  # fmt: skip
        status = answer.get("publish_status")
        if status == PUBLISHED:
            items = (answer.get("article_detail") or {}).get("item") or []
            url = next(
                (str(i["article_url"]) for i in items if isinstance(i, dict) and i.get("article_url")), None
            )
            article_id = answer.get("article_id")
            return PublishResult(platform_post_id=str(article_id or publish_id), url=url)
        if status == PUBLISHING:
            if polls + 1 >= MAX_POLLS:
                raise PermanentError(f"WeChat still publishing {publish_id} after {polls + 1} checks",
                                     platform=PLATFORM, code="1")  # fmt: skip
            return PendingStep(POLL_STEP, {"polls": str(polls + 1)}, delay_seconds=POLL_DELAY_SECONDS)
        reason = (
            FINAL_FAILURES.get(status, f"unknown publish_status {status!r}")
            if isinstance(status, int)
            else (f"unknown publish_status {status!r}")
        )
        failed = [i for i in answer.get("fail_idx") or [] if isinstance(i, int)]
        if failed:
            reason += " (article " + ", ".join(str(i) for i in failed) + ")"
        raise PermanentError(
            f"WeChat did not publish the article: {reason}", platform=PLATFORM, code=str(status)
        )

    # -- verification --------------------------------------------------------------------------------

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        listing = self._json_call(creds, "the published articles", "freepublish/batchget",
                                  {"offset": 0, "count": LISTING_COUNT, "no_content": 1}, idempotent=True)  # fmt: skip
        title = title_and_body(request.text, request.title)[0]
        since = parts.not_before(request).timestamp()
        for entry in listing.get("item") or []:
            if not isinstance(entry, dict) or not entry.get("article_id"):
                continue
            updated = entry.get("update_time")
            if isinstance(updated, int | float) and updated < since:
                continue
            news = ((entry.get("content") or {}).get("news_item")) or []
            first = news[0] if news and isinstance(news[0], dict) else {}
            if first.get("title") == title:
                return PublishResult(platform_post_id=str(entry["article_id"]), url=first.get("url") or None)
        return None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        return None  # an article is one part

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        """``POST /cgi-bin/freepublish/delete {article_id}`` (10 a day)."""
        self._json_call(
            creds, "the deletion", "freepublish/delete", {"article_id": platform_post_id}, idempotent=True
        )
