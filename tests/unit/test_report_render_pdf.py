"""PDF renderer: same sections and figures as the other formats, readable Chinese, no browser."""

from __future__ import annotations

import io
from dataclasses import replace

import pypdf
import pytest

from chorus.reports.render import render_pdf
from chorus.reports.render.as_pdf import CHINESE, KOREAN, LATIN, label_font, markup, plain
from chorus.reports.render.sample import minimal_report, sample_report


@pytest.fixture(scope="module")
def full_pdf() -> bytes:
    return render_pdf(sample_report())


def text_of(body: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(body))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def fonts_of(body: bytes) -> set[str]:
    reader = pypdf.PdfReader(io.BytesIO(body))
    names: set[str] = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources else None
        for ref in (fonts.get_object() if fonts else {}).values():
            names.add(str(ref.get_object()["/BaseFont"]).lstrip("/"))
    return names


def test_pdf_is_a_multi_page_document_with_metadata(full_pdf: bytes) -> None:
    # Given the full sample report
    # When it is rendered to PDF
    pages, _ = text_of(full_pdf)
    reader = pypdf.PdfReader(io.BytesIO(full_pdf))
    # Then it is a PDF of several pages, titled, page-numbered
    assert full_pdf.startswith(b"%PDF-")
    assert full_pdf.rstrip().endswith(b"%%EOF")
    assert pages >= 4
    assert reader.metadata is not None
    assert reader.metadata.title == "Analytics report - Acme 咖啡"
    assert f"Page {pages}" in reader.pages[-1].extract_text()


def test_pdf_carries_every_section_and_its_figures(full_pdf: bytes) -> None:
    _, text = text_of(full_pdf)
    for heading in (
        "Overview",
        "Followers and growth",
        "Performance by platform",
        "Top and bottom posts",
        "Best days and hours to post",
        "Inbox",
        "Share of voice",
        "Goals vs actuals",
    ):
        assert heading in text, heading
    for figure in (
        "109,700",
        "107,000",
        "+2.5%",
        "4.12%",
        "22,276",
        "48,200",
        "8.29%",
        "21m 00s",
        "52.63%",
        "101.2%",
    ):
        assert figure in text, figure


def test_pdf_shows_chinese_and_korean_text_in_cid_fonts(full_pdf: bytes) -> None:
    # Given posts in Chinese and Korean
    _, text = text_of(full_pdf)
    # Then their text is in the PDF (extractable, so real glyphs, not boxes) and set in the CJK fonts
    compact = text.replace("\n", "")
    assert "春季限定樱花拿铁" in compact
    assert "안녕하세요" in text
    assert {"STSong-Light", "HYSMyeongJo-Medium"} <= fonts_of(full_pdf)


def test_pdf_prints_markup_in_posts_as_text(full_pdf: bytes) -> None:
    _, text = text_of(full_pdf)
    assert "<script>alert('pwned')</script> &" in text.replace("\n", " ")


def test_text_runs_switch_font_only_where_cjk_appears() -> None:
    # Given mixed text with an emoji no font here can draw
    result = markup("Hi 新品 <b>& 안녕 \u2615")
    # Then Latin stays in the base font, CJK and Hangul runs get their fonts, markup is escaped,
    # and the emoji is dropped instead of printing a black box
    assert result == (
        f'Hi <font name="{CHINESE}">新品</font> &lt;b&gt;&amp; <font name="{KOREAN}">안녕</font> '
    )
    assert plain("Café \u2615 咖啡 \u2212 5") == "Café  咖啡 \u2212 5"
    assert label_font(["X", "Instagram"]) == LATIN
    assert label_font(["X", "咖啡"]) == CHINESE


def test_pdf_without_optional_sections_is_short_and_omits_them() -> None:
    body = render_pdf(minimal_report())
    pages, text = text_of(body)
    assert pages == 1
    assert "Overview" in text
    assert "109,700" in text
    for heading in ("Inbox", "Share of voice", "Goals vs actuals", "Best days and hours to post"):
        assert heading not in text


def test_pdf_renders_a_platform_without_any_previous_values() -> None:
    # Given a report whose previous period had nothing at all (a new workspace)
    report = sample_report()
    report = replace(
        report,
        platforms=tuple(
            replace(p, posts_published=replace(p.posts_published, previous=None, change_pct=None))
            for p in report.platforms
        ),
    )
    # When rendered
    _, text = text_of(render_pdf(report))
    # Then it still renders with the current figures
    assert "Posts published per platform" in text
    assert "Engagement rate per platform" in text
