"""Routes: the short-link redirect (public), a post's short links with their clicks, disabling a link,
the workspace's UTM defaults."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, principal, route
from chorus.auth.roles import Role
from chorus.links import service

bp = Blueprint(__name__)


@route(bp, "/l/{code}", methods=["GET"])
def follow(code: str) -> Response:
    """Public: one read, a counted click (bots and link previews are redirected, not counted), a 302."""
    headers = bp.current_request.headers
    destination, _ = service.follow(
        code,
        service.Click(
            user_agent=headers.get("user-agent"),
            referrer=headers.get("referer"),
            country=headers.get("cloudfront-viewer-country"),
        ),
    )
    return Response(
        body="",
        status_code=302,
        headers={
            "Location": destination,
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "unsafe-url",
        },
    )


class SettingsIn(BaseModel):
    enabled: bool | None = None
    shorten: bool | None = None
    medium: str | None = Field(default=None, max_length=100)
    campaign: str | None = Field(default=None, max_length=100)
    term: str | None = Field(default=None, max_length=100)


class LinkIn(BaseModel):
    disabled: bool


@route(bp, "/links/settings", methods=["GET"])
def get_settings() -> Response:
    return ok(service.defaults(principal().workspace_id).to_dict())


@route(bp, "/links/settings", methods=["PUT"])
def put_settings() -> Response:
    who = principal(Role.ADMIN)
    req = body(bp.current_request, SettingsIn)
    values: dict[str, Any] = req.model_dump(exclude_none=True)
    return ok(service.set_defaults(who.workspace_id, values).to_dict())


@route(bp, "/posts/{post_id}/links", methods=["GET"])
def post_links(post_id: str) -> Response:
    from chorus.posts import service as posts

    who = principal()
    posts.get_post(who, post_id)  # 404 for a post the caller cannot see
    found = [
        link
        for link in service.post_links(who.workspace_id, post_id)
        if who.sees_account(str(link["account_id"]))
    ]
    return ok({"links": found})


@route(bp, "/links/{code}", methods=["PATCH"])
def patch_link(code: str) -> Response:
    who = principal(Role.EDITOR)
    req = body(bp.current_request, LinkIn)
    return ok(service.set_disabled(who.workspace_id, code, req.disabled))
