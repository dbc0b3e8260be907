"""Routes: reminder publishing (marking a post posted by hand) and each person's notifications list.

``POST /posts/{post_id}/targets/{account_id}/posted {"url": ...}``: a post Chorus could not publish
(Xiaohongshu, Zhihu, a manual-only content kind) is out, at ``url`` (https, on the platform's domain):
the target becomes ``published`` and counts in the calendar and reports (``chorus.posts.reminders``).

``GET /notifications`` (``?unread=true``) and ``POST /notifications/{notification_id}/read``: the
caller's own notifications in the workspace, newest first (``chorus.notifications``)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

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


@route(bp, "/notifications/{notification_id}/read", methods=["POST"])
def read_notification(notification_id: str) -> Response:
    return ok(notifications.mark_read(principal(), notification_id, datetime.now(UTC)).public())
