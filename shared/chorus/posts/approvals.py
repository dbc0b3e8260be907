"""An approver's decision told to the post's author: a notification in their list (``GET
/notifications``) when an editor approves or rejects their post, naming the decider, the comment and,
for an approval, when it goes out. The decision itself is :func:`chorus.posts.service.decide`."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from chorus.auth.keys import Principal
from chorus.auth.members import get_member
from chorus.errors import NotFound
from chorus.posts.model import Post
from chorus.posts.queue import PublishQueue
from chorus.posts.service import decide
from chorus.store import notifications
from chorus.store.notifications import Notification

APPROVED = "post_approved"
REJECTED = "post_rejected"


def _who(principal: Principal) -> str:
    """The decider as the author reads it: their e-mail when they are a member, else the key."""
    if principal.user_id:
        try:
            return get_member(principal.workspace_id, principal.user_id).email or principal.actor
        except NotFound:
            return principal.actor
    return f"an API key ({principal.actor})"


def decision_notice(post: Post, approve: bool, by: str, comment: str | None, at: datetime) -> Notification:
    """The author's notification of the decision on ``post`` (at the version decided)."""
    topic = APPROVED if approve else REJECTED
    digest = hashlib.sha256(f"{topic}|{post.id}|{post.version}".encode()).hexdigest()[:16]
    excerpt = " ".join(post.content.text.split())
    excerpt = excerpt if len(excerpt) <= 60 else excerpt[:59] + "…"
    lines = [
        f'Your post "{excerpt}" (version {post.version}) was {"approved" if approve else "rejected"} by {by}.'
    ]
    if approve and post.scheduled_at:
        local = post.scheduled_at.astimezone(ZoneInfo(post.timezone)).strftime("%Y-%m-%d %H:%M")
        lines.append(f"It goes out at {local} ({post.timezone}).")
    elif approve:
        lines.append("It goes out now.")
    if comment and comment.strip():
        lines.append(f"Comment: {comment.strip()}")
    if not approve:
        lines.append("Edit it and it comes back for approval.")
    return Notification(
        id=f"{at.astimezone(UTC).strftime('%Y%m%dT%H%M%S')}.{at.microsecond // 1000:03d}Z-{digest}",  # newest last
        workspace_id=post.workspace_id,
        recipient=post.created_by,
        topic=topic,
        subject=f"Post {'approved' if approve else 'rejected'}: {excerpt}"[:150],
        text="\n".join(lines),
        links=(),
        created_at=at,
        post_id=post.id,
    )


def decide_and_tell(
    principal: Principal,
    post_id: str,
    approve: bool,
    comment: str | None,
    queue: PublishQueue,
    version: int | None = None,
) -> Post:
    """``POST /posts/{id}/approve|reject``: the decision, then the author's notification (not when the
    author decided on their own post)."""
    decided = decide(principal, post_id, approve, comment, queue, version)  # at the version decided
    if decided.created_by != principal.actor:
        notifications.add(decision_notice(decided, approve, _who(principal), comment, datetime.now(UTC)))
    return decided
