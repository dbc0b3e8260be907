"""Routes: connected social accounts (direct token entry; OAuth where the deployment has app credentials).

Direct token entry proves ownership: the account connected is the one the platform says the token
belongs to (``chorus.accounts.ownership``); a ``platform_account_id`` in the body is only an assertion.

OAuth: ``GET /accounts/connect/{platform}`` (admin) answers the authorize URL and its one-time state;
the platform sends the browser back to the app's ``redirect_uri``, and the app passes ``code`` and
``state`` on to ``GET /oauth/callback/{platform}`` with the same API key that started the flow (the
state is bound to it), which connects the granted account(s) and answers them as JSON, or redirects
(302) to the configured app URL (``CHORUS_OAUTH_DONE_URL``). A TikTok account's optional comments step
is the same flow with ``platform`` ``tiktok_business`` and ``account_id`` naming the account: its answer
is that account, its ``comments`` enabled (``chorus.accounts.grants``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, parse, principal, query, route
from chorus.accounts import oauth
from chorus.accounts import service as accounts
from chorus.accounts.app_password import connect_bluesky
from chorus.accounts.apps import get_apps
from chorus.accounts.ownership import Claim, connect_with_token
from chorus.accounts.tokens import TokenSet
from chorus.auth.roles import Role
from chorus.errors import BadRequest, FieldError, ValidationFailed
from chorus.platforms.registry import PLATFORMS
from chorus.store.pages import PageRequest

bp = Blueprint(__name__)


class ConnectAccount(BaseModel):
    """Direct token entry (``access_token``; ``platform_account_id``, when given, must be the account the
    platform says the token is for), or for Bluesky a handle and an app password (``app_password``;
    ``base_url`` = the PDS when it is not bsky.social)."""

    # Every field bounded: an account is one item, and DynamoDB refuses an item over 400 KB.
    platform: str = Field(max_length=50)
    platform_account_id: str | None = Field(default=None, min_length=1, max_length=300)
    access_token: str | None = Field(default=None, min_length=1, max_length=16_384)
    app_password: str | None = Field(default=None, min_length=1, max_length=200)
    refresh_token: str | None = Field(default=None, max_length=16_384)
    expires_at: datetime | None = None
    handle: str | None = Field(default=None, max_length=300)
    display_name: str | None = Field(default=None, max_length=300)
    base_url: str | None = Field(default=None, pattern=r"^https?://", max_length=2000)
    extra: dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=4000)]] = Field(
        default_factory=dict, max_length=20
    )
    profile_url: str | None = Field(default=None, max_length=2000)  # reminder publishing: no token


@route(bp, "/accounts", methods=["GET"])
def list_accounts() -> Response:
    who = principal()
    found = accounts.accounts_page(who.workspace_id, PageRequest.from_query(query(bp.current_request)), who)
    return ok({"accounts": [a.public() for a in found.items], "next_cursor": found.next_cursor})


@route(bp, "/accounts", methods=["POST"])
def connect_account() -> Response:
    who = principal(Role.ADMIN)
    req = body(bp.current_request, ConnectAccount)
    if req.platform in PLATFORMS and PLATFORMS[req.platform].publishing == "manual":
        if not req.profile_url:
            raise ValidationFailed.on(
                "profile_url", f"{req.platform} accounts are added with their profile URL", "required"
            )
        account = accounts.connect_by_hand(
            who.workspace_id, req.platform, req.profile_url, handle=req.handle, display_name=req.display_name
        )
        return ok(account.public(), status=201)
    if req.platform == "bluesky" and req.app_password:
        account = connect_bluesky(
            who.workspace_id,
            req.handle or req.platform_account_id or "",
            req.app_password,
            base_url=req.base_url,
            display_name=req.display_name,
            extra=req.extra,
        )
        return ok(account.public(), status=201)
    if not req.access_token:
        hint = " (or app_password with handle)" if req.platform == "bluesky" else ""
        raise ValidationFailed.on("access_token", "must not be empty" + hint, "required")
    claim = Claim(req.platform, req.access_token, req.platform_account_id, req.base_url, req.extra)
    account = connect_with_token(
        who.workspace_id,
        claim,
        TokenSet(req.access_token, req.refresh_token, req.expires_at),
        handle=req.handle,
        display_name=req.display_name,
    )
    return ok(account.public(), status=201)


@route(bp, "/accounts/{account_id}", methods=["GET"])
def get_account(account_id: str) -> Response:
    return ok(accounts.visible_account(principal(), account_id).public())


@route(bp, "/accounts/{account_id}", methods=["DELETE"])
def remove_account(account_id: str) -> Response:
    who = principal(Role.ADMIN)
    accounts.visible_account(who, account_id)
    accounts.remove_account(who.workspace_id, account_id)
    return Response(body="", status_code=204)


class ConnectQuery(BaseModel):
    redirect_uri: str = Field(min_length=1, max_length=2000)
    base_url: str | None = Field(default=None, max_length=500)
    account_id: str | None = Field(default=None, max_length=100)  # tiktok_business: the TikTok account


class CallbackQuery(BaseModel):
    state: str = ""
    code: str = ""
    auth_code: str = ""  # TikTok API for Business names the code so
    error: str | None = None
    error_description: str | None = None


@route(bp, "/accounts/connect/{platform}", methods=["GET"])
def start_oauth(platform: str) -> Response:
    who = principal(Role.ADMIN)
    req = parse(ConnectQuery, query(bp.current_request))
    started = oauth.start_connect(
        who, platform, req.redirect_uri, base_url=req.base_url, account_id=req.account_id
    )
    return ok({"authorize_url": started.authorize_url, "state": started.state})


@route(bp, "/oauth/callback/{platform}", methods=["GET"])
def oauth_callback(platform: str) -> Response:
    who = principal(Role.ADMIN)
    req = parse(CallbackQuery, query(bp.current_request))
    if req.error:  # the user declined, or the platform refused the request: spend the state, say why
        oauth.take_state(req.state, platform, who)
        reason = req.error_description or req.error
        raise BadRequest(f"code: {platform} answered {reason}", [FieldError("code", reason, req.error)])
    connected = oauth.finish_connect(platform, req.code or req.auth_code, req.state, who)
    done = get_apps().oauth_done_url
    if done:
        sep = "&" if "?" in done else "?"
        target = done + sep + urlencode({"platform": platform, "accounts": ",".join(a.id for a in connected)})
        return Response(body="", status_code=302, headers={"Location": target})
    return ok({"accounts": [a.public() for a in connected]})
