"""Replies on WeChat Official Accounts: customer-service messages (fixtures/platform_api/replies/wechat).

``POST /cgi-bin/message/custom/send?access_token=T`` with ``{"touser": <openid>, "msgtype": "text",
"text": {"content": ...}}``, allowed within 48 hours of the person's last message (the window is applied
before the call, :mod:`chorus.inbox.channels`), at most 5 messages per message of theirs. WeChat answers
HTTP 200 whatever happened: ``errcode`` 0 is success (``errmsg`` may be "ok" or ""), 45015 is "out of
time limit or unsubscribed", 45047 "out of response count limit", 40001/42001 a token WeChat no longer
takes. Match on ``errcode`` only: ``errmsg`` carries a per-request `` rid: ...`` suffix.

**The access token** is the AppID's one shared token (:mod:`chorus.platforms.wechat.token`: fetched
once per lifetime by one worker, kept encrypted in the main table for every other); a stale one
(40001/40014/42001) is fetched again and the reply repeated once. Without app credentials the
account's own stored token is used as it is. Other ``errcode`` answers are read by the one table of
:mod:`chorus.platforms.wechat.errors`.

WeChat returns no id for a customer-service message and documents no read of one: the sender is not
``verifiable`` (a lost answer is never sent again) and the reply's id is its idempotency key.
"""

from __future__ import annotations

from functools import partial

import requests

from chorus.platforms.base import ROOT, AccountCredentials, PermanentError, PublishResult
from chorus.platforms.http import call, json_body
from chorus.platforms.replies import MessagingSender, ReplyRequest
from chorus.platforms.wechat.errors import errcode, raise_for_errcode
from chorus.platforms.wechat.token import AccessTokens, SharedTokenUser, api_url, with_token

PLATFORM = "wechat"
OUT_OF_WINDOW = 45015
OUT_OF_QUOTA = 45047


class WeChatSender(MessagingSender, SharedTokenUser):
    label = "WeChat"

    def __init__(
        self,
        session: requests.Session | None = None,
        base_url: str | None = None,
        tokens: AccessTokens | None = None,
    ) -> None:
        super().__init__(session, base_url)
        self._tokens = tokens

    def send(self, creds: AccountCredentials, request: ReplyRequest) -> PublishResult:
        if not request.recipient:
            raise PermanentError("WeChat: the conversation names no OpenID", platform=PLATFORM)
        base = (self.base_url or api_url()).rstrip("/")
        body = {"touser": request.recipient, "msgtype": "text", "text": {"content": request.text}}

        def create(token: str) -> str:
            resp = call(self.session, "POST", f"{base}/cgi-bin/message/custom/send", PLATFORM,
                        params={"access_token": token}, json=body)  # fmt: skip
            answer = json_body(resp, PLATFORM)
            code = errcode(answer)
            message = str(answer.get("errmsg") or "") if isinstance(answer, dict) else ""
            if code == OUT_OF_WINDOW:
                raise PermanentError(
                    "WeChat refused the reply: more than 48 hours since the person's last message, or they "
                    f"unfollowed the account (errcode 45015: {message})", platform=PLATFORM, code=str(code)
                )  # fmt: skip
            if code == OUT_OF_QUOTA:
                raise PermanentError(
                    "WeChat refused the reply: the customer-service messages allowed for the person's last "
                    f"message are used up (errcode 45047: {message}); they can be answered when they write again",
                    platform=PLATFORM, code=str(code),
                )  # fmt: skip
            raise_for_errcode(answer, "the reply")
            return f"wechat:{request.progress.idempotency_key()}"  # WeChat gives no message id

        sent = with_token(
            self.tokens, base, creds, lambda token: request.progress.step(ROOT, partial(create, token))
        )
        return PublishResult(platform_post_id=sent)
