"""A gateway in front of a fake platform: the application acts, then the proxy answers 502/504 for it
(the fault that makes "unknown means verify" necessary after a POST)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.faults.harness import FakePlatform, Reply, Request


def gateway_after_create(
    platform: FakePlatform, method: str, pattern: str, status: int, when: Callable[[Request], bool]
) -> None:
    """The first request of ``method`` ``pattern`` for which ``when`` holds is handled (its record is
    made) and then answered ``status`` with a gateway's HTML page instead of the platform's answer."""
    (route,) = [r for r in platform.routes if r.method == method.upper() and r.pattern == pattern]
    handle = route.handler
    fired: list[Request] = []

    def handler(req: Request, match: re.Match[str]) -> Any:
        answer = handle(req, match)
        if fired or not when(req):
            return answer
        fired.append(req)
        return Reply(status, f"<html><body><h1>{status} Gateway</h1></body></html>".encode())

    route.handler = handler
