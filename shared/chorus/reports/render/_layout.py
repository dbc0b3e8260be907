"""What every document renderer shows, decided once: the sections, their tables and their charts.

CSV, HTML and PDF walk the same :class:`Section` list, so the three formats always carry the same
figures in the same order. Tables hold raw values and say how each column is to be read
(:class:`Kind`); each renderer formats them its own way (CSV: plain numbers for Excel; HTML and PDF:
"12,345", "4.25%", "+3.1%"). Charts are described as data (:class:`ChartSpec`) and drawn by each
format's charting library (Chart.js in HTML, reportlab.graphics.charts in PDF).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chorus.reports.model import (
    WEEKDAYS,
    KpiValue,
    PlatformMetrics,
    PostRow,
    RateBasis,
    Report,
    Sentiment,
    best_slots,
)

THIS_PERIOD = "This period"
SENTIMENT_COLOURS = {
    Sentiment.POSITIVE: "#2e9e4f",
    Sentiment.NEGATIVE: "#d64545",
    Sentiment.NEUTRAL: "#9aa5b1",
    Sentiment.UNKNOWN: "#d9dee3",
}
DASH = "\u2013"  # shown where a value is missing
MINUS = "\u2212"


class Kind(StrEnum):
    TEXT = "text"
    USER_TEXT = "user_text"  # typed by a person (post text, names): escaped, guarded against CSV formulas
    INT = "int"
    NUMBER = "number"
    RATIO = "ratio"  # 0.0425 -> 4.25%
    PCT = "pct"  # already a percentage: 12.5 -> 12.5%
    CHANGE = "change"  # a relative change in percent, signed
    SECONDS = "seconds"  # a duration
    DATE = "date"
    DATETIME = "datetime"
    URL = "url"
    KPI_INT = "kpi_int"  # a KpiValue of counts: CSV expands it to current, previous, change %
    KPI_RATIO = "kpi_ratio"
    KPI_SECONDS = "kpi_seconds"  # lower is better


KPI_KINDS = {Kind.KPI_INT: Kind.INT, Kind.KPI_RATIO: Kind.RATIO, Kind.KPI_SECONDS: Kind.SECONDS}
NUMERIC_KINDS = {Kind.INT, Kind.NUMBER, Kind.RATIO, Kind.PCT, Kind.CHANGE, Kind.SECONDS, *KPI_KINDS}

Cell = str | int | float | date | datetime | KpiValue | None


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    csv_only: bool = False  # the data behind a chart; documents show the chart instead
    key: str = ""
    row_kinds: tuple[Kind, ...] = ()  # per row, overrides the kind of every non-first column

    def kind(self, row: int, column: int) -> Kind:
        if column and self.row_kinds:
            return self.row_kinds[row]
        return self.columns[column].kind


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]


class ChartKind(StrEnum):
    LINE = "line"  # labels are dates
    BAR = "bar"  # grouped vertical bars
    HBAR = "hbar"  # horizontal bars
    PIE = "pie"
    HEATMAP = "heatmap"  # labels = hours, series = weekdays (one per row)


@dataclass(frozen=True)
class ChartSpec:
    key: str  # unique, used as the canvas id
    title: str
    kind: ChartKind
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    value_kind: Kind = Kind.INT  # how values read: INT, RATIO (0..1), PCT
    colours: tuple[str, ...] = ()  # one "#rrggbb" per label (pie) when the colours carry meaning


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    tables: tuple[Table, ...] = ()
    charts: tuple[ChartSpec, ...] = ()
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Document:
    """One document to render: its headings and the sections under them. The analytics report is one
    (:func:`report_document`); other reports (the benchmark) build their own and share the renderers."""

    heading: str  # the page's first heading, "Analytics report"
    title: str  # the HTML <title>
    workspace_name: str  # with the heading, the PDF's title metadata
    subject: str  # the PDF's subject metadata: the period
    subtitle: str  # the line under the heading: workspace, period, time zone
    footer: str  # the PDF's running footer
    csv_title: str  # the CSV's first row
    timezone: str
    generated_at: datetime
    sections: tuple[Section, ...]

    @property
    def tz(self) -> ZoneInfo:
        return zone_named(self.timezone)


# ---------------------------------------------------------------- formatting shared by HTML and PDF


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone(report: Report) -> ZoneInfo:
    return zone_named(report.period.timezone)


def local_datetime(value: datetime, tz: ZoneInfo) -> datetime:
    return value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)


def fmt_int(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def fmt_ratio(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.2f}%"


def fmt_pct(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}%"


def fmt_change(value: float | None) -> str:
    if value is None:
        return DASH
    if round(value, 1) == 0:
        return "0.0%"
    sign = "+" if value > 0 else MINUS
    return f"{sign}{abs(value):.1f}%"


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return DASH
    total = round(value)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def fmt_value(value: Cell, kind: Kind, tz: ZoneInfo) -> str:
    """One cell as a person reads it (KPI cells: the current value only)."""
    if isinstance(value, KpiValue):
        return fmt_value(value.current, KPI_KINDS.get(kind, Kind.NUMBER), tz)
    if value is None:
        return DASH
    if isinstance(value, datetime):
        return local_datetime(value, tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    formatters = {
        Kind.RATIO: fmt_ratio,
        Kind.PCT: fmt_pct,
        Kind.CHANGE: fmt_change,
        Kind.SECONDS: fmt_seconds,
    }
    return formatters.get(kind, fmt_int)(value)


def change_tone(change: float | None, kind: Kind) -> str:
    """ "up" (good), "down" (bad) or "" for a change, knowing that shorter response times are good."""
    if change is None or round(change, 1) == 0:
        return ""
    better = change < 0 if kind == Kind.KPI_SECONDS else change > 0
    return "up" if better else "down"


def basis_label(basis: RateBasis | None) -> str:
    """How a rate's denominator is labelled: nothing for impressions (the default), else "of reach"."""
    if basis is None or basis == RateBasis.IMPRESSIONS:
        return ""
    return f"of {basis.value}"


