"""JSON and CSV renderers, and the ``render`` dispatcher."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pytest

from chorus.reports.model import Report
from chorus.reports.render import UnknownFormatError, render, render_csv, render_json
from chorus.reports.render.sample import (
    CHINESE_POST,
    FORMULA_POST,
    SCRIPT_POST,
    minimal_report,
    sample_report,
)


def csv_sections(body: bytes) -> dict[str, list[list[str]]]:
    """CSV text split into its blocks: {title: [header, *rows]}."""
    text = body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    blocks: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for row in rows[2:]:  # the file title and its blank line
        if not row:
            if current:
                blocks[current[0][0]] = current[1:]
            current = []
        else:
            current.append(row)
    if current:
        blocks[current[0][0]] = current[1:]
    return blocks


def as_dicts(block: list[list[str]]) -> list[dict[str, str]]:
    header, *rows = block
    return [dict(zip(header, row, strict=True)) for row in rows]


# ---------------------------------------------------------------- JSON


def test_json_is_the_report_dict_and_reads_back_to_the_same_report() -> None:
    # Given a full report
    report = sample_report()
    # When it is rendered as JSON
    body = render_json(report)
    data = json.loads(body)
    # Then it is exactly the model's dict, numbers stay numbers, and it rebuilds the report
    assert data == report.to_dict()
    assert Report.from_dict(data) == report
    assert data["overall"]["impressions"] == {
        "current": 109700,
        "previous": 107000,
        "change_pct": pytest.approx(2.5233, rel=1e-3),
    }
    assert data["inbox"]["median_first_response_seconds"]["current"] == 1260


def test_json_keeps_chinese_text_readable_in_utf8() -> None:
    body = render_json(sample_report())
    assert CHINESE_POST.encode("utf-8") in body


# ---------------------------------------------------------------- CSV


def test_csv_starts_with_a_utf8_bom_and_uses_crlf_rows() -> None:
    body = render_csv(sample_report())
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.count(b"\r\n") > 10
    assert body.count(b"\n") == body.count(b"\r\n")  # no bare LF line ends


def test_csv_has_one_titled_block_per_table() -> None:
    blocks = csv_sections(render_csv(sample_report()))
    assert list(blocks) == [
        "Period",
        "Accounts",
        "Overview",
        "Followers",
        "Followers by day",
        "By platform",
        "Top posts",
        "Bottom posts",
        "Best times to post",
        "Average engagement rate by weekday and hour (%)",
        "Inbox",
        "Sentiment",
        "Share of voice",
        "Sentiment overrides",
        "Goals",
    ]


def test_csv_overview_expands_each_figure_into_current_previous_and_change() -> None:
    overview = {row["Metric"]: row for row in as_dicts(csv_sections(render_csv(sample_report()))["Overview"])}
    assert overview["Impressions"] == {
        "Metric": "Impressions",
        "This period": "109700",
        "Previous period": "107000",
        "Change (%)": "2.52",
    }
    # rates are percentages and say so
    assert overview["Engagement rate (%)"]["This period"] == "4.12"
    assert overview["Followers"]["This period"] == str(sum(f.end for f in sample_report().followers))


def test_csv_platform_rows_carry_the_rate_basis_and_blank_undefined_changes() -> None:
    rows = {r["Platform"]: r for r in as_dicts(csv_sections(render_csv(sample_report()))["By platform"])}
    bluesky = rows["Bluesky"]
    assert bluesky["Rate basis"] == "reach"
    assert bluesky["Engagement rate (%)"] == "6.0"
    assert bluesky["Impressions"] == ""  # the platform reports none
    assert bluesky["Posts published change (%)"] == ""  # from 0: undefined
    assert rows["X"]["Engagements change (%)"] == "30.62"


def test_csv_posts_keep_chinese_and_html_as_text_and_defuse_formulas() -> None:
    blocks = csv_sections(render_csv(sample_report()))
    top = as_dicts(blocks["Top posts"])
    bottom = as_dicts(blocks["Bottom posts"])
    # Chinese and markup come back unchanged; times are in the report's zone (UTC+8)
    assert top[0]["Post"] == CHINESE_POST
    assert top[0]["Published at"] == "2026-03-04 19:30"
    assert top[1]["Post"] == SCRIPT_POST
    assert top[0]["Engagement rate (%)"] == "8.29"
    # a post that would run as a spreadsheet formula is prefixed with '
    assert bottom[0]["Post"] == "'" + FORMULA_POST


def test_csv_heatmap_is_seven_days_by_twenty_four_hours_in_percent() -> None:
    block = csv_sections(render_csv(sample_report()))["Average engagement rate by weekday and hour (%)"]
    header, *rows = block
    assert header[0] == "Day"
    assert len(header) == 25
    assert [r[0] for r in rows] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    wednesday = dict(zip(header, rows[2], strict=True))
    assert wednesday["19 (%)"] == "8.1"
    assert wednesday["03 (%)"] == ""  # no posts at 3 am


def test_csv_inbox_reports_volume_response_time_in_seconds_and_sentiment() -> None:
    blocks = csv_sections(render_csv(sample_report()))
    inbox = {r["Metric"]: r for r in as_dicts(blocks["Inbox"])}
    assert inbox["Messages received"]["This period"] == "342"
    assert inbox["Median first response (s)"]["Previous period"] == "1980"
    sentiment = {r["Sentiment"]: r for r in as_dicts(blocks["Sentiment"])}
    assert sentiment["Negative"] == {"Sentiment": "Negative", "Items": "41", "Share (%)": "11.9883"}


def test_csv_leaves_out_sections_the_report_does_not_have() -> None:
    blocks = csv_sections(render_csv(minimal_report()))
    assert list(blocks) == ["Period", "Accounts", "Overview"]


# ---------------------------------------------------------------- dispatch


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        ("json", "application/json", "json"),
        ("csv", "text/csv; charset=utf-8", "csv"),
        ("HTML", "text/html; charset=utf-8", "html"),
        ("pdf", "application/pdf", "pdf"),
    ],
)
def test_render_returns_body_content_type_and_a_dated_filename(
    fmt: str, content_type: str, extension: str
) -> None:
    body, ctype, name = render(sample_report(), fmt)
    assert ctype == content_type
    assert name == f"chorus-report_2026-03-01_2026-03-14.{extension}"
    assert len(body) > 200


def test_render_rejects_an_unknown_format_naming_the_allowed_ones() -> None:
    with pytest.raises(UnknownFormatError, match="json, csv, html, pdf"):
        render(sample_report(), "xlsx")


def test_json_turns_non_finite_numbers_into_null() -> None:
    report = sample_report()
    report = replace(report, goals=(replace(report.goals[0], actual=float("nan")),))
    data = json.loads(render_json(report))
    assert data["goals"][0]["actual"] is None
