"""Workspaces and their API keys: creation, authentication and key management."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.expressions.update import Action

from chorus.auth.keys import IssuedKey, Principal, issue_key, new_id, parse_key, secret_matches
from chorus.auth.roles import Role, at_least
from chorus.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from chorus.store import keys
from chorus.store.models import ApiKeyItem, WorkspaceItem, bind
from chorus.store.pages import Page, PageRequest, prefix_page


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    timezone: str
    created_at: datetime
    publishing_paused: bool = False
    paused_reason: str | None = None


class SessionCloser(Protocol):
    def close_sessions(self, workspace_id: str, key_id: str) -> int:
        """Close the live sessions (WebSocket connections) ``key_id`` opened; how many were open."""
        ...


@dataclass(frozen=True)
class ApiKeyInfo:
    key_id: str
    name: str
    role: Role
    created_at: datetime
    revoked: bool


def _to_workspace(item: WorkspaceItem) -> Workspace:
    return Workspace(
        id=item.workspace_id,
        name=item.name,
        timezone=item.timezone,
        created_at=item.created_at,
        publishing_paused=bool(item.publishing_paused),
        paused_reason=item.paused_reason,
    )


def validate_timezone(name: str, field: str = "timezone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed.on(field, f"unknown IANA time zone {name!r}", "iana_timezone") from exc
    return name


def create_workspace(name: str, timezone: str = "UTC") -> tuple[Workspace, str]:
    """Create a workspace and its first owner key; returns the key's plaintext (shown once)."""
    if not name.strip():
        raise ValidationFailed.on("name", "must not be empty", "required")
    validate_timezone(timezone)
    bind()
    workspace_id = new_id("ws", 6)
    item = WorkspaceItem(
        keys.workspace_pk(workspace_id),
        keys.workspace_meta_sk(),
        workspace_id=workspace_id,
        name=name.strip(),
        timezone=timezone,
        created_at=datetime.now(UTC),
    )
    try:
        item.save(condition=WorkspaceItem.pk.does_not_exist())
    except PutError as exc:  # pragma: no cover - 48 random bits colliding
        raise Conflict("workspace id collision, try again") from exc
    issued = _store_key(workspace_id, "owner", Role.OWNER)
    return _to_workspace(item), issued.plaintext


def get_workspace(workspace_id: str) -> Workspace:
    bind()
    try:
        item = WorkspaceItem.get(keys.workspace_pk(workspace_id), keys.workspace_meta_sk())
    except DoesNotExist as exc:
        raise NotFound(f"workspace {workspace_id} not found") from exc
    return _to_workspace(item)


def update_workspace(workspace_id: str, *, name: str | None = None, timezone: str | None = None) -> Workspace:
    bind()
    item = WorkspaceItem.get(keys.workspace_pk(workspace_id), keys.workspace_meta_sk())
    actions: list[Action] = []
    if name is not None:
        if not name.strip():
            raise ValidationFailed.on("name", "must not be empty", "required")
        actions.append(WorkspaceItem.name.set(name.strip()))
    if timezone is not None:
        actions.append(WorkspaceItem.timezone.set(validate_timezone(timezone)))
    if actions:
        item.update(actions=actions)
    return _to_workspace(item)


def set_publishing_paused(workspace_id: str, paused: bool, reason: str | None = None) -> Workspace:
    bind()
    item = WorkspaceItem.get(keys.workspace_pk(workspace_id), keys.workspace_meta_sk())
    item.update(
        actions=[
            WorkspaceItem.publishing_paused.set(paused),
            WorkspaceItem.paused_reason.set(reason) if reason else WorkspaceItem.paused_reason.remove(),
        ]
    )
    return _to_workspace(item)


def _store_key(workspace_id: str, name: str, role: Role) -> IssuedKey:
    issued = issue_key(workspace_id)
    ApiKeyItem(
        keys.workspace_pk(workspace_id),
        keys.api_key_sk(issued.key_id),
        workspace_id=workspace_id,
        key_id=issued.key_id,
        name=name,
        role=role.value,
        secret_hash=issued.secret_hash,
        created_at=datetime.now(UTC),
    ).save()
    return issued


def create_api_key(principal: Principal, name: str, role: str) -> tuple[ApiKeyInfo, str]:
    """An owner or admin issues a key of the same or a lower role."""
    try:
        wanted = Role(role)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailed.on("role", f"must be one of {allowed}", "enum") from exc
    if not at_least(principal.role, Role.ADMIN) or not at_least(principal.role, wanted):
        raise Forbidden(f"a {principal.role} key cannot issue a {wanted} key")
    if not name.strip():
        raise ValidationFailed.on("name", "must not be empty", "required")
    bind()
    issued = _store_key(principal.workspace_id, name.strip(), wanted)
    info = ApiKeyInfo(issued.key_id, name.strip(), wanted, datetime.now(UTC), False)
    return info, issued.plaintext


def list_api_keys(workspace_id: str) -> list[ApiKeyInfo]:
    bind()
    found = ApiKeyItem.query(keys.workspace_pk(workspace_id), ApiKeyItem.sk.startswith(keys.api_key_sk("")))
    return [ApiKeyInfo(i.key_id, i.name, Role(i.role), i.created_at, bool(i.revoked)) for i in found]


def api_keys_page(workspace_id: str, page: PageRequest) -> Page[ApiKeyInfo]:
    """One page of the workspace's API keys (GET /keys)."""
    bind()
    found = prefix_page(ApiKeyItem, keys.workspace_pk(workspace_id), keys.api_key_sk(""), page)
    return Page(
        [ApiKeyInfo(i.key_id, i.name, Role(i.role), i.created_at, bool(i.revoked)) for i in found.items],
        found.next_cursor,
    )


def revoke_api_key(principal: Principal, key_id: str, sessions: SessionCloser | None = None) -> None:
    """An owner or admin revokes a key of its workspace whose role is not above its own (an admin
    cannot revoke an owner's key); the key's live sessions are closed at once, not at their expiry."""
    if not at_least(principal.role, Role.ADMIN):
        raise Forbidden("only owners and admins revoke keys")
    bind()
    try:
        item = ApiKeyItem.get(keys.workspace_pk(principal.workspace_id), keys.api_key_sk(key_id))
    except DoesNotExist as exc:
        raise NotFound(f"api key {key_id} not found") from exc
    if not at_least(principal.role, Role(item.role)):
        raise Forbidden(f"a {principal.role} key cannot revoke a {item.role} key")
    item.update(actions=[ApiKeyItem.revoked.set(True)])
    if sessions is not None:
        sessions.close_sessions(principal.workspace_id, key_id)


def authenticate(authorization: str | None) -> Principal:
    """``Authorization: Bearer <key>`` -> the key's workspace and role, or Unauthorized."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("missing Authorization: Bearer <api key>")
    parsed = parse_key(authorization[7:])
    if parsed is None:
        raise Unauthorized("malformed API key")
    bind()
    try:
        item = ApiKeyItem.get(keys.workspace_pk(parsed.workspace_id), keys.api_key_sk(parsed.key_id))
    except DoesNotExist as exc:
        raise Unauthorized("unknown API key") from exc
    if item.revoked or not secret_matches(parsed.secret, item.secret_hash):
        raise Unauthorized("invalid API key")
    return Principal(item.workspace_id, item.key_id, Role(item.role))