def platform_label(platform: str) -> str:
    names = {
        "all": "All platforms",
        "x": "X",
        "linkedin": "LinkedIn",
        "tiktok": "TikTok",
        "youtube": "YouTube",
        "wechat": "WeChat",
        "whatsapp": "WhatsApp",
    }
    return names.get(platform, platform.capitalize())


def filename(report: Report, extension: str) -> str:
    return f"chorus-report_{report.period.start.isoformat()}_{report.period.end.isoformat()}.{extension}"


# ---------------------------------------------------------------- the sections


def report_document(report: Report) -> Document:
    """The analytics report as a :class:`Document`."""
    period, previous = report.period, report.previous_period
    span = f"{period.start.isoformat()} to {period.end.isoformat()}"
    return Document(
        heading="Analytics report",
        title=f"{report.workspace_name} - analytics report {span}",
        workspace_name=report.workspace_name,
        subject=span,
        subtitle=(
            f"{report.workspace_name} \u00b7 {span} ({period.timezone}) \u00b7 compared with "
            f"{previous.start.isoformat()} to {previous.end.isoformat()}"
            + (f" \u00b7 {report.origin} posts only" if report.origin else "")
        ),
        footer=f"Chorus \u00b7 {report.workspace_name} \u00b7 {span}",
        csv_title="Chorus analytics report",
        timezone=period.timezone,
        generated_at=report.generated_at,
        sections=tuple(sections(report)),
    )


def sections(report: Report) -> list[Section]:
    """The report's sections in reading order; absent optional sections are left out."""
    out = [_summary(report), _overview(report)]
    if report.followers:
        out.append(_followers(report))
    if report.platforms:
        out.append(_platforms(report))
    if report.top_posts or report.bottom_posts:
        out.append(_posts(report))
    if report.heatmap:
        out.append(_best_times(report))
    if report.inbox is not None:
        out.append(_inbox(report))
    if report.share_of_voice or report.sentiment_overrides:
        out.append(_share_of_voice(report))
    if report.goals:
        out.append(_goals(report))
    return out


def _summary(report: Report) -> Section:
    period, previous = report.period, report.previous_period
    rows: tuple[tuple[Cell, ...], ...] = (
        ("Workspace", report.workspace_name),
        ("From", period.start),
        ("To", period.end),
        ("Time zone", period.timezone),
        ("Days", period.days),
        ("Compared with", f"{previous.start.isoformat()} to {previous.end.isoformat()}"),
        ("Generated at", report.generated_at),
    )
    accounts = Table(
        title="Accounts",
        key="accounts",
        columns=(
            Column("Platform"),
            Column("Account", Kind.USER_TEXT),
            Column("Handle", Kind.USER_TEXT),
            Column("Account id"),
        ),
        rows=tuple((platform_label(a.platform), a.name, a.handle, a.account_id) for a in report.accounts),
    )
    return Section(
        key="summary",
        title="Report",
        tables=(
            Table(
                title="Period",
                key="period",
                columns=(Column("Item"), Column("Value", Kind.USER_TEXT)),
                rows=rows,
            ),
            accounts,
        ),
    )


