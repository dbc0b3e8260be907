"""The sandbox answering as a real platform: its documented endpoints, so the platform's REAL adapter runs
unchanged against 127.0.0.1 (DESIGN decision 11: no network but loopback).

Each persona serves, under ``{sandbox}/as/{name}``, what its adapter calls to prove whose a token is
(the connect-time whoami), to publish a text post (or a picture, where the platform has no text post:
Instagram, Pinterest, TikTok, a WeChat article's cover) and to find a post again after a lost answer. Shapes follow
``fixtures/platform_api`` as the contract tests do. The deployment points each platform's API base URL
at its persona (``CHORUS_X_API_URL={sandbox}/as/x`` ...; :func:`api_urls`), which is all the demo does.

A persona has one account; any token not revoked on the sandbox is that account's (the sandbox is a
local stand-in, not an identity provider). What it made is recorded as a :class:`Made` (platform, id,
text, url), listed at ``GET /_control/published``: that is how the demo shows each post exactly once.

TikTok takes photos and videos; Douyin, Kuaishou and YouTube take videos and connect by OAuth (their
personas answer an authorize page that says yes at once and a token endpoint: :data:`OAUTH_ONLY`). A video is
uploaded through the platform's own flow; the sandbox does not transcode, it accepts the bytes and
reports the video processed (:mod:`chorus.platforms.sandbox.video` is the small MP4 it serves for that).
The metrics endpoints the collectors call are added by :mod:`chorus.platforms.sandbox.insights`. Not
answered (said by :data:`NOT_ANSWERED`, shown in the demo and docs/platforms.md): Xiaohongshu and Zhihu,
which have no publishing API."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

from chorus.platforms.sandbox.counts import counts, followers

PREFIX = "/as/"
IMAGE_PATH = "/media/acme-cup.jpg"  # a picture the sandbox serves, for the platforms that need one


def _jpeg(width: int, height: int) -> bytes:
    """A small JPEG of one coffee-brown colour (a real one: the platforms needing a picture take JPEG)."""
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (width, height), (111, 78, 55)).save(out, "JPEG", quality=80)
    return out.getvalue()


IMAGE = _jpeg(400, 500)  # 4:5, what Instagram and Pinterest take


@dataclass(frozen=True)
class Ask:
    """One request to a persona: the path below ``/as/{name}``, query (last value per name), headers
    (lower-case names), JSON body or form fields."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    json: Any = None
    form: Mapping[str, str] = field(default_factory=dict)
    every: Mapping[str, list[str]] = field(default_factory=dict)  # each query name's values, in order
    raw: bytes = b""  # the body as sent (an uploaded chunk)

    @property
    def token(self) -> str:
        given = self.headers.get("authorization", "").split()  # Bearer <token>, OAuth2 <token>
        if len(given) == 2:
            return given[1]
        if self.headers.get("access-token"):  # Douyin's header
            return self.headers["access-token"]
        # an upload URL carries its own token (TikTok's ``upload_token``): the URL is the credential
        # an upload URL carries its own token (TikTok's ``upload_token``, YouTube's session ``upload_id``)
        found = (
            self.form.get("access_token") or self.query.get("access_token") or self.query.get("upload_token")
        )
        return found or (self.query.get("upload_id", "") if self.method == "PUT" else "")

    def value(self, name: str) -> Any:
        """A body field, from JSON or form."""
        return (self.json or {}).get(name) if isinstance(self.json, dict) else self.form.get(name)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Made:
    """A post a persona made: what the demo and the tests count."""

    platform: str
    id: str
    text: str
    url: str
    account: str
    at: float = field(default_factory=time.time)
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Ask, "re.Match[str]"], Answer | dict[str, Any]]


@dataclass
class Persona:
    name: str
    account: str  # the platform's id of the persona's one account
    handle: str
    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # containers, pending items...
    public: set[str] = field(
        default_factory=set
    )  # the patterns answered without a token (OAuth's token endpoint)

    def route(self, method: str, pattern: str, *, public: bool = False) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            self.routes.append((method, re.compile(pattern), handler))
            if public:
                self.public.add(pattern)
            return handler

        return add


NOT_ANSWERED: Mapping[str, str] = {
    "xiaohongshu": "Xiaohongshu has no publishing API: Chorus reminds, and the post is made in its app",
    "zhihu": "Zhihu has no publishing API: Chorus reminds, and the post is made in its app",
}
"""Platforms the sandbox does not answer as, and why."""


class Personas:
    """Every persona's routes and what they made, behind one lock (the sandbox serves from threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.made: list[Made] = []
        self.revoked: set[str] = set()
        self.base = ""  # the sandbox's URL, for URLs in answers
        self._ids = itertools.count(1)
        self.personas: dict[str, Persona] = {p.name: p for p in _build(self)}

    def next_id(self) -> int:
        return next(self._ids)

    def record(self, made: Made) -> Made:
        self.made.append(made)
        return made

    def of(self, platform: str) -> list[Made]:
        return [m for m in self.made if m.platform == platform]

    def find(self, platform: str, post_id: str) -> Made | None:
        return next((m for m in self.made if m.platform == platform and m.id == post_id), None)

    def answer(self, method: str, path: str, query: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        """The persona's answer to a request for ``/as/{name}/...``."""
        name, _, rest = path[len(PREFIX) :].partition("/")
        persona = self.personas.get(name)
        if persona is None:
            return Answer(404, {"error": "not_found", "message": f"the sandbox does not answer as {name!r}"})
        try:
            ask = _ask(method, "/" + rest, query, headers, raw)
        except ValueError:  # a body that says JSON and is not (UnicodeDecodeError is one too)
            return Answer(400, {"error": "invalid_request", "message": "the body is not valid JSON"})
        for wanted, pattern, handler in persona.routes:
            found = pattern.fullmatch(ask.path)
            if wanted == method and found:
                if (not ask.token and pattern.pattern not in persona.public) or ask.token in self.revoked:
                    return Answer(401, {"error": "invalid_token", "message": "The access token is invalid"})
                with self.lock:
                    got = handler(ask, found)
                return got if isinstance(got, Answer) else Answer(200, got)
        return Answer(404, {"error": "not_found", "message": f"{name} has no {method} {ask.path} here"})

    def listing(self) -> list[dict[str, Any]]:
        with self.lock:
            return [asdict(m) for m in self.made]


def api_urls(sandbox_url: str) -> dict[str, str]:
    """The environment that points each answered platform's adapter at its persona on ``sandbox_url``
    (Mastodon and Bluesky are the account's own ``base_url``: :func:`account_base_url`)."""
    base = f"{sandbox_url.rstrip('/')}{PREFIX}"
    return {
        "CHORUS_X_API_URL": f"{base}x",
        "CHORUS_FACEBOOK_GRAPH_URL": f"{base}meta/v21.0",
        "CHORUS_THREADS_API_URL": f"{base}threads/v1.0",
        "CHORUS_LINKEDIN_API_URL": f"{base}linkedin",
        "CHORUS_PINTEREST_API_URL": f"{base}pinterest/v5",
        "CHORUS_WEIBO_API_URL": f"{base}weibo",
        "CHORUS_TIKTOK_API_URL": f"{base}tiktok",
        "CHORUS_WECHAT_API_URL": f"{base}wechat",
        "CHORUS_DOUYIN_API_URL": f"{base}douyin",
        "CHORUS_DOUYIN_AUTHORIZE_URL": f"{base}douyin/platform/oauth/connect/",
        "CHORUS_KUAISHOU_API_URL": f"{base}kuaishou",
        "CHORUS_KUAISHOU_AUTHORIZE_URL": f"{base}kuaishou/oauth2/authorize",
        "CHORUS_YOUTUBE_API_URL": f"{base}youtube/youtube/v3",
        "CHORUS_YOUTUBE_UPLOAD_URL": f"{base}youtube/upload/youtube/v3",
        "CHORUS_YOUTUBE_AUTHORIZE_URL": f"{base}youtube/o/oauth2/v2/auth",
        "CHORUS_YOUTUBE_TOKEN_URL": f"{base}youtube/token",
    }


