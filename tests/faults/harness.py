"""Fault-test harness: a scriptable fake platform on 127.0.0.1 and a bed that runs the real publisher.

Write ``tests/faults/test_<platform>.py`` with the two fixtures of ``tests/faults/conftest.py``:
``platform`` (a :class:`FakePlatform`, started and stopped per test) and ``bed`` (a :class:`PublisherBed`
on moto, wired to that platform). Everything runs in-process: a scenario takes about a second, plus
``READ_TIMEOUT_S`` for each answer it holds.

FakePlatform (the platform side)
--------------------------------
* ``platform.url``: ``http://127.0.0.1:<port>``; give it to the account as ``base_url`` (``bed.account``
  does), or to an adapter built with a base URL.
* ``platform.route(method, pattern, handler)``: ``pattern`` is a regular expression matched against
  the whole path (no query string); ``handler(req, match)`` returns a :class:`Reply`, or a
  ``(status, body)`` / ``body`` shorthand (a dict body is sent as JSON with status 200). ``req`` is a
  :class:`Request`: ``method``, ``path``, ``query`` (last value per name), ``headers`` (case-insensitive
  Message), ``json`` (decoded JSON body or None), ``form`` (urlencoded or multipart text fields), ``body``
  (raw bytes).
* ``platform.create(kind, record)``: what a handler calls to make a record (a status, a tweet, a
  comment); it gets an ``id`` if it has none (``"<kind>-<n>"``) and is kept in ``platform.records[kind]``.
  Scenarios assert ``platform.records`` exactly: that is the "exactly the right records exist" check.
* ``platform.requests``: every request received, in order (also those a fault answered), and
  ``platform.calls(method, pattern)`` the ones matching a route pattern.
* Scripted faults, per route (the same ``method``/``pattern`` strings as the route), consumed in the
  order they were added, each ``times`` times (``None``: for ever):

  - ``platform.fail(method, pattern, status, body=None, times=1, headers=None)``: answer ``status``
    without calling the handler (503 then OK: ``fail(..., 503)``; a 4xx for ever: ``times=None``;
    an eventually consistent listing that shows nothing yet: ``fail("GET", ..., 200, {"data": []})``).
  - ``platform.create_then_timeout(method, pattern, times=1)``: call the handler (the record is
    made) then hold the answer until the client gives up on it (``HOLD_MAX_S``): a certain timeout.
  - ``platform.create_then_drop(method, pattern, times=1)``: call the handler, then close the socket
    without answering (the client sees a reset / RemoteDisconnected at once).
  - ``platform.drop(method, pattern, times=1)``: close the socket without calling the handler (the
    request arrived, nothing was made: an unknown outcome whose verify finds nothing).
  - ``platform.fail_when(method, pattern, predicate, status, body=None, times=1)``: as ``fail`` but
    only for requests where ``predicate(req)`` is true (fail "part 2" of a thread by its text).

PublisherBed (Chorus's side)
----------------------------
* The REAL ``chorus.posts.publisher.handle`` runs against the real store on in-process moto (the main
  table as the template defines it, a KMS key for tokens). Platform calls time out after
  ``READ_TIMEOUT_S`` (``CHORUS_HTTP_READ_TIMEOUT_S`` / ``CHORUS_SANDBOX_TIMEOUT_S``), so a held answer
  costs that long (generous: an answer given at once never times out on a loaded machine).
* ``bed.account(platform="sandbox", platform_account_id="acct-1", token="tok-1", base_url=None,
  extra=None, refresh_token=None, handle=None) -> account_id`` (``base_url`` defaults to the fake's URL;
  a workspace is made on first use: ``bed.workspace_id``).
* ``bed.post(account_id, text, thread=(), first_comment=None, media=(), link=None, due=None) -> post_id``:
  a post with one target, scheduled at ``due`` (default: now) and handed to the queue as the scheduler
  does (``scheduled -> queued``). ``media`` are :class:`chorus.posts.model.MediaRef` (give ``url=``; a
  route of the fake can serve the bytes).
* ``bed.run_until_settled(max_deliveries=100) -> list[Outcome]``: delivers queued messages at once,
  earliest due first, advancing the injectable clock (``bed.now()``; ``bed.clock``) to each message's
  delivery time instead of waiting. A delivery that raises is redelivered with ``receive_count + 1``
  (as SQS does after the visibility timeout), up to ``max_receives``; ``bed.crashes`` keeps what each
  raised (assert it is empty, or holds only your ``WorkerKilled``: a crash is otherwise silent).
* ``bed.kill_after_landed(part)``: the next time ``part`` lands (``"0"`` root, ``"1"``.. thread parts,
  ``"comment"``) the worker dies right after the store persisted it (``WorkerKilled``, a BaseException:
  nothing in the publisher catches it); the message is then redelivered.
* ``bed.kill_after_sent(part)``: the worker dies once ``part`` was marked sent, before its request goes
  out (a crash mid-call as the store sees it: the redelivery must verify before sending it again).
* ``bed.target(post_id, account_id)`` (a :class:`chorus.posts.model.Target`, read consistently),
  ``bed.public(post_id)`` (the post as ``GET /posts/{id}`` shows it), ``bed.events.names()`` and
  ``bed.events.events`` (domain events), ``bed.queue.sent`` (every message sent, with its delay).
* ``bed.retry(post_id, accounts=None)`` (``POST /posts/{id}/retry``'s domain call, as an editor) and
  ``bed.edit(post_id, account_id, text, ...)`` (an edit with new content, as the API makes it).

Example::

    def test_part_2_5xx_then_success(bed, platform):
        mastodon_routes(platform)  # registers POST /api/v1/statuses, ...
        platform.fail_when("POST", "/api/v1/statuses", lambda r: r.form.get("status") == "two", 503)
        account = bed.account("mastodon", base_url=platform.url)
        post = bed.post(account, "one", thread=("two",))
        bed.run_until_settled()
        assert [r["status"] for r in platform.records["status"]] == ["one", "two"]
        assert bed.target(post, account).state is TargetState.PUBLISHED
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from functools import partialmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chorus.platforms.sandbox.server import hold_until_hung_up

READ_TIMEOUT_S = 3.0
"""The read timeout of every platform call in a fault test: what a held answer costs. Generous, so that
an answer the fake gives at once is never taken for a lost one on a loaded machine (CI's two cores run
two workers); a lost answer is never left to this timeout alone: the fake holds it (``HOLD_MAX_S``)."""
HOLD_MAX_S = 120.0
"""``create_then_timeout`` holds its answer until the client gives up on it (closes the connection after
its read timeout), however long that takes: the timeout is certain, not a race against a tight clock.
This only bounds a client that never gives up (one with no read timeout): it then gets the answer."""


# ------------------------------------------------------------------------------------------ platform
@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list: JSON; bytes: as is; None: empty
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request, "re.Match[str]"], Any]


@dataclass
class _Fault:
    kind: str  # answer | timeout | drop (after the handler) | cut (instead of it)
    times: int | None
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    when: Callable[[Request], bool] | None = None


@dataclass
class _Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler
    faults: list[_Fault] = field(default_factory=list)


class FakePlatform:
    """A platform on 127.0.0.1 whose routes and faults a test scripts (see the module docstring)."""

    def __init__(self) -> None:
        self.routes: list[_Route] = []
        self.requests: list[Request] = []
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.RLock()
        self._pending_faults: dict[tuple[str, str], list[_Fault]] = {}
        platform = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                platform._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-platform", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- scripting
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        with self.lock:
            found = _Route(method.upper(), pattern, re.compile(pattern), handler)
            found.faults.extend(self._pending_faults.pop((method.upper(), pattern), []))
            self.routes.append(found)

    def create(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """Keep ``record`` as a record of ``kind`` made by the platform (an ``id`` is given if missing)."""
        with self.lock:
            made = self.records.setdefault(kind, [])
            record.setdefault("id", f"{kind}-{len(made) + 1}")
            made.append(record)
            return record

    def fail(self, method: str, pattern: str, status: int, body: Any = None, **options: Any) -> None:
        self.fail_when(method, pattern, None, status, body, **options)

    def fail_when(
        self,
        method: str,
        pattern: str,
        when: Callable[[Request], bool] | None,
        status: int,
        body: Any = None,
        *,
        times: int | None = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._add(method, pattern, _Fault("answer", times, status, body, headers or {}, when))

    def _misbehave(
        self,
        kind: str,
        method: str,
        pattern: str,
        *,
        times: int | None = 1,
        when: Callable[[Request], bool] | None = None,
    ) -> None:
        self._add(method, pattern, _Fault(kind, times, when=when))

    create_then_timeout = partialmethod(_misbehave, "timeout")  # made, answer held past the read timeout
    create_then_drop = partialmethod(_misbehave, "drop")  # made, then the socket closed unanswered
    drop = partialmethod(_misbehave, "cut")  # the socket closed before anything is made

    def calls(self, method: str, pattern: str) -> list[Request]:
        regex = re.compile(pattern)
        with self.lock:
            return [r for r in self.requests if r.method == method.upper() and regex.fullmatch(r.path)]

    def _add(self, method: str, pattern: str, fault: _Fault) -> None:
        with self.lock:
            for found in self.routes:
                if found.method == method.upper() and found.pattern == pattern:
                    found.faults.append(fault)
                    return
            self._pending_faults.setdefault((method.upper(), pattern), []).append(fault)

    # -- serving
    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        split = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        req = Request(
            method=http.command,
            path=split.path,
            query={k: v[-1] for k, v in parse_qs(split.query).items()},
            headers=http.headers,
            body=raw,
        )
        _decode_body(req)
        with self.lock:
            self.requests.append(req)
            match, found = None, None
            for candidate in self.routes:
                match = candidate.regex.fullmatch(req.path) if candidate.method == req.method else None
                if match:
                    found = candidate
                    break
            fault = self._take_fault(found, req) if found else None
        if found is None or match is None:
            _send(http, Reply(404, {"error": "not_found", "message": f"no route {req.method} {req.path}"}))
            return
        if fault is not None and fault.kind == "answer":
            _send(http, Reply(fault.status, fault.body, fault.headers))
            return
        if fault is not None and fault.kind == "cut":
            _cut(http)
            return
        try:
            reply = _as_reply(found.handler(req, match))
        except Exception as exc:  # a broken fake answers 500 loudly rather than hanging the client
            reply = Reply(500, {"error": "fake_platform_bug", "message": repr(exc)})
        if fault is not None and fault.kind == "timeout" and hold_until_hung_up(http.connection, HOLD_MAX_S):
            http.close_connection = True
            return  # the record exists; the client gave up waiting for its answer
        if fault is not None and fault.kind == "drop":
            _cut(http)
            return
        _send(http, reply)

    def _take_fault(self, found: _Route, req: Request) -> _Fault | None:
        for fault in found.faults:
            if fault.times is not None and fault.times <= 0:
                continue
            if fault.when is not None and not fault.when(req):
                continue
            if fault.times is not None:
                fault.times -= 1
            return fault
        return None


def _cut(http: BaseHTTPRequestHandler) -> None:
    """Close the connection without a byte of answer."""
    http.close_connection = True
    with suppress(OSError):
        http.connection.shutdown(socket.SHUT_RDWR)


def _decode_body(req: Request) -> None:
    kind = req.headers.get_content_type() if req.body else ""
    if kind == "application/json":
        req.json = json.loads(req.body or b"null")
    elif kind == "application/x-www-form-urlencoded":
        req.form = {k: v[-1] for k, v in parse_qs(req.body.decode(), keep_blank_values=True).items()}
    elif kind.startswith("multipart/"):
        from email.parser import BytesParser

        header = f"Content-Type: {req.headers.get('Content-Type')}\r\n\r\n".encode()
        message = BytesParser().parsebytes(header + req.body)
        for part in message.get_payload() if message.is_multipart() else []:
            name = part.get_param("name", header="content-disposition")
            if name and part.get_filename() is None:
                payload = part.get_payload(decode=True) or b""
                req.form[str(name)] = payload.decode(errors="replace")


def _as_reply(answer: Any) -> Reply:
    if isinstance(answer, Reply):
        return answer
    if isinstance(answer, tuple):
        return Reply(answer[0], answer[1])
    return Reply(200, answer)


def _send(http: BaseHTTPRequestHandler, reply: Reply) -> None:
    if isinstance(reply.body, bytes):
        data, kind = reply.body, "application/octet-stream"
    elif reply.body is None:
        data, kind = b"", "application/json"
    else:
        data, kind = json.dumps(reply.body).encode(), "application/json"
    try:
        http.send_response(reply.status)
        headers = {"Content-Type": kind, **reply.headers}
        for name, value in headers.items():
            http.send_header(name, value)
        http.send_header("Content-Length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)
    except OSError:
        pass  # the client gave up (a held answer)


# ------------------------------------------------------------------------------------------ bed
class WorkerKilled(BaseException):
    """The publisher's process died (a BaseException: nothing in the publisher handles it)."""