def _rate_name(metrics: PlatformMetrics) -> str:
    label = basis_label(metrics.rate_basis)
    return f"Engagement rate ({label})" if label else "Engagement rate"


def _overview(report: Report) -> Section:
    o = report.overall
    rows: list[tuple[Cell, ...]] = []
    kinds: list[Kind] = []
    if report.followers:
        rows.append(("Followers", report.followers_total))
        kinds.append(Kind.KPI_INT)
    for name, kpi in (
        ("Posts published", o.posts_published),
        ("Impressions", o.impressions),
        ("Reach", o.reach),
        ("Engagements", o.engagements),
    ):
        rows.append((name, kpi))
        kinds.append(Kind.KPI_INT)
    rows.append((_rate_name(o), o.engagement_rate))
    kinds.append(Kind.KPI_RATIO)
    table = Table(
        title="Overview",
        key="overview",
        columns=(Column("Metric"), Column(THIS_PERIOD, Kind.KPI_INT)),
        rows=tuple(rows),
        row_kinds=tuple(kinds),
    )
    notes = (
        "Engagements = likes + comments + shares + quotes + saves + clicks. Engagement rate = engagements / "
        "impressions; where a platform reports no impressions, reach is used, else followers, and the rate "
        "is labelled so. Changes compare with the previous period of the same length.",
    )
    return Section(key="overview", title="Overview", tables=(table,), notes=notes)


def _followers(report: Report) -> Section:
    table = Table(
        title="Followers",
        key="followers",
        columns=(
            Column("Platform"),
            Column("Account", Kind.USER_TEXT),
            Column("Start", Kind.INT),
            Column("End", Kind.INT),
            Column("Change", Kind.INT),
            Column("Change (%)", Kind.CHANGE),
        ),
        rows=tuple(
            (platform_label(f.platform), f.account_name, f.start, f.end, f.change, f.change_pct)
            for f in report.followers
        ),
    )
    days = sorted({d.day for f in report.followers for d in f.daily})
    charts: tuple[ChartSpec, ...] = ()
    tables = [table]
    if days:
        by_account = [{d.day: float(d.value) for d in f.daily} for f in report.followers]
        names = tuple(f"{f.account_name} ({platform_label(f.platform)})" for f in report.followers)
        tables.append(
            Table(
                title="Followers by day",
                key="followers_daily",
                csv_only=True,
                columns=(Column("Date", Kind.DATE), *(Column(n, Kind.INT) for n in names)),
                rows=tuple((day, *(series.get(day) for series in by_account)) for day in days),
            )
        )
        charts = (
            ChartSpec(
                key="followers_daily",
                title="Followers by day",
                kind=ChartKind.LINE,
                labels=tuple(d.isoformat() for d in days),
                series=tuple(
                    Series(name, tuple(series.get(day) for day in days))
                    for name, series in zip(names, by_account, strict=True)
                ),
            ),
        )
    return Section(key="followers", title="Followers and growth", tables=tuple(tables), charts=charts)


