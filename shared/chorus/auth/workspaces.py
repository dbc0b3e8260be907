"""Workspaces and their API keys: creation, authentication and key management."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.expressions.update import Action

from chorus.auth.audit import DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, retention_days
from chorus.auth.keys import IssuedKey, Principal, issue_key, new_id
from chorus.auth.roles import Role, Scope, at_least
from chorus.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chorus.store import keys
from chorus.store.models import ApiKeyItem, WorkspaceItem, bind
from chorus.store.pages import Page, PageRequest, prefix_page
from chorus.ttl import TtlCache

DEFAULT_OVERDUE_HOURS = 24
MAX_OVERDUE_HOURS = 24 * 14


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    timezone: str
    created_at: datetime
    publishing_paused: bool = False
    paused_reason: str | None = None
    audit_retention_days: int = DEFAULT_RETENTION_DAYS
    manual_overdue_hours: int = DEFAULT_OVERDUE_HOURS  # reminder publishing: unmarked this long -> overdue


def overdue_hours(settings: dict[str, object] | None) -> int:
    """A workspace's window for marking a reminder-published post posted (``manual_overdue_hours``)."""
    value = (settings or {}).get("manual_overdue_hours")
    return value if isinstance(value, int) and 1 <= value <= MAX_OVERDUE_HOURS else DEFAULT_OVERDUE_HOURS


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
    member_id: str | None = None  # the member it belongs to; None: a workspace key made by the CLI
    scopes: list[str] | None = None  # None: every scope of its role
    valid_until: datetime | None = None


def key_info(item: ApiKeyItem) -> ApiKeyInfo:
    return ApiKeyInfo(
        item.key_id,
        item.name,
        Role(item.role),
        item.created_at,
        bool(item.revoked),
        item.member_id,
        sorted(item.scopes) if item.scopes else None,
        item.valid_until,
    )


def to_workspace(item: WorkspaceItem) -> Workspace:
    return Workspace(
        id=item.workspace_id,
        name=item.name,
        timezone=item.timezone,
        created_at=item.created_at,
        publishing_paused=bool(item.publishing_paused),
        paused_reason=item.paused_reason,
        audit_retention_days=retention_days(item.settings),
        manual_overdue_hours=overdue_hours(item.settings),
    )


