"""Persistence of what reports keep in the main table: KPI goals, report jobs and e-mail schedules.

One PynamoDB model, ``ReportItem`` (discriminator ``report``), in the workspace's partition:

  WS#<ws> / RGOALS                 the workspace's KPI goals (``data``: a list of goals)
  WS#<ws> / RJOB#<job id>          an asynchronous report: state, query, file key; TTL 7 days
  WS#<ws> / RSCHED#<cadence>       an e-mailed report (weekly | monthly): recipients, format, last sent

Schedules also carry ``gsi2pk = RSCHED#<cadence>`` / ``gsi2sk = <ws>``, so the weekly (or monthly) run
finds every workspace that asked for one with one Query of gsi2, never a table scan. Persistence rows are
mapped to the plain dataclasses below; nothing outside this module sees ``ReportItem``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from chorus.errors import NotFound
from chorus.reports.builder import Goal
from chorus.store import keys
from chorus.store.models import MainItem, bind

JOB_TTL = timedelta(days=7)
CADENCES = ("weekly", "monthly")


class ReportItem(MainItem, discriminator="report"):
    data = JSONAttribute(null=True)
    state = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)


def goals_sk() -> str:
    return "RGOALS"


def job_sk(job_id: str) -> str:
    return f"RJOB#{job_id}"


def schedule_sk(cadence: str) -> str:
    return f"RSCHED#{cadence}"


def schedule_index_pk(cadence: str) -> str:
    return f"RSCHED#{cadence}"


# ------------------------------------------------------------------ goals


def save_goals(workspace_id: str, goals: Sequence[Goal]) -> None:
    bind()
    ReportItem(
        keys.workspace_pk(workspace_id),
        goals_sk(),
        data=[{"metric": g.metric, "target": g.target, "label": g.label} for g in goals],
        updated_at=datetime.now(UTC),
    ).save()


def load_goals(workspace_id: str) -> list[Goal]:
    bind()
    try:
        item = ReportItem.get(keys.workspace_pk(workspace_id), goals_sk())
    except DoesNotExist:
        return []
    return [Goal(g["metric"], float(g["target"]), g.get("label")) for g in item.data or []]


# ------------------------------------------------------------------ jobs


@dataclass(frozen=True)
class Job:
    workspace_id: str
    job_id: str
    state: str  # queued | running | done | failed
    query: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    file_key: str | None = None
    filename: str | None = None
    content_type: str | None = None
    error: str | None = None


def _job(item: ReportItem) -> Job:
    data = dict(item.data or {})
    return Job(
        workspace_id=item.pk.removeprefix(keys.workspace_pk("")),
        job_id=item.sk.removeprefix(job_sk("")),
        state=item.state or "queued",
        query=dict(data.get("query", {})),
        created_at=item.created_at or datetime.now(UTC),
        updated_at=item.updated_at or item.created_at or datetime.now(UTC),
        file_key=data.get("file_key"),
        filename=data.get("filename"),
        content_type=data.get("content_type"),
        error=data.get("error"),
    )


def create_job(workspace_id: str, job_id: str, query: dict[str, Any], now: datetime) -> Job:
    bind()
    item = ReportItem(
        keys.workspace_pk(workspace_id),
        job_sk(job_id),
        data={"query": query},
        state="queued",
        created_at=now,
        updated_at=now,
        expires_at=now + JOB_TTL,
    )
    item.save(condition=ReportItem.pk.does_not_exist())
    return _job(item)


def get_job(workspace_id: str, job_id: str) -> Job:
    bind()
    try:
        return _job(ReportItem.get(keys.workspace_pk(workspace_id), job_sk(job_id), consistent_read=True))
    except DoesNotExist as exc:
        raise NotFound(f"report job {job_id} not found") from exc


def update_job(job: Job, state: str, now: datetime, **data: Any) -> Job:
    """Move a job to ``state``, merging ``data`` (file_key, filename, content_type, error) into it."""
    bind()
    merged = {
        "query": job.query,
        **{k: v for k, v in {
            "file_key": job.file_key, "filename": job.filename,
            "content_type": job.content_type, "error": job.error,
        }.items() if v is not None},
        **data,
    }  # fmt: skip
    item = ReportItem(keys.workspace_pk(job.workspace_id), job_sk(job.job_id))
    item.update(
        actions=[
            ReportItem.state.set(state),
            ReportItem.data.set(merged),
            ReportItem.updated_at.set(now),
        ],
        condition=ReportItem.pk.exists(),
    )
    return Job(
        workspace_id=job.workspace_id,
        job_id=job.job_id,
        state=state,
        query=job.query,
        created_at=job.created_at,
        updated_at=now,
        file_key=merged.get("file_key"),
        filename=merged.get("filename"),
        content_type=merged.get("content_type"),
        error=merged.get("error"),
    )


# ------------------------------------------------------------------ e-mail schedules


@dataclass(frozen=True)
class Schedule:
    workspace_id: str
    cadence: str  # weekly | monthly
    recipients: tuple[str, ...]
    format: str = "pdf"
    accounts: tuple[str, ...] = ()  # empty: every account of the workspace
    timezone: str | None = None  # None: the workspace's
    last_sent: str | None = None  # the period key last sent ("2026-W47", "2026-10")
    extra: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "cadence": self.cadence,
            "recipients": list(self.recipients),
            "format": self.format,
            "accounts": list(self.accounts),
            "timezone": self.timezone,
            "last_sent": self.last_sent,
        }


def _schedule(item: ReportItem) -> Schedule:
    data = dict(item.data or {})
    return Schedule(
        workspace_id=item.pk.removeprefix(keys.workspace_pk("")),
        cadence=item.sk.removeprefix(schedule_sk("")),
        recipients=tuple(data.get("recipients", ())),
        format=str(data.get("format", "pdf")),
        accounts=tuple(data.get("accounts", ())),
        timezone=data.get("timezone"),
        last_sent=data.get("last_sent"),
    )


def replace_schedules(workspace_id: str, schedules: Sequence[Schedule]) -> list[Schedule]:
    """Make ``schedules`` the workspace's e-mailed reports (one per cadence); others are removed."""
    bind()
    wanted = {s.cadence: s for s in schedules}
    current = {s.cadence: s for s in list_schedules(workspace_id)}
    for cadence in CADENCES:
        if cadence not in wanted:
            if cadence in current:
                ReportItem(keys.workspace_pk(workspace_id), schedule_sk(cadence)).delete()
            continue
        s = wanted[cadence]
        kept = current.get(cadence)
        ReportItem(
            keys.workspace_pk(workspace_id),
            schedule_sk(cadence),
            data={
                "recipients": list(s.recipients),
                "format": s.format,
                "accounts": list(s.accounts),
                "timezone": s.timezone,
                "last_sent": kept.last_sent if kept else None,
            },
            updated_at=datetime.now(UTC),
            gsi2pk=schedule_index_pk(cadence),
            gsi2sk=workspace_id,
        ).save()
    return list_schedules(workspace_id)


def list_schedules(workspace_id: str) -> list[Schedule]:
    bind()
    return [
        _schedule(i)
        for i in ReportItem.query(
            keys.workspace_pk(workspace_id), ReportItem.sk.startswith(schedule_sk("")), consistent_read=True
        )
    ]


def schedules_of(cadence: str) -> list[Schedule]:
    """Every workspace's schedule of ``cadence`` (one Query of gsi2)."""
    bind()
    return [
        _schedule(i)
        for i in ReportItem.calendar_index.query(schedule_index_pk(cadence))
        if isinstance(i, ReportItem)
    ]


def mark_sent(schedule: Schedule, period_key: str) -> bool:
    """Record that ``period_key`` was sent; False when the schedule was removed meanwhile."""
    bind()
    from pynamodb.exceptions import UpdateError

    item = ReportItem(keys.workspace_pk(schedule.workspace_id), schedule_sk(schedule.cadence))
    data = {**schedule.public(), "last_sent": period_key}
    data.pop("cadence")
    try:
        item.update(
            actions=[ReportItem.data.set(data), ReportItem.updated_at.set(datetime.now(UTC))],
            condition=ReportItem.pk.exists(),
        )
    except UpdateError:
        return False
    return True
