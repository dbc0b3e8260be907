"""The campaign report: exposure, engagement, clicks, conversions and return, per platform and per post,
against the campaign's goal and beside the previous campaign; JSON, CSV, HTML or PDF through the report
renderers (``chorus.reports.render.render_document``).

Figures (each ratio is None when its denominator is 0):

* reach, impressions, engagements, platform clicks: the platforms' own latest lifetime numbers of each
  published target (reach is summed over posts: people reached by two posts count twice);
* clicks: the short links' counted clicks (bots and link-preview fetchers never counted);
* engagement rate = engagements / impressions; CTR = clicks / impressions;
* conversions and value: the campaign's conversions (each order/event id once), by the post and
  platform their click or UTM values name; conversion rate = conversions / clicks;
* cost: a platform's spend is ``costs[platform]`` when the campaign names it; what is left of the budget
  (budget minus the named spends, never below 0) is shared equally by the targets (post x account) of
  the platforms without a named spend. A post's cost is the sum of its targets' shares; the campaign's
  is max(budget, sum of named spends). Cost per click = cost / clicks, per conversion = cost /
  conversions; ROI = (value - cost) / cost.

Posts are found on the calendar from a year before the campaign starts to a year after it ends."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from chorus.campaigns import service
from chorus.campaigns.model import Campaign, Conversion
from chorus.links import store as links
from chorus.posts.model import Post, TargetState
from chorus.reports.model import KpiValue
from chorus.reports.render import Column, Document, Kind, Section, Table, platform_label, render_document
from chorus.store.keys import iso

SEARCH_DAYS = 365
PUBLISHED = {TargetState.PUBLISHED, TargetState.PARTIALLY_PUBLISHED}

# (account_id, platform_post_id) pairs -> their latest lifetime values
MetricsReader = Callable[[str, list[tuple[str, str]]], dict[tuple[str, str], Mapping[str, int]]]


def _ratio(top: float, bottom: float) -> float | None:
    return top / bottom if bottom else None


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass
class Figures:
    posts: int = 0
    reach: int = 0
    impressions: int = 0
    engagements: int = 0
    platform_clicks: int = 0
    clicks: int = 0
    conversions: int = 0
    value: float = 0.0
    cost: float = 0.0
    post_ids: set[str] = field(default_factory=set)

    def add(self, other: Figures) -> None:
        for name in ("reach", "impressions", "engagements", "platform_clicks", "clicks", "conversions",
                     "value", "cost"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.post_ids |= other.post_ids
        self.posts = len(self.post_ids)

    @property
    def engagement_rate(self) -> float | None:
        return _ratio(self.engagements, self.impressions)

    @property
    def ctr(self) -> float | None:
        return _ratio(self.clicks, self.impressions)

    @property
    def conversion_rate(self) -> float | None:
        return _ratio(self.conversions, self.clicks)

    @property
    def cost_per_click(self) -> float | None:
        return _ratio(self.cost, self.clicks)

    @property
    def cost_per_conversion(self) -> float | None:
        return _ratio(self.cost, self.conversions)

    @property
    def roi(self) -> float | None:
        return _ratio(self.value - self.cost, self.cost)

    def metric(self, name: str) -> float | None:
        return {"revenue": self.value, "roi": self.roi}.get(name, getattr(self, name, None))

    def to_dict(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            "reach": self.reach,
            "impressions": self.impressions,
            "engagements": self.engagements,
            "engagement_rate": self.engagement_rate,
            "platform_clicks": self.platform_clicks,
            "clicks": self.clicks,
            "ctr": self.ctr,
            "conversions": self.conversions,
            "conversion_rate": self.conversion_rate,
            "value": round(self.value, 2),
            "cost": round(self.cost, 2),
            "cost_per_click": _money(self.cost_per_click),
            "cost_per_conversion": _money(self.cost_per_conversion),
            "roi": self.roi,
        }


@dataclass
class Numbers:
    campaign: Campaign
    total: Figures
    by_platform: dict[str, Figures]
    by_account: dict[str, Figures]
    by_post: dict[str, Figures]
    post_text: dict[str, str]


def campaign_posts(campaign: Campaign, today: datetime) -> list[Post]:
    from chorus.store import posts as repo

    start = datetime.combine(campaign.starts_on, time(), UTC) - timedelta(days=SEARCH_DAYS)
    last = max(campaign.ends_on or today.date(), today.date())
    end = datetime.combine(last, time(), UTC) + timedelta(days=SEARCH_DAYS)
    return [p for p in repo.calendar(campaign.workspace_id, start, end) if p.campaign_id == campaign.id]


def stored_metrics(
    workspace_id: str, refs: list[tuple[str, str]]
) -> dict[tuple[str, str], Mapping[str, int]]:
    from chorus.metrics.store import MetricsStore

    if not refs:
        return {}
    return {
        (r.account_id, r.info.platform_post_id): r.latest
        for r in MetricsStore().get_posts(workspace_id, refs)
    }


def numbers(
    campaign: Campaign,
    posts: Iterable[Post],
    conversions: Iterable[Conversion],
    metrics: MetricsReader = stored_metrics,
    sees: Callable[[str], bool] = lambda _: True,
) -> Numbers:
    """The campaign's figures (``sees``: the accounts the reader may see; the others are left out)."""
    from chorus.metrics.store import post_engagements

    posts = list(posts)
    targets = [(p, t) for p in posts for t in p.targets
               if (t.state in PUBLISHED or t.platform_post_id) and sees(t.account_id)]  # fmt: skip
    conversions = [c for c in conversions if c.account_id is None or sees(c.account_id)]
    refs = [(t.account_id, t.platform_post_id) for _, t in targets if t.platform_post_id]
    latest = metrics(campaign.workspace_id, refs)
    clicks = {link.code: link for p in posts for link in links.short_links_of(campaign.workspace_id, p.id)}
    clicks_by_target: dict[tuple[str, str], int] = {}
    for code, link in clicks.items():
        key = (link.post_id, link.account_id)
        clicks_by_target[key] = clicks_by_target.get(key, 0) + links.clicks_of(code).clicks
    shares = costs_by_platform(campaign, [t.platform for _, t in targets])
    by_target: dict[tuple[str, str], Figures] = {}
    platform_of: dict[tuple[str, str], str] = {}
    for post, target in targets:
        values = latest.get((target.account_id, target.platform_post_id or ""), {})
        key = (post.id, target.account_id)
        by_target[key] = Figures(
            posts=1, reach=int(values.get("reach", 0)), impressions=int(values.get("impressions", 0)),
            engagements=post_engagements(values), platform_clicks=int(values.get("clicks", 0)),
            clicks=clicks_by_target.get(key, 0), cost=shares[target.platform], post_ids={post.id},
        )  # fmt: skip
        platform_of[key] = target.platform
    for conversion in conversions:
        key = (conversion.post_id or "", conversion.account_id or "")
        figures = by_target.get(key)
        if figures is None:  # a post not published (yet), or one no longer in the campaign
            figures = by_target[key] = Figures(post_ids={key[0]} if key[0] else set())
            platform_of[key] = conversion.platform or "unattributed"
        figures.conversions += 1
        figures.value += conversion.value
    total = Figures()
    by_platform: dict[str, Figures] = {}
    by_account: dict[str, Figures] = {}
    by_post: dict[str, Figures] = {}
    for key, figures in by_target.items():
        total.add(figures)
        by_platform.setdefault(platform_of[key], Figures()).add(figures)
        by_account.setdefault(key[1] or "unattributed", Figures()).add(figures)
        if key[0]:
            by_post.setdefault(key[0], Figures()).add(figures)
    total.cost = max(campaign.budget, sum(campaign.costs.values()))
    texts = {p.id: p.content.text[:120] for p in posts}
    return Numbers(campaign, total, by_platform, by_account, by_post, texts)


