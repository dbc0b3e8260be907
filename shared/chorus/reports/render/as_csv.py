"""CSV: every table of the report in ONE file, one section after another, for Excel and Sheets.

Layout: each table is a block — a row holding only the table's title, a header row, the data rows —
and blocks are separated by one empty row. Encoding is UTF-8 with a byte order mark so Excel shows
Chinese (and any non-Latin) text; rows end with CRLF as RFC 4180 and Excel expect.

Values are plain for spreadsheets: counts as integers, rates and shares as percentages (4.25, the
header says "(%)"), durations in seconds ("(s)"), datetimes as ``YYYY-MM-DD HH:MM`` in the report's
time zone. A column of this-period/previous-period figures becomes three columns (value, previous,
change %). Text typed by people that starts with ``= + - @`` (or a tab/CR) is prefixed with ``'`` so a
spreadsheet never runs it as a formula (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from chorus.reports.model import KpiValue, Report
from chorus.reports.render._layout import (
    KPI_KINDS,
    THIS_PERIOD,
    Cell,
    Document,
    Kind,
    Table,
    local_datetime,
    report_document,
)

BOM = "\ufeff"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CsvValue = str | int | float


def render_csv(report: Report) -> bytes:
    return render_csv_document(report_document(report))


def render_csv_document(document: Document) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([document.csv_title])
    writer.writerow([])
    for section in document.sections:
        for table in section.tables:
            writer.writerows(table_rows(table, document.tz))
            writer.writerow([])
    return out.getvalue().encode("utf-8")


def table_rows(table: Table, tz: ZoneInfo) -> list[list[CsvValue]]:
    """One table as CSV rows: title, header, data (datetimes in ``tz``)."""
    header: list[CsvValue] = []
    for column in table.columns:
        header.extend(_headers(column.name, column.kind, has_row_kinds=bool(table.row_kinds)))
    rows: list[list[CsvValue]] = [[table.title], header]
    for r, row in enumerate(table.rows):
        out: list[CsvValue] = []
        for c, cell in enumerate(row):
            kind = table.kind(r, c)
            labelled = f"{cell}{_unit(table.row_kinds[r])}" if c == 0 and table.row_kinds else cell
            out.extend(_cells(labelled, kind, tz))
        rows.append(out)
    return rows


def _unit(kind: Kind) -> str:
    base = KPI_KINDS.get(kind, kind)
    return {Kind.RATIO: " (%)", Kind.SECONDS: " (s)"}.get(base, "")


def _headers(name: str, kind: Kind, *, has_row_kinds: bool) -> list[CsvValue]:
    unit = "" if has_row_kinds or name.endswith(")") else _unit(kind)
    if kind not in KPI_KINDS:
        return [f"{name}{unit}"]
    if name == THIS_PERIOD:
        return [f"{name}{unit}", f"Previous period{unit}", "Change (%)"]
    return [f"{name}{unit}", f"{name} previous period{unit}", f"{name} change (%)"]


def _cells(value: Cell, kind: Kind, tz: ZoneInfo) -> list[CsvValue]:
    if isinstance(value, KpiValue):
        base = KPI_KINDS.get(kind, Kind.NUMBER)
        change = "" if value.change_pct is None else round(value.change_pct, 2)
        return [_cell(value.current, base, tz), _cell(value.previous, base, tz), change]
    return [_cell(value, kind, tz)]


def _cell(value: Cell, kind: Kind, tz: ZoneInfo) -> CsvValue:
    if value is None or isinstance(value, KpiValue):
        return ""
    if isinstance(value, datetime):
        return local_datetime(value, tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _guard(value) if kind in (Kind.USER_TEXT, Kind.URL) else value
    return _number(value, KPI_KINDS.get(kind, kind))


def _number(value: float, kind: Kind) -> CsvValue:
    scaled: float = value
    if kind == Kind.RATIO:
        scaled = round(value * 100, 4)
    elif kind in (Kind.PCT, Kind.CHANGE):
        scaled = round(value, 2)
    elif kind == Kind.SECONDS:
        scaled = round(value)
    if isinstance(scaled, float) and scaled.is_integer() and kind not in (Kind.RATIO, Kind.PCT, Kind.CHANGE):
        return int(scaled)
    return scaled


def _guard(text: str) -> str:
    """Neutralise text a spreadsheet would evaluate as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text
