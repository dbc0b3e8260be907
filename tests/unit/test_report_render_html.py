"""HTML renderer: one self-contained, escaped, responsive page with Chart.js charts."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from html.parser import HTMLParser

from chorus.reports.assets import asset_text, manifest, verify
from chorus.reports.render import render_html
from chorus.reports.render._layout import sections
from chorus.reports.render.sample import CHINESE_POST, SCRIPT_POST, minimal_report, sample_report


class Page(HTMLParser):
    """The parts of a page the tests look at: tags with attributes, script bodies, visible text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in: tuple[str, dict[str, str | None]] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = (tag, dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is None:
            self.text.append(data)
        elif self._in[0] == "script":
            self.scripts.append((self._in[1], data))
        else:
            self.styles.append(data)

    def attrs(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]

    def meta(self, **match: str) -> dict[str, str | None]:
        for attrs in self.attrs("meta"):
            if all(attrs.get(k) == v for k, v in match.items()):
                return attrs
        raise AssertionError(f"no meta {match}")


def page_of(report=None) -> tuple[str, Page]:  # type: ignore[no-untyped-def]
    html = render_html(report or sample_report()).decode("utf-8")
    return html, Page(html)


def test_page_inlines_the_vendored_chart_library_and_its_licence() -> None:
    # Given the vendored Chart.js and matrix plugin
    # When a report page is rendered
    _, page = page_of()
    bodies = [body for attrs, body in page.scripts if "type" not in attrs]
    # Then each vendored file is inlined whole, under its licence text
    for entry in manifest()["files"]:
        assert any(asset_text(entry["file"]) in body for body in bodies), entry["file"]
        assert any("Permission is hereby granted" in body and entry["version"] in body for body in bodies)
    assert "Chart.js v4" in bodies[0]


def test_vendored_assets_match_their_recorded_hashes() -> None:
    assert verify() == []


def test_every_chart_has_a_canvas_and_its_data() -> None:
    # Given the sample's charts
    expected = [c.key for s in sections(sample_report()) for c in s.charts]
    # When rendered
    _, page = page_of()
    canvases = [a["id"] for a in page.attrs("canvas")]
    data = json.loads(next(body for attrs, body in page.scripts if attrs.get("id") == "chorus-chart-data"))
    # Then one canvas per chart, and the chart data names each with its labels and series
    assert canvases == [f"chart-{key}" for key in expected]
    assert set(expected) >= {"followers_daily", "posts_per_platform", "heatmap", "sentiment", "goals"}
    heat = next(c for c in data if c["key"] == "heatmap")
    assert len(heat["series"]) == 7
    assert len(heat["labels"]) == 24
    assert heat["series"][2]["values"][19] == 0.081
    posts = next(c for c in data if c["key"] == "posts_per_platform")
    assert posts["labels"] == ["X", "Instagram", "Bluesky"]
    assert posts["series"][0] == {"name": "This period", "values": [12.0, 9.0, 7.0]}


def test_user_text_is_escaped_everywhere() -> None:
    # Given a post whose text is a script tag, also used as an account and a monitor name
    hostile = SCRIPT_POST
    report = sample_report()
    report = replace(
        report,
        workspace_name=hostile,
        share_of_voice=(replace(report.share_of_voice[0], monitor=hostile), *report.share_of_voice[1:]),
    )
    # When rendered
    html, page = page_of(report)
    # Then the text reads as written, but no script or attribute comes from it
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot; matter" in html
    assert hostile in "".join(page.text)
    chart_json = next(body for attrs, body in page.scripts if attrs.get("id") == "chorus-chart-data")
    assert "</script" not in chart_json
    assert "\\u003cscript\\u003e" in chart_json
    executable = [body for attrs, body in page.scripts if "type" not in attrs]
    assert executable
    assert all("pwned" not in body for body in executable)


def test_page_loads_nothing_from_the_network() -> None:
    # Given the rendered page
    _, page = page_of()
    # Then no element has a src, there are no <link>/<iframe>/<img> tags,
    # and the only hrefs are the posts' own http(s) URLs
    assert not any("src" in attrs for _, attrs in page.tags)
    assert not page.attrs("link")
    assert not page.attrs("iframe")
    assert not page.attrs("img")
    post_urls = {p.url for p in (*sample_report().top_posts, *sample_report().bottom_posts)}
    hrefs = [a["href"] for a in page.attrs("a")]
    assert hrefs
    assert all(h in post_urls and h.startswith("https://") for h in hrefs)
    assert "javascript:alert(1)" not in hrefs  # an unsafe post URL is shown as text, never linked


def test_content_security_policy_allows_only_the_inlined_scripts_and_style() -> None:
    # Given the page's CSP
    _, page = page_of()
    csp = page.meta(**{"http-equiv": "Content-Security-Policy"})["content"] or ""
    # Then it forbids everything by default and lists a hash for each executable inline script
    assert "default-src 'none'" in csp
    allowed = set(re.findall(r"'sha256-([A-Za-z0-9+/=]+)'", csp))
    for attrs, body in page.scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert (digest in allowed) == ("type" not in attrs)
    style_digest = base64.b64encode(hashlib.sha256(page.styles[0].encode()).digest()).decode()
    assert style_digest in allowed


def test_page_is_responsive_and_printable() -> None:
    html, page = page_of()
    assert page.meta(name="viewport")["content"] == "width=device-width, initial-scale=1"
    assert "@media (max-width:700px)" in page.styles[0]
    assert "@media print" in page.styles[0]
    assert 'class="stack"' in html  # wide tables become cards on phones
    assert page.attrs("html")[0]["lang"] == "en"
    assert page.meta(charset="utf-8")


def test_figures_and_chinese_text_appear_formatted() -> None:
    _, page = page_of()
    text = " ".join(page.text)
    for figure in ("109,700", "4.12%", "+47.4%", "21m 00s", "Acme 咖啡", CHINESE_POST, "6.00%"):
        assert figure in text, figure
    assert "\u221236.4%" in text  # response time change, with a real minus sign


def test_shorter_response_time_is_shown_as_an_improvement() -> None:
    html, _ = page_of()
    card = re.search(r"Median first response</div>.*?<span class=\"chg (\w*)\">", html)
    assert card is not None
    assert card.group(1) == "up"


def test_rates_not_per_impression_are_labelled_with_their_basis() -> None:
    _, page = page_of()
    data = json.loads(next(body for attrs, body in page.scripts if attrs.get("id") == "chorus-chart-data"))
    rates = next(c for c in data if c["key"] == "engagement_rate_per_platform")
    assert rates["labels"] == ["X", "Instagram", "Bluesky (of reach)"]


def test_absent_sections_are_left_out_of_the_page() -> None:
    _, page = page_of(minimal_report())
    ids = [a["id"] for a in page.attrs("section")]
    assert ids == ["summary", "overview"]
    assert page.attrs("canvas") == []