def validate_timezone(name: str, field: str = "timezone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed.on(field, f"unknown IANA time zone {name!r}", "iana_timezone") from exc
    return name


def new_workspace_item(name: str, timezone: str, owners: int = 0) -> WorkspaceItem:
    """A new workspace's item (not saved), its name and time zone checked."""
    if not name.strip():
        raise ValidationFailed.on("name", "must not be empty", "required")
    validate_timezone(timezone)
    bind()
    workspace_id = new_id("ws", 6)
    return WorkspaceItem(
        keys.workspace_pk(workspace_id),
        keys.workspace_meta_sk(),
        workspace_id=workspace_id,
        name=name.strip(),
        timezone=timezone,
        created_at=datetime.now(UTC),
        owners=owners,
    )


def create_workspace(name: str, timezone: str = "UTC") -> tuple[Workspace, str]:
    """Create a workspace and its first owner key; returns the key's plaintext (shown once)."""
    item = new_workspace_item(name, timezone)
    workspace_id = item.workspace_id
    try:
        item.save(condition=WorkspaceItem.pk.does_not_exist())
    except PutError as exc:  # pragma: no cover - 48 random bits colliding
        raise Conflict("workspace id collision, try again") from exc
    issued, _ = _store_key(workspace_id, "owner", Role.OWNER)
    return to_workspace(item), issued.plaintext


def get_workspace(workspace_id: str) -> Workspace:
    return to_workspace(workspace_item(workspace_id))


def workspace_item(workspace_id: str) -> WorkspaceItem:
    """The workspace's item, settings included (NotFound when there is none)."""
    bind()
    try:
        return WorkspaceItem.get(keys.workspace_pk(workspace_id), keys.workspace_meta_sk())
    except DoesNotExist as exc:
        raise NotFound(f"workspace {workspace_id} not found") from exc


def update_workspace(
    workspace_id: str,
    *,
    name: str | None = None,
    timezone: str | None = None,
    audit_retention_days: int | None = None,
    manual_overdue_hours: int | None = None,
) -> Workspace:
    bind()
    item = WorkspaceItem.get(keys.workspace_pk(workspace_id), keys.workspace_meta_sk())
    actions: list[Action] = []
    settings = dict(item.settings or {})
    if audit_retention_days is not None:
        if not 1 <= audit_retention_days <= MAX_RETENTION_DAYS:
            raise ValidationFailed.on("audit_retention_days", f"from 1 to {MAX_RETENTION_DAYS} days", "range")
        settings["audit_retention_days"] = audit_retention_days
        _retention.forget(workspace_id)
    if manual_overdue_hours is not None:
        if not 1 <= manual_overdue_hours <= MAX_OVERDUE_HOURS:
            raise ValidationFailed.on("manual_overdue_hours", f"from 1 to {MAX_OVERDUE_HOURS} hours", "range")
        settings["manual_overdue_hours"] = manual_overdue_hours
    if settings != (item.settings or {}):
        actions.append(WorkspaceItem.settings.set(settings))
    if name is not None:
        if not name.strip():
            raise ValidationFailed.on("name", "must not be empty", "required")
        actions.append(WorkspaceItem.name.set(name.strip()))
    if timezone is not None:
        actions.append(WorkspaceItem.timezone.set(validate_timezone(timezone)))
    if actions:
        item.update(actions=actions)
    return to_workspace(item)


_retention: TtlCache[str, int] = TtlCache(60.0)


def audit_retention(workspace_id: str) -> int:
    """Days the workspace keeps its audit log (read at most once a minute per process)."""
    return _retention.get(workspace_id, lambda w: get_workspace(w).audit_retention_days)


def set_publishing_paused(workspace_id: str, paused: bool, reason: str | None = None) -> Workspace:
    bind()
    item = WorkspaceItem.get(keys.workspace_pk(workspace_id), keys.workspace_meta_sk())
    item.update(
        actions=[
            WorkspaceItem.publishing_paused.set(paused),
            WorkspaceItem.paused_reason.set(reason) if reason else WorkspaceItem.paused_reason.remove(),
        ]
    )
    return to_workspace(item)


def _store_key(
    workspace_id: str,
    name: str,
    role: Role,
    member_id: str | None = None,
    scopes: set[str] | None = None,
    valid_until: datetime | None = None,
) -> tuple[IssuedKey, ApiKeyItem]:
    issued = issue_key(workspace_id)
    item = ApiKeyItem(
        keys.workspace_pk(workspace_id),
        keys.api_key_sk(issued.key_id),
        workspace_id=workspace_id,
        key_id=issued.key_id,
        name=name,
        role=role.value,
        secret_hash=issued.secret_hash,
        created_at=datetime.now(UTC),
        member_id=member_id,
        scopes=scopes or None,
        valid_until=valid_until,
    )
    item.save()
    return issued, item


def create_api_key(
    principal: Principal,
    name: str,
    role: str,
    scopes: list[str] | None = None,
    valid_until: datetime | None = None,
) -> tuple[ApiKeyInfo, str]:
    """An owner or admin issues a key of the same or a lower role. It belongs to the member who asks
    (a key asking passes on its own member) and dies with that membership; ``scopes`` narrow what it may
    change, ``valid_until`` ends it."""
    try:
        wanted = Role(role)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailed.on("role", f"must be one of {allowed}", "enum") from exc
    if not at_least(principal.role, Role.ADMIN) or not at_least(principal.role, wanted):
        raise Forbidden(f"a {principal.role} key cannot issue a {wanted} key")
    if not name.strip():
        raise ValidationFailed.on("name", "must not be empty", "required")
    wanted_scopes = _parse_scopes(scopes)
    if principal.scopes is not None:
        raise Forbidden("a scoped API key cannot issue keys")
    if valid_until is not None and valid_until <= datetime.now(UTC):
        raise ValidationFailed.on("valid_until", "must be in the future", "future")
    bind()
    issued, item = _store_key(
        principal.workspace_id, name.strip(), wanted, principal.user_id, wanted_scopes, valid_until
    )
    return key_info(item), issued.plaintext


def _parse_scopes(scopes: list[str] | None) -> set[str] | None:
    if scopes is None:
        return None
    if not scopes:
        raise ValidationFailed.on("scopes", "name at least one scope, or leave it out for all", "min_items")
    allowed = {s.value for s in Scope}
    for i, value in enumerate(scopes):
        if value not in allowed:
            raise ValidationFailed.on(f"scopes[{i}]", f"must be one of {', '.join(sorted(allowed))}", "enum")
    return set(scopes)


def list_api_keys(workspace_id: str) -> list[ApiKeyInfo]:
    bind()
    found = ApiKeyItem.query(keys.workspace_pk(workspace_id), ApiKeyItem.sk.startswith(keys.api_key_sk("")))
    return [key_info(i) for i in found]


def api_keys_page(workspace_id: str, page: PageRequest) -> Page[ApiKeyInfo]:
    """One page of the workspace's API keys (GET /keys)."""
    bind()
    found = prefix_page(ApiKeyItem, keys.workspace_pk(workspace_id), keys.api_key_sk(""), page)
    return Page(
        [key_info(i) for i in found.items],
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
    own = principal.user_id is not None and item.member_id == principal.user_id
    if not own and not at_least(principal.role, Role(item.role)):
        raise Forbidden(f"a {principal.role} key cannot revoke a {item.role} key")
    item.update(actions=[ApiKeyItem.revoked.set(True)])
    if sessions is not None:
        sessions.close_sessions(principal.workspace_id, key_id)
