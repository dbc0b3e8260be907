"""Reminder publishing: where apps cannot publish (Xiaohongshu, Zhihu, or a content kind an adapter
declares manual-only), a person posts by hand and Chorus keeps the schedule, the text and the record.

* At the due second the publisher moves the target ``scheduled|queued -> awaiting_manual`` (a
  conditional write holding the message's queue token and due time: of two deliveries, one moves it) with ``overdue_at`` = due + the
  workspace's window (``manual_overdue_hours``, 24 by default), then :func:`remind` tells the assignee
  (the post's ``assignee``, else its author) once: a notification in their list, created by a
  conditional put on an id derived from the target and its due time (a redelivered message finds it
  there), and its e-mail claimed on that notification before it is sent (a redelivery finds it claimed;
  an e-mail SES refused is released for the next delivery). A crash between the claim and SES's answer
  loses that e-mail rather than sending it twice; the notification is listed either way.
* :func:`mark_posted`: someone posted it and gives its URL (https, on the platform's domain): the target
  becomes ``published`` with that URL and the time, and the table's stream makes it count in reports
  like any other published post (:mod:`chorus.posts.published`; no metrics are collected: the platform
  has no API for them).
* :func:`sweep_overdue` (the scheduler, every minute): an ``awaiting_manual`` target whose
  ``overdue_at`` passed becomes ``overdue``: one notification for the assignee (the same conditional
  put) and one ``ManualPublishOverdue`` event (the alerts topic) from the run whose conditional
  transition won. It can still be marked posted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chorus.auth.keys import Principal
from chorus.auth.roles import Role, at_least
from chorus.errors import Conflict, FieldError, Forbidden, ValidationFailed
from chorus.events.envelope import DomainEvent, EventPublisher
from chorus.mail import Email, Mailer
from chorus.notifications import notice, tell
from chorus.platforms.registry import PLATFORMS, platform_url_problem, post_id_in_url, publishes_by_hand
from chorus.posts import text as textlib
from chorus.posts.model import MARKABLE, Attempt, Content, Post, Target, TargetState
from chorus.posts.validation import MIME_KINDS
from chorus.store import keys
from chorus.store import notifications as inbox
from chorus.store import posts as repo
from chorus.store.notifications import Notification

log = logging.getLogger(__name__)

DUE = "manual_publish_due"
OVERDUE = "manual_publish_overdue"


@dataclass
class ReminderDeps:
    """What telling a person needs: e-mail (None: notifications only), a lasting link to each upload,
    the assignee's e-mail address, the web app's address (for the link to the post)."""

    mailer: Mailer | None
    media_link: Callable[[str], str]  # media bucket key -> a link a person can open for days
    email_of: Callable[[str, str], str | None]  # (workspace, "user:<id>") -> address or None
    app_url: str = ""


def kind_of(content: Content) -> str:
    """The content kind a manual-only declaration names: video, gif, image or text."""
    kinds = {str(MIME_KINDS.get(m.mime_type.lower(), "")) for m in content.media}
    return next((k for k in ("video", "gif", "image") if k in kinds), "text")


def by_hand(post: Post, target: Target) -> bool:
    """Whether ``target`` is published by reminder rather than by the platform's API."""
    return publishes_by_hand(target.platform, kind_of(post.content_for(target.account_id)))


def media_links(content: Content, media_link: Callable[[str], str]) -> list[str]:
    return [m.url or media_link(m.key or "") for m in content.media]


