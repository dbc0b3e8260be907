"""Pausing all scheduled publishing in a workspace (by a person, or by the crisis early-warning), and
resuming it. While paused, a target that comes due is held as ``paused`` by the publisher, never sent;
on resume it goes out at once (or stays held for a person to reschedule)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from chorus.auth import workspaces
from chorus.posts.model import TargetState
from chorus.posts.queue import PublishQueue
from chorus.posts.scheduler import enqueue
from chorus.store import posts as repo


@dataclass(frozen=True)
class PauseState:
    paused: bool
    reason: str | None
    held_targets: int


def status(workspace_id: str) -> PauseState:
    ws = workspaces.get_workspace(workspace_id)
    return PauseState(ws.publishing_paused, ws.paused_reason, len(repo.paused_targets(workspace_id)))


def pause(workspace_id: str, reason: str) -> PauseState:
    workspaces.set_publishing_paused(workspace_id, True, reason or "paused")
    return status(workspace_id)


def resume(
    workspace_id: str, queue: PublishQueue, release: str = "now", now: datetime | None = None
) -> PauseState:
    """Lift the pause; held targets go out now (``release="now"``) or stay held for rescheduling ("hold")."""
    now = now or datetime.now(UTC)
    workspaces.set_publishing_paused(workspace_id, False)
    if release == "now":
        for target in repo.paused_targets(workspace_id):
            due = max(target.due_at or now, now)
            if repo.transition(target, TargetState.SCHEDULED, expect=[TargetState.PAUSED], due_at=due):
                enqueue(replace(target, state=TargetState.SCHEDULED, due_at=due), lambda: now, queue)
    return status(workspace_id)
