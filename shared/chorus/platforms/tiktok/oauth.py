"""TikTok (Login Kit for Web): connecting a creator, its tokens, whose token it is, what it may post.

- ``authorize_url``: ``https://www.tiktok.com/v2/auth/authorize/`` with ``client_key``, comma-separated
  ``scope``, ``response_type=code``, ``redirect_uri`` and ``state``.
- ``exchange_code``: ``POST https://open.tiktokapis.com/v2/oauth/token/`` (form, ``Content-Type:
  application/x-www-form-urlencoded``: ``client_key``, ``client_secret``, ``code``,
  ``grant_type=authorization_code``, ``redirect_uri``; ``fixtures/platform_api/publishing/tiktok/
  oauth_token_response.json``): an access token for 24 hours (``expires_in`` 86400), a refresh token for
  365 days and the creator's ``open_id``.
- ``refresh``: ``grant_type=refresh_token`` on the same endpoint; the answer's refresh token **may be a
  new one** and replaces the stored one. OAuth errors come as ``{error, error_description, log_id}``
  (not the v2 envelope); a refused refresh token means the creator must authorise again (``AuthError``).
- ``revoke``: ``POST https://open.tiktokapis.com/v2/oauth/revoke/`` (form: ``client_key``,
  ``client_secret``, ``token`` = the access token), answered with an empty body (or ``{}``) on success:
  the app is disconnected from the creator's account (it leaves the creator's connected apps). Chorus
  calls it when the account is removed (``chorus.accounts.revocation``). From TikTok's "Revoke a User
  Access Token" page (developers.tiktok.com, read through the search tools; not in the stored fixtures);
  the shape of its error answer is not quoted there, so both OAuth's ``{error, error_description}`` and
  the v2 ``{error: {code, message}}`` are read as a refusal.
- ``whoami``: ``GET /v2/user/info/?fields=open_id,display_name`` (the creator the token acts for).
- ``creator_info``: ``POST /v2/post/publish/creator_info/query/`` — the privacy levels the creator may
  post with, whether comments / duets / stitches are off, the longest video (seconds); kept on the
  account at connect and read again before each post.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import requests

from chorus.platforms.base import PermanentError
from chorus.platforms.http import call, json_body
from chorus.platforms.oauth2 import Consent, TokenSet, refreshed, token_answer, token_set
from chorus.platforms.tiktok.api import API_URL, PLATFORM, v2
from chorus.platforms.whoami import Owner, get_json, named, obj, text

__all__ = [
    "CreatorInfo",
    "TokenSet",
    "authorize_url",
    "creator_info",
    "exchange_code",
    "refresh",
    "revoke",
    "whoami",
]

AUTHORIZE_URL = "https://www.tiktok.com/v2/auth/authorize/"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DEFAULT_SCOPES = ("user.info.basic", "user.info.stats", "video.publish", "video.upload", "video.list")


@dataclass(frozen=True)
class CreatorInfo:
    privacy_level_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int | None
    username: str | None = None

    def extra(self) -> dict[str, str]:
        """What the account keeps of it (for the composer and the checks before a post)."""
        return {
            "privacy_level_options": ",".join(self.privacy_level_options),
            "creator_info": json.dumps({"comment_disabled": self.comment_disabled, "duet_disabled": self.duet_disabled,
                                        "stitch_disabled": self.stitch_disabled,
                                        "max_video_post_duration_sec": self.max_video_post_duration_sec}),
        }  # fmt: skip


CONSENT = Consent(AUTHORIZE_URL, DEFAULT_SCOPES, client="client_key", separator=",",
                  order=("client_key", "scope", "response_type", "redirect_uri", "state"))  # fmt: skip
authorize_url = CONSENT.authorize_url


def _token_url(api_url: str) -> str:
    return f"{api_url.rstrip('/')}/v2/oauth/token/"


def exchange_code(
    client_key: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    *,
    session: requests.Session | None = None,
    api_url: str = API_URL,
    now: datetime | None = None,
) -> tuple[str, TokenSet]:
    """The creator's ``open_id`` and its tokens."""
    data = {"client_key": client_key, "client_secret": client_secret, "code": code,
            "grant_type": "authorization_code", "redirect_uri": redirect_uri}  # fmt: skip
    body = token_answer(session, _token_url(api_url), PLATFORM, data, headers=FORM)
    return named(body.get("open_id"), PLATFORM, "open_id"), token_set(body, now=now)


def refresh(
    client_key: str,
    client_secret: str,
    refresh_token: str,
    *,
    session: requests.Session | None = None,
    api_url: str = API_URL,
    now: datetime | None = None,
) -> TokenSet:
    data = {"client_key": client_key, "client_secret": client_secret, "grant_type": "refresh_token",
            "refresh_token": refresh_token}  # fmt: skip
    answer = partial(token_answer, session, _token_url(api_url), PLATFORM, data, headers=FORM)
    return refreshed(answer, refresh_token, PLATFORM, refused=(200, 400, 401), now=now)


def revoke(
    client_key: str,
    client_secret: str,
    access_token: str,
    *,
    session: requests.Session | None = None,
    api_url: str = API_URL,
    timeout: tuple[float, float] | None = None,
) -> None:
    """Revoke the creator's access token (the app is disconnected from the account); raises the
    platform's error when TikTok refuses or does not answer."""
    data = {"client_key": client_key, "client_secret": client_secret, "token": access_token}
    resp = call(session or requests.Session(), "POST", f"{api_url.rstrip('/')}/v2/oauth/revoke/", PLATFORM,
                data=data, headers=FORM, idempotent=True, timeout=timeout)  # fmt: skip
    body = json_body(resp, PLATFORM) if resp.content.strip() else {}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):  # the v2 envelope: code "ok" on success
        code = str(error.get("code") or "ok")
        if code != "ok":
            raise PermanentError(str(error.get("message") or code), platform=PLATFORM, code=code)
    elif error:
        raise PermanentError(str(body.get("error_description") or error), platform=PLATFORM, code=str(error))


def whoami(access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL) -> Owner:
    body = get_json(
        session,
        f"{api_url.rstrip('/')}/v2/user/info/",
        PLATFORM,
        token=access_token,
        params={"fields": "open_id,display_name"},
    )
    user = obj(obj(body.get("data")).get("user"))
    return Owner(named(user.get("open_id"), PLATFORM, "open_id"), display_name=text(user.get("display_name")))


def creator_info(
    access_token: str, *, session: requests.Session | None = None, api_url: str = API_URL
) -> CreatorInfo:
    data = v2(session or requests.Session(), api_url, "post/publish/creator_info/query/", access_token, {})
    options = data.get("privacy_level_options")
    duration = data.get("max_video_post_duration_sec")
    return CreatorInfo(
        privacy_level_options=tuple(str(o) for o in options) if isinstance(options, list) else (),
        comment_disabled=data.get("comment_disabled") is True,
        duet_disabled=data.get("duet_disabled") is True,
        stitch_disabled=data.get("stitch_disabled") is True,
        max_video_post_duration_sec=duration
        if isinstance(duration, int) and not isinstance(duration, bool)
        else None,
        username=text(data.get("creator_username")),
    )