OAUTH_APPS: Mapping[str, str] = {
    "DouyinClientKey": "sandbox-douyin-app", "DouyinClientSecret": "sandbox-douyin-secret",
    "KuaishouAppId": "sandbox-kuaishou-app", "KuaishouAppSecret": "sandbox-kuaishou-secret",
    "YouTubeClientId": "sandbox-google-client", "YouTubeClientSecret": "sandbox-google-secret",
}  # fmt: skip
"""The template parameters naming the app of each platform connected by OAuth only (Douyin, Kuaishou):
any app is the sandbox's."""
OAUTH_ONLY = frozenset({"douyin", "kuaishou", "youtube"})
"""Answered platforms connected through ``GET /accounts/connect/<platform>`` and the OAuth callback (the
persona's authorize page answers at once with a code), not ``POST /accounts``."""


ANSWERED: Mapping[str, str] = {
    "x": "x", "mastodon": "mastodon", "bluesky": "bluesky", "facebook": "meta", "instagram": "meta",
    "threads": "threads", "linkedin": "linkedin", "pinterest": "pinterest", "weibo": "weibo",
    "tiktok": "tiktok", "wechat": "wechat", "douyin": "douyin", "kuaishou": "kuaishou", "youtube": "youtube",
}  # fmt: skip
"""The platforms the sandbox answers as, and the persona answering for each (Instagram is the Page's
linked professional account on the same Graph API)."""

LINKEDIN_PAGE = "urn:li:organization:5515715"  # the page the LinkedIn member administers
WECHAT_ACCOUNT = "gh_acmecoffee0001"  # the official account's original id
INSTAGRAM_ACCOUNT = "17841400008460056"  # the professional account linked to the Facebook Page
UNNAMED_HANDLES: Mapping[str, str] = {
    "linkedin": "acme-coffee",
    "facebook": "acmecoffee",
    "wechat": "acmecoffee",
}

VIDEO_PLATFORMS = ("tiktok", "douyin", "kuaishou", "youtube")
"""Answered platforms that take a video post (uploaded to the persona in the platform's own chunks)."""
IMAGE_ONLY = frozenset({"instagram", "pinterest", "tiktok", "wechat"})
VIDEO_ONLY = frozenset({"douyin", "kuaishou", "youtube"})
"""Answered platforms whose posts are videos only."""
"""Answered platforms whose posts need an image or a video (the rest take a text post; TikTok: photo
posts, and videos)."""


def claim(sandbox_url: str, platform: str) -> dict[str, str]:
    """What ``POST /accounts`` takes to connect the persona's account on ``platform``: a token (any is
    the persona's), the account it is said to be where the platform needs one named (LinkedIn: the
    page administered), and the instance / PDS of a Mastodon or Bluesky account."""
    body = {"platform": platform, "access_token": f"sandbox-{platform}-token"}
    if platform in UNNAMED_HANDLES:  # the platform's whoami names no handle for a page: the caller does
        body["handle"] = UNNAMED_HANDLES[platform]
    if platform == "linkedin":
        body["platform_account_id"] = LINKEDIN_PAGE
    if platform == "wechat":  # WeChat cannot say whose a token is: the official account is named
        body["platform_account_id"] = WECHAT_ACCOUNT
    if platform in ("mastodon", "bluesky"):
        body["base_url"] = account_base_url(sandbox_url, platform)
    return body


def account_base_url(sandbox_url: str, platform: str) -> str:
    """The instance / PDS address of a Mastodon or Bluesky account on the sandbox."""
    return f"{sandbox_url.rstrip('/')}{PREFIX}{platform}"


def _ask(method: str, path: str, query: str, headers: Mapping[str, str], raw: bytes) -> Ask:
    lowered = {k.lower(): v for k, v in headers.items()}
    kind = lowered.get("content-type", "")
    body: Any = None
    form: dict[str, str] = {}
    if raw and "json" in kind:
        body = json.loads(raw)
    elif raw and "x-www-form-urlencoded" in kind:
        form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    every = parse_qs(query, keep_blank_values=True)
    return Ask(method, unquote(path), {k: v[-1] for k, v in every.items()}, lowered, body, form, every, raw)


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _graph_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _graph_error(status: int, code: int, message: str) -> Answer:
    return Answer(status, {"error": {"message": message, "type": "OAuthException", "code": code}})


def _build(all_: Personas) -> list[Persona]:
    return [_x(all_), _mastodon(all_), _bluesky(all_), _meta(all_), _threads(all_), _linkedin(all_),
            _pinterest(all_), _weibo(all_), _tiktok(all_), _wechat(all_), _douyin(all_), _kuaishou(all_), _youtube(all_)]  # fmt: skip


def _x(all_: Personas) -> Persona:
    """X API v2: ``GET /2/users/me``, ``POST /2/tweets`` (201 ``{data: {id, text}}``), the user's
    timeline ``GET /2/users/{id}/tweets`` (newest first) for a lost answer."""
    p = Persona("x", "1860000000000000001", "acme_coffee")

    @p.route("GET", r"/2/users/me")
    def me(ask: Ask, m: re.Match[str]) -> Any:
        return {"data": {"id": p.account, "username": p.handle, "name": "Acme Coffee"}}

    @p.route("POST", r"/2/tweets")
    def tweet(ask: Ask, m: re.Match[str]) -> Any:
        text = str(ask.value("text") or "")
        if not text.strip():
            return Answer(400, {"title": "Invalid Request", "detail": "text is required", "status": 400})
        tid = str(1_870_000_000_000_000_000 + all_.next_id())
        all_.record(Made("x", tid, text, f"https://x.com/{p.handle}/status/{tid}", p.account))
        return Answer(201, {"data": {"id": tid, "text": text, "edit_history_tweet_ids": [tid]}})

    @p.route("GET", r"/2/users/([^/]+)/tweets")
    def timeline(ask: Ask, m: re.Match[str]) -> Any:
        data = [{"id": t.id, "text": t.text, "created_at": _iso(t.at)} for t in reversed(all_.of("x"))]
        return {"data": data, "meta": {"result_count": len(data)}} if data else {"meta": {"result_count": 0}}

    return p


