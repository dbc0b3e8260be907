"""Adapter for the local sandbox platform (see ``server.py``): same interface, same ``requests`` calls
and the same error mapping as the real platforms' adapters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from chorus.platforms.base import (
    COMMENT,
    ROOT,
    AccountCredentials,
    MetricPoint,
    MetricScope,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
    TimelinePost,
    newest_first,
    thread_part,
    timeline_time,
)
from chorus.platforms.http import call, json_body

PLATFORM = "sandbox"


class SandboxPublisher:
    name = PLATFORM

    def __init__(
        self, session: requests.Session | None = None, base_url: str | None = None, timeout_s: float = 5.0
    ) -> None:
        self._session = session or requests.Session()
        self._base_url = base_url
        self._timeout = (2.0, timeout_s)

    def _url(self, creds: AccountCredentials, path: str) -> str:
        base = creds.base_url or self._base_url
        if not base:
            raise PermanentError("the sandbox platform is not running (local only)", platform=PLATFORM)
        return base.rstrip("/") + path

    def _request(self, creds: AccountCredentials, method: str, path: str, **kw: Any) -> Any:
        resp = call(
            self._session,
            method,
            self._url(creds, path),
            PLATFORM,
            headers={"Authorization": f"Bearer {creds.access_token}"},
            timeout=self._timeout,
            **kw,
        )
        return json_body(resp, PLATFORM)

    def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | PendingStep:
        """Root, thread parts (each a reply to the one before) and first comment (a reply to the root),
        each created once through ``request.progress`` and tagged with its persisted ``idem_key``."""
        progress = request.progress
        root = progress.step(
            ROOT,
            self._create(
                creds,
                request,
                ROOT,
                text=request.text + (f" {request.link}" if request.link else ""),
                media=[m.url for m in request.media],
                reply_to=request.reply_to,
                client_ref=request.target_id,
            ),
        )
        parts: list[str] = []
        parent = root
        for number, text in enumerate(request.thread, start=1):
            part = thread_part(number)
            parent = progress.step(part, self._create(creds, request, part, text=text, reply_to=parent))
            parts.append(parent)
        if request.first_comment:
            parts.append(
                progress.step(
                    COMMENT, self._create(creds, request, COMMENT, text=request.first_comment, reply_to=root)
                )
            )
        return PublishResult(root, progress.root_url, tuple(parts))

    def _create(
        self, creds: AccountCredentials, request: PublishRequest, part: str, **body: Any
    ) -> Callable[[], tuple[str, str | None]]:
        def create() -> tuple[str, str | None]:
            body["idem_key"] = request.progress.idempotency_key(part)
            made = self._request(creds, "POST", f"/api/accounts/{creds.account_id}/posts", json=body)
            return str(made["id"]), made.get("url")

        return create

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        raise PermanentError(f"sandbox has no asynchronous step {step.step!r}", platform=PLATFORM)

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        found = self._find(creds, request, ROOT)
        return PublishResult(str(found["id"]), found.get("url")) if found else None

    def find_part(self, creds: AccountCredentials, request: PublishRequest, part: str) -> str | None:
        found = self._find(creds, request, part)
        return str(found["id"]) if found else None

    def _find(self, creds: AccountCredentials, request: PublishRequest, part: str) -> dict[str, Any] | None:
        """The account's post carrying ``part``'s persisted idempotency key, made since ``not_before``."""
        since = request.not_before.strftime("%Y-%m-%dT%H:%M:%S") if request.not_before else ""
        found = self._request(
            creds, "GET", f"/api/accounts/{creds.account_id}/posts", params={"since": since}
        )
        key = request.progress.idempotency_key(part)
        return next((p for p in found["posts"] if p.get("idem_key") == key), None)

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        self._request(creds, "DELETE", f"/api/posts/{platform_post_id}")

    # metrics (collector interface)
    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        from datetime import UTC, datetime

        info = self._request(creds, "GET", f"/api/accounts/{creds.account_id}")
        now = datetime.now(UTC)
        return [MetricPoint(MetricScope.ACCOUNT, creds.account_id, "followers", int(info["followers"]), now)]

    def recent_posts(self, creds: AccountCredentials, since: datetime) -> list[TimelinePost]:
        """The account's posts since ``since`` (the same listing ``find_published`` reads), replies too."""
        found = self._request(
            creds,
            "GET",
            f"/api/accounts/{creds.account_id}/posts",
            params={"since": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")},
        )
        posts = []
        for post in found.get("posts") or []:
            published = timeline_time(post.get("created_at"))
            if published is not None:
                posts.append(
                    TimelinePost(str(post["id"]), published, str(post.get("text") or ""), post.get("url"))
                )
        return newest_first(posts, since)

    def post_metrics(self, creds: AccountCredentials, platform_post_ids: list[str]) -> list[MetricPoint]:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        points: list[MetricPoint] = []
        for post_id in platform_post_ids:
            counts = self._request(creds, "GET", f"/api/posts/{post_id}/metrics")
            points += [
                MetricPoint(MetricScope.POST, post_id, metric, int(counts[metric]), now)
                for metric in ("impressions", "likes", "comments", "shares")
                if metric in counts
            ]
        return points
