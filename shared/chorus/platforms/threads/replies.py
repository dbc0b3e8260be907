"""Replies to Threads replies and mentions, from the inbox (the ``threads`` channel), through the Threads
API's publishing: a TEXT container with ``reply_to_id`` (the post or reply answered), then
``threads_publish`` (``fixtures/platform_api/publishing/threads/api_reference.json``:
``reply_to_id``: "Required if replying to a post"; scope ``threads_manage_replies``; Threads takes at
most 500 characters).

Exactly once, as the publisher publishes a thread part: the container is invisible until published, so
making it is safe to repeat and is not recorded (a reply keeps one platform id, the published reply's);
its status is read (FINISHED: publish; IN_PROGRESS: the reply is tried again after a minute, a new
container then; ERROR / EXPIRED: the reply fails with Threads' ``error_message``). ``threads_publish``
goes through ``progress.step`` (its "sent" mark persisted before the call), and Threads takes no
idempotency key, so a publish whose answer was lost is looked for first among the answered post's replies
(``GET /{id}/replies``: by the account's username, the same text, since the reply was queued), as
:meth:`~chorus.platforms.threads.publish.ThreadsPublisher.find_published` does for a thread's parts.
"""

from __future__ import annotations

from chorus.platforms.base import (
    ROOT,
    AccountCredentials,
    PermanentError,
    PublishRequest,
    PublishResult,
    TransientError,
)
from chorus.platforms.replies import ReplyRequest
from chorus.platforms.threads.publish import PLATFORM, POLL_DELAY_SECONDS, REFUSED, ThreadsPublisher


class ThreadsReplies:
    verifiable = True

    def __init__(self, publisher: ThreadsPublisher | None = None) -> None:
        self.given = publisher

    def publisher(self) -> ThreadsPublisher:
        """The given publisher, else the registry's (its API URL from the deployment's config)."""
        if self.given is not None:
            return self.given
        from chorus.platforms import registry

        found = registry.publisher(PLATFORM)
        assert isinstance(found, ThreadsPublisher)
        return found

    @staticmethod
    def _answered(request: ReplyRequest) -> str:
        if not request.reply_to:
            raise PermanentError("Threads: the reply names no post or reply to answer", platform=PLATFORM)
        return request.reply_to

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        answered = self._answered(request)
        graph = self.publisher().graph
        progress = request.progress
        container = ""
        if progress.done(ROOT) is None and ROOT not in progress.sent:  # else the step answers (or verifies)
            made = graph.post(creds, f"{creds.account_id}/threads", idempotent=True, media_type="TEXT",
                              text=request.text, reply_to_id=answered)  # fmt: skip
            container = str(made["id"])
            status = graph.get(creds, container, fields="status,error_message")
            state, error = str(status.get("status")), status.get("error_message")
            if state in REFUSED:
                raise PermanentError(
                    f"Threads container {state}: {error or state}", platform=PLATFORM, code=state
                )
            if state != "FINISHED":
                raise TransientError(f"Threads: the reply's container is {state}; tried again shortly",
                                     platform=PLATFORM, retry_after=POLL_DELAY_SECONDS)  # fmt: skip

        def publish() -> str:
            return str(graph.post(creds, f"{creds.account_id}/threads_publish", creation_id=container)["id"])

        return PublishResult(platform_post_id=progress.step(ROOT, publish))

    def find_sent(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult | None:
        looked_up = PublishRequest(target_id=request.reply_id, text=request.text, reply_to=self._answered(request),
                                   not_before=request.not_before, progress=request.progress)  # fmt: skip
        return self.publisher().find_published(creds, looked_up)
