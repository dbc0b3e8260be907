"""Private replies through Meta's messaging APIs (fixtures/platform_api/replies/{facebook,instagram}).

* Messenger: ``POST /{page-id}/messages`` (the Send API) with ``recipient.id`` = the person's
  page-scoped id, ``messaging_type: RESPONSE`` and ``message.text``; outside the 24-hour window, and
  only when the deployment is approved for it, ``messaging_type: MESSAGE_TAG`` with
  ``tag: HUMAN_AGENT``. Success: ``{recipient_id, message_id}``.
* Instagram direct messages (an Instagram account linked to a Page, Facebook login): the same
  endpoint of the linked Page with the person's Instagram-scoped id; Meta's own examples send no
  ``messaging_type`` (``recipient`` + ``message``, ``tag`` when tagged).
* Private replies to a comment's author (Facebook and Instagram): ``recipient.comment_id`` and
  ``message``, one per comment, within 7 days of it.

The page token travels as the documented ``access_token`` query parameter; the body is JSON. The
window rules are applied before the call (:mod:`chorus.inbox.channels`); a refusal the platform still
makes (code 10, subcodes 2018278/2534022: outside the allowed window; 551: the person is not
available) is a :class:`PermanentError` saying so. The Send API documents no way to read a sent message
back, so these senders are not ``verifiable``: a lost answer is never sent again.
"""

from __future__ import annotations

from typing import Any

from chorus.platforms.base import ROOT, AccountCredentials, AuthError, PermanentError, PublishResult
from chorus.platforms.http import call, json_body
from chorus.platforms.replies import MessagingSender, ReplyRequest

WINDOW_CODE = "10"
"""Meta's code of a message sent outside the allowed window (subcodes 2018278, 2534022, 2018065)."""


def graph_url() -> str:
    from chorus.accounts.apps import get_apps

    return get_apps().facebook_graph_url.rstrip("/")


def refusal(error: PermanentError, label: str) -> PermanentError:
    """The platform's refusal with what it means for the agent (the platform's words kept)."""
    if isinstance(error, AuthError):
        return error
    if error.code == WINDOW_CODE:
        reason = f"{label} refused the reply: outside the allowed messaging window ({error.message})"
    else:
        reason = f"{label} refused the reply: {error.message}"
    return PermanentError(reason, platform=error.platform, code=error.code, status=error.status)


class _MetaDirect(MessagingSender):
    platform = ""

    def page(self, creds: AccountCredentials) -> str:
        return creds.account_id

    def body(self, request: ReplyRequest) -> dict[str, Any]:
        raise NotImplementedError

    def addressee(self, request: ReplyRequest) -> str | None:
        """Who the message goes to: the person (a private reply: the comment)."""
        return request.recipient

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        if not self.addressee(request):
            raise PermanentError(f"{self.label}: the conversation names no recipient", platform=self.platform)
        url = f"{(self.base_url or graph_url()).rstrip('/')}/{self.page(creds)}/messages"

        def create() -> str:
            resp = call(self.session, "POST", url, self.platform, json=self.body(request),
                        params={"access_token": creds.access_token})  # fmt: skip
            return str(json_body(resp, self.platform)["message_id"])

        try:
            message_id = request.progress.step(ROOT, create)
        except PermanentError as error:
            raise refusal(error, self.label) from None
        return PublishResult(platform_post_id=message_id)


class MessengerSender(_MetaDirect):
    platform = "facebook"
    label = "Messenger"

    def body(self, request: ReplyRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"recipient": {"id": request.recipient}}
        if request.tag:
            body.update(messaging_type="MESSAGE_TAG", tag=request.tag)
        else:
            body["messaging_type"] = "RESPONSE"
        body["message"] = {"text": request.text}
        return body


class InstagramDirectSender(_MetaDirect):
    platform = "instagram"
    label = "Instagram messaging"

    def page(self, creds: AccountCredentials) -> str:
        return creds.extra.get("page_id") or creds.account_id  # the Page the account is linked to

    def body(self, request: ReplyRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"recipient": {"id": request.recipient}, "message": {"text": request.text}}
        if request.tag:
            body["tag"] = request.tag
        return body


class _PrivateReply:
    """A private reply to the author of a comment: ``recipient.comment_id`` and the text, one per comment,
    within 7 days of it (the rules are applied before the call, :func:`chorus.inbox.channels.plan_private`)."""

    def addressee(self, request: ReplyRequest) -> str | None:
        return request.reply_to

    def body(self, request: ReplyRequest) -> dict[str, Any]:
        return {"recipient": {"comment_id": request.reply_to}, "message": {"text": request.text}}


class FacebookPrivateReplies(_PrivateReply, MessengerSender):
    """``POST /{page-id}/messages`` with ``recipient.comment_id`` (Messenger's private replies)."""

    label = "Facebook private replies"


class InstagramPrivateReplies(_PrivateReply, InstagramDirectSender):
    """``POST /{ig-user-id}/messages`` with ``recipient.comment_id`` (Instagram's private replies: the
    account's own id, not the Page's)."""

    label = "Instagram private replies"

    def page(self, creds: AccountCredentials) -> str:
        return creds.account_id
