"""Chorus on the embedded runtime, with the sandbox platform, as tests and benchmarks drive it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests

from chorus.local.runtime import LocalRuntime
from chorus.platforms.sandbox.server import SandboxServer
from tests.faults.harness import READ_TIMEOUT_S

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Correct-Horse-9-battery"


@dataclass
class Person:
    email: str
    user_id: str
    id_token: str
    access_token: str
    refresh_token: str | None


T = TypeVar("T")


class Chorus:
    def __init__(
        self,
        clock: str = "manual",
        extra_env: dict[str, str] | None = None,
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.sandbox = SandboxServer()
        sandbox_url = self.sandbox.start()
        env = {
            "CHORUS_SANDBOX_URL": sandbox_url,
            "CHORUS_SANDBOX_TIMEOUT_S": str(READ_TIMEOUT_S),
            **(extra_env or {}),
        }
        # Locally the listening poller searches the sandbox platform, never a real network.
        params = {"ListeningSources": "sandbox", **(parameters or {})}
        self.rt = LocalRuntime(REPO / "template.yaml", clock=clock, extra_env=env, parameters=params).start()
        self.http = requests.Session()

    def close(self) -> None:
        self.rt.stop()
        self.sandbox.stop()

    # ---------------------------------------------------------------- API helpers
    def call(
        self, method: str, path: str, key: str | None = None, workspace: str | None = None, **kw: Any
    ) -> requests.Response:
        """``key``: an API key or a person's sign-in token (then ``workspace`` names the workspace)."""
        headers = kw.pop("headers", {})
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if workspace:
            headers["X-Chorus-Workspace"] = workspace
        return self.http.request(method, self.rt.api_url + path, headers=headers, timeout=30, **kw)

    def person(self, email: str, password: str = PASSWORD) -> Person:
        """A new person of the user pool, signed up and confirmed through the pool's own API (as the web
        app does: SignUp, then the e-mailed code, played here by AdminConfirmSignUp and the verified
        e-mail), and signed in: real tokens of the pool."""
        from chorus.auth.pool import default_pool

        cognito = self.rt.client("cognito-idp")
        pool = default_pool()
        assert pool is not None
        cognito.sign_up(ClientId=pool.client_id, Username=email, Password=password,
                        UserAttributes=[{"Name": "email", "Value": email}])  # fmt: skip
        cognito.admin_confirm_sign_up(UserPoolId=pool.pool_id, Username=email)
        cognito.admin_update_user_attributes(
            UserPoolId=pool.pool_id,
            Username=email,
            UserAttributes=[{"Name": "email_verified", "Value": "true"}],
        )
        tokens = pool.sign_in(email, password)
        return Person(email, pool.user_id(email), tokens.id_token, tokens.access_token, tokens.refresh_token)

    def workspace(self, name: str = "Acme", timezone: str = "UTC") -> tuple[str, str]:
        from chorus.auth.workspaces import create_workspace

        ws, key = create_workspace(name, timezone)
        return ws.id, key

    def sandbox_account(self, key: str, handle: str = "brand") -> str:
        answer = self.call(
            "POST",
            "/accounts",
            key,
            json={
                "platform": "sandbox",
                "platform_account_id": handle,
                "access_token": f"tok-{handle}",
                "handle": handle,
            },
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def proven_account(
        self, key: str, platform: str, platform_account_id: str, handle: str | None = None
    ) -> str:
        """An account of ``key``'s workspace, stored as a connection whose ownership the platform
        confirmed leaves it (no fake of that platform's whoami needed: tests/faults/test_isolation.py
        and tests/contract/test_ownership.py test the proof itself)."""
        from chorus.accounts.service import connect_or_reconnect
        from chorus.accounts.tokens import TokenSet
        from chorus.auth.keys import parse_key

        parsed = parse_key(key)
        assert parsed is not None
        token = TokenSet(f"token-of-{platform_account_id}")
        return connect_or_reconnect(
            parsed.workspace_id, platform, platform_account_id, token, handle=handle
        ).id

    def fault(self, **fault: Any) -> None:
        requests.post(self.sandbox.url + "/_control/faults", json=fault, timeout=5).raise_for_status()

    def platform_requests(self) -> list[dict[str, Any]]:
        return list(requests.get(self.sandbox.url + "/_control/requests", timeout=5).json()["requests"])

    def platform_posts(self) -> list[dict[str, Any]]:
        return list(requests.get(self.sandbox.url + "/_control/posts", timeout=5).json()["posts"])

    # ---------------------------------------------------------------- metrics and reports helpers
    def engage(self, platform_post_id: str, **counts: int) -> dict[str, Any]:
        """Add engagement to a sandbox post (impressions, likes, comments, shares)."""
        answer = requests.post(
            f"{self.sandbox.url}/api/posts/{platform_post_id}/engage", json=counts, timeout=5
        )
        answer.raise_for_status()
        return dict(answer.json())

    def set_followers(self, handle: str, followers: int) -> None:
        """The sandbox account's follower count (what its account metrics will report)."""
        with self.sandbox.state.lock:
            self.sandbox.state.accounts.setdefault(handle, {})["followers"] = followers

    def tick_at(self, name: str, at: Any) -> Any:
        """Fire a schedule as EventBridge would at ``at`` (a datetime): the event's ``time`` is ``at``."""
        matches = [s for k, s in self.rt.schedules.items() if k == name or k.split(".")[0] == name]
        assert len(matches) == 1, f"no single schedule named {name!r}"
        return self.rt.invoke(matches[0].function.logical_id, matches[0].event(at))


def eventually(probe: Callable[[], T | None], timeout: float = 60.0, every: float = 0.05) -> T:
    """``probe()``'s first truthy value, asked until ``timeout`` s pass (generous: a loaded machine is slow,
    a condition met early returns at once)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not reached within {timeout} s")


def closed_within(socket: Any, seconds: float) -> bool:
    """Whether the WebSocket ``socket`` is closed by the server within ``seconds``."""
    from websockets.exceptions import ConnectionClosed

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.recv(timeout=0.05)
        except TimeoutError:
            continue
        except ConnectionClosed:
            return True
    return False
