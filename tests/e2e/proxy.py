"""A loopback reverse proxy in front of the PDS that can lose an answer: the request reaches the PDS
(the record is created), but the connection is closed before the answer gets back, as a timeout or a
dropped connection would. Chorus then cannot know whether its call worked."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


class LossyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.seen: list[tuple[str, str]] = []  # (method, path) of every forwarded request
        self._drop: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LossyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def lose_answers(self, nsid: str, times: int = 1) -> None:
        """The next ``times`` calls to ``nsid`` reach the PDS, but their answers are lost."""
        with self._lock:
            self._drop[nsid] = times

    def answers_still_to_lose(self, nsid: str) -> int:
        with self._lock:
            return self._drop.get(nsid, 0)

    def calls(self, nsid: str) -> int:
        return sum(1 for _, path in self.seen if path.split("?", maxsplit=1)[0].endswith("/" + nsid))

    def _take_drop(self, path: str) -> bool:
        with self._lock:
            for nsid, left in self._drop.items():
                if left > 0 and path.split("?", maxsplit=1)[0].endswith("/" + nsid):
                    self._drop[nsid] = left - 1
                    return True
        return False

    def _handler(self) -> Any:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                proxy.seen.append((self.command, self.path))
                answer = requests.request(
                    self.command, proxy.upstream + self.path, headers=headers, data=body, timeout=30
                )
                if proxy._take_drop(self.path):
                    self.close_connection = True
                    self.connection.close()  # the PDS acted; its answer never arrives
                    return
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        return Handler
