"""The Douyin open platform on a FakePlatform, as Chorus calls it: OAuth (``/oauth/access_token/``,
``/oauth/refresh_token/``, ``/oauth/renew_refresh_token/``), the video upload (one request, or init ->
parts -> complete), ``create_video``, ``video_basic_info`` and ``video_data``. Answers keep the legacy
envelope of the fixtures (``fixtures/platform_api/china/douyin``: ``data`` + ``extra``, codes as the
SKIT samples print them); errors are ``douyin_error(code, description)``. The video itself is served at
``VIDEO`` with ``Range`` honoured (206 + ``Content-Range``), as a media bucket does."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.parser import BytesParser
from typing import Any

import pytest

from chorus.platforms.douyin import api as douyin_api
from chorus.platforms.douyin import publish as douyin_publish
from tests.faults.harness import FakePlatform, Reply, Request

V1 = "/api/douyin/v1/video"
UPLOAD = rf"{V1}/upload_video/"
PART_INIT = rf"{V1}/init_video_part_upload/"
PART_UPLOAD = rf"{V1}/upload_video_part/"
PART_COMPLETE = rf"{V1}/complete_video_part_upload/"
CREATE = rf"{V1}/create_video/"
BASIC_INFO = rf"{V1}/video_basic_info/"
VIDEO_DATA = rf"{V1}/video_data/"
VIDEO_LIST = rf"{V1}/video_list/"
COMMENTS = r"/item/comment/list/"
REPLY = r"/item/comment/reply/"
REPLIES = r"/item/comment/reply/list/"
TOKEN = r"/oauth/access_token/"
REFRESH = r"/oauth/refresh_token/"
RENEW = r"/oauth/renew_refresh_token/"
VIDEO = "/files/clip.mp4"
VIDEO_BYTES = bytes(range(30))  # 30 distinct bytes: every part of a chunked upload is recognisable
OPEN_ID = "aaa-bbb-ccc"
ACCESS = "act.douyin-access"
EXTRA = {"description": "", "sub_error_code": 0, "sub_description": "", "logid": "202008121419360101980821035705926A",
         "now": 1597213176393, "error_code": 0}  # fmt: skip


def envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"description": "", "error_code": 0, **data}, "extra": EXTRA}


def douyin_error(code: int, description: str) -> dict[str, Any]:
    """A refusal in the legacy envelope (``error_envelope_2100005_docs.json``'s shape)."""
    return {"data": {"error_code": code, "description": description},
            "extra": {**EXTRA, "error_code": code, "description": description}}  # fmt: skip


def uploaded_file(req: Request) -> bytes:
    """The bytes of the multipart field ``video``."""
    header = f"Content-Type: {req.headers.get('Content-Type')}\r\n\r\n".encode()
    message = BytesParser().parsebytes(header + req.body)
    for part in message.get_payload() if message.is_multipart() else []:
        if part.get_param("name", header="content-disposition") == "video":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    return b""


def serve_video(req: Request, match: re.Match[str]) -> Reply:
    """The media bucket: the whole file, or the ``Range`` asked for (206)."""
    asked = re.fullmatch(r"bytes=(\d+)-(\d+)", req.headers.get("Range") or "")
    if asked is None:
        return Reply(200, VIDEO_BYTES, {"Content-Type": "video/mp4"})
    first, last = int(asked.group(1)), min(int(asked.group(2)), len(VIDEO_BYTES) - 1)
    return Reply(206, VIDEO_BYTES[first : last + 1],
                 {"Content-Type": "video/mp4", "Content-Range": f"bytes {first}-{last}/{len(VIDEO_BYTES)}"})  # fmt: skip


def comment_on(
    platform: FakePlatform, item_id: str, content: str, reply_to: str | None = None
) -> dict[str, Any]:
    """A comment on the item (a viewer's, or the account's reply to ``reply_to``), in the SKIT shape."""
    import time

    number = len(platform.records.get("comment", [])) + 1
    return platform.create("comment", {
        "comment_id": f"@9VwW0qOBUN9mJyD3bNxvGc791G3uO/mLOZ{number}==", "item_id": item_id, "reply_to": reply_to,
        "comment_user_id": OPEN_ID if reply_to else f"43eae150-12eb-4035-8d40-{number:012d}", "content": content,
        "create_time": int(time.time()), "digg_count": 0, "reply_comment_total": 0, "top": False,
        "nick_name": "抖音小店" if reply_to else "xiaoming", "avatar": "https://uuue/ehdne"})  # fmt: skip


@dataclass
class Douyin:
    """The fake account: its token, the statistics ``video_data`` answers per item."""

    token: str = ACCESS
    statistics: dict[str, dict[str, int]] = field(default_factory=dict)


def douyin_platform(platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Douyin:
    """Records: ``video`` (an uploaded video: ``bytes``), ``upload`` (a part upload: ``parts`` by number),
    ``part`` (each part upload received), ``item`` (a created video: ``video_id``, ``text``), ``token``."""
    monkeypatch.setattr(douyin_publish, "API_URL", platform.url)
    monkeypatch.setattr(douyin_api, "API_URL", platform.url)
    knobs = Douyin()

    def authorised(req: Request) -> dict[str, Any] | None:
        if req.headers.get("access-token") != knobs.token:
            return douyin_error(28001003, "access_token无效")
        if req.query.get("open_id") != OPEN_ID:
            return douyin_error(2100005, "参数不合法")
        return None

    def new_video(data: bytes) -> dict[str, Any]:
        number = len(platform.records.get("video", [])) + 1
        made = platform.create("video", {"id": f"v0200f450000bn8c6aa0ifki8fikg{number:03d}", "bytes": data})
        return envelope({"video": {"video_id": made["id"], "width": "720", "height": "1280"}})

    def upload(req: Request, match: re.Match[str]) -> Any:
        return authorised(req) or new_video(uploaded_file(req))

    def part_init(req: Request, match: re.Match[str]) -> Any:
        refused = authorised(req)
        if refused:
            return refused
        number = len(platform.records.get("upload", [])) + 1
        made = platform.create("upload", {"id": f"@8hxdhauTCM+/{number}=", "parts": {}})
        return envelope({"upload_id": made["id"]})

    def find_upload(req: Request) -> dict[str, Any] | None:
        return next(
            (u for u in platform.records.get("upload", []) if u["id"] == req.query.get("upload_id")), None
        )

    def part_upload(req: Request, match: re.Match[str]) -> Any:
        refused = authorised(req)
        found = find_upload(req)
        if refused or found is None:
            return refused or douyin_error(2100005, "参数不合法")
        number = int(req.query["part_number"])
        found["parts"][number] = uploaded_file(req)
        platform.create("part", {"upload_id": found["id"], "part_number": number})
        return envelope({})

    def part_complete(req: Request, match: re.Match[str]) -> Any:
        refused = authorised(req)
        found = find_upload(req)
        if refused or found is None:
            return refused or douyin_error(2100005, "参数不合法")
        return new_video(b"".join(found["parts"][n] for n in sorted(found["parts"])))

    def create(req: Request, match: re.Match[str]) -> Any:
        refused = authorised(req)
        if refused:
            return refused
        body = req.json or {}
        videos = {v["id"] for v in platform.records.get("video", [])}
        used = {i["video_id"] for i in platform.records.get("item", [])}
        if body.get("video_id") not in videos or body.get("video_id") in used:
            return douyin_error(2100005, "参数不合法")
        number = len(platform.records.get("item", [])) + 1
        made = platform.create("item", {"id": f"@9VwU1/6eU81pLGf2dN8sVs783WLuOfuHMp{number}==",
                                        "video_id": body["video_id"], "text": body.get("text")})  # fmt: skip
        return {"data": {"item_id": made["id"]}, "extra": EXTRA}

    def basic_info(req: Request, match: re.Match[str]) -> Any:
        refused = authorised(req)
        if refused:
            return refused
        wanted = (req.json or {}).get("video_ids") or []
        found = [{"video_id": i["video_id"], "item_id": i["id"], "title": i["text"], "video_status": 5,
                  "media_type": 4, "create_time": 1571075129}
                 for i in platform.records.get("item", []) if i["video_id"] in wanted]  # fmt: skip
        return envelope({"list": found})

    def video_data(req: Request, match: re.Match[str]) -> Any:
        refused = authorised(req)
        if refused:
            return refused
        wanted = (req.json or {}).get("item_ids") or []
        found = [{"item_id": i["id"], "title": i["text"], "statistics": knobs.statistics.get(i["id"], {}),
                  "share_url": f"https://www.iesdouyin.com/share/video/{i['video_id']}/?region=CN"}
                 for i in platform.records.get("item", []) if i["id"] in wanted]  # fmt: skip
        return {"extra": EXTRA, "data": {"list": found}}

    def token(req: Request, match: re.Match[str]) -> Any:
        if req.form.get("code") != "douyin-code" or req.form.get("client_secret") != "dy-secret":
            return douyin_error(2100005, "Parameter error")
        platform.create("token", {"grant": "authorization_code"})
        return {"data": {"access_token": knobs.token, "description": "", "error_code": "0", "expires_in": "1296000",
                         "open_id": OPEN_ID, "refresh_expires_in": "2592000", "refresh_token": "rft.douyin-refresh",
                         "scope": "user_info,video.create.bind,video.data.bind,item.comment"}, "message": ""}  # fmt: skip

    def video_list(req: Request, match: re.Match[str]) -> Any:
        shown = [{"item_id": i["id"], "title": i["text"]} for i in reversed(platform.records.get("item", []))]
        return authorised(req) or envelope({"list": shown, "has_more": False, "cursor": 0})

    def comment_list(req: Request, match: re.Match[str]) -> Any:
        shown = [{k: v for k, v in c.items() if k not in ("id", "item_id", "reply_to")}
                 for c in reversed(platform.records.get("comment", []))
                 if c["item_id"] == req.query.get("item_id") and not c.get("reply_to")]  # fmt: skip
        return authorised(req) or envelope({"list": shown, "has_more": False, "cursor": 0})

    def reply(req: Request, match: re.Match[str]) -> Any:
        body = req.json or {}
        known = any(c["comment_id"] == body.get("comment_id") for c in platform.records.get("comment", []))
        if not known:
            return authorised(req) or douyin_error(2100005, "参数不合法")
        return authorised(req) or envelope({"comment_id": comment_on(platform, str(body.get("item_id")), str(body.get("content")),
                                                                     reply_to=str(body.get("comment_id")))["comment_id"]})  # fmt: skip

    def reply_list(req: Request, match: re.Match[str]) -> Any:
        shown = [{k: v for k, v in c.items() if k not in ("id", "item_id", "reply_to")}
                 for c in platform.records.get("comment", []) if c.get("reply_to") == req.query.get("comment_id")]  # fmt: skip
        return authorised(req) or envelope({"list": shown, "has_more": False, "cursor": 0})

    platform.route("GET", VIDEO_LIST, video_list)
    platform.route("GET", COMMENTS, comment_list)
    platform.route("POST", REPLY, reply)
    platform.route("GET", REPLIES, reply_list)
    platform.route("POST", UPLOAD, upload)
    platform.route("POST", PART_INIT, part_init)
    platform.route("POST", PART_UPLOAD, part_upload)
    platform.route("POST", PART_COMPLETE, part_complete)
    platform.route("POST", CREATE, create)
    platform.route("POST", BASIC_INFO, basic_info)
    platform.route("POST", VIDEO_DATA, video_data)
    platform.route("POST", TOKEN, token)
    platform.route("GET", VIDEO, serve_video)
    return knobs
