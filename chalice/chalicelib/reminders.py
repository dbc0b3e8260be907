"""Routes: reminder publishing (marking a post posted by hand) and each person's notifications list.

``POST /posts/{post_id}/targets/{account_id}/posted {"url": ...}``: a post Chorus could not publish
(Xiaohongshu, Zhihu, a manual-only content kind) is out, at ``url`` (https, on the platform's domain):
the target becomes ``published`` and counts in the calendar and reports (``chorus.posts.reminders``).

``GET /notifications`` (``?unread=true``), ``POST /notifications/{notification_id}/read`` and
``POST /notifications/read`` (``{"ids": [...]}`` or ``{"all": true, "before": ...}``: many at once): the
caller's own notifications in the workspace, newest first (``chorus.notifications``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, principal, query, route
from chorus import notifications
from chorus.auth.roles import Role
from chorus.posts import reminders
from chorus.store.pages import PageRequest

bp = Blueprint(__name__)


class PostedIn(BaseModel):
    url: str = Field(min_length=1, max_length=2048)  # the post's address on the platform


@route(bp, "/posts/{post_id}/targets/{account_id}/posted", methods=["POST"])
def mark_posted(post_id: str, account_id: str) -> Response:
    who = principal(Role.CONTRIBUTOR)
    req = body(bp.current_request, PostedIn)
    post = reminders.mark_posted_by(who, post_id, account_id, req.url, datetime.now(UTC))
    return ok(post.public())


@route(bp, "/notifications", methods=["GET"])
def list_notifications() -> Response:
    params = query(bp.current_request)
    unread = params.get("unread", "").lower() in ("1", "true", "yes")
    found = notifications.notifications_page(principal(), PageRequest.from_query(params), unread)
    return ok({"notifications": [n.public() for n in found.items], "next_cursor": found.next_cursor})


class ReadIn(BaseModel):
    """Which of the caller's notifications to mark read: ``ids``, or ``all`` (unread ones dated at or
    before ``before``, now when absent)."""

    ids: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = Field(
        None, min_length=1, max_length=notifications.READ_IDS_MAX
    )
    all: bool = False
    before: datetime | None = None


@route(bp, "/notifications/read", methods=["POST"])
def read_notifications() -> Response:
    """Mark many of the caller's notifications read in one request."""
    req = body(bp.current_request, ReadIn)
    now = datetime.now(UTC)
    return ok(notifications.mark_read_in_bulk(principal(), req.ids, req.all, req.before, now).public())


@route(bp, "/notifications/{notification_id}/read", methods=["POST"])
def read_notification(notification_id: str) -> Response:
    return ok(notifications.mark_read(principal(), notification_id, datetime.now(UTC)).public())
