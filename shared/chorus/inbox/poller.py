"""Pollers for platforms without webhooks (Mastodon notifications, Bluesky listNotifications and chat log, Weibo,
Douyin, YouTube and TikTok business comments, the sandbox): per account, fetch what is newer than the
stored cursor, enqueue it to the ingest queue in the webhook message shape (one code path for dedupe and
threading), then move the cursor.

No gaps: the cursor moves only after the page was queued (a crash in between re-fetches the same
items, which the ingest dedupes). No duplicates: the ingest's dedupe marker. Accounts to poll are
found through a sparse index (``POLL#<platform>`` on gsi2), kept by :func:`track_account` from the
table's stream as accounts are connected and removed — never a table scan.

Age bands: an account that had something new in the last hour (or was connected in the last hour) is
polled on every run (every minute); one quiet for up to a day every 5 minutes; a quieter one every 15
minutes. A busy brand is as live as polling allows, a dormant one costs a quarter of the API calls.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from chorus.accounts.service import Account, credentials, get_account
from chorus.errors import NotFound
from chorus.inbox import keys as ik
from chorus.inbox.queue import IngestMessage, IngestQueue
from chorus.inbox.store import PollCursorItem
from chorus.platforms.base import AuthError, PlatformError
from chorus.store import keys
from chorus.store.models import MainItem, bind

log = logging.getLogger(__name__)

POLLED_PLATFORMS = ("mastodon", "bluesky", "weibo", "douyin", "youtube", "tiktok", "sandbox")
FAN_OUT = 8
# (quiet for less than this, poll again after that); the last band holds for anything quieter
AGE_BANDS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=1), timedelta(0)),
    (timedelta(days=1), timedelta(minutes=5)),
    (timedelta.max, timedelta(minutes=15)),
)


def next_poll(now: datetime, active_at: datetime | None, tracked_at: datetime | None) -> datetime | None:
    """When an account is due again, from how long it has been quiet (None: on the next run)."""
    since = active_at or tracked_at
    if since is None:
        return None
    quiet = now - since
    for limit, wait in AGE_BANDS:
        if quiet < limit:
            return now + wait if wait else None
    return now + AGE_BANDS[-1][1]


Fetch = Callable[[Account, str | None], tuple[list[dict[str, Any]], str | None]]


@dataclass
class PollerDeps:
    queue: IngestQueue
    fetch: Fetch | None = None  # None: the platform's own fetch (below)
    session: requests.Session = field(default_factory=requests.Session)
    sandbox_url: str = ""
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass
class PollReport:
    accounts: int = 0
    queued_items: int = 0
    failed: int = 0


def track_account(workspace_id: str, account_id: str, platform: str, present: bool) -> None:
    """Keep the poll index in step with connected accounts (called from the table's stream)."""
    if platform not in POLLED_PLATFORMS:
        return
    bind()
    item = PollCursorItem(keys.workspace_pk(workspace_id), ik.poll_cursor_sk(account_id))
    if not present:
        item.delete()
        return
    try:
        PollCursorItem(
            keys.workspace_pk(workspace_id),
            ik.poll_cursor_sk(account_id),
            workspace_id=workspace_id,
            account_id=account_id,
            platform=platform,
            tracked_at=datetime.now(UTC),
            gsi2pk=ik.poll_index_pk(platform),
            gsi2sk=ik.poll_index_sk(workspace_id, account_id),
        ).save(condition=PollCursorItem.pk.does_not_exist())
    except Exception as exc:  # already tracked: keep its cursor
        if "ConditionalCheckFailed" not in str(exc):
            raise


def tracked(platforms: Iterable[str] = POLLED_PLATFORMS) -> list[PollCursorItem]:
    """The poll cursors of ``platforms``: one Query a platform, all at once (an idle minute's run is
    these round trips, 43,200 runs a month)."""
    bind()

    def of(platform: str) -> list[PollCursorItem]:
        found = MainItem.calendar_index.query(ik.poll_index_pk(platform))
        return [i for i in found if isinstance(i, PollCursorItem)]

    wanted = list(platforms)
    with ThreadPoolExecutor(max_workers=max(1, len(wanted))) as pool:
        return [item for items in pool.map(of, wanted) for item in items]


def _fetch(account: Account, cursor: str | None, deps: PollerDeps) -> tuple[list[dict[str, Any]], str | None]:
    if account.platform == "tiktok":  # with the business grant (the comments step), not Login Kit's token
        from chorus.accounts.grants import grant_credentials
        from chorus.platforms.tiktok.comments import fetch_comments as tiktok

        return tiktok(deps.session, grant_credentials(account, session=deps.session), cursor)
    creds = credentials(account)
    if account.platform == "mastodon":
        from chorus.platforms.mastodon.notifications import fetch_notifications as mastodon

        return mastodon(deps.session, account.base_url or "", creds.access_token, cursor)
    if account.platform == "bluesky":  # notifications, then the chat log unless it was refused lately
        from chorus.accounts import features
        from chorus.platforms.bluesky.chat import BlueskyCursor
        from chorus.platforms.bluesky.chat import fetch_inbox as bluesky

        base = account.base_url or "https://bsky.social"
        shown = features.refused(account.extra, features.DIRECT_MESSAGES) is not None
        items, after = bluesky(
            deps.session, base, creds.access_token, cursor, now=deps.now(), refusal_shown=shown
        )
        features.record(account, features.DIRECT_MESSAGES, BlueskyCursor.parse(after).refused)
        return items, after
    if account.platform == "douyin":
        from chorus.platforms.douyin.comments import fetch_comments as douyin

        return douyin(deps.session, creds, cursor)
    if account.platform == "weibo":
        from chorus.platforms.weibo.comments import fetch_comments as weibo

        return weibo(deps.session, creds.access_token, cursor)
    if account.platform == "youtube":
        from chorus.platforms.youtube.comments import api_url
        from chorus.platforms.youtube.comments import fetch_comments as youtube

        return youtube(deps.session, api_url(), creds.access_token, account.platform_account_id, cursor)
    from chorus.platforms.sandbox.notifications import fetch_notifications as sandbox

    base = account.base_url or deps.sandbox_url
    return sandbox(deps.session, base, creds.access_token, account.platform_account_id, cursor)


def poll_account(cursor_item: PollCursorItem, deps: PollerDeps) -> int:
    """One account: fetch, enqueue, move the cursor. Returns the number of items queued."""
    try:
        account = get_account(cursor_item.workspace_id, cursor_item.account_id)
    except NotFound:
        cursor_item.delete()
        return 0
    if account.status != "active":
        return 0
    fetch = deps.fetch or (lambda a, c: _fetch(a, c, deps))
    items, newest = fetch(account, cursor_item.cursor)
    if items:
        deps.queue.send(
            IngestMessage(
                platform=account.platform,
                received_at=keys.iso(deps.now()),
                body=json.dumps(items).encode("utf-8"),
                source="poll",
                workspace_id=account.workspace_id,
                account_id=account.id,
                account_ref=account.platform_account_id,
            )
        )
    now = deps.now()
    active_at = now if items else cursor_item.active_at
    due = next_poll(now, active_at, cursor_item.tracked_at)
    cursor_item.update(
        actions=[
            PollCursorItem.cursor.set(newest) if newest else PollCursorItem.cursor.remove(),
            PollCursorItem.polled_at.set(now),
            PollCursorItem.active_at.set(active_at) if active_at else PollCursorItem.active_at.remove(),
            PollCursorItem.next_poll_at.set(due) if due else PollCursorItem.next_poll_at.remove(),
        ]
    )
    return len(items)


def poll_all(deps: PollerDeps, platforms: Iterable[str] = POLLED_PLATFORMS) -> PollReport:
    """Fan out over every tracked account (a few at a time); one account's failure spares the others."""
    report = PollReport()
    now = deps.now()
    cursors = [c for c in tracked(platforms) if c.next_poll_at is None or c.next_poll_at <= now]
    report.accounts = len(cursors)

    def one(item: PollCursorItem) -> int:
        try:
            return poll_account(item, deps)
        except AuthError as error:  # the account's token, or only its business grant (TikTok comments)
            from chorus.accounts.grants import on_auth_error

            on_auth_error(item.workspace_id, item.account_id, error)
            return -1
        except PlatformError as error:
            log.warning("poll failed", extra={"account_id": item.account_id, "error": error.message})
            return -1
        except Exception:  # a malformed page or a failed enqueue: this account's cursor stays put
            log.exception("poll crashed", extra={"account_id": item.account_id})
            return -1

    with ThreadPoolExecutor(max_workers=FAN_OUT) as pool:
        for count in pool.map(one, cursors):
            if count < 0:
                report.failed += 1
            else:
                report.queued_items += count
    return report