def _mastodon(all_: Personas) -> Persona:
    """A Mastodon instance: ``verify_credentials``, ``POST /api/v1/statuses`` honouring
    ``Idempotency-Key`` (the same key answers the same status), the account's statuses."""
    p = Persona("mastodon", "109000000000000001", "acme")
    keys: dict[str, dict[str, Any]] = {}

    def shown(made: Made) -> dict[str, Any]:
        return {"id": made.id, "url": made.url, "uri": made.url, "content": f"<p>{made.text}</p>",
                "created_at": _iso(made.at), "in_reply_to_id": made.extra.get("in_reply_to_id"),
                "account": {"id": p.account, "acct": p.handle}}  # fmt: skip

    @p.route("GET", r"/api/v1/accounts/verify_credentials")
    def me(ask: Ask, m: re.Match[str]) -> Any:
        return {"id": p.account, "username": p.handle, "acct": p.handle, "display_name": "Acme Coffee"}

    @p.route("POST", r"/api/v1/statuses")
    def status(ask: Ask, m: re.Match[str]) -> Any:
        key = ask.headers.get("idempotency-key", "")
        if key and key in keys:
            return keys[key]
        text = str(ask.value("status") or "")
        if not text.strip() and not ask.value("media_ids"):
            return Answer(422, {"error": "Validation failed: Text can't be blank"})
        sid = str(110_000_000_000_000_000 + all_.next_id())
        made = all_.record(Made("mastodon", sid, text, f"{all_.base}{PREFIX}mastodon/@{p.handle}/{sid}", p.account,
                                extra={"in_reply_to_id": ask.value("in_reply_to_id")}))  # fmt: skip
        keys[key] = shown(made)
        return keys[key]

    @p.route("GET", r"/api/v1/accounts/([^/]+)/statuses")
    def statuses(ask: Ask, m: re.Match[str]) -> Any:
        return Answer(200, [shown(s) for s in reversed(all_.of("mastodon"))])

    return p


def _bluesky(all_: Personas) -> Persona:
    """A Bluesky PDS: ``getSession``, ``createRecord`` with the adapter's fixed rkey (a taken rkey is
    refused as the reference PDS refuses it), ``getRecord``."""
    p = Persona("bluesky", "did:plc:acmecoffee4sandbox00000", "acme.bsky.social")

    def uri(rkey: str) -> str:
        return f"at://{p.account}/app.bsky.feed.post/{rkey}"

    @p.route("GET", r"/xrpc/com\.atproto\.server\.getSession")
    def session(ask: Ask, m: re.Match[str]) -> Any:
        return {"did": p.account, "handle": p.handle, "active": True}

    @p.route("POST", r"/xrpc/com\.atproto\.repo\.createRecord")
    def create(ask: Ask, m: re.Match[str]) -> Any:
        body = ask.json or {}
        rkey = str(body.get("rkey") or f"3l{all_.next_id():011d}")
        if rkey in p.objects:
            return Answer(500, {"error": "InternalServerError", "message": "Internal Server Error"})
        record = body.get("record") or {}
        p.objects[rkey] = record
        all_.record(Made("bluesky", uri(rkey), str(record.get("text", "")),
                         f"https://bsky.app/profile/{p.account}/post/{rkey}", p.account))  # fmt: skip
        return {"uri": uri(rkey), "cid": f"bafyreisandbox{rkey}"}

    @p.route("GET", r"/xrpc/com\.atproto\.repo\.getRecord")
    def get(ask: Ask, m: re.Match[str]) -> Any:
        rkey = ask.query.get("rkey", "")
        if rkey not in p.objects:
            return Answer(
                400, {"error": "RecordNotFound", "message": f"Could not locate record: {uri(rkey)}"}
            )
        return {"uri": uri(rkey), "cid": f"bafyreisandbox{rkey}", "value": p.objects[rkey]}

    @p.route("GET", r"/xrpc/app\.bsky\.feed\.getAuthorFeed")
    def feed(ask: Ask, m: re.Match[str]) -> Any:  # the collector's timeline, newest first, one page
        shown = [{"post": {"uri": b.id, "cid": f"bafyreisandbox{b.id.rsplit('/', 1)[-1]}",
                           "author": {"did": p.account, "handle": p.handle}, "indexedAt": _iso(b.at),
                           "record": {"$type": "app.bsky.feed.post", "text": b.text, "createdAt": _iso(b.at)}}}
                 for b in reversed(all_.of("bluesky"))]  # fmt: skip
        return {"feed": shown}

    return p


@dataclass(frozen=True)
class Containers:
    """Meta's two-step publishing (Instagram, Threads): ``POST /{user}/{path}`` makes a container (ready
    at once: the sandbox takes text and pictures), ``POST /{user}/{path}_publish`` publishes it, once;
    ``GET /{id}`` reads a container's status or a post's permalink; ``/{user}/..._publishing_limit``
    counts the posts against the platform's daily quota."""

    platform: str
    user: str
    path: str  # media | threads
    text_field: str  # caption | text
    status_field: str  # status_code | status
    quota_total: int
    not_ready: tuple[int, str]  # the Graph error code and message of a container that cannot publish

    def route(
        self, all_: Personas, p: Persona, v: str, prefixes: tuple[str, str], url: Callable[[int], str]
    ) -> None:
        user, status = self.user, self.status_field
        limit = "content_publishing_limit" if self.path == "media" else f"{self.path}_publishing_limit"

        @p.route("POST", rf"{v}/{user}/{self.path}")
        def container(ask: Ask, m: re.Match[str]) -> Any:
            cid = f"{prefixes[0]}{all_.next_id():011d}"
            p.objects[cid] = {"text": ask.value(self.text_field) or "", status: "FINISHED"}
            return {"id": cid}

        @p.route("POST", rf"{v}/{user}/{self.path}_publish")
        def publish(ask: Ask, m: re.Match[str]) -> Any:
            made = p.objects.get(str(ask.value("creation_id")))
            if made is None or made.get(status) != "FINISHED":
                return _graph_error(400, *self.not_ready)
            made[status] = "PUBLISHED"
            number = all_.next_id()
            post_id = f"{prefixes[1]}{number:011d}"
            all_.record(Made(self.platform, post_id, made["text"], url(number), user))
            return {"id": post_id}

        @p.route("GET", rf"{v}/{user}/{limit}")
        def quota(ask: Ask, m: re.Match[str]) -> Any:
            used = len(all_.of(self.platform))
            return {
                "data": [
                    {
                        "quota_usage": used,
                        "config": {"quota_total": self.quota_total, "quota_duration": 86400},
                    }
                ]
            }

        @p.route("GET", rf"{v}/([^/]+)")
        def read(ask: Ask, m: re.Match[str]) -> Any:
            object_id = m.group(1)
            if object_id in p.objects:
                return {"id": object_id, status: p.objects[object_id][status]}
            shown = next((i for i in all_.of(self.platform) if i.id == object_id), None)
            if shown is not None:
                return {"id": object_id, "permalink": shown.url}
            return _graph_error(400, 100, f"Object with ID '{object_id}' does not exist")