@dataclass
class _Queued:
    message: Any
    deliver_at: datetime
    receive_count: int = 1


class FakeQueue:
    """The publish queue: collects messages; the bed delivers them (``sent``: every (message, delay))."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.sent: list[tuple[Any, int]] = []
        self.waiting: list[_Queued] = []

    def send(self, message: Any, delay_s: int) -> None:
        self.sent.append((message, delay_s))
        self.waiting.append(_Queued(message, self.clock() + timedelta(seconds=delay_s)))


class Clock:
    """The injectable clock: ``now()``; ``advance(seconds)``; never goes back."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=max(0.0, seconds))

    def move_to(self, when: datetime) -> None:
        self.at = max(self.at, when)


class PublisherBed:
    """The real publisher on moto, a fake queue and event bus, an injectable clock (module docstring)."""

    def __init__(self, platform: FakePlatform, start: datetime | None = None, max_receives: int = 5) -> None:
        from chorus.events.envelope import InMemoryEventPublisher

        self.platform = platform
        self.clock = Clock(start or datetime.now(UTC).replace(microsecond=0))
        self.queue = FakeQueue(self.clock.now)
        self.events = InMemoryEventPublisher()
        self.max_receives = max_receives
        self.workspace_id = ""
        self.outcomes: list[Any] = []
        self.crashes: list[BaseException] = []  # what each delivery that raised raised (WorkerKilled too)
        self._kill: set[str] = set()
        self._kill_sent: set[str] = set()

    def now(self) -> datetime:
        return self.clock.now()

    def deps(self) -> Any:
        from chorus.posts.publisher import PublisherDeps

        return PublisherDeps(
            queue=self.queue,
            events=self.events,
            media_url=lambda key: f"{self.platform.url}/media/{key}",
            max_receives=self.max_receives,
            now=self.clock.now,
            sleep=self.clock.advance,
        )

    # -- setting up
    def workspace(self) -> str:
        from chorus.auth import workspaces

        if not self.workspace_id:
            self.workspace_id = workspaces.create_workspace("faults")[0].id
        return self.workspace_id

    def account(
        self,
        platform: str = "sandbox",
        platform_account_id: str = "acct-1",
        *,
        token: str = "tok-1",
        base_url: str | None = None,
        extra: dict[str, str] | None = None,
        refresh_token: str | None = None,
        handle: str | None = None,
    ) -> str:
        from chorus.accounts import service as accounts
        from chorus.accounts.tokens import TokenSet

        account = accounts.connect_account(
            self.workspace(),
            platform,
            platform_account_id,
            TokenSet(access_token=token, refresh_token=refresh_token),
            handle=handle or platform_account_id,
            base_url=base_url or self.platform.url,
            extra=extra,
        )
        return account.id

    def post(
        self,
        account_id: str,
        text: str,
        *,
        thread: tuple[str, ...] = (),
        first_comment: str | None = None,
        media: tuple[Any, ...] = (),
        link: str | None = None,
        due: datetime | None = None,
    ) -> str:
        import uuid

        from chorus.accounts import service as accounts
        from chorus.posts.model import Content, Mode, Post, Target, TargetState
        from chorus.posts.scheduler import enqueue
        from chorus.store import posts as repo

        platform = accounts.get_account(self.workspace(), account_id).platform
        at = due or self.now()
        post_id = "p" + uuid.uuid4().hex[:15]
        target = Target(self.workspace(), post_id, account_id, platform, TargetState.SCHEDULED, at)
        content = Content(text=text, media=media, link=link, thread=thread, first_comment=first_comment)
        repo.create_posts(
            [
                Post(
                    workspace_id=self.workspace(), id=post_id, content=content, variants={},
                    account_ids=(account_id,), mode=Mode.SCHEDULE, scheduled_at=at, timezone="UTC",
                    created_by="faults", created_at=self.now(), updated_at=self.now(), targets=(target,),
                )
            ]
        )  # fmt: skip
        assert enqueue(target, self.now, self.queue), "the new target could not be queued"
        return post_id

    # -- running
    def run_until_settled(self, max_deliveries: int = 100) -> list[Any]:
        """Deliver every message (and those they send) at once, earliest first; the outcomes in order."""
        from chorus.posts.publisher import handle

        outcomes: list[Any] = []
        for _ in range(max_deliveries):
            if not self.queue.waiting:
                return outcomes
            self.queue.waiting.sort(key=lambda q: q.deliver_at)
            queued = self.queue.waiting.pop(0)
            self.clock.move_to(queued.deliver_at)
            try:
                outcome = handle(queued.message, queued.receive_count, self.deps())
            except (WorkerKilled, Exception) as crash:
                self.crashes.append(crash)
                if queued.receive_count < self.max_receives:  # SQS redelivers after the visibility timeout
                    queued.receive_count += 1
                    queued.deliver_at = self.now() + timedelta(seconds=30)
                    self.queue.waiting.append(queued)
                continue
            outcomes.append(outcome)
            self.outcomes.append(outcome)
        raise AssertionError(f"not settled after {max_deliveries} deliveries: {self.queue.waiting}")

    def kill_after_landed(self, part: str) -> None:
        """The worker dies right after ``part``'s landing was persisted (once)."""
        self._kill.add(part)

    def kill_after_sent(self, part: str) -> None:
        """The worker dies right after ``part`` was persisted as sent, before its request (once)."""
        self._kill_sent.add(part)

    def _landed(self, part: str) -> None:
        if part in self._kill:
            self._kill.discard(part)
            raise WorkerKilled(f"worker killed after part {part} landed")

    def _sent(self, part: str) -> None:
        if part in self._kill_sent:
            self._kill_sent.discard(part)
            raise WorkerKilled(f"worker killed after part {part} was marked sent")

    # -- reading and acting as a user
    def target(self, post_id: str, account_id: str) -> Any:
        from chorus.store import posts as repo

        found = [
            t
            for t in repo.targets_of(self.workspace(), post_id, consistent=True)
            if t.account_id == account_id
        ]
        assert found, f"no target {post_id}.{account_id}"
        return found[0]

    def public(self, post_id: str) -> dict[str, Any]:
        from chorus.store import posts as repo

        return repo.get_post(self.workspace(), post_id, consistent=True).public()

    def editor(self) -> Any:
        from chorus.auth.keys import Principal
        from chorus.auth.roles import Role

        return Principal(self.workspace(), "faults-editor", Role.EDITOR)

    def retry(self, post_id: str, accounts: list[str] | None = None) -> Any:
        from chorus.posts import service

        return service.retry_post(self.editor(), post_id, accounts, self.queue, now=self.now())

    def edit(self, post_id: str, account_id: str, text: str, **content: Any) -> Any:
        from chorus.posts import service
        from chorus.posts.model import Content, Mode

        return service.edit_post(
            self.editor(),
            post_id,
            service.Compose(
                accounts=(account_id,), content=Content(text=text, **content), mode=Mode.SCHEDULE,
                scheduled_at=(datetime.now(UTC) + timedelta(minutes=1)).replace(tzinfo=None), timezone="UTC",
            ),
            None,
            self.queue,
        )  # fmt: skip


