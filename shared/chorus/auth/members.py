"""Members: people (Cognito users) with one role in each of any number of workspaces.

A membership is two items written and deleted together in one transaction: ``WS#<ws> / MEMBER#<user>``
(read on every request of that person in that workspace, one strongly consistent GetItem, so a removal
or a demotion holds from their very next request) and ``USER#<user> / WS#<ws>`` (their workspaces, for
``GET /me``). The workspace item counts its owners; every change that takes an owner away is
conditioned on that count staying at one or more, so two owners demoting each other at the same moment
cannot leave a workspace without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chorus.auth import audit
from chorus.auth.keys import Principal
from chorus.auth.roles import Role, Scope, at_least, lesser
from chorus.auth.tokens import Identity
from chorus.auth.workspaces import Workspace, audit_retention, new_workspace_item, to_workspace
from chorus.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from chorus.store import keys
from chorus.store.models import ApiKeyItem, MemberItem, WorkspaceItem, bind
from chorus.store.pages import Page, PageRequest, prefix_page
from chorus.store.posts import transaction


@dataclass(frozen=True)
class Membership:
    workspace_id: str
    user_id: str
    email: str | None
    role: Role
    accounts: list[str] | None  # None: every account
    joined_at: datetime


class MemberSessions(Protocol):
    def close_member_sessions(self, workspace_id: str, user_id: str) -> int:
        """Close the live connections ``user_id`` opened in the workspace; how many were open."""
        ...


def to_membership(item: MemberItem) -> Membership:
    return Membership(
        workspace_id=item.workspace_id,
        user_id=item.user_id,
        email=item.email,
        role=Role(item.role),
        accounts=sorted(item.accounts) if item.accounts is not None else None,
        joined_at=item.joined_at,
    )


def parse_role(value: str, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailed.on(field, f"must be one of {allowed}", "enum") from exc


def membership_items(
    workspace_id: str,
    user_id: str,
    email: str | None,
    role: Role,
    accounts: set[str] | None,
    joined_at: datetime,
) -> tuple[MemberItem, MemberItem]:
    """The membership's item in the workspace and its mirror under the person."""
    made = [
        MemberItem(pk, sk, workspace_id=workspace_id, user_id=user_id, email=email, role=role.value,
                   accounts=accounts or None, joined_at=joined_at)
        for pk, sk in (
            (keys.workspace_pk(workspace_id), keys.member_sk(user_id)),
            (keys.user_pk(user_id), keys.user_workspace_sk(workspace_id)),
        )
    ]  # fmt: skip
    return made[0], made[1]


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """Why each item of a cancelled transaction failed, in the order PynamoDB sends them: condition
    checks, then deletes, then puts, then updates (each group in the order they were added)."""
    return [r.code if r else None for r in (exc.cancellation_reasons or [])]


def failed(exc: TransactWriteError, position: int) -> bool:
    codes = cancellation_codes(exc)
    return len(codes) > position and codes[position] == "ConditionalCheckFailed"


def _meta(workspace_id: str) -> WorkspaceItem:
    return WorkspaceItem(keys.workspace_pk(workspace_id), keys.workspace_meta_sk())


def create_workspace_for(identity: Identity, name: str, timezone: str = "UTC") -> Workspace:
    """A signed-in person creates a workspace and is its first owner (one transaction)."""
    meta = new_workspace_item(name, timezone, owners=1)
    member, mirror = membership_items(
        meta.workspace_id, identity.user_id, identity.email, Role.OWNER, None, meta.created_at
    )
    with transaction() as tx:
        tx.save(meta, condition=WorkspaceItem.pk.does_not_exist())
        tx.save(member)
        tx.save(mirror)
    return to_workspace(meta)


def add_member(
    workspace_id: str, user_id: str, email: str | None, role: Role, accounts: set[str] | None = None
) -> Membership:
    """Make ``user_id`` a member (an accepted invitation, ``chorus user create``); Conflict when they
    are one already."""
    bind()
    now = datetime.now(UTC)
    member, mirror = membership_items(workspace_id, user_id, email, role, accounts, now)
    try:
        with transaction() as tx:
            tx.update(
                _meta(workspace_id),
                actions=[WorkspaceItem.owners.add(1 if role is Role.OWNER else 0)],
                condition=WorkspaceItem.pk.exists(),
            )
            tx.save(member, condition=MemberItem.pk.does_not_exist())
            tx.save(mirror)
    except TransactWriteError as exc:  # sent as: member, mirror (puts), workspace (update)
        if failed(exc, 0):
            raise Conflict(f"{email or user_id} is already a member of this workspace") from exc
        if failed(exc, 2):
            raise NotFound(f"workspace {workspace_id} not found") from exc
        raise
    return to_membership(member)


