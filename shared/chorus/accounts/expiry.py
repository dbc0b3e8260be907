"""Warning an account's owner before a token that cannot be refreshed expires.

Some platforms give a token with an end and nothing to renew it with: LinkedIn's self-serve apps issue
60-day access tokens without a refresh token (``fixtures/platform_api/publishing/linkedin``). Chorus
cannot keep such an account connected by itself; only its owner can, by connecting it again. So the
owner is told ``WARN_AHEAD`` (7 days) before the token expires, with an ``AccountTokenExpiring`` event
(an alert on the workspace's topic, ``chorus.notifications``), once per token.

How an account is found without scanning the table: while its token has an expiry and no refresh
token, the account sits in a sparse bucket of GSI1 named by the day of its warning
(``keys.token_warning_bucket``; ``index_actions`` sets or clears it each time tokens are stored).
``warn_expiring`` (the scheduler, on the hour: ``on_the_hour``) reads today's bucket and the ``CATCH_UP_DAYS`` before it up
to now, publishes one event per account, then takes the account out of the index with a write
conditioned on the entry it read, so an account connected again meanwhile (a new token, a new entry)
keeps its new one. Publishing first, then clearing, makes the warning at-least-once: a crash in between
warns twice rather than never. A token that is renewed or replaced by a refreshable one leaves the
index when it is stored.

A second grant on an account (TikTok API for Business, :mod:`chorus.accounts.grants`) refreshes its
24-hour access token by itself, but its refresh token ends after a year and only the owner can
authorise it again. It waits in the same index as its own item (``GrantWarningItem``, ``WS#<ws> /
GRANTWARN#<account>#<grant>``, put by :func:`grant_warning` when the grant is stored with a new end),
and is warned by the same run with the same ``AccountTokenExpiring`` event, ``WARN_AHEAD`` before, once,
naming the grant (``data.grant``); not when the grant is no longer active or the account is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chorus.accounts.tokens import TokenSet
from chorus.events.envelope import DomainEvent, EventPublisher
from chorus.store import keys
from chorus.store.models import AccountItem, GrantWarningItem, MainItem, bind

log = logging.getLogger(__name__)

WARN_AHEAD = timedelta(days=7)
CATCH_UP_DAYS = 8
"""Earlier day buckets read each run, so an outage (or a token connected with less than a week left,
whose warning day is already past) is still warned."""


def warn_at(tokens: TokenSet) -> datetime | None:
    """When the owner is to be warned: ``WARN_AHEAD`` before a token without refresh token expires."""
    if tokens.expires_at is None or tokens.refresh_token:
        return None
    return tokens.expires_at - WARN_AHEAD


def entry(tokens: TokenSet, workspace_id: str, account_id: str) -> tuple[str, str] | None:
    """The account's (gsi1pk, gsi1sk) in the warning index for ``tokens``; None: no entry (no new
    connection will be needed)."""
    when = warn_at(tokens)
    if when is None:
        return None
    return keys.token_warning_bucket(when), keys.token_warning_sk(when, workspace_id, account_id)


def index_actions(tokens: TokenSet, workspace_id: str, account_id: str) -> list[Any]:
    """The same entry as update actions: set, or removed."""
    found = entry(tokens, workspace_id, account_id)
    if found is None:
        return [AccountItem.gsi1pk.remove(), AccountItem.gsi1sk.remove()]
    return [AccountItem.gsi1pk.set(found[0]), AccountItem.gsi1sk.set(found[1])]


def grant_warning(workspace_id: str, account_id: str, grant: str, ends_at: datetime | None) -> None:
    """Put the grant's entry in the warning index, ``WARN_AHEAD`` before ``ends_at`` (replacing an earlier
    one, warned or not: a new end is a new token); with no end, take the grant out."""
    bind()
    sk = keys.grant_warning_sk(account_id, grant)
    if ends_at is None:
        GrantWarningItem(keys.workspace_pk(workspace_id), sk).delete()
        return
    when = ends_at - WARN_AHEAD
    GrantWarningItem(
        keys.workspace_pk(workspace_id), sk, workspace_id=workspace_id, account_id=account_id, grant=grant,
        ends_at=ends_at, gsi1pk=keys.token_warning_bucket(when),
        gsi1sk=keys.token_warning_sk(when, workspace_id, account_id),
    ).save()  # fmt: skip


def _event(
    item: AccountItem, expires: datetime | None, now: datetime, grant: str | None = None
) -> DomainEvent:
    days_left = max(0, (expires - now).days) if expires else 0
    data: dict[str, Any] = {
        "account_id": item.account_id,
        "platform": item.platform,
        "platform_account_id": item.platform_account_id,
        "display_name": item.display_name or item.handle or item.platform_account_id,
        "expires_at": keys.iso(expires) if expires else None,
        "days_left": days_left,
    }
    if grant is not None:
        data["grant"] = grant  # the account's second grant ends, not the token it publishes with
    return DomainEvent("AccountTokenExpiring", item.workspace_id, data)


def _grant_event(item: GrantWarningItem, now: datetime) -> DomainEvent | None:
    """The warning of a grant still active on an account still connected; None otherwise."""
    from chorus.accounts.grants import active

    try:
        account = AccountItem.get(keys.workspace_pk(item.workspace_id), keys.account_sk(item.account_id))
    except DoesNotExist:
        return None
    if not active(dict(account.extra or {}), now):
        return None
    return _event(account, item.ends_at, now, grant=item.grant)


def due(now: datetime) -> list[AccountItem | GrantWarningItem]:
    """Accounts and grants whose warning is due by ``now`` and not given yet (oldest buckets first)."""
    bind()
    found: list[AccountItem | GrantWarningItem] = []
    for back in range(CATCH_UP_DAYS, -1, -1):
        bucket = keys.token_warning_bucket(now - timedelta(days=back))
        for item in MainItem.due_index.query(bucket, MainItem.gsi1sk <= keys.iso(now) + "~"):
            if isinstance(item, AccountItem | GrantWarningItem):
                found.append(item)
    return found


def warn_expiring(now: datetime, events: EventPublisher) -> Sequence[str]:
    """Warn every owner whose token (or grant) expires within ``WARN_AHEAD``; the account ids warned. An
    account that already asks for a new connection (AccountNeedsReauth) is not warned, nor a grant
    marked for a new authorisation: their entries are only cleared."""
    warned: list[str] = []
    for item in due(now):
        if isinstance(item, GrantWarningItem):
            event = _grant_event(item, now)
        else:
            event = _event(item, item.token_expires_at, now) if item.status == "active" else None
        if event is not None:
            events.publish([event])
        _clear(item)
        if event is not None:
            warned.append(item.account_id)
            log.info("token expiry warned", extra={"account_id": item.account_id,
                                                   "platform": event.data["platform"],
                                                   "grant": event.data.get("grant")})  # fmt: skip
    return warned


def on_the_hour(now: datetime, events: EventPublisher) -> Sequence[str]:
    """``warn_expiring`` in the first minute of each hour (the scheduler runs every minute); else nothing."""
    return warn_expiring(now, events) if now.minute == 0 else ()


def _clear(item: AccountItem | GrantWarningItem) -> None:
    try:
        item.update(
            actions=[MainItem.gsi1pk.remove(), MainItem.gsi1sk.remove()],
            condition=MainItem.gsi1sk == item.gsi1sk,
        )
    except UpdateError:  # connected again meanwhile: its new entry stays
        log.info("token expiry entry replaced meanwhile", extra={"account_id": item.account_id})
