"""TikTok API for Business (the business account's comments) on a FakePlatform, as
chorus.platforms.tiktok.comments calls it: the account's videos (``business/video/list``), each video's
comments (``business/comment/list``, newest first), a comment's replies (``business/comment/reply/list``)
and a reply made (``business/comment/reply/create``), and the account holder's authorisation of the
business app (``tt_user/oauth2/token``, ``refresh_token``, ``token_info/get``, ``revoke``), every answer in the
``{code, message, request_id, data}`` envelope; a wrong ``Access-Token`` is refused with code 40105. Records: ``comment`` (top-level
comments, added by a test with :meth:`TikTokBusiness.comment`), ``reply`` (made by Chorus) and ``revoke``
(an access token revoked)."""

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
TOKEN = f"{PREFIX}/tt_user/oauth2/token/"
REFRESH = f"{PREFIX}/tt_user/oauth2/refresh_token/"
TOKEN_INFO = f"{PREFIX}/tt_user/token_info/get/"
REVOKE = f"{PREFIX}/tt_user/oauth2/revoke/"
APP_ID, APP_SECRET = "biz-app", "biz-secret"


def envelope(data: dict[str, Any], code: int = 0, message: str = "OK") -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": "2026120706000001", "data": data}


@dataclass
class TikTokBusiness:
    """The fake business account: its id, the token it accepts, its videos (newest first); the account
    holder's authorisation of the business app (``APP_ID``): ``scopes`` granted, and ``codes`` (an
    ``auth_code`` -> the open_id it authorises: the business account unless a test says otherwise)."""

    platform: FakePlatform
    business_id: str
    token: str
    videos: list[str] = field(default_factory=lambda: ["7300000000000000001"])
    scopes: str = "user.info.basic,video.list,comment.list,comment.list.manage"
    codes: dict[str, str] = field(default_factory=dict)

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

    def granted(open_id: str) -> dict[str, Any]:
        access = knobs.token if open_id == knobs.business_id else f"act.{open_id}"
        return envelope({"access_token": access, "expires_in": 86400, "open_id": open_id,
                         "refresh_token": f"rft.{open_id}", "refresh_token_expires_in": 31536000,
                         "scope": knobs.scopes, "token_type": "Bearer"})  # fmt: skip

    def app_refused(body: dict[str, Any]) -> dict[str, Any] | None:
        if (body.get("client_id"), body.get("client_secret")) != (APP_ID, APP_SECRET):
            return envelope({}, 40001, "client_id or client_secret is invalid")
        return None

    def token(req: Request, match: re.Match[str]) -> Any:
        body = req.json or {}
        no = app_refused(body)
        if no or body.get("grant_type") != "authorization_code" or not body.get("redirect_uri"):
            return no or envelope({}, 40002, "grant_type or redirect_uri is invalid")
        code = str(body.get("auth_code") or "")
        if not code.startswith("biz-code"):
            return envelope({}, 40002, "auth_code is invalid")
        return granted(knobs.codes.get(code, knobs.business_id))

    def refresh(req: Request, match: re.Match[str]) -> Any:
        body = req.json or {}
        no = app_refused(body)
        held = str(body.get("refresh_token") or "")
        if no or body.get("grant_type") != "refresh_token" or not held.startswith("rft."):
            return no or envelope({}, 40105, "The refresh token is invalid.")
        return granted(held.removeprefix("rft."))

    def token_info(req: Request, match: re.Match[str]) -> Any:
        body = req.json or {}
        access = str(body.get("access_token") or "")
        if body.get("app_id") != APP_ID or not access:
            return envelope({}, 40002, "app_id or access_token is invalid")
        creator = knobs.business_id if access == knobs.token else access.removeprefix("act.")
        return envelope({"app_id": APP_ID, "creator_id": creator, "scope": knobs.scopes})

    def revoke(req: Request, match: re.Match[str]) -> Any:
        body = req.json or {}
        no = app_refused(body)
        access = str(body.get("access_token") or "")
        if no or not access.startswith("act."):
            return no or envelope({}, 40105, "The access token is incorrect or has been revoked.")
        platform.create("revoke", {"access_token": access})
        return envelope({})

    platform.route("POST", TOKEN, token)
    platform.route("POST", REVOKE, revoke)
    platform.route("POST", REFRESH, refresh)
    platform.route("POST", TOKEN_INFO, token_info)
    platform.route("GET", VIDEO_LIST, video_list)
    platform.route("GET", COMMENT_LIST, comment_list)
    platform.route("GET", REPLY_LIST, reply_list)
    platform.route("POST", REPLY_CREATE, reply_create)
    return knobs