def get_member(workspace_id: str, user_id: str, *, consistent: bool = False) -> Membership:
    return to_membership(_member_item(workspace_id, user_id, consistent=consistent))


def _member_item(workspace_id: str, user_id: str, *, consistent: bool = False) -> MemberItem:
    bind()
    try:
        return MemberItem.get(
            keys.workspace_pk(workspace_id), keys.member_sk(user_id), consistent_read=consistent
        )
    except DoesNotExist as exc:
        raise NotFound(f"member {user_id} not found") from exc


def members_page(workspace_id: str, page: PageRequest) -> Page[Membership]:
    bind()
    found = prefix_page(MemberItem, keys.workspace_pk(workspace_id), keys.member_sk(""), page)
    return Page([to_membership(i) for i in found.items], found.next_cursor)


def members_of(workspace_id: str) -> list[Membership]:
    """Every member of the workspace (one Query of its member items; for figures and alerts, not pages)."""
    bind()
    found = MemberItem.query(keys.workspace_pk(workspace_id), MemberItem.sk.startswith(keys.member_sk("")))
    return [to_membership(i) for i in found]


def memberships_of(user_id: str) -> list[Membership]:
    """Every workspace ``user_id`` is a member of, with their role there (``GET /me``)."""
    bind()
    found = MemberItem.query(keys.user_pk(user_id), MemberItem.sk.startswith(keys.user_workspace_sk("")))
    return [to_membership(i) for i in found]


def workspaces_by_id(workspace_ids: list[str]) -> dict[str, Workspace]:
    bind()
    wanted = [(keys.workspace_pk(w), keys.workspace_meta_sk()) for w in workspace_ids]
    return {i.workspace_id: to_workspace(i) for i in WorkspaceItem.batch_get(wanted)}


def principal_for(identity: Identity, workspace_id: str | None) -> Principal:
    """The principal of a signed-in person in the workspace a request names: Forbidden where they are
    not a member (or not any more), Unauthorized for a token issued before they signed out everywhere."""
    if not workspace_id:
        raise Forbidden("name the workspace: the X-Chorus-Workspace header (GET /me lists yours)")
    try:
        item = _member_item(workspace_id, identity.user_id, consistent=True)
    except NotFound as exc:
        raise Forbidden(f"you are not a member of workspace {workspace_id}") from exc
    if item.signed_out_at is not None and identity.issued_at <= item.signed_out_at:
        raise Unauthorized("this token was issued before you signed out everywhere; sign in again")
    if item.last_sign_in is None or item.last_sign_in < identity.signed_in_at:
        _note_sign_in(item, identity)
    return Principal(
        workspace_id,
        None,
        Role(item.role),
        user_id=identity.user_id,
        accounts=frozenset(item.accounts) if item.accounts is not None else None,
    )


def _note_sign_in(item: MemberItem, identity: Identity) -> None:
    """A session acts in this workspace for the first time: one audit entry (the condition makes it
    one even when its first requests race)."""
    try:
        item.update(
            actions=[MemberItem.last_sign_in.set(identity.signed_in_at)],
            condition=MemberItem.last_sign_in.does_not_exist()
            | (MemberItem.last_sign_in < identity.signed_in_at),
        )
    except UpdateError:
        return  # another request of the same session recorded it
    audit.record(
        item.workspace_id,
        f"user:{identity.user_id}",
        audit.SIGN_IN,
        target=f"user:{identity.user_id}",
        detail=f'{{"token_use": "{identity.token_use}"}}',
        retention_days=audit_retention(item.workspace_id),
    )


def key_principal(key: ApiKeyItem, now: datetime) -> Principal:
    """The principal of an authenticated API key: a member's key has at most its member's role and
    accounts, and dies with the membership (read now, consistently)."""
    if key.valid_until is not None and key.valid_until <= now:
        raise Unauthorized("the API key has expired")
    scopes = frozenset(Scope(v) for v in key.scopes) if key.scopes else None
    role = Role(key.role)
    if key.member_id is None:
        return Principal(key.workspace_id, key.key_id, role, scopes=scopes)
    try:
        member = _member_item(key.workspace_id, key.member_id, consistent=True)
    except NotFound as exc:
        raise Unauthorized("the API key's member has left the workspace") from exc
    return Principal(
        key.workspace_id,
        key.key_id,
        lesser(role, Role(member.role)),
        user_id=key.member_id,
        scopes=scopes,
        accounts=frozenset(member.accounts) if member.accounts is not None else None,
    )


def _check_may_manage(who: Principal, target: MemberItem, new_role: Role | None = None) -> None:
    if not at_least(who.role, Role.ADMIN):
        raise Forbidden("only owners and admins manage members")
    if not at_least(who.role, Role(target.role)):
        raise Forbidden(f"a {who.role} cannot change a {target.role}")
    if new_role is not None and not at_least(who.role, new_role):
        raise Forbidden(f"a {who.role} cannot make someone {new_role}")


