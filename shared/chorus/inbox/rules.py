"""The workspace's inbox rules: when a new message mentions a rule's keywords, tag the conversation,
assign it (if nobody has it yet), raise its priority and, where the platform lets the answer ride on
the webhook's own response (WeChat's passive reply), answer it at once with the rule's ``reply``. Keywords match as monitors' terms do
(:mod:`chorus.listening.matching`: whole words, phrases in quotes, hashtags, CJK substrings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chorus.errors import ValidationFailed
from chorus.inbox import keys as ik
from chorus.inbox.store import RulesItem
from chorus.listening.matching import matches
from chorus.listening.monitors import Monitor, MonitorKind
from chorus.store import keys
from chorus.store.models import bind
from chorus.ttl import TtlCache

MAX_RULES = 100
MAX_REPLY = 600
"""Characters of a rule's automatic answer (WeChat's passive text reply takes 2,048 bytes: 600 CJK
characters of three bytes each fit)."""


@dataclass(frozen=True)
class Rule:
    terms: tuple[str, ...]
    tag: str | None = None
    assign: str | None = None
    priority: int | None = None
    monitor: Monitor = field(compare=False, repr=False, default=None)  # type: ignore[assignment]
    reply: str | None = None  # answered at once where the platform allows it (WeChat's passive reply)

    def to_dict(self) -> dict[str, Any]:
        return {"terms": list(self.terms), "tag": self.tag, "assign": self.assign, "priority": self.priority,
                "reply": self.reply}  # fmt: skip


@dataclass(frozen=True)
class RuleOutcome:
    tags: tuple[str, ...] = ()
    assignee: str | None = None
    priority: int = 0


def build_rules(workspace_id: str, raw: Any) -> list[Rule]:
    """Validate rules from a request body or a stored item (``ValidationFailed`` names the field)."""
    if not isinstance(raw, list):
        raise ValidationFailed.on("rules", "must be a list", "type")
    if len(raw) > MAX_RULES:
        raise ValidationFailed.on("rules", f"at most {MAX_RULES} rules", "max_items")
    rules: list[Rule] = []
    for i, entry in enumerate(raw):
        where = f"rules[{i}]"
        if not isinstance(entry, dict):
            raise ValidationFailed.on(where, "must be an object", "type")
        tag, assign, priority = entry.get("tag"), entry.get("assign"), entry.get("priority")
        reply = entry.get("reply")
        if tag is None and assign is None and priority is None and reply is None:
            raise ValidationFailed.on(where, "needs a tag, an assignee, a priority or a reply", "required")
        if reply is not None and (not isinstance(reply, str) or not reply.strip() or len(reply) > MAX_REPLY):
            raise ValidationFailed.on(
                f"{where}.reply", f"must be a non-empty string of at most {MAX_REPLY} characters", "type"
            )
        bad_priority = isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 3
        if priority is not None and bad_priority:
            raise ValidationFailed.on(f"{where}.priority", "must be an integer from 0 to 3", "range")
        for name, value in (("tag", tag), ("assign", assign)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValidationFailed.on(f"{where}.{name}", "must be a non-empty string", "type")
        terms = entry.get("terms")
        if terms is not None and not isinstance(terms, list | tuple):
            # not one string (it would be split into letters), a number or an object's keys
            raise ValidationFailed.on(f"{where}.terms", "must be a list of strings", "type")
        try:
            monitor = Monitor(
                id=f"rule{i}",
                workspace_id=workspace_id,
                name=f"rule {i}",
                kind=MonitorKind.KEYWORD,
                terms=tuple(terms or ()),
            )
        except ValidationFailed as error:
            raise ValidationFailed.on(f"{where}.terms", error.detail, "invalid") from error
        rules.append(
            Rule(
                monitor.terms,
                tag.strip() if tag else None,
                assign.strip() if assign else None,
                priority,
                monitor,
                reply.strip() if reply else None,
            )
        )
    return rules


def apply(rules: list[Rule], text: str) -> RuleOutcome:
    tags: list[str] = []
    assignee: str | None = None
    priority = 0
    for rule in rules:
        if not matches(rule.monitor, text):
            continue
        if rule.tag and rule.tag not in tags:
            tags.append(rule.tag)
        if rule.assign and assignee is None:
            assignee = rule.assign
        if rule.priority is not None:
            priority = max(priority, rule.priority)
    return RuleOutcome(tuple(tags), assignee, priority)


def automatic_reply(rules: list[Rule], text: str) -> str | None:
    """The reply of the first rule, in order, whose keywords ``text`` mentions and that has one."""
    return next((r.reply for r in rules if r.reply and matches(r.monitor, text)), None)


def get_rules(workspace_id: str) -> list[Rule]:
    bind()
    try:
        item = RulesItem.get(keys.workspace_pk(workspace_id), ik.rules_sk())
    except DoesNotExist:
        return []
    return build_rules(workspace_id, item.rules or [])


RULES_TTL_S = 30.0
_current: TtlCache[str, list[Rule]] = TtlCache(RULES_TTL_S)


def current_rules(workspace_id: str) -> list[Rule]:
    """The rules ingest applies: read at most every RULES_TTL_S per process (a burst of messages for
    one workspace reads them once; an edit applies everywhere within that time)."""
    return _current.get(workspace_id, get_rules)


def set_rules(workspace_id: str, raw: Any) -> list[Rule]:
    rules = build_rules(workspace_id, raw)
    _current.forget(workspace_id)
    bind()
    RulesItem(
        keys.workspace_pk(workspace_id),
        ik.rules_sk(),
        workspace_id=workspace_id,
        rules=[r.to_dict() for r in rules],
        updated_at=datetime.now(UTC),
    ).save()
    return rules
