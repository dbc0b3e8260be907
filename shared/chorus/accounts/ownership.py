"""Connecting an account proves its ownership: the token is shown to the platform, and the account
stored is the one the platform says the token belongs to, never an id the caller typed.

The caller may still name the account (``platform_account_id``): it is an assertion, refused when the
platform names another account. Whose token it is, per platform (each platform's ``oauth.whoami``):

* X ``GET /2/users/me``; Mastodon ``verify_credentials``; Bluesky ``getSession``; Threads ``/me``;
  Pinterest ``GET /v5/user_account``;
  TikTok ``/v2/user/info/``; YouTube ``channels?mine=true``; the sandbox ``/api/me``;
* Facebook: the Page itself (a Page token's ``/me``), or the named Page among those a user token
  manages (then stored with that Page's own token); Instagram: the professional account linked to
  the token's Page, or the named one among the user's Pages;
* LinkedIn: an organization the token administers (``organizationAcls``), else the member;
* WhatsApp: the phone number id the token can read;
* Douyin and Kuaishou name the account (``open_id``) only in the answer to an authorisation code: they
  connect by OAuth only, and a pasted token is refused (422 on ``platform``);
* WeChat cannot name the account a token belongs to: the token must work, and an official account
  already connected in another workspace is refused (it cannot be proven to be the caller's).

An account connected in another workspace can thus be connected again only by someone holding a
token the platform says is that account's. Connecting an account the workspace already has
re-authorises it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import requests

from chorus.accounts import service as accounts
from chorus.accounts.apps import OAuthApps, get_apps
from chorus.accounts.tokens import TokenSet
from chorus.errors import BadRequest, ChorusError, Conflict, FieldError, ValidationFailed
from chorus.net.fetch import UrlRefused, checked_url, guarded_session
from chorus.platforms.base import PermanentError, PlatformError
from chorus.platforms.registry import PLATFORMS
from chorus.platforms.whoami import Owner

UNNAMED = frozenset({"wechat"})  # platforms whose tokens do not name their account


@dataclass(frozen=True)
class Claim:
    """What a caller offers to connect an account: a token, and maybe the account it says it is."""

    platform: str
    access_token: str
    platform_account_id: str | None = None  # an assertion; the platform's answer decides
    base_url: str | None = None  # the account's server (Mastodon instance, Bluesky PDS)
    extra: Mapping[str, str] = field(default_factory=dict)


class NotTheOwner(ChorusError):
    status = 403
    title = "The token does not belong to that account"


class PlatformUnavailable(ChorusError):
    status = 502
    title = "The platform did not answer"


@contextmanager
def platform_errors(field_name: str) -> Iterator[None]:
    """A platform's refusal becomes a 400 naming the field it concerns; its outage a 502."""
    try:
        yield
    except UrlRefused as exc:  # the guarded door refused the URL a user gave: name that field
        raise BadRequest(exc.message, [FieldError(exc.field, exc.message, "url")]) from exc
    except PermanentError as exc:
        message = f"{exc.platform or 'the platform'} refused it: {exc.message}"
        raise BadRequest.on(field_name, message, "refused") from exc
    except PlatformError as exc:
        raise PlatformUnavailable(f"{exc.platform or 'the platform'}: {exc.message}") from exc


def _required(value: str | None, field_name: str, why: str) -> str:
    if not value:
        raise ValidationFailed.on(field_name, why, "required")
    return value