def _meta(all_: Personas) -> Persona:
    """The Graph API of a Facebook Page linked to an Instagram professional account: ``/me`` (the Page,
    with its ``instagram_business_account``), ``POST /{page}/feed``, the Page's feed; Instagram's
    containers, ``media_publish`` (a container publishes once), object reads and the quota."""
    p = Persona("meta", "104000000000001", UNNAMED_HANDLES["facebook"])
    ig = INSTAGRAM_ACCOUNT
    v = r"/v21\.0"

    @p.route("GET", rf"{v}/me")
    def me(ask: Ask, m: re.Match[str]) -> Any:
        return {"id": p.account, "name": "Acme Coffee",
                "instagram_business_account": {"id": ig, "username": "acme.coffee"}}  # fmt: skip

    @p.route("POST", rf"{v}/{p.account}/feed")
    def feed(ask: Ask, m: re.Match[str]) -> Any:
        pid = f"{p.account}_{900 + all_.next_id()}"
        all_.record(Made("facebook", pid, str(ask.value("message") or ""), f"https://www.facebook.com/{pid}",
                         p.account, extra={"link": ask.value("link")}))  # fmt: skip
        return {"id": pid}

    @p.route("GET", rf"{v}/{p.account}/(?:feed|published_posts)")  # the collector's timeline: published_posts
    def feed_list(ask: Ask, m: re.Match[str]) -> Any:
        return {"data": [{"id": f.id, "message": f.text, "created_time": _graph_time(f.at), "permalink_url": f.url}
                         for f in reversed(all_.of("facebook"))]}  # fmt: skip

    containers = Containers(
        "instagram", ig, "media", "caption", "status_code", 50, (9007, "Media ID is not available")
    )
    containers.route(all_, p, v, ("1790", "1792"), lambda n: f"https://www.instagram.com/p/SANDBOX{n}/")

    @p.route("GET", rf"{v}/{ig}/media")
    def media(ask: Ask, m: re.Match[str]) -> Any:
        return {"data": [{"id": i.id, "caption": i.text, "permalink": i.url, "timestamp": _graph_time(i.at)}
                         for i in reversed(all_.of("instagram"))]}  # fmt: skip

    return p


def _threads(all_: Personas) -> Persona:
    """The Threads API: ``/me``, containers (TEXT and IMAGE are ready at once), ``threads_publish`` (a
    container publishes once), the profile's threads, object reads, the 250-a-day quota."""
    p = Persona("threads", "17841405793187218", "acme.coffee")
    v = r"/v1\.0"

    @p.route("GET", rf"{v}/me")
    def me(ask: Ask, m: re.Match[str]) -> Any:
        return {"id": p.account, "username": p.handle, "name": "Acme Coffee"}

    containers = Containers("threads", p.account, "threads", "text", "status", 250,
                            (24, "The media container is not ready or was already published"))  # fmt: skip
    containers.route(
        all_, p, v, ("1789", "1800"), lambda n: f"https://www.threads.net/@{p.handle}/post/SANDBOX{n}"
    )

    @p.route("GET", rf"{v}/{p.account}/threads")
    def listing(ask: Ask, m: re.Match[str]) -> Any:
        return {"data": [{"id": t.id, "text": t.text, "username": p.handle, "timestamp": _graph_time(t.at),
                          "permalink": t.url} for t in reversed(all_.of("threads"))]}  # fmt: skip

    return p


def _linkedin(all_: Personas) -> Persona:
    """LinkedIn: ``/v2/userinfo``, ``organizationAcls`` (the member administers one page), ``POST
    /rest/posts`` (201, the URN in ``x-restli-id``; the versioned headers required) and the author's
    posts (``GET /rest/posts?q=author``)."""
    p = Persona("linkedin", LINKEDIN_PAGE, UNNAMED_HANDLES["linkedin"])
    member = "782bbtaQ"

    def versioned(ask: Ask) -> bool:
        return (
            bool(ask.headers.get("linkedin-version"))
            and ask.headers.get("x-restli-protocol-version") == "2.0.0"
        )

    def refused(message: str) -> Answer:
        return Answer(400, {"message": message, "serviceErrorCode": 100, "status": 400})

    @p.route("GET", r"/v2/userinfo")
    def userinfo(ask: Ask, m: re.Match[str]) -> Any:
        return {"sub": member, "name": "Ada Roast"}

    @p.route("GET", r"/rest/organizationAcls")
    def acls(ask: Ask, m: re.Match[str]) -> Any:
        return {"elements": [{"organization": p.account, "role": "ADMINISTRATOR", "state": "APPROVED",
                              "roleAssignee": f"urn:li:person:{member}"}]}  # fmt: skip

    @p.route("POST", r"/rest/posts")
    def post(ask: Ask, m: re.Match[str]) -> Any:
        if not versioned(ask):
            return refused("A LinkedIn-Version header is required")
        body = ask.json or {}
        urn = f"urn:li:share:{6_844_785_523_593_134_000 + all_.next_id()}"
        all_.record(Made("linkedin", urn, str(body.get("commentary") or ""),
                         f"https://www.linkedin.com/feed/update/{urn}/", str(body.get("author"))))  # fmt: skip
        return Answer(201, None, {"x-restli-id": urn})

    @p.route("GET", r"/rest/posts")
    def listing(ask: Ask, m: re.Match[str]) -> Any:
        if ask.query.get("q") != "author" or not versioned(ask):
            return refused("Invalid query parameters passed to request")
        shown = [{"id": s.id, "author": s.account, "commentary": s.text, "createdAt": int(s.at * 1000),
                  "lifecycleState": "PUBLISHED"} for s in reversed(all_.of("linkedin"))
                 if s.account == ask.query.get("author")]  # fmt: skip
        return {"elements": shown, "paging": {"start": 0, "count": len(shown)}}

    return p


def _pinterest(all_: Personas) -> Persona:
    """Pinterest v5: ``/user_account``, ``/boards`` (one board), ``POST /pins`` (an image by URL), the
    board's pins for a lost answer."""
    p = Persona("pinterest", "acmecoffee", "acmecoffee")
    board = "549755885175"
    v = r"/v5"

    @p.route("GET", rf"{v}/user_account")
    def me(ask: Ask, m: re.Match[str]) -> Any:
        return {
            "id": p.account,
            "username": p.handle,
            "business_name": "Acme Coffee",
            "account_type": "BUSINESS",
        }

    @p.route("GET", rf"{v}/boards")
    def boards(ask: Ask, m: re.Match[str]) -> Any:
        return {"items": [{"id": board, "name": "Coffee", "privacy": "PUBLIC"}], "bookmark": None}

    @p.route("POST", rf"{v}/pins")
    def pin(ask: Ask, m: re.Match[str]) -> Any:
        body = ask.json or {}
        if body.get("board_id") != board:
            return Answer(404, {"code": 4, "message": "Board not found."})
        if (body.get("media_source") or {}).get("source_type") not in {"image_url", "image_base64"}:
            return Answer(
                400, {"code": 1, "message": "The sandbox takes image pins (video pins are not answered)"}
            )
        number = all_.next_id()
        pid = f"81375246{number:010d}"
        text = str(body.get("description") or body.get("title") or "")
        made = all_.record(Made("pinterest", pid, text, f"https://www.pinterest.com/pin/{pid}/", p.account,
                                extra={"board_id": board, "title": body.get("title"), "link": body.get("link")}))  # fmt: skip
        return Answer(201, _pin(made))

    @p.route("GET", rf"{v}/(?:boards/[^/]+/)?pins")  # the board's pins; the user's (the collector's timeline)
    def pins(ask: Ask, m: re.Match[str]) -> Any:
        return {"items": [_pin(made) for made in reversed(all_.of("pinterest"))], "bookmark": None}

    return p


def _pin(made: Made) -> dict[str, Any]:
    return {"id": made.id, "board_id": made.extra["board_id"], "description": made.text,
            "title": made.extra.get("title"), "link": made.extra.get("link"), "created_at": _iso(made.at)[:-5]}  # fmt: skip


