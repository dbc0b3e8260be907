"""The sandbox platform's publishing API on a FakePlatform (what SandboxPublisher calls), so the
publisher's part-by-part behaviour is tested through a real adapter against scripted faults."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tests.faults.harness import FakePlatform, Reply, Request

POSTS = r"/api/accounts/([^/]+)/posts"


def sandbox_routes(platform: FakePlatform) -> None:
    """POST creates a ``post`` record (text, reply_to, client_ref, idem_key); GET lists the account's posts."""

    def create(req: Request, match: re.Match[str]) -> Any:
        body = req.json or {}
        if not str(body.get("text", "")).strip() and not body.get("media"):
            return Reply(400, {"error": "validation", "message": "text or media is required"})
        made = platform.create(
            "post",
            {
                "account": match.group(1),
                "text": body.get("text", ""),
                "reply_to": body.get("reply_to"),
                "client_ref": body.get("client_ref"),
                "idem_key": body.get("idem_key"),
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            },
        )
        made["url"] = f"{platform.url}/p/{made['id']}"
        return Reply(201, {k: made[k] for k in ("id", "url", "created_at")})

    def listing(req: Request, match: re.Match[str]) -> Any:
        posts = [p for p in platform.records.get("post", []) if p["account"] == match.group(1)]
        reply_to = req.query.get("reply_to")
        if reply_to:
            posts = [p for p in posts if p["reply_to"] == reply_to]
        return {"posts": posts}

    platform.route("POST", POSTS, create)
    platform.route("GET", POSTS, listing)
