"""The benchmark report (``GET /reports/benchmark``): the workspace's own accounts beside its competitors
on the measures of :mod:`chorus.competitors.measures`, plus the share of voice listening computes.

Own accounts are read from the metrics rollups (:class:`~chorus.metrics.store.MetricsStore`: the
period's posts with their lifetime engagements, the daily follower readings), competitors from what
the competitor collector stored. Like the analytics report, the period is whole local days in the
workspace's time zone; posts are placed by their exact time in it, follower readings by UTC day.
Own posts carry no content type in the rollups: their mix shows as "unknown".

Rendered by the same renderers as the analytics report (:func:`chorus.reports.render.render_document`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from chorus.competitors import store
from chorus.competitors.measures import MIX_KEYS, Measures, PostFact, measure
from chorus.competitors.model import FollowerPoint
from chorus.reports.model import WEEKDAYS
from chorus.reports.render import (
    ChartKind,
    ChartSpec,
    Column,
    Document,
    Kind,
    Section,
    Series,
    Table,
    platform_label,
    render_document,
)


@dataclass(frozen=True)
class VoiceRow:
    name: str
    role: str
    mentions: int
    share: float


@dataclass(frozen=True)
class Benchmark:
    workspace_name: str
    start: date
    end: date
    timezone: str
    generated_at: datetime
    accounts: tuple[Measures, ...]  # own accounts first, then competitors
    share_of_voice: tuple[VoiceRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "benchmark",
            "workspace_name": self.workspace_name,
            "period": {"from": self.start.isoformat(), "to": self.end.isoformat(), "timezone": self.timezone},
            "generated_at": self.generated_at.isoformat(),
            "accounts": [m.to_dict() for m in self.accounts],
            "share_of_voice": [
                {"name": v.name, "role": v.role, "mentions": v.mentions, "share": v.share}
                for v in self.share_of_voice
            ],
        }


class OwnSource(Protocol):
    def own(
        self, workspace_id: str, start: date, end: date, timezone: str, accounts: Sequence[str] = ()
    ) -> list[Measures]:
        """The measures of the workspace's accounts (``accounts``: only those; empty: all)."""
        ...


class StoredOwn:
    """The workspace's connected accounts, from the metrics rollups."""

    def own(
        self, workspace_id: str, start: date, end: date, timezone: str, accounts: Sequence[str] = ()
    ) -> list[Measures]:
        from chorus.accounts.service import list_accounts
        from chorus.errors import ValidationFailed
        from chorus.metrics.store import MetricsStore

        connected = list_accounts(workspace_id)
        unknown = sorted(set(accounts) - {a.id for a in connected})
        if unknown:
            raise ValidationFailed.on(
                "accounts", f"not accounts of this workspace: {', '.join(unknown)}", "unknown"
            )
        metrics = MetricsStore()
        lo, hi = _bounds(start, end, timezone)
        out = []
        for account in (a for a in connected if not accounts or a.id in accounts):
            got = metrics.read_account_range(workspace_id, account.id, start, end, tz=timezone)
            posts = [
                PostFact(datetime.fromtimestamp(p.published_ts, UTC), p.engagements, text=p.platform_post_id)
                for p in got.posts
                if lo <= datetime.fromtimestamp(p.published_ts, UTC) < hi
            ]
            followers = [FollowerPoint(d, v) for d, v in sorted(got.latest.get("followers", {}).items())]
            name = account.display_name or account.handle or account.platform_account_id
            out.append(measure(name, "own", account.platform, posts, followers, start, end, timezone))
        return out


