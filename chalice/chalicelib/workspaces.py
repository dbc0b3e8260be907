"""Routes: the caller's workspace and its API keys."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, parse, principal, query, route
from chorus.auth import audit, workspaces
from chorus.auth.roles import Role
from chorus.inbox.live import ConnectionCloser, LiveSessions
from chorus.store.pages import PageRequest

bp = Blueprint(__name__)


class PatchWorkspace(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = None
    audit_retention_days: int | None = Field(default=None, ge=1, le=3650)
    manual_overdue_hours: int | None = Field(default=None, ge=1, le=336)  # reminder publishing's window


class AuditQuery(BaseModel):
    action: str | None = Field(default=None, max_length=100)
    actor: str | None = Field(default=None, max_length=200)
    target: str | None = Field(default=None, max_length=300)
    outcome: Literal["ok", "refused", "failed"] | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: str
    scopes: list[str] | None = Field(default=None, max_length=4)  # read, publish, inbox, reports
    valid_until: AwareDatetime | None = None


@route(bp, "/workspace", methods=["GET"])
def get_workspace() -> Response:
    return ok(asdict(workspaces.get_workspace(principal().workspace_id)))


@route(bp, "/workspace", methods=["PATCH"])
def patch_workspace() -> Response:
    who = principal(Role.ADMIN)
    req = body(bp.current_request, PatchWorkspace)
    changed = workspaces.update_workspace(
        who.workspace_id,
        name=req.name,
        timezone=req.timezone,
        audit_retention_days=req.audit_retention_days,
        manual_overdue_hours=req.manual_overdue_hours,
    )
    return ok(asdict(changed))


@route(bp, "/audit", methods=["GET"])
def audit_log() -> Response:
    """The workspace's audit log, newest first: ``action`` (exact, or a prefix ending in "."), ``actor``,
    ``target``, ``outcome``, ``since``/``until``, ``limit`` and ``cursor``."""
    who = principal(Role.ADMIN)
    params = query(bp.current_request)
    wanted = parse(AuditQuery, {k: v for k, v in params.items() if k not in ("limit", "cursor")})
    found = audit.entries_page(
        who.workspace_id, audit.AuditFilter(**wanted.model_dump()), PageRequest.from_query(params)
    )
    return ok({"entries": [asdict(e) for e in found.items], "next_cursor": found.next_cursor})


@route(bp, "/keys", methods=["GET"])
def list_keys() -> Response:
    who = principal(Role.ADMIN)
    found = workspaces.api_keys_page(who.workspace_id, PageRequest.from_query(query(bp.current_request)))
    return ok({"keys": [asdict(k) for k in found.items], "next_cursor": found.next_cursor})


@route(bp, "/keys", methods=["POST"])
def create_key() -> Response:
    who = principal(Role.ADMIN)
    req = body(bp.current_request, NewKey)
    info, plaintext = workspaces.create_api_key(who, req.name, req.role, req.scopes, req.valid_until)
    return ok({**asdict(info), "key": plaintext}, status=201)


@route(bp, "/keys/{key_id}", methods=["DELETE"])
def revoke_key(key_id: str) -> Response:
    from chorus.inbox.wiring import live_sender

    closer: ConnectionCloser = live_sender()  # type: ignore[assignment]  # the management API adapter
    workspaces.revoke_api_key(principal(Role.ADMIN), key_id, LiveSessions(closer))
    return Response(body="", status_code=204)
