"""The two API Gateways of the template, played on 127.0.0.1.

* REST API: each ``Type: Api`` event of a function is a route; a request becomes the API Gateway
  proxy event (v1) that Lambda would receive, and the function's answer becomes the HTTP response.
* WebSocket API: ``$connect``/``$disconnect``/``$default`` (and custom route keys) go to the functions
  their integrations name; the management API (``POST /@connections/{id}``) pushes to live clients and
  answers 410 Gone for connections that are not there, as API Gateway does.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chorus.local.functions import LocalFunction
from chorus.local.sources import Activity

log = logging.getLogger("chorus.local")


#: (method, path with query, headers, body) -> (status, headers, body)
Handle = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


def serve_http(handle: Handle, name: str, port: int = 0) -> ThreadingHTTPServer:
    """An HTTP/1.1 server on 127.0.0.1 (``port`` 0: a free one) answering every request with ``handle``,
    in a daemon thread named ``name``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: with Nagle's algorithm the body waited for the
        # client's delayed ACK (~40 ms on every keep-alive request).
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = dict(self.headers.items())
            status, out_headers, data = handle(self.command, self.path, headers, body)
            self.send_response(status)
            for k, v in out_headers.items():
                if k.lower() not in {"content-length", "connection"}:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, QUERY, ...) reaches the routing too: one the API has no
            # route for is a 405 problem, as from API Gateway, not http.server's 501 page.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server


@dataclass
class Route:
    method: str  # GET, POST, ... or ANY
    path: str  # template path, e.g. /posts/{post_id}
    function: LocalFunction
    pattern: re.Pattern[str]
    literal_segments: int

    @classmethod
    def build(cls, method: str, path: str, function: LocalFunction) -> Route:
        regex = "^"
        literals = 0
        for segment in path.strip("/").split("/"):
            if not segment:
                continue
            if segment.startswith("{") and segment.endswith("+}"):
                regex += f"/(?P<{segment[1:-2]}>.+)"
            elif segment.startswith("{") and segment.endswith("}"):
                regex += f"/(?P<{segment[1:-1]}>[^/]+)"
            else:
                regex += "/" + re.escape(segment)
                literals += 1
        regex += "/?$"
        return cls(method.upper(), path, function, re.compile(regex), literals)


class RestApi:
    def __init__(self, routes: list[Route], stage: str, activity: Activity) -> None:
        # Most specific first: more literal segments win, as in API Gateway.
        self.routes = sorted(routes, key=lambda r: (-r.literal_segments, r.method == "ANY"))
        self.stage = stage
        self.activity = activity
        self.server: ThreadingHTTPServer | None = None

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            m = route.pattern.match(path)
            if m and route.method in {method, "ANY"}:
                return route, m.groupdict()
        return None

    def event(
        self,
        route: Route,
        params: dict[str, str],
        method: str,
        raw_path: str,
        headers: dict[str, str],
        body: bytes,
    ) -> dict[str, Any]:
        split = urlsplit(raw_path)
        query = parse_qs(split.query, keep_blank_values=True)
        text_body: str | None
        try:
            text_body, is_b64 = (body.decode("utf-8"), False) if body else (None, False)
        except UnicodeDecodeError:
            text_body, is_b64 = base64.b64encode(body).decode(), True
        return {
            "resource": route.path,
            "path": split.path,
            "httpMethod": method,
            "headers": headers or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{self.stage}{split.path}",
                "stage": self.stage,
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
                "accountId": "123456789012",
                "apiId": "local",
            },
            "body": text_body,
            "isBase64Encoded": is_b64,
        }

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(raw_path).path
        found = self.match(method, path)
        if found is None:
            problem = {
                "type": "about:blank",
                "title": "Not found",
                "status": 404,
                "detail": f"no route {method} {path}",
            }
            if any(r.pattern.match(path) for r in self.routes):
                problem.update(status=405, title="Method not allowed")
            return (
                problem["status"],
                {"Content-Type": "application/problem+json"},
                json.dumps(problem).encode(),
            )  # type: ignore[return-value]
        route, params = found
        with self.activity:
            try:
                answer = route.function.invoke(self.event(route, params, method, raw_path, headers, body))
            except Exception:
                log.exception("API function %s raised", route.function.logical_id)
                return 502, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}'
        status = int(answer.get("statusCode", 200))
        out_headers = dict(answer.get("headers") or {})
        for k, values in (answer.get("multiValueHeaders") or {}).items():
            out_headers[k] = ", ".join(values)
        payload = answer.get("body") or ""
        data = base64.b64decode(payload) if answer.get("isBase64Encoded") else str(payload).encode()
        return status, out_headers, data

    def start(self, port: int = 0) -> int:
        self.server = serve_http(self.handle, "chorus-http", port)
        return int(self.server.server_address[1])

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


