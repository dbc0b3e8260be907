"""The sandbox social network: a small, clearly-labelled LOCAL-ONLY platform on 127.0.0.1.

It lets the demo and the integration tests publish, reply, read notifications and collect metrics
through the same adapter interface and the same ``requests`` calls as real platforms, with faults on
demand (5xx, 429 with Retry-After, 400 with a message, a timeout after the post was created, revoked
tokens). Every request is logged with its arrival time, which is how publish lag is measured.

It also answers as real platforms under ``/as/<platform>/...`` (:mod:`chorus.platforms.sandbox.personas`:
their documented whoami, publish and lookup endpoints; their metrics endpoints:
:mod:`chorus.platforms.sandbox.insights`), so their real adapters and collectors can run against it;
``GET /_control/published`` lists what was made there, and a fault for ``as:<platform>`` reaches it.
"""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chorus.platforms.sandbox.insights import answer_metrics
from chorus.platforms.sandbox.personas import IMAGE, IMAGE_PATH, PREFIX, UPLOADER, Personas
from chorus.platforms.sandbox.video import VIDEO, VIDEO_PATH

FILES = {IMAGE_PATH: (IMAGE, "image/jpeg"), VIDEO_PATH: (VIDEO, "video/mp4")}  # what the sandbox serves
AS = "as:"  # a fault's account naming a platform the sandbox answers as ("as:x")
LABEL = "Chorus sandbox (local only - not a real social network)"


@dataclass
class Fault:
    kind: str  # status | timeout_after_create | drop_after_create (the post is made, the socket closed unanswered)
    # the sandbox account, "*" for any; "as:<platform>": the writes (POSTs) to the sandbox answering as it
    account: str = "*"
    status: int = 503
    message: str = "sandbox fault"
    times: int = 1
    retry_after: int | None = None
    delay_s: float = 30.0  # timeout_after_create: held until the caller hangs up, at most this long
    after: int = 0  # let this many of the account's posts through first (fail part 2 of a thread: 1)


@dataclass
class SandboxState:
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    revoked_tokens: set[str] = field(default_factory=set)
    personas: Personas = field(default_factory=Personas)  # the sandbox answering as real platforms
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.personas.revoked = self.revoked_tokens  # a token revoked here is revoked on every platform
        answer_metrics(self.personas)  # what each platform's collector asks for a post's figures

    def take_fault(self, account: str) -> Fault | None:
        """The next fault for ``account`` (a platform answered as: ``as:<platform>``, never matched by "*")."""
        wanted = {account} if account.startswith(AS) else {"*", account}
        with self.lock:
            for fault in self.faults:
                if fault.account in wanted and fault.times > 0:
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None


_POSTS = re.compile(r"^/api/accounts/([^/]+)/posts$")
_ACCOUNT = re.compile(r"^/api/accounts/([^/]+)$")
_POST = re.compile(r"^/api/posts/([^/]+)$")
_METRICS = re.compile(r"^/api/posts/([^/]+)/metrics$")
_ENGAGE = re.compile(r"^/api/posts/([^/]+)/engage$")
TOKEN_PREFIX = "tok-"  # noqa: S105 - the sandbox's token convention: tok-<account>
_NOTIFS = re.compile(r"^/api/accounts/([^/]+)/notifications$")


