"""Routes: competitors' public accounts (``/competitors``) and the benchmark report beside them."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, principal, query, route
from chorus.auth.roles import Role
from chorus.auth.workspaces import get_workspace
from chorus.competitors import service, store
from chorus.competitors.timelines import daily_allowance, timelines
from chorus.reports.benchmark import build_benchmark, render_benchmark
from chorus.reports.service import parse_query, within_reach
from chorus.store.pages import PageRequest

bp = Blueprint(__name__)


class CompetitorIn(BaseModel):
    platform: str = Field(max_length=20)
    handle: str = Field(max_length=300)
    via_account: str | None = Field(
        default=None, max_length=64
    )  # Instagram: the connected account to look through


@route(bp, "/competitors", methods=["POST"])
def add_competitor() -> Response:
    who = principal(Role.EDITOR)
    req = body(bp.current_request, CompetitorIn)
    return ok(
        service.add_competitor(
            who.workspace_id, req.platform, req.handle, via_account=req.via_account
        ).public(),
        status=201,
    )


@route(bp, "/competitors", methods=["GET"])
def list_competitors() -> Response:
    found = store.competitors_page(
        principal().workspace_id, PageRequest.from_query(query(bp.current_request))
    )
    today = datetime.now(UTC).date()
    quota = {
        platform: {"spent_today": store.spent(platform, today), "daily_allowance": daily_allowance(platform)}
        for platform in timelines()
    }
    return ok(
        {"competitors": [c.public() for c in found.items], "next_cursor": found.next_cursor, "quota": quota}
    )


@route(bp, "/competitors/{competitor_id}", methods=["GET"])
def get_competitor(competitor_id: str) -> Response:
    return ok(service.get_competitor(principal().workspace_id, competitor_id).public())


@route(bp, "/competitors/{competitor_id}", methods=["DELETE"])
def delete_competitor(competitor_id: str) -> Response:
    service.delete_competitor(principal(Role.EDITOR).workspace_id, competitor_id)
    return Response(body="", status_code=204)


@route(bp, "/reports/benchmark", methods=["GET"])
def get_benchmark() -> Response:
    who = principal()
    workspace = get_workspace(who.workspace_id)
    # a member limited to some accounts sees theirs only, as in the analytics report
    wanted = within_reach(parse_query(query(bp.current_request), workspace.timezone, datetime.now(UTC)), who)
    bench = build_benchmark(
        workspace.id, workspace.name, wanted.start, wanted.end, wanted.timezone, accounts=wanted.accounts
    )
    content, content_type, filename = render_benchmark(bench, wanted.fmt.value)
    disposition = "inline" if wanted.fmt.value in {"json", "html"} else "attachment"
    return Response(
        body=content if wanted.fmt.value == "pdf" else content.decode("utf-8"),
        status_code=200,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'{disposition}; filename="{filename}"',
        },
    )
