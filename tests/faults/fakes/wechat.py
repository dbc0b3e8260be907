"""WeChat Official Accounts' API on a FakePlatform, as the token service, WeChatPublisher and
WeChatMetrics call it. Shapes follow ``fixtures/platform_api/china/wechat``: every answer is HTTP 200
with ``errcode`` (0 or absent: success); ``POST /cgi-bin/stable_token`` issues the access token (in
``strict`` mode every fetch issues a new token and invalidates the previous one, as
``GET /cgi-bin/token`` does: a second fetch breaks the first); each API call must carry a valid
``access_token`` (40001 otherwise); ``material/add_material`` answers ``{media_id, url}``;
``draft/add`` ``{media_id}`` (the cover must be a known material; a body with ``\\uXXXX`` escapes is
stored as WeChat stores it: escaped); ``freepublish/submit`` ``{errcode 0, publish_id}`` (a draft
submitted twice is 40007, as a draft leaves the box); ``freepublish/get`` ``publish_status`` 1 for
``publishing_reads`` reads, then 0 with ``article_id`` and ``article_detail.item[].article_url``;
``freepublish/batchget`` lists published articles newest first; ``datacube/*`` answer the fixtures."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.faults.harness import FakePlatform, Reply, Request

APP_ID = "wx6f1c0b0b1e2d3a4b"
APP_SECRET = "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
ACCOUNT = "gh_4d00ed8d6399"
STABLE = r"/cgi-bin/stable_token"
MATERIAL = r"/cgi-bin/material/add_material"
DRAFT = r"/cgi-bin/draft/add"
SUBMIT = r"/cgi-bin/freepublish/submit"
GET = r"/cgi-bin/freepublish/get"
BATCHGET = r"/cgi-bin/freepublish/batchget"
DATACUBE = r"/datacube/(getusersummary|getusercumulate|getarticlesummary|getarticletotal)"
COVER = "/files/cover.jpg"
PHOTO = "/files/photo.png"
COVER_BYTES = b"\xff\xd8\xff\xe0cover" + b"\x02" * 40
PHOTO_BYTES = b"\x89PNG\r\n\x1a\nphoto" + b"\x03" * 40


def errcode(code: int, errmsg: str) -> dict[str, Any]:
    return {"errcode": code, "errmsg": f"{errmsg} rid: 6580a1b2-0c3d4e5f-6a7b8c9d"}


@dataclass
class WeChat:
    """Knobs and state of the fake: token issuing and how long a publish job stays ``publishing``."""

    strict: bool = True
    token_delay_s: float = 0.0
    publishing_reads: int = 1
    valid: set[str] = field(default_factory=set)
    issued: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    datacube: dict[str, Any] = field(default_factory=dict)

    def expire(self) -> None:
        """Every token issued so far stops working (42001), as after its 7200 s."""
        with self.lock:
            self.valid.clear()


def wechat_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> WeChat:
    """Tokens (``token`` records), materials (``material``), drafts (``draft``), publish jobs
    (``publish``) and articles (``article``) on the fake; the API's URL is the fake's."""
    monkeypatch.setenv("CHORUS_WECHAT_API_URL", platform.url)
    knobs = WeChat()

    def authorised(req: Request) -> bool:
        with knobs.lock:
            return req.query.get("access_token", "") in knobs.valid

    def stable_token(req: Request, match: re.Match[str]) -> Any:
        body = req.json or {}
        if body.get("appid") != APP_ID:
            return errcode(40013, "invalid appid")
        if body.get("secret") != APP_SECRET or body.get("grant_type") != "client_credential":
            return errcode(40125, "invalid appsecret")
        time.sleep(knobs.token_delay_s)  # a slow answer: concurrent workers all see the token missing
        with knobs.lock:
            if knobs.valid and not knobs.strict and not body.get("force_refresh"):
                token = knobs.issued[-1]
            else:
                token = f"ACCESS_TOKEN_{len(knobs.issued) + 1}"
                if knobs.strict or body.get("force_refresh"):
                    knobs.valid.clear()
                knobs.issued.append(token)
                knobs.valid.add(token)
        platform.create("token", {"id": token, "force_refresh": body.get("force_refresh")})
        return {"access_token": token, "expires_in": 7200}

    def guarded(handler: Any) -> Any:
        def answer(req: Request, match: re.Match[str]) -> Any:
            if "access_token" not in req.query:
                return errcode(41001, "access_token missing")
            if not authorised(req):
                return errcode(40001, "invalid credential, access_token is invalid or not latest")
            return handler(req, match)

        return answer

    def add_material(req: Request, match: re.Match[str]) -> Any:
        if req.query.get("type") not in ("image", "thumb") or b'name="media"' not in req.body:
            return errcode(40004, "invalid media type")
        data = next((b for b in (COVER_BYTES, PHOTO_BYTES) if b in req.body), None)
        if data is None:
            return errcode(40005, "invalid file type")
        number = len(platform.records.get("material", [])) + 1
        made = platform.create("material", {
            "id": f"R7Ifp6ogGOmtr3u-l6KIJfD6AX2foQ7K-{number}", "bytes": len(data),
            "url": f"http://mmbiz.qpic.cn/mmbiz_jpg/material{number}/0?wx_fmt=jpeg",
        })  # fmt: skip
        return {"media_id": made["id"], "url": made["url"]}

    def add_draft(req: Request, match: re.Match[str]) -> Any:
        articles = (req.json or {}).get("articles") or []
        if not articles:
            return errcode(44003, "empty news data hint: [dq1i3013336-0]")
        article = articles[0]
        known = {m["id"] for m in platform.records.get("material", [])}
        if article.get("thumb_media_id") not in known:
            return errcode(40007, "invalid media_id")
        escaped = b"\\u" in req.body  # WeChat keeps \uXXXX as written (its docs warn against it)
        number = len(platform.records.get("draft", [])) + 1
        made = platform.create("draft", {"id": f"DRAFT_MEDIA_ID_{number}", "article": article,
                                         "escaped": escaped, "submitted": False})  # fmt: skip
        return {"media_id": made["id"]}

    def submit(req: Request, match: re.Match[str]) -> Any:
        media_id = (req.json or {}).get("media_id")
        draft = next((d for d in platform.records.get("draft", []) if d["id"] == media_id), None)
        if draft is None or draft["submitted"]:
            return errcode(40007, "invalid media_id")
        draft["submitted"] = True
        number = len(platform.records.get("publish", [])) + 1
        job = platform.create("publish", {"id": str(2247503050 + number), "draft": media_id, "reads": 0,
                                          "status": 1})  # fmt: skip
        if knobs.publishing_reads == 0:
            _finish(platform, job)
        return {"errcode": 0, "errmsg": "ok", "publish_id": job["id"]}

    def get(req: Request, match: re.Match[str]) -> Any:
        publish_id = (req.json or {}).get("publish_id")
        job = next((j for j in platform.records.get("publish", []) if j["id"] == publish_id), None)
        if job is None:
            return errcode(40002, "invalid argument")
        job["reads"] += 1
        if job["status"] == 1 and job["reads"] > knobs.publishing_reads:
            _finish(platform, job)
        if job["status"] != 0:
            return {"publish_id": job["id"], "publish_status": job["status"], "fail_idx": []}
        article = _article_of(platform, job)
        return {"publish_id": job["id"], "publish_status": 0, "article_id": article["id"],
                "article_detail": {"count": 1, "item": [{"idx": 1, "article_url": article["url"]}]},
                "fail_idx": []}  # fmt: skip

    def batchget(req: Request, match: re.Match[str]) -> Any:
        asked = req.json or {}
        shown = list(reversed(platform.records.get("article", [])))
        offset, count = int(asked.get("offset", 0)), int(asked.get("count", 20))
        items = [{"article_id": a["id"], "update_time": a["update_time"],
                  "content": {"news_item": [{"title": a["title"], "url": a["url"], "is_deleted": False}]}}
                 for a in shown[offset:offset + count]]  # fmt: skip
        return {"total_count": len(shown), "item_count": len(items), "item": items}

    def datacube(req: Request, match: re.Match[str]) -> Any:
        platform.create("datacube", {"api": match.group(1), "body": req.json})
        return knobs.datacube.get(match.group(1), {"list": []})

    platform.route("POST", STABLE, stable_token)
    platform.route("POST", MATERIAL, guarded(add_material))
    platform.route("POST", DRAFT, guarded(add_draft))
    platform.route("POST", SUBMIT, guarded(submit))
    platform.route("POST", GET, guarded(get))
    platform.route("POST", BATCHGET, guarded(batchget))
    platform.route("POST", DATACUBE, guarded(datacube))
    platform.route("GET", COVER, lambda req, match: Reply(200, COVER_BYTES, {"Content-Type": "image/jpeg"}))
    platform.route("GET", PHOTO, lambda req, match: Reply(200, PHOTO_BYTES, {"Content-Type": "image/png"}))
    return knobs


def _finish(platform: FakePlatform, job: dict[str, Any]) -> None:
    """The job's article goes live: an ``article`` record, the draft leaves the box."""
    job["status"] = 0
    draft = next(d for d in platform.records["draft"] if d["id"] == job["draft"])
    number = len(platform.records.get("article", [])) + 1
    platform.create("article", {
        "id": f"b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvy{number}", "publish_id": job["id"],
        "title": draft["article"]["title"], "update_time": int(time.time()),
        "url": f"https://mp.weixin.qq.com/s/article{number}",
    })  # fmt: skip


def _article_of(platform: FakePlatform, job: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in platform.records["article"] if a["publish_id"] == job["id"])
    return found


def drafts(platform: FakePlatform) -> list[tuple[str, str]]:
    """(title, cover media id) of every draft made."""
    return [
        (d["article"]["title"], d["article"]["thumb_media_id"]) for d in platform.records.get("draft", [])
    ]


def titles(platform: FakePlatform) -> list[str]:
    """The title of every published article."""
    return [a["title"] for a in platform.records.get("article", [])]


def app_extra() -> dict[str, str]:
    """The account's own app: its AppID, and its AppSecret (sealed into the encrypted tokens)."""
    return {"app_id": APP_ID, "client_secret": APP_SECRET}