def costs_by_platform(campaign: Campaign, platforms: list[str]) -> dict[str, float]:
    """Each target's cost by its platform (see the module docstring)."""
    named = {p: c for p, c in campaign.costs.items() if p in platforms}
    unnamed = [p for p in platforms if p not in campaign.costs]
    left = max(0.0, campaign.budget - sum(campaign.costs.values()))
    share = left / len(unnamed) if unnamed else 0.0
    found: dict[str, float] = dict.fromkeys(unnamed, share)
    for platform, cost in named.items():
        found[platform] = cost / platforms.count(platform)
    return found


def report_data(current: Numbers, previous: Numbers | None) -> dict[str, Any]:
    campaign = current.campaign
    goal = None
    if campaign.goal:
        actual = current.total.metric(campaign.goal.metric)
        goal = {
            **campaign.goal.to_dict(),
            "actual": actual,
            "progress": (actual or 0) / campaign.goal.target,
            "met": actual is not None and actual >= campaign.goal.target,
        }
    compared = None
    if previous is not None:
        mine, theirs = current.total.to_dict(), previous.total.to_dict()
        compared = {
            "campaign_id": previous.campaign.id,
            "name": previous.campaign.name,
            "figures": {k: KpiValue.of(mine[k], theirs[k]).to_dict() for k in mine},
        }
    return {
        "campaign": {k: iso(v) if isinstance(v, datetime) else v for k, v in campaign.public().items()},
        "currency": campaign.currency,
        "totals": current.total.to_dict(),
        "goal": goal,
        "by_platform": {p: f.to_dict() for p, f in sorted(current.by_platform.items())},
        "by_account": {a: f.to_dict() for a, f in sorted(current.by_account.items())},
        "by_post": {
            p: {"text": current.post_text.get(p, ""), **f.to_dict()}
            for p, f in sorted(current.by_post.items())
        },
        "previous": compared,
    }


