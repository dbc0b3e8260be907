"""Production wiring of the publishing ports (SQS, EventBridge, S3), built once per process."""

from __future__ import annotations

from chorus.config import cached, get_settings
from chorus.library.objects import presign_get
from chorus.posts.publisher import PublisherDeps
from chorus.posts.queue import default_queue
from chorus.posts.reminders import ReminderDeps


def _media_url(key: str) -> str:
    """The publisher's link to an upload (an hour: platforms fetch it at once)."""
    return presign_get(key, 3600)


def _media_link(key: str) -> str:
    """A reminder's link to an upload: a person may open the e-mail days later (SigV4's longest: 7 days)."""
    return presign_get(key, 7 * 24 * 3600)


def _email_of(workspace_id: str, recipient: str) -> str | None:
    """The e-mail address of a member (``user:<id>``); None for anyone else or a member without one."""
    from chorus.auth.members import get_member
    from chorus.errors import NotFound

    if not recipient.startswith("user:"):
        return None
    try:
        return get_member(workspace_id, recipient.removeprefix("user:")).email
    except NotFound:
        return None


def _reminder_deps() -> ReminderDeps:
    from chorus.mail import SesMailer

    settings = get_settings()
    mailer = SesMailer(settings.mail_from) if settings.mail_from else None
    return ReminderDeps(mailer, _media_link, _email_of, settings.app_url)


@cached
def publisher_deps() -> PublisherDeps:
    from chorus.events.bus import default_publisher

    settings = get_settings()
    return PublisherDeps(
        queue=default_queue(),
        events=default_publisher(),
        media_url=_media_url,
        max_attempts=settings.publish_max_attempts,
        max_receives=settings.publish_max_receives,
        reminders=_reminder_deps(),
    )