def _sandbox(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.config import get_settings
    from chorus.platforms.sandbox import oauth as sandbox

    url = get_settings().sandbox_url
    if not url:
        raise ValidationFailed.on("platform", "the sandbox platform exists only on a local runtime")
    return sandbox.whoami(claim.access_token, base_url=url, session=http)


def _x(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.x import oauth as x

    return x.whoami(claim.access_token, session=http, api_url=apps.x_api_url)


def _mastodon(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.mastodon import oauth as mastodon

    base = checked_url(
        _required(claim.base_url, "base_url", "the Mastodon instance URL is required"), "base_url"
    )
    return mastodon.whoami(claim.access_token, base_url=base, session=http)


def _bluesky(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.bluesky import oauth as bluesky

    base = checked_url(claim.base_url, "base_url") if claim.base_url else bluesky.DEFAULT_PDS
    return bluesky.whoami(claim.access_token, base_url=base, session=http)


def _facebook(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.facebook import oauth as facebook

    return facebook.whoami(
        claim.access_token, page_id=claim.platform_account_id, session=http, base_url=apps.facebook_graph_url
    )


def _instagram(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.instagram import oauth as instagram

    return instagram.whoami(
        claim.access_token,
        account_id=claim.platform_account_id,
        session=http,
        base_url=apps.facebook_graph_url,
    )


def _threads(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.threads import oauth as threads

    return threads.whoami(claim.access_token, session=http, api_url=apps.threads_api_url)


def _pinterest(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.pinterest import oauth as pinterest

    owner = pinterest.whoami(claim.access_token, session=http, api_url=apps.pinterest_api_url)
    found = pinterest.boards(claim.access_token, session=http, api_url=apps.pinterest_api_url)
    return replace(owner, extra=pinterest.board_extra(found, claim.extra.get("board_id")))


def _linkedin(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.linkedin import oauth as linkedin

    organization = claim.platform_account_id
    return linkedin.whoami(
        claim.access_token,
        organization=organization,
        session=http,
        api_url=apps.linkedin_api_url,
    )


def _weibo(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.weibo import oauth as weibo

    return weibo.whoami(claim.access_token, session=http, api_url=apps.weibo_api_url)


def _youtube(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.youtube import oauth as youtube

    return youtube.whoami(
        claim.access_token, channel_id=claim.platform_account_id, session=http, api_url=apps.youtube_api_url
    )


def _tiktok(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.tiktok import oauth as tiktok

    owner = tiktok.whoami(claim.access_token, session=http, api_url=apps.tiktok_api_url)
    creator = tiktok.creator_info(claim.access_token, session=http, api_url=apps.tiktok_api_url)
    return replace(owner, handle=owner.handle or creator.username, extra=creator.extra())


def _whatsapp(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.whatsapp import oauth as whatsapp

    number = _required(claim.platform_account_id, "platform_account_id", "the WhatsApp phone number id")
    return whatsapp.whoami(
        claim.access_token, phone_number_id=number, session=http, base_url=apps.facebook_graph_url
    )


def _wechat(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    from chorus.platforms.wechat import oauth as wechat

    account = _required(claim.platform_account_id, "platform_account_id", "the official account id (gh_…)")
    wechat.token_works(claim.access_token, session=http, api_url=apps.wechat_api_url)
    return Owner(account)


def _oauth_only(claim: Claim, apps: OAuthApps, http: requests.Session) -> Owner:
    """Douyin and Kuaishou name the account (``open_id``) only in the token answer of an authorisation
    code: a token pasted alone cannot be proven to be anyone's, so these connect by OAuth only."""
    raise ValidationFailed.on(
        "platform",
        f"{claim.platform} accounts connect by OAuth (GET /accounts/connect/{claim.platform}): the platform names"
        " the account only in the answer to an authorisation code",
        "oauth_only",
    )


WHOAMI: Mapping[str, Callable[[Claim, OAuthApps, requests.Session], Owner]] = {
    "sandbox": _sandbox,
    "x": _x,
    "mastodon": _mastodon,
    "bluesky": _bluesky,
    "facebook": _facebook,
    "instagram": _instagram,
    "threads": _threads,
    "pinterest": _pinterest,
    "linkedin": _linkedin,
    "youtube": _youtube,
    "tiktok": _tiktok,
    "whatsapp": _whatsapp,
    "wechat": _wechat,
    "douyin": _oauth_only,
    "kuaishou": _oauth_only,
    "weibo": _weibo,
}


def prove(claim: Claim, *, apps: OAuthApps | None = None, session: requests.Session | None = None) -> Owner:
    """The account the platform says ``claim``'s token belongs to. A token the platform refuses is a
    400 on ``access_token``; an account other than the one asserted, a 403 on ``platform_account_id``."""
    if claim.platform not in PLATFORMS:
        known = ", ".join(PLATFORMS)
        raise ValidationFailed.on("platform", f"unknown platform {claim.platform!r}; known: {known}")
    if not claim.access_token:
        raise ValidationFailed.on("access_token", "must not be empty", "required")
    with platform_errors("access_token"):
        owner = WHOAMI[claim.platform](claim, apps or get_apps(), session or guarded_session())
    asserted = claim.platform_account_id
    if asserted and claim.platform == "linkedin":
        from chorus.platforms.linkedin.oauth import organization_urn

        asserted = organization_urn(asserted)
    if asserted and asserted != owner.account_id:
        message = f"the {claim.platform} token belongs to another account, not {asserted}"
        raise NotTheOwner.on("platform_account_id", message, "owner")
    return owner


def connect_with_token(
    workspace_id: str,
    claim: Claim,
    tokens: TokenSet,
    *,
    handle: str | None = None,
    display_name: str | None = None,
    apps: OAuthApps | None = None,
    session: requests.Session | None = None,
) -> accounts.Account:
    """Prove whose ``tokens`` are, then connect that account to the workspace (or re-authorise it)."""
    owner = prove(claim, apps=apps, session=session)
    if claim.platform in UNNAMED:
        others = [
            a
            for a in accounts.accounts_by_platform_id(claim.platform, owner.account_id)
            if a.workspace_id != workspace_id
        ]
        if others:
            message = f"{claim.platform} cannot prove whose token this is; the account is connected elsewhere"
            raise Conflict.on("platform_account_id", message, "taken")
    if owner.access_token:
        tokens = replace(tokens, access_token=owner.access_token)
    return accounts.connect_or_reconnect(
        workspace_id,
        claim.platform,
        owner.account_id,
        tokens,
        handle=owner.handle or handle,
        display_name=owner.display_name or display_name,
        base_url=claim.base_url,
        extra={**claim.extra, **owner.extra},
    )
