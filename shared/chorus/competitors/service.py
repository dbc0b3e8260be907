"""The ``/competitors`` CRUD: a competitor is added by platform and handle (or profile URL), resolved at
once through the platform's public lookup, so a typo is a 422 naming ``handle`` rather than a
collection that never finds anything."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from chorus.competitors import store
from chorus.competitors.model import Competitor, check_platform, split_handle
from chorus.competitors.timelines import Timeline, daily_allowance, timelines
from chorus.errors import Conflict, NotFound, Unavailable, ValidationFailed
from chorus.platforms.base import PermanentError, PlatformError
from chorus.platforms.webhooks import MalformedWebhook

MAX_COMPETITORS = 50


def add_competitor(
    workspace_id: str,
    platform: str,
    handle: str,
    *,
    via_account: str | None = None,
    sources: Mapping[str, Timeline] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Competitor:
    chosen = check_platform(platform)
    name, host = split_handle(chosen, handle)
    found = timelines() if sources is None else sources
    timeline = found.get(chosen)
    if timeline is None:
        raise ValidationFailed.on(
            "platform", f"{chosen} is not set up for competitor collection in this deployment", "unavailable"
        )
    existing = store.list_competitors(workspace_id)
    if len(existing) >= MAX_COMPETITORS:
        raise ValidationFailed.on(
            "platform", f"at most {MAX_COMPETITORS} competitors a workspace", "max_items"
        )
    at = now()
    if chosen == "instagram":
        return _add_instagram(workspace_id, name, via_account, existing, at)
    try:
        store.spend(chosen, timeline.cost("lookup"), daily_allowance(chosen), at)
        profile = timeline.lookup(name, host)
    except store.QuotaExhausted as exc:
        raise Unavailable(f"{chosen}: today's allowance of public API calls is spent; try tomorrow") from exc
    except PermanentError as exc:
        raise ValidationFailed.on(
            "handle", f"{chosen} has no public account {handle!r}", "not_found"
        ) from exc
    except (PlatformError, MalformedWebhook) as exc:
        raise Unavailable(f"{chosen} did not answer the lookup; try again") from exc
    if any(c.platform == chosen and c.platform_id == profile.platform_id for c in existing):
        raise Conflict(f"{profile.handle} on {chosen} is already a competitor")
    extra = dict(profile.extra)
    if chosen == "x":
        extra["username"] = profile.handle
    if profile.base_url:
        extra["base_url"] = profile.base_url
    competitor = Competitor(
        id="cmp" + uuid.uuid4().hex[:10],
        workspace_id=workspace_id,
        platform=chosen,
        handle=profile.handle,
        platform_id=profile.platform_id,
        display_name=profile.display_name,
        url=profile.url,
        added_at=at,
        base_url=profile.base_url,
        extra=extra,
    )
    store.save_competitor(competitor)
    if profile.followers is not None:
        store.record_followers(workspace_id, competitor.id, profile.followers, at)
    return competitor


def get_competitor(workspace_id: str, competitor_id: str) -> Competitor:
    found = store.get_competitor(workspace_id, competitor_id)
    if found is None:
        raise NotFound(f"competitor {competitor_id} not found")
    return found


def delete_competitor(workspace_id: str, competitor_id: str) -> None:
    if not store.delete_competitor(workspace_id, competitor_id):
        raise NotFound(f"competitor {competitor_id} not found")


def _add_instagram(
    workspace_id: str, username: str, via_account: str | None, existing: list[Competitor], at: datetime
) -> Competitor:
    """An Instagram competitor is read by business discovery through one of the workspace's connected
    Instagram professional accounts. The API holds no right to decrypt that account's token, so the
    account is resolved by the collector's first run (``resolved`` turns true, ``platform_id`` is set)."""
    from chorus.accounts.service import list_accounts

    connected = [a for a in list_accounts(workspace_id) if a.platform == "instagram"]
    if via_account is not None:
        chosen = [a for a in connected if a.id == via_account]
        if not chosen:
            raise ValidationFailed.on(
                "via_account", "not a connected Instagram account of this workspace", "unknown"
            )
    elif not connected:
        raise ValidationFailed.on(
            "platform",
            "Instagram competitors are read through a connected Instagram professional account; connect one",
            "needs_account",
        )
    account = chosen[0] if via_account is not None else connected[0]
    if any(c.platform == "instagram" and c.handle.casefold() == username.casefold() for c in existing):
        raise Conflict(f"{username} on instagram is already a competitor")
    competitor = Competitor(
        id="cmp" + uuid.uuid4().hex[:10],
        workspace_id=workspace_id,
        platform="instagram",
        handle=username,
        platform_id="",
        display_name=None,
        url=f"https://www.instagram.com/{username}/",
        added_at=at,
        extra={"via_account": account.id, "username": username},
    )
    store.save_competitor(competitor)
    return competitor