def _bounds(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(timezone)
    return datetime.combine(start, time(), tz), datetime.combine(end + timedelta(days=1), time(), tz)


def competitor_measures(workspace_id: str, start: date, end: date, timezone: str) -> list[Measures]:
    lo, hi = _bounds(start, end, timezone)
    out = []
    for competitor in store.list_competitors(workspace_id):
        posts = [
            PostFact(p.created_at, p.engagements, p.content_type, p.url, p.text)
            for p in store.posts_between(workspace_id, competitor.id, lo, hi)
        ]
        followers = store.follower_points(workspace_id, competitor.id, start, end)
        name = competitor.display_name or competitor.handle
        out.append(measure(name, "competitor", competitor.platform, posts, followers, start, end, timezone))
    return out


def stored_voice(workspace_id: str, start: date, end: date) -> list[VoiceRow]:
    from chorus.listening.service import share_of_voice

    return [VoiceRow(v.name, v.role, v.mentions, v.share) for v in share_of_voice(workspace_id, start, end)]


def build_benchmark(
    workspace_id: str,
    workspace_name: str,
    start: date,
    end: date,
    timezone: str,
    *,
    accounts: Sequence[str] = (),
    own: OwnSource | None = None,
    voice: Callable[[str, date, date], Sequence[VoiceRow]] = stored_voice,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Benchmark:
    mine = (own or StoredOwn()).own(workspace_id, start, end, timezone, accounts)
    theirs = competitor_measures(workspace_id, start, end, timezone)
    return Benchmark(
        workspace_name=workspace_name,
        start=start,
        end=end,
        timezone=timezone,
        generated_at=clock(),
        accounts=tuple(mine + theirs),
        share_of_voice=tuple(voice(workspace_id, start, end)),
    )


# ------------------------------------------------------------------------------------------ documents


def _label(m: Measures) -> str:
    return f"{m.name} ({platform_label(m.platform)})"


def document(bench: Benchmark) -> Document:
    span = f"{bench.start.isoformat()} to {bench.end.isoformat()}"
    accounts = bench.accounts
    labels = tuple(_label(m) for m in accounts)
    overview = Table(
        "Benchmark",
        (
            Column("Account", Kind.USER_TEXT),
            Column("Role"),
            Column("Posts", Kind.INT),
            Column("Posts per week", Kind.NUMBER),
            Column("Median engagement per post", Kind.NUMBER),
            Column("Engagement rate (of followers)", Kind.RATIO),
            Column("Followers", Kind.INT),
            Column("Follower growth", Kind.INT),
            Column("Follower growth (%)", Kind.PCT),
        ),
        tuple(
            (
                _label(m),
                m.role,
                m.posts,
                round(m.posts_per_week, 2),
                m.median_engagement,
                m.engagement_rate,
                m.followers_end,
                m.follower_growth,
                m.follower_growth_pct,
            )
            for m in accounts
        ),
        key="benchmark",
    )
    weekday = Table(
        "Posts by weekday",
        (Column("Account", Kind.USER_TEXT), *(Column(d, Kind.INT) for d in WEEKDAYS)),
        tuple((_label(m), *m.by_weekday) for m in accounts),
        key="weekday",
    )
    hours = Table(
        "Posts by hour",
        (Column("Account", Kind.USER_TEXT), *(Column(f"{h:02d}", Kind.INT) for h in range(24))),
        tuple((_label(m), *m.by_hour) for m in accounts),
        key="hour",
    )
    mix = Table(
        "Content mix (posts)",
        (Column("Account", Kind.USER_TEXT), *(Column(k.capitalize(), Kind.INT) for k in MIX_KEYS)),
        tuple((_label(m), *(m.content_mix[k] for k in MIX_KEYS)) for m in accounts),
        key="mix",
    )
    top = Table(
        "Top posts",
        (
            Column("Account", Kind.USER_TEXT),
            Column("Posted", Kind.DATETIME),
            Column("Engagements", Kind.INT),
            Column("Type"),
            Column("Text", Kind.USER_TEXT),
            Column("Link", Kind.URL),
        ),
        tuple(
            (
                _label(m),
                p.created_at,
                p.engagements,
                p.content_type.value if p.content_type else "unknown",
                p.text,
                p.url,
            )
            for m in accounts
            for p in m.top_posts
        ),
        key="top",
    )
    sections = [
        Section(
            "benchmark",
            "Accounts compared",
            (overview,),
            (
                ChartSpec(
                    "median-engagement",
                    "Median engagement per post",
                    ChartKind.HBAR,
                    labels,
                    (Series("Median engagement", tuple(m.median_engagement for m in accounts)),),
                ),
            ),
            ("Engagement rate = mean engagements per post / followers at the end of the period.",),
        ),
        Section("frequency", "Posting frequency", (weekday, hours), notes=(f"Times in {bench.timezone}.",)),
        Section("content", "Content types", (mix,)),
        Section("top", "Top posts", (top,)),
    ]
    if bench.share_of_voice:
        voice = Table(
            "Share of voice",
            (
                Column("Name", Kind.USER_TEXT),
                Column("Role"),
                Column("Mentions", Kind.INT),
                Column("Share", Kind.RATIO),
            ),
            tuple((v.name, v.role, v.mentions, v.share) for v in bench.share_of_voice),
            key="voice",
        )
        sections.append(Section("voice", "Share of voice", (voice,)))
    return Document(
        heading="Competitor benchmark",
        title=f"{bench.workspace_name} - competitor benchmark {span}",
        workspace_name=bench.workspace_name,
        subject=span,
        subtitle=f"{bench.workspace_name} \u00b7 {span} ({bench.timezone})",
        footer=f"Chorus \u00b7 {bench.workspace_name} \u00b7 benchmark {span}",
        csv_title="Chorus competitor benchmark",
        timezone=bench.timezone,
        generated_at=bench.generated_at,
        sections=tuple(sections),
    )


def render_benchmark(bench: Benchmark, fmt: str) -> tuple[bytes, str, str]:
    stem = f"chorus-benchmark_{bench.start.isoformat()}_{bench.end.isoformat()}"
    return render_document(document(bench), bench.to_dict(), fmt, stem)
