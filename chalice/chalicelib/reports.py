"""Routes: analytics reports (on demand and as jobs), KPI goals, best times to post, e-mailed reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, principal, query, route
from chorus.auth.roles import Role
from chorus.auth.workspaces import get_workspace
from chorus.errors import ValidationFailed
from chorus.reports import service
from chorus.reports.delivery import S3ReportFiles, SqsJobQueue
from chorus.reports.store import list_schedules, load_goals

bp = Blueprint(__name__)


class GoalIn(BaseModel):
    metric: str
    target: float = Field(ge=0)
    label: str | None = Field(default=None, max_length=100)


class GoalsIn(BaseModel):
    goals: list[GoalIn] = Field(max_length=20)


class ScheduleIn(BaseModel):
    cadence: str
    recipients: list[str] = Field(min_length=1, max_length=50)
    format: str = "pdf"
    accounts: list[str] = Field(default_factory=list, max_length=200)
    timezone: str | None = None


class SchedulesIn(BaseModel):
    schedules: list[ScheduleIn] = Field(max_length=2)


@route(bp, "/reports", methods=["GET"])
def get_report() -> Response:
    who = principal()
    workspace = get_workspace(who.workspace_id)
    wanted = service.within_reach(
        service.parse_query(query(bp.current_request), workspace.timezone, datetime.now(UTC)), who
    )
    answer = service.request_report(workspace, wanted, SqsJobQueue())
    if isinstance(answer, service.Rendered):
        disposition = "inline" if wanted.fmt.value in {"json", "html"} else "attachment"
        return Response(
            body=answer.body.decode("utf-8"),
            status_code=200,
            headers={
                "Content-Type": answer.content_type,
                "Content-Disposition": f'{disposition}; filename="{answer.filename}"',
            },
        )
    return ok(
        {
            "job_id": answer.job_id,
            "state": answer.state,
            "status_url": f"/reports/jobs/{answer.job_id}",
            "query": answer.query,
        },
        status=202,
    )


@route(bp, "/reports/jobs/{job_id}", methods=["GET"])
def get_report_job(job_id: str) -> Response:
    return ok(service.job_status(principal().workspace_id, job_id, S3ReportFiles()))


@route(bp, "/goals", methods=["GET"])
def get_goals() -> Response:
    return ok(service.goals_public(load_goals(principal().workspace_id)))


@route(bp, "/goals", methods=["PUT"])
def put_goals() -> Response:
    who = principal(Role.EDITOR)
    req = body(bp.current_request, GoalsIn)
    goals = service.set_goals(who.workspace_id, [g.model_dump() for g in req.goals])
    return ok(service.goals_public(goals))


@route(bp, "/insights/best-times", methods=["GET"])
def get_best_times() -> Response:
    who = principal()
    params = query(bp.current_request)
    account = params.get("account", "").strip()
    if not account:
        raise ValidationFailed.on("account", "the account to analyse is required", "required")
    workspace = get_workspace(who.workspace_id)
    return ok(service.best_times(workspace, account, params, datetime.now(UTC)))


@route(bp, "/reports/schedules", methods=["GET"])
def get_report_schedules() -> Response:
    return ok({"schedules": [s.public() for s in list_schedules(principal().workspace_id)]})


@route(bp, "/reports/schedules", methods=["PUT"])
def put_report_schedules() -> Response:
    who = principal(Role.EDITOR)
    req = body(bp.current_request, SchedulesIn)
    raw: list[dict[str, Any]] = [s.model_dump() for s in req.schedules]
    return ok({"schedules": [s.public() for s in service.set_schedules(who.workspace_id, raw)]})
