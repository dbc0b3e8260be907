"""What a connected account's authorisation does not allow, as the platform answered it: a Bluesky app
password created without "Allow access to your direct messages" (``DIRECT_MESSAGES``), so that a person
sees why direct messages do not arrive, and knows that reconnecting with another password fixes it.

- **Recorded** in ``extra`` in the clear (``refused.<feature>``: why, as a person reads it), by whoever met
  the refusal (the inbox poller, :mod:`chorus.inbox.poller`), only when it changes; removed when the
  feature works again.
- **Shown** by ``GET /accounts`` for the platforms that have the feature (``FEATURES``):
  ``{"status": "on" | "off", "reason": ...}`` under the feature's name, beside TikTok's ``comments``.
- **Forgotten** when the account is authorised again (:func:`chorus.accounts.service.reconnect_account`):
  the new authorisation is asked at once; the poller asks again only while the refusal is shown.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import UpdateError

from chorus.store import keys
from chorus.store.models import AccountItem, bind

if TYPE_CHECKING:
    from chorus.accounts.service import Account

log = logging.getLogger(__name__)

PREFIX = "refused."
DIRECT_MESSAGES = "direct_messages"
FEATURES: dict[str, tuple[str, ...]] = {"bluesky": (DIRECT_MESSAGES,)}
"""The features an account of a platform may be refused, shown on every account of it."""


def _key(feature: str) -> str:
    return PREFIX + feature


def refused(extra: dict[str, str], feature: str) -> str | None:
    """Why the account's authorisation does not allow ``feature`` (None: it is not known to be refused)."""
    return extra.get(_key(feature)) or None


def forget(extra: dict[str, str]) -> dict[str, str]:
    """``extra`` without any refusal (a new authorisation of the account)."""
    return {k: v for k, v in extra.items() if not k.startswith(PREFIX)}


def view(platform: str, extra: dict[str, str]) -> dict[str, dict[str, Any]]:
    """What ``GET /accounts`` shows of the platform's features: on, or off with the reason."""
    shown = {}
    for feature in FEATURES.get(platform, ()):
        why = refused(extra, feature)
        shown[feature] = {"status": "off" if why else "on", "reason": why}
    return shown


def record(account: Account, feature: str, why: str | None) -> bool:
    """Record that ``feature`` is refused (``why``) or works (None), when that changes; True when written.

    Written only if ``extra`` is still as ``account`` was read: a reconnect in between wins (its new
    authorisation is asked again on the next poll, which records what it meets)."""
    if refused(account.extra, feature) == why:
        return False
    changed = {k: v for k, v in account.extra.items() if k != _key(feature)}
    if why:
        changed[_key(feature)] = why[:500]
    bind()
    item = AccountItem(keys.workspace_pk(account.workspace_id), keys.account_sk(account.id))
    as_read = AccountItem.extra == account.extra
    if not account.extra:
        as_read = as_read | AccountItem.extra.does_not_exist()
    condition = AccountItem.pk.exists() & as_read  # never a new item for an account removed meanwhile
    try:
        item.update(actions=[AccountItem.extra.set(changed)], condition=condition)
    except UpdateError:
        log.info("feature state left for the next poll", extra={"account_id": account.id, "feature": feature})
        return False
    log.info(
        "feature state recorded", extra={"account_id": account.id, "feature": feature, "refused": bool(why)}
    )
    return True