def _local(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime(f"%Y-%m-%d %H:%M:%S ({timezone})")


def reminder(
    post: Post, target: Target, account_name: str, timezone: str, deps: ReminderDeps
) -> Notification:
    """The reminder of ``target``: the ready-to-paste title, text and media links, and how to mark it."""
    content = post.content_for(target.account_id)
    label = PLATFORMS[target.platform].label if target.platform in PLATFORMS else target.platform
    due = target.due_at or post.scheduled_at or post.created_at
    links = media_links(content, deps.media_link)
    body = textlib.compose_text(content.text, content.link)
    lines = [
        f"It is time to post this on {label} as {account_name}: Chorus cannot post there, please post it by hand.",
        f"Due: {_local(due, timezone)}",
        "",
    ]
    if content.title:
        lines += ["Title (paste as is):", content.title, ""]
    lines += ["Text (paste as is):", body, ""]
    if links:
        lines += [
            "Media (download and attach, in this order):",
            *[f"{i}. {u}" for i, u in enumerate(links, 1)],
            "",
        ]
    lines += [
        "Once it is out, mark it posted with its URL: in Chorus (the post, then 'Mark posted'), or",
        f'POST /posts/{post.id}/targets/{target.account_id}/posted with {{"url": "https://..."}}.',
    ]
    if deps.app_url:
        lines.append(f"{deps.app_url.rstrip('/')}/posts/{post.id}")
    if target.overdue_at:
        lines.append(f"Not marked by {_local(target.overdue_at, timezone)}, it becomes overdue.")
    return notice(  # dated its due time: the same reminder of the same target has the same id
        workspace_id=target.workspace_id,
        recipient=post.responsible,
        topic=DUE,
        about=target.id,
        at=due,
        subject=f"Chorus: post it now on {label} ({account_name})",
        text="\n".join(lines),
        links=([content.link] if content.link else []) + links,
        post_id=post.id,
        account_id=target.account_id,
        platform=target.platform,
    )


def remind(note: Notification, deps: ReminderDeps, now: datetime) -> bool:
    """Tell ``note``'s recipient once: listed (a conditional put) and e-mailed (claimed first). True
    when this call sent the e-mail."""
    tell([note])
    address = deps.email_of(note.workspace_id, note.recipient) if deps.mailer else None
    if deps.mailer is None or not address:
        return False
    if not inbox.claim_email(note, now):
        return False  # a delivery before this one sent it
    try:
        deps.mailer.send(Email((address,), note.subject, note.text, _html(note)))
    except Exception:
        inbox.release_email(note)
        raise
    return True


def _html(note: Notification) -> str:
    import html

    return f'<pre style="font-family:inherit;white-space:pre-wrap">{html.escape(note.text)}</pre>'


def mark_posted(post: Post, account_id: str, url: str, now: datetime, actor: str) -> Target:
    """``awaiting_manual``/``overdue``/``sent_to_inbox`` -> ``published`` with the post's URL (its platform
    post id the id in the URL where the platform's adapter reads one, else the URL: the table's stream
    links and follows it, :mod:`chorus.posts.published`)."""
    target = next((t for t in post.targets if t.account_id == account_id), None)
    if target is None:
        raise ValidationFailed.on("account_id", f"not an account of post {post.id}", "unknown_account")
    problem = platform_url_problem(target.platform, url)
    if problem:
        raise ValidationFailed("url: " + problem, [FieldError("url", problem, "url")])
    if target.state not in MARKABLE:
        raise Conflict(
            f"{account_id} is {target.state.value}: only a post awaiting a person (awaiting_manual, "
            "overdue or sent_to_inbox) can be marked posted"
        )
    platform_post_id = post_id_in_url(target.platform, url)
    if not repo.transition(
        target, TargetState.PUBLISHED, expect=list(MARKABLE), new_token=None, url=url.strip(),
        platform_post_id=platform_post_id, published_at=now, error=None, error_code=None,
        attempt=Attempt(now, "published", f"marked posted by {actor}"),
    ):  # fmt: skip
        raise Conflict(f"{account_id} changed meanwhile; reload the post")
    return target


# ---------------------------------------------------------------------------------------- overdue
def overdue_notice(post: Post, target: Target) -> Notification:
    at = target.overdue_at or target.due_at or post.created_at
    label = PLATFORMS[target.platform].label if target.platform in PLATFORMS else target.platform
    text = (
        f"Post {post.id} was due on {label} (account {target.account_id}) at "
        f"{keys.iso(target.due_at or at)} and nobody has marked it posted. Post it by hand, then mark it "
        f"posted with its URL (POST /posts/{post.id}/targets/{target.account_id}/posted), or cancel it."
    )
    return notice(
        workspace_id=target.workspace_id,
        recipient=post.responsible,
        topic=OVERDUE,
        about=target.id,
        at=at,
        subject=f"Chorus: overdue - a post for {label} was not marked posted",
        text=text,
        post_id=post.id,
        account_id=target.account_id,
        platform=target.platform,
    )


def make_overdue(target: Target, now: datetime) -> DomainEvent | None:
    """``awaiting_manual -> overdue`` for a target past its ``overdue_at``: its notification listed (once),
    and the ``ManualPublishOverdue`` event to publish when this call moved it (None otherwise)."""
    if target.overdue_at is None or target.overdue_at > now:
        return None
    post = repo.get_post(target.workspace_id, target.post_id, with_targets=False)
    note = overdue_notice(post, target)
    tell([note])  # before the move: a crash between the two lists it, and the next run moves it
    if not repo.transition(
        target, TargetState.OVERDUE, expect=[TargetState.AWAITING_MANUAL],
        attempt=Attempt(now, "overdue", f"not marked posted by {keys.iso(target.overdue_at)}"),
    ):  # fmt: skip
        return None
    return DomainEvent(
        "ManualPublishOverdue",
        target.workspace_id,
        {
            "post_id": target.post_id,
            "account_id": target.account_id,
            "platform": target.platform,
            "assignee": post.responsible,
            "due_at": keys.iso(target.due_at) if target.due_at else None,
            "overdue_at": keys.iso(target.overdue_at),
        },
        correlation_id=target.id,
    )


def sweep_overdue(targets: Sequence[Target], now: datetime, events: EventPublisher | None) -> int:
    """Make every target of ``targets`` (read from the MANUAL buckets) that is past due overdue; how many."""
    found = [e for t in targets if (e := make_overdue(t, now)) is not None]
    if found and events is not None:
        events.publish(found)
    if found:
        log.warning("reminder-published posts overdue", extra={"count": len(found)})
    return len(found)


def overdue_deadline(due: datetime, hours: int) -> datetime:
    return due + timedelta(hours=hours)


def mark_posted_by(principal: Principal, post_id: str, account_id: str, url: str, now: datetime) -> Post:
    """``POST /posts/{id}/targets/{account_id}/posted``: the caller (who may act on every account of the
    post) says it is out at ``url``; the post as it is now."""
    from chorus.posts.service import post_to_change

    if not at_least(principal.role, Role.CONTRIBUTOR):
        raise Forbidden("viewers cannot mark posts posted")
    post = post_to_change(principal, post_id)
    mark_posted(post, account_id, url, now, principal.actor)
    return repo.get_post(principal.workspace_id, post_id, consistent=True)
