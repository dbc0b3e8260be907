"""Direct-message replies on X (fixtures/platform_api/replies/x).

``POST /2/dm_conversations/with/{participant_id}/messages`` with ``{"text": ...}`` and the account's
OAuth 2.0 user token (scope ``dm.write``); 201 ``{"data": {"dm_conversation_id", "dm_event_id"}}`` (the
docs example shows the ids without ``data``: both are read). The API takes no idempotency key and the
fixtures document no read of a sent event, so the sender is not ``verifiable``: a lost answer is never
sent again.
"""

from __future__ import annotations

from chorus.platforms.base import ROOT, AccountCredentials, PermanentError, PublishResult
from chorus.platforms.http import bearer, call, json_body
from chorus.platforms.replies import MessagingSender, ReplyRequest

PLATFORM = "x"


def api_url() -> str:
    from chorus.accounts.apps import get_apps

    return get_apps().x_api_url.rstrip("/")


class XDirectSender(MessagingSender):
    label = "X"

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        if not request.recipient:
            raise PermanentError("X: the conversation names no participant", platform=PLATFORM)
        url = (
            f"{(self.base_url or api_url()).rstrip('/')}/2/dm_conversations/with/{request.recipient}/messages"
        )

        def create() -> str:
            resp = call(self.session, "POST", url, PLATFORM, json={"text": request.text},
                        headers=bearer(creds.access_token))  # fmt: skip
            body = json_body(resp, PLATFORM)
            data = body.get("data", body) if isinstance(body, dict) else {}
            event = data.get("dm_event_id") if isinstance(data, dict) else None
            if not event:
                raise PermanentError("X answered without a dm_event_id", platform=PLATFORM)
            return str(event)

        try:
            event_id = request.progress.step(ROOT, create)
        except PermanentError as error:
            if error.status == 403:
                raise PermanentError(
                    f"X refused the direct message (the person may not accept messages from the account): "
                    f"{error.message}",
                    platform=PLATFORM, code=error.code, status=error.status,
                ) from None  # fmt: skip
            raise
        return PublishResult(platform_post_id=event_id)
