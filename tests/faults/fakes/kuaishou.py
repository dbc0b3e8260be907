"""The Kuaishou open platform on a FakePlatform, as Chorus calls it: OAuth (``/oauth2/access_token``,
``/oauth2/refresh_token``), ``/openapi/user_info``, ``photo/start_upload`` (its answer names the fake's
own address as the upload ``endpoint``), the uploader (``/api/upload``, ``/api/upload/fragment``,
``/api/upload/complete``), ``photo/publish``, ``photo/list`` and ``photo/info``. Answers are flat with
``result`` (1: success), errors ``kuaishou_error(code, message)``; the video is served at ``VIDEO``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.platforms.kuaishou import api as kuaishou_api
from chorus.platforms.kuaishou import publish as kuaishou_publish
from tests.faults.fakes.douyin import VIDEO, VIDEO_BYTES, serve_video
from tests.faults.harness import FakePlatform, Request

START = r"/openapi/photo/start_upload"
PUBLISH = r"/openapi/photo/publish"
LIST = r"/openapi/photo/list"
INFO = r"/openapi/photo/info"
USER_INFO = r"/openapi/user_info"
DIRECT = r"/api/upload"
FRAGMENT = r"/api/upload/fragment"
COMPLETE = r"/api/upload/complete"
TOKEN = r"/oauth2/access_token"
REFRESH = r"/oauth2/refresh_token"
APP_ID = "ks-app"
OPEN_ID = "f8d7e6c5b4a3"
ACCESS = "ks-access"

__all__ = ["VIDEO", "VIDEO_BYTES"]


def kuaishou_error(code: int, message: str) -> dict[str, Any]:
    return {"result": code, "error_msg": message}


@dataclass
class Kuaishou:
    """The fake account: its token, and the counts ``photo/info`` answers per photo."""

    token: str = ACCESS
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def kuaishou_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Kuaishou:
    """Records: ``upload`` (a start_upload: its token, ``fragments`` by id, ``bytes`` once complete),
    ``fragment`` (each fragment received), ``photo`` (a published video: ``caption``, ``bytes``), ``token``."""
    monkeypatch.setattr(kuaishou_publish, "API_URL", platform.url)
    monkeypatch.setattr(kuaishou_api, "API_URL", platform.url)
    knobs = Kuaishou()
    endpoint = platform.url.removeprefix("http://")

    def refused(req: Request) -> dict[str, Any] | None:
        if req.query.get("app_id") != APP_ID:
            return kuaishou_error(10000200, "参数错误")
        if req.query.get("access_token") != knobs.token:
            return kuaishou_error(100200102, "无效的 access_token")
        return None

    def upload_of(req: Request) -> dict[str, Any] | None:
        return next(
            (u for u in platform.records.get("upload", []) if u["id"] == req.query.get("upload_token")), None
        )

    def start(req: Request, match: re.Match[str]) -> Any:
        number = len(platform.records.get("upload", [])) + 1
        made = platform.create("upload", {"id": f"3xwn3kkerxj6g9n{number}", "fragments": {}, "bytes": None})
        return refused(req) or {"result": 1, "upload_token": made["id"], "endpoint": endpoint}

    def direct(req: Request, match: re.Match[str]) -> Any:
        found = upload_of(req)
        if found is None or req.headers.get_content_type() != "video/mp4":
            return kuaishou_error(10000200, "参数错误")
        found["bytes"] = req.body
        return {"result": 1}

    def fragment(req: Request, match: re.Match[str]) -> Any:
        found = upload_of(req)
        if found is None:
            return kuaishou_error(10000200, "参数错误")
        index = int(req.query["fragment_id"])
        found["fragments"][index] = req.body
        platform.create("fragment", {"upload": found["id"], "fragment_id": index})
        return {"result": 1}

    def complete(req: Request, match: re.Match[str]) -> Any:
        found = upload_of(req)
        if found is None or int(req.query.get("fragment_count", "0")) != len(found["fragments"]):
            return kuaishou_error(10000200, "参数错误")
        found["bytes"] = b"".join(found["fragments"][i] for i in sorted(found["fragments"]))
        return {"result": 1}

    def publish(req: Request, match: re.Match[str]) -> Any:
        found = upload_of(req)
        if refused(req) or found is None or found["bytes"] is None:
            return refused(req) or kuaishou_error(10000200, "参数错误")
        if any(p["upload"] == found["id"] for p in platform.records.get("photo", [])):
            return kuaishou_error(10000200, "参数错误")
        number = len(platform.records.get("photo", [])) + 1
        made = platform.create("photo", {"id": f"3x{number:04d}photo", "upload": found["id"], "bytes": found["bytes"],
                                         "caption": req.form.get("caption"),
                                         "create_time": int(datetime.now(UTC).timestamp() * 1000)})  # fmt: skip
        return {
            "result": 1,
            "video_info": {"photo_id": made["id"], "caption": made["caption"], "pending": True},
        }

    def listing(req: Request, match: re.Match[str]) -> Any:
        shown = [{"photo_id": p["id"], "caption": p["caption"], "create_time": p["create_time"]}
                 for p in reversed(platform.records.get("photo", []))]  # fmt: skip
        return refused(req) or {"result": 1, "video_list": shown}

    def info(req: Request, match: re.Match[str]) -> Any:
        found = next(
            (p for p in platform.records.get("photo", []) if p["id"] == req.query.get("photo_id")), None
        )
        if found is None:
            return refused(req) or kuaishou_error(10000200, "参数错误")
        return refused(req) or {"result": 1, "video_info": {"photo_id": found["id"], "caption": found["caption"],
                                                           **knobs.counts.get(found["id"], {})}}  # fmt: skip

    def user_info(req: Request, match: re.Match[str]) -> Any:
        return refused(req) or {"result": 1, "user_info": {"name": "快手小店", "sex": "F", "fan": 1200, "follow": 35,
                                                           "head": "https://p1.a.yximgs.com/h.jpg"}}  # fmt: skip

    def token(req: Request, match: re.Match[str]) -> Any:
        if (req.query.get("code"), req.query.get("app_secret")) != ("ks-code", "ks-secret"):
            return kuaishou_error(10000200, "参数错误")
        platform.create("token", {"grant": "authorization_code"})
        return {"result": 1, "access_token": knobs.token, "expires_in": 172800, "refresh_token": "ks-refresh",
                "refresh_token_expires_in": 15552000, "open_id": OPEN_ID,
                "scopes": ["user_info", "user_video_publish", "user_video_info"]}  # fmt: skip

    platform.route("POST", START, start)
    platform.route("POST", DIRECT, direct)
    platform.route("POST", FRAGMENT, fragment)
    platform.route("POST", COMPLETE, complete)
    platform.route("POST", PUBLISH, publish)
    platform.route("GET", LIST, listing)
    platform.route("GET", INFO, info)
    platform.route("GET", USER_INFO, user_info)
    platform.route("GET", TOKEN, token)
    platform.route("GET", VIDEO, serve_video)
    return knobs