def _weibo(all_: Personas) -> Persona:
    """Weibo: ``oauth2/get_token_info`` (the uid), ``2/users/show.json``, ``2/statuses/share.json``
    (a status; the same text twice is refused 20019 as Weibo does), ``2/statuses/user_timeline.json``."""
    p = Persona("weibo", "5187665382", "acmecoffee")

    def status(made: Made) -> dict[str, Any]:
        return {"id": int(made.id), "idstr": made.id, "mid": made.id, "text": made.text,
                "created_at": datetime.fromtimestamp(made.at, UTC).strftime("%a %b %d %H:%M:%S +0000 %Y"),
                "user": {"id": int(p.account), "idstr": p.account}}  # fmt: skip

    @p.route("POST", r"/oauth2/get_token_info")
    def token_info(ask: Ask, m: re.Match[str]) -> Any:
        return {"uid": int(p.account), "appkey": "sandbox", "scope": "all", "create_at": int(time.time()),
                "expire_in": 157679999}  # fmt: skip

    @p.route("GET", r"/2/users/show\.json")
    def show(ask: Ask, m: re.Match[str]) -> Any:
        return {"id": int(p.account), "idstr": p.account, "screen_name": "Acme咖啡", "domain": p.handle,
                "followers_count": followers(p.account, len(all_.of("weibo"))), "friends_count": 180,
                "statuses_count": len(all_.of("weibo"))}  # fmt: skip

    @p.route("POST", r"/2/statuses/share\.json")
    def share(ask: Ask, m: re.Match[str]) -> Any:
        text = str(ask.value("status") or "")
        if any(s.text == text for s in all_.of("weibo")):
            return Answer(400, {"error": "repeat content!", "error_code": 20019,
                                "request": "/2/statuses/share.json"})  # fmt: skip
        sid = str(4_900_000_000_000_000 + all_.next_id())
        made = all_.record(Made("weibo", sid, text, f"https://weibo.com/{p.account}/{sid}", p.account))
        return status(made)

    @p.route("GET", r"/2/statuses/user_timeline\.json")
    def timeline(ask: Ask, m: re.Match[str]) -> Any:
        shown = [status(s) for s in reversed(all_.of("weibo"))]
        return {"statuses": shown, "total_number": len(shown)}

    return p


def _tiktok(all_: Personas) -> Persona:
    """TikTok's Content Posting API: ``GET /v2/user/info/``, creator info, ``content/init``
    (``PULL_FROM_URL`` photos: TikTok pulls and posts them at once), ``video/init`` (a Direct Post
    ``FILE_UPLOAD``: an upload URL here taking the chunks in order, 206 then 201 after the last; 416 out
    of order), ``status/fetch`` (``PROCESSING_UPLOAD`` until every byte is in, then ``PUBLISH_COMPLETE``
    with the post's id: the post is made once, at that read; the sandbox does not transcode) and
    ``video/list``. Every answer is the ``{data, error: {code: ok}}`` envelope."""
    p = Persona("tiktok", "-000OgXkVp2VqmnAGxUGGl6XodBGxIBqH9QS", "acmecoffee")
    ok = {"code": "ok", "message": "", "log_id": "20261207sandbox"}
    publishes: dict[str, Made] = {}
    privacy = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]

    def refused(status: int, code: str, message: str) -> Answer:
        return Answer(status, {"data": {}, "error": {"code": code, "message": message, "log_id": "sandbox"}})

    @p.route("GET", r"/v2/user/info/")
    def me(ask: Ask, m: re.Match[str]) -> Any:
        user = {"open_id": p.account, "display_name": "Acme Coffee", "following_count": 95,
                "follower_count": followers(p.account, len(all_.of("tiktok")))}  # fmt: skip
        return {"data": {"user": user}, "error": ok}

    @p.route("POST", r"/v2/post/publish/creator_info/query/")
    def creator(ask: Ask, m: re.Match[str]) -> Any:
        return {"data": {"creator_username": p.handle, "creator_nickname": "Acme Coffee",
                         "privacy_level_options": privacy,
                         "comment_disabled": False, "duet_disabled": False, "stitch_disabled": False,
                         "max_video_post_duration_sec": 600}, "error": ok}  # fmt: skip

    @p.route("POST", r"/v2/post/publish/video/init/")
    def video(ask: Ask, m: re.Match[str]) -> Any:
        """A Direct Post video by FILE_UPLOAD: an upload URL here; the post is made once the last byte
        is in and its status read (the sandbox does not transcode: a complete upload is processed)."""
        body = ask.json or {}
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        size = source.get("video_size")
        if source.get("source") != "FILE_UPLOAD" or not isinstance(size, int) or size <= 0:
            return refused(
                400, "invalid_params", "the sandbox takes FILE_UPLOAD videos with their video_size"
            )
        if info.get("privacy_level") not in privacy:
            return refused(403, "privacy_level_option_mismatch", "privacy_level is not among the options")
        number = all_.next_id()
        publish_id = f"v_pub_file~v2-1.{number}"
        p.objects[str(number)] = {"publish_id": publish_id, "size": size, "received": 0, "info": info}
        upload = f"{all_.base}{PREFIX}tiktok/upload/video/?upload_id={number}&upload_token=sandbox{number}"
        return {"data": {"publish_id": publish_id, "upload_url": upload}, "error": ok}

    @p.route("PUT", r"/upload/video/")
    def chunk(ask: Ask, m: re.Match[str]) -> Any:
        upload = p.objects.get(ask.query.get("upload_id", ""))
        if upload is None or ask.token != f"sandbox{ask.query.get('upload_id')}":
            return Answer(404, None)
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", ask.headers.get("content-range", ""))
        if (
            not found
            or int(found.group(1)) != upload["received"]
            or len(ask.raw) != int(found.group(2)) + 1 - int(found.group(1))
        ):
            return Answer(416, None)
        upload["received"] += len(ask.raw)
        return Answer(201 if upload["received"] >= upload["size"] else 206, None)

    @p.route("POST", r"/v2/post/publish/inbox/video/init/")
    def inbox(ask: Ask, m: re.Match[str]) -> Any:
        return refused(400, "invalid_params", "the sandbox takes direct posts (drafts are not answered)")

    @p.route("POST", r"/v2/post/publish/content/init/")
    def content(ask: Ask, m: re.Match[str]) -> Any:
        body = ask.json or {}
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        if body.get("media_type") != "PHOTO" or not 1 <= len(source.get("photo_images") or []) <= 35:
            return refused(400, "invalid_params", "media_type PHOTO with 1 to 35 photo_images")
        if body.get("post_mode") != "DIRECT_POST":
            return refused(400, "invalid_params", "the sandbox takes direct posts (drafts are not answered)")
        number = all_.next_id()
        post_id = f"7301234567890{number:06d}"
        publish_id = f"p_pub_url~v2-1.{number}"
        text = str(info.get("description") or info.get("title") or "")
        publishes[publish_id] = all_.record(
            Made("tiktok", post_id, text, f"https://www.tiktok.com/@{p.handle}/photo/{post_id}", p.account)
        )
        return {"data": {"publish_id": publish_id}, "error": ok}

    @p.route("POST", r"/v2/video/list/")
    def videos(ask: Ask, m: re.Match[str]) -> Any:  # the collector's timeline, newest first, one page
        shown = [{"id": t.id, "title": t.text, "video_description": t.text, "create_time": int(t.at),
                  "share_url": t.url} for t in reversed(all_.of("tiktok"))]  # fmt: skip
        return {"data": {"videos": shown, "cursor": int(time.time() * 1000), "has_more": False}, "error": ok}

    @p.route("POST", r"/v2/post/publish/status/fetch/")
    def status(ask: Ask, m: re.Match[str]) -> Any:
        publish_id = str(ask.value("publish_id"))
        upload = next((u for u in p.objects.values() if u.get("publish_id") == publish_id), None)
        if upload is not None and publish_id not in publishes:
            if upload["received"] < upload["size"]:
                return {"data": {"status": "PROCESSING_UPLOAD", "uploaded_bytes": upload["received"],
                                 "publicaly_available_post_id": []}, "error": ok}  # fmt: skip
            post_id = f"7301234567890{all_.next_id():06d}"
            text = str(upload["info"].get("title") or upload["info"].get("description") or "")
            publishes[publish_id] = all_.record(Made("tiktok", post_id, text, f"https://www.tiktok.com/@{p.handle}/video/{post_id}",
                                                     p.account, extra={"video": True, "bytes": upload["received"]}))  # fmt: skip
        made = publishes.get(publish_id)
        if made is None:
            return refused(400, "invalid_publish_id", "The publish_id does not exist")
        return {"data": {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [int(made.id)],
                         "uploaded_bytes": made.extra.get("bytes", 0)}, "error": ok}  # fmt: skip

    return p


