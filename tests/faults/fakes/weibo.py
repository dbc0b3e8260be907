"""Weibo open API v2 on a FakePlatform, as Chorus calls it. Shapes follow
``fixtures/platform_api/china/weibo``: the share answer (a Status with ``idstr`` / ``mid`` and a numeric
``id`` that differs, as documented), ``{error, error_code, request}`` errors (10017 without a safe-domain
link, 20019 repeated content), the cursored comments list, the reply answer, ``statuses/count``,
``account/rate_limit_status`` and the OAuth answers (``uid`` and a string ``expires_in``). Links in a
status are kept as t.cn short links, as Weibo shows them. A picture is served at ``/files/cup.png``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.faults.harness import FakePlatform, Reply, Request

UID = "1902538057"
APP_KEY = "weibo-app"
SAFE_DOMAIN = "chorus-cafe.example"
RIP = "203.0.113.7"
SHARE = r"/2/statuses/share\.json"
TIMELINE = r"/2/statuses/user_timeline\.json"
TO_ME = r"/2/comments/to_me\.json"
MENTIONS = r"/2/comments/mentions\.json"
REPLY = r"/2/comments/reply\.json"
SHOW = r"/2/comments/show\.json"
COUNT = r"/2/statuses/count\.json"
LIMITS = r"/2/account/rate_limit_status\.json"
USERS_SHOW = r"/2/users/show\.json"
TOKEN_PATH = r"/oauth2/access_token"
TOKEN_INFO = r"/oauth2/get_token_info"
PICTURE = "/files/cup.png"
SHORT_LINK = "http://t.cn/A6ZxYq1B"  # every link, as Weibo shows it
PICTURE_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
_LINK = re.compile(r"https?://\S+")


def weibo_error(code: int, message: str, path: str = "/2/statuses/share.json") -> dict[str, Any]:
    return {"error": message, "error_code": code, "request": path}


def weibo_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


@dataclass
class Weibo:
    """Knobs of the fake account: the token it accepts, the reset rate_limit_status reports, and the
    timeline reads that still miss a new status (Weibo's listing lagging)."""

    token: str = "weibo-token"
    reset_in: int = 2295
    timeline_lag: int = 0
    next_id: list[int] = field(default_factory=lambda: [4950000000000001])

    def new_id(self) -> str:
        self.next_id[0] += 1
        return str(self.next_id[0])


def user(uid: str = UID, name: str = "Chorus Café") -> dict[str, Any]:
    return {"id": int(uid), "idstr": uid, "screen_name": name, "name": name, "domain": "choruscafe",
            "followers_count": 337, "friends_count": 534, "statuses_count": 516}  # fmt: skip


def weibo_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Weibo:
    """Statuses (``status`` records), comments (``comment`` records: on the account's statuses, or
    mentioning it, ``feed`` says which) and replies (``comment`` records with ``reply_comment``)."""
    from chorus.accounts.apps import get_apps

    monkeypatch.setenv("CHORUS_WEIBO_API_URL", platform.url)
    monkeypatch.setenv("CHORUS_WEIBO_SAFE_DOMAIN", SAFE_DOMAIN)
    monkeypatch.setenv("CHORUS_WEIBO_RIP", RIP)
    get_apps.cache_clear()  # type: ignore[attr-defined]
    knobs = Weibo()

    def authorised(req: Request) -> bool:
        return req.headers.get("Authorization") == f"OAuth2 {knobs.token}"

    def expired(path: str) -> Reply:
        return Reply(400, weibo_error(21327, "expired_token", path))

    def share(req: Request, match: re.Match[str]) -> Any:
        if not authorised(req):
            return expired("/2/statuses/share.json")
        text = req.form.get("status", "")
        if not any(SAFE_DOMAIN in link for link in _LINK.findall(text)):
            return Reply(400, weibo_error(10017, "text not find domain!"))
        shown = _LINK.sub(SHORT_LINK, text)
        if any(s["text"] == shown for s in platform.records.get("status", [])):
            return Reply(400, weibo_error(20019, "repeat content!"))
        number = knobs.new_id()
        made = platform.create("status", {
            "created_at": weibo_time(datetime.now(UTC)), "id": int(number) - 2730, "mid": number, "idstr": number,
            "text": shown, "rip": req.form.get("rip"), "pic": PICTURE_BYTES in req.body,
            "reposts_count": 0, "comments_count": 0, "attitudes_count": 0, "user": user(),
        })  # fmt: skip
        return made

    def timeline(req: Request, match: re.Match[str]) -> Any:
        if not authorised(req):
            return expired("/2/statuses/user_timeline.json")
        shown = list(reversed(platform.records.get("status", [])))
        if knobs.timeline_lag > 0:
            knobs.timeline_lag -= 1
            shown = shown[1:]
        return {"statuses": shown[: int(req.query.get("count", "20"))], "total_number": len(shown)}

    def listed(feed: str) -> Any:
        def answer(req: Request, match: re.Match[str]) -> Any:
            if not authorised(req):
                return expired(f"/2/comments/{feed}.json")
            since = int(req.query.get("since_id", "0"))
            count, page = int(req.query.get("count", "50")), int(req.query.get("page", "1"))
            found = [
                c
                for c in platform.records.get("comment", [])
                if c["feed"] == feed and int(c["idstr"]) > since
            ]
            found.sort(key=lambda c: int(c["idstr"]), reverse=True)
            shown = [
                {k: v for k, v in c.items() if k != "feed"} for c in found[(page - 1) * count : page * count]
            ]
            return {"comments": shown, "previous_cursor": 0, "next_cursor": 0, "total_number": len(found)}

        return answer

    def reply(req: Request, match: re.Match[str]) -> Any:
        if not authorised(req):
            return expired("/2/comments/reply.json")
        answered = next(
            (c for c in platform.records.get("comment", []) if c["idstr"] == req.form.get("cid")), None
        )
        if answered is None or answered["status"]["idstr"] != req.form.get("id"):
            return Reply(400, weibo_error(20003, "target comment does not exist!", "/2/comments/reply.json"))
        number = knobs.new_id()
        return platform.create("comment", {
            "created_at": weibo_time(datetime.now(UTC)), "id": int(number), "idstr": number, "feed": "by_me",
            "text": f"回复@{answered['user']['screen_name']}:{req.form.get('comment', '')}", "user": user(),
            "status": answered["status"], "reply_comment": {k: v for k, v in answered.items() if k != "feed"},
        })  # fmt: skip

    def show(req: Request, match: re.Match[str]) -> Any:
        found = [
            c for c in platform.records.get("comment", []) if c["status"]["idstr"] == req.query.get("id")
        ]
        shown = [{k: v for k, v in c.items() if k != "feed"} for c in reversed(found)]
        return {"comments": shown, "previous_cursor": 0, "next_cursor": 0, "total_number": len(shown)}

    def count(req: Request, match: re.Match[str]) -> Any:
        wanted = req.query.get("ids", "").split(",")
        return [{"id": int(s["idstr"]), "comments": str(s["comments_count"]), "reposts": s["reposts_count"],
                 "attitudes": s["attitudes_count"]}
                for s in platform.records.get("status", []) if s["idstr"] in wanted]  # fmt: skip

    def limits(req: Request, match: re.Match[str]) -> Any:
        return {"ip_limit": 1000, "limit_time_unit": "HOURS", "remaining_ip_hits": 999, "remaining_user_hits": 0,
                "reset_time": "2026-12-07 18:00:00", "reset_time_in_seconds": knobs.reset_in, "user_limit": 150}  # fmt: skip

    def token(req: Request, match: re.Match[str]) -> Any:
        if req.form.get("code") != "wb-good" or req.form.get("client_id") != APP_KEY:
            return Reply(
                400, {"error": "invalid_grant", "error_code": 21325, "error_description": "invalid code"}
            )
        return {"access_token": knobs.token, "expires_in": "157679999", "remind_in": "157679999", "uid": UID}

    def token_info(req: Request, match: re.Match[str]) -> Any:
        if req.form.get("access_token") != knobs.token:
            return Reply(400, weibo_error(21327, "expired_token", "/oauth2/get_token_info"))
        return {
            "uid": int(UID),
            "appkey": APP_KEY,
            "scope": None,
            "create_at": 1352267591,
            "expire_in": 157679471,
        }

    platform.route("POST", SHARE, share)
    platform.route("GET", TIMELINE, timeline)
    platform.route("GET", TO_ME, listed("to_me"))
    platform.route("GET", MENTIONS, listed("mentions"))
    platform.route("POST", REPLY, reply)
    platform.route("GET", SHOW, show)
    platform.route("GET", COUNT, count)
    platform.route("GET", LIMITS, limits)
    platform.route("GET", USERS_SHOW, lambda req, m: user(req.query.get("uid", UID)))
    platform.route("POST", TOKEN_PATH, token)
    platform.route("POST", TOKEN_INFO, token_info)
    platform.route("GET", PICTURE, lambda req, m: Reply(200, PICTURE_BYTES, {"Content-Type": "image/png"}))
    return knobs


def comment_on(platform: FakePlatform, knobs: Weibo, status: dict[str, Any], text: str, feed: str = "to_me",
               author: str = "1404376569", name: str = "John Rambo") -> dict[str, Any]:  # fmt: skip
    """Someone comments on ``status`` (``feed``: the account's ``to_me`` list, or ``mentions``)."""
    number = knobs.new_id()
    return platform.create("comment", {
        "created_at": weibo_time(datetime.now(UTC)), "id": int(number), "idstr": number, "feed": feed,
        "text": text, "user": user(author, name), "status": {k: v for k, v in status.items() if k != "rip"},
    })  # fmt: skip
