"""Report queries, periods of e-mailed reports, which reports are asynchronous, and the e-mail's MIME."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime

import pytest

from chorus.errors import ValidationFailed
from chorus.mail import Email, mime_message, recipients_valid
from chorus.reports.render import ReportFormat
from chorus.reports.service import ReportQuery, is_async, parse_query, previous_period

NOW = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # already 11 March in Shanghai


def test_a_query_without_dates_covers_the_last_30_whole_days_in_the_workspace_zone() -> None:
    query = parse_query({}, "Asia/Shanghai", NOW)
    assert (query.start, query.end) == (date(2026, 2, 9), date(2026, 3, 10))
    assert query.fmt is ReportFormat.JSON
    assert query.timezone == "Asia/Shanghai"
    assert query.accounts == ()


def test_a_query_reads_dates_format_zone_and_accounts() -> None:
    query = parse_query(
        {"from": "2026-01-01", "to": "2026-01-31", "format": "CSV", "tz": "UTC", "accounts": "a, b,a"},
        "Asia/Shanghai",
        NOW,
    )
    assert query == ReportQuery(date(2026, 1, 1), date(2026, 1, 31), ReportFormat.CSV, "UTC", ("a", "b"))
    assert ReportQuery.from_dict(query.to_dict()) == query


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "xlsx"}, "format"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ({"tz": "Nowhere/Land"}, "tz"),
    ],
)
def test_a_bad_query_names_the_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_query(params, "UTC", NOW)
    assert caught.value.errors[0].field == field


def test_pdfs_and_ranges_over_93_days_are_built_asynchronously() -> None:
    short = ReportQuery(date(2026, 1, 1), date(2026, 4, 3), ReportFormat.HTML, "UTC")  # 93 days
    assert short.days == 93
    assert not is_async(short)
    assert is_async(ReportQuery(date(2026, 1, 1), date(2026, 4, 4), ReportFormat.HTML, "UTC"))
    assert is_async(ReportQuery(date(2026, 1, 1), date(2026, 1, 1), ReportFormat.PDF, "UTC"))


@pytest.mark.parametrize(
    ("cadence", "today", "expected"),
    [
        ("weekly", date(2026, 3, 9), (date(2026, 3, 2), date(2026, 3, 8), "2026-W10")),  # a Monday
        ("weekly", date(2026, 3, 15), (date(2026, 3, 2), date(2026, 3, 8), "2026-W10")),  # a Sunday
        ("weekly", date(2026, 1, 1), (date(2025, 12, 22), date(2025, 12, 28), "2025-W52")),
        ("monthly", date(2026, 3, 1), (date(2026, 2, 1), date(2026, 2, 28), "2026-02")),
        ("monthly", date(2026, 1, 15), (date(2025, 12, 1), date(2025, 12, 31), "2025-12")),
    ],
)
def test_an_emailed_report_covers_the_whole_week_or_month_before(
    cadence: str, today: date, expected: tuple[date, date, str]
) -> None:
    assert previous_period(cadence, today) == expected


def test_the_email_carries_text_html_and_the_report_as_an_attachment() -> None:
    message = mime_message(
        "reports@example.com",
        Email(
            recipients=("a@example.com", "b@example.com"),
            subject="Weekly report",
            text="Posts published: 2",
            html="<p>Posts published: 2</p>",
            attachment=("report.pdf", "application/pdf", b"%PDF-1.4 ..."),
        ),
    )
    parsed = email.message_from_bytes(message.as_bytes())
    assert parsed["To"] == "a@example.com, b@example.com"
    types = [p.get_content_type() for p in parsed.walk()]
    assert types == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"]
    attachment = next(p for p in parsed.walk() if p.get_filename())
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.4 ..."


def test_recipients_that_are_not_addresses_are_named() -> None:
    assert recipients_valid(["a@example.com", "nobody", "@example.com", "a b@example.com"]) == [
        "nobody",
        "@example.com",
        "a b@example.com",
    ]
