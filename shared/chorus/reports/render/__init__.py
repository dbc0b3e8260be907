"""Render a :class:`~chorus.reports.model.Report` as JSON, CSV, HTML or PDF, in memory.

``render(report, fmt)`` returns ``(body, content_type, filename)`` for the API or the reports worker;
``render_json``/``render_csv``/``render_html``/``render_pdf`` return the bytes of one format. The PDF
renderer (reportlab) is imported only when a PDF is asked for, so JSON/CSV requests do not pay for it.
"""

from __future__ import annotations

from enum import StrEnum

from chorus.reports.model import Report
from chorus.reports.render._layout import filename
from chorus.reports.render.as_csv import render_csv
from chorus.reports.render.as_html import render_html
from chorus.reports.render.as_json import render_json

__all__ = [
    "ReportFormat",
    "UnknownFormatError",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_pdf",
]


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"
    PDF = "pdf"


CONTENT_TYPES = {
    ReportFormat.JSON: "application/json",
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.PDF: "application/pdf",
}


class UnknownFormatError(ValueError):
    """The requested format is not one of json, csv, html, pdf."""


def render_pdf(report: Report) -> bytes:
    from chorus.reports.render.as_pdf import render_pdf as _render_pdf

    return _render_pdf(report)


def render(report: Report, fmt: ReportFormat | str) -> tuple[bytes, str, str]:
    """The report in ``fmt`` as ``(body, content_type, filename)``."""
    try:
        chosen = ReportFormat(str(fmt).strip().lower())
    except ValueError:
        allowed = ", ".join(f.value for f in ReportFormat)
        raise UnknownFormatError(f"unknown report format {fmt!r}; use one of {allowed}") from None
    renderers = {
        ReportFormat.JSON: render_json,
        ReportFormat.CSV: render_csv,
        ReportFormat.HTML: render_html,
        ReportFormat.PDF: render_pdf,
    }
    return renderers[chosen](report), CONTENT_TYPES[chosen], filename(report, chosen.value)
