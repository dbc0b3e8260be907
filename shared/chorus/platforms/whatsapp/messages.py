"""Replies on WhatsApp through the Cloud API (fixtures/platform_api/replies/whatsapp).

``POST /{phone-number-id}/messages`` with a business token as ``Authorization: Bearer``:

* inside the 24-hour customer-service window, a text message
  (``messaging_product: whatsapp``, ``recipient_type: individual``, ``to``, ``type: text``,
  ``text.body``);
* outside it (and whenever the agent chose one) an approved template (``type: template``,
  ``template.name``, ``template.language.code``, ``template.components``).

Success is ``{contacts: [{input, wa_id}], messages: [{id}]}`` (a template's may add
``message_status: accepted``: accepted for processing, not delivered). The reply and its idempotency
key ride along as ``biz_opaque_callback_data`` (``chorus-reply:<reply id>:<key>``), which Meta echoes in
the message's status webhooks: a reply whose answer was lost is confirmed by its ``sent`` status
(:func:`chorus.inbox.replies.reply_confirmed`).
Error 131047 ("Re-engagement message": more than 24 hours since the customer last wrote) becomes a
refusal saying a template is needed; Meta keys errors on ``code`` (``error_subcode`` is deprecated).
The API documents no read of a sent message, so the sender is not ``verifiable``: a lost answer is
never sent again.
"""

from __future__ import annotations

from typing import Any

from chorus.inbox.normalized import reply_reference
from chorus.platforms.base import ROOT, AccountCredentials, AuthError, PermanentError, PublishResult
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.meta.messaging import graph_url
from chorus.platforms.replies import MessagingSender, ReplyRequest

PLATFORM = "whatsapp"
REENGAGEMENT = "131047"


def message_body(request: ReplyRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": request.recipient,
    }
    template = request.template
    if template:
        language = template.get("language")
        body["type"] = "template"
        body["template"] = {
            "name": template["name"],
            "language": {"code": language} if isinstance(language, str) else language,
        }
        if template.get("components"):
            body["template"]["components"] = list(template["components"])
    else:
        body["type"] = "text"
        body["text"] = {"preview_url": False, "body": request.text}
    body["biz_opaque_callback_data"] = reply_reference(request.reply_id, request.progress.idempotency_key())
    return body


class WhatsAppSender(MessagingSender):
    label = "WhatsApp"

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        if not request.recipient:
            raise PermanentError("WhatsApp: the conversation names no customer number", platform=PLATFORM)
        url = f"{(self.base_url or graph_url()).rstrip('/')}/{creds.account_id}/messages"

        def create() -> str:
            resp = call(self.session, "POST", url, PLATFORM, json=message_body(request),
                        headers=bearer(creds.access_token))  # fmt: skip
            messages = json_body(resp, PLATFORM).get("messages") or [{}]
            if not messages[0].get("id"):
                raise PermanentError("WhatsApp answered without a message id", platform=PLATFORM)
            return str(messages[0]["id"])

        try:
            message_id = request.progress.step(ROOT, create)
        except PermanentError as error:
            if isinstance(error, AuthError):
                raise
            if error.code == REENGAGEMENT:
                reason = (
                    "WhatsApp refused the reply: the 24-hour customer-service window has closed; "
                    f"send an approved template instead ({error.message})"
                )
            else:
                reason = f"WhatsApp refused the reply: {error.message}"
            raise PermanentError(reason, platform=PLATFORM, code=error.code, status=error.status) from None
        return PublishResult(platform_post_id=message_id)
