"""Repository of the last approved version of each post (``WS#<ws>`` / ``APPROVED#<post>``): its text,
variants, media, accounts and time as the approver saw them. The item is written in the approval's own
transaction (``chorus.store.posts.transition_at_version``), so a post is never approved without it, and
it is only replaced by the next approval: edits and rejections leave it as it was."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chorus.posts.model import Content, Post
from chorus.store import keys
from chorus.store.models import ApprovedPostItem, bind


@dataclass(frozen=True)
class Approved:
    """A post as it was approved: what the diff of the next review starts from."""

    post_id: str
    version: int
    by: str
    at: datetime
    content: Content
    variants: dict[str, Content]
    account_ids: tuple[str, ...]
    scheduled_at: datetime | None
    timezone: str

    def content_for(self, account_id: str) -> Content:
        return self.variants.get(account_id, self.content)

    def only(self, account_ids: frozenset[str] | None) -> Approved:
        """As someone who may see only ``account_ids`` (None: all) sees it."""
        if account_ids is None:
            return self
        return Approved(
            self.post_id, self.version, self.by, self.at, self.content,
            {a: c for a, c in self.variants.items() if a in account_ids},
            tuple(a for a in self.account_ids if a in account_ids),
            self.scheduled_at, self.timezone,
        )  # fmt: skip


def _sk(post_id: str) -> str:
    return f"APPROVED#{post_id}"


def approved_item(post: Post, by: str, at: datetime) -> ApprovedPostItem:
    """The item recording ``post`` (at its current version) as approved by ``by`` at ``at``."""
    snapshot: dict[str, Any] = {
        "content": post.content.to_dict(),
        "variants": {a: c.to_dict() for a, c in post.variants.items()},
        "accounts": list(post.account_ids),
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
        "timezone": post.timezone,
    }
    return ApprovedPostItem(
        keys.workspace_pk(post.workspace_id),
        _sk(post.id),
        workspace_id=post.workspace_id,
        post_id=post.id,
        version=post.version,
        snapshot=snapshot,
        approved_by=by,
        approved_at=at,
    )


def last_approved(workspace_id: str, post_id: str) -> Approved | None:
    """The post as it was last approved; None when it never was."""
    bind()
    try:
        item = ApprovedPostItem.get(keys.workspace_pk(workspace_id), _sk(post_id), consistent_read=True)
    except DoesNotExist:
        return None
    snap = item.snapshot or {}
    scheduled = snap.get("scheduled_at")
    return Approved(
        post_id=item.post_id,
        version=int(item.version),
        by=item.approved_by,
        at=item.approved_at,
        content=Content.from_dict(snap.get("content") or {}),
        variants={a: Content.from_dict(c) for a, c in (snap.get("variants") or {}).items()},
        account_ids=tuple(snap.get("accounts") or ()),
        scheduled_at=datetime.fromisoformat(scheduled) if scheduled else None,
        timezone=str(snap.get("timezone") or "UTC"),
    )
