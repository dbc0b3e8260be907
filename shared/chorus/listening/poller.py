"""The listening poller (a schedule): each monitor's terms searched on each configured source, each new
mention analysed for sentiment and recorded (deduplicated by platform id), cursors kept per
(monitor, source) so no poll repeats or skips what an earlier one saw."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic_settings import BaseSettings, SettingsConfigDict
from pynamodb.exceptions import DoesNotExist

from chorus.listening.monitors import Monitor, SearchPage
from chorus.listening.scoring import WorkspaceSentiment
from chorus.listening.service import ListeningItem, list_monitors, record_mention
from chorus.platforms.base import PlatformError
from chorus.store import keys
from chorus.store.models import bind

log = logging.getLogger(__name__)

Search = Callable[[Monitor, str | None], list[SearchPage]]


class ListeningSettings(BaseSettings):
    """Which search APIs the poller uses. Production default: Bluesky's public AppView; add mastodon
    (CHORUS_LISTENING_MASTODON_URL) and x (CHORUS_LISTENING_X_BEARER) where the workspace has access."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_LISTENING_", extra="ignore")

    sources: str = "bluesky"
    bluesky_url: str = "https://public.api.bsky.app"
    mastodon_url: str = ""
    x_bearer: str = ""
    sandbox_url: str = ""


def sources(
    settings: ListeningSettings | None = None,
) -> dict[str, Callable[[Monitor, str | None], SearchPage]]:
    """Search functions by source name; each takes a monitor and its stored cursor."""
    s = settings or ListeningSettings()
    from chorus.config import get_settings

    wanted = {x.strip() for x in s.sources.split(",") if x.strip()}  # the ListeningSources parameter
    found: dict[str, Callable[[Monitor, str | None], SearchPage]] = {}
    if "sandbox" in wanted:
        from chorus.platforms.sandbox.search import search_terms

        url = s.sandbox_url or get_settings().sandbox_url
        if url:
            found["sandbox"] = lambda m, c: search_terms(url, [t.strip('"#@') for t in m.terms], c)
    if "bluesky" in wanted:
        from chorus.platforms.bluesky.search import monitor_queries, search_posts

        found["bluesky"] = lambda m, c: search_posts(
            " ".join(monitor_queries(m)[:1]), c, base_url=s.bluesky_url
        )
    if "mastodon" in wanted and s.mastodon_url:
        from chorus.platforms.mastodon.search import monitor_hashtags, search_hashtag

        found["mastodon"] = lambda m, c: search_hashtag(s.mastodon_url, (monitor_hashtags(m) or ["_"])[0], c)
    if "x" in wanted and s.x_bearer:
        from chorus.platforms.x.search import monitor_query, search_recent

        found["x"] = lambda m, c: search_recent(monitor_query(m), c, token=s.x_bearer)
    return found


@dataclass(frozen=True)
class PollReport:
    monitors: int
    searched: int
    stored: int
    duplicates: int
    errors: int


def _cursor(workspace_id: str, monitor_id: str, source: str) -> str | None:
    try:
        item = ListeningItem.get(
            keys.workspace_pk(workspace_id), f"CURSOR#{monitor_id}#{source}", consistent_read=True
        )
    except DoesNotExist:
        return None
    return (item.data or {}).get("cursor")


def _save_cursor(workspace_id: str, monitor_id: str, source: str, cursor: str | None) -> None:
    ListeningItem(
        keys.workspace_pk(workspace_id), f"CURSOR#{monitor_id}#{source}", data={"cursor": cursor}
    ).save()


def poll_workspace(
    workspace_id: str,
    searches: Mapping[str, Callable[[Monitor, str | None], SearchPage]],
    sentiment: WorkspaceSentiment,
) -> PollReport:
    """Search every monitor of the workspace on every source; mentions are scored by the workspace's
    sentiment backend and recorded once."""
    bind()
    monitors = list_monitors(workspace_id)
    searched = stored = duplicates = errors = 0
    for monitor in monitors:
        for source, search in searches.items():
            if monitor.platforms and source not in monitor.platforms and source != "sandbox":
                continue
            try:
                page = search(monitor, _cursor(workspace_id, monitor.id, source))
            except PlatformError as error:
                errors += 1
                log.warning(
                    "search failed", extra={"source": source, "monitor": monitor.id, "error": error.message}
                )
                continue
            searched += 1
            for mention in page.mentions:
                scored = sentiment.score(workspace_id, mention.text)
                result = record_mention(
                    workspace_id,
                    mention,
                    scored.result.label.value,
                    monitors,
                    sentiment_source=scored.source,
                )
                stored += result.stored
                duplicates += not result.stored
            _save_cursor(workspace_id, monitor.id, source, page.cursor)
    return PollReport(len(monitors), searched, stored, duplicates, errors)


def poll_all(sentiment: WorkspaceSentiment, settings: ListeningSettings | None = None) -> PollReport:
    bind()
    searches = sources(settings)
    total = PollReport(0, 0, 0, 0, 0)
    for reg in ListeningItem.query("LISTENING"):
        r = poll_workspace(reg.sk, searches, sentiment)
        total = PollReport(*(a + b for a, b in zip(_as_tuple(total), _as_tuple(r), strict=True)))
    return total


def _as_tuple(r: PollReport) -> tuple[int, int, int, int, int]:
    return (r.monitors, r.searched, r.stored, r.duplicates, r.errors)