def _wechat(all_: Personas) -> Persona:
    """WeChat Official Accounts (every answer HTTP 200 with ``errcode``; the token in the query):
    ``get_api_domain_ip`` (a token that works), ``material/add_material`` (a permanent image: the
    cover), ``draft/add``, ``freepublish/submit`` (a draft submits once: 40007 after), ``freepublish/get``
    (``publish_status`` 0, the article published, with its URL) and ``freepublish/batchget`` (the
    published articles, newest first)."""
    p = Persona("wechat", WECHAT_ACCOUNT, UNNAMED_HANDLES["wechat"])
    drafts: dict[str, dict[str, Any]] = {}
    jobs: dict[str, Made] = {}

    def errcode(code: int, message: str) -> dict[str, Any]:
        return {"errcode": code, "errmsg": f"{message} rid: sandbox"}

    @p.route("GET", r"/cgi-bin/get_api_domain_ip")
    def domain_ip(ask: Ask, m: re.Match[str]) -> Any:
        return {"ip_list": ["127.0.0.1"]}

    @p.route("POST", r"/cgi-bin/material/add_material")
    def material(ask: Ask, m: re.Match[str]) -> Any:
        if ask.query.get("type") not in ("image", "thumb") or "multipart/form-data" not in ask.headers.get(
            "content-type", ""
        ):
            return errcode(40004, "invalid media type")
        number = all_.next_id()
        media_id = f"SANDBOX_MATERIAL_{number}"
        p.objects[media_id] = {"url": f"{all_.base}{IMAGE_PATH}?material={number}"}
        return {"media_id": media_id, "url": p.objects[media_id]["url"]}

    @p.route("POST", r"/cgi-bin/draft/add")
    def draft(ask: Ask, m: re.Match[str]) -> Any:
        articles = (ask.json or {}).get("articles") or []
        if not articles:
            return errcode(44003, "empty news data")
        if articles[0].get("thumb_media_id") not in p.objects:
            return errcode(40007, "invalid media_id")
        media_id = f"SANDBOX_DRAFT_{all_.next_id()}"
        drafts[media_id] = {"article": articles[0], "submitted": False}
        return {"media_id": media_id}

    @p.route("POST", r"/cgi-bin/freepublish/submit")
    def submit(ask: Ask, m: re.Match[str]) -> Any:
        made = drafts.get(str(ask.value("media_id")))
        if made is None or made["submitted"]:
            return errcode(40007, "invalid media_id")
        made["submitted"] = True
        number = all_.next_id()
        article = made["article"]
        text = str(article.get("title") or "")
        jobs[str(2_247_503_050 + number)] = all_.record(
            Made(
                "wechat",
                f"SANDBOX_ARTICLE_{number}",
                text,
                f"https://mp.weixin.qq.com/s/sandbox{number}",
                p.account,
            )
        )
        return {"errcode": 0, "errmsg": "ok", "publish_id": str(2_247_503_050 + number)}

    @p.route("POST", r"/cgi-bin/freepublish/get")
    def job(ask: Ask, m: re.Match[str]) -> Any:
        publish_id = str(ask.value("publish_id"))
        made = jobs.get(publish_id)
        if made is None:
            return errcode(40002, "invalid argument")
        return {"publish_id": publish_id, "publish_status": 0, "article_id": made.id,
                "article_detail": {"count": 1, "item": [{"idx": 1, "article_url": made.url}]}, "fail_idx": []}  # fmt: skip

    @p.route("POST", r"/cgi-bin/freepublish/batchget")
    def batchget(ask: Ask, m: re.Match[str]) -> Any:
        shown = [{"article_id": a.id, "update_time": int(a.at),
                  "content": {"news_item": [{"title": a.text, "url": a.url, "is_deleted": False}]}}
                 for a in reversed(all_.of("wechat"))]  # fmt: skip
        return {"total_count": len(shown), "item_count": len(shown), "item": shown}

    return p


def _multipart_file(ask: Ask, name: str) -> bytes | None:
    """The bytes of the multipart/form-data field ``name`` of the request, or None."""
    from email import message_from_bytes
    from email.policy import HTTP

    kind = ask.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        return None
    message = message_from_bytes(f"Content-Type: {kind}\r\n\r\n".encode() + ask.raw, policy=HTTP)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == name:
            data = part.get_payload(decode=True)
            return data if isinstance(data, bytes) else None
    return None


def _authorize(app_field: str, ask: Ask, m: re.Match[str]) -> Answer:
    """An OAuth authorize page where the account's owner says yes at once: back to ``redirect_uri`` with a
    code and the ``state`` (the app named by ``app_field``; any code is the persona's account)."""
    back, state = ask.query.get("redirect_uri", ""), ask.query.get("state", "")
    if not back.startswith(("http://", "https://")) or not ask.query.get(app_field):
        return Answer(
            400, {"error": "invalid_request", "message": f"{app_field} and redirect_uri are required"}
        )
    sep = "&" if "?" in back else "?"
    return Answer(
        302, None, {"Location": f"{back}{sep}{urlencode({'code': 'sandbox-code', 'state': state})}"}
    )


