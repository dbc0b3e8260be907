"""Routes: connected social accounts (direct token entry; OAuth where the deployment has app credentials)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, principal, route
from chorus.accounts import service as accounts
from chorus.accounts.tokens import TokenSet
from chorus.auth.roles import Role

bp = Blueprint(__name__)


class ConnectAccount(BaseModel):
    platform: str
    platform_account_id: str = Field(min_length=1, max_length=300)
    access_token: str = Field(min_length=1)
    refresh_token: str | None = None
    expires_at: datetime | None = None
    handle: str | None = None
    display_name: str | None = None
    base_url: str | None = Field(default=None, pattern=r"^https?://")
    extra: dict[str, str] = Field(default_factory=dict)


@route(bp, "/accounts", methods=["GET"])
def list_accounts() -> Response:
    return ok({"accounts": [a.public() for a in accounts.list_accounts(principal().workspace_id)]})


@route(bp, "/accounts", methods=["POST"])
def connect_account() -> Response:
    who = principal(Role.ADMIN)
    req = body(bp.current_request, ConnectAccount)
    account = accounts.connect_account(
        who.workspace_id,
        req.platform,
        req.platform_account_id,
        TokenSet(req.access_token, req.refresh_token, req.expires_at),
        handle=req.handle,
        display_name=req.display_name,
        base_url=req.base_url,
        extra=req.extra,
    )
    return ok(account.public(), status=201)


@route(bp, "/accounts/{account_id}", methods=["GET"])
def get_account(account_id: str) -> Response:
    return ok(accounts.get_account(principal().workspace_id, account_id).public())


@route(bp, "/accounts/{account_id}", methods=["DELETE"])
def remove_account(account_id: str) -> Response:
    accounts.remove_account(principal(Role.ADMIN).workspace_id, account_id)
    return Response(body="", status_code=204)