def _platforms(report: Report) -> Section:
    columns = (
        Column("Platform"),
        Column("Posts published", Kind.KPI_INT),
        Column("Impressions", Kind.KPI_INT),
        Column("Reach", Kind.KPI_INT),
        Column("Engagements", Kind.KPI_INT),
        Column("Engagement rate", Kind.KPI_RATIO),
        Column("Rate basis"),
    )
    rows = tuple(
        (
            platform_label(p.platform),
            p.posts_published,
            p.impressions,
            p.reach,
            p.engagements,
            p.engagement_rate,
            p.rate_basis.value if p.rate_basis else None,
        )
        for p in (*report.platforms, report.overall)
    )
    labels = tuple(platform_label(p.platform) for p in report.platforms)
    posts_chart = ChartSpec(
        key="posts_per_platform",
        title="Posts published per platform",
        kind=ChartKind.BAR,
        labels=labels,
        series=(
            Series("This period", tuple(_num(p.posts_published.current) for p in report.platforms)),
            Series("Previous period", tuple(_num(p.posts_published.previous) for p in report.platforms)),
        ),
    )
    rate_chart = ChartSpec(
        key="engagement_rate_per_platform",
        title="Engagement rate per platform",
        kind=ChartKind.BAR,
        value_kind=Kind.RATIO,
        labels=tuple(
            f"{label} ({basis_label(p.rate_basis)})" if basis_label(p.rate_basis) else label
            for label, p in zip(labels, report.platforms, strict=True)
        ),
        series=(
            Series("This period", tuple(_num(p.engagement_rate.current) for p in report.platforms)),
            Series("Previous period", tuple(_num(p.engagement_rate.previous) for p in report.platforms)),
        ),
    )
    table = Table(title="By platform", key="platforms", columns=columns, rows=rows)
    return Section(
        key="platforms", title="Performance by platform", tables=(table,), charts=(posts_chart, rate_chart)
    )


POST_COLUMNS = (
    Column("Published at", Kind.DATETIME),
    Column("Platform"),
    Column("Account", Kind.USER_TEXT),
    Column("Post", Kind.USER_TEXT),
    Column("Impressions", Kind.INT),
    Column("Engagements", Kind.INT),
    Column("Engagement rate", Kind.RATIO),
    Column("Rate basis"),
    Column("Origin"),
    Column("URL", Kind.URL),
)


def _post_rows(posts: tuple[PostRow, ...]) -> tuple[tuple[Cell, ...], ...]:
    return tuple(
        (
            p.published_at,
            platform_label(p.platform),
            p.account_name,
            p.text_excerpt,
            p.impressions,
            p.engagements,
            p.engagement_rate,
            p.rate_basis.value if p.rate_basis else None,
            p.origin,
            p.url,
        )
        for p in posts
    )


def _posts(report: Report) -> Section:
    tables = []
    if report.top_posts:
        tables.append(
            Table(title="Top posts", key="top_posts", columns=POST_COLUMNS, rows=_post_rows(report.top_posts))
        )
    if report.bottom_posts:
        tables.append(
            Table(
                title="Bottom posts",
                key="bottom_posts",
                columns=POST_COLUMNS,
                rows=_post_rows(report.bottom_posts),
            )
        )
    return Section(key="posts", title="Top and bottom posts", tables=tuple(tables))


def _best_times(report: Report) -> Section:
    grid: dict[tuple[int, int], float | None] = {
        (c.weekday, c.hour): c.avg_engagement_rate for c in report.heatmap
    }
    hours = tuple(f"{h:02d}" for h in range(24))
    heat_table = Table(
        title="Average engagement rate by weekday and hour (%)",
        key="heatmap",
        csv_only=True,
        columns=(Column("Day"), *(Column(h, Kind.RATIO) for h in hours)),
        rows=tuple((WEEKDAYS[d], *(grid.get((d, h)) for h in range(24))) for d in range(7)),
    )
    slots = best_slots(report.heatmap, limit=5)
    best_table = Table(
        title="Best times to post",
        key="best_slots",
        columns=(
            Column("Day"),
            Column("Hour"),
            Column("Average engagement rate", Kind.RATIO),
            Column("Posts", Kind.INT),
        ),
        rows=tuple((WEEKDAYS[c.weekday], f"{c.hour:02d}:00", c.avg_engagement_rate, c.posts) for c in slots),
    )
    chart = ChartSpec(
        key="heatmap",
        title="Average engagement rate by weekday and hour",
        kind=ChartKind.HEATMAP,
        value_kind=Kind.RATIO,
        labels=hours,
        series=tuple(Series(WEEKDAYS[d], tuple(grid.get((d, h)) for h in range(24))) for d in range(7)),
    )
    note = f"Hours in {report.period.timezone}, from the workspace's own publishing history."
    return Section(
        key="best_times",
        title="Best days and hours to post",
        tables=(best_table, heat_table),
        charts=(chart,),
        notes=(note,),
    )