class SandboxServer:
    def __init__(self) -> None:
        self.state = SandboxState()
        self.server: ThreadingHTTPServer | None = None
        self.url = ""

    def start(self, port: int = 0) -> str:
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Sandbox", LABEL)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                parsed: dict[str, Any] = json.loads(raw or b"{}")
                return parsed

            def _refused(self, fault: Fault | None) -> bool:
                """Answer a ``status`` fault (True), or let the request through (False)."""
                if fault is None or fault.kind != "status":
                    return False
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                self._send(fault.status, {"error": "sandbox_fault", "message": fault.message}, headers)
                return True

            def _as_platform(self) -> bool:
                """Answer a request for a persona (``/as/{platform}/...``); False: not one."""
                split = urlsplit(self.path)
                if split.path.startswith(UPLOADER):  # Kuaishou's uploader, at the host it names
                    split = split._replace(path=f"{PREFIX}kuaishou{split.path}")
                if not split.path.startswith(PREFIX):
                    return False
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                name = split.path[len(PREFIX) :].split("/", 1)[0]
                fault = state.take_fault(AS + name) if self.command == "POST" else None
                if self._refused(fault):
                    return True
                got = state.personas.answer(self.command, split.path, split.query, dict(self.headers), raw)
                if fault and fault.kind == "drop_after_create":
                    self.close_connection = True  # made, but the caller never hears of it
                    return True
                if (
                    fault
                    and fault.kind == "timeout_after_create"
                    and hold_until_hung_up(self.connection, fault.delay_s)
                ):
                    self.close_connection = True  # made, and the caller gave up on the answer
                    return True
                self._send(got.status, got.body, dict(got.headers))
                return True

            def _file(self, data: bytes, mime: str) -> None:
                """A media file; a ``Range: bytes=a-b`` read answered 206 with its total size (the
                publishers read a video in chunks)."""
                found = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
                first, last = (
                    (int(found.group(1)), int(found.group(2) or len(data) - 1))
                    if found
                    else (0, len(data) - 1)
                )
                last = min(last, len(data) - 1)
                self.send_response(206 if found else 200)
                self.send_header("Content-Type", mime)
                if found:
                    self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
                self.send_header("Content-Length", str(last + 1 - first))
                self.end_headers()
                self.wfile.write(data[first : last + 1])

            def _authorised(self) -> bool:
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
                if not token or token in state.revoked_tokens:
                    self._send(
                        401, {"error": "invalid_token", "message": "The access token is invalid or revoked"}
                    )
                    return False
                return True

            def do_POST(self) -> None:
                arrived = time.time()
                if self._as_platform():
                    return
                path = urlsplit(self.path).path
                body = self._body()
                if path == "/_control/faults":
                    with state.lock:
                        state.faults.append(Fault(**body))
                    self._send(201, {"ok": True})
                    return
                if path == "/_control/reset":
                    with state.lock:
                        state.faults.clear()
                        state.requests.clear()
                    self._send(200, {"ok": True})
                    return
                if path == "/_control/revoke":
                    state.revoked_tokens.add(body["token"])
                    self._send(200, {"ok": True})
                    return
                if path == "/_control/notify":
                    with state.lock:
                        note = {"id": f"n{len(state.notifications) + 1}", "created_at": _now(), **body}
                        state.notifications.append(note)
                    self._send(201, note)
                    return
                m = _ENGAGE.match(path)
                if m:
                    with state.lock:
                        post = state.posts.get(m.group(1))
                        if post is None:
                            self._send(404, {"error": "not_found"})
                            return
                        for k, v in body.items():
                            post["counts"][k] = post["counts"].get(k, 0) + int(v)
                    self._send(200, post["counts"])
                    return
                m = _POSTS.match(path)
                if not m:
                    self._send(404, {"error": "not_found", "message": f"no route {path}"})
                    return
                if not self._authorised():
                    return
                account = m.group(1)
                with state.lock:
                    state.requests.append(
                        {
                            "at": arrived,
                            "method": "POST",
                            "account": account,
                            "client_ref": body.get("client_ref"),
                        }
                    )
                fault = state.take_fault(account)
                if self._refused(fault):
                    return
                text = str(body.get("text", ""))
                if not text.strip() and not body.get("media"):
                    self._send(400, {"error": "validation", "message": "text or media is required"})
                    return
                post_id = uuid.uuid4().hex[:12]
                post = {
                    "id": post_id,
                    "account": account,
                    "text": text,
                    "media": body.get("media", []),
                    "reply_to": body.get("reply_to"),
                    "client_ref": body.get("client_ref"),
                    "idem_key": body.get("idem_key"),
                    "created_at": _now(),
                    "url": f"{self_url()}/p/{post_id}",
                    "counts": {"impressions": 0, "likes": 0, "comments": 0, "shares": 0},
                }
                with state.lock:
                    post["seq"] = len(state.posts) + 1
                    state.posts[post_id] = post
                    state.accounts.setdefault(account, {"followers": 0})
                if (
                    fault
                    and fault.kind == "timeout_after_create"
                    and hold_until_hung_up(self.connection, fault.delay_s)
                ):
                    self.close_connection = True  # the post exists, but the caller timed out
                    return
                self._send(201, {k: post[k] for k in ("id", "url", "created_at")})

            def do_GET(self) -> None:
                if self._as_platform():
                    return
                split = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(split.query).items()}
                path = split.path
                if path == "/_control/requests":
                    with state.lock:
                        self._send(200, {"requests": list(state.requests)})
                    return
                if path in FILES:
                    self._file(*FILES[path])
                    return
                if path == "/_control/faults":  # each with the times it has left
                    with state.lock:
                        self._send(200, {"faults": [asdict(f) for f in state.faults]})
                    return
                if path == "/_control/published":  # what the personas made, platform by platform
                    self._send(200, {"published": state.personas.listing()})
                    return
                if path == "/_control/posts":
                    with state.lock:
                        self._send(200, {"posts": list(state.posts.values())})
                    return
                if path == "/api/search":
                    term = query.get("q", "").lower()
                    after = int(query.get("since_seq", "0") or 0)
                    with state.lock:
                        found = [
                            p for p in state.posts.values() if term in p["text"].lower() and p["seq"] > after
                        ]
                    self._send(200, {"posts": sorted(found, key=lambda p: p["seq"])[:100]})
                    return
                if not self._authorised():
                    return
                if path == "/api/me":  # whoami: a sandbox token ``tok-<account>`` is that account's
                    token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
                    owner = token.removeprefix(TOKEN_PREFIX) if token.startswith(TOKEN_PREFIX) else ""
                    if owner:
                        self._send(200, {"id": owner, "username": owner})
                    else:
                        self._send(401, {"error": "invalid_token", "message": "not a sandbox account token"})
                    return
                m = _POSTS.match(path)
                if m:
                    since = query.get("since", "")
                    with state.lock:
                        posts = [
                            p
                            for p in state.posts.values()
                            if p["account"] == m.group(1) and p["created_at"] >= since
                        ]
                    self._send(200, {"posts": posts})
                    return
                m = _METRICS.match(path)
                if m:
                    with state.lock:
                        post = state.posts.get(m.group(1))
                    if post is None:
                        self._send(404, {"error": "not_found", "message": "no such post"})
                    else:
                        self._send(200, {"id": post["id"], **post["counts"]})
                    return
                m = _POST.match(path)
                if m:
                    with state.lock:
                        post = state.posts.get(m.group(1))
                    self._send(404, {"error": "not_found"}) if post is None else self._send(200, post)
                    return
                m = _NOTIFS.match(path)
                if m:
                    since = query.get("since_id", "")
                    with state.lock:
                        notes = [
                            n
                            for n in state.notifications
                            if n.get("account") == m.group(1) and int(n["id"][1:]) > int(since[1:] or 0)
                        ]
                    self._send(200, {"notifications": notes})
                    return
                m = _ACCOUNT.match(path)
                if m:
                    with state.lock:
                        info = state.accounts.setdefault(m.group(1), {"followers": 0})
                    self._send(200, {"id": m.group(1), **info})
                    return
                self._send(404, {"error": "not_found"})

            def do_PUT(self) -> None:
                if not self._as_platform():
                    self._send(404, {"error": "not_found"})

            def do_DELETE(self) -> None:
                if self._as_platform():
                    return
                if not self._authorised():
                    return
                m = _POST.match(urlsplit(self.path).path)
                with state.lock:
                    found = m is not None and state.posts.pop(m.group(1), None) is not None
                self._send(200 if found else 404, {"deleted": found})

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        urls[0] = self.url
        state.personas.base = self.url
        threading.Thread(target=server.serve_forever, name="sandbox", daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


urls = [""]


def hold_until_hung_up(connection: socket.socket, longest: float) -> bool:
    """Hold an answer until the caller hangs up (True: it timed out waiting), or ``longest`` seconds
    pass (False: answer it then). A lost answer is then a certain timeout, whatever the caller's read
    timeout, instead of a race between a sleep and that timeout on a busy machine."""
    deadline = time.monotonic() + longest
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([connection], [], [], min(left, 1.0))
        if not readable:
            continue
        try:
            if not connection.recv(1, socket.MSG_PEEK):
                return True  # end of stream: the caller closed the connection
        except OSError:
            return True  # reset by the caller
        time.sleep(0.05)  # bytes of a next request (none comes before this answer): keep holding
    return False


def self_url() -> str:
    return urls[0]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
