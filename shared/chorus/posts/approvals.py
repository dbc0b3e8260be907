"""The approval workflow told to the people in it, in their notifications list (``GET /notifications``):

* a post that waits for approval (a contributor's new post, or their edit) is announced to each member
  who may approve it (editor and above, with every account of the post), once per version;
* an approval or a rejection is told to the post's author, naming the decider, the comment and, for an
  approval, when it goes out.

The posts themselves are :mod:`chorus.posts.service`'s (create, edit, decide)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from chorus.auth.keys import Principal
from chorus.auth.members import get_member, members_of
from chorus.auth.roles import can_approve
from chorus.errors import NotFound
from chorus.notifications import notice, tell
from chorus.posts.model import Post, TargetState
from chorus.posts.queue import PublishQueue
from chorus.posts.service import Compose, create_post, decide, edit_post
from chorus.store.notifications import Notification

APPROVED = "post_approved"
REJECTED = "post_rejected"
REVIEW = "approval_requested"


def _who(principal: Principal) -> str:
    """The decider as the author reads it: their e-mail when they are a member, else the key."""
    if principal.user_id:
        try:
            return get_member(principal.workspace_id, principal.user_id).email or principal.actor
        except NotFound:
            return principal.actor
    return f"an API key ({principal.actor})"


def _about(post: Post) -> str:
    """What an approval notice is about: the post at its version."""
    return f"{post.id}#v{post.version}"


def _excerpt(post: Post) -> str:
    text = " ".join(post.content.text.split())
    return text if len(text) <= 60 else text[:59] + "…"


def _when(post: Post) -> str | None:
    if not post.scheduled_at:
        return None
    return (
        post.scheduled_at.astimezone(ZoneInfo(post.timezone)).strftime("%Y-%m-%d %H:%M")
        + f" ({post.timezone})"
    )


def review_notices(post: Post, author: str, at: datetime) -> list[Notification]:
    """``post`` waits for approval: one notification for each member who may approve it (editor and
    above, every account of the post theirs), its author aside."""
    when = _when(post)
    text = (
        f'{author} asks for your approval of "{_excerpt(post)}" (version {post.version}) for '
        f"{len(post.account_ids)} account(s){f', at {when}' if when else ''}.\n"
        "Read what changed since it was last approved, then approve or reject it in Approvals."
    )
    return [
        notice(
            workspace_id=post.workspace_id,
            recipient=f"user:{m.user_id}",
            topic=REVIEW,
            about=_about(post),
            at=at,
            subject=f"Waiting for your approval: {_excerpt(post)}",
            text=text,
            post_id=post.id,
        )
        for m in members_of(post.workspace_id)
        if can_approve(m.role)
        and f"user:{m.user_id}" != post.created_by
        and (m.accounts is None or set(post.account_ids) <= set(m.accounts))
    ]


def _ask_review(principal: Principal, post: Post) -> None:
    if post.status == TargetState.PENDING_APPROVAL.value:
        tell(review_notices(post, _who(principal), datetime.now(UTC)))


def propose(principal: Principal, compose: Compose, queue: PublishQueue) -> list[Post]:
    """``POST /posts``: the post(s) created; one that waits for approval is announced to its approvers
    (a recurring series once, by its first post)."""
    created = create_post(principal, compose, queue)
    if created:
        _ask_review(principal, created[0])
    return created


def revise(
    principal: Principal, post_id: str, compose: Compose, version: int | None, queue: PublishQueue
) -> Post:
    """``PUT /posts/{id}``: the edit; a post it sends back for approval is announced to its approvers."""
    edited = edit_post(principal, post_id, compose, version, queue)
    _ask_review(principal, edited)
    return edited


def decision_notice(post: Post, approve: bool, by: str, comment: str | None, at: datetime) -> Notification:
    """The author's notification of the decision on ``post`` (at the version decided)."""
    topic = APPROVED if approve else REJECTED
    excerpt = _excerpt(post)
    lines = [
        f'Your post "{excerpt}" (version {post.version}) was {"approved" if approve else "rejected"} by {by}.'
    ]
    when = _when(post)
    if approve:
        lines.append(f"It goes out at {when}." if when else "It goes out now.")
    if comment and comment.strip():
        lines.append(f"Comment: {comment.strip()}")
    if not approve:
        lines.append("Edit it and it comes back for approval.")
    return notice(
        workspace_id=post.workspace_id,
        recipient=post.created_by,
        topic=topic,
        about=_about(post),
        at=at,
        subject=f"Post {'approved' if approve else 'rejected'}: {excerpt}",
        text="\n".join(lines),
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
        tell([decision_notice(decided, approve, _who(principal), comment, datetime.now(UTC))])
    return decided
