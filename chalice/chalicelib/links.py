"""Routes: the short-link redirect (public), a post's short links with their clicks, disabling a link,
the workspace's UTM defaults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, principal, query, route
from chorus.auth.roles import Role
from chorus.auth.workspaces import get_workspace
from chorus.dates import within_years
from chorus.errors import ValidationFailed
from chorus.links import report, service
from chorus.reports.render import UnknownFormatError

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


def _day(params: dict[str, str], name: str, default: date) -> date:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed.on(name, f"{raw!r} is not a date (YYYY-MM-DD)", "date") from exc
    within_years(day, name)
    return day


@route(bp, "/links/report", methods=["GET"])
def clicks_report() -> Response:
    """Counted short-link clicks per post, account, platform and campaign beside the platforms' own
    numbers (``from``/``to``: UTC days, the last 30 by default; ``format``: json, csv, html, pdf)."""
    who = principal()
    params = query(bp.current_request)
    today = datetime.now(UTC).date()
    end = _day(params, "to", today)
    start = _day(params, "from", end - timedelta(days=29))
    workspace = get_workspace(who.workspace_id)
    return rendered(
        params.get("format", "json"),
        lambda fmt: report.render(
            who.workspace_id, workspace.name, workspace.timezone, start, end, fmt, who.sees_account
        ),
    )


def rendered(fmt: str, make: Callable[[str], tuple[bytes, str, str]]) -> Response:
    """A report document answered in ``fmt`` (json, csv, html, pdf; another is a 422 naming ``format``)."""
    try:
        data, content_type, filename = make(fmt)
    except UnknownFormatError as exc:
        raise ValidationFailed.on("format", str(exc), "enum") from exc
    disposition = "inline" if content_type.startswith(("application/json", "text/html")) else "attachment"
    return Response(
        body=data if content_type == "application/pdf" else data.decode("utf-8"),
        status_code=200,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'{disposition}; filename="{filename}"',
        },
    )