class WebSocketApi:
    """WebSocket API on 127.0.0.1 plus its management endpoint (post_to_connection)."""

    def __init__(
        self,
        routes: dict[str, LocalFunction],
        selection_expression: str,
        stage: str,
        activity: Activity,
    ) -> None:
        self.routes = routes
        self.selection = selection_expression
        self.stage = stage
        self.activity = activity
        self.connections: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.server: Any = None
        self.management: ThreadingHTTPServer | None = None
        self.port = 0
        self.management_port = 0

    def _event(self, route_key: str, event_type: str, connection_id: str, **extra: Any) -> dict[str, Any]:
        return {
            "requestContext": {
                "routeKey": route_key,
                "eventType": event_type,
                "connectionId": connection_id,
                "domainName": f"127.0.0.1:{self.port}",
                "stage": self.stage,
                "apiId": "local-ws",
                "requestId": str(uuid.uuid4()),
                "connectedAt": int(time.time() * 1000),
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {"sourceIp": "127.0.0.1"},
            },
            "isBase64Encoded": False,
            **extra,
        }

    def _invoke(self, route_key: str, event: dict[str, Any]) -> dict[str, Any]:
        function = self.routes.get(route_key) or self.routes.get("$default")
        if function is None:
            return {"statusCode": 200}
        with self.activity:
            try:
                answer = function.invoke(event)
            except Exception:
                log.exception("WebSocket route %s raised", route_key)
                return {"statusCode": 500}
        return answer if isinstance(answer, dict) else {"statusCode": 200}

    def _route_key(self, message: str) -> str:
        match = re.match(r"^\$request\.body\.(.+)$", self.selection or "")
        if match:
            try:
                value: Any = json.loads(message)
                for part in match.group(1).split("."):
                    value = value[part]
                if isinstance(value, str) and value in self.routes:
                    return value
            except (ValueError, KeyError, TypeError):
                pass
        return "$default"

    def start(self) -> tuple[int, int]:
        from websockets.http11 import Response
        from websockets.sync.server import ServerConnection, serve

        api = self

        def process_request(connection: ServerConnection, request: Any) -> Response | None:
            connection_id = base64.urlsafe_b64encode(uuid.uuid4().bytes[:12]).decode()
            split = urlsplit(request.path)
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            headers = dict(request.headers.raw_items())
            event = api._event(
                "$connect", "CONNECT", connection_id, headers=headers, queryStringParameters=query or None
            )
            answer = api._invoke("$connect", event)
            status = int(answer.get("statusCode", 200))
            if status >= 300:
                return connection.respond(status, answer.get("body") or "Forbidden")
            connection.chorus_id = connection_id  # type: ignore[attr-defined]
            return None

        def handler(connection: ServerConnection) -> None:
            connection_id: str = connection.chorus_id  # type: ignore[attr-defined]
            with api._lock:
                api.connections[connection_id] = connection
            try:
                for message in connection:
                    text = message if isinstance(message, str) else message.decode()
                    key = api._route_key(text)
                    answer = api._invoke(key, api._event(key, "MESSAGE", connection_id, body=text))
                    if answer.get("body"):
                        connection.send(answer["body"])
            except Exception:  # noqa: S110 - the client went away; $disconnect follows
                pass
            finally:
                with api._lock:
                    api.connections.pop(connection_id, None)
                api._invoke("$disconnect", api._event("$disconnect", "DISCONNECT", connection_id))

        self.server = serve(handler, "127.0.0.1", 0, process_request=process_request, compression=None)
        self.port = int(self.server.socket.getsockname()[1])
        threading.Thread(target=self.server.serve_forever, name="chorus-ws", daemon=True).start()
        self.management_port = self._start_management()
        return self.port, self.management_port

    def push(self, connection_id: str, data: bytes) -> bool:
        with self._lock:
            connection = self.connections.get(connection_id)
        if connection is None:
            return False
        try:
            connection.send(data.decode("utf-8", errors="replace"))
        except Exception:
            return False
        return True

    def _start_management(self) -> int:
        api = self
        path_re = re.compile(r"^(?:/[^/@]+)?/@connections/([^/?]+)$")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(
                self, status: int, body: dict[str, Any] | None = None, error: str | None = None
            ) -> None:
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if error:
                    self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _target(self) -> str | None:
                from urllib.parse import unquote

                m = path_re.match(urlsplit(self.path).path)
                return unquote(m.group(1)) if m else None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                target = self._target()
                if target and api.push(target, data):
                    self._answer(200)
                else:
                    self._answer(410, {"message": f"connection {target} is gone"}, "GoneException")

            def do_DELETE(self) -> None:
                target = self._target()
                with api._lock:
                    connection = api.connections.get(target or "")
                if connection is None:
                    self._answer(410, {"message": "gone"}, "GoneException")
                    return
                connection.close()
                self._answer(204)

            def do_GET(self) -> None:
                target = self._target()
                with api._lock:
                    alive = (target or "") in api.connections
                if alive:
                    self._answer(200, {"identity": {"sourceIp": "127.0.0.1"}})
                else:
                    self._answer(410, {"message": "gone"}, "GoneException")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.management = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.management.daemon_threads = True
        threading.Thread(target=self.management.serve_forever, name="chorus-ws-mgmt", daemon=True).start()
        return int(self.management.server_address[1])

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
        if self.management:
            self.management.shutdown()
            self.management.server_close()


Deliver = Callable[[dict[str, Any]], None]
