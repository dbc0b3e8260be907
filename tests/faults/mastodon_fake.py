"""A Mastodon instance's publishing API on a FakePlatform, as documented (docs.joinmastodon.org, the
fixtures in platform_api/replies/mastodon): statuses with Idempotency-Key, v2 media with asynchronous
processing, account statuses and a status's context. Records: ``status`` and ``media``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tests.faults.harness import FakePlatform, Reply, Request

STATUSES = r"/api/v1/statuses"
ACCOUNT_STATUSES = r"/api/v1/accounts/([^/]+)/statuses"
CONTEXT = r"/api/v1/statuses/([^/]+)/context"
MEDIA = r"/api/v2/media"
MEDIA_ITEM = r"/api/v1/media/([^/]+)"
FILES = r"/media/(.+)"  # the media bucket the publisher's media URLs point at
ID_BASE = 113_000_000_000_000_000  # Mastodon ids are snowflake-like numbers, sent as strings


class MastodonFake:
    """The instance's state beside ``platform.records``: the keys it remembers, processing left."""

    def __init__(self, platform: FakePlatform, account_id: str = "acct-1", token: str = "tok-1") -> None:
        self.platform = platform
        self.account_id = account_id
        self.token = token
        self.keys: dict[str, str] = {}  # Idempotency-Key -> status id (the instance keeps it an hour)
        self.polls_before_processed = 0  # a v2 upload answers 202 and this many 206 polls follow

    def statuses(self) -> list[dict[str, Any]]:
        return self.platform.records.get("status", [])

    def thread(self) -> list[tuple[str, str | None]]:
        """(text, text of the status it replies to) of every status, in creation order."""
        by_id = {s["id"]: s for s in self.statuses()}
        return [
            (s["text"], by_id[s["in_reply_to_id"]]["text"] if s["in_reply_to_id"] else None)
            for s in self.statuses()
        ]

    # -- routes
    def install(self) -> MastodonFake:
        route = self.platform.route
        route("POST", STATUSES, self._post_status)
        route("GET", ACCOUNT_STATUSES, self._account_statuses)
        route("GET", CONTEXT, self._context)
        route("POST", MEDIA, self._upload)
        route("GET", MEDIA_ITEM, self._media)
        route("GET", FILES, lambda req, m: Reply(200, b"\xff\xd8 bytes of " + m.group(1).encode()))
        return self

    def _authorized(self, req: Request) -> bool:
        return req.headers.get("Authorization") == f"Bearer {self.token}"

    def _entity(self, status: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": status["id"],
            "created_at": status["created_at"],
            "in_reply_to_id": status["in_reply_to_id"],
            "content": f"<p>{status['text']}</p>",
            "url": f"{self.platform.url}/@me/{status['id']}",
            "account": {"id": self.account_id},
            "media_attachments": [{"id": m} for m in status["media_ids"]],
        }

    def _post_status(self, req: Request, match: re.Match[str]) -> Any:
        if not self._authorized(req):
            return Reply(401, {"error": "The access token is invalid"})
        body = req.json or {}
        key = req.headers.get("Idempotency-Key")
        if key and key in self.keys:  # a repeated request: the status made for this key
            return self._entity(next(s for s in self.statuses() if s["id"] == self.keys[key]))
        text, reply_to = str(body.get("status") or ""), body.get("in_reply_to_id")
        media_ids = [str(m) for m in body.get("media_ids") or []]
        if not text.strip() and not media_ids:
            return Reply(422, {"error": "Validation failed: Text can't be blank"})
        if reply_to and not any(s["id"] == reply_to for s in self.statuses()):
            return Reply(404, {"error": "Record not found"})
        media = {m["id"]: m for m in self.platform.records.get("media", [])}
        if any(m not in media or media[m]["polls_left"] > 0 for m in media_ids):
            return Reply(422, {"error": "Validation failed: media not processed yet"})
        with self.platform.lock:
            made = self.platform.create(
                "status",
                {
                    "id": str(ID_BASE + len(self.statuses()) + 1),
                    "text": text,
                    "in_reply_to_id": reply_to,
                    "media_ids": media_ids,
                    "idempotency_key": key,
                    "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                },
            )
            if key:
                self.keys[key] = made["id"]
        return self._entity(made)

    def _account_statuses(self, req: Request, match: re.Match[str]) -> Any:
        mine = [self._entity(s) for s in self.statuses()] if match.group(1) == self.account_id else []
        return Reply(200, list(reversed(mine))[: int(req.query.get("limit", "20"))])  # newest first

    def _context(self, req: Request, match: re.Match[str]) -> Any:
        by_parent: dict[str | None, list[dict[str, Any]]] = {}
        for status in self.statuses():
            by_parent.setdefault(status["in_reply_to_id"], []).append(status)
        if not any(s["id"] == match.group(1) for s in self.statuses()):
            return Reply(404, {"error": "Record not found"})
        below, queue = [], list(by_parent.get(match.group(1), []))
        while queue:
            status = queue.pop(0)
            below.append(self._entity(status))
            queue = by_parent.get(status["id"], []) + queue
        return {"ancestors": [], "descendants": below}

    def _upload(self, req: Request, match: re.Match[str]) -> Any:
        made = self.platform.create(
            "media",
            {
                "id": str(ID_BASE + 500 + len(self.platform.records.get("media", []))),
                "description": req.form.get("description"),
                "polls_left": self.polls_before_processed,
            },
        )
        if made["polls_left"] > 0:
            return Reply(202, {"id": made["id"], "type": "image", "url": None})
        return Reply(
            200, {"id": made["id"], "type": "image", "url": f"{self.platform.url}/files/{made['id']}"}
        )

    def _media(self, req: Request, match: re.Match[str]) -> Any:
        found = [m for m in self.platform.records.get("media", []) if m["id"] == match.group(1)]
        if not found:
            return Reply(404, {"error": "Record not found"})
        media = found[0]
        if media["polls_left"] > 0:
            media["polls_left"] -= 1
            return Reply(206, {"id": media["id"], "type": "image", "url": None})
        return Reply(
            200, {"id": media["id"], "type": "image", "url": f"{self.platform.url}/files/{media['id']}"}
        )