@contextmanager
def publisher_bed(monkeypatch: Any, platform: FakePlatform) -> Iterator[PublisherBed]:
    """A :class:`PublisherBed` on a fresh moto main table, platform calls timing out in READ_TIMEOUT_S."""
    from chorus.platforms import registry
    from tests.support import main_table_in_moto

    monkeypatch.setenv("CHORUS_HTTP_READ_TIMEOUT_S", str(READ_TIMEOUT_S))
    monkeypatch.setenv("CHORUS_SANDBOX_TIMEOUT_S", str(READ_TIMEOUT_S))
    monkeypatch.setenv("CHORUS_SANDBOX_URL", platform.url)
    monkeypatch.setenv("CHORUS_EMBEDDED", "true")  # fakes and media on 127.0.0.1 over http, as locally
    with main_table_in_moto(monkeypatch, "faults-main"):
        registry.reset()
        bed = PublisherBed(platform)
        _arm_kills(monkeypatch, bed)
        yield bed
    registry.reset()


def _arm_kills(monkeypatch: Any, bed: PublisherBed) -> None:
    from chorus.store import posts as repo

    landed, sent = repo.TargetProgress.part_landed, repo.TargetProgress.part_sent

    def part_landed(self: Any, part: str, platform_id: str, url: str | None) -> None:
        landed(self, part, platform_id, url)
        bed._landed(part)

    def part_sent(self: Any, part: str) -> None:
        sent(self, part)
        bed._sent(part)

    monkeypatch.setattr(repo.TargetProgress, "part_landed", part_landed)
    monkeypatch.setattr(repo.TargetProgress, "part_sent", part_sent)