FIGURES = (
    ("posts", "Posts", Kind.INT),
    ("reach", "Reach", Kind.INT),
    ("impressions", "Impressions", Kind.INT),
    ("engagements", "Engagements", Kind.INT),
    ("engagement_rate", "Engagement rate", Kind.RATIO),
    ("platform_clicks", "Platform clicks", Kind.INT),
    ("clicks", "Short link clicks", Kind.INT),
    ("ctr", "CTR", Kind.RATIO),
    ("conversions", "Conversions", Kind.INT),
    ("conversion_rate", "Conversion rate", Kind.RATIO),
    ("value", "Value", Kind.NUMBER),
    ("cost", "Cost", Kind.NUMBER),
    ("cost_per_click", "Cost per click", Kind.NUMBER),
    ("cost_per_conversion", "Cost per conversion", Kind.NUMBER),
    ("roi", "ROI", Kind.RATIO),
)


def document(data: Mapping[str, Any], generated_at: datetime, timezone: str) -> Document:
    campaign = data["campaign"]
    period = f"{campaign['starts_on']} to {campaign['ends_on'] or 'open'}"
    totals = data["totals"]
    previous = data["previous"]
    kinds = tuple(kind for _, _, kind in FIGURES)
    summary = Table(
        "Campaign totals",
        (Column("Figure"), Column("This campaign", Kind.NUMBER), Column("Previous campaign", Kind.NUMBER)),
        tuple((label, totals[key], previous["figures"][key]["previous"] if previous else None)
              for key, label, _ in FIGURES),
        key="totals",
        row_kinds=kinds,
    )  # fmt: skip
    tables = [summary]
    if previous:
        tables.append(Table(
            "Change from the previous campaign", (Column("Figure"), Column("Change", Kind.CHANGE)),
            tuple((label, previous["figures"][key]["change_pct"]) for key, label, _ in FIGURES), key="change",
        ))  # fmt: skip
    notes: tuple[str, ...] = (f"Figures in {data['currency']}.",)
    if previous:
        notes += (f"Compared with the previous campaign: {previous['name']}.",)
    sections = [Section("totals", "Totals", tuple(tables), notes=notes)]
    goal = data["goal"]
    if goal:
        kind = Kind.RATIO if goal["metric"] == "roi" else Kind.NUMBER
        sections.append(Section("goal", "Goal", (Table(
            "Against the goal", (Column("Metric"), Column("Target", kind), Column("Actual", kind),
                                 Column("Progress", Kind.RATIO), Column("Met")),
            ((goal["metric"], goal["target"], goal["actual"], goal["progress"], "yes" if goal["met"] else "no"),),
            key="goal"),)))  # fmt: skip
    columns = tuple(Column(label, kind) for _, label, kind in FIGURES)
    sections.append(Section("platforms", "By platform", (Table(
        "By platform", (Column("Platform"), *columns),
        tuple((platform_label(p), *(f[k] for k, _, _ in FIGURES)) for p, f in data["by_platform"].items()),
        key="by_platform"),)))  # fmt: skip
    sections.append(Section("accounts", "By account", (Table(
        "By account", (Column("Account"), *columns),
        tuple((a, *(f[k] for k, _, _ in FIGURES)) for a, f in data["by_account"].items()),
        key="by_account"),)))  # fmt: skip
    sections.append(Section("posts", "By post", (Table(
        "By post", (Column("Post"), Column("Text", Kind.USER_TEXT), *columns),
        tuple((p, f["text"], *(f[k] for k, _, _ in FIGURES)) for p, f in data["by_post"].items()),
        key="by_post"),)))  # fmt: skip
    return Document(
        heading="Campaign report", title=f"Campaign report - {campaign['name']}",
        workspace_name=campaign["name"], subject=period, subtitle=f"{campaign['name']} · {period} · {timezone}",
        footer=f"Chorus campaign report · {campaign['name']}", csv_title=f"Campaign report: {campaign['name']} ({period})",
        timezone=timezone, generated_at=generated_at, sections=tuple(sections),
    )  # fmt: skip


def build(
    campaign: Campaign,
    now: datetime | None = None,
    metrics: MetricsReader = stored_metrics,
    sees: Callable[[str], bool] = lambda _: True,
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    current = numbers(campaign, campaign_posts(campaign, now), service.conversions(campaign), metrics, sees)
    before = service.previous(campaign)
    previous = (
        numbers(before, campaign_posts(before, now), service.conversions(before), metrics, sees)
        if before
        else None
    )
    return report_data(current, previous)


def render(
    campaign: Campaign,
    fmt: str,
    timezone: str,
    now: datetime | None = None,
    sees: Callable[[str], bool] = lambda _: True,
) -> tuple[bytes, str, str]:
    """The campaign report in ``fmt`` (json, csv, html, pdf): (body, content type, file name)."""
    now = now or datetime.now(UTC)
    data = build(campaign, now, sees=sees)
    return render_document(document(data, now, timezone), data, fmt, f"campaign-{campaign.id}")
