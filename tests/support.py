"""One place that finds test material: the project's sample events and the shared platform fixtures."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "events"


def fixtures_dir() -> Path:
    """The documented platform payloads in ``../shared/fixtures`` (override with CHORUS_FIXTURES)."""
    override = os.environ.get("CHORUS_FIXTURES")
    path = Path(override) if override else REPO.parent / "shared" / "fixtures"
    if not override and not path.is_dir():
        path = _beside_origin() or path
    if not path.is_dir():
        raise FileNotFoundError(
            f"platform fixtures not found at {path}: clone the repo beside shared/ or set CHORUS_FIXTURES"
        )
    return path


def _beside_origin() -> Path | None:
    """A clone made with `git clone <local checkout>` finds shared/ beside the checkout it came from."""
    import subprocess

    out = subprocess.run(
        ["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not out or "://" in out or out.startswith("git@"):
        return None
    candidate = Path(out).resolve().parent / "shared" / "fixtures"
    return candidate if candidate.is_dir() else None


def fixture_bytes(relative: str) -> bytes:
    """A fixture's exact bytes (signatures are computed over them)."""
    return (fixtures_dir() / relative).read_bytes()


def fixture_json(relative: str) -> Any:
    return json.loads(fixture_bytes(relative))


def load_event(source: str, case: str) -> Any:
    """A sample event from ``events/<source>/<case>.json``."""
    return json.loads((EVENTS / source / f"{case}.json").read_text())


@contextmanager
def main_table_in_moto(monkeypatch: Any, table: str) -> Iterator[None]:
    """moto in-process with the main table and a KMS key for tokens, the settings pointed at them."""
    from moto import mock_aws

    from chorus.config import reset_caches
    from chorus.local.motoserver import dynamodb_requests_one_at_a_time

    dynamodb_requests_one_at_a_time()  # conditional writes from racing threads stay atomic
    monkeypatch.setenv("CHORUS_TABLE", table)
    with mock_aws():
        import boto3

        key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
        monkeypatch.setenv("CHORUS_KMS_KEY_ID", key)
        reset_caches()
        from chorus.store.models import MainItem, bind

        bind()
        MainItem.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        yield
    reset_caches()


class LoopbackServer:
    """A platform (or proxy) stand-in on 127.0.0.1, on a free port, served on a daemon thread:
    ``LoopbackServer(HandlerClass)``; ``url``; ``stop()``."""

    def __init__(self, handler: type[Any]) -> None:
        import threading
        from http.server import ThreadingHTTPServer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def json_handler() -> type[Any]:
    """A request handler base that answers JSON (``self._answer(status, body)``) and logs nothing."""
    from http.server import BaseHTTPRequestHandler

    class JsonHandler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return JsonHandler