def _inbox(report: Report) -> Section:
    inbox = report.inbox
    assert inbox is not None
    kpis = Table(
        title="Inbox",
        key="inbox",
        columns=(Column("Metric"), Column(THIS_PERIOD, Kind.KPI_INT)),
        rows=(
            ("Messages received", inbox.volume),
            ("Median first response", inbox.median_first_response_seconds),
        ),
        row_kinds=(Kind.KPI_INT, Kind.KPI_SECONDS),
    )
    sentiment = inbox.sentiment
    shares = sentiment.shares()
    sentiment_table = Table(
        title="Sentiment",
        key="sentiment",
        columns=(Column("Sentiment"), Column("Items", Kind.INT), Column("Share", Kind.RATIO)),
        rows=tuple((label.value.capitalize(), n, shares[label]) for label, n in sentiment.counts().items()),
    )
    notes = (
        (f"{sentiment.overridden} of {sentiment.total} sentiment labels were overridden by a person.",)
        if sentiment.overridden
        else ()
    )
    chart = ChartSpec(
        key="sentiment",
        title="Sentiment share",
        kind=ChartKind.PIE,
        labels=tuple(label.value.capitalize() for label in sentiment.counts()),
        series=(Series("Items", tuple(float(n) for n in sentiment.counts().values())),),
        colours=tuple(SENTIMENT_COLOURS[label] for label in sentiment.counts()),
    )
    tables = [kpis, sentiment_table]
    if inbox.team:
        tables.append(
            Table(
                title="The team",
                key="team",
                columns=(
                    Column("Person", Kind.USER_TEXT),
                    Column("Conversations handled", Kind.INT),
                    Column("Replies sent", Kind.INT),
                    Column("Median first response", Kind.SECONDS),
                    Column("SLA met", Kind.RATIO),
                ),
                rows=tuple(
                    (r.name, r.handled, r.replies, r.median_first_response_seconds, r.sla_met)
                    for r in inbox.team
                ),
            )
        )
    return Section(
        key="inbox",
        title="Inbox",
        tables=tuple(tables),
        charts=(chart,) if sentiment.total else (),
        notes=notes,
    )


def _share_of_voice(report: Report) -> Section:
    rows = report.share_of_voice
    tables: list[Table] = []
    charts: tuple[ChartSpec, ...] = ()
    if rows:
        tables.append(
            Table(
                title="Share of voice",
                key="share_of_voice",
                columns=(
                    Column("Monitor", Kind.USER_TEXT),
                    Column("Role"),
                    Column("Mentions", Kind.INT),
                    Column("Positive", Kind.INT),
                    Column("Negative", Kind.INT),
                    Column("Share", Kind.RATIO),
                ),
                rows=tuple(
                    (
                        r.monitor + (" (us)" if r.is_own else ""),
                        r.role.capitalize() if r.role else None,
                        r.mentions,
                        r.positive,
                        r.negative,
                        r.share,
                    )
                    for r in rows
                ),
            )
        )
        if any(r.mentions for r in rows):
            charts = (
                ChartSpec(
                    key="share_of_voice",
                    title="Share of voice",
                    kind=ChartKind.PIE,
                    labels=tuple(r.monitor for r in rows),
                    series=(Series("Mentions", tuple(float(r.mentions) for r in rows)),),
                ),
            )
    if report.sentiment_overrides is not None:
        tables.append(
            Table(
                title="Sentiment overrides",
                key="sentiment_overrides",
                columns=(Column("Metric"), Column(THIS_PERIOD, Kind.INT)),
                rows=(("Sentiment labels changed by people", report.sentiment_overrides),),
            )
        )
    return Section(key="share_of_voice", title="Share of voice", tables=tuple(tables), charts=charts)


def _goals(report: Report) -> Section:
    table = Table(
        title="Goals",
        key="goals",
        columns=(
            Column("Metric", Kind.USER_TEXT),
            Column("Target", Kind.NUMBER),
            Column("Actual", Kind.NUMBER),
            Column("Reached (%)", Kind.PCT),
        ),
        rows=tuple((g.metric, g.target, g.actual, g.pct_reached) for g in report.goals),
    )
    chart = ChartSpec(
        key="goals",
        title="Goals reached",
        kind=ChartKind.HBAR,
        value_kind=Kind.PCT,
        labels=tuple(g.metric for g in report.goals),
        series=(Series("Reached (%)", tuple(g.pct_reached for g in report.goals)),),
    )
    return Section(key="goals", title="Goals vs actuals", tables=(table,), charts=(chart,))


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)
