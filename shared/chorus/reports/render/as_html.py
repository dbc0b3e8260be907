"""HTML: one self-contained page with the report's tables and Chart.js charts, for screens and print.

Nothing is loaded from the network: Chart.js and its matrix plugin (heatmap) are vendored under
``chorus/reports/assets`` (see ``vendor.json``) and inlined, with their licences, into the page. A
Content-Security-Policy allows exactly those inline scripts and the one style block (by SHA-256) and
nothing else, so even text that slipped past escaping could not run or fetch anything. All text comes
through :func:`html.escape`; chart data travels as JSON in a ``<script type="application/json">`` block
with ``<``, ``>`` and ``&`` escaped, read with ``JSON.parse``. Links to the posts themselves are the only
``href`` to another site, and only for ``http(s)`` URLs.

Layout: a single column on phones (tables turn into label/value cards below 700 px), a grid of charts
on wider screens; print styles keep charts and table rows whole on a page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from datetime import datetime
from html import escape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from chorus.reports.assets import asset_text, manifest
from chorus.reports.model import KpiValue, Report
from chorus.reports.render._layout import (
    KPI_KINDS,
    NUMERIC_KINDS,
    ChartSpec,
    Document,
    Kind,
    Section,
    Table,
    change_tone,
    fmt_change,
    fmt_value,
    local_datetime,
    report_document,
)

STYLE = """
:root{--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f7fa;--card:#fff;--up:#1b7f3b;--down:#b42318;
--accent:#3366cc}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC",
"Microsoft YaHei",sans-serif;color:var(--ink);background:var(--bg)}
header,main,footer{max-width:1100px;margin:0 auto;padding:16px}
header h1{margin:0 0 4px;font-size:1.6rem}
.sub{color:var(--muted);margin:0}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px;margin:0 0 16px}
section h2{margin:0 0 12px;font-size:1.25rem}
h3{font-size:1rem;margin:16px 0 8px}
.note{color:var(--muted);font-size:.85rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px;margin:0 0 8px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px}
.card .label{color:var(--muted);font-size:.85rem}
.card .value{font-size:1.4rem;font-weight:600}
.card .prev{color:var(--muted);font-size:.8rem}
.chg{font-size:.8rem;font-weight:600;white-space:nowrap}
.chg.up{color:var(--up)}.chg.down{color:var(--down)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px}
figure{margin:0;break-inside:avoid}
figcaption{font-weight:600;margin:0 0 6px}
.chart-box{position:relative;height:280px}
.scroll{overflow-x:auto}
.heat .chart-box{min-width:640px;height:260px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap}
td a{white-space:nowrap}
td.text{max-width:28rem;overflow-wrap:anywhere}
td .chg{display:block}
footer{color:var(--muted);font-size:.8rem}
@media (max-width:700px){
 header,main,footer{padding:10px}
 section{padding:12px}
 table.stack thead{display:none}
 table.stack tr{display:block;border-bottom:2px solid var(--line);padding:6px 0}
 table.stack td{display:flex;justify-content:space-between;gap:12px;border:0;padding:3px 0;text-align:right}
 table.stack td::before{content:attr(data-label);color:var(--muted);text-align:left;font-weight:600;
  flex:0 0 auto;white-space:nowrap}
 table.stack td.text{max-width:none;text-align:right}
 td .chg{display:inline;margin-left:6px}
}
@media print{
 body{background:#fff;font-size:11px}
 header,main,footer{max-width:none;padding:0}
 section{border:0;padding:0;margin:0 0 14px;break-inside:auto}
 tr,figure,.card{break-inside:avoid}
 .charts{grid-template-columns:1fr 1fr}
 .scroll{overflow:visible}
 .heat .chart-box{min-width:0}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

CHART_INIT = """
(function () {
  "use strict";
  var specs = JSON.parse(document.getElementById("chorus-chart-data").textContent);
  var palette = ["#3366cc", "#ff9900", "#109618", "#dc3912", "#990099", "#0099c6", "#dd4477", "#66aa00"];
  var previousColour = "#b8c2cc";
  var fmt = {
    int: function (v) { return v == null ? "\\u2013" : Number(v).toLocaleString(); },
    ratio: function (v) { return v == null ? "\\u2013" : (v * 100).toFixed(2) + "%"; },
    pct: function (v) { return v == null ? "\\u2013" : Number(v).toFixed(1) + "%"; }
  };
  function formatter(kind) { return fmt[kind] || fmt.int; }
  function tooltip(kind) {
    var f = formatter(kind);
    return { callbacks: { label: function (ctx) {
      var v = ctx.raw && typeof ctx.raw === "object" ? ctx.raw.v : ctx.raw;
      var name = ctx.dataset.label ? ctx.dataset.label + ": " : (ctx.label ? ctx.label + ": " : "");
      return name + f(v);
    } } };
  }
  function ticks(kind) { return { callback: function (v) { return formatter(kind)(v); } }; }
  function heatColour(v, max) {
    if (v == null) { return "rgba(200,200,200,0.25)"; }
    var a = max > 0 ? 0.12 + 0.88 * (v / max) : 0.12;
    return "rgba(51,102,204," + a.toFixed(3) + ")";
  }
  function config(spec) {
    var kind = spec.value_kind;
    var base = { responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: spec.series.length > 1 }, tooltip: tooltip(kind) } };
    if (spec.kind === "pie") {
      base.plugins.legend = { display: true, position: "bottom" };
      return { type: "doughnut", options: base, data: { labels: spec.labels, datasets: [{
        label: "", data: spec.series[0].values,
        backgroundColor: spec.colours.length ? spec.colours
          : spec.labels.map(function (_, i) { return palette[i % palette.length]; }) }] } };
    }
    if (spec.kind === "heatmap") {
      var points = [], max = 0;
      spec.series.forEach(function (row) {
        row.values.forEach(function (v, h) {
          points.push({ x: spec.labels[h], y: row.name, v: v });
          if (v != null && v > max) { max = v; }
        });
      });
      base.plugins.legend = { display: false };
      base.plugins.tooltip = { callbacks: {
        title: function (items) { var r = items[0].raw; return r.y + " " + r.x + ":00"; },
        label: function (ctx) { return "avg engagement rate " + formatter(kind)(ctx.raw.v); } } };
      base.scales = {
        x: { type: "category", labels: spec.labels, offset: true, grid: { display: false } },
        y: { type: "category", labels: spec.series.map(function (r) { return r.name; }), offset: true,
             reverse: true, grid: { display: false } } };
      return { type: "matrix", options: base, data: { datasets: [{ label: spec.title, data: points,
        backgroundColor: function (c) { return heatColour(c.raw && c.raw.v, max); },
        borderColor: "#ffffff", borderWidth: 1,
        width: function (c) { var a = c.chart.chartArea; return a ? a.width / spec.labels.length - 1 : 10; },
        height: function (c) { var a = c.chart.chartArea; return a ? a.height / spec.series.length - 1 : 10; }
      }] } };
    }
    var datasets = spec.series.map(function (s, i) {
      var colour = s.name === "Previous period" ? previousColour : palette[i % palette.length];
      return { label: s.name, data: s.values, backgroundColor: colour, borderColor: colour,
        spanGaps: true, pointRadius: spec.labels.length > 40 ? 0 : 2, tension: 0.2 };
    });
    var valueAxis = { beginAtZero: spec.kind !== "line", ticks: ticks(kind) };
    if (spec.kind === "hbar") {
      base.indexAxis = "y";
      base.scales = { x: valueAxis };
    } else {
      base.scales = { y: valueAxis };
    }
    return { type: spec.kind === "line" ? "line" : "bar", options: base,
             data: { labels: spec.labels, datasets: datasets } };
  }
  specs.forEach(function (spec) {
    var canvas = document.getElementById("chart-" + spec.key);
    if (canvas) { new Chart(canvas, config(spec)); }
  });
  window.addEventListener("beforeprint", function () {
    Object.values(Chart.instances).forEach(function (c) { c.resize(); });
  });
})();
"""


def render_html(report: Report) -> bytes:
    return render_html_document(report_document(report))


def render_html_document(document: Document) -> bytes:
    tz = document.tz
    parts: list[str] = []
    charts: list[ChartSpec] = []
    for section in document.sections:
        parts.append(_section(section, tz))
        charts.extend(section.charts)
    scripts = [_vendored_script(entry) for entry in manifest()["files"]]
    scripts.append(CHART_INIT)
    csp = "; ".join(
        (
            "default-src 'none'",
            "script-src " + " ".join(_csp_hash(s) for s in scripts),
            f"style-src {_csp_hash(STYLE)}",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    generated = local_datetime(document.generated_at, tz).strftime("%Y-%m-%d %H:%M")
    credits = ", ".join(f"{e['npm_package']} {e['version']} ({e['license']})" for e in manifest()["files"])
    page = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="generator" content="Chorus">',
        f"<title>{escape(document.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(document.heading)}</h1>",
        f'<p class="sub">{escape(document.subtitle)}</p>',
        "</header>",
        "<main>",
        *parts,
        "</main>",
        f"<footer>Generated by Chorus on {generated} ({escape(document.timezone)}). "
        f"Charts drawn with {escape(credits)}.</footer>",
        f'<script type="application/json" id="chorus-chart-data">{_json_for_script(charts)}</script>',
        *(f"<script>{s}</script>" for s in scripts),
        "</body>",
        "</html>",
    ]
    return "\n".join(page).encode("utf-8")


def _section(section: Section, tz: ZoneInfo) -> str:
    out = [f'<section id="{escape(section.key)}">', f"<h2>{escape(section.title)}</h2>"]
    for table in section.tables:
        if table.csv_only:
            continue
        out.append(_kpi_cards(table) if _is_kpi_list(table) else _table(table, tz, section))
    if section.charts:
        out.append('<div class="charts">')
        out.extend(_figure(chart) for chart in section.charts)
        out.append("</div>")
    out.extend(f'<p class="note">{escape(note)}</p>' for note in section.notes)
    out.append("</section>")
    return "\n".join(out)


def _is_kpi_list(table: Table) -> bool:
    return len(table.columns) == 2 and bool(table.row_kinds)


def _kpi_cards(table: Table) -> str:
    out = [f'<div class="cards" id="{escape(table.key)}" aria-label="{escape(table.title)}">']
    for r, row in enumerate(table.rows):
        label, value = row[0], row[1]
        kind = table.row_kinds[r]
        if not isinstance(value, KpiValue):
            continue
        base = KPI_KINDS.get(kind, Kind.NUMBER)
        out.append(
            '<div class="card">'
            f'<div class="label">{escape(str(label))}</div>'
            f'<div class="value">{escape(fmt_value(value.current, base, ZoneInfo("UTC")))}</div>'
            f"{_change_span(value, kind)}"
            f'<div class="prev">previous: {escape(fmt_value(value.previous, base, ZoneInfo("UTC")))}</div>'
            "</div>"
        )
    out.append("</div>")
    return "\n".join(out)


def _change_span(value: KpiValue, kind: Kind) -> str:
    if value.change_pct is None:
        return ""
    tone = change_tone(value.change_pct, kind)
    return f'<span class="chg {tone}">{escape(fmt_change(value.change_pct))}</span>'


def _table(table: Table, tz: ZoneInfo, section: Section) -> str:
    heading = "" if table.title == section.title else f"<h3>{escape(table.title)}</h3>"
    head = "".join(
        f'<th scope="col" class="{"num" if c.kind in NUMERIC_KINDS else "text"}">{escape(c.name)}</th>'
        for c in table.columns
    )
    body = []
    for r, row in enumerate(table.rows):
        cells = []
        for c, value in enumerate(row):
            kind = table.kind(r, c)
            label = escape(table.columns[c].name)
            css = "num" if kind in NUMERIC_KINDS else "text"
            cells.append(f'<td class="{css}" data-label="{label}">{_cell_html(value, kind, tz)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    stack = ' class="stack"' if len(table.columns) > 3 else ""
    return (
        f'{heading}<div class="scroll"><table{stack} id="{escape(table.key)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _cell_html(value: object, kind: Kind, tz: ZoneInfo) -> str:
    if isinstance(value, KpiValue):
        base = KPI_KINDS.get(kind, Kind.NUMBER)
        previous = fmt_value(value.previous, base, tz)
        return (
            f'<span title="previous period: {escape(previous)}">{escape(fmt_value(value, kind, tz))}'
            f"{_change_span(value, kind)}</span>"
        )
    if kind == Kind.URL and isinstance(value, str):
        return _link(value)
    if isinstance(value, datetime | str | int | float) or value is None:
        return escape(fmt_value(value, kind, tz))
    return escape(str(value))


def _link(url: str) -> str:
    """A link to the post on its platform; anything but http(s) is shown as text, never linked."""
    if urlsplit(url).scheme.lower() in ("http", "https"):
        return f'<a href="{escape(url)}" rel="noopener noreferrer nofollow">open</a>'
    return escape(url)


def _figure(chart: ChartSpec) -> str:
    heat = " heat" if chart.kind == "heatmap" else ""
    return (
        f'<figure class="chart{heat}"><figcaption>{escape(chart.title)}</figcaption>'
        f'<div class="scroll"><div class="chart-box"><canvas id="chart-{escape(chart.key)}" role="img" '
        f'aria-label="{escape(chart.title)}"></canvas></div></div></figure>'
    )


def _json_for_script(charts: list[ChartSpec]) -> str:
    data = [
        {
            "key": c.key,
            "title": c.title,
            "kind": c.kind.value,
            "value_kind": c.value_kind.value,
            "labels": list(c.labels),
            "colours": list(c.colours),
            "series": [{"name": s.name, "values": [_finite(v) for v in s.values]} for s in c.series],
        }
        for c in charts
    ]
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _vendored_script(entry: dict[str, str]) -> str:
    licence = asset_text(entry["license_file"]).replace("*/", "* /")
    return f"/*! {entry['npm_package']} {entry['version']}\n{licence}*/\n{asset_text(entry['file'])}"


def _csp_hash(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"