def change_member(
    who: Principal,
    user_id: str,
    *,
    role: str | None = None,
    accounts: list[str] | None = None,
    all_accounts: bool = False,
) -> Membership:
    """An owner or admin changes a member's role (never above their own) or the accounts they may see
    (``all_accounts`` lifts a restriction). The last owner cannot be demoted."""
    bind()
    member = _member_item(who.workspace_id, user_id, consistent=True)
    wanted = parse_role(role) if role is not None else None
    _check_may_manage(who, member, wanted)
    actions: list[Action] = []
    if wanted is not None:
        actions.append(MemberItem.role.set(wanted.value))
    if all_accounts:
        actions.append(MemberItem.accounts.remove())
    elif accounts is not None:
        if not accounts:
            raise ValidationFailed.on(
                "accounts", "name at least one account, or all_accounts: true", "min_items"
            )
        actions.append(MemberItem.accounts.set(set(accounts)))
    if not actions:
        return to_membership(member)
    owners_delta = (1 if wanted is Role.OWNER else 0) - (
        1 if member.role == Role.OWNER.value and wanted not in (None, Role.OWNER) else 0
    )
    mirror = MemberItem(keys.user_pk(user_id), keys.user_workspace_sk(who.workspace_id))
    try:
        with transaction() as tx:
            tx.update(
                _meta(who.workspace_id),
                actions=[WorkspaceItem.owners.add(owners_delta)],
                condition=WorkspaceItem.owners > 1 if owners_delta < 0 else WorkspaceItem.pk.exists(),
            )
            tx.update(member, actions=actions, condition=MemberItem.pk.exists())
            tx.update(mirror, actions=actions)
    except TransactWriteError as exc:  # sent as: workspace, member, mirror (updates)
        if failed(exc, 0):
            raise Conflict(
                "the workspace's last owner cannot be demoted; make someone else owner first"
            ) from exc
        raise
    return get_member(who.workspace_id, user_id, consistent=True)


def remove_member(who: Principal, user_id: str, sessions: MemberSessions | None = None) -> Membership:
    """A member leaves, or an owner/admin removes one. From their next request they are refused, their
    API keys with them, and their live connections are closed now. The last owner cannot leave."""
    bind()
    member = _member_item(who.workspace_id, user_id, consistent=True)
    if who.user_id != user_id:
        _check_may_manage(who, member)
    mirror = MemberItem(keys.user_pk(user_id), keys.user_workspace_sk(who.workspace_id))
    was_owner = member.role == Role.OWNER.value
    try:
        with transaction() as tx:
            tx.update(
                _meta(who.workspace_id),
                actions=[WorkspaceItem.owners.add(-1 if was_owner else 0)],
                condition=WorkspaceItem.owners > 1 if was_owner else WorkspaceItem.pk.exists(),
            )
            tx.delete(member)
            tx.delete(mirror)
    except TransactWriteError as exc:  # sent as: member, mirror (deletes), workspace (update)
        if failed(exc, 2):
            raise Conflict("the workspace's last owner cannot leave; make someone else owner first") from exc
        raise
    _revoke_keys_of(who.workspace_id, user_id)
    if sessions is not None:
        sessions.close_member_sessions(who.workspace_id, user_id)
    return to_membership(member)


def _revoke_keys_of(workspace_id: str, user_id: str) -> None:
    """Mark a former member's keys revoked (they are refused already: their member is gone; this keeps
    ``GET /keys`` truthful)."""
    found = ApiKeyItem.query(
        keys.workspace_pk(workspace_id),
        ApiKeyItem.sk.startswith(keys.api_key_sk("")),
        filter_condition=ApiKeyItem.member_id == user_id,
    )
    for item in found:
        if not item.revoked:
            item.update(actions=[ApiKeyItem.revoked.set(True)])


def sign_out_everywhere(user_id: str, at: datetime | None = None) -> int:
    """Refuse every token of ``user_id`` issued until now, in every workspace (the pool's global
    sign-out ends their refresh tokens; this ends the ID and access tokens still within their hour).
    How many memberships were marked."""
    bind()
    at = at or datetime.now(UTC)
    marked = 0
    for membership in memberships_of(user_id):
        item = MemberItem(keys.workspace_pk(membership.workspace_id), keys.member_sk(user_id))
        try:
            item.update(actions=[MemberItem.signed_out_at.set(at)], condition=MemberItem.pk.exists())
            marked += 1
        except UpdateError:  # removed in the meantime: nothing to sign out of
            continue
    return marked
