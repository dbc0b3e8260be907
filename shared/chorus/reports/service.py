"""Reports as the API and the workers serve them: on demand, as background jobs, on a schedule by e-mail.

* :func:`parse_query` turns the API's parameters (``from``, ``to``, ``accounts``, ``format``, ``tz``)
  into a :class:`ReportQuery` (default: the last 30 whole days in the workspace's zone).
* :func:`request_report` answers at once (JSON, CSV, HTML up to ``reports_sync_max_days``) or creates a
  job (PDF, longer ranges) and queues it; :func:`run_job` (reports worker) builds, renders and stores the
  file; :func:`job_status` gives its state and, when done, a presigned link.
* :func:`best_times` is the heatmap of one account from its own post history.
* :func:`send_scheduled` e-mails every weekly (or monthly) report due for the period before ``now``.

Inbox figures come through the builder's :class:`~chorus.reports.builder.InboxStatsSource` port; the
default reads the inbox's daily/monthly counters (:mod:`chorus.reports.inbox`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from chorus.auth.keys import Principal
from chorus.auth.workspaces import Workspace, get_workspace, validate_timezone
from chorus.dates import within_years
from chorus.errors import ChorusError, NotFound, ValidationFailed
from chorus.mail import Email, Mailer
from chorus.reports import store as repo
from chorus.reports.besttimes import best_times as heatmap_of
from chorus.reports.besttimes import samples_from_scores
from chorus.reports.builder import (
    GOAL_METRICS,
    Goal,
    InboxStatsSource,
    ListeningSource,
    MetricsReader,
    build_report,
)
from chorus.reports.delivery import JobQueue, ReportFiles, report_settings
from chorus.reports.model import ORIGINS, AccountRef, Period, Report, best_slots
from chorus.reports.render import ReportFormat, UnknownFormatError, render

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
BEST_TIMES_DAYS = 90


def _now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------ the query


@dataclass(frozen=True)
class ReportQuery:
    start: date
    end: date
    fmt: ReportFormat
    timezone: str
    accounts: tuple[str, ...] = ()  # empty: every account of the workspace
    origin: str | None = None  # chorus | external: only posts of that origin (None: every post)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "format": self.fmt.value,
            "timezone": self.timezone,
            "accounts": list(self.accounts),
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportQuery:
        return cls(
            start=date.fromisoformat(data["from"]),
            end=date.fromisoformat(data["to"]),
            fmt=ReportFormat(data["format"]),
            timezone=str(data["timezone"]),
            accounts=tuple(data.get("accounts", ())),
            origin=data.get("origin"),
        )


def _date(params: Mapping[str, str], name: str) -> date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed.on(name, f"{raw!r} is not a date (YYYY-MM-DD)", "date") from exc
    within_years(day, name)
    return day


def parse_query(params: Mapping[str, str], workspace_tz: str, now: datetime) -> ReportQuery:
    """The report query of API parameters; missing dates default to the last 30 whole local days."""
    tz = validate_timezone(params.get("tz") or workspace_tz, "tz")
    try:
        fmt = ReportFormat((params.get("format") or "json").strip().lower())
    except ValueError:
        raise ValidationFailed.on(
            "format", f"use one of {', '.join(f.value for f in ReportFormat)}", "enum"
        ) from None
    today = now.astimezone(ZoneInfo(tz)).date()
    end = _date(params, "to") or today - timedelta(days=1)
    start = _date(params, "from") or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise ValidationFailed.on("to", "must not be before from", "range")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed.on("from", f"a report covers at most {MAX_DAYS} days", "range")
    accounts = tuple(a.strip() for a in (params.get("accounts") or "").split(",") if a.strip())
    origin = (params.get("origin") or "").strip().lower() or None
    if origin is not None and origin not in ORIGINS:
        raise ValidationFailed.on("origin", f"use one of {', '.join(ORIGINS)}", "enum")
    return ReportQuery(start, end, fmt, tz, tuple(dict.fromkeys(accounts)), origin)


# ------------------------------------------------------------------ building


class StoredGoals:
    """The builder's goals port over the workspace's saved goals (PUT /goals)."""

    def goals(self, workspace_id: str, period: Period) -> Sequence[Goal]:
        return repo.load_goals(workspace_id)


def _account_refs(workspace_id: str, wanted: Sequence[str]) -> dict[str, AccountRef]:
    from chorus.accounts.service import list_accounts

    refs = {
        a.id: AccountRef(a.id, a.platform, a.display_name or a.handle or a.platform_account_id, a.handle)
        for a in list_accounts(workspace_id)
    }
    unknown = [a for a in wanted if a not in refs]
    if unknown:
        raise ValidationFailed.on(
            "accounts", f"not accounts of this workspace: {', '.join(unknown)}", "unknown"
        )
    return {a: refs[a] for a in wanted} if wanted else refs


def _stored_listening() -> ListeningSource:
    from chorus.reports.listening import StoredListening

    return StoredListening()


def _stored_inbox_stats(whole_workspace: bool) -> InboxStatsSource:
    from chorus.reports.inbox import StoredInboxStats

    return StoredInboxStats(whole_workspace=whole_workspace)


def build(
    workspace: Workspace,
    query: ReportQuery,
    *,
    store: MetricsReader | None = None,
    inbox_source: InboxStatsSource | None = None,
    clock: Callable[[], datetime] = _now,
) -> Report:
    refs = _account_refs(workspace.id, query.accounts)
    return build_report(
        workspace.id,
        Period(query.start, query.end, query.timezone),
        list(refs),
        query.timezone,
        accounts_info=refs,
        store=store,
        inbox_source=inbox_source or _stored_inbox_stats(whole_workspace=not query.accounts),
        goals_source=StoredGoals(),
        listening_source=_stored_listening(),
        workspace_name=workspace.name,
        clock=clock,
        origin=query.origin,
    )


# ------------------------------------------------------------------ on demand and jobs


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str
    filename: str


def is_async(query: ReportQuery) -> bool:
    return query.fmt is ReportFormat.PDF or query.days > report_settings().reports_sync_max_days


def within_reach(query: ReportQuery, principal: Principal) -> ReportQuery:
    """A member limited to some accounts reports on theirs only: every account they name must be one,
    and naming none means all of theirs (not the workspace's)."""
    if principal.accounts is None:
        return query
    principal.require_accounts(query.accounts)
    return replace(query, accounts=query.accounts or tuple(sorted(principal.accounts)))


def request_report(
    workspace: Workspace,
    query: ReportQuery,
    queue: JobQueue,
    *,
    store: MetricsReader | None = None,
    inbox_source: InboxStatsSource | None = None,
    clock: Callable[[], datetime] = _now,
) -> Rendered | repo.Job:
    """The rendered report, or (PDF, long range) the queued job that will produce it."""
    if is_async(query):
        _account_refs(workspace.id, query.accounts)  # refuse unknown accounts now, not in the worker
        job = repo.create_job(workspace.id, "rep" + uuid.uuid4().hex[:16], query.to_dict(), clock())
        queue.send(workspace.id, job.job_id)
        logger.info("report_job_queued", extra={"workspace_id": workspace.id, "job_id": job.job_id})
        return job
    report = build(workspace, query, store=store, inbox_source=inbox_source, clock=clock)
    body, content_type, filename = render(report, query.fmt)
    return Rendered(body, content_type, filename)


def file_key(job: repo.Job, filename: str) -> str:
    return f"reports/{job.workspace_id}/{job.job_id}/{filename}"


def run_job(
    workspace_id: str,
    job_id: str,
    files: ReportFiles,
    *,
    store: MetricsReader | None = None,
    inbox_source: InboxStatsSource | None = None,
    clock: Callable[[], datetime] = _now,
) -> repo.Job:
    """Build, render and store a queued report (a job already done is left alone: redeliveries are
    harmless). A domain error (an account removed since) fails the job; anything else propagates so
    the queue retries."""
    job = repo.get_job(workspace_id, job_id)
    if job.state == "done":
        return job
    job = repo.update_job(job, "running", clock())
    try:
        query = ReportQuery.from_dict(job.query)
        report = build(
            get_workspace(workspace_id), query, store=store, inbox_source=inbox_source, clock=clock
        )
        body, content_type, filename = render(report, query.fmt)
    except (ChorusError, UnknownFormatError) as error:
        logger.warning("report_job_failed", extra={"job_id": job_id, "error": str(error)})
        return repo.update_job(job, "failed", clock(), error=str(error))
    key = file_key(job, filename)
    files.put(key, body, content_type)
    logger.info("report_job_done", extra={"job_id": job_id, "bytes": len(body), "format": query.fmt.value})
    return repo.update_job(job, "done", clock(), file_key=key, filename=filename, content_type=content_type)


def job_status(workspace_id: str, job_id: str, files: ReportFiles) -> dict[str, Any]:
    job = repo.get_job(workspace_id, job_id)
    answer: dict[str, Any] = {
        "job_id": job.job_id,
        "state": job.state,
        "query": job.query,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }
    if job.state == "done" and job.file_key and job.filename:
        answer.update(
            url=files.link(job.file_key, job.filename),
            filename=job.filename,
            content_type=job.content_type,
        )
    if job.error:
        answer["error"] = job.error
    return answer


# ------------------------------------------------------------------ goals


def set_goals(workspace_id: str, goals: Sequence[Mapping[str, Any]]) -> list[Goal]:
    parsed: list[Goal] = []
    for i, raw in enumerate(goals):
        try:
            parsed.append(Goal(str(raw["metric"]), float(raw["target"]), raw.get("label")))
        except ValueError as exc:
            raise ValidationFailed.on(f"goals[{i}].metric", str(exc), "enum") from exc
    metrics = [g.metric for g in parsed]
    if len(set(metrics)) != len(metrics):
        raise ValidationFailed.on("goals", "one goal per metric", "unique")
    repo.save_goals(workspace_id, parsed)
    return parsed


def goals_public(goals: Sequence[Goal]) -> dict[str, Any]:
    return {
        "goals": [{"metric": g.metric, "target": g.target, "label": g.label} for g in goals],
        "metrics": dict(GOAL_METRICS),
    }


# ------------------------------------------------------------------ best times


def best_times(
    workspace: Workspace,
    account_id: str,
    params: Mapping[str, str],
    now: datetime,
    store: MetricsReader | None = None,
) -> dict[str, Any]:
    """The weekday x hour heatmap of one account's posts (default: published in the last 90 days)."""
    if account_id not in _account_refs(workspace.id, [account_id]):
        raise NotFound(f"account {account_id} not found")
    tz = validate_timezone(params.get("tz") or workspace.timezone, "tz")
    today = now.astimezone(ZoneInfo(tz)).date()
    end = _date(params, "to") or today
    start = _date(params, "from") or end - timedelta(days=BEST_TIMES_DAYS - 1)
    if end < start or (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed.on("from", f"from..to must be 1 to {MAX_DAYS} days", "range")
    if store is None:
        from chorus.metrics.store import MetricsStore

        store = MetricsStore()
    found = store.read_account_range(workspace.id, account_id, start, end, with_posts=True, tz=tz)
    readings = found.latest.get("followers") or {}
    followers = readings[max(readings)] if readings else None
    cells = heatmap_of(samples_from_scores(found.posts, {account_id: followers}), tz)
    return {
        "account_id": account_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "timezone": tz,
        "posts": len(found.posts),
        "rated_posts": sum(c.posts for c in cells),
        "best_slots": [c.to_dict() for c in best_slots(cells)],
        "heatmap": [c.to_dict() for c in cells],
    }


# ------------------------------------------------------------------ e-mailed reports


def previous_period(cadence: str, today: date) -> tuple[date, date, str]:
    """The whole week (Monday..Sunday) or month before ``today``, and its key ("2026-W47", "2026-10")."""
    if cadence == "weekly":
        end = today - timedelta(days=today.weekday() + 1)
        start = end - timedelta(days=6)
        year, week, _ = start.isocalendar()
        return start, end, f"{year}-W{week:02d}"
    if cadence == "monthly":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end, f"{end.year:04d}-{end.month:02d}"
    raise ValueError(f"unknown cadence {cadence!r}")


def _summary(report: Report, cadence: str) -> tuple[str, str]:
    o = report.overall

    def fmt(value: float | int | None, pct: bool = False) -> str:
        if value is None:
            return "-"
        return f"{value * 100:.2f} %" if pct else f"{value:,.0f}"

    rows = [
        ("Posts published", fmt(o.posts_published.current)),
        ("Impressions", fmt(o.impressions.current)),
        ("Engagements", fmt(o.engagements.current)),
        ("Engagement rate", fmt(o.engagement_rate.current, pct=True)),
        ("Followers", fmt(report.followers_total.current)),
    ]
    title = (
        f"{report.workspace_name}: {cadence} report "
        f"{report.period.start.isoformat()} to {report.period.end.isoformat()}"
    )
    text = title + "\n\n" + "\n".join(f"{k}: {v}" for k, v in rows) + "\n\nThe full report is attached.\n"
    cells = "".join(f"<tr><th align='left'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    html = (
        f"<!doctype html><html><body style='font-family:sans-serif'><h2>{escape(title)}</h2>"
        f"<table cellpadding='4'>{cells}</table><p>The full report is attached.</p></body></html>"
    )
    return text, html


@dataclass(frozen=True)
class MailRun:
    sent: int = 0
    skipped: int = 0  # already sent for this period
    failed: int = 0


def send_scheduled(
    cadence: str,
    now: datetime,
    mailer: Mailer | None,
    *,
    store: MetricsReader | None = None,
    inbox_source: InboxStatsSource | None = None,
) -> MailRun:
    """E-mail each workspace's ``cadence`` report of the whole period before ``now`` (in its zone),
    once per period. With no mailer (no sender configured) nothing is sent."""
    if mailer is None:
        logger.warning("report_mail_disabled", extra={"reason": "CHORUS_REPORTS_SENDER is not set"})
        return MailRun()
    sent = skipped = failed = 0
    for schedule in repo.schedules_of(cadence):
        try:
            workspace = get_workspace(schedule.workspace_id)
            tz = schedule.timezone or workspace.timezone
            start, end, key = previous_period(cadence, now.astimezone(ZoneInfo(tz)).date())
            if schedule.last_sent == key:
                skipped += 1
                continue
            query = ReportQuery(start, end, ReportFormat(schedule.format), tz, schedule.accounts)
            report = build(workspace, query, store=store, inbox_source=inbox_source, clock=lambda: now)
            body, content_type, filename = render(report, query.fmt)
            text, html = _summary(report, cadence)
            mailer.send(
                Email(
                    recipients=schedule.recipients,
                    subject=f"{workspace.name} - {cadence} social report ({start} to {end})",
                    text=text,
                    html=html,
                    attachment=(filename, content_type, body),
                )
            )
            repo.mark_sent(schedule, key)
            sent += 1
        except ChorusError as error:  # a workspace or account gone: the others still get theirs
            logger.warning(
                "report_mail_failed", extra={"workspace_id": schedule.workspace_id, "error": str(error)}
            )
            failed += 1
    logger.info("report_mail_run", extra={"cadence": cadence, "sent": sent, "skipped": skipped})
    return MailRun(sent, skipped, failed)


def set_schedules(workspace_id: str, raw: Sequence[Mapping[str, Any]]) -> list[repo.Schedule]:
    from chorus.mail import recipients_valid

    schedules: list[repo.Schedule] = []
    for i, s in enumerate(raw):
        cadence = str(s.get("cadence", ""))
        if cadence not in repo.CADENCES:
            raise ValidationFailed.on(f"schedules[{i}].cadence", "use weekly or monthly", "enum")
        recipients = tuple(str(r).strip() for r in s.get("recipients", ()))
        if not recipients or recipients_valid(recipients):
            raise ValidationFailed.on(f"schedules[{i}].recipients", "one or more e-mail addresses", "email")
        fmt = str(s.get("format", "pdf"))
        if fmt not in {f.value for f in ReportFormat}:
            raise ValidationFailed.on(f"schedules[{i}].format", "use json, csv, html or pdf", "enum")
        tz = s.get("timezone")
        if tz:
            validate_timezone(str(tz), f"schedules[{i}].timezone")
        accounts = tuple(str(a) for a in s.get("accounts", ()))
        _account_refs(workspace_id, accounts)
        schedules.append(
            repo.Schedule(workspace_id, cadence, recipients, fmt, accounts, str(tz) if tz else None)
        )
    if len({s.cadence for s in schedules}) != len(schedules):
        raise ValidationFailed.on("schedules", "one schedule per cadence", "unique")
    return repo.replace_schedules(workspace_id, schedules)
