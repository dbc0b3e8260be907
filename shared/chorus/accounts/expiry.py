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
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chorus.accounts.tokens import TokenSet
from chorus.events.envelope import DomainEvent, EventPublisher
from chorus.store import keys
from chorus.store.models import AccountItem, MainItem, bind

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


def _event(item: AccountItem, now: datetime) -> DomainEvent:
    expires = item.token_expires_at
    days_left = max(0, (expires - now).days) if expires else 0
    return DomainEvent(
        "AccountTokenExpiring",
        item.workspace_id,
        {
            "account_id": item.account_id,
            "platform": item.platform,
            "platform_account_id": item.platform_account_id,
            "display_name": item.display_name or item.handle or item.platform_account_id,
            "expires_at": keys.iso(expires) if expires else None,
            "days_left": days_left,
        },
    )


def due(now: datetime) -> list[AccountItem]:
    """Accounts whose warning is due by ``now`` and not given yet (oldest buckets first)."""
    bind()
    found: list[AccountItem] = []
    for back in range(CATCH_UP_DAYS, -1, -1):
        bucket = keys.token_warning_bucket(now - timedelta(days=back))
        for item in MainItem.due_index.query(bucket, MainItem.gsi1sk <= keys.iso(now) + "~"):
            if isinstance(item, AccountItem):
                found.append(item)
    return found


def warn_expiring(now: datetime, events: EventPublisher) -> Sequence[str]:
    """Warn every owner whose token expires within ``WARN_AHEAD``; the account ids warned."""
    warned: list[str] = []
    for item in due(now):
        if item.status != "active":
            _clear(item)  # it already asks for a new connection (AccountNeedsReauth)
            continue
        events.publish([_event(item, now)])
        _clear(item)
        warned.append(item.account_id)
        log.info("token expiry warned", extra={"account_id": item.account_id, "platform": item.platform})
    return warned


def on_the_hour(now: datetime, events: EventPublisher) -> Sequence[str]:
    """``warn_expiring`` in the first minute of each hour (the scheduler runs every minute); else nothing."""
    return warn_expiring(now, events) if now.minute == 0 else ()


def _clear(item: AccountItem) -> None:
    try:
        item.update(
            actions=[AccountItem.gsi1pk.remove(), AccountItem.gsi1sk.remove()],
            condition=AccountItem.gsi1sk == item.gsi1sk,
        )
    except UpdateError:  # connected again meanwhile: its new entry stays
        log.info("token expiry entry replaced meanwhile", extra={"account_id": item.account_id})
