"""Invitations: an admin invites a person by e-mail with a role (and, optionally, only some accounts).

The link carries ``inv_<workspace>_<invitation id>_<secret>``; only a SHA-256 of the secret is stored
(as for API keys), so the link is unforgeable without being signed by a key Chorus would have to keep
and rotate, and revocable at once. It is single use (accepting flips ``pending`` to ``accepted`` under a
condition, in the same transaction that adds the membership), expires after ``VALID_FOR``, and is
accepted only by a signed-in person whose e-mail is the one invited.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chorus.auth.keys import Principal, hash_secret, new_id, secret_matches
from chorus.auth.members import (
    Membership,
    failed,
    get_member,
    membership_items,
    parse_role,
    to_membership,
)
from chorus.auth.roles import Role, at_least
from chorus.auth.tokens import Identity
from chorus.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chorus.mail import Email, Mailer
from chorus.store import keys
from chorus.store.models import InvitationItem, MemberItem, WorkspaceItem, bind
from chorus.store.pages import Page, PageRequest, prefix_page
from chorus.store.posts import transaction

VALID_FOR = timedelta(days=7)
KEEP_FOR = timedelta(days=30)  # an ended invitation stays listed this long, then DynamoDB's TTL drops it
_TOKEN = re.compile(r"^inv_(ws[0-9a-z]{10,40})_([0-9a-z]{8,40})_([A-Za-z0-9_-]{20,100})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Invitation:
    invitation_id: str
    workspace_id: str
    email: str
    role: Role
    accounts: list[str] | None
    invited_by: str
    created_at: datetime
    valid_until: datetime
    state: str  # pending | accepted | revoked | expired


def to_invitation(item: InvitationItem, now: datetime | None = None) -> Invitation:
    now = now or datetime.now(UTC)
    state = item.state
    if state == "pending" and item.valid_until <= now:
        state = "expired"
    return Invitation(
        item.invitation_id,
        item.workspace_id,
        item.email,
        Role(item.role),
        sorted(item.accounts) if item.accounts else None,
        item.invited_by,
        item.created_at,
        item.valid_until,
        state,
    )


def normal_email(value: str, field: str = "email") -> str:
    email = value.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise ValidationFailed.on(field, "must be an e-mail address", "email")
    return email


def invite(
    who: Principal,
    email: str,
    role: str,
    mailer: Mailer,
    app_url: str,
    accounts: list[str] | None = None,
    workspace_name: str = "",
) -> Invitation:
    """An owner or admin invites ``email`` with ``role`` (never above their own); the link goes out by
    e-mail at once. Conflict when that person is already a member."""
    if not at_least(who.role, Role.ADMIN):
        raise Forbidden("only owners and admins invite")
    wanted = parse_role(role)
    if not at_least(who.role, wanted):
        raise Forbidden(f"a {who.role} cannot invite a {wanted}")
    address = normal_email(email)
    if accounts is not None and not accounts:
        raise ValidationFailed.on(
            "accounts", "name at least one account, or leave it out for all", "min_items"
        )
    bind()
    if any(m.email == address for m in _members_with_email(who.workspace_id, address)):
        raise Conflict(f"{address} is already a member of this workspace")
    invitation_id = new_id(nbytes=6)
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    item = InvitationItem(
        keys.workspace_pk(who.workspace_id),
        keys.invitation_sk(invitation_id),
        workspace_id=who.workspace_id,
        invitation_id=invitation_id,
        email=address,
        role=wanted.value,
        accounts=set(accounts) if accounts else None,
        secret_hash=hash_secret(secret),
        invited_by=who.actor,
        created_at=now,
        valid_until=now + VALID_FOR,
        expires_at=now + VALID_FOR + KEEP_FOR,
    )
    item.save()
    token = f"inv_{who.workspace_id}_{invitation_id}_{secret}"
    mailer.send(
        invitation_email(address, wanted, accept_link(app_url, token), workspace_name, item.valid_until)
    )
    return to_invitation(item, now)


def _members_with_email(workspace_id: str, email: str) -> list[Membership]:
    found = MemberItem.query(
        keys.workspace_pk(workspace_id),
        MemberItem.sk.startswith(keys.member_sk("")),
        filter_condition=MemberItem.email == email,
    )
    return [to_membership(i) for i in found]


def accept_link(app_url: str, token: str) -> str:
    return f"{app_url.rstrip('/')}/invitations/accept?token={token}"


def invitation_email(email: str, role: Role, link: str, workspace_name: str, valid_until: datetime) -> Email:
    where = workspace_name or "a Chorus workspace"
    until = valid_until.strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"You are invited to {where} as {role}.\n\nAccept the invitation (sign in or create your account "
        f"with this e-mail address): {link}\n\nThe link works once, until {until}.\n"
    )
    page = (
        f"<p>You are invited to <b>{html.escape(where)}</b> as {role}.</p>"
        f'<p><a href="{html.escape(link)}">Accept the invitation</a> (sign in or create your account with '
        f"this e-mail address).</p><p>The link works once, until {until}.</p>"
    )
    return Email((email,), f"Invitation to {where} on Chorus", text, page)


def invitations_page(workspace_id: str, page: PageRequest) -> Page[Invitation]:
    bind()
    found = prefix_page(InvitationItem, keys.workspace_pk(workspace_id), keys.invitation_sk(""), page)
    now = datetime.now(UTC)
    return Page([to_invitation(i, now) for i in found.items], found.next_cursor)


def revoke(who: Principal, invitation_id: str) -> Invitation:
    if not at_least(who.role, Role.ADMIN):
        raise Forbidden("only owners and admins revoke invitations")
    item = _get(who.workspace_id, invitation_id)
    if item.state != "pending":
        raise Conflict(f"the invitation is {item.state} already")
    item.update(actions=[InvitationItem.state.set("revoked")], condition=InvitationItem.state == "pending")
    return to_invitation(item)


def _get(workspace_id: str, invitation_id: str) -> InvitationItem:
    bind()
    try:
        return InvitationItem.get(keys.workspace_pk(workspace_id), keys.invitation_sk(invitation_id))
    except DoesNotExist as exc:
        raise NotFound(f"invitation {invitation_id} not found") from exc


def accept(identity: Identity, token: str, email: str | None) -> Membership:
    """The signed-in person ``identity`` (whose verified e-mail is ``email``) accepts: they become a
    member with the invited role, once. Every refusal names why: unknown, used, revoked, expired, or
    sent to another address."""
    match = _TOKEN.match(token.strip())
    if not match:
        raise ValidationFailed.on("token", "not an invitation token", "format")
    workspace_id, invitation_id, secret = match.groups()
    try:
        item = _get(workspace_id, invitation_id)
    except NotFound as exc:
        raise NotFound("no such invitation") from exc
    if not secret_matches(secret, item.secret_hash):
        raise NotFound("no such invitation")
    now = datetime.now(UTC)
    if item.state != "pending":
        raise Conflict(f"this invitation was {item.state} already")
    if item.valid_until <= now:
        raise Conflict("this invitation has expired; ask for a new one")
    if email is None:
        raise Forbidden("accept with your ID token, once the pool has verified your e-mail address")
    if email.lower() != item.email:
        raise Forbidden(f"this invitation is for {item.email}; sign in with that address")
    role = Role(item.role)
    member, mirror = membership_items(workspace_id, identity.user_id, item.email, role, item.accounts, now)
    try:
        with transaction() as tx:
            tx.update(
                item,
                actions=[
                    InvitationItem.state.set("accepted"),
                    InvitationItem.accepted_by.set(identity.user_id),
                ],
                condition=InvitationItem.state == "pending",
            )
            tx.save(member, condition=MemberItem.pk.does_not_exist())
            tx.save(mirror)
            tx.update(
                WorkspaceItem(keys.workspace_pk(workspace_id), keys.workspace_meta_sk()),
                actions=[WorkspaceItem.owners.add(1 if role is Role.OWNER else 0)],
                condition=WorkspaceItem.pk.exists(),
            )
    except TransactWriteError as exc:  # sent as: member, mirror (puts), invitation, workspace (updates)
        if failed(exc, 0):
            raise Conflict("you are already a member of this workspace") from exc
        if failed(exc, 2):
            raise Conflict("this invitation was used already") from exc
        raise
    return get_member(workspace_id, identity.user_id, consistent=True)
