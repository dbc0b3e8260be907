"""Scheduled auto-publishing on the embedded runtime: on time, exactly once, never in an old form."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.harness import Chorus, eventually


@pytest.fixture(scope="module")
def chorus() -> Iterator[Chorus]:
    c = Chorus()
    yield c
    c.close()


@pytest.fixture
def tenant(chorus: Chorus) -> tuple[str, str, str]:
    ws, key = chorus.workspace()
    account = chorus.sandbox_account(key, handle=f"brand-{ws}")
    return ws, key, account


def post(chorus: Chorus, key: str, **body: Any) -> dict[str, Any]:
    answer = chorus.call("POST", "/posts", key, json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def target_of(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    return dict(chorus.call("GET", f"/posts/{post_id}", key).json()["targets"][0])


def settled(chorus: Chorus, key: str, post_id: str) -> dict[str, Any]:
    return eventually(
        lambda: (t := target_of(chorus, key, post_id))["state"] in {"published", "failed"} and t, timeout=30
    )


def requests_for(chorus: Chorus, account_handle: str) -> list[dict[str, Any]]:
    return [r for r in chorus.platform_requests() if r["account"] == account_handle]


def test_a_post_scheduled_for_t_is_published_once_at_t(chorus: Chorus, tenant: tuple[str, str, str]) -> None:
    ws, key, account = tenant
    # Given a post scheduled three seconds ahead
    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    created = post(chorus, key, text="On time", accounts=[account], scheduled_at=due.isoformat())
    # When it is published
    target = settled(chorus, key, created["id"])
    # Then the platform received exactly one request, within a second of the due time
    assert target["state"] == "published"
    calls = requests_for(chorus, f"brand-{ws}")
    assert len(calls) == 1
    assert abs(calls[0]["at"] - due.timestamp()) <= 1.0
    assert target["platform_post_id"] and target["url"]


def test_a_503_then_success_publishes_once(chorus: Chorus, tenant: tuple[str, str, str]) -> None:
    ws, key, account = tenant
    chorus.fault(
        kind="status", account=f"brand-{ws}", status=503, message="try later", times=1, retry_after=1
    )
    created = post(chorus, key, text="Retry me", accounts=[account], mode="now")
    target = settled(chorus, key, created["id"])
    assert target["state"] == "published"
    assert target["attempts"] == 2
    assert [a["outcome"] for a in target["attempt_log"]] == ["retry", "published"]
    assert len([p for p in chorus.platform_posts() if p["account"] == f"brand-{ws}"]) == 1


def test_a_timeout_after_the_post_was_created_publishes_once(
    chorus: Chorus, tenant: tuple[str, str, str]
) -> None:
    ws, key, account = tenant
    # Given the platform creates the post but answers after the client's timeout
    chorus.fault(kind="timeout_after_create", account=f"brand-{ws}", delay_s=3.0, times=1)
    created = post(chorus, key, text="Slow platform", accounts=[account], mode="now")
    # When the publisher verifies before retrying
    target = settled(chorus, key, created["id"])
    # Then the post exists once and the target found it in `verifying`
    assert target["state"] == "published"
    outcomes = [a["outcome"] for a in target["attempt_log"]]
    assert outcomes == ["unknown", "published"]
    assert len([p for p in chorus.platform_posts() if p["account"] == f"brand-{ws}"]) == 1
    assert len(requests_for(chorus, f"brand-{ws}")) == 1


def test_a_400_fails_with_the_platforms_message_and_an_event(
    chorus: Chorus, tenant: tuple[str, str, str]
) -> None:
    ws, key, account = tenant
    chorus.fault(kind="status", account=f"brand-{ws}", status=400, message="Duplicate status", times=1)
    created = post(chorus, key, text="Refused", accounts=[account], mode="now")
    target = settled(chorus, key, created["id"])
    assert target["state"] == "failed"
    assert "Duplicate status" in target["error"]
    assert target["attempts"] == 1
