"""PDF: the same sections, tables and charts as the HTML page, drawn in pure Python with reportlab.

Runs inside Lambda with no browser: reportlab's platypus lays out the pages (A4) and
``reportlab.graphics.charts`` draws the charts (line, bars, pie); the weekday x hour heatmap is a table
whose cells are shaded by value, with the value printed in each cell.

Fonts: Latin text uses Helvetica (a PDF base font, nothing embedded). Runs of Chinese or Japanese
(and Greek/Cyrillic, which Helvetica's encoding lacks) switch to reportlab's CID font
``STSong-Light``, Korean Hangul to ``HYSMyeongJo-Medium``; both ship with reportlab and are referenced,
not embedded, so every PDF reader shows them with its own Asian font pack. Characters no font here can
draw (emoji, other scripts) are left out rather than printed as black boxes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable

from chorus.reports.model import KpiValue, Report
from chorus.reports.render._layout import (
    KPI_KINDS,
    NUMERIC_KINDS,
    THIS_PERIOD,
    ChartKind,
    ChartSpec,
    Document,
    Kind,
    Section,
    Table,
    change_tone,
    fmt_change,
    fmt_int,
    fmt_pct,
    fmt_ratio,
    fmt_value,
    local_datetime,
    report_document,
)

LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
CHINESE = "STSong-Light"
KOREAN = "HYSMyeongJo-Medium"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 15 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
LINE = colors.HexColor("#e4e7eb")
HEAD_BG = colors.HexColor("#f5f7fa")
UP = "#1b7f3b"
DOWN = "#b42318"
PALETTE = ("#3366cc", "#ff9900", "#109618", "#dc3912", "#990099", "#0099c6", "#dd4477", "#66aa00")
PREVIOUS = "#b8c2cc"

BODY = ParagraphStyle("body", fontName=LATIN, fontSize=8.5, leading=11, textColor=INK)
NOTE = ParagraphStyle("note", parent=BODY, fontSize=7.5, leading=9.5, textColor=MUTED)
TITLE = ParagraphStyle("title", parent=BODY, fontName=LATIN_BOLD, fontSize=18, leading=22, spaceAfter=4)
SUBTITLE = ParagraphStyle("subtitle", parent=BODY, textColor=MUTED, spaceAfter=10)
H2 = ParagraphStyle(
    "h2", parent=BODY, fontName=LATIN_BOLD, fontSize=13, leading=16, spaceBefore=10, spaceAfter=6
)
H3 = ParagraphStyle(
    "h3", parent=BODY, fontName=LATIN_BOLD, fontSize=9.5, leading=12, spaceBefore=6, spaceAfter=3
)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=7.5, leading=9.2)
CELL_NUM = ParagraphStyle("cell_num", parent=CELL, alignment=TA_RIGHT)
HEAD = ParagraphStyle("head", parent=CELL, fontName=LATIN_BOLD, fontSize=6.8, leading=8.4)
HEAD_NUM = ParagraphStyle("head_num", parent=HEAD, alignment=TA_RIGHT)


# ---------------------------------------------------------------- text and fonts


@cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(CHINESE))
    pdfmetrics.registerFont(UnicodeCIDFont(KOREAN))


def _font_of(ch: str) -> str | None:
    """The font that can draw ``ch`` (``LATIN``, ``CHINESE``, ``KOREAN``), or None if none can."""
    code = ord(ch)
    if code < 0x80 or ch in "\n\t\u2212":  # U+2212 minus: reportlab draws it from Symbol
        return LATIN
    try:
        ch.encode("cp1252")  # Helvetica's WinAnsi encoding
    except UnicodeEncodeError:
        pass
    else:
        return LATIN
    if (
        0x3000 <= code <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x3100 <= code <= 0x312F  # bopomofo
        or 0x0370 <= code <= 0x04FF  # Greek, Cyrillic (in the GB character set)
        or 0x2000 <= code <= 0x206F  # general punctuation not in WinAnsi
    ):
        return CHINESE
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return KOREAN
    return None


def _runs(text: str) -> list[tuple[str, str]]:
    """``text`` split into (font, run) pieces; characters no font can draw are dropped."""
    runs: list[tuple[str, str]] = []
    for ch in text:
        font = _font_of(ch)
        if font is None:
            continue
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + ch)
        else:
            runs.append((font, ch))
    return runs


def markup(text: str) -> str:
    """Paragraph markup for user text: escaped, with CJK runs in a font that has their glyphs."""
    out = []
    for font, run in _runs(text):
        safe = escape(run).replace("\n", "<br/>")
        out.append(safe if font == LATIN else f'<font name="{font}">{safe}</font>')
    return "".join(out)


def plain(text: str) -> str:
    """``text`` without the characters no font here can draw (for chart labels)."""
    return "".join(run for _, run in _runs(text))


def label_font(texts: Sequence[str]) -> str:
    """One font for a set of chart labels: the CJK one if any label needs it."""
    fonts = {font for text in texts for font, _ in _runs(text)}
    if KOREAN in fonts and CHINESE not in fonts:
        return KOREAN
    return CHINESE if fonts - {LATIN} else LATIN


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(markup(text), style)


# ---------------------------------------------------------------- the document


def render_pdf(report: Report) -> bytes:
    return render_pdf_document(report_document(report))


def render_pdf_document(document: Document) -> bytes:
    _register_fonts()
    buffer = io.BytesIO()
    tz = document.tz
    title = f"{document.heading} - {document.workspace_name}"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=plain(title),
        author="Chorus",
        subject=document.subject,
        creator="Chorus",
    )
    story: list[Flowable] = [
        Paragraph(escape(document.heading), TITLE),
        _para(document.subtitle, SUBTITLE),
    ]
    for section in document.sections:
        story.extend(_section(section, tz))
    generated = local_datetime(document.generated_at, tz).strftime("%Y-%m-%d %H:%M")
    footer = document.footer

    def on_page(canvas: Canvas, document: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(MUTED)
        x, y = MARGIN, MARGIN - 2 * mm
        for font, run in _runs(footer):
            canvas.setFont(font, 7)
            canvas.drawString(x, y, run)
            x += pdfmetrics.stringWidth(run, font, 7)
        canvas.setFont(LATIN, 7)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, y, f"Generated {generated} \u00b7 Page {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def _section(section: Section, tz: ZoneInfo) -> list[Flowable]:
    heading = Paragraph(escape(section.title), H2)
    body: list[Flowable] = []
    for table in section.tables:
        if table.csv_only:
            continue
        if table.title != section.title:
            body.append(_para(table.title, H3))
        body.append(_kpi_table(table) if table.row_kinds else _table(table, tz))
    for chart in section.charts:
        body.append(Spacer(1, 4 * mm))
        body.append(KeepTogether([_para(chart.title, H3), _chart(chart)]))
    body.extend(_para(note, NOTE) for note in section.notes)
    # keep the heading with the start of its content
    return [CondPageBreak(60 * mm), heading, *body]


# ---------------------------------------------------------------- tables

WIDTH_WEIGHTS = {
    Kind.INT: 1.3,
    Kind.RATIO: 1.3,
    Kind.USER_TEXT: 1.6,
    Kind.DATETIME: 1.25,
    Kind.URL: 0.7,
    Kind.KPI_INT: 1.35,
    Kind.KPI_RATIO: 1.35,
    Kind.KPI_SECONDS: 1.35,
}


def _widths(table: Table) -> list[float]:
    weights = []
    for column in table.columns:
        weight = WIDTH_WEIGHTS.get(column.kind, 1.0)
        if column.name == "Post":
            weight = 3.0
        elif column.name == "Rate basis":
            weight = 1.3
        weights.append(weight)
    total = sum(weights)
    return [FRAME_WIDTH * w / total for w in weights]


def _styled(rows: list[list[Flowable]], widths: list[float], header_rows: int = 1) -> PdfTable:
    pdf_table = PdfTable(rows, colWidths=widths, repeatRows=header_rows)
    pdf_table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD_BG),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return pdf_table


def _table(table: Table, tz: ZoneInfo) -> PdfTable:
    header: list[Flowable] = [
        Paragraph(escape(c.name), HEAD_NUM if c.kind in NUMERIC_KINDS else HEAD) for c in table.columns
    ]
    rows: list[list[Flowable]] = [header]
    for r, row in enumerate(table.rows):
        rows.append([_cell(value, table.kind(r, c), tz) for c, value in enumerate(row)])
    return _styled(rows, _widths(table))


def _change_markup(value: KpiValue, kind: Kind) -> str:
    if value.change_pct is None:
        return ""
    tone = change_tone(value.change_pct, kind)
    colour = {"up": UP, "down": DOWN}.get(tone, "#616e7c")
    return f'<font size="6.5" color="{colour}">{escape(fmt_change(value.change_pct))}</font>'


def _cell(value: object, kind: Kind, tz: ZoneInfo) -> Paragraph:
    if isinstance(value, KpiValue):
        text = escape(fmt_value(value, kind, tz))
        change = _change_markup(value, kind)
        return Paragraph(f"{text}<br/>{change}" if change else text, CELL_NUM)
    if kind == Kind.URL:
        if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
            return Paragraph(
                f'<link href="{escape(value, {chr(34): "&quot;"})}" color="#3366cc">open</link>', CELL
            )
        return _para("" if value is None else str(value), CELL)
    if isinstance(value, str) and kind not in NUMERIC_KINDS:
        return _para(value, CELL)
    text = fmt_value(value, kind, tz)  # type: ignore[arg-type]
    return _para(text, CELL_NUM if kind in NUMERIC_KINDS else CELL)


def _kpi_table(table: Table) -> PdfTable:
    """A list of this-period figures as Metric | This period | Previous period | Change."""
    utc = ZoneInfo("UTC")
    header: list[Flowable] = [
        Paragraph("Metric", HEAD),
        Paragraph(THIS_PERIOD, HEAD_NUM),
        Paragraph("Previous period", HEAD_NUM),
        Paragraph("Change", HEAD_NUM),
    ]
    rows: list[list[Flowable]] = [header]
    for r, row in enumerate(table.rows):
        label, value = row[0], row[1]
        if not isinstance(value, KpiValue):
            continue
        kind = table.row_kinds[r]
        base = KPI_KINDS.get(kind, Kind.NUMBER)
        change = _change_markup(value, kind).replace('size="6.5" ', "") or "\u2013"
        rows.append(
            [
                _para(str(label), CELL),
                Paragraph(escape(fmt_value(value.current, base, utc)), CELL_NUM),
                Paragraph(escape(fmt_value(value.previous, base, utc)), CELL_NUM),
                Paragraph(change, CELL_NUM),
            ]
        )
    return _styled(rows, [FRAME_WIDTH * w for w in (0.4, 0.2, 0.2, 0.2)])


# ---------------------------------------------------------------- charts


def _value_format(kind: Kind) -> Callable[[float], str]:
    if kind == Kind.RATIO:
        return fmt_ratio
    if kind == Kind.PCT:
        return fmt_pct
    return fmt_int


def _chart(spec: ChartSpec) -> Flowable:
    if spec.kind == ChartKind.HEATMAP:
        return _heatmap(spec)
    if spec.kind == ChartKind.PIE:
        return _pie(spec)
    if spec.kind == ChartKind.LINE:
        return _line(spec)
    return _bars(spec)


def _colour(index: int, name: str = "") -> colors.Color:
    return colors.HexColor(PREVIOUS if name == "Previous period" else PALETTE[index % len(PALETTE)])


LEGEND_ROW = 10.0


def _legend(
    drawing: Drawing | None,
    pairs: list[tuple[colors.Color, str]],
    x: float,
    y: float,
    *,
    vertical: bool = False,
) -> int:
    """Colour swatches with their names, left to right, wrapping; each name drawn in runs of the font
    its characters need (a chart legend in one font would misprint mixed Latin/CJK names).
    Returns the number of rows; with ``drawing=None`` only counts them."""
    size, gap, font_size = 7.0, 14.0, 7.0
    left, top, rows = x, y, 1
    for colour, name in pairs:
        runs = _runs(name)
        width = size + 4 + sum(pdfmetrics.stringWidth(run, font, font_size) for font, run in runs)
        if left > x and (vertical or left + width > FRAME_WIDTH - 10):
            left, top, rows = x, top - LEGEND_ROW, rows + 1
        left += width + gap
        if drawing is None:
            continue
        left -= width + gap
        swatch = Rect(left, top - size, size, size)
        swatch.fillColor = colour
        swatch.strokeColor = None
        drawing.add(swatch)
        cursor = left + size + 4
        for font, run in runs:
            drawing.add(String(cursor, top - size + 1, run, fontName=font, fontSize=font_size, fillColor=INK))
            cursor += pdfmetrics.stringWidth(run, font, font_size)
        left += width + gap
    return rows


def _axis_numbers(values: Sequence[float | None]) -> tuple[float, float]:
    present = [v for v in values if v is not None]
    if not present:
        return 0.0, 1.0
    return min(present), max(present)


def _line(spec: ChartSpec) -> Drawing:
    pairs = [(_colour(i, s.name), s.name) for i, s in enumerate(spec.series)]
    height = 170.0 + LEGEND_ROW * _legend(None, pairs, 42, 0)
    drawing = Drawing(FRAME_WIDTH, height)
    chart = HorizontalLineChart()
    chart.x, chart.y = 42, 40
    chart.width, chart.height = int(FRAME_WIDTH - 60), 115
    chart.data = [tuple(v for v in s.values) for s in spec.series]
    step = max(1, math.ceil(len(spec.labels) / 8))
    chart.categoryAxis.categoryNames = [
        label[5:] if i % step == 0 else "" for i, label in enumerate(spec.labels)
    ]  # MM-DD
    chart.categoryAxis.labels.fontName = LATIN
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 0
    chart.categoryAxis.labels.dy = -3
    low, high = _axis_numbers([v for s in spec.series for v in s.values])
    pad = max((high - low) * 0.1, 1.0)
    chart.valueAxis.valueMin = max(0.0, low - pad)
    chart.valueAxis.valueMax = high + pad
    chart.valueAxis.labels.fontName = LATIN
    chart.valueAxis.labels.fontSize = 6.5
    chart.valueAxis.labelTextFormat = _value_format(spec.value_kind)
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = LINE
    chart.joinedLines = True
    for i, series in enumerate(spec.series):
        chart.lines[i].strokeColor = _colour(i, series.name)
        chart.lines[i].strokeWidth = 1.5
    drawing.add(chart)
    _legend(drawing, pairs, 42, height - 4)
    return drawing


def _bars(spec: ChartSpec) -> Drawing:
    horizontal = spec.kind == ChartKind.HBAR
    rows = max(1, len(spec.labels))
    height = max(120.0, 40.0 + 26.0 * rows) if horizontal else 190.0
    drawing = Drawing(FRAME_WIDTH, height)
    chart: HorizontalBarChart | VerticalBarChart = HorizontalBarChart() if horizontal else VerticalBarChart()
    font = label_font(spec.labels)
    left = 120 if horizontal else 42
    chart.x, chart.y = left, 30
    chart.width = int(FRAME_WIDTH - left - 20)
    chart.height = int(height - (45 if horizontal else 65))
    chart.data = [tuple(s.values) for s in spec.series]  # None: no bar
    chart.categoryAxis.categoryNames = [plain(label) for label in spec.labels]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    if horizontal:
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.categoryAxis.labels.dx = -4
        chart.categoryAxis.reverseDirection = True
    else:
        chart.categoryAxis.labels.boxAnchor = "n"
        chart.categoryAxis.labels.dy = -3
    _, high = _axis_numbers([v for s in spec.series for v in s.values])
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = high * 1.15 if high > 0 else 1.0
    chart.valueAxis.labels.fontName = LATIN
    chart.valueAxis.labels.fontSize = 6.5
    chart.valueAxis.labelTextFormat = _value_format(spec.value_kind)
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = LINE
    chart.barLabelFormat = _value_format(spec.value_kind)
    chart.barLabels.fontName = LATIN
    chart.barLabels.fontSize = 6
    chart.barLabels.nudge = 6
    chart.groupSpacing = 8
    for i, series in enumerate(spec.series):
        chart.bars[i].fillColor = _colour(i, series.name)
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    if len(spec.series) > 1:
        _legend(drawing, [(_colour(i, s.name), s.name) for i, s in enumerate(spec.series)], left, height - 4)
    return drawing


def _pie(spec: ChartSpec) -> Drawing:
    height = max(150.0, 30.0 + LEGEND_ROW * len(spec.labels))
    drawing = Drawing(FRAME_WIDTH, height)
    values = [0.0 if v is None else v for v in spec.series[0].values]
    total = sum(values)
    pie = Pie()
    pie.width = pie.height = 125
    pie.x, pie.y = 30, int(height - 140)
    pie.data = values if total else [1.0]
    pie.labels = None
    pie.slices.strokeColor = colors.white
    pie.slices.strokeWidth = 1
    pie.simpleLabels = True
    for i, _ in enumerate(values):
        colour = spec.colours[i] if i < len(spec.colours) else PALETTE[i % len(PALETTE)]
        pie.slices[i].fillColor = colors.HexColor(colour)
    drawing.add(pie)
    pairs = []
    for i, (label, value) in enumerate(zip(spec.labels, values, strict=True)):
        colour = spec.colours[i] if i < len(spec.colours) else PALETTE[i % len(PALETTE)]
        share = f"{value / total * 100:.1f}%" if total else "\u2013"
        pairs.append((colors.HexColor(colour), f"{label}: {fmt_int(value)} ({share})"))
    _legend(drawing, pairs, 185, height - 20, vertical=True)
    return drawing


def _heatmap(spec: ChartSpec) -> PdfTable:
    """Weekdays x hours as a table, each cell shaded by its value (darker = higher) and labelled."""
    values = [v for s in spec.series for v in s.values if v is not None]
    top = max(values) if values else 0.0
    small = ParagraphStyle("heat", parent=CELL, fontSize=5.2, leading=6.2, alignment=1)
    small_head = ParagraphStyle("heat_head", parent=small, fontName=LATIN_BOLD)
    header: list[Flowable] = [Paragraph("", small_head)]
    header.extend(Paragraph(h, small_head) for h in spec.labels)
    rows: list[list[Flowable]] = [header]
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.white),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0.5),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for r, series in enumerate(spec.series, start=1):
        row: list[Flowable] = [Paragraph(escape(series.name), small_head)]
        for c, value in enumerate(series.values, start=1):
            if value is None:
                row.append(Paragraph("", small))
                commands.append(("BACKGROUND", (c, r), (c, r), colors.HexColor("#f0f2f4")))
                continue
            strength = 0.12 + 0.88 * (value / top) if top > 0 else 0.12
            shade = colors.Color(0.2, 0.4, 0.8, alpha=1)
            fill = colors.Color(
                1 - (1 - shade.red) * strength,
                1 - (1 - shade.green) * strength,
                1 - (1 - shade.blue) * strength,
            )
            ink = "#ffffff" if strength > 0.6 else "#1f2933"
            text = f"{value * 100:.1f}" if spec.value_kind == Kind.RATIO else fmt_int(value)
            row.append(Paragraph(f'<font color="{ink}">{text}</font>', small))
            commands.append(("BACKGROUND", (c, r), (c, r), fill))
        rows.append(row)
    first = 10 * mm
    widths = [first] + [(FRAME_WIDTH - first) / len(spec.labels)] * len(spec.labels)
    table = PdfTable(rows, colWidths=widths)
    table.setStyle(TableStyle(commands))
    return table


__all__ = ["label_font", "markup", "plain", "render_pdf"]