def _douyin(all_: Personas) -> Persona:
    """The Douyin open platform (the legacy ``{data, extra}`` envelope; ``error_code`` 0 is success; the
    token in the ``access-token`` header, the account in ``open_id``): the OAuth token exchange and
    refresh (any code is the persona's account; scopes without ``item.comment``: no inbox to poll),
    ``upload_video`` (multipart ``video``, one request: the sandbox takes files below Douyin's 50 MB part
    threshold), ``create_video`` (a ``video_id`` is used once, as on Douyin), ``video_basic_info`` (the
    item made from a video, for a lost answer), ``video_data`` (the share URL and statistics) and
    ``video_list``. The sandbox does not transcode or review: a created video is public at once."""
    p = Persona("douyin", "sandbox-douyin-open-id-0001", "acmecoffee")
    v1 = r"/api/douyin/v1/video"
    extra = {"logid": "20261207sandbox", "now": 0, "error_code": 0, "description": "", "sub_error_code": 0,
             "sub_description": ""}  # fmt: skip
    videos: dict[str, dict[str, Any]] = {}  # video_id -> {bytes, item}

    def answer(data: dict[str, Any]) -> dict[str, Any]:
        return {"data": {"error_code": 0, "description": "", **data}, "extra": extra}

    def refused(code: int, description: str) -> dict[str, Any]:
        return {"data": {"error_code": code, "description": description},
                "extra": {**extra, "error_code": code, "description": description}}  # fmt: skip

    def shown(made: Made) -> dict[str, Any]:
        c = counts(made.id, made.at, time.time())
        return {"item_id": made.id, "title": made.text, "share_url": made.url, "create_time": int(made.at),
                "video_status": 1, "statistics": {"play_count": c["views"], "digg_count": c["likes"],
                                                  "comment_count": c["comments"], "share_count": c["shares"],
                                                  "forward_count": c["shares"], "download_count": 0}}  # fmt: skip

    p.route("GET", r"/platform/oauth/connect/", public=True)(partial(_authorize, "client_key"))

    @p.route("POST", r"/oauth/(?:access_token|refresh_token)/", public=True)
    def token(ask: Ask, m: re.Match[str]) -> Any:
        if not ask.form.get("client_key") or not (ask.form.get("code") or ask.form.get("refresh_token")):
            return refused(10002, "参数错误 (client_key and code or refresh_token are required)")
        return {"data": {"access_token": "sandbox-douyin-token", "refresh_token": "sandbox-douyin-refresh",
                         "open_id": p.account, "expires_in": 1296000, "refresh_expires_in": 2592000,
                         "scope": "user_info,video.create.bind,video.data.bind", "error_code": 0,
                         "description": ""}, "message": "success"}  # fmt: skip

    def mine(ask: Ask) -> bool:
        return ask.query.get("open_id") == p.account

    @p.route("POST", rf"{v1}/upload_video/")
    def upload(ask: Ask, m: re.Match[str]) -> Any:
        data = _multipart_file(ask, "video")
        if not mine(ask) or not data:
            return refused(2100005, "参数不合法")
        video_id = f"v0200fsandbox{all_.next_id():06d}"
        videos[video_id] = {"bytes": len(data), "item": None}
        return answer({"video": {"video_id": video_id, "width": 720, "height": 1280}})

    @p.route("POST", rf"{v1}/create_video/")
    def create(ask: Ask, m: re.Match[str]) -> Any:
        video_id = str(ask.value("video_id") or "")
        video = videos.get(video_id)
        if not mine(ask) or video is None or video["item"] is not None:
            return refused(2100005, "参数不合法")
        number = all_.next_id()
        item_id = f"@9VwSandboxDouyin{number:06d}=="
        video["item"] = all_.record(Made("douyin", item_id, str(ask.value("text") or ""),
                                         f"https://www.iesdouyin.com/share/video/{7300000000000000000 + number}/",
                                         p.account, extra={"video": True, "bytes": video["bytes"]}))  # fmt: skip
        return {"data": {"item_id": item_id, "error_code": 0, "description": ""}, "extra": extra}

    @p.route("POST", rf"{v1}/video_basic_info/")
    def basic(ask: Ask, m: re.Match[str]) -> Any:
        wanted = [str(w) for w in ask.value("video_ids") or []]
        made = [(w, videos[w]["item"]) for w in wanted if w in videos and videos[w]["item"] is not None]
        return answer({"list": [{"video_id": w, **shown(item)} for w, item in made]})

    @p.route("POST", rf"{v1}/video_data/")
    def data(ask: Ask, m: re.Match[str]) -> Any:
        found = [all_.find("douyin", str(i)) for i in ask.value("item_ids") or []]
        return answer({"list": [shown(f) for f in found if f is not None]})

    @p.route("GET", rf"{v1}/video_list/")
    def listing(ask: Ask, m: re.Match[str]) -> Any:
        return answer(
            {"list": [shown(d) for d in reversed(all_.of("douyin"))], "has_more": False, "cursor": 0}
        )

    return p


UPLOADER = "/api/upload"
"""Kuaishou's uploader paths (``/api/upload``, ``/fragment``, ``/complete``) at the ``endpoint`` host its
``start_upload`` names: a host and port only, so the sandbox answers them at its root for the persona."""


def _kuaishou(all_: Personas) -> Persona:
    """The Kuaishou open platform (flat answers, ``result`` 1 is success; ``app_id`` and ``access_token``
    in the query): OAuth (an authorize page that answers at once, ``oauth2/access_token`` and refresh),
    ``openapi/user_info``, ``photo/start_upload`` (an ``upload_token`` and this sandbox's host as the
    uploader ``endpoint``), the uploader (the whole file, or fragments then ``complete``), ``photo/publish``
    (an upload publishes once), ``photo/list`` and ``photo/info`` (the counts). No transcoding or review."""
    p = Persona("kuaishou", "sandbox-kuaishou-open-id-0001", "acmecoffee")
    uploads: dict[str, dict[str, Any]] = {}  # upload_token -> {fragments, bytes, photo}

    def refused(message: str) -> dict[str, Any]:
        return {"result": 10000200, "error_msg": message}

    def shown(made: Made) -> dict[str, Any]:
        c = counts(made.id, made.at, time.time())
        return {"photo_id": made.id, "caption": made.text, "create_time": int(made.at * 1000),
                "view_count": c["views"], "like_count": c["likes"], "comment_count": c["comments"]}  # fmt: skip

    p.route("GET", r"/oauth2/authorize", public=True)(partial(_authorize, "app_id"))

    @p.route("GET", r"/oauth2/(?:access_token|refresh_token)", public=True)
    def token(ask: Ask, m: re.Match[str]) -> Any:
        if not ask.query.get("app_id") or not (ask.query.get("code") or ask.query.get("refresh_token")):
            return refused("参数错误 (app_id and code or refresh_token are required)")
        return {"result": 1, "access_token": "sandbox-kuaishou-token", "expires_in": 172800,
                "refresh_token": "sandbox-kuaishou-refresh", "refresh_token_expires_in": 15552000,
                "open_id": p.account, "scopes": ["user_info", "user_video_publish", "user_video_info"]}  # fmt: skip

    @p.route("GET", r"/openapi/user_info")
    def user(ask: Ask, m: re.Match[str]) -> Any:
        return {"result": 1, "user_info": {"name": "Acme咖啡", "sex": "F", "follow": 35,
                                           "fan": followers(p.account, len(all_.of("kuaishou")))}}  # fmt: skip

    @p.route("POST", r"/openapi/photo/start_upload")
    def start(ask: Ask, m: re.Match[str]) -> Any:
        upload_token = f"sandboxks{all_.next_id():06d}"
        uploads[upload_token] = {"fragments": {}, "bytes": None, "photo": None}
        return {"result": 1, "upload_token": upload_token, "endpoint": all_.base.removeprefix("http://")}

    @p.route("POST", rf"{UPLOADER}(/fragment|/complete)?")
    def uploader(ask: Ask, m: re.Match[str]) -> Any:
        upload = uploads.get(ask.query.get("upload_token", ""))
        if upload is None:
            return refused("参数错误 (upload_token)")
        if m.group(1) == "/fragment":
            upload["fragments"][int(ask.query.get("fragment_id", "0"))] = len(ask.raw)
        elif m.group(1) == "/complete":
            if int(ask.query.get("fragment_count", "0")) != len(upload["fragments"]):
                return refused("参数错误 (fragment_count)")
            upload["bytes"] = sum(upload["fragments"].values())
        else:
            upload["bytes"] = len(ask.raw)
        return {"result": 1}

    @p.route("POST", r"/openapi/photo/publish")
    def publish(ask: Ask, m: re.Match[str]) -> Any:
        upload = uploads.get(ask.query.get("upload_token", ""))
        if upload is None or not upload["bytes"] or upload["photo"] is not None:
            return refused("参数错误 (upload_token)")
        photo_id = f"3xsandbox{all_.next_id():06d}"
        made = upload["photo"] = all_.record(Made("kuaishou", photo_id, str(ask.value("caption") or ""),
                                           f"https://www.kuaishou.com/short-video/{photo_id}", p.account,
                                           extra={"video": True, "bytes": upload["bytes"]}))  # fmt: skip
        return {"result": 1, "video_info": {"photo_id": photo_id, "caption": made.text}}

    @p.route("GET", r"/openapi/photo/list")
    def listing(ask: Ask, m: re.Match[str]) -> Any:
        return {"result": 1, "video_list": [shown(k) for k in reversed(all_.of("kuaishou"))]}

    @p.route("GET", r"/openapi/photo/info")
    def info(ask: Ask, m: re.Match[str]) -> Any:
        made = all_.find("kuaishou", ask.query.get("photo_id", ""))
        return refused("参数错误 (photo_id)") if made is None else {"result": 1, "video_info": shown(made)}

    return p


