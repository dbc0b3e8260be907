"""Render a :class:`~chorus.reports.model.Report` as JSON, CSV, HTML or PDF, in memory.

``render(report, fmt)`` returns ``(body, content_type, filename)`` for the API or the reports worker;
``render_json``/``render_csv``/``render_html``/``render_pdf`` return the bytes of one format. The PDF
renderer (reportlab) is imported only when a PDF is asked for, so JSON/CSV requests do not pay for it.

Other reports (the competitor benchmark) describe themselves as a :class:`Document` of sections and
call ``render_document(document, data, fmt, stem)``: the same renderers, their own JSON ``data``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from chorus.reports.model import Report
from chorus.reports.render._layout import (
    ChartKind,
    ChartSpec,
    Column,
    Document,
    Kind,
    Section,
    Series,
    Table,
    filename,
    platform_label,
)
from chorus.reports.render.as_csv import render_csv, render_csv_document
from chorus.reports.render.as_html import render_html, render_html_document
from chorus.reports.render.as_json import render_json, render_json_data

__all__ = [
    "ChartKind",
    "ChartSpec",
    "Column",
    "Document",
    "Kind",
    "ReportFormat",
    "Section",
    "Series",
    "Table",
    "UnknownFormatError",
    "platform_label",
    "render",
    "render_csv",
    "render_document",
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


def _format(fmt: ReportFormat | str) -> ReportFormat:
    try:
        return ReportFormat(str(fmt).strip().lower())
    except ValueError:
        allowed = ", ".join(f.value for f in ReportFormat)
        raise UnknownFormatError(f"unknown report format {fmt!r}; use one of {allowed}") from None


def render(report: Report, fmt: ReportFormat | str) -> tuple[bytes, str, str]:
    """The report in ``fmt`` as ``(body, content_type, filename)``."""
    chosen = _format(fmt)
    renderers = {
        ReportFormat.JSON: render_json,
        ReportFormat.CSV: render_csv,
        ReportFormat.HTML: render_html,
        ReportFormat.PDF: render_pdf,
    }
    return renderers[chosen](report), CONTENT_TYPES[chosen], filename(report, chosen.value)


def render_document(
    document: Document, data: Mapping[str, Any], fmt: ReportFormat | str, stem: str
) -> tuple[bytes, str, str]:
    """A :class:`Document` in ``fmt`` (JSON: ``data``) as ``(body, content_type, "<stem>.<ext>")``."""
    chosen = _format(fmt)

    def pdf(doc: Document) -> bytes:
        from chorus.reports.render.as_pdf import render_pdf_document

        return render_pdf_document(doc)

    renderers: dict[ReportFormat, Callable[[Document], bytes]] = {
        ReportFormat.JSON: lambda _: render_json_data(data),
        ReportFormat.CSV: render_csv_document,
        ReportFormat.HTML: render_html_document,
        ReportFormat.PDF: pdf,
    }
    return renderers[chosen](document), CONTENT_TYPES[chosen], f"{stem}.{chosen.value}"
