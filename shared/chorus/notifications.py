"""Telling people: domain events that need a human become readable alerts on the workspace's topic, and
each person's own notifications list in the web app.

Every notification in a list is made by :func:`notice` and listed by :func:`tell`, whoever produces it
(the approval workflow: chorus.posts.approvals; reminder publishing: chorus.posts.reminders; inbox SLA
breaches: chorus.inbox.sla), with one id rule (:func:`notice_id`)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from chorus.auth.keys import Principal
from chorus.errors import ValidationFailed
from chorus.events.envelope import DomainEvent
from chorus.inbox.live import ConnectionSender, default_sender, push_to
from chorus.store import notifications as store
from chorus.store.notifications import Notification
from chorus.store.pages import Page, PageRequest

log = logging.getLogger(__name__)


class Notifier(Protocol):
    def send(self, subject: str, text: str, attributes: dict[str, str]) -> str: ...


def render(event: DomainEvent) -> tuple[str, str]:
    data = event.data
    if event.name == "PublishFailed":
        subject = f"Chorus: a post failed to publish on {data.get('platform')}"
        text = (
            f"Post {data.get('post_id')} could not be published to account {data.get('account_id')} "
            f"({data.get('platform')}) after {data.get('attempts')} attempt(s).\n"
            f"Reason from the platform: {data.get('error')}\n"
            "Open the post in Chorus to edit and reschedule it."
        )
    elif event.name == "PublishPartiallyFailed":
        subject = f"Chorus: a post was only partly published on {data.get('platform')}"
        out = ", ".join(f"{part}: {pid}" for part, pid in (data.get("parts") or {}).items())
        text = (
            f"Post {data.get('post_id')} is live on account {data.get('account_id')} ({data.get('platform')}) "
            f"as {data.get('platform_post_id')}, but part(s) {', '.join(data.get('missing_parts') or [])} "
            f"could not be published after {data.get('attempts')} attempt(s).\n"
            f"Reason from the platform: {data.get('error')}\n"
            f"Parts out (part: platform id): {out}\n"
            "Retry the post in Chorus (POST /posts/{id}/retry) to publish the missing parts only."
        )
    elif event.name == "AccountNeedsReauth":
        subject = f"Chorus: reconnect your {data.get('platform')} account"
        text = (
            f"Account {data.get('account_id')} ({data.get('platform')}) lost its authorisation: {data.get('reason')}.\n"
            "Posts for it wait as failed until you reconnect it."
        )
    elif event.name == "AccountTokenExpiring" and data.get("grant"):  # a second grant (TikTok comments)
        subject = (
            f"Chorus: enable comments again for your {data.get('platform')} account "
            f"within {data.get('days_left')} days"
        )
        text = (
            f"The comments authorisation ({data.get('grant')}) of {data.get('display_name')} "
            f"({data.get('platform')}, account {data.get('account_id')}) ends on {data.get('expires_at')} "
            "and cannot be renewed automatically.\n"
            "Enable comments again in Chorus before then (Accounts -> Enable comments); until you do, its "
            "comments stop being read and answered once it has ended. Publishing is not affected."
        )
    elif event.name == "AccountTokenExpiring":
        subject = f"Chorus: reconnect your {data.get('platform')} account within {data.get('days_left')} days"
        text = (
            f"The authorisation of {data.get('display_name')} ({data.get('platform')}, account "
            f"{data.get('account_id')}) ends on {data.get('expires_at')} and cannot be renewed automatically.\n"
            "Connect the account again in Chorus before then (Accounts -> connect "
            f"{data.get('platform')}); until you do, its scheduled posts will fail once it has expired."
        )
    elif event.name == "InboxSlaBreached":
        target = "first response" if data.get("target") == "first_response" else "resolution"
        who = (
            f"assignee {data.get('assignee')}"
            if data.get("notify") == "assignee"
            else "the workspace's admins"
            + (" (still unanswered)" if data.get("level") == 2 else " (nobody is assigned)")
        )
        subject = f"Chorus: a {data.get('platform')} conversation is past its {target} target"
        text = (
            f"For {who}: conversation {data.get('conversation_id')} on account {data.get('account_id')} "
            f"({data.get('platform')}) was due a {target} by {data.get('due_at')}.\n"
            f"Latest message: {data.get('preview')}\n"
            "Open it in the Chorus inbox (filter: SLA breached) to answer or close it."
        )
    elif event.name == "ManualPublishOverdue":
        subject = f"Chorus: overdue - a post for {data.get('platform')} was not marked posted"
        text = (
            f"Post {data.get('post_id')} was due on {data.get('platform')} (account {data.get('account_id')}) "
            f"at {data.get('due_at')} and {data.get('assignee')} has not marked it posted by "
            f"{data.get('overdue_at')}.\nPost it by hand, then mark it posted with its URL in Chorus "
            "(POST /posts/{id}/targets/{account_id}/posted), or cancel it."
        )
    elif event.name == "CrisisRaised":
        subject = f"Chorus CRISIS ({data.get('severity')}): negative mentions are spiking"
        samples = "\n".join(f"  - {s}" for s in data.get("samples", []))
        text = (
            f"{data.get('negatives')} negative mentions in 5 minutes (normal: {data.get('baseline')}) "
            f"for {'the workspace' if data.get('monitor') == 'all' else 'monitor ' + str(data.get('monitor'))}.\n"
            + (
                "Scheduled publishing is PAUSED until someone resumes it.\n"
                if data.get("publishing_paused")
                else ""
            )
            + f"Incident {data.get('incident_id')}: acknowledge it in Chorus.\nSamples:\n{samples}"
        )
    elif event.name == "CrisisEscalated":
        subject = f"Chorus CRISIS not acknowledged ({data.get('severity')})"
        text = f"Incident {data.get('incident_id')} has not been acknowledged. Please look now."
    else:
        subject = f"Chorus: {event.name}"
        text = json.dumps(dict(data), indent=2, default=str)
    return subject[:100], text


def notify(event: DomainEvent, notifier: Notifier) -> str:
    subject, text = render(event)
    return notifier.send(subject, text, {"workspace_id": event.workspace_id, "event": event.name})


class SnsNotifier:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic = topic_arn

    def send(self, subject: str, text: str, attributes: dict[str, str]) -> str:
        answer = self._client.publish(
            TopicArn=self._topic,
            Subject=subject,
            Message=text,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
        return str(answer["MessageId"])


def default_notifier() -> SnsNotifier:
    from chorus.aws import client
    from chorus.config import get_settings

    return SnsNotifier(client("sns"), get_settings().alerts_topic_arn)


# ------------------------------------------------------------------ a person's notifications list
SUBJECT_MAX = 150


def notice_id(topic: str, about: str, at: datetime) -> str:
    """The one id rule of a notification: the time it is dated, UTC to the microsecond (a list sorts
    oldest first by id and reads newest first), then a digest of its topic and of what it is about. The
    same notice of the same thing has the same id (a redelivered message lists it once: :func:`tell`);
    two different notices differ in their digest even when dated the same microsecond."""
    digest = hashlib.sha256(f"{topic}|{about}".encode()).hexdigest()[:16]
    return f"{at.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}-{digest}"


def notice(
    *,
    workspace_id: str,
    recipient: str,
    topic: str,
    about: str,
    at: datetime,
    subject: str,
    text: str,
    links: Iterable[str] = (),
    post_id: str | None = None,
    account_id: str | None = None,
    platform: str | None = None,
) -> Notification:
    """A notification for ``recipient`` ("user:<id>", or an API key's actor) dated ``at``; ``about`` names
    what it is about uniquely for its topic (a post and its version, a target, a conversation's stage)."""
    return Notification(
        id=notice_id(topic, about, at),
        workspace_id=workspace_id,
        recipient=recipient,
        topic=topic,
        subject=subject[:SUBJECT_MAX],
        text=text,
        links=tuple(links),
        created_at=at,
        post_id=post_id,
        account_id=account_id,
        platform=platform,
    )


def tell(notes: Iterable[Notification]) -> int:
    """List each of ``notes`` in its recipient's notifications (once: a notice already there stays as
    it is); how many were new."""
    return sum(store.add(note) for note in notes)


def recipient_of(principal: Principal) -> str:
    """Whose list a caller reads: the signed-in person's (their keys' too), else the workspace key's."""
    return f"user:{principal.user_id}" if principal.user_id else principal.actor


def notifications_page(
    principal: Principal, page: PageRequest, unread_only: bool = False
) -> Page[Notification]:
    """``GET /notifications``: the caller's own notifications in the workspace, newest first."""
    return store.page(principal.workspace_id, recipient_of(principal), page, unread_only)


def mark_read(principal: Principal, notification_id: str, now: datetime) -> Notification:
    """``POST /notifications/{id}/read``: NotFound for an id that is not the caller's."""
    return store.mark_read(principal.workspace_id, recipient_of(principal), notification_id, now)


READ_IDS_MAX = 100  # ids one "mark read" request may name
READ_ALL_MAX = 500  # notifications one "mark all read" marks; ``more`` says there are others to mark
SHOWN_TO = timedelta(microseconds=999)  # the API's times are to the millisecond (chorus.store.keys.iso)


@dataclass(frozen=True)
class Marked:
    """What one bulk "mark read" did: how many it marked, and whether unread ones it could not reach in
    one call are left (ask again with the same ``before``)."""

    marked: int
    more: bool
    before: datetime | None = None

    def public(self) -> dict[str, Any]:
        return {"marked": self.marked, "more": self.more, "before": self.before}


def mark_read_in_bulk(
    principal: Principal,
    ids: Sequence[str] | None,
    everything: bool,
    before: datetime | None,
    now: datetime,
) -> Marked:
    """``POST /notifications/read``: either the caller's notifications ``ids`` (at most READ_IDS_MAX; an id
    that is not theirs marks nothing), or ``everything`` unread of theirs dated at or before ``before``
    (its millisecond included; default: now; a page passes the newest it shows, so what arrived since
    stays unread), READ_ALL_MAX at most per call."""
    if ids is not None and everything:
        raise ValidationFailed.on("ids", 'give either "ids" or "all": true, not both', "exclusive")
    if ids is None and not everything:
        raise ValidationFailed.on("ids", 'give the "ids" to mark read, or "all": true', "required")
    if before is not None and not everything:
        raise ValidationFailed.on("before", 'only with "all": true', "exclusive")
    if before is not None and before.tzinfo is None:
        raise ValidationFailed.on("before", "a date-time with its UTC offset (…Z or +hh:mm)", "timezone")
    if ids is not None:
        if not 1 <= len(ids) <= READ_IDS_MAX:
            raise ValidationFailed.on("ids", f"1 to {READ_IDS_MAX} ids; this is {len(ids)}", "length")
        marked = store.mark_read_each(principal.workspace_id, recipient_of(principal), ids, now)
        return Marked(marked, False)
    # the API shows times to the millisecond: "before" a time it showed takes in its whole millisecond
    until = min(before + SHOWN_TO - timedelta(microseconds=before.microsecond % 1000), now) if before else now
    marked, more = store.mark_all_read(
        principal.workspace_id, recipient_of(principal), until, now, READ_ALL_MAX
    )
    return Marked(marked, more, until)


# ------------------------------------------------------------------ live: the badge told at once
CHANGED = "notifications.changed"  # the frame a person's live connections get; their badge re-reads


def lists_changed(
    changes: Iterable[tuple[str, Mapping[str, Any], Mapping[str, Any]]],
) -> set[tuple[str, str]]:
    """(workspace, recipient) of every list the main table's stream records changed: a notification
    listed, or read (not its e-mail claimed)."""
    found: set[tuple[str, str]] = set()
    for event_name, new, old in changes:
        if new.get("kind") != "notification":
            continue
        if event_name == "INSERT" or new.get("read_at") != old.get("read_at"):
            found.add((str(new["workspace_id"]), str(new["recipient"])))
    return found


def push_changed(people: Iterable[tuple[str, str]], sender: ConnectionSender | None = None) -> int:
    """Tell each person's live connections in the workspace (theirs only) that their notifications
    changed, once a batch; how many frames were delivered. Best effort: a push that fails is logged, not
    retried (the stream batch it came with is not run again for it)."""
    people = sorted(set(people))
    if not people:
        return 0
    to = sender or default_sender()
    delivered = 0
    for workspace_id, recipient in people:
        try:
            delivered += push_to(workspace_id, recipient, CHANGED, {}, to)
        except Exception as exc:  # best effort: the badge re-reads each minute and when it reconnects
            log.warning(
                "notifications push failed", extra={"workspace_id": workspace_id, "error": type(exc).__name__}
            )
    return delivered