def _youtube(all_: Personas) -> Persona:
    """YouTube by Google OAuth (an authorize page that says yes at once, ``POST /token``) and the Data API
    v3: ``channels`` (``mine=true``: the token's channel, its uploads playlist; ``id=``: its statistics),
    the resumable upload (``POST /upload/youtube/v3/videos?uploadType=resumable`` answers a session in
    ``Location``; each ``PUT`` with ``Content-Range: bytes a-b/total`` answers 308 and ``Range`` until the
    last byte, then 201 with the video; ``bytes */total`` asks where it stands), ``videos`` (status
    ``processed``: the sandbox does not transcode; statistics) and the uploads playlist's items."""
    p = Persona("youtube", "UCsandboxAcmeCoffee0000001", "@acmecoffee")
    uploads = "UUsandboxAcmeCoffee0000001"
    sessions: dict[str, dict[str, Any]] = {}  # upload_id -> {total, held, metadata, made}

    def google_error(status: int, reason: str, message: str) -> Answer:
        return Answer(status, {"error": {"code": status, "message": message, "errors": [{"reason": reason}]}})

    def video(made: Made) -> dict[str, Any]:
        c = counts(made.id, made.at, time.time())
        return {"kind": "youtube#video", "id": made.id, **made.extra["metadata"],
                "status": {**made.extra["metadata"].get("status", {}), "uploadStatus": "processed"},
                "processingDetails": {"processingStatus": "succeeded"},
                "statistics": {"viewCount": str(c["views"]), "likeCount": str(c["likes"]),
                               "commentCount": str(c["comments"]), "favoriteCount": "0"}}  # fmt: skip

    p.route("GET", r"/o/oauth2/v2/auth", public=True)(partial(_authorize, "client_id"))

    @p.route("POST", r"/token", public=True)
    def token(ask: Ask, m: re.Match[str]) -> Any:
        if not ask.form.get("client_id") or not (ask.form.get("code") or ask.form.get("refresh_token")):
            return Answer(
                400, {"error": "invalid_request", "error_description": "client_id and a code are required"}
            )
        return {"access_token": "sandbox-youtube-token", "expires_in": 3599, "refresh_token": "sandbox-youtube-refresh",
                "scope": "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly",
                "token_type": "Bearer"}  # fmt: skip

    @p.route("GET", r"/youtube/v3/channels")
    def channels(ask: Ask, m: re.Match[str]) -> Any:
        if ask.query.get("mine") != "true" and ask.query.get("id") != p.account:
            return {"kind": "youtube#channelListResponse", "items": []}
        mine = all_.of("youtube")
        return {"kind": "youtube#channelListResponse", "items": [{
            "id": p.account, "snippet": {"title": "Acme Coffee", "customUrl": p.handle},
            "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": uploads}},
            "statistics": {"subscriberCount": str(followers(p.account, len(mine))), "hiddenSubscriberCount": False,
                           "viewCount": "0", "videoCount": str(len(mine))}}]}  # fmt: skip

    @p.route("POST", r"/upload/youtube/v3/videos")
    def start(ask: Ask, m: re.Match[str]) -> Any:
        total = ask.headers.get("x-upload-content-length", "")
        if (
            ask.query.get("uploadType") != "resumable"
            or not total.isdigit()
            or not isinstance(ask.json, dict)
        ):
            return google_error(
                400, "badRequest", "a resumable upload with its metadata and X-Upload-Content-Length"
            )
        upload_id = f"sandboxyt{all_.next_id():06d}"
        sessions[upload_id] = {"total": int(total), "held": 0, "metadata": ask.json, "made": None}
        where = (
            f"{all_.base}{PREFIX}youtube/upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"
        )
        return Answer(200, None, {"Location": where})

    @p.route("PUT", r"/upload/youtube/v3/videos")
    def put(ask: Ask, m: re.Match[str]) -> Any:
        session = sessions.get(ask.query.get("upload_id", ""))
        if session is None:
            return google_error(404, "notFound", "Not Found")
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", ask.headers.get("content-range", ""))
        if found:
            if int(found.group(1)) != session["held"] or len(ask.raw) != int(found.group(2)) + 1 - int(
                found.group(1)
            ):
                return google_error(400, "badContent", f"expected bytes from {session['held']}")
            session["held"] += len(ask.raw)
        if session["held"] >= session["total"]:
            if session["made"] is None:
                vid = f"SbX{all_.next_id():08d}"
                title = str((session["metadata"].get("snippet") or {}).get("title") or "")
                session["made"] = all_.record(Made("youtube", vid, title, f"https://www.youtube.com/watch?v={vid}", p.account,
                                                   extra={"video": True, "bytes": session["held"], "metadata": session["metadata"]}))  # fmt: skip
            return Answer(201 if found else 200, video(session["made"]))
        return Answer(308, None, {"Range": f"bytes=0-{session['held'] - 1}"} if session["held"] else {})

    @p.route("GET", r"/youtube/v3/videos")
    def videos(ask: Ask, m: re.Match[str]) -> Any:
        wanted = ask.query.get("id", "").split(",")
        return {"kind": "youtube#videoListResponse",
                "items": [video(v) for v in all_.of("youtube") if v.id in wanted]}  # fmt: skip

    @p.route("GET", r"/youtube/v3/playlistItems")
    def playlist(ask: Ask, m: re.Match[str]) -> Any:
        if ask.query.get("playlistId") != uploads:
            return google_error(404, "playlistNotFound", "The playlist cannot be found.")
        return {"kind": "youtube#playlistItemListResponse", "items": [
            {"kind": "youtube#playlistItem", "id": f"item-{v.id}",
             "contentDetails": {"videoId": v.id, "videoPublishedAt": _iso(v.at)[:-5] + "Z"},
             "snippet": {"title": v.text, "playlistId": uploads, "resourceId": {"kind": "youtube#video", "videoId": v.id}}}
            for v in reversed(all_.of("youtube"))]}  # fmt: skip

    return p
