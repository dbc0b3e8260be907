"""Adapter for the local sandbox platform (see ``server.py``): same interface, same ``requests`` calls
and the same error mapping as the real platforms' adapters."""

from __future__ import annotations

from typing import Any

import requests

from chorus.platforms.base import (
    AccountCredentials,
    MetricPoint,
    MetricScope,
    PendingStep,
    PermanentError,
    PublishRequest,
    PublishResult,
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
        body = {
            "text": request.text + (f" {request.link}" if request.link else ""),
            "media": [m.url for m in request.media],
            "reply_to": request.reply_to,
            "client_ref": request.target_id,
        }
        first = self._request(creds, "POST", f"/api/accounts/{creds.account_id}/posts", json=body)
        parts: list[str] = []
        parent = first["id"]
        for part in request.thread:
            made = self._request(
                creds,
                "POST",
                f"/api/accounts/{creds.account_id}/posts",
                json={"text": part, "reply_to": parent},
            )
            parts.append(made["id"])
            parent = made["id"]
        if request.first_comment:
            made = self._request(
                creds,
                "POST",
                f"/api/accounts/{creds.account_id}/posts",
                json={"text": request.first_comment, "reply_to": first["id"]},
            )
            parts.append(made["id"])
        return PublishResult(first["id"], first.get("url"), tuple(parts))

    def continue_publish(
        self, creds: AccountCredentials, request: PublishRequest, step: PendingStep
    ) -> PublishResult | PendingStep:
        raise PermanentError(f"sandbox has no asynchronous step {step.step!r}", platform=PLATFORM)

    def find_published(self, creds: AccountCredentials, request: PublishRequest) -> PublishResult | None:
        since = request.not_before.strftime("%Y-%m-%dT%H:%M:%S") if request.not_before else ""
        found = self._request(
            creds, "GET", f"/api/accounts/{creds.account_id}/posts", params={"since": since}
        )
        for post in found["posts"]:
            if post.get("client_ref") == request.target_id:
                return PublishResult(post["id"], post.get("url"))
        return None

    def delete(self, creds: AccountCredentials, platform_post_id: str) -> None:
        self._request(creds, "DELETE", f"/api/posts/{platform_post_id}")

    # metrics (collector interface)
    def account_metrics(self, creds: AccountCredentials) -> list[MetricPoint]:
        from datetime import UTC, datetime

        info = self._request(creds, "GET", f"/api/accounts/{creds.account_id}")
        now = datetime.now(UTC)
        return [MetricPoint(MetricScope.ACCOUNT, creds.account_id, "followers", int(info["followers"]), now)]

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
