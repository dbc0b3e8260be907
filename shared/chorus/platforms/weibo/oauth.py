"""Weibo (open API v2): connecting an account, its token, and whose token it is.

- ``authorize_url``: ``https://api.weibo.com/oauth2/authorize`` (``client_id`` = the app's App Key,
  ``redirect_uri`` = the app's 授权回调页, ``response_type=code``, ``state``). Ordinary endpoints need no
  advanced scope, so none is asked.
- ``exchange_code``: ``POST oauth2/access_token`` (form: client_id, client_secret, grant_type=
  authorization_code, code, redirect_uri; ``oauth2_access_token_request_docs.txt``). The answer is
  ``{access_token, expires_in, remind_in, uid}`` with ``expires_in`` a string in the docs and a number
  in the 2013 English page; the ``uid`` Weibo answers with the token is the account connected (Weibo's
  own answer to the code, never one the caller typed).
- No refresh token: Weibo issues none to web apps (the answer has none). The token lives
  ``expires_in`` seconds; Chorus stores its end, warns the owner a week before it
  (:mod:`chorus.accounts.expiry`), and an expired one (21327 ``expired_token``, 21315) marks the account
  for re-authorisation (:mod:`chorus.platforms.weibo.api`).
- ``whoami``: ``POST oauth2/get_token_info`` names the ``uid`` (and the ``appkey``) of a token someone
  hands Chorus directly, then ``GET 2/users/show.json?uid=`` its screen name.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import requests

from chorus.platforms.base import AuthError, PermanentError
from chorus.platforms.facebook import oauth as facebook
from chorus.platforms.http import call, json_body
from chorus.platforms.oauth2 import TokenSet, must_authorise, token_set
from chorus.platforms.weibo.api import API_URL, PLATFORM, WeiboApi, classify, id_of
from chorus.platforms.whoami import Owner, named, obj, text

__all__ = ["Granted", "authorize_url", "exchange_code", "whoami"]

AUTHORIZE_PATH = "/oauth2/authorize"
CONSENT = replace(facebook.CONSENT, url=API_URL + AUTHORIZE_PATH, scopes=())
"""Meta's dialog query with no scope asked (``scope`` empty)."""


class Granted:
    """What a code is traded for: the token set and the uid it belongs to."""

    def __init__(self, uid: str, tokens: TokenSet) -> None:
        self.uid = uid
        self.tokens = tokens


def authorize_url(client_id: str, redirect_uri: str, state: str, *, api_url: str = API_URL) -> str:
    return CONSENT.authorize_url(
        client_id, redirect_uri, state, dialog_url=f"{api_url.rstrip('/')}{AUTHORIZE_PATH}"
    )


def _oauth(session: requests.Session | None, api_url: str, path: str, data: dict[str, str]) -> dict[str, Any]:
    try:
        resp = call(session or requests.Session(), "POST", f"{api_url.rstrip('/')}/oauth2/{path}", PLATFORM,
                    data=data, idempotent=True)  # fmt: skip
        body = json_body(resp, PLATFORM)
    except PermanentError as exc:
        found = classify(exc)
        if isinstance(found, PermanentError) and not isinstance(found, AuthError) and exc.status == 401:
            found = must_authorise(exc, PLATFORM)
        raise found from None
    return obj(body)


def exchange_code(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    *,
    session: requests.Session | None = None,
    api_url: str = API_URL,
    now: datetime | None = None,
) -> Granted:
    body = _oauth(session, api_url, "access_token", {
        "client_id": client_id, "client_secret": client_secret, "grant_type": "authorization_code",
        "code": code, "redirect_uri": redirect_uri,
    })  # fmt: skip
    if not text(body.get("access_token")):
        raise PermanentError("Weibo answered no access_token", platform=PLATFORM)
    return Granted(named(body.get("uid"), PLATFORM, "uid"), token_set(body, now=now))


def whoami(access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL) -> Owner:
    """The uid Weibo says the token was issued for, with its screen name."""
    info = _oauth(session, api_url, "get_token_info", {"access_token": access_token})
    uid = named(info.get("uid"), PLATFORM, "uid")
    user = obj(WeiboApi(session, api_url).get(access_token, "users/show", uid=uid))
    if id_of(user) not in (None, uid):
        raise PermanentError("users/show answered another account", platform=PLATFORM)
    return Owner(uid, handle=text(user.get("domain")) or text(user.get("screen_name")),
                 display_name=text(user.get("screen_name")) or text(user.get("name")))  # fmt: skip
