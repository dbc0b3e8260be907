"""Answers that ride on a webhook's own response (WeChat's passive reply, 被动回复): where a message to
an account matches one of its workspace's inbox rules with a ``reply``, the callback answers the rule's
text at once, within the platform's 5-second limit, instead of a bare acknowledgement. The message is
queued and ingested as any other (tags, assignee, priority); the answer is the rule's, not a person's.

The lookups are the ones ingest makes, cached per process (the account's routing and the rules, each for
at most 30 s), so a burst of messages reads them once. An account connected by more than one workspace
gets no automatic answer (whose rules would speak?); a failed lookup answers nothing, never an error."""

from __future__ import annotations

import logging

from chorus.inbox.normalized import InboundMessage, MessageKind
from chorus.inbox.rules import automatic_reply, current_rules

log = logging.getLogger(__name__)


def rule_reply(platform: str, message: InboundMessage) -> str | None:
    """The text a rule answers ``message`` with at once, or None (no rule answers it)."""
    if message.kind is not MessageKind.DM or not message.text.strip():
        return None
    from chorus.inbox.ingest import routed_accounts

    accounts = [a for a in routed_accounts(platform, message.account_ref) if a.status == "active"]
    if len(accounts) != 1:
        return None
    reply = automatic_reply(current_rules(accounts[0].workspace_id), message.text)
    if reply is not None:
        log.info("passive reply", extra={"platform": platform, "account_id": accounts[0].id})
    return reply
