"""Routes: the caller's workspace and its API keys."""

from __future__ import annotations

from dataclasses import asdict

from pydantic import BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, principal, query, route
from chorus.auth import workspaces
from chorus.auth.roles import Role
from chorus.inbox.live import ConnectionCloser, LiveSessions
from chorus.store.pages import PageRequest

bp = Blueprint(__name__)


class PatchWorkspace(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = None


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: str


@route(bp, "/workspace", methods=["GET"])
def get_workspace() -> Response:
    return ok(asdict(workspaces.get_workspace(principal().workspace_id)))


@route(bp, "/workspace", methods=["PATCH"])
def patch_workspace() -> Response:
    who = principal(Role.ADMIN)
    req = body(bp.current_request, PatchWorkspace)
    return ok(asdict(workspaces.update_workspace(who.workspace_id, name=req.name, timezone=req.timezone)))


@route(bp, "/keys", methods=["GET"])
def list_keys() -> Response:
    who = principal(Role.ADMIN)
    found = workspaces.api_keys_page(who.workspace_id, PageRequest.from_query(query(bp.current_request)))
    return ok({"keys": [asdict(k) for k in found.items], "next_cursor": found.next_cursor})


@route(bp, "/keys", methods=["POST"])
def create_key() -> Response:
    who = principal(Role.ADMIN)
    req = body(bp.current_request, NewKey)
    info, plaintext = workspaces.create_api_key(who, req.name, req.role)
    return ok({**asdict(info), "key": plaintext}, status=201)


@route(bp, "/keys/{key_id}", methods=["DELETE"])
def revoke_key(key_id: str) -> Response:
    from chorus.inbox.wiring import live_sender

    closer: ConnectionCloser = live_sender()  # type: ignore[assignment]  # the management API adapter
    workspaces.revoke_api_key(principal(Role.ADMIN), key_id, LiveSessions(closer))
    return Response(body="", status_code=204)
