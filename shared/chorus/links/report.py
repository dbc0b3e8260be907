"""The clicks report (``GET /links/report``): the short links' counted clicks per post, account,
platform and campaign over a period, beside the platforms' own numbers (their lifetime ``clicks`` and
impressions of the same posts), in JSON, CSV, HTML or PDF.

Posts are those scheduled in the period (UTC days ``start``..``end``); a link's clicks are those of the
period's UTC days. CTR = counted clicks / impressions (None without impressions)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chorus.links import store
from chorus.posts.model import Post
from chorus.reports.render import Column, Document, Kind, Section, Table, platform_label, render_document

MAX_DAYS = 366
MetricsReader = Callable[[str, list[tuple[str, str]]], dict[tuple[str, str], Mapping[str, int]]]


@dataclass
class Row:
    link_clicks: int = 0
    platform_clicks: int = 0
    impressions: int = 0

    def add(self, other: Row) -> None:
        self.link_clicks += other.link_clicks
        self.platform_clicks += other.platform_clicks
        self.impressions += other.impressions

    def to_dict(self) -> dict[str, Any]:
        ctr = self.link_clicks / self.impressions if self.impressions else None
        return {"link_clicks": self.link_clicks, "platform_clicks": self.platform_clicks,
                "impressions": self.impressions, "ctr": ctr}  # fmt: skip


def clicks(
    workspace_id: str,
    posts: Iterable[Post],
    start: date,
    end: date,
    metrics: MetricsReader,
    sees: Callable[[str], bool] = lambda _: True,
) -> dict[str, Any]:
    """The report's data: totals and the rows by post, account, platform and campaign."""
    groups: dict[str, dict[str, Row]] = {"post": {}, "account": {}, "platform": {}, "campaign": {}}
    total = Row()
    posts = list(posts)
    targets = [(p, t) for p in posts for t in p.targets if sees(t.account_id)]
    latest = metrics(
        workspace_id, [(t.account_id, t.platform_post_id) for _, t in targets if t.platform_post_id]
    )
    counted: dict[tuple[str, str], int] = {}
    for post in posts:
        for link in store.short_links_of(workspace_id, post.id):
            pair = (post.id, link.account_id)
            counted[pair] = counted.get(pair, 0) + store.clicks_of(link.code, start, end).clicks
    for post, target in targets:
        values = latest.get((target.account_id, target.platform_post_id or ""), {})
        row = Row(counted.get((post.id, target.account_id), 0), int(values.get("clicks", 0)),
                  int(values.get("impressions", 0)))  # fmt: skip
        total.add(row)
        for group, name in (("post", post.id), ("account", target.account_id), ("platform", target.platform),
                            ("campaign", post.campaign_id or "none")):  # fmt: skip
            groups[group].setdefault(name, Row()).add(row)
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "totals": total.to_dict(),
        **{f"by_{g}": {k: r.to_dict() for k, r in sorted(rows.items())} for g, rows in groups.items()},
    }


def posts_in(workspace_id: str, start: date, end: date) -> list[Post]:
    from chorus.store import posts as repo

    first = datetime.combine(start, time(), UTC)
    return repo.calendar(workspace_id, first, datetime.combine(end, time(), UTC) + timedelta(days=1))


COLUMNS = (
    ("link_clicks", "Short link clicks", Kind.INT),
    ("platform_clicks", "Platform clicks", Kind.INT),
    ("impressions", "Impressions", Kind.INT),
    ("ctr", "CTR", Kind.RATIO),
)
GROUPS = (("post", "Post"), ("account", "Account"), ("platform", "Platform"), ("campaign", "Campaign"))


def document(data: Mapping[str, Any], title: str, generated_at: datetime, timezone: str) -> Document:
    period = f"{data['period']['from']} to {data['period']['to']}"
    columns = tuple(Column(label, kind) for _, label, kind in COLUMNS)
    sections = [Section("totals", "Totals", (Table("Totals", (Column("Figure"), Column("Value", Kind.NUMBER)),
        tuple((label, data["totals"][key]) for key, label, _ in COLUMNS), key="totals",
        row_kinds=tuple(kind for _, _, kind in COLUMNS)),))]  # fmt: skip
    for group, label in GROUPS:
        rows = tuple(
            (platform_label(k) if group == "platform" else k, *(r[key] for key, _, _ in COLUMNS))
            for k, r in data[f"by_{group}"].items()
        )
        sections.append(Section(group, f"By {label.lower()}", (Table(f"By {label.lower()}", (Column(label), *columns),
                                                                      rows, key=f"by_{group}"),)))  # fmt: skip
    return Document(
        heading="Clicks report", title=f"Clicks report - {title}", workspace_name=title, subject=period,
        subtitle=f"{title} · {period} · {timezone}", footer=f"Chorus clicks report · {title}",
        csv_title=f"Clicks report: {title} ({period})", timezone=timezone, generated_at=generated_at,
        sections=tuple(sections),
    )  # fmt: skip


def render(
    workspace_id: str, title: str, timezone: str, start: date, end: date, fmt: str,
    sees: Callable[[str], bool] = lambda _: True,
) -> tuple[bytes, str, str]:  # fmt: skip
    """The clicks report in ``fmt``: (body, content type, file name)."""
    from chorus.campaigns.report import stored_metrics
    from chorus.errors import ValidationFailed

    if end < start:
        raise ValidationFailed.on("to", "must not be before from", "range")
    if (end - start).days >= MAX_DAYS:
        raise ValidationFailed.on("to", f"a clicks report covers at most {MAX_DAYS} days", "range")
    data = clicks(workspace_id, posts_in(workspace_id, start, end), start, end, stored_metrics, sees)
    doc = document(data, title, datetime.now(UTC), timezone)
    return render_document(doc, data, fmt, f"clicks-{start}-{end}")
