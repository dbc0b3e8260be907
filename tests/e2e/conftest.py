"""End-to-end suite: Chorus on its embedded runtime against a real local Bluesky network.

Collected only when ``CHORUS_E2E=1`` (``make e2e`` sets it), so the default ``make test`` run neither
starts the network nor reports these tests as skipped. The network (PostgreSQL, Redis, PLC, PDS,
AppView) is started once per session by ``e2e/localnet.py`` and stopped by PID at the end.

The terminal summary names each scenario with its wall time, and the latencies measured against the
network (publish lag, poll-to-inbox, ...) recorded through the ``measure`` fixture.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.atproto import Actor, Network
from tests.e2e.proxy import LossyProxy
from tests.integration.harness import Chorus, eventually

if os.environ.get("CHORUS_E2E") != "1":
    collect_ignore_glob = ["test_*.py"]

REPO = Path(__file__).resolve().parents[2]
MEASURED: dict[str, str] = {}
SCENARIOS: list[tuple[str, str, float]] = []


def _localnet() -> Any:
    spec = importlib.util.spec_from_file_location("chorus_e2e_localnet", REPO / "e2e" / "localnet.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def localnet() -> Iterator[Any]:
    began = time.monotonic()
    net = _localnet().start()
    MEASURED["network start (postgres + redis + PLC/PDS/AppView)"] = f"{time.monotonic() - began:.1f} s"
    try:
        yield net
    finally:
        net.stop()


@pytest.fixture(scope="session")
def network(localnet: Any) -> Network:
    return Network(localnet.pds, localnet.appview)


@pytest.fixture(scope="session")
def pds_proxy(localnet: Any) -> Iterator[LossyProxy]:
    proxy = LossyProxy(localnet.pds).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def chorus(localnet: Any) -> Iterator[Chorus]:
    # Listening searches only the sandbox: nothing but loopback is ever called.
    c = Chorus(parameters={"ListeningSources": "sandbox"})
    yield c
    c.close()


@pytest.fixture(scope="session")
def brand(network: Network, pds_proxy: LossyProxy, chorus: Chorus) -> dict[str, Any]:
    """The brand's Bluesky account, connected to a workspace with a handle and an app password.

    Its PDS URL is the lossy proxy (a transparent pass-through until a test asks it to lose answers)."""
    actor = network.create_account("brand")
    app_password = network.create_app_password(actor, "chorus")
    ws, key = chorus.workspace("Brand on Bluesky")
    answer = chorus.call(
        "POST",
        "/accounts",
        key,
        json={
            "platform": "bluesky",
            "handle": actor.handle,
            "app_password": app_password,
            "base_url": pds_proxy.url,
        },
    )
    assert answer.status_code == 201, answer.text
    account = answer.json()
    from chorus.inbox.poller import tracked

    eventually(lambda: any(t.account_id == account["id"] for t in tracked(["bluesky"])), timeout=15)
    return {"actor": actor, "ws": ws, "key": key, "account": account["id"], "app_password": app_password}


@pytest.fixture(scope="session")
def fans(network: Network) -> list[Actor]:
    return [network.create_account("fan") for _ in range(3)]


@pytest.fixture(scope="session")
def published(chorus: Chorus) -> dict[str, Any]:
    """What scenario 1 published (other scenarios build on the real post)."""
    return {}


@pytest.fixture
def measure() -> Any:
    def record(name: str, value: str) -> None:
        MEASURED[name] = value

    return record


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        doc = report.nodeid.split("::")[-1]
        SCENARIOS.append((doc, report.outcome, report.duration))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SCENARIOS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("Bluesky end-to-end scenarios")
    for name, outcome, seconds in SCENARIOS:
        write(f"{outcome:>7}  {seconds:6.1f} s  {name}")
    if MEASURED:
        terminalreporter.section("Measured against the local network")
        for name, value in MEASURED.items():
            write(f"{name}: {value}")
