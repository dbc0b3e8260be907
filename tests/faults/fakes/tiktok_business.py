"""TikTok API for Business (the business account's comments) on a FakePlatform, as
chorus.platforms.tiktok.comments calls it: the account's videos (``business/video/list``), each video's
comments (``business/comment/list``, newest first), a comment's replies (``business/comment/reply/list``)
and a reply made (``business/comment/reply/create``), every answer in the ``{code, message, request_id,
data}`` envelope; a wrong ``Access-Token`` is refused with code 40105. Records: ``comment`` (top-level
comments, added by a test with :meth:`TikTokBusiness.comment`) and ``reply`` (made by Chorus)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.faults.harness import FakePlatform, Request

PREFIX = "/open_api/v1.3"
VIDEO_LIST = f"{PREFIX}/business/video/list/"
COMMENT_LIST = f"{PREFIX}/business/comment/list/"
REPLY_LIST = f"{PREFIX}/business/comment/reply/list/"
REPLY_CREATE = f"{PREFIX}/business/comment/reply/create/"


def envelope(data: dict[str, Any], code: int = 0, message: str = "OK") -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": "2026120706000001", "data": data}


@dataclass
class TikTokBusiness:
    """The fake business account: its id, the token it accepts, its videos (newest first)."""

    platform: FakePlatform
    business_id: str
    token: str
    videos: list[str] = field(default_factory=lambda: ["7300000000000000001"])

    def comment(self, video_id: str, comment_id: str, text: str, at: datetime, user: str = "fan-1") -> None:
        self.platform.create("comment", {"id": comment_id, "video_id": video_id, "text": text,
                                         "create_time": str(int(at.timestamp())), "user_id": user,
                                         "username": f"@{user}", "owner": False, "status": "PUBLIC"})  # fmt: skip


def shown(record: dict[str, Any]) -> dict[str, Any]:
    return {"comment_id": record["id"], **{k: v for k, v in record.items() if k != "id"}}


def api_url(platform: FakePlatform) -> str:
    """What ``CHORUS_TIKTOK_BUSINESS_API_URL`` is set to for Chorus to call the fake."""
    return f"{platform.url}{PREFIX}"


def enable_comments(workspace_id: str, account_id: str, token: str, scopes: str) -> None:
    """The account's comments step done (its business grant stored as the OAuth callback stores it), for
    tests that start after it; tests/integration/test_tiktok_comments.py goes through the step itself."""
    from chorus.accounts import grants
    from chorus.accounts.service import get_account
    from chorus.accounts.tokens import TokenSet

    extra = get_account(workspace_id, account_id).extra
    grants.store_grant(workspace_id, account_id, TokenSet(token, "rft.business"), scopes, extra=extra)


def tiktok_business_platform(platform: FakePlatform, business_id: str, token: str) -> TikTokBusiness:
    knobs = TikTokBusiness(platform, business_id, token)

    def refused(req: Request) -> dict[str, Any] | None:
        if req.headers.get("Access-Token") != knobs.token:
            return envelope({}, 40105, "The access token is incorrect or has been revoked.")
        asked = req.query.get("business_id") or (req.json or {}).get("business_id")
        if asked != knobs.business_id:
            return envelope({}, 40002, "business_id is invalid")
        return None

    def video_list(req: Request, match: re.Match[str]) -> Any:
        return refused(req) or envelope(
            {"videos": [{"item_id": v} for v in knobs.videos], "cursor": 0, "has_more": False}
        )

    def newest_first(kind: str, keep: Any) -> list[dict[str, Any]]:
        found = [shown(c) for c in platform.records.get(kind, []) if keep(c)]
        return sorted(found, key=lambda c: int(c["create_time"]), reverse=True)

    def comment_list(req: Request, match: re.Match[str]) -> Any:
        video = req.query.get("video_id")
        return refused(req) or envelope(
            {
                "comments": newest_first("comment", lambda c: c["video_id"] == video),
                "cursor": 0,
                "has_more": False,
            }
        )

    def reply_list(req: Request, match: re.Match[str]) -> Any:
        parent = req.query.get("comment_id")
        return refused(req) or envelope(
            {"comments": newest_first("reply", lambda c: c["parent_comment_id"] == parent), "cursor": 0,
             "has_more": False}
        )  # fmt: skip

    def reply_create(req: Request, match: re.Match[str]) -> Any:
        no = refused(req)
        if no:
            return no
        body = req.json or {}
        if not any(c["id"] == body.get("comment_id") for c in platform.records.get("comment", [])):
            return envelope({}, 40002, "comment_id is invalid")
        number = len(platform.records.get("reply", [])) + 1
        made = platform.create("reply", {
            "id": f"74000000000000{number:05d}", "video_id": body.get("video_id"), "text": body.get("text"),
            "parent_comment_id": body.get("comment_id"), "create_time": str(int(datetime.now(UTC).timestamp())),
            "owner": True, "user_id": knobs.business_id, "status": "PUBLIC",
        })  # fmt: skip
        return envelope({"comment_id": made["id"], "video_id": made["video_id"],
                         "create_time": int(made["create_time"]), "text": made["text"]})  # fmt: skip

    platform.route("GET", VIDEO_LIST, video_list)
    platform.route("GET", COMMENT_LIST, comment_list)
    platform.route("GET", REPLY_LIST, reply_list)
    platform.route("POST", REPLY_CREATE, reply_create)
    return knobs
