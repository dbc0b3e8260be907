"""The audit log: who did what, when, to what, and how it ended - one entry per action, never editable.

Which requests are actions is one table here (``ACTIONS``), read by the HTTP edge after the answer is
known, so every listed route writes exactly one entry whatever its view does, refusals included
(outcome ``refused`` with the status: a viewer trying to revoke a key is in the log). Sign-ins are
recorded by the member check the first time a new Cognito session (its ``auth_time``) acts in a
workspace. Entries live under ``AUDIT#<ws>`` newest first, and DynamoDB's TTL drops them after the
workspace's retention (``audit_retention_days``, 365 unless set with ``PATCH /workspace``).

Only named fields of a request body are kept (``DETAIL_FIELDS``): never a token, a password or a key."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chorus.auth.keys import new_id
from chorus.errors import ValidationFailed
from chorus.store import keys
from chorus.store.models import AuditItem, bind
from chorus.store.pages import KeyRange, Page, PageRequest, read_page

DEFAULT_RETENTION_DAYS = 365
MAX_RETENTION_DAYS = 3650
SIGN_IN = "member.signed_in"

# (method, route) -> action. POST /posts is an action only when it publishes now (``action_of``).
ACTIONS: dict[tuple[str, str], str] = {
    ("POST", "/workspaces"): "workspace.created",
    ("PATCH", "/workspace"): "settings.changed",
    ("POST", "/keys"): "key.created",
    ("DELETE", "/keys/{key_id}"): "key.revoked",
    ("POST", "/invitations"): "member.invited",
    ("DELETE", "/invitations/{invitation_id}"): "invitation.revoked",
    ("POST", "/invitations/accept"): "member.joined",
    ("PATCH", "/members/{user_id}"): "member.changed",
    ("DELETE", "/members/{user_id}"): "member.removed",
    ("POST", "/accounts"): "account.connected",
    ("GET", "/oauth/callback/{platform}"): "account.connected",
    ("DELETE", "/accounts/{account_id}"): "account.disconnected",
    ("POST", "/posts"): "post.published_now",
    ("POST", "/posts/{post_id}/approve"): "post.approved",
    ("POST", "/posts/{post_id}/reject"): "post.rejected",
    ("POST", "/posts/{post_id}/retry"): "post.retried",
    ("POST", "/posts/{post_id}/targets/{account_id}/posted"): "post.marked_posted",
    ("POST", "/notifications/{notification_id}/read"): "notification.read",
    ("POST", "/notifications/read"): "notification.read",
    ("DELETE", "/posts/{post_id}"): "post.deleted",
    ("POST", "/publishing/pause"): "publishing.paused",
    ("POST", "/publishing/resume"): "publishing.resumed",
    ("PUT", "/queue/slots"): "settings.changed",
    ("PUT", "/inbox/rules"): "settings.changed",
    ("PUT", "/inbox/sla"): "settings.changed",
    ("DELETE", "/inbox/sla"): "settings.changed",
    ("PUT", "/listening/settings"): "settings.changed",
    ("PUT", "/reports/schedules"): "settings.changed",
    ("PUT", "/goals"): "settings.changed",
    ("PUT", "/links/settings"): "settings.changed",
    ("PATCH", "/links/{code}"): "link.changed",
    ("POST", "/campaigns"): "campaign.created",
    ("PATCH", "/campaigns/{campaign_id}"): "campaign.changed",
    ("DELETE", "/campaigns/{campaign_id}"): "campaign.deleted",
    ("POST", "/campaigns/{campaign_id}/conversions"): "conversion.recorded",
    ("POST", "/templates"): "template.created",
    ("PUT", "/templates/{template_id}"): "template.changed",
    ("DELETE", "/templates/{template_id}"): "template.deleted",
    ("POST", "/hashtag-groups"): "hashtag_group.created",
    ("PUT", "/hashtag-groups/{group_id}"): "hashtag_group.changed",
    ("DELETE", "/hashtag-groups/{group_id}"): "hashtag_group.deleted",
    ("PATCH", "/media/{media_id}"): "media.changed",
    ("DELETE", "/media/{media_id}"): "media.deleted",
    ("POST", "/competitors"): "competitor.added",
    ("DELETE", "/competitors/{competitor_id}"): "competitor.removed",
}
# Request fields worth keeping beside the action (what changed), and answer fields that name its target.
DETAIL_FIELDS = ("role", "email", "accounts", "all_accounts", "name", "timezone", "reason", "release",
                 "platform", "scopes", "valid_until", "mode")  # fmt: skip
TARGET_FIELDS = ("key_id", "invitation_id", "user_id", "account_id", "post_id", "id")


@dataclass(frozen=True)
class AuditEntry:
    entry_id: str
    workspace_id: str
    at: datetime
    actor: str
    action: str
    target: str | None
    outcome: str  # ok | refused | failed
    status: int | None
    detail: str | None


def action_of(
    method: str, route: str, body: Mapping[str, Any] | None, answer: Mapping[str, Any] | None = None
) -> str | None:
    """The action ``method route`` is, if any. A post is "published now" only when it asked for ``now``
    and did not wait for approval instead (a contributor's post)."""
    action = ACTIONS.get((method.upper(), route))
    if action == "post.published_now" and (
        (body or {}).get("mode") != "now" or (answer or {}).get("status") == "pending_approval"
    ):
        return None
    return action


def outcome_of(status: int) -> str:
    if status < 400:
        return "ok"
    return "refused" if status in (401, 403, 409) else "failed"


def target_of(params: Mapping[str, str], answer: Mapping[str, Any] | None, route: str) -> str | None:
    """``<kind>:<id>`` of what the action touched: the route's own parameter, else the answer's id."""
    for name, value in params.items():
        if name != "platform":
            return f"{name.removesuffix('_id')}:{value}"
    for name in TARGET_FIELDS:
        if answer and isinstance(answer.get(name), str):
            kind = name.removesuffix("_id") if name != "id" else route.strip("/").split("/")[0].rstrip("s")
            return f"{kind}:{answer[name]}"
    if "platform" in params:
        return f"platform:{params['platform']}"
    return None


def detail_of(body: Mapping[str, Any] | None) -> str | None:
    kept = {k: body[k] for k in DETAIL_FIELDS if body and k in body}
    return json.dumps(kept, sort_keys=True, default=str)[:1000] if kept else None


def record(
    workspace_id: str,
    actor: str,
    action: str,
    *,
    target: str | None = None,
    outcome: str = "ok",
    status: int | None = None,
    detail: str | None = None,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    at: datetime | None = None,
) -> AuditEntry:
    bind()
    at = at or datetime.now(UTC)
    entry_id = new_id(nbytes=6)
    item = AuditItem(
        keys.audit_pk(workspace_id),
        keys.audit_sk(at, entry_id),
        workspace_id=workspace_id,
        entry_id=entry_id,
        at=at,
        actor=actor,
        action=action,
        target=target,
        outcome=outcome,
        status=status,
        detail=detail,
        expires_at=at + timedelta(days=retention_days),
    )
    item.save()
    return to_entry(item)


def to_entry(item: AuditItem) -> AuditEntry:
    return AuditEntry(
        item.entry_id,
        item.workspace_id,
        item.at,
        item.actor,
        item.action,
        item.target,
        item.outcome,
        int(item.status) if item.status is not None else None,
        item.detail,
    )


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None  # exact, or a prefix ending in "." ("member.")
    actor: str | None = None
    target: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def keeps(self, item: AuditItem) -> bool:
        if self.action and not (
            item.action == self.action or (self.action.endswith(".") and item.action.startswith(self.action))
        ):
            return False
        return all(
            wanted is None or getattr(item, name) == wanted
            for name, wanted in (("actor", self.actor), ("target", self.target), ("outcome", self.outcome))
        )


def entries_page(workspace_id: str, wanted: AuditFilter, page: PageRequest) -> Page[AuditEntry]:
    """Newest first; ``since``/``until`` bound the sort key, the other filters are applied to what is
    read (a page may hold fewer than ``limit`` entries and still have a cursor)."""
    bind()
    pk = keys.audit_pk(workspace_id)
    low = keys.audit_sk(wanted.since, "") if wanted.since else "0"
    high = keys.audit_sk(wanted.until, "~") if wanted.until else "~"
    if low > high:
        raise ValidationFailed.on("since", "must be before until", "range")
    found = read_page(
        lambda **kw: AuditItem.query(pk, AuditItem.sk.between(low, high), scan_index_forward=False, **kw),
        page,
        KeyRange(("pk", pk), ("sk", "")),
        wanted.keeps,
    )
    return Page([to_entry(i) for i in found.items], found.next_cursor)


def retention_days(settings: Mapping[str, Any] | None) -> int:
    value = (settings or {}).get("audit_retention_days", DEFAULT_RETENTION_DAYS)
    return (
        int(value) if isinstance(value, int) and 1 <= value <= MAX_RETENTION_DAYS else DEFAULT_RETENTION_DAYS
    )
