"""Routes: people and teams - who I am and my workspaces, creating a workspace, members and their roles,
invitations, signing out everywhere.

``GET /me``, ``POST /workspaces``, ``POST /invitations/accept`` and ``POST /me/sign-out`` belong to a
signed-in person (a Cognito token, no workspace named: ``chorus.auth.roles.USER_ROUTES``); the others to
a workspace, like every other route."""

from __future__ import annotations

from dataclasses import asdict

from pydantic import BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, identity, ok, principal, query, route
from chorus.auth import invitations, members
from chorus.auth.pool import default_pool
from chorus.auth.principals import bearer
from chorus.auth.roles import Role
from chorus.auth.workspaces import get_workspace
from chorus.config import get_settings
from chorus.errors import ValidationFailed
from chorus.inbox.live import ConnectionCloser, LiveSessions
from chorus.mail import SesMailer
from chorus.store.pages import PageRequest

bp = Blueprint(__name__)


class NewWorkspace(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", max_length=100)


class MemberChange(BaseModel):
    role: str | None = Field(default=None, max_length=20)
    accounts: list[str] | None = Field(default=None, max_length=500)
    all_accounts: bool = False


class NewInvitation(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    role: str = Field(max_length=20)
    accounts: list[str] | None = Field(default=None, max_length=500)


class Acceptance(BaseModel):
    token: str = Field(min_length=10, max_length=300)


def _sessions() -> LiveSessions:
    from chorus.inbox.wiring import live_sender

    closer: ConnectionCloser = live_sender()  # type: ignore[assignment]  # the management API adapter
    return LiveSessions(closer)


@route(bp, "/me", methods=["GET"])
def me() -> Response:
    who = identity()
    mine = members.memberships_of(who.user_id)
    names = members.workspaces_by_id([m.workspace_id for m in mine])
    return ok(
        {
            "user_id": who.user_id,
            "email": who.email,
            "workspaces": [
                {
                    "workspace_id": m.workspace_id,
                    "name": names[m.workspace_id].name if m.workspace_id in names else None,
                    "role": m.role,
                    "accounts": m.accounts,
                }
                for m in mine
            ],
        }
    )


@route(bp, "/me/sign-out", methods=["POST"])
def sign_out_everywhere() -> Response:
    """Sign out everywhere: the pool ends every refresh token, Chorus refuses every token issued until
    now. Send the access token (the pool's global sign-out takes it)."""
    who = identity()
    if who.token_use != "access":  # noqa: S105 - the kind of token, not a secret
        raise ValidationFailed.on(
            "Authorization", "send the access token (not the ID token) to sign out everywhere", "token_use"
        )
    pool = default_pool()
    if pool is not None:
        pool.global_sign_out(bearer(bp.current_request.headers.get("authorization")))
    return ok({"signed_out_of": members.sign_out_everywhere(who.user_id)})


@route(bp, "/workspaces", methods=["POST"])
def create_workspace() -> Response:
    req = body(bp.current_request, NewWorkspace)
    return ok(asdict(members.create_workspace_for(identity(), req.name, req.timezone)), status=201)


@route(bp, "/members", methods=["GET"])
def list_members() -> Response:
    who = principal(Role.VIEWER)
    found = members.members_page(who.workspace_id, PageRequest.from_query(query(bp.current_request)))
    return ok({"members": [asdict(m) for m in found.items], "next_cursor": found.next_cursor})


@route(bp, "/members/{user_id}", methods=["PATCH"])
def change_member(user_id: str) -> Response:
    who = principal(Role.ADMIN)
    req = body(bp.current_request, MemberChange)
    changed = members.change_member(
        who, user_id, role=req.role, accounts=req.accounts, all_accounts=req.all_accounts
    )
    return ok(asdict(changed))


@route(bp, "/members/{user_id}", methods=["DELETE"])
def remove_member(user_id: str) -> Response:
    members.remove_member(principal(Role.VIEWER), user_id, _sessions())
    return Response(body="", status_code=204)


@route(bp, "/invitations", methods=["GET"])
def list_invitations() -> Response:
    who = principal(Role.ADMIN)
    found = invitations.invitations_page(who.workspace_id, PageRequest.from_query(query(bp.current_request)))
    return ok({"invitations": [asdict(i) for i in found.items], "next_cursor": found.next_cursor})


@route(bp, "/invitations", methods=["POST"])
def invite() -> Response:
    who = principal(Role.ADMIN)
    req = body(bp.current_request, NewInvitation)
    settings = get_settings()
    if not settings.mail_from:
        raise ValidationFailed.on(
            "email", "invitations need the deployment's MailFrom (SES) set", "mail_from"
        )
    made = invitations.invite(
        who,
        req.email,
        req.role,
        SesMailer(settings.mail_from),
        settings.app_url,
        req.accounts,
        get_workspace(who.workspace_id).name,
    )
    return ok(asdict(made), status=201)


@route(bp, "/invitations/{invitation_id}", methods=["DELETE"])
def revoke_invitation(invitation_id: str) -> Response:
    return ok(asdict(invitations.revoke(principal(Role.ADMIN), invitation_id)))


@route(bp, "/invitations/accept", methods=["POST"])
def accept_invitation() -> Response:
    who = identity()
    req = body(bp.current_request, Acceptance)
    return ok(asdict(invitations.accept(who, req.token, who.email)), status=201)
