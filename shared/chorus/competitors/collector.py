"""The scheduled collection of competitors' public accounts (``CompetitorsFunction``, every hour).

For each competitor of each registered workspace, one run:

1. once a UTC day, reads the account's follower count (the platform's public lookup): the day's point;
2. reads its timeline newest first, page by page, storing each post by platform id (a post read again
   is overwritten with its new counts, never stored twice), down to the **floor**: the newest post of
   the last finished round minus ``refresh_days`` (recent posts are read again so their counts keep
   up), or ``backfill_days`` before now on the first round.

Every call first takes its units of the platform's daily allowance (:func:`chorus.competitors.store.
spend`, recorded per platform and UTC day) and of the run's time budget (:class:`chorus.platforms.
budget.CallBudget`, inside the function's timeout). A platform that answers 429 (X's 15-minute window) is
left alone for the rest of the run. When either budget is spent, or after ``max_pages``, the
round stops and the cursor keeps the next page's token (``resume``) and its ``floor``: the next run
continues the same round before starting a new one, so nothing between the floor and the top is
skipped. The cursor is saved after every page, so a crash costs at most one page read again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chorus.competitors import store
from chorus.competitors.model import Competitor
from chorus.competitors.timelines import CompetitorSettings, Timeline, daily_allowance, timelines
from chorus.platforms.budget import CallBudget, OutOfBudget
from chorus.platforms.http import default_timeout

log = logging.getLogger(__name__)

RUN_BUDGET_S = 240.0  # request time one run may spend: inside CompetitorsFunction's 300 s timeout


@dataclass
class CollectReport:
    competitors: int = 0
    pages: int = 0
    new_posts: int = 0
    follower_points: int = 0
    errors: int = 0
    out_of_quota: list[str] = field(default_factory=list)  # the day's allowance is spent
    rate_limited: list[str] = field(default_factory=list)  # the platform said 429: left alone this run
    out_of_time: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Stop(Exception):
    """This platform (quota) or the whole run (time) can do no more now."""


@dataclass
class _Run:
    settings: CompetitorSettings
    budget: CallBudget
    report: CollectReport
    now: datetime

    def take(self, timeline: Timeline, what: str) -> None:
        platform = timeline.platform
        if platform in self.report.out_of_quota or platform in self.report.rate_limited:
            raise _Stop(platform)
        try:
            self.budget.spend(default_timeout())
        except OutOfBudget as exc:
            self.report.out_of_time = True
            raise _Stop("time") from exc
        try:
            store.spend(platform, timeline.cost(what), daily_allowance(platform, self.settings), self.now)
        except store.QuotaExhausted as exc:
            log.info("competitor_quota_spent", extra={"platform": platform})
            self.report.out_of_quota.append(platform)
            raise _Stop(platform) from exc


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def lookup_key(competitor: Competitor) -> tuple[str, str | None]:
    """What the platform's lookup takes for a stored competitor: its handle (X, Mastodon with the
    server) or its stable id (a Bluesky DID, a YouTube channel id)."""
    if competitor.platform == "mastodon":
        user, _, host = competitor.handle.partition("@")
        return user, host or None
    if competitor.platform in ("x", "instagram"):
        return competitor.handle, None
    return competitor.platform_id, None


def collect_competitor(competitor: Competitor, timeline: Timeline, run: _Run) -> None:
    from chorus.platforms.base import PlatformError, RateLimited
    from chorus.platforms.webhooks import MalformedWebhook

    ws, cid = competitor.workspace_id, competitor.id
    extra = {**competitor.extra, "workspace_id": ws}
    if competitor.base_url:
        extra["base_url"] = competitor.base_url
    state = store.load_cursor(ws, cid)
    try:
        if state.get("followers_day") != run.now.date().isoformat():
            run.take(timeline, "lookup")
            profile = timeline.lookup(*lookup_key(competitor), extra)
            if not competitor.resolved:
                competitor = store.resolve_competitor(
                    competitor, profile.platform_id, profile.handle, profile.display_name, profile.url
                )
            if profile.followers is not None:
                store.record_followers(ws, cid, profile.followers, run.now)
                run.report.follower_points += 1
            state["followers_day"] = run.now.date().isoformat()
            store.save_cursor(ws, cid, state)
        token: str | None = state.get("resume")
        if token:
            floor = datetime.fromisoformat(state["floor"])
        elif state.get("newest"):
            floor = datetime.fromisoformat(state["newest"]) - timedelta(days=run.settings.refresh_days)
        else:
            floor = run.now - timedelta(days=run.settings.backfill_days)
        newest = datetime.fromisoformat(state["newest"]) if state.get("newest") else None
        for _ in range(run.settings.max_pages):
            run.take(timeline, "page")
            page = timeline.page(competitor.platform_id, extra, token)
            run.report.pages += 1
            keep = [p for p in page.posts if p.created_at >= floor]
            run.report.new_posts += store.save_posts(ws, cid, keep)
            for post in keep:
                newest = post.created_at if newest is None else max(newest, post.created_at)
            finished = len(keep) < len(page.posts) or not page.next_token
            token = None if finished else page.next_token
            state.update(newest=_iso(newest) if newest else None, resume=token,
                         floor=None if finished else _iso(floor))  # fmt: skip
            store.save_cursor(ws, cid, state)
            if finished:
                return
        log.info("competitor_round_continues", extra={"competitor": cid})
    except RateLimited as error:  # the platform's own window: its other competitors wait for the next run
        run.report.errors += 1
        run.report.rate_limited.append(timeline.platform)
        log.warning("competitor_rate_limited", extra={"platform": timeline.platform, "error": error.message})
    except (PlatformError, MalformedWebhook) as error:  # this competitor waits; the others go on
        run.report.errors += 1
        log.warning("competitor_collect_failed", extra={"competitor": cid, "error": str(error)})


def collect_all(
    sources: Mapping[str, Timeline] | None = None,
    settings: CompetitorSettings | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    budget_s: float = RUN_BUDGET_S,
) -> CollectReport:
    s = settings or CompetitorSettings()
    found = timelines(s) if sources is None else sources
    run = _Run(s, CallBudget(budget_s), CollectReport(), now())
    for workspace_id in list(store.workspaces()):
        for competitor in store.list_competitors(workspace_id):
            timeline = found.get(competitor.platform)
            if timeline is None:
                continue
            run.report.competitors += 1
            try:
                collect_competitor(competitor, timeline, run)
            except _Stop as stop:
                if str(stop) == "time":
                    return run.report
    return run.report
